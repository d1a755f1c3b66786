"""Issue 12, item 4: a notification dated 9999-12-31 (or 0001-01-01) breaks nothing.

Input refuses times outside 1900-01-01..2200-01-01 at every door; a database written before
that bound (append-only: its records cannot be removed) still renders everywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import deconflict
import deconflict.times
from api.api_helpers import Fixture, auth
from deconflict.api import create_app
from deconflict.api.routes.ui import COOKIE
from deconflict.cli import app
from deconflict.times import TimeSpan

HIGHEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
LOWEST = datetime(1, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59Z", "0001-01-01", "9999-12-31"])
def test_the_api_refuses_a_notification_outside_the_range(fresh_client: TestClient, fresh: Fixture, at: str) -> None:
    body = {"site_ids": ["aze-embassy"], "recipient": "RUS", "notified_at": at, "force": True}
    response = fresh_client.post("/api/v1/notifications", headers=auth(fresh.tokens, "aze"), json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert "1900-01-01 to 2200-01-01" in error["message"] and error["where"] == "body.notified_at"


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59Z", "0001-01-01", "9999-12-31"])
def test_the_cli_refuses_a_notification_outside_the_range(fresh: Fixture, at: str) -> None:
    args = ["--db", str(fresh.path), "--key-file", str(fresh.key_file), "notify", "aze-embassy", "--to", "RUS"]
    result = CliRunner().invoke(app, [*args, "--at", at, "--yes"])
    assert result.exit_code == 2, result.output
    assert "--at" in result.stderr and "1900-01-01 to 2200-01-01" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.fixture
def legacy(fresh: Fixture, monkeypatch: pytest.MonkeyPatch) -> Fixture:
    """The shared database plus notifications at datetime's limits, as written before the bound."""
    with monkeypatch.context() as relaxed:
        relaxed.setattr(deconflict.times, "EARLIEST", LOWEST)
        relaxed.setattr(deconflict.times, "LATEST", HIGHEST)
        db = deconflict.open(fresh.path, key_file=fresh.key_file)
        try:
            db.notifications.notify(["aze-embassy"], to="RUS", at=TimeSpan(HIGHEST, HIGHEST, "instant"), force=True)
            db.notifications.notify(["aze-consular"], to="RUS", at=TimeSpan(LOWEST, LOWEST, "instant"), force=True)
            db.notifications.notify(["hrv-embassy"], to="RUS", at=TimeSpan(LOWEST, HIGHEST, "interval"), force=True)
        finally:
            db.close()
    return fresh


@pytest.mark.slow
@pytest.mark.parametrize("url", ["/api/v1/report", "/ui/report", "/api/v1/notifications"])
def test_every_page_renders_a_database_holding_times_at_the_limits(legacy: Fixture, url: str) -> None:
    with TestClient(create_app(legacy.path, key_file=legacy.key_file), raise_server_exceptions=False) as client:
        client.cookies.set(COOKIE, legacy.tokens["admin"])  # the UI's session
        response = client.get(url, headers=auth(legacy.tokens, "admin"), follow_redirects=False)
    assert response.status_code == 200, response.text[:500]
    assert "9999-12-31" in response.text and "0001-01-01" in response.text


@pytest.mark.slow
def test_the_cli_report_renders_a_database_holding_times_at_the_limits(legacy: Fixture, tmp_path) -> None:
    out = tmp_path / "report.html"
    args = ["--db", str(legacy.path), "--key-file", str(legacy.key_file), "report", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "9999" in out.read_text()
