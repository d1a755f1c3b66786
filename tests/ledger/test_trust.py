"""``log verify`` trusts a key the caller supplies or pins, and says which; a re-keyed or rewritten log fails."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import deconflict
from deconflict.cli import app
from pg import tamper

SITES = "id,name,kind,owner,lat,lon\nemb,Embassy,embassy,AZE,{lat},30.52\n"


def make_log(location: Path, key_file: Path, lat: float = 50.45) -> str:
    """A log with one site, notified, and a signed checkpoint; returns its verifier key."""
    sites = location.parent / f"{location.stem}-sites.csv"
    sites.write_text(SITES.format(lat=lat), encoding="utf-8")
    with deconflict.init(location, timezone="Europe/Kyiv", key_file=key_file) as db:
        db.sites.import_file(sites)
        db.notifications.notify(["emb"], to="RUS", at="2025-01-01", id="n1")
        db.ledger.sign_checkpoint()
        return db.ledger.verifier_key


def run(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def genuine(tmp_path: Path) -> tuple[Path, Path, str]:
    location, key_file = tmp_path / "genuine.db", tmp_path / "genuine.key"
    return location, key_file, make_log(location, key_file)


def rewritten(tmp_path: Path, genuine: tuple[Path, Path, str], key_file: Path) -> None:
    """Replace the genuine database by one whose embassy is 333 m further north, signed with ``key_file``."""
    location = tmp_path / "forged.db"
    make_log(location, key_file, lat=50.45 + 333 / 111_200)
    shutil.copy(location, genuine[0])


def test_a_genuine_log_verifies_against_the_callers_key_and_names_it(genuine):
    location, key_file, vkey = genuine
    result = run("--db", str(location), "log", "verify", "--key", vkey, "--json")
    assert result.exit_code == 0, result.output
    trusted = json.loads(result.stdout)["trusted_key"]
    assert trusted["source"] == "caller" and trusted["vkey"] == vkey and len(trusted["key_id"]) == 8
    text = run("--db", str(location), "log", "verify", "--key-file", str(key_file))
    assert text.exit_code == 0 and "the public half of --key-file" in text.stdout
    assert "WARNING" not in text.output


def test_without_a_key_the_database_key_is_trusted_with_a_warning(genuine):
    result = run("--db", str(genuine[0]), "log", "verify")
    assert result.exit_code == 0, result.output
    assert "read from the database" in result.stdout and "WARNING" in result.stderr


def test_a_log_rewritten_and_resigned_with_a_new_key_fails_against_the_genuine_key(genuine, tmp_path: Path):
    location, key_file, vkey = genuine
    witness = tmp_path / "witness.json"
    assert run("witness", "update", "--state", str(witness), "--from-db", str(location)).exit_code == 0
    rewritten(tmp_path, genuine, tmp_path / "attacker.key")
    assert run("--db", str(location), "log", "verify").exit_code == 0  # it agrees with itself
    for args in (("--key", vkey), ("--key-file", str(key_file)), ("--witness-state", str(witness))):
        result = run("--db", str(location), "log", "verify", *args)
        assert result.exit_code == 1, (args, result.output)
        assert "is not the trusted key" in result.output


def test_a_log_rewritten_with_the_genuine_key_fails_against_the_pinned_checkpoint(genuine, tmp_path: Path):
    location, key_file, vkey = genuine
    witness = tmp_path / "witness.json"
    assert run("witness", "update", "--state", str(witness), "--from-db", str(location)).exit_code == 0
    rewritten(tmp_path, genuine, key_file)  # the operator rewrites its own log
    assert run("--db", str(location), "log", "verify", "--key", vkey).exit_code == 0
    result = run("--db", str(location), "log", "verify", "--witness-state", str(witness))
    assert result.exit_code == 1 and "rewritten" in result.output


def test_a_log_without_checkpoints_proves_nothing_about_the_trusted_key(genuine):
    location, _key_file, vkey = genuine
    tamper(location, "DELETE FROM checkpoints")
    result = run("--db", str(location), "log", "verify", "--key", vkey)
    assert result.exit_code == 1 and "no signed checkpoint" in result.output


def test_a_malformed_key_is_bad_input_naming_the_option(genuine):
    result = run("--db", str(genuine[0]), "log", "verify", "--key", "not+a+key")
    assert result.exit_code == 2 and "--key" in result.output
