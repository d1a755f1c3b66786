"""Every example in every command's --help runs, as written, in a workspace made from the Kyiv demo.

The workspace holds what the examples name: ``deconflict.db`` (the demo, with its notification,
checkpoint, cosignature, an unverified incident and the claims read from ``reports/``), ``sites.csv``, ``strikes.csv``,
``acled-export.csv``, ``movements.csv``, ``kyiv.pmtiles``, ``reports/``, ``checkpoint.txt``, ``cosigned.txt``, the demo witness's
``witness.key`` and ``witness.json``, the evidence bundle, and the shell variables ``$LOG_KEY``,
``$WITNESS_KEY`` and ``$TOKEN_ID``. Each command's examples run in a fresh copy, in order, through
the CLI; ``serve`` runs in a subprocess on a free port until it answers.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

import deconflict
from cli.test_reference import PATHS, examples
from deconflict.cli import app
from deconflict.demo import build_demo_database
from deconflict.ledger.local_tsa import LocalTSA, TsaFiles
from deconflict.ledger.witness import Witness
from deconflict.ledger.witness_http import start_witness
from deconflict.model import Incident
from deconflict.times import TimeSpan
from pg import free_port
from report.basemap_helpers import build_basemap

SLOW = {("demo",), ("analyze",), ("report",), ("serve",), ("extract",), ("compliance",), ("dossier",)}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """The demo workspace, with the demo's first TSA and first witness running again for the examples."""
    root = tmp_path_factory.mktemp("examples")
    db, summary = build_demo_database(root)
    try:
        from deconflict.access import create_token
        from deconflict.ledger.note import load_signer_key
        from deconflict.ledger.witness import cosign, update

        db.incidents.add(
            Incident(
                id="x-report-1",
                time=TimeSpan(datetime(2025, 11, 14, tzinfo=UTC), datetime(2025, 11, 15, tzinfo=UTC), "day"),
                lat=50.4608,
                lon=30.4906,
                uncertainty_m=300,
                provenance="extracted",
                status="unverified",
            )
        )
        # An acknowledgement for the example of 'acknowledgements withdraw' (the demo has none).
        db.notifications.acknowledge("aze-2024-coordinates", by="RUS", at="2025-09-01", id="ack-example")
        (root / "checkpoint.txt").write_text(db.ledger.latest_checkpoint().note, encoding="utf-8")
        witness = load_signer_key(root / "outside" / "witness-1.key")
        shutil.copy(root / "outside" / "witness-1.key", root / "witness.key")
        update(root / "witness.json", db.ledger.latest_checkpoint().note, None, log_key=db.ledger.verifier_key)
        (root / "cosigned.txt").write_text(cosign(root / "witness.json", witness), encoding="utf-8")
        token = create_token(db, ["analyst"], "examples")
        db.channels.add_webhook("AZE", "https://soc.example.org/deconflict", id="aze-soc")
        env = {"LOG_KEY": db.ledger.verifier_key, "WITNESS_KEY": summary.witness_key, "TOKEN_ID": token.split("_")[1]}
    finally:
        db.close()
    # The database records where its key is (the workspace's demo.db.key, shared by every copy).
    (root / "demo.db").rename(root / "deconflict.db")
    (root / "sites.csv").write_text(
        "id,name,kind,owner,lat,lon\n"
        "ex-hospital-1,Example Children's Hospital,hospital,UKR,50.4420,30.5060\n"
        "ex-school-1,Example School 12,school,UKR,50.4712,30.4450\n",
        encoding="utf-8",
    )
    (root / "strikes.csv").write_text(
        "id,time,lat,lon,uncertainty_m,kind,provenance\n"
        "ex-strike-1,2025-12-01T02:10+02:00,50.4415,30.5071,250,missile,reported\n"
        "ex-strike-2,2025-12-02,50.4700,30.4460,500,drone,reported\n",
        encoding="utf-8",
    )
    (root / "acled-export.csv").write_text(
        "event_id_cnty,event_date,latitude,longitude,geo_precision,event_type,sub_event_type,notes\n"
        "UKR999001,2025-12-03,50.4501,30.5234,1,Explosions/Remote violence,Air/drone strike,example row\n",
        encoding="utf-8",
    )
    (root / "movements.csv").write_text(
        "id,name,kind,owner,organisation,route,width_m,from,until\n"
        "ex-convoy-2,Example convoy 2,convoy,XUN,Example NGO,50.40 30.40; 50.45 30.52,150,2025-12-05,2025-12-05\n",
        encoding="utf-8",
    )
    # The city basemap the examples name (`report --basemap`, `basemap check`): a small PMTiles archive.
    build_basemap(root / "kyiv.pmtiles", (30.44, 50.43, 30.54, 50.49), zooms=range(9, 12), name="Kyiv (test)")
    (root / "reports").mkdir()
    (root / "reports" / "statement.txt").write_text(
        "Kyiv, 14 November 2025. Overnight, a Russian missile struck the Embassy of Azerbaijan in Kyiv, "
        "damaging the building. The ministry said the coordinates of the embassy had been handed to the "
        "Russian side in advance.\n",
        encoding="utf-8",
    )
    # The claims read from that report (what `extract reports/ --import` stores), for `claims ...`.
    from deconflict.extract import extract_paths

    with deconflict.open(root / "deconflict.db") as db:
        db.claims.import_reports(extract_paths([root / "reports"], sites=[hit.site for hit in db.sites.list()]))
    outside = root / "outside"
    tsa_files = TsaFiles(outside / "tsa-1" / "ca.pem", outside / "tsa-1" / "tsa.pem", outside / "tsa-1" / "tsa.key")
    with LocalTSA(root.parent / f"{root.name}-tsa", tsa_files, name="DEMO TSA one") as tsa:
        witness_server = start_witness(Witness(root.parent / f"{root.name}-witness.json", witness, [env["LOG_KEY"]]))
        try:
            yield root, {**env, "TSA_URL": tsa.url, "WITNESS_URL": witness_server.url}
        finally:
            witness_server.close()


