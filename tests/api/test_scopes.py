"""Every endpoint against every scope (admin, owner:AZE, owner:HRV, analyst, public, no token)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from api.api_helpers import Fixture

CALLERS = ("admin", "aze", "hrv", "analyst", "public", "anonymous")

# expected status per caller, in the order of CALLERS
READS: dict[str, tuple[int, ...]] = {
    "/api/v1/sites": (200, 200, 200, 200, 403, 401),
    "/api/v1/sites?search=Azerbaijan": (200, 200, 200, 200, 403, 401),
    "/api/v1/sites?near=50.46,30.49&within_m=2000": (200, 200, 200, 200, 403, 401),
    "/api/v1/sites/aze-embassy": (200, 200, 404, 200, 403, 401),
    "/api/v1/sites/hrv-embassy": (200, 404, 200, 200, 403, 401),
    "/api/v1/sites/aze-embassy/notifications": (200, 200, 404, 200, 403, 401),
    "/api/v1/sites/aze-embassy/evidence": (200, 200, 404, 403, 403, 401),
    "/api/v1/sites/hrv-embassy/evidence": (200, 404, 200, 403, 403, 401),
    "/api/v1/notifications": (200, 200, 200, 200, 403, 401),
    "/api/v1/notifications/ntf-aze-1": (200, 200, 404, 200, 403, 401),
    "/api/v1/acknowledgements": (200, 200, 200, 200, 403, 401),
    "/api/v1/incidents": (200, 200, 200, 200, 403, 401),
    "/api/v1/incidents/hit-2": (200, 200, 200, 200, 403, 401),
    "/api/v1/match": (200, 200, 200, 200, 403, 401),
    "/api/v1/match?site_id=hrv-embassy": (200, 404, 200, 200, 403, 401),
    "/api/v1/analysis": (200, 200, 200, 200, 403, 401),
    "/api/v1/analysis?site_id=aze-embassy": (200, 200, 404, 200, 403, 401),
    "/api/v1/report": (200, 200, 200, 200, 403, 401),
    "/api/v1/log": (200,) * 6,
    "/api/v1/log/checkpoint": (200,) * 6,
    "/api/v1/log/entries": (200,) * 6,
    "/api/v1/log/entries/0": (200,) * 6,
    "/api/v1/log/proof/inclusion?index=0": (200,) * 6,
    "/api/v1/log/proof/consistency?old_size=1": (200,) * 6,
    "/api/v1/log/tile/0/000.p/3": (200,) * 6,
    "/api/v1/log/tile/entries/000.p/3": (200,) * 6,
}

_CSV = "id,time,lat,lon,uncertainty_m\n{id},2025-11-14,50.45,30.52,100\n"
# path, JSON body or CSV text, statuses per caller; {who} makes ids unique per caller
WRITES: dict[str, tuple[str, object, tuple[int, ...]]] = {
    "add site of AZE": (
        "/api/v1/sites",
        # every caller adds one at the same point: force past the "probably the same site" warning
        {
            "id": "new-{who}",
            "name": "New AZE site",
            "kind": "consulate",
            "owner": "AZE",
            "lat": 46.0,
            "lon": 30.7,
            "force": True,
        },
        (201, 201, 403, 403, 403, 401),
    ),
    "notify AZE sites": (
        "/api/v1/notifications",
        {"id": "ntf-{who}", "site_ids": ["aze-embassy"], "recipient": "RUS", "notified_at": "2025-12-01"},
        (201, 201, 404, 403, 403, 401),
    ),
    "acknowledge an AZE notification": (
        "/api/v1/notifications/ntf-aze-1/acknowledgements",
        {"id": "ack-{who}", "by": "RUS", "at": "2025-12-02"},
        (201, 201, 404, 403, 403, 401),
    ),
    "add incidents": (
        "/api/v1/incidents",
        [{"id": "inc-{who}", "time": "2025-11-14", "lat": 50.45, "lon": 30.52}],
        (201, 403, 403, 403, 403, 401),
    ),
    "import an incident file": ("/api/v1/incidents/import?filename=x.csv", _CSV, (201, 403, 403, 403, 403, 401)),
}


def headers_for(db: Fixture, caller: str) -> dict[str, str]:
    return {} if caller == "anonymous" else {"Authorization": f"Bearer {db.tokens[caller]}"}


@pytest.mark.parametrize("path", list(READS))
def test_read_endpoint_answers_each_scope_as_specified(client: TestClient, api_db: Fixture, path: str) -> None:
    got = tuple(client.get(path, headers=headers_for(api_db, caller)).status_code for caller in CALLERS)
    assert got == READS[path], dict(zip(CALLERS, got, strict=True))


@pytest.mark.parametrize("name", list(WRITES))
def test_write_endpoint_answers_each_scope_as_specified(fresh_client: TestClient, fresh: Fixture, name: str) -> None:
    path, body, expected = WRITES[name]
    got = []
    for caller in CALLERS:
        headers = headers_for(fresh, caller)
        if isinstance(body, str):
            response = fresh_client.post(path, headers=headers, content=body.format(id=f"csv-{caller}"))
        else:
            payload = json.loads(json.dumps(body).replace("{who}", caller))
            response = fresh_client.post(path, headers=headers, json=payload)
        got.append(response.status_code)
    assert tuple(got) == expected, dict(zip(CALLERS, got, strict=True))


def test_a_revoked_token_is_refused_from_the_next_request_on(fresh_client: TestClient, fresh: Fixture) -> None:
    import deconflict
    from deconflict.access import revoke_token

    headers = headers_for(fresh, "analyst")
    assert fresh_client.get("/api/v1/sites", headers=headers).status_code == 200
    with deconflict.open(fresh.path) as db:
        revoke_token(db, fresh.tokens["analyst"].split("_")[1])
    response = fresh_client.get("/api/v1/sites", headers=headers)
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]


def test_tokens_are_stored_only_as_hashes(api_db: Fixture) -> None:
    data = (
        api_db.path.read_bytes() + (api_db.path.parent / "api.db-wal").read_bytes()
        if (api_db.path.parent / "api.db-wal").exists()
        else api_db.path.read_bytes()
    )
    for token in api_db.tokens.values():
        secret = token.split("_", 2)[2]
        assert secret.encode() not in data
