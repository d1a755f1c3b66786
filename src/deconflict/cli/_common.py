"""Shared plumbing of the command line: the app, consoles, error handling, options, progress."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import typer
import typer._click.exceptions as click_errors  # typer vendors its own click
import typer.main
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

import deconflict
from deconflict._version import __version__
from deconflict.db import Database
from deconflict.errors import DeconflictError, Implausible, InvalidInput, where_named
from deconflict.options import DEFAULT_SEED
from deconflict.progress import ProgressCallback
from deconflict.records import RecordHistory

F = TypeVar("F", bound=Callable[..., Any])

#: Rows a listing shows unless ``--limit`` says otherwise (``--limit 0``: all).
DEFAULT_LIMIT = 100


# -- help that reads as words -------------------------------------------------------------
def _type_word(param: TyperOption | TyperArgument) -> str:
    """The word that stands for a parameter's value in help: TEXT, INTEGER, NUMBER, PATH or a|b|c."""
    descriptor = param.type_descriptor
    if descriptor.is_choice and descriptor.choices:
        return "|".join(str(c) for c in descriptor.choices)
    element = descriptor.annotation
    if descriptor.is_list:
        element = next(iter(getattr(element, "__args__", ())), str)
    if descriptor.is_path or (isinstance(element, type) and issubclass(element, Path)):
        return "PATH"
    return {int: "INTEGER", float: "NUMBER", bool: "BOOLEAN"}.get(element, "TEXT")


def _range_words(low: float | None, high: float | None) -> str | None:
    """``[0<=x<=1]`` said as words: ``from 0 to 1``, ``at least 1``, ``at most 5``."""
    if low is None and high is None:
        return None
    if low is None:
        return f"at most {high:g}"
    if high is None:
        return f"at least {low:g}"
    return f"from {low:g} to {high:g}"


class _Option(TyperOption):
    """An option whose help shows flags as flags, values as words, repeats and ranges in words."""

    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag:
            return None
        word = self.metavar or _type_word(self)
        return f"{word} (repeatable)" if self.multiple else word

    def _get_number_range_help_str(self) -> str | None:
        return _range_words(self.min, self.max)


class _Argument(TyperArgument):
    """An argument shown by its name (``SITE_ID...``), its value as a word."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return _type_word(self)

    @property
    def display_name_raw(self) -> str:
        name = self.metavar or (self.name or "").upper()
        return f"{name}..." if self.nargs != 1 else name

    def _usage_display_name(self) -> str:
        return self.display_name_raw if self.required else f"[{self.display_name_raw}]"

    def _get_number_range_help_str(self) -> str | None:
        return _range_words(self.min, self.max)


# -- --db and --key-file, before or after the command ------------------------------------
class State:
    """What the global options said, for the command that runs."""

    db: str | None = None
    key_file: str | None = None

    @property
    def db_path(self) -> str | None:
        """The database location given with ``--db`` (or ``$DECONFLICT_DB``), if any."""
        return self.db


state = State()

DB_HELP = "Database: a SQLite file or a postgresql:// URL (default deconflict.db)."
KEY_FILE_HELP = "The log's private key file (default: the one init made, DATABASE.key)."


def _set_after_command(name: str) -> Callable[[typer.Context, str | None], None]:
    """The callback of ``--db``/``--key-file`` after a command: set :data:`state` like the root does.

    Only a value typed after the command counts here (the root option already read the
    environment); the same option given before and after the command with two values is refused.
    """

    def store(ctx: typer.Context, value: str | None) -> None:
        if value is None or not _given_on_command_line(ctx, name):
            return
        before = getattr(state, name)
        if before is not None and before != value and _given_on_command_line(ctx.find_root(), name):
            raise typer.BadParameter(f"given before the command as {before!r} and after it as {value!r}")
        setattr(state, name, value)

    return store


def _given_on_command_line(ctx: Any, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


def _db_option(**settings: Any) -> Any:
    return typer.Option("--db", metavar="PATH|URL", envvar="DECONFLICT_DB", show_envvar=True, **settings)


def _key_file_option(**settings: Any) -> Any:
    return typer.Option("--key-file", metavar="PATH", envvar="DECONFLICT_KEY", show_envvar=True, **settings)


_AFTER_COMMAND: dict[str, Any] = {"expose_value": False, "rich_help_panel": "Global options"}
_DbAfterCommand = Annotated[
    str | None,
    _db_option(
        help=f"{DB_HELP} Also accepted before the command.", callback=_set_after_command("db"), **_AFTER_COMMAND
    ),
]
_KeyFileAfterCommand = Annotated[
    str | None,
    _key_file_option(
        help=f"{KEY_FILE_HELP} Also accepted before the command.",
        callback=_set_after_command("key_file"),
        **_AFTER_COMMAND,
    ),
]


def _global_params() -> list[Any]:
    """``--db`` and ``--key-file`` as parameters of a command (they set :data:`state`)."""
    holder = typer.Typer(add_completion=False)

    @holder.command()
    def command(db: _DbAfterCommand = None, key_file: _KeyFileAfterCommand = None) -> None:
        """Holds the global options."""

    return list(typer.main.get_command(holder).params)


def _in_words(params: list[Any]) -> None:
    """Give typer's parameters the help of :class:`_Option` and :class:`_Argument` (same state).

    Typer builds its parameter objects itself and offers no way to choose their class, and its
    rich help shows ``<bool>`` for flags and ``<list[str]>`` for repeated options; the subclasses
    only change how a parameter is described, so switching the class of the built objects is safe.
    """
    for param in params:
        if type(param) is TyperOption:
            param.__class__ = _Option
        elif type(param) is TyperArgument:
            param.__class__ = _Argument


class Command(TyperCommand):
    """A command of ``deconflict``: help in words, and ``--db``/``--key-file`` accepted after it."""

    uses_database = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.uses_database:
            taken = {opt for param in self.params for opt in getattr(param, "opts", ())}
            self.params += [p for p in _GLOBAL_PARAMS if not taken.intersection(p.opts)]
        _in_words(self.params)

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        _in_words(params)  # --help is made here
        return params


class Group(TyperGroup):
    """A group of commands, its own options in words; a usage error is one line on stderr."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _in_words(self.params)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Run the command line; a mistake in the arguments prints one line and exits 2.

        Typer would draw a boxed, multi-line panel; the project's rule is one line naming the
        input (the option and what is wrong with it) and where to read more.
        """
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **kwargs)
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **kwargs)
        except click_errors.NoArgsIsHelpError as exc:
            out.print(exc.ctx.get_help() if exc.ctx else "", markup=False)
            sys.exit(0 if exc.ctx is None else 2)
        except click_errors.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx else "deconflict"
            message = " ".join(exc.format_message().split())
            err.print(f"error: {message} (see '{command} --help')", markup=False)
            sys.exit(exc.exit_code)
        except click_errors.ClickException as exc:
            err.print(f"error: {' '.join(exc.format_message().split())}", markup=False)
            sys.exit(exc.exit_code)
        sys.exit(code if isinstance(code, int) else 0)

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        _in_words(params)  # --help is made here
        return params


class OfflineCommand(Command):
    """A command that opens no database (``--db`` would mean nothing to it)."""

    uses_database = False


class _Typer(typer.Typer):
    """A Typer whose commands are :class:`Command` unless they say otherwise."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, cls=Group, **kwargs)

    def command(self, *args: Any, cls: type[TyperCommand] | None = None, **kwargs: Any) -> Any:
        return super().command(*args, cls=cls or Command, **kwargs)


