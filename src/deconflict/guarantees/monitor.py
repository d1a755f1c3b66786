"""``deconflict monitor``: deadlines, breaches and deliveries, once (for cron) or watching a folder.

One cycle (:func:`run_once`):

1. every commitment whose acknowledgement deadline passed in silence gets its
   ``deadline_missed`` entry (once);
2. every stored incident is checked against every protection (:func:`~deconflict.guarantees.breach.sweep`),
   which raises what a later commitment, notification or threshold implies (alerts are raised once);
3. every due outbox row is delivered (:func:`~deconflict.guarantees.delivery.deliver_due`).

:func:`watch` runs cycles until stopped, first importing each incident file dropped into a folder
(written whole: a name starting with ``.`` or ending in ``.tmp``/``.part`` is left alone) through the
normal import, which raises alerts as it writes. An imported file moves to ``imported/``; a bad one
to ``rejected/`` with ``NAME.error.txt`` holding the one-line reason; nothing of it is written.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deconflict.errors import DeconflictError, InvalidInput
from deconflict.guarantees.breach import sweep
from deconflict.guarantees.delivery import RETRY_BASE_S, RETRY_CAP_S, DeliveryRun, deliver_due
from deconflict.guarantees.model import Alert

if TYPE_CHECKING:
    from deconflict.db import Database

__all__ = ["WATCHED_SUFFIXES", "CycleReport", "run_once", "watch"]

WATCHED_SUFFIXES = (".csv", ".geojson", ".json")


@dataclass
class CycleReport:
    """What one monitor cycle did."""

    imported: list[tuple[str, int]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    deadlines_missed: list[tuple[str, int]] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    delivery: DeliveryRun = field(default_factory=DeliveryRun)

    def to_json(self) -> dict[str, Any]:
        """The JSON ``deconflict monitor --json`` prints (one object per cycle)."""
        return {
            "imported": [{"file": f, "incidents": n} for f, n in self.imported],
            "rejected": [{"file": f, "error": e} for f, e in self.rejected],
            "deadlines_missed": [{"commitment_id": c, "log_index": i} for c, i in self.deadlines_missed],
            "alerts": [a.id for a in self.alerts],
            **self.delivery.to_json(),
        }


def run_once(
    db: Database,
    *,
    deliver: bool = True,
    timeout_s: float = 10.0,
    retry_base_s: float = RETRY_BASE_S,
    retry_cap_s: float = RETRY_CAP_S,
    report: CycleReport | None = None,
) -> CycleReport:
    """One cycle: missed deadlines, the breach sweep, then deliveries (when ``deliver``)."""
    found = report or CycleReport()
    found.deadlines_missed += db.commitments.check_deadlines()
    found.alerts += sweep(db, trigger="monitor")
    if deliver:
        found.delivery = deliver_due(db, timeout_s=timeout_s, retry_base_s=retry_base_s, retry_cap_s=retry_cap_s)
    return found


def _ready(path: Path) -> bool:
    name = path.name
    return (
        path.is_file()
        and not name.startswith(".")
        and not name.endswith((".tmp", ".part"))
        and path.suffix.lower() in WATCHED_SUFFIXES
    )


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    counter = 1
    while target.exists():
        target = folder / f"{path.stem}.{counter}{path.suffix}"
        counter += 1
    shutil.move(str(path), target)
    return target


def import_dropped(db: Database, directory: Path, report: CycleReport) -> None:
    """Import each file waiting in ``directory`` (oldest first); move it to ``imported/`` or ``rejected/``."""
    from deconflict.ingest import read_incidents

    waiting = sorted((p for p in directory.iterdir() if _ready(p)), key=lambda p: (p.stat().st_mtime, p.name))
    done = {(r.filename, r.sha256) for r in db.store.list_imports() if r.target == "incidents"}
    for path in waiting:
        try:
            batch = read_incidents(path, None, local=db.timezone)
            if (path.name, batch.sha256) in done:  # imported before a crash left it here
                _move(path, directory / "imported")
                continue
            result = db.incidents.import_file(path)
        except DeconflictError as exc:
            message = str(exc).replace(str(path), path.name)
            target = _move(path, directory / "rejected")
            target.with_name(target.name + ".error.txt").write_text(message + "\n", encoding="utf-8")
            report.rejected.append((path.name, message))
            continue
        _move(path, directory / "imported")
        report.imported.append((path.name, result.added))


def watch(
    db: Database,
    directory: str | Path,
    *,
    interval_s: float = 5.0,
    stop: threading.Event | None = None,
    on_cycle: Callable[[CycleReport], None] | None = None,
    max_cycles: int | None = None,
    **delivery: float,
) -> int:
    """Run cycles every ``interval_s`` until ``stop`` is set (or ``max_cycles``); return the cycles run.

    Raises
    ------
    InvalidInput
        When ``directory`` is not a directory.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise InvalidInput("not a directory", where=str(directory))
    stopping = stop or threading.Event()
    cycles = 0
    while not stopping.is_set() and (max_cycles is None or cycles < max_cycles):
        report = CycleReport()
        import_dropped(db, folder, report)
        run_once(db, report=report, **delivery)  # type: ignore[arg-type]
        cycles += 1
        if on_cycle is not None:
            on_cycle(report)
        stopping.wait(interval_s)
    return cycles
