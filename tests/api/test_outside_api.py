"""Outside time over HTTP: the API timestamps and witnesses like the CLI, and both answer the same."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import deconflict
from api.api_helpers import Fixture, auth
from deconflict.cli import app
from deconflict.ledger.local_tsa import LocalTSA
from deconflict.ledger.witness import Witness, generate_witness_key
from deconflict.ledger.witness_http import RunningWitness, start_witness


@pytest.fixture
def outside(fresh: Fixture, tmp_path: Path) -> Iterator[tuple[LocalTSA, list[RunningWitness], list[str]]]:
    with deconflict.open(fresh.path, key_file=fresh.key_file) as db:
        log_key = db.ledger.verifier_key
    keys = [generate_witness_key(f"api-witness-{n}.example") for n in (1, 2)]
    servers = [start_witness(Witness(tmp_path / f"w{n}.json", k, [log_key])) for n, k in enumerate(keys)]
    tsa = LocalTSA(tmp_path / "tsa", name="api test TSA")
    yield tsa, servers, [k.vkey for k in keys]
    tsa.close()
    for server in servers:
        server.close()


def cli_json(fresh: Fixture, *args: str) -> object:
    done = CliRunner().invoke(app, ["--db", str(fresh.path), "--key-file", str(fresh.key_file), *args, "--json"])
    assert done.exit_code == 0, done.output
    return json.loads(done.output)


def test_api_timestamps_and_witnesses_and_answers_as_the_cli_does(fresh, fresh_client: TestClient, outside):
    tsa, servers, vkeys = outside
    admin = auth(fresh.tokens, "admin")
    # The operator configures the outside parties on the server (the CLI); the API then re-runs them.
    cli_json(fresh, "log", "timestamp", "--tsa", tsa.url, "--tsa-cert", str(tsa.files.ca_cert))
    cli_json(fresh, "log", "witness", "--witness-key", vkeys[0], "--witness-key", vkeys[1],
             "--url", servers[0].url, "--url", servers[1].url)  # fmt: skip
    with deconflict.open(fresh.path, key_file=fresh.key_file) as db:
        db.sites.add_many([deconflict.Site(id="new", name="New", kind="embassy", owner="AZE", lat=50.4, lon=30.5)])
    stamped = fresh_client.post("/api/v1/log/timestamp", headers=admin, json={})
    assert stamped.status_code == 201, stamped.text
    assert stamped.json()["timestamps"][0]["tsa"].startswith("CN=api test TSA")
    witnessed = fresh_client.post("/api/v1/log/witness", headers=admin, json={})
    assert witnessed.status_code == 200, witnessed.text
    assert witnessed.json()["witnessed"] is True and len(witnessed.json()["cosignatures"]) == 2
    assert witnessed.json()["checkpoint_size"] == stamped.json()["checkpoint_size"]
    reader = auth(fresh.tokens, "public")
    api_tokens = fresh_client.get("/api/v1/log/timestamps", headers=reader).json()
    api_times = fresh_client.get("/api/v1/log/time", headers=reader).json()
    assert len(api_tokens) == 2 and api_tokens == cli_json(fresh, "log", "timestamps")
    assert api_times == cli_json(fresh, "log", "time")
    (row,) = api_times
    assert row["id"] == "ntf-aze-1" and row["first_outside"] is not None and "no later than" in row["statement"]


def test_the_api_contacts_only_configured_outside_parties(fresh, fresh_client: TestClient, outside):
    tsa, servers, _ = outside
    admin = auth(fresh.tokens, "admin")
    assert fresh_client.post("/api/v1/log/timestamp", headers=admin, json={"tsa": [tsa.url]}).status_code == 404
    assert fresh_client.post("/api/v1/log/witness", headers=admin, json={"urls": [servers[0].url]}).status_code == 404
    cli_json(fresh, "log", "timestamp", "--tsa", tsa.url, "--tsa-cert", str(tsa.files.ca_cert))
    other = fresh_client.post("/api/v1/log/timestamp", headers=admin, json={"tsa": ["http://127.0.0.1:9/x"]})
    assert other.status_code == 400 and "not a configured timestamp authority" in other.json()["error"]["message"]


def test_only_an_admin_may_timestamp_or_witness(fresh, fresh_client: TestClient, outside):
    owner = auth(fresh.tokens, "aze")
    assert fresh_client.post("/api/v1/log/timestamp", headers=owner, json={}).status_code == 403
    assert fresh_client.post("/api/v1/log/witness", headers=owner, json={}).status_code == 403
