"""The CLI reference (``docs/cli.md``), generated from every command's ``--help``.

``docs/cli.md`` holds a cog block that calls :func:`reference_markdown`; regenerate it with
``cog -r docs/cli.md`` (or ``make docs``). A test runs ``cog --check`` and fails when the page
is stale, so the reference always says what ``--help`` says.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer.main
import typer.rich_utils
from typer.testing import CliRunner

from deconflict.cli._common import app

__all__ = ["HELP_WIDTH", "command_paths", "help_text", "reference_markdown"]

#: Columns the help is rendered at in the reference, so it is the same on every machine.
HELP_WIDTH = 100


def command_paths() -> list[tuple[str, ...]]:
    """Every command and group below ``deconflict``, in ``--help`` order: ``("sites", "list")``, ..."""

    def walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        for name, sub in command.commands.items():
            yield (*path, name)
            if hasattr(sub, "commands"):
                yield from walk(sub, (*path, name))

    return list(walk(typer.main.get_command(app), ()))


@contextmanager
def _fixed_width() -> Iterator[None]:
    """Render typer's rich help at :data:`HELP_WIDTH` columns, without colour."""
    saved = typer.rich_utils.MAX_WIDTH, typer.rich_utils.FORCE_TERMINAL, typer.rich_utils.COLOR_SYSTEM
    typer.rich_utils.MAX_WIDTH, typer.rich_utils.FORCE_TERMINAL, typer.rich_utils.COLOR_SYSTEM = HELP_WIDTH, False, None
    try:
        yield
    finally:
        typer.rich_utils.MAX_WIDTH, typer.rich_utils.FORCE_TERMINAL, typer.rich_utils.COLOR_SYSTEM = saved


def help_text(path: tuple[str, ...]) -> str:
    """What ``deconflict PATH... --help`` prints, at :data:`HELP_WIDTH` columns, lines right-stripped."""
    with _fixed_width():
        result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": str(HELP_WIDTH)})
    if result.exit_code != 0:
        raise RuntimeError(f"deconflict {' '.join(path)} --help failed: {result.output}")
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def reference_markdown() -> str:
    """The generated part of ``docs/cli.md``: one section per command with its ``--help``."""
    parts = ["## deconflict\n\n```\n" + help_text(()) + "```\n"]
    for path in command_paths():
        title = " ".join(("deconflict", *path))
        parts.append(f"## {title}\n\n```\n{help_text(path)}```\n")
    return "\n".join(parts)
