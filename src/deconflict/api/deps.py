"""The server's shared state: settings, a pool of database handles, the single writer.

A :class:`~deconflict.db.Database` (one SQLite connection, or one PostgreSQL connection) is
used by one request at a time: a request takes a handle from :class:`DatabasePool` and gives
it back when it is done, so handles are reused but never shared between threads at once.
Every write also holds :attr:`Settings.write_lock`: one writer per process, so concurrent
appends queue in order instead of spinning on SQLite's busy handler. Log indices are
assigned inside the store's write transaction (``BEGIN IMMEDIATE``), which is the sequencer
across processes as well.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request

import deconflict
from deconflict.db import Database

if TYPE_CHECKING:
    from deconflict.options import AnalysisOptions

__all__ = ["DatabasePool", "DbDep", "Settings", "get_db", "settings_of"]


class DatabasePool:
    """Open database handles for reuse, one request at a time each.

    Parameters
    ----------
    location
        Database file or PostgreSQL URL.
    key_file
        The log's private key (to sign checkpoints and bundles).
    max_idle
        Handles kept open when idle; more are opened under load and closed when returned.
    """

    def __init__(self, location: str, key_file: str | Path | None = None, *, max_idle: int = 16) -> None:
        self.location = location
        self.key_file = key_file
        self.max_idle = max_idle
        self._idle: queue.LifoQueue[Database] = queue.LifoQueue()
        self._closed = False

    def _open(self) -> Database:
        return deconflict.open(self.location, key_file=self.key_file)

    @contextmanager
    def connection(self) -> Iterator[Database]:
        """A handle for the duration of the ``with`` block."""
        try:
            db = self._idle.get_nowait()
        except queue.Empty:
            db = self._open()
        try:
            yield db
        finally:
            if self._closed or self._idle.qsize() >= self.max_idle:
                db.close()
            else:
                self._idle.put(db)

    def close(self) -> None:
        """Close every idle handle (handles in use close when returned)."""
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


@dataclass
class Settings:
    """What one app serves and how.

    Attributes
    ----------
    db_location, key_file
        The database and the log's private key.
    max_body_bytes
        Largest request body accepted (413 beyond).
    anonymous_log
        Whether the public log (checkpoint, entries, proofs, tiles) is readable without a token.
    analysis_overrides
        Analysis options the server was started with (``serve --seed``, ``--study-area``); every
        request computes with the database's options (:func:`deconflict.analysis.resolve_options`)
        with these applied, exactly as the CLI does with the same flags.
    """

    db_location: str
    key_file: str | None = None
    max_body_bytes: int = 10 * 1024 * 1024
    anonymous_log: bool = True
    analysis_overrides: dict[str, Any] = field(default_factory=dict)
    pool: DatabasePool = field(init=False)
    write_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.pool = DatabasePool(self.db_location, self.key_file)

    def analysis_options(self, db: Database, **overrides: Any) -> AnalysisOptions:
        """The options of one request: the database's, the server's overrides, then the request's."""
        from deconflict.analysis import resolve_options

        return resolve_options(
            db, **{**self.analysis_overrides, **{k: v for k, v in overrides.items() if v is not None}}
        )


def settings_of(request: Request) -> Settings:
    """The settings of the app serving ``request``."""
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Iterator[Database]:
    """FastAPI dependency: a database handle for this request."""
    with settings_of(request).pool.connection() as db:
        yield db


DbDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(settings_of)]
