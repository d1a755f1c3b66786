"""A throwaway PostgreSQL + PostGIS server for a test session, and helpers for either backend.

:func:`start_server` runs ``initdb`` into a fresh temporary directory, starts the server with
``pg_ctl`` on a free port (unix socket in the same directory), and prepares a template
database with the ``postgis`` extension; :meth:`PostgresServer.create_database` copies that
template, so each test gets its own empty database in about 50 ms. When the tests run as
root the server runs as the ``postgres`` OS user (PostgreSQL refuses to run as root).

:func:`snapshot` and :func:`tamper` work on a SQLite file path or a PostgreSQL URL alike.
"""

from __future__ import annotations

import atexit
import hashlib
import itertools
import os
import pwd
import re
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

__all__ = ["PostgresServer", "ServerUnavailable", "is_postgres", "snapshot", "start_server", "tamper"]

INSTALL_HINT = "run 'sudo bash scripts/install-system-deps.sh' (installs postgresql and postgresql-15-postgis-3)"
TEMPLATE = "deconflict_template"
# The server only backs throwaway test databases: fsync is off to keep the suite fast. The
# durability tests kill the client, never the server, so they still test what they claim.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "log_min_messages": "warning",
}


class ServerUnavailable(RuntimeError):
    """PostgreSQL or PostGIS is not installed, or the server did not start."""


def is_postgres(location: str | Path) -> bool:
    """Whether a database location is a PostgreSQL URL (else a SQLite file path)."""
    return str(location).startswith(("postgresql://", "postgres://"))


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.parent.name)) or (0,)


def find_bin_dir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` that has initdb and a PostGIS extension."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=_version_key, reverse=True)
    if not candidates:
        raise ServerUnavailable(f"PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): {INSTALL_HINT}")
    for initdb in candidates:
        version = initdb.parent.parent.name
        if Path(f"/usr/share/postgresql/{version}/extension/postgis.control").exists():
            return initdb.parent
    raise ServerUnavailable(
        f"PostGIS is not installed for PostgreSQL {candidates[0].parent.parent.name}: {INSTALL_HINT}"
    )


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    """A running test server: where it lives, how to reach it, how to stop it."""

    bin_dir: Path
    root: Path
    port: int
    run_as: str | None
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(self, database: str) -> str:
        """A URL for ``database`` on this server (superuser ``postgres``, trust authentication)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, database: str = "postgres") -> psycopg.Connection[tuple[Any, ...]]:
        """An autocommit superuser connection."""
        return psycopg.connect(self.url(database), autocommit=True)

    def create_database(self, prefix: str = "test") -> str:
        """A new empty database (PostGIS already installed); return its URL."""
        name = f"{prefix}_{os.getpid()}_{next(self._counter)}"
        with self.admin() as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                    sql.Identifier(name), sql.Identifier(TEMPLATE)
                )
            )
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop the database of ``url``, closing any connection a test left open."""
        name = url.rsplit("/", 1)[1]
        with self.admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)

    def stop(self) -> None:
        """Stop the server (immediately: its data is thrown away) and delete its directory."""
        if not self.root.exists():
            return
        try:
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop",
                      check=False)  # fmt: skip
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_server() -> PostgresServer:
    """initdb into a temporary directory, start the server on a free port, prepare the template.

    Raises
    ------
    ServerUnavailable
        With the reason and what to install, when PostgreSQL or PostGIS is missing or the
        server does not come up.
    """
    bin_dir = find_bin_dir()
    run_as = None
    root = Path(tempfile.mkdtemp(prefix="deconflict-pg-"))
    if os.geteuid() == 0:
        run_as = "postgres"
        try:
            user = pwd.getpwnam(run_as)
        except KeyError as exc:
            raise ServerUnavailable(f"running as root but there is no 'postgres' OS user: {INSTALL_HINT}") from exc
        os.chown(root, user.pw_uid, user.pw_gid)
    root.chmod(0o700)
    server = PostgresServer(bin_dir, root, 0, run_as)
    try:
        server._run(str(bin_dir / "initdb"), "-D", str(server.data_dir), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        options = " ".join(f"-c {key}={value}" for key, value in SERVER_SETTINGS.items())
        for _attempt in range(3):  # the free port can be taken between probing and binding
            server.port = free_port()
            started = server._run(str(bin_dir / "pg_ctl"), "-D", str(server.data_dir), "-l", str(root / "server.log"),
                                  "-w", "-t", "60", "-o", f"-p {server.port} -k {root} {options}", "start",
                                  check=False)  # fmt: skip
            if started.returncode == 0:
                break
        else:
            log = (root / "server.log").read_text(errors="replace")[-2000:]
            raise ServerUnavailable(f"PostgreSQL did not start: {started.stderr.strip()}\n{log}")
        with server.admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
        with server.admin(TEMPLATE) as conn:
            conn.execute("CREATE EXTENSION postgis")
    except subprocess.CalledProcessError as exc:
        server.stop()
        raise ServerUnavailable(f"{' '.join(exc.cmd)} failed: {exc.stderr.strip()}") from exc
    except BaseException:
        server.stop()
        raise
    atexit.register(server.stop)  # a backstop when the session is interrupted before its teardown
    return server


# -- helpers for either backend ------------------------------------------------------------------
def snapshot(location: str | Path) -> str:
    """A digest of a database's whole content: it changes iff something was written.

    SQLite: the file's bytes. PostgreSQL: every row of every table (sorted, so the physical
    row order does not matter).
    """
    if not is_postgres(location):
        return hashlib.sha256(Path(location).read_bytes()).hexdigest()
    digest = hashlib.sha256()
    with psycopg.connect(str(location), autocommit=True) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        ).fetchall()
        for (table,) in tables:
            rows = conn.execute(sql.SQL("SELECT t::text FROM {} t").format(sql.Identifier(table))).fetchall()
            digest.update(f"{table}\0{len(rows)}\0".encode())
            for (row,) in sorted(rows):
                digest.update(row.encode() + b"\0")
    return digest.hexdigest()


def tamper(location: str | Path, statement: str, params: tuple[Any, ...] = ()) -> None:
    """Run one write behind the library's back, as an attacker with database access would.

    On PostgreSQL the statement runs with ``session_replication_role = replica``, which
    disables foreign-key triggers, so it can break references the way SQLite (foreign keys
    off by default) lets it.
    """
    if is_postgres(location):
        with psycopg.connect(str(location), autocommit=True) as conn:
            conn.execute("SET session_replication_role = replica")
            conn.execute(statement.encode(), params)
        return
    conn = sqlite3.connect(location)
    with conn:
        conn.execute(statement, params)
    conn.close()
