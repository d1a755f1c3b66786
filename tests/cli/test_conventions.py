"""The conventions every command follows: --version, global options after the command, --json,
listing limits, a missing server extra, progress on a terminal only."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import deconflict
from deconflict._version import __version__
from deconflict.cli import app
from samples import INCIDENTS_CSV, SITES_CSV

CLI = [sys.executable, "-c", "from deconflict.cli import main; main()"]


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """A SQLite database with three sites, three incidents and one notification."""
    path = tmp_path / "conventions.db"
    deconflict.init(path, timezone="Europe/Kyiv").close()
    (tmp_path / "sites.csv").write_text(SITES_CSV, encoding="utf-8")
    (tmp_path / "incidents.csv").write_text(INCIDENTS_CSV, encoding="utf-8")
    for args in (
        ["sites", "import", str(tmp_path / "sites.csv")],
        ["incidents", "import", str(tmp_path / "incidents.csv")],
        ["notify", "aze-emb", "--to", "RUS", "--at", "2025-10-01", "--id", "ntf-1"],
    ):
        result = CliRunner().invoke(app, ["--db", str(path), *args])
        assert result.exit_code == 0, result.output
    return path


def run(db: Path, *args: str, before: bool = True) -> Any:
    """Invoke the CLI with --db before the command (or after it)."""
    argv = ["--db", str(db), *args] if before else [*args, "--db", str(db)]
    return CliRunner().invoke(app, argv)


def as_json(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- --version ------------------------------------------------------------------------------
def test_version_works_alone_and_comes_from_the_version_module() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout == f"deconflict {__version__}\n"
    assert deconflict.__version__ == __version__


def test_version_in_a_real_process() -> None:
    done = subprocess.run([*CLI, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"deconflict {__version__}"


# -- global options after the command -------------------------------------------------------
def test_db_after_the_command_means_the_same_as_before(base: Path) -> None:
    before = as_json(run(base, "sites", "list", "--json"))
    after = as_json(run(base, "sites", "list", "--json", before=False))
    assert before == after and len(after) == 3


def test_db_after_the_command_overrides_the_environment(base: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["sites", "list", "--json", "--db", str(base)], env={"DECONFLICT_DB": str(tmp_path / "other.db")}
    )
    assert len(as_json(result)) == 3


def test_db_given_before_and_after_with_different_values_is_refused(base: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--db", str(base), "sites", "list", "--db", str(tmp_path / "other.db")])
    words = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 2 and "given before the command" in words
    same = CliRunner().invoke(app, ["--db", str(base), "sites", "list", "--db", str(base), "--json"])
    assert len(as_json(same)) == 3


def test_key_file_after_init_is_where_the_key_goes(tmp_path: Path) -> None:
    key = tmp_path / "elsewhere.key"
    result = CliRunner().invoke(app, ["init", "--db", str(tmp_path / "k.db"), "--key-file", str(key), "--json"])
    data = as_json(result)
    assert key.exists() and data["key_file"] == str(key)
    with deconflict.open(tmp_path / "k.db", key_file=key) as db:
        assert db.ledger.verifier_key == data["verifier_key"]


def test_commands_without_a_database_do_not_take_db_after_them(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["evidence", "verify", "x.zip", "--key", "k", "--db", "x.db"])
    assert result.exit_code == 2 and "No such option" in result.output


# -- --json on every command that prints a result ------------------------------------------
def test_init_json(tmp_path: Path) -> None:
    data = as_json(
        CliRunner().invoke(app, ["--db", str(tmp_path / "j.db"), "init", "--timezone", "Europe/Kyiv", "--json"])
    )
    assert data["timezone"] == "Europe/Kyiv" and data["verifier_key"].startswith(data["origin"] + "+")
    assert Path(data["key_file"]).exists()


def test_notify_and_acknowledge_json_name_their_log_entries(base: Path) -> None:
    notified = as_json(run(base, "notify", "pol-emb", "--to", "RUS", "--at", "2025-10-02", "--json"))
    acknowledged = as_json(run(base, "acknowledge", notified["id"], "--by", "RUS", "--at", "2025-10-03", "--json"))
    assert acknowledged["notification_id"] == notified["id"] and acknowledged["recipient"] == "RUS"
    assert acknowledged["log_index"] == notified["log_index"] + 1
    entries = as_json(run(base, "log", "entries", "--start", str(acknowledged["log_index"]), "--json"))
    assert (
        entries[0]["kind"] == "acknowledgement"
        and entries[0]["entry"]["body"]["acknowledgement_id"] == acknowledged["id"]
    )


def test_log_checkpoint_json_is_the_signed_checkpoint(base: Path) -> None:
    data = as_json(run(base, "log", "checkpoint", "--json"))
    with deconflict.open(base) as db:
        assert data["size"] == db.ledger.size and data["note"] == db.ledger.latest_checkpoint().note
        assert data["origin"] == db.ledger.origin


def test_incidents_confirm_and_reject_json(base: Path) -> None:
    (base.parent / "unverified.csv").write_text(
        "id,time,lat,lon,status\nu1,2025-11-14,50.46,30.49,unverified\nu2,2025-11-15,50.46,30.49,unverified\n"
        "u3,2025-11-16,50.46,30.49,unverified\n",
        encoding="utf-8",
    )
    assert run(base, "incidents", "import", str(base.parent / "unverified.csv")).exit_code == 0
    confirmed = as_json(run(base, "incidents", "confirm", "u1", "u2", "--note", "checked", "--json"))
    assert [(r["incident_id"], r["status"]) for r in confirmed] == [("u1", "confirmed"), ("u2", "confirmed")]
    rejected = as_json(run(base, "incidents", "reject", "u3", "--json"))
    assert rejected[0]["status"] == "rejected" and rejected[0]["log_index"] == confirmed[1]["log_index"] + 1
    assert as_json(run(base, "incidents", "show", "u3", "--json"))["status"] == "rejected"


def test_evidence_export_json_describes_the_bundle_written(base: Path, tmp_path: Path) -> None:
    import hashlib

    run(base, "log", "checkpoint")
    data = as_json(run(base, "evidence", "export", "aze-emb", "--out", str(tmp_path / "b.zip"), "--json"))
    written = (tmp_path / "b.zip").read_bytes()
    assert data["bytes"] == len(written) and data["sha256"] == hashlib.sha256(written).hexdigest()
    verified = as_json(
        CliRunner().invoke(
            app, ["evidence", "verify", str(tmp_path / "b.zip"), "--key", data["verifier_key"], "--json"]
        )
    )
    assert verified["ok"] is True and verified["site_id"] == "aze-emb"


def test_witness_commands_json(base: Path, tmp_path: Path) -> None:
    run(base, "log", "checkpoint")
    state, key = tmp_path / "w.json", tmp_path / "w.key"
    made = as_json(
        CliRunner().invoke(app, ["witness", "init", "--name", "w.example", "--key-file", str(key), "--json"])
    )
    assert made["verifier_key"].startswith("w.example+") and key.exists()
    first = as_json(
        CliRunner().invoke(app, ["witness", "update", "--state", str(state), "--from-db", str(base), "--json"])
    )
    assert first["old_size"] is None and first["new_size"] > 0
    cosigned = as_json(
        CliRunner().invoke(app, ["witness", "cosign", "--state", str(state), "--key-file", str(key), "--json"])
    )
    assert cosigned["size"] == first["new_size"] and "— w.example " in cosigned["note"]
    (tmp_path / "cosigned.txt").write_text(cosigned["note"], encoding="utf-8")
    stored = as_json(run(base, "log", "add-cosignature", str(tmp_path / "cosigned.txt"), "--json"))
    assert stored["size"] == first["new_size"]


def test_report_json_names_what_was_written(base: Path, tmp_path: Path) -> None:
    data = as_json(run(base, "report", "--out", str(tmp_path / "r.html"), "--no-analysis", "--json"))
    assert data["html"] == str(tmp_path / "r.html") and data["pdf"] is None
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_token_revoke_json(base: Path) -> None:
    created = as_json(run(base, "token", "create", "--scope", "analyst", "--json"))
    assert as_json(run(base, "token", "revoke", created["id"], "--json")) == {"id": created["id"], "revoked": True}
    assert as_json(run(base, "token", "list", "--json"))[0]["revoked_at"] is not None


# -- listings -------------------------------------------------------------------------------
@pytest.fixture
def many(base: Path, tmp_path: Path) -> Path:
    """``base`` plus 150 more sites and incidents."""
    sites = "id,name,kind,owner,lat,lon\n" + "".join(
        f"s{n:03d},Site {n},school,UKR,50.{n:03d},30.5\n" for n in range(150)
    )
    incidents = "id,time,lat,lon\n" + "".join(
        f"x{n:03d},2025-01-{1 + n % 28:02d},50.{n:03d},30.5\n" for n in range(150)
    )
    (tmp_path / "more-sites.csv").write_text(sites, encoding="utf-8")
    (tmp_path / "more-incidents.csv").write_text(incidents, encoding="utf-8")
    assert run(base, "sites", "import", str(tmp_path / "more-sites.csv")).exit_code == 0
    assert run(base, "incidents", "import", str(tmp_path / "more-incidents.csv")).exit_code == 0
    return base


@pytest.mark.parametrize(
    ("command", "total", "noun"),
    [
        (("sites", "list"), 153, "site(s)"),
        (("incidents", "list"), 153, "incident(s)"),
        (("log", "entries"), 156, "entries"),
    ],
)
def test_a_listing_shows_a_default_limit_and_says_how_many_more(
    many: Path, command: tuple[str, ...], total: int, noun: str
) -> None:
    table = run(many, *command)
    assert table.exit_code == 0, table.output
    shown = min(total, 100)
    footer = table.stdout.strip().splitlines()[-1]
    if total > 100:
        assert footer == f"showing 100 of {total} {noun}; --limit 0 for all"
    else:
        assert footer == f"{total} {noun}"
    everything = run(many, *command, "--limit", "0")
    assert everything.stdout.strip().splitlines()[-1] == f"{total} {noun}"
    assert len(as_json(run(many, *command, "--json"))) == total  # JSON has no default limit
    limited = run(many, *command, "--json", "--limit", "2")
    assert len(as_json(limited)) == 2 and f"showing 2 of {total} {noun}" in limited.stderr
    assert shown <= 100


def test_a_filtered_listing_counts_what_the_filter_matches(many: Path) -> None:
    result = run(many, "sites", "list", "--near", "50.1,30.5", "--within", "5000", "--limit", "5")
    total = len(as_json(run(many, "sites", "list", "--near", "50.1,30.5", "--within", "5000", "--json")))
    assert 5 < total < 153
    assert result.stdout.strip().splitlines()[-1] == f"showing 5 of {total} site(s); --limit 0 for all"


def test_match_and_token_list_have_limits_too(many: Path) -> None:
    matches = as_json(run(many, "match", "--json"))
    assert len(matches) >= 2
    limited = run(many, "match", "--limit", "1")
    assert f"showing 1 of {len(matches)} possible hit(s)" in limited.stdout
    for _ in range(3):
        run(many, "token", "create", "--scope", "public")
    assert (
        run(many, "token", "list", "--limit", "2").stdout.strip().splitlines()[-1]
        == "showing 2 of 3 token(s); --limit 0 for all"
    )


# -- serve without the server extra --------------------------------------------------------
def test_serve_without_the_server_extra_is_one_line_naming_the_extra(base: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "without-server"
    blocker.mkdir()
    # Python imports sitecustomize at start-up: this one makes the server's libraries unimportable.
    (blocker / "sitecustomize.py").write_text(
        "import sys\nfor name in ('fastapi', 'uvicorn', 'starlette'):\n    sys.modules[name] = None\n", encoding="utf-8"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([*CLI, "--db", str(base), "serve"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "pip install 'deconflict[server]'" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    # Tokens are library records (deconflict.access): managing them needs no server.
    listed = subprocess.run(
        [*CLI, "--db", str(base), "token", "list"], capture_output=True, text=True, env=env, timeout=60
    )
    assert listed.returncode == 0 and "token(s)" in listed.stdout, listed.stderr


# -- progress -------------------------------------------------------------------------------
def _on_a_terminal(args: list[str]) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal; return the exit status, stdout and what the terminal showed."""
    master, slave = pty.openpty()
    shown: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            shown.append(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    env = {**os.environ, "COLUMNS": "150", "TERM": "xterm"}
    try:
        done = subprocess.run([*CLI, *args], stdout=subprocess.PIPE, stderr=slave, env=env, timeout=300)
    finally:
        os.close(slave)
        reader.join(timeout=10)
        os.close(master)
    return done.returncode, done.stdout.decode(), b"".join(shown).decode(errors="replace")


@pytest.fixture
def big_csv(tmp_path: Path) -> Path:
    path = tmp_path / "big.csv"
    rows = "".join(f"2025-01-{1 + i % 28:02d},50.{i:05d},30.5,10\n" for i in range(30_000))
    path.write_text("time,lat,lon,uncertainty_m\n" + rows, encoding="utf-8")
    return path


@pytest.mark.slow
def test_import_and_verify_show_progress_phases_on_a_terminal(base: Path, big_csv: Path) -> None:
    status, stdout, terminal = _on_a_terminal(["--db", str(base), "incidents", "import", str(big_csv)])
    assert status == 0 and "imported 30000 incidents" in stdout
    for phase in ("reading", "validating", "committing", "writing"):
        assert phase in terminal, terminal
    assert "30,000/30,000" in terminal and "left" in terminal
    status, stdout, terminal = _on_a_terminal(["--db", str(base), "log", "verify"])
    assert status == 0 and "log verified" in stdout
    for phase in ("entries", "tree", "records"):
        assert phase in terminal, terminal


def test_no_progress_with_json_or_when_stderr_is_not_a_terminal(base: Path, big_csv: Path) -> None:
    status, stdout, terminal = _on_a_terminal(["--db", str(base), "incidents", "import", str(big_csv), "--json"])
    assert status == 0 and json.loads(stdout)["added"] == 30_000
    assert terminal == ""
    result = run(base, "log", "verify")
    assert result.exit_code == 0 and result.stderr == ""


def test_the_library_reports_every_phase_from_zero_to_its_total(base: Path, big_csv: Path) -> None:
    calls: list[tuple[str, int, int | None]] = []
    report: Callable[[str, int, int | None], None] = lambda phase, done, total: calls.append((phase, done, total))  # noqa: E731
    with deconflict.open(base) as db:
        db.incidents.import_file(big_csv, progress=report)
        phases = list(dict.fromkeys(phase for phase, _, _ in calls))
        assert phases == ["reading", "validating", "committing", "writing"]
        for phase in phases:
            mine = [(done, total) for p, done, total in calls if p == phase]
            assert mine[0][0] == 0 and mine[-1][0] == mine[-1][1]
            assert [done for done, _ in mine] == sorted(done for done, _ in mine)
        assert [c for c in calls if c[0] == "writing"][-1] == ("writing", 30_000, 30_000)
        calls.clear()
        db.ledger.verify(progress=report)
        assert list(dict.fromkeys(phase for phase, _, _ in calls)) == ["entries", "tree", "records"]
        assert [c for c in calls if c[0] == "entries"][-1][1] == db.ledger.size


def test_sites_import_reports_its_phases(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    deconflict.init(path).close()
    sites = tmp_path / "many-sites.csv"
    sites.write_text(
        "id,name,kind,owner,lat,lon\n" + "".join(f"p{n},Site {n},school,UKR,50.{n:03d},30.5\n" for n in range(1500)),
        encoding="utf-8",
    )
    calls: list[tuple[str, int, int | None]] = []
    with deconflict.open(path) as db:
        db.sites.import_file(sites, force=True, progress=lambda phase, done, total: calls.append((phase, done, total)))
        assert db.sites.count() == 1500
    assert list(dict.fromkeys(phase for phase, _, _ in calls)) == [
        "reading",
        "validating",
        "placing",
        "writing",
        "committing",
    ]
    assert [c for c in calls if c[0] == "committing"][-1] == ("committing", 1500, 1500)
    assert ("placing", 1000, 1500) in calls


def test_analyze_match_and_report_show_their_phases_on_a_terminal(base: Path, big_csv: Path, tmp_path: Path) -> None:
    assert run(base, "incidents", "import", str(big_csv)).exit_code == 0
    status, stdout, terminal = _on_a_terminal(["--db", str(base), "analyze"])
    assert status == 0, stdout
    for phase in ("reading", "statistics"):
        assert phase in terminal, terminal
    status, _, terminal = _on_a_terminal(["--db", str(base), "match"])
    assert status == 0 and "matching" in terminal, terminal
    status, _, terminal = _on_a_terminal(["--db", str(base), "report", "--out", str(tmp_path / "r.html")])
    assert status == 0 and "statistics" in terminal and "matching" in terminal, terminal


def test_the_analysis_reports_its_phases_to_a_library_caller(base: Path, big_csv: Path) -> None:
    from deconflict.analysis import AnalysisOptions, analyze_database

    calls: list[tuple[str, int, int | None]] = []
    with deconflict.open(base) as db:
        db.incidents.import_file(big_csv)
        # A seed no other test uses, so the result is computed here and not taken from the cache.
        analyze_database(db, AnalysisOptions(seed=987_654), progress=lambda *call: calls.append(call))
        sites = db.sites.count()
    phases = list(dict.fromkeys(phase for phase, _, _ in calls))
    assert phases in (["reading", "background", "statistics"], ["reading", "background", "statistics", "resampling"])
    statistics = [(done, total) for phase, done, total in calls if phase == "statistics"]
    units = statistics[0][1]  # sites and families of premises tested together
    assert statistics[0] == (0, units) and statistics[-1] == (units, units) and units >= sites
    assert [done for done, _ in statistics] == sorted(done for done, _ in statistics)
    if "resampling" in phases:  # every scanned city's resampled cities
        assert calls[-1][0] == "resampling" and calls[-1][1] == calls[-1][2] > 0


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["sites", "list", "--within", "abc"], "--within"),
        (["log", "prove", "-1"], "No such option: -1"),
        (["no-such-command"], "No such command"),
        (["notify", "aze-emb", "--to", "RUS"], "--at"),
    ],
)
def test_a_usage_error_is_one_line_naming_the_option_with_exit_2(base: Path, args: list[str], says: str) -> None:
    result = run(base, *args)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ") and says in result.stderr
    assert "╭" not in result.stderr and "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize(
    "items",
    [[], [{}], [1, "two\nlines", None], [{"a": [1, {"b": "ü"}], "c": {}}, {"d": []}], [[{"x": 1.5}]]],
)
def test_a_streamed_json_list_is_byte_for_byte_the_json_of_the_list(items, capsys) -> None:
    from deconflict.cli._common import print_json, print_json_list

    print_json(items)
    whole = capsys.readouterr().out
    print_json_list(iter(items))
    assert capsys.readouterr().out == whole
