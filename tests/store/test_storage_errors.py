"""A full disk and read-only media: one clear line, nothing left behind, read-only verification works.

Real file systems: a small tmpfs really filled up, and a read-only bind mount (``chmod`` does not
stop root). Mounting needs root and a sandbox that allows it; the fixtures say so when it does not.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.samples import INCIDENTS_CSV
from typer.testing import CliRunner

import deconflict
from deconflict.cli import app
from deconflict.errors import StorageError

# SQLite keeps these beside a database file.
SIDE_FILES = ("-wal", "-shm", "-journal")


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


def _can_mount(tmp: Path) -> str | None:
    """Why mounting is impossible here, or None."""
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    probe = tmp / "probe"
    probe.mkdir()
    try:
        _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe))
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"mount is not permitted in this sandbox: {exc}"
    subprocess.run(["umount", str(probe)], check=True)
    return None


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs, unmounted after the test."""
    reason = _can_mount(tmp_path)
    if reason:
        pytest.skip(reason)
    directory = tmp_path / "small"
    directory.mkdir()
    _mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(directory))
    yield directory
    subprocess.run(["umount", "-l", str(directory)], check=True)


def _fill(directory: Path) -> None:
    """Write a filler file until the file system is full."""
    with open(directory / "filler", "wb", buffering=0) as handle:
        chunk = b"\0" * 4096
        try:
            while True:
                handle.write(chunk)
        except OSError:
            pass
    # Sub-page remainders too, so not even one more SQLite page fits.
    with open(directory / "filler2", "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0")
        except OSError:
            pass


def _left_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith("filler"))


def test_init_on_a_full_disk_is_one_line_and_leaves_nothing(small_fs: Path) -> None:
    _fill(small_fs)
    db = small_fs / "log.db"
    result = CliRunner().invoke(app, ["--db", str(db), "init"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "not a deconflict database" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "is full; nothing was written" in lines[0] and str(small_fs) in lines[0], result.output
    assert _left_files(small_fs) == []  # no zero-byte database or key file blocks a retry
    (small_fs / "filler").unlink()
    (small_fs / "filler2").unlink()
    retry = CliRunner().invoke(app, ["--db", str(db), "init"])
    assert retry.exit_code == 0, retry.output


def test_witness_key_on_a_full_disk_leaves_nothing(small_fs: Path) -> None:
    _fill(small_fs)
    key = small_fs / "witness.key"
    result = CliRunner().invoke(app, ["witness", "init", "--name", "w.example.org", "--key-file", str(key)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1 and "is full" in result.output, result.output
    assert _left_files(small_fs) == []


def test_import_on_a_full_disk_is_one_line_and_changes_nothing(small_fs: Path, tmp_path: Path) -> None:
    db = small_fs / "log.db"
    deconflict.init(db, timezone="Europe/Kyiv").close()
    rows = "".join(f"x{n},2024-01-02,day,50.{n:05d},30.5200,500,drone,Shahed,,weak,note {n}\n" for n in range(20000))
    csv = tmp_path / "many.csv"
    csv.write_text(INCIDENTS_CSV + rows)
    _fill(small_fs)
    result = CliRunner().invoke(app, ["--db", str(db), "incidents", "import", str(csv)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "OperationalError" not in result.output
    assert "not a deconflict database" not in result.output
    assert len(result.output.strip().splitlines()) == 1 and "is full; nothing was written" in result.output
    (small_fs / "filler").unlink()
    (small_fs / "filler2").unlink()
    with deconflict.open(db) as handle:
        assert handle.incidents.count() == 0
        assert handle.ledger.verify().size >= 0


def test_a_full_disk_is_a_storage_error_in_the_library(small_fs: Path) -> None:
    _fill(small_fs)
    with pytest.raises(StorageError, match="is full"):
        deconflict.init(small_fs / "log.db")


@pytest.fixture
def read_only_copy(tmp_path: Path) -> Iterator[Path]:
    """A database (with a site and incidents logged) seen through a read-only bind mount."""
    reason = _can_mount(tmp_path)
    if reason:
        pytest.skip(reason)
    source = tmp_path / "rw"
    source.mkdir()
    db = source / "log.db"
    with deconflict.init(db, timezone="Europe/Kyiv") as handle:
        handle.incidents.import_file(_write(tmp_path / "i.csv", INCIDENTS_CSV))
        handle.ledger.sign_checkpoint()
    view = tmp_path / "ro"
    view.mkdir()
    _mount("--bind", str(source), str(view))
    _mount("-o", "remount,ro,bind", str(view))
    yield view / "log.db"
    subprocess.run(["umount", "-l", str(view)], check=True)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_log_verify_works_on_read_only_media(read_only_copy: Path) -> None:
    assert not os.access(read_only_copy.parent, os.W_OK)
    result = CliRunner().invoke(
        app, ["--db", str(read_only_copy), "--key-file", str(read_only_copy) + ".key", "log", "verify"]
    )
    assert result.exit_code == 0, result.output
    assert "log verified" in result.output
    listed = CliRunner().invoke(app, ["--db", str(read_only_copy), "incidents", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [p.name for p in read_only_copy.parent.iterdir() if p.name.endswith(SIDE_FILES)] == []


def test_a_write_on_read_only_media_is_one_line(read_only_copy: Path, tmp_path: Path) -> None:
    csv = _write(tmp_path / "more.csv", INCIDENTS_CSV.replace("i1,", "j1,").replace("i2,", "j2,").replace("i3,", "j3,"))
    result = CliRunner().invoke(app, ["--db", str(read_only_copy), "incidents", "import", str(csv)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "read-only" in lines[0] and str(read_only_copy) in lines[0], result.output


def test_a_write_that_fills_the_disk_is_rolled_back(small_fs: Path, tmp_path: Path) -> None:
    db = small_fs / "log.db"
    rows = "".join(f"x{n},2024-01-02,day,50.{n:05d},30.5200,500,drone,Shahed,,weak,note {n}\n" for n in range(20000))
    csv = _write(tmp_path / "many.csv", INCIDENTS_CSV + rows)
    with deconflict.init(db, timezone="Europe/Kyiv") as handle:
        _fill(small_fs)  # the database is open: the transaction itself runs out of space
        with pytest.raises(StorageError, match="is full; nothing was written"):
            handle.incidents.import_file(csv)
    (small_fs / "filler").unlink()
    (small_fs / "filler2").unlink()
    with deconflict.open(db) as handle:
        assert handle.incidents.count() == 0
        assert handle.ledger.verify().size == 0
