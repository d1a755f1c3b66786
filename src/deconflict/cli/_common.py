"""Shared plumbing of the command line: the app, consoles, error handling, options."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

import deconflict
from deconflict.db import Database
from deconflict.errors import DeconflictError, Implausible, InvalidInput, where_named
from deconflict.options import DEFAULT_SEED
from deconflict.records import RecordHistory

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="deconflict",
    help="Tamper-evident notification records, strike matching and intentionality statistics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sites_app = typer.Typer(help="The registry of protected sites.", no_args_is_help=True)
incidents_app = typer.Typer(help="Strike reports (incidents).", no_args_is_help=True)
app.add_typer(sites_app, name="sites")
app.add_typer(incidents_app, name="incidents")


def _width() -> int | None:
    """Terminal width; a fixed 160 columns when not a terminal, so output can be asserted."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit():
        return int(columns)
    return None if sys.stdout.isatty() else 160


out = Console(highlight=False, soft_wrap=True, width=_width())
err = Console(stderr=True, highlight=False, soft_wrap=True, width=_width())


class State:
    db_path: str | None = None
    key_file: str | None = None


state = State()


def handle_errors(func: F) -> F:
    """Turn :class:`DeconflictError` into one line on stderr and its exit status."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Implausible as exc:
            for warning in exc.warnings:
                err.print(f"warning: {warning}", markup=False)
            err.print("error: nothing was recorded; run the command again with --yes if it is right", markup=False)
            raise typer.Exit(exc.exit_code) from None
        except DeconflictError as exc:
            err.print(f"error: {exc}", markup=False)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:  # a path the user gave cannot be read or written
            where = f"{exc.filename}: " if exc.filename else ""
            err.print(f"error: {where}{exc.strerror or exc}", markup=False)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err.print("interrupted; nothing was written by the interrupted step", markup=False)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


option_names = where_named  # the CLI's name for it: it names options


@contextmanager
def opened() -> Iterator[Database]:
    """The database named by ``--db`` (closed afterwards)."""
    db = deconflict.open(state.db_path, key_file=state.key_file)
    try:
        yield db
    finally:
        db.close()


def print_json(value: Any) -> None:
    """Machine-readable output on stdout."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


def parse_point(text: str) -> tuple[float, float]:
    """``"LAT,LON"`` → floats, or :class:`InvalidInput`."""
    parts = text.split(",")
    if len(parts) != 2:
        raise InvalidInput(f"--near must be LAT,LON, got {text!r}")
    try:
        return float(parts[0]), float(parts[1])
    except ValueError as exc:
        raise InvalidInput(f"--near must be LAT,LON numbers, got {text!r}") from exc


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="DECONFLICT_DB",
        help="Database file (default deconflict.db).",
        show_default=False,
    ),
]
YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Record it even when a plausibility check warns (see the warning).")
]
DelimiterOption = Annotated[
    str | None, typer.Option(help="CSV field separator, e.g. ';' as European spreadsheets write [default: ,].")
]
HistoryOption = Annotated[bool, typer.Option("--history", help="Show every version and correction, with reasons.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
SeedOption = Annotated[
    int | None,
    typer.Option(
        help=f"Seed of the statistics' random generator [default: the database's, else {DEFAULT_SEED}].", min=0
    ),
]
StudyAreaOption = Annotated[
    Path | None,
    typer.Option(help="GeoJSON or WKT polygon of the study area [default: the database's, else the buffered hull]."),
]


def write_output(text: str, path: Path | None) -> None:
    """Write ``text`` to ``path`` atomically, or to stdout."""
    if path is None:
        sys.stdout.write(text)
        return
    from deconflict.fileio import atomic_write_text

    atomic_write_text(path, text)
    err.print(f"wrote {path}", markup=False)


KeyFileOption = Annotated[
    str | None,
    typer.Option(
        "--key-file",
        envvar="DECONFLICT_KEY",
        help="The log's private key file (default: the one made by init, <db>.key).",
        show_default=False,
    ),
]


@app.callback()
def root(
    db: DbOption = None,
    key_file: KeyFileOption = None,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """deconflict: records what was notified, matches strikes to sites, tests for chance."""
    state.db_path = db
    state.key_file = key_file
    if version:
        out.print(f"deconflict {deconflict.__version__}")
        raise typer.Exit(0)


def print_history(record: RecordHistory) -> None:
    """A record's versions and corrections, oldest first (``--history``)."""
    out.print(f"history of {record.target} {record.id} ({record.state}):", markup=False)
    for event in record.events:
        line = f"  log entry {event.index:>5}  {event.logged_at}  {event.action}"
        if event.supersedes is not None:
            line += f" (supersedes entry {event.supersedes})"
        if event.reason:
            line += f" — reason: {event.reason}"
        out.print(line, markup=False)
        if event.record and record.target == "site":
            shown = ", ".join(f"{k}={event.record[k]}" for k in ("lat", "lon", "radius_m", "name") if k in event.record)
            out.print(f"      {shown}", markup=False)
