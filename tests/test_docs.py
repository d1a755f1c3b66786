"""Every CLI command appears in the manual (as sqlite-utils does); README starts with the two commands."""

from __future__ import annotations

from pathlib import Path

import typer.main

from deconflict.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
COMMANDS = ROOT / "docs" / "commands.md"


def _commands(group: object, prefix: str = "deconflict") -> list[str]:
    found = []
    for name, command in sorted(group.commands.items()):  # type: ignore[attr-defined]
        path = f"{prefix} {name}"
        if hasattr(command, "commands"):  # a group (typer vendors its own click)
            found += _commands(command, path)
        else:
            found.append(path)
    return found


def test_every_cli_command_is_documented_in_the_command_overview():
    text = COMMANDS.read_text(encoding="utf-8")
    commands = _commands(typer.main.get_command(app))
    assert len(commands) >= 10
    missing = [c for c in commands if c not in text]
    assert not missing, f"commands missing from docs/commands.md: {missing}"


def test_readme_starts_with_the_two_setup_commands():
    text = README.read_text(encoding="utf-8")
    first_block = text.split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make demo", "make test"]


def test_every_manual_page_is_linked_from_readme():
    text = README.read_text(encoding="utf-8")
    pages = sorted(p.name for p in (ROOT / "docs").glob("*.md") if p.name != "index.md")
    missing = [p for p in pages if f"docs/{p}" not in text]
    assert not missing, f"manual pages not linked from README: {missing}"
