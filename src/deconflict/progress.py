"""Progress reports from long library calls: one callback type for every door.

A call that can run longer than a few seconds (an import, log verification, an analysis)
takes ``progress=``: a callable ``progress(phase, done, total)`` given the name of the current
phase (``"reading"``, ``"validating"``, ``"writing"``, ...), how many of its units are done,
and how many there are (``None`` when not known in advance). A call reports each phase when
it starts (``done == 0``) and when it ends (``done == total``), and every few thousand units
in between; phases come one after another, never interleaved. The callback must be cheap
and must not raise. The command line draws these reports as progress bars on stderr::

    db.incidents.import_file("strikes.csv", progress=lambda phase, done, total: print(phase, done, total))
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["ProgressCallback", "report_steps"]

#: ``progress(phase, done, total)``; see the module docstring.
ProgressCallback = Callable[[str, int, int | None], None]


def report_steps(
    progress: ProgressCallback | None, phase: str, total: int | None, step: int = 10_000
) -> Callable[..., None]:
    """A function ``tick(done, final=False)`` that reports ``phase``: at 0 now, then every ``step`` units.

    Call ``tick(done)`` as work proceeds (cheap when nothing is due) and ``tick(done, final=True)``
    at the end, which reports ``done`` as the phase's total (``total`` may have been an estimate).
    With ``progress=None`` it does nothing.
    """
    if progress is None:
        return _ignore
    progress(phase, 0, total)
    due = step

    def tick(done: int, final: bool = False) -> None:
        nonlocal due
        if final:
            progress(phase, done, done)
        elif done >= due:
            progress(phase, done, total)
            due = (done // step + 1) * step

    return tick


def _ignore(done: int, final: bool = False) -> None:
    """The tick of a call made without a progress callback."""
