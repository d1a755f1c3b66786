"""docs/cli.md is generated from --help and current; every command is in it, with an example, in words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cogapp import Cog

from deconflict.cli._reference import command_paths, help_text

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "cli.md"
PATHS = command_paths()


def examples(path: tuple[str, ...]) -> list[str]:
    """The command lines of the help's "Example:" section (continuation lines joined)."""
    text = help_text(path)
    if "Example:" not in text:
        return []
    section = text.split("Example:", 1)[1].split("╭", 1)[0]
    commands: list[str] = []
    for line in section.splitlines():
        line = line.strip()
        if commands and commands[-1].endswith("\\"):
            commands[-1] = commands[-1][:-1].rstrip() + " " + line
        elif line.startswith("deconflict"):
            commands.append(line)
    return commands


def test_the_reference_is_what_cog_generates_now() -> None:
    status = Cog().main(["cog", "--check", str(REFERENCE)])
    assert status == 0, "docs/cli.md is stale: run `make docs` (cog -r docs/cli.md)"


def test_every_command_is_walked() -> None:
    assert ("sites", "list") in PATHS and ("log", "verify") in PATHS and ("witness", "cosign") in PATHS
    assert len(PATHS) >= 40


@pytest.mark.parametrize("path", PATHS, ids=" ".join)
def test_command_is_documented_in_the_reference(path: tuple[str, ...]) -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    title = " ".join(("deconflict", *path))
    assert f"\n## {title}\n" in text
    section = text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]
    assert help_text(path) in section


@pytest.mark.parametrize("path", [(), *PATHS], ids=lambda p: " ".join(p) or "deconflict")
def test_help_has_an_example_of_the_command_itself(path: tuple[str, ...]) -> None:
    found = examples(path)
    assert found, f"deconflict {' '.join(path)} --help has no 'Example:' section"
    prefix = " ".join(("deconflict", *path))
    assert all(re.sub(r" --(db|key-file) \S+", "", line).startswith(prefix) for line in found), found


@pytest.mark.parametrize("path", [(), *PATHS], ids=lambda p: " ".join(p) or "deconflict")
def test_help_shows_flags_as_flags_and_values_as_words(path: tuple[str, ...]) -> None:
    text = help_text(path)
    for machine_words in ("<bool>", "BOOLEAN", "<str>", "<int>", "<float>", "<path>", "list[", "<=x", "x>="):
        assert machine_words not in text, f"{machine_words!r} in deconflict {' '.join(path)} --help"


#: Commands whose output is not a result to describe: exports print the data itself, serve serves.
WITHOUT_JSON = {
    ("sites", "export"),
    ("incidents", "export"),
    ("notifications", "export"),
    ("movements", "export"),
    ("serve",),
    ("witness", "serve"),
}


LEAVES = [p for p in PATHS if not any(len(q) > len(p) and q[: len(p)] == p for q in PATHS)]


@pytest.mark.parametrize("path", LEAVES, ids=" ".join)
def test_every_command_that_prints_a_result_has_json(path: tuple[str, ...]) -> None:
    has_json = "--json" in help_text(path)
    assert has_json != (path in WITHOUT_JSON), (
        f"deconflict {' '.join(path)}: --json {'missing' if not has_json else 'unexpected'}"
    )
