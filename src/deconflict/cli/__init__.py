"""The ``deconflict`` command line: parse arguments, call the library, print.

Every command is a thin wrapper over the library (:mod:`deconflict.db`, the ledger, the
statistics and the report). Errors the user can fix are printed as one line on stderr naming
the input, with exit status 2 (1 for a failed verification); never a traceback.
"""

from __future__ import annotations

from deconflict.cli import _analysis, _extract, _ledger, _registry, _server  # noqa: F401  (registers the commands)
from deconflict.cli._common import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
