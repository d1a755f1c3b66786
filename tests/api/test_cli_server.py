"""``deconflict token create|list|revoke`` and ``serve``: the CLI side of the server."""

from __future__ import annotations

import json

import httpx
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.api_helpers import Fixture, LiveServer
from deconflict.api import create_app
from deconflict.cli import app


def test_token_create_prints_a_token_once_that_the_server_accepts(fresh: Fixture) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["--db", str(fresh.path), "token", "create", "--scope", "owner:aze", "--scope",
                                 "analyst", "--name", "MFA desk"])  # fmt: skip
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("dcf_") and len(token.split("_", 2)[2]) == 43
    client = TestClient(create_app(fresh.path))
    me = client.get("/api/v1/sites/hrv-embassy", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["location_precision"] == "cell_0.01deg"  # analyst view of another owner's site
    listed = json.loads(runner.invoke(app, ["--db", str(fresh.path), "token", "list", "--json"]).stdout)
    mine = [t for t in listed if t["name"] == "MFA desk"]
    assert mine[0]["scopes"] == ["owner:AZE", "analyst"] and token not in json.dumps(listed)
    revoked = runner.invoke(app, ["--db", str(fresh.path), "token", "revoke", mine[0]["id"]])
    assert revoked.exit_code == 0
    assert client.get("/api/v1/sites", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_token_create_refuses_an_unknown_scope_with_one_line_and_status_2(fresh: Fixture) -> None:
    result = CliRunner().invoke(app, ["--db", str(fresh.path), "token", "create", "--scope", "root"])
    assert result.exit_code == 2
    assert "unknown scope 'root'" in result.stderr and "Traceback" not in result.output


def test_revoking_an_unknown_token_is_a_one_line_error(fresh: Fixture) -> None:
    result = CliRunner().invoke(app, ["--db", str(fresh.path), "token", "revoke", "ffffffffffff"])
    assert result.exit_code == 2 and "no active token" in result.stderr


def test_serve_answers_on_loopback_with_the_ui_and_the_schema(live_server: LiveServer) -> None:
    assert httpx.get(f"{live_server.url}/api/v1/openapi.json").json()["info"]["title"] == "deconflict"
    login = httpx.get(f"{live_server.url}/ui/login")
    assert login.status_code == 200 and "Sign in" in login.text
