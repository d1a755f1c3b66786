"""The exception tree of deconflict.

Every error raised on purpose by the library derives from one root, so callers
can catch ``DeconflictError`` and be sure they see nothing else for a user
mistake::

    DeconflictError                 exit 2, HTTP 500 (root; never raised bare for user input)
    ├── InvalidInput                exit 2, HTTP 400  bad file, row, field or argument
    │   └── Implausible             exit 2, HTTP 400  valid but probably a slip; force=True records it
    ├── NotFound                    exit 2, HTTP 404  unknown site, incident, entry, file
    ├── ConflictError               exit 2, HTTP 409  duplicate id, state that forbids the write
    ├── PermissionDenied            exit 2, HTTP 403  a token without the scope for the action
    ├── Unauthenticated             exit 2, HTTP 401  no token, or a malformed, unknown or revoked one
    ├── StorageError                exit 2, HTTP 507  the disk is full, the media read-only, a file unreadable
    ├── ServiceUnavailable          exit 1, HTTP 502  a timestamp authority or witness did not answer
    ├── VerificationError           exit 1, HTTP 422  a proof, signature, bundle or log failed
    ├── BrowserError                exit 2, HTTP 500  headless Chromium failed to load or print a page
    └── MissingDependency           exit 2, HTTP 503  an optional extra or system package is not installed

Each error carries ``exit_code`` (the CLI's exit status) and ``http_status``
(the API's status). ``where`` names the input that is wrong (a file, row and
field), so the CLI prints one line that tells the user what to fix.

Every error class of the package is defined here (a test checks it), so this tree is the
whole list.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = [
    "BrowserError",
    "ConflictError",
    "DeconflictError",
    "Implausible",
    "InvalidInput",
    "MissingDependency",
    "NotFound",
    "PermissionDenied",
    "ServiceUnavailable",
    "StorageError",
    "Unauthenticated",
    "VerificationError",
    "where_named",
]


class DeconflictError(Exception):
    """Root of every error deconflict raises on purpose.

    Parameters
    ----------
    message
        What is wrong, in words a user understands.
    where
        The input at fault, e.g. ``"sites.csv, row 4, field 'lat'"``; optional.
    """

    exit_code: int = 2
    http_status: int = 500
    code: str = "error"

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message

    def to_json(self) -> dict[str, Any]:
        """The JSON error shape shared by the CLI (``--json``) and the API."""
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "where": self.where,
                "status": self.http_status,
            }
        }


class InvalidInput(DeconflictError):
    """Input that cannot be accepted: malformed file, row, field or argument."""

    http_status = 400
    code = "invalid_input"


#: How many plausibility warnings an error line names (all are in ``warnings``).
SHOWN_WARNINGS = 5


class Implausible(InvalidInput):
    """Input that is valid but probably a slip (a date in the future, a lat/lon swap, a duplicate).

    Nothing is written; ``warnings`` says what looks wrong, and the same call with ``force=True``
    (CLI ``--yes``, API ``"force": true``) records it anyway.
    """

    code = "implausible"

    def __init__(self, warnings: list[str], *, where: str | None = None) -> None:
        self.warnings = list(warnings)
        shown = "; ".join(self.warnings[:SHOWN_WARNINGS])
        if len(self.warnings) > SHOWN_WARNINGS:
            shown += f"; and {len(self.warnings) - SHOWN_WARNINGS} more like these"
        super().__init__(shown + " (nothing was recorded; force it if it is right)", where=where)

    def to_json(self) -> dict[str, Any]:
        data = super().to_json()
        data["error"]["warnings"] = self.warnings
        return data


class NotFound(DeconflictError):
    """A site, incident, log entry or file that does not exist."""

    http_status = 404
    code = "not_found"


class ConflictError(DeconflictError):
    """A write that conflicts with what is stored (duplicate id, existing database)."""

    http_status = 409
    code = "conflict"


class PermissionDenied(DeconflictError):
    """The caller's scope does not allow the action."""

    http_status = 403
    code = "permission_denied"


class Unauthenticated(DeconflictError):
    """No token, or a malformed, unknown or revoked token (HTTP 401)."""

    http_status = 401
    code = "unauthenticated"


class VerificationError(DeconflictError):
    """A proof, signature, checkpoint, evidence bundle or stored log failed to verify."""

    exit_code = 1
    http_status = 422
    code = "verification_failed"


class BrowserError(DeconflictError):
    """Headless Chromium failed to start, to load a page, or to print it."""

    code = "browser_error"


class MissingDependency(DeconflictError):
    """An optional extra (``pip install 'deconflict[...]'``) or a system package is not installed.

    The message names what to install, e.g. ``pip install 'deconflict[server]'``.
    """

    http_status = 503
    code = "missing_dependency"


class StorageError(DeconflictError):
    """The storage under a database or key file refused a write: disk full, read-only media, I/O error.

    The message names the file and what to do; the write that failed changed nothing.
    """

    http_status = 507
    code = "storage_error"


class ServiceUnavailable(DeconflictError):
    """An outside service (a timestamp authority, a witness) could not be reached or failed."""

    exit_code = 1
    http_status = 502
    code = "service_unavailable"


@contextmanager
def where_named(**names: str) -> Iterator[None]:
    """Rename the ``where`` of an error the library raised about one of its parameters.

    A door speaks of its own inputs: the library says ``where="at"``; the CLI, inside
    ``with where_named(at="--at")``, reports ``--at``; the API, with ``at="body.notified_at"``,
    reports the request field.
    """
    try:
        yield
    except DeconflictError as exc:
        if exc.where in names:
            exc.where = names[exc.where]
        raise
