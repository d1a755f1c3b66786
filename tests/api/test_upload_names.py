"""Issue 12, item 10: a UI upload named ``.`` or ``..`` is a clear error, not an HTTP 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

import deconflict
from api.api_helpers import Fixture
from deconflict.access import authenticate
from deconflict.api import create_app
from deconflict.api.routes.ui import COOKIE, _csrf


@pytest.mark.parametrize("name", [".", ".."])
def test_the_ui_upload_named_dot_or_dot_dot_is_a_clear_error_not_500(fresh: Fixture, name: str) -> None:
    db = deconflict.open(fresh.path, key_file=fresh.key_file)
    try:
        csrf = _csrf(authenticate(db, fresh.tokens["admin"]))
    finally:
        db.close()
    with TestClient(create_app(fresh.path, key_file=fresh.key_file), raise_server_exceptions=False) as client:
        client.cookies.set(COOKIE, fresh.tokens["admin"])
        response = client.post(
            "/ui/incidents/import",
            data={"csrf": csrf},
            files={"file": (name, b"id,time,lat,lon\nx,2025-01-01,50.4,30.5\n", "text/csv")},
        )
    assert response.status_code < 500 and "not a file name" in response.text, response.text[:300]