def _run(line: str, cwd: Path) -> None:
    words = shlex.split(os.path.expandvars(line))
    assert words[0] == "deconflict"
    target = None
    if ">" in words:
        at = words.index(">")
        words, target = words[:at], words[at + 1]
    if words[1:2] == ["serve"] or words[1:3] == ["witness", "serve"]:
        _serve(words, cwd)
        return
    result = CliRunner().invoke(app, words[1:])
    assert result.exit_code == 0, f"{line}\n{result.output}"
    if target is not None:
        (cwd / target).write_text(result.stdout, encoding="utf-8")


def _serve(words: list[str], cwd: Path) -> None:
    port = free_port()
    words = [
        str(port) if previous == "--port" else word for previous, word in zip(["", *words[:-1]], words, strict=True)
    ]
    process = subprocess.Popen(
        [sys.executable, "-c", "from deconflict.cli import main; main()", *words[1:]],
        cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            try:
                probe = "/api/v1/openapi.json" if words[1] == "serve" else "/add-checkpoint"
                if httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=1).status_code in (200, 404):
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                process.terminate()
                output = process.stderr.read().decode() if process.stderr else ""
                raise AssertionError(f"{' '.join(words[1:3])} did not answer within 30 s: {output}")
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, marks=pytest.mark.slow) if p in SLOW else p for p in [(), *PATHS]],
    ids=lambda p: " ".join(p) or "deconflict",
)
def test_every_example_in_the_help_runs(
    path: tuple[str, ...], workspace: tuple[Path, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, env = workspace
    copy = tmp_path / "workspace"
    shutil.copytree(root, copy)
    monkeypatch.chdir(copy)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DECONFLICT_DB", raising=False)
    monkeypatch.delenv("DECONFLICT_KEY", raising=False)
    lines = examples(path)
    assert lines
    for line in lines:
        _run(line, copy)
    assert deconflict.open(copy / "deconflict.db").ledger.verify().size > 0