def group(help: str, *examples: str) -> _Typer:
    """A group of subcommands (``deconflict sites ...``), its help ending with ``examples``."""
    return _Typer(help=_with_examples(help, examples), no_args_is_help=True)


def _with_examples(help: str, examples: Sequence[str]) -> str:
    return help + "\n\nExample:\n\n" + "\n".join(examples) if examples else help


app = _Typer(
    name="deconflict",
    help=_with_examples(
        "Tamper-evident notification records, strike matching and intentionality statistics.\n\n"
        "--db and --key-file may also come after the command.",
        ["deconflict --db kyiv.db init --timezone Europe/Kyiv", "deconflict sites list --db kyiv.db --owner AZE"],
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sites_app = group("The registry of protected sites.", "deconflict sites list --owner AZE")
incidents_app = group("Strike reports (incidents).", "deconflict incidents list --start 2025-01-01")
app.add_typer(sites_app, name="sites")
app.add_typer(incidents_app, name="incidents")


# -- output ---------------------------------------------------------------------------------
def _width() -> int | None:
    """Terminal width; a fixed 160 columns when not a terminal, so output can be asserted."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit():
        return int(columns)
    return None if sys.stdout.isatty() else 160


out = Console(highlight=False, soft_wrap=True, width=_width())
err = Console(stderr=True, highlight=False, soft_wrap=True, width=_width())


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


def print_json_list(items: Iterable[Any]) -> None:
    """A JSON list on stdout, written item by item: the same bytes as :func:`print_json` of the list,
    without holding its text (or, given a generator, its items) in memory."""
    write = sys.stdout.write
    opened = False
    for item in items:
        text = json.dumps(item, ensure_ascii=False, indent=2, default=str)
        write((",\n" if opened else "[\n") + "  " + text.replace("\n", "\n  "))
        opened = True
    write("\n]\n" if opened else "[]\n")


def write_output(text: str, path: Path | None) -> None:
    """Write ``text`` to ``path`` atomically, or to stdout."""
    if path is None:
        sys.stdout.write(text)
        return
    from deconflict.fileio import atomic_write_text

    atomic_write_text(path, text)
    err.print(f"wrote {path}", markup=False)


def parse_point(text: str, option: str = "--near") -> tuple[float, float]:
    """``"LAT,LON"`` → floats, or :class:`InvalidInput` naming ``option``."""
    parts = text.split(",")
    if len(parts) != 2:
        raise InvalidInput(f"must be LAT,LON, got {text!r}", where=option)
    try:
        return float(parts[0]), float(parts[1])
    except ValueError as exc:
        raise InvalidInput(f"must be LAT,LON numbers, got {text!r}", where=option) from exc


# -- listings -------------------------------------------------------------------------------
LimitOption = Annotated[
    int | None,
    typer.Option(
        metavar="N",
        min=0,
        help=f"Show at most N rows (default {DEFAULT_LIMIT} in the table, all with --json; 0: all).",
        show_default=False,
    ),
]


def limit_rows(limit: int | None, as_json: bool) -> int | None:
    """How many rows a listing shows: ``--limit`` (0 means all), else 100 in a table and all in JSON.

    JSON has no default limit, so a script never silently receives part of a listing.
    """
    if limit is None:
        return None if as_json else DEFAULT_LIMIT
    return limit or None


def say_shown(shown: int, total: int, noun: str, *, as_json: bool = False) -> None:
    """The footer of a listing: ``3 sites`` or ``showing 100 of 1,234 sites; --limit 0 for all``.

    With ``--json`` the note goes to stderr, and only when rows were left out.
    """
    if shown < total:
        line = f"showing {shown:,} of {total:,} {noun}; --limit 0 for all"
    elif as_json:
        return
    else:
        line = f"{total:,} {noun}"
    (err if as_json else out).print(line, markup=False)


def first(rows: Sequence[Any], limit: int | None) -> list[Any]:
    """The first ``limit`` rows (all when ``limit`` is None)."""
    return list(rows if limit is None else rows[:limit])


# -- progress -------------------------------------------------------------------------------
@contextmanager
def progress_bars(*, quiet: bool = False) -> Iterator[ProgressCallback | None]:
    """A :data:`~deconflict.progress.ProgressCallback` drawing one bar per phase on stderr.

    Yields None (pass it on: the library then reports nothing) when ``quiet`` (``--json``) or
    when stderr is not a terminal, so scripts and logs get no progress output::

        with progress_bars(quiet=as_json) as progress:
            db.incidents.import_file(path, progress=progress)
    """
    if quiet or not sys.stderr.isatty():
        yield None
        return
    columns = (
        TextColumn("{task.description:<11}"),
        BarColumn(),
        TextColumn("{task.completed:>12,}/{task.fields[total_text]}"),
        TextColumn("elapsed"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bars:
        tasks: dict[str, TaskID] = {}

        def report(phase: str, done: int, total: int | None) -> None:
            total_text = f"{total:,}" if total is not None else "?"
            task = tasks.get(phase)
            if task is None:
                task = tasks[phase] = bars.add_task(phase, total=total, total_text=total_text)
            bars.update(task, completed=done, total=total, total_text=total_text)

        yield report


# -- shared options ---------------------------------------------------------------------------
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
UnverifiedOption = Annotated[
    bool,
    typer.Option(
        "--unverified",
        help="Go on when the database differs from its log (else refused): a loud warning is printed and "
        "recorded in the output.",
    ),
]
YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Record it even when a plausibility check warns (see the warning).")
]
DelimiterOption = Annotated[
    str | None,
    typer.Option(metavar="CHAR", help="CSV field separator, e.g. ';' as European spreadsheets write [default: ,]."),
]
HistoryOption = Annotated[bool, typer.Option("--history", help="Show every version and correction, with reasons.")]
SeedOption = Annotated[
    int | None,
    typer.Option(
        metavar="N",
        min=0,
        help=f"Seed of the statistics' random generator (default: the database's, else {DEFAULT_SEED}).",
    ),
]
StudyAreaOption = Annotated[
    Path | None,
    typer.Option(help="GeoJSON or WKT polygon of the study area (default: the database's, else the buffered hull)."),
]
SiteOption = Annotated[
    list[str] | None, typer.Option("--site", metavar="SITE_ID", help="Only this site; repeat for several.")
]


def _print_version(value: bool) -> None:
    if value:
        out.print(f"deconflict {__version__}", markup=False)
        raise typer.Exit(0)


@app.callback()
def root(
    db: Annotated[str | None, _db_option(help=DB_HELP)] = None,
    key_file: Annotated[str | None, _key_file_option(help=KEY_FILE_HELP)] = None,
    version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_print_version, help="Print the version and exit."),
    ] = False,
) -> None:
    """deconflict: records what was notified, matches strikes to sites, tests for chance."""
    state.db = db
    state.key_file = key_file


_GLOBAL_PARAMS = _global_params()


def print_history(record: RecordHistory, tz: ZoneInfo | str) -> None:
    """A record's versions and corrections, oldest first (``--history``), logged times in ``tz``."""
    from deconflict.times import format_stored

    out.print(f"history of {record.target} {record.id} ({record.state}):", markup=False)
    for event in record.events:
        line = f"  log entry {event.index:>5}  {format_stored(event.logged_at, tz)}  {event.action}"
        if event.supersedes is not None:
            line += f" (supersedes entry {event.supersedes})"
        if event.reason:
            line += f" — reason: {event.reason}"
        out.print(line, markup=False)
        if event.record and record.target == "site":
            shown = ", ".join(f"{k}={event.record[k]}" for k in ("lat", "lon", "radius_m", "name") if k in event.record)
            out.print(f"      {shown}", markup=False)
