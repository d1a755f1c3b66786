"""The check before every number: analysis, report and bundle run only on tables that match the log.

:func:`guard_state` runs :func:`deconflict.ledger.state.check_state` (every table the views read,
rebuilt from the entries) and refuses with :class:`~deconflict.errors.VerificationError` when the
database differs from its log: a fabricated incident, a deleted notification, an edited
acknowledgement would otherwise move a p-value or appear in a report. With ``unverified=True`` it
returns the warning instead, which the caller prints and records in its output.

It checks the entries and the tables, not the tree hashes and signatures (``deconflict log
verify`` does both). A result is kept per open store until the log grows or another connection
commits a write (:meth:`~deconflict.store.base.Store.change_marker`), so a server answering
many requests checks once per change.
"""

from __future__ import annotations

import threading
import weakref

from deconflict.errors import VerificationError
from deconflict.store.base import Store

__all__ = ["UNVERIFIED_LABEL", "guard_state", "unverified_warning"]

#: How every output computed from a database that differs from its log begins its warning.
UNVERIFIED_LABEL = "UNVERIFIED"

# Per open store (a marker means something only to the connection that read it).
_VERIFIED: weakref.WeakKeyDictionary[Store, tuple[int, str]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def unverified_warning(problem: str) -> str:
    """The warning an output carries when it was computed although the database differs from its log."""
    return (
        f"{UNVERIFIED_LABEL}: computed with --unverified from a database that differs from its log "
        f"({problem}); these numbers are not evidence"
    )


def guard_state(store: Store, *, unverified: bool = False) -> str | None:
    """Check that the tables are the state the log stands for.

    Returns None when they are; with ``unverified``, the warning to print and record when they are
    not. Raises :class:`~deconflict.errors.VerificationError` naming the first difference otherwise.
    """
    marker = (store.log_size(), store.change_marker())
    with _LOCK:
        if _VERIFIED.get(store) == marker:
            return None
    from deconflict.ledger.state import check_state

    try:
        check_state(store)
    except VerificationError as exc:
        if unverified:
            return unverified_warning(exc.message)
        raise VerificationError(
            f"{exc.message}. Nothing was computed: run 'deconflict log verify', or pass --unverified to go on "
            "with a warning in the output"
        ) from None
    with _LOCK:
        _VERIFIED[store] = marker
    return None
