"""A chosen id that is in use answers 409 with the same words whoever holds it (the caller or another
owner): the answer never confirms that another owner's record exists, nor whose it is."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api.api_helpers import Fixture, auth

_SITE = {"name": "Annex", "kind": "embassy", "lat": 50.4601, "lon": 30.4902, "force": True}


def _conflict(client: TestClient, fresh: Fixture, caller: str, path: str, body: dict[str, Any]) -> str:
    response = client.post(path, json=body, headers=auth(fresh.tokens, caller))
    assert response.status_code == 409, response.text
    return response.text.replace(repr(body["id"]), "<id>")


def test_a_taken_site_id_answers_the_same_for_another_owners_site_as_for_ones_own(
    fresh_client: TestClient, fresh: Fixture
) -> None:
    others = _conflict(fresh_client, fresh, "aze", "/api/v1/sites", {**_SITE, "owner": "AZE", "id": "hrv-embassy"})
    own = _conflict(fresh_client, fresh, "aze", "/api/v1/sites", {**_SITE, "owner": "AZE", "id": "aze-consular"})
    assert others == own
    assert not any(word in others for word in ("exist", "already", "in the database", "HRV", "Croatia"))
    assert fresh_client.get("/api/v1/sites/hrv-embassy", headers=auth(fresh.tokens, "aze")).status_code == 404


def test_a_taken_notification_id_answers_the_same_for_another_owners_notification_as_for_ones_own(
    fresh_client: TestClient, fresh: Fixture
) -> None:
    body = {"site_ids": ["hrv-embassy"], "recipient": "RUS", "notified_at": "2025-10-01T12:00Z"}
    created = fresh_client.post("/api/v1/notifications", json={**body, "id": "ntf-hrv-1"},
                                headers=auth(fresh.tokens, "hrv"))  # fmt: skip
    assert created.status_code == 201, created.text
    others = _conflict(fresh_client, fresh, "hrv", "/api/v1/notifications", {**body, "id": "ntf-aze-1"})
    own = _conflict(fresh_client, fresh, "hrv", "/api/v1/notifications", {**body, "id": "ntf-hrv-1"})
    assert others == own
    assert not any(word in others for word in ("exist", "already", "AZE"))
