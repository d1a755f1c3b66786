"""The ``deconflict`` command line: parse arguments, call the library, print.

Every command is a thin wrapper over the library (:mod:`deconflict.db`, the ledger, the
statistics and the report). Errors the user can fix are printed as one line on stderr naming
the input, with exit status 2 (1 for a failed verification); never a traceback.
"""

# Importing the command modules registers their commands; the order is the order in --help.
# isort: off
from deconflict.cli import _registry  # noqa: F401
from deconflict.cli import _ledger  # noqa: F401
from deconflict.cli import _records  # noqa: F401
from deconflict.cli import _guarantees  # noqa: F401
from deconflict.cli import _outside  # noqa: F401
from deconflict.cli import _analysis  # noqa: F401
from deconflict.cli import _extract  # noqa: F401
from deconflict.cli import _server  # noqa: F401
from deconflict.cli._common import app

# isort: on

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
