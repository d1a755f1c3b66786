"""An owner cannot widen its exact view with data it controls (issue 12, item 1).

The leak test of :mod:`api.test_confidentiality`, over every endpoint (API, report, UI pages,
evidence bundles, movement hits and bundles) and every scope, run before and after an owner
tries to register or amend a site with a huge radius or footprint (refused), and after such a
site and a 100 km corridor were stored anyway (by an admin, or before the limit existed): the
owner's exact view stays within :data:`deconflict.model.MAX_OWNER_REACH_M` of its sites.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

import deconflict
from api.api_helpers import AZE_EMBASSY, SECRET_COORDS, SITES, Fixture, auth, ui_login
from api.test_confidentiality import REGISTRY_PATHS
from deconflict.access import create_token
from deconflict.api import create_app
from deconflict.model import MAX_OWNER_REACH_M, MAX_OWNER_WIDTH_M

#: POL's own embassy in the shared data (2.2 km from the AZE embassy, 2.0 km from the HRV one).
POL_SITE = "ctl-0"
#: A square of about 30 x 30 km over Kyiv, holding every site of the test data.
KYIV_SQUARE = "POLYGON((30.30 50.33, 30.75 50.33, 30.75 50.60, 30.30 50.60, 30.30 50.33))"
#: A route 2.8 km south of the HRV embassy and 3.4 km south of the AZE one.
SOUTH_ROUTE = "50.430,30.40; 50.430,30.60"
UI_PAGES = ["/ui/sites", "/ui/incidents", "/ui/analysis", "/ui/report", "/ui/alerts", "/ui/log"]
#: The coordinates searched for (those of the sites given to 6 decimals: the control sites' 4
#: decimals also occur by chance in the incidents an owner may read).
SECRETS = {
    owner: [text for site in SITES if site.owner == owner for text in SECRET_COORDS[site.id]]
    for owner in ("AZE", "HRV")
}
CALLERS = {"aze": "AZE", "hrv": "HRV", "pol": "POL"}


@pytest.fixture
def world(fresh: Fixture) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A private copy of the test data, a POL token besides the others, and a client."""
    db = deconflict.open(fresh.path, key_file=fresh.key_file)
    try:
        tokens = {**fresh.tokens, "pol": create_token(db, ["owner:POL"], "pol")}
    finally:
        db.close()
    with TestClient(create_app(fresh.path, key_file=fresh.key_file)) as client:
        yield client, tokens


def _readable(client: TestClient, tokens: dict[str, str], caller: str) -> str:
    """Everything ``caller`` can read: API paths, its own bundles, movements, UI pages."""
    headers = auth(tokens, caller)
    texts = [client.get(path, headers=headers).text for path in REGISTRY_PATHS]
    texts += [client.get(path, headers=headers).text for path in ("/api/v1/compliance", "/api/v1/alerts")]
    own = [s["id"] for s in client.get("/api/v1/sites?limit=1000", headers=headers).json()["items"]]
    if caller != "analyst":
        for site_id in own:
            texts += _unzipped(client.get(f"/api/v1/sites/{site_id}/evidence", headers=headers).content)
    for movement in client.get("/api/v1/movements", headers=headers).json():
        texts.append(client.get(f"/api/v1/movements/{movement['id']}/hits", headers=headers).text)
        if caller != "analyst":
            bundle = client.get(f"/api/v1/movements/{movement['id']}/evidence", headers=headers)
            assert bundle.status_code == 200, bundle.text
            texts += _unzipped(bundle.content)
    client.cookies.clear()
    assert ui_login(client, tokens[caller]).status_code == 303  # type: ignore[arg-type]
    texts += [client.get(page).text for page in UI_PAGES]
    client.cookies.clear()
    return "\n".join(texts)


def _unzipped(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [archive.read(name).decode("utf-8") for name in archive.namelist()]


def _leaks(client: TestClient, tokens: dict[str, str]) -> dict[str, list[str]]:
    """For each owner token, the other owners' secret coordinates it can read; for the analyst, any."""
    found = {}
    for caller, owner in CALLERS.items():
        text = _readable(client, tokens, caller)
        found[caller] = [s for other, secrets in SECRETS.items() if other != owner for s in secrets if s in text]
    text = _readable(client, tokens, "analyst")
    found["analyst"] = [s for secrets in SECRETS.values() for s in secrets if s in text]
    return found


NO_LEAKS = {"aze": [], "hrv": [], "pol": [], "analyst": []}


def _escalate_as_owner(client: TestClient, tokens: dict[str, str]) -> list[int]:
    """Every way POL could widen its own reach through the API; the statuses it gets."""
    pol = auth(tokens, "pol")
    base = {"name": "Annex of Poland", "kind": "embassy", "owner": "POL", "lat": 50.4512, "lon": 30.5190, "force": True}
    attempts = [
        client.post("/api/v1/sites", json={**base, "id": "pol-wide", "radius_m": 50_000}, headers=pol),
        client.post("/api/v1/sites", json={**base, "id": "pol-footprint", "footprint_wkt": KYIV_SQUARE}, headers=pol),
        client.post(f"/api/v1/sites/{POL_SITE}/amend", json={"reason": "wider", "radius_m": 50_000}, headers=pol),
        client.post(
            f"/api/v1/sites/{POL_SITE}/amend", json={"reason": "wider", "footprint_wkt": KYIV_SQUARE}, headers=pol
        ),
        client.post(
            f"/api/v1/sites/{POL_SITE}/amend",
            json={"reason": "wider", "kind": "power_plant", "radius_m": 20_000},
            headers=pol,
        ),
        client.post(
            "/api/v1/movements",
            json={
                "owner": "POL",
                "route": SOUTH_ROUTE,
                "width_m": 100_000,
                "start": "2025-01-01",
                "until": "2025-12-31",
                "id": "pol-wide-convoy",
            },
            headers=pol,
        ),
    ]
    return [response.status_code for response in attempts]


def _store_wide_objects_as_admin(client: TestClient, tokens: dict[str, str]) -> None:
    """What an admin may record (or what was stored before the limits): POL objects reaching over Kyiv."""
    admin = auth(tokens, "admin")
    amended = client.post(f"/api/v1/sites/{POL_SITE}/amend", json={"reason": "campus", "radius_m": 50_000,
                          "force": True}, headers=admin)  # fmt: skip
    assert amended.status_code == 200, amended.text
    added = client.post("/api/v1/sites", json={"id": "pol-campus", "name": "Polish campus", "kind": "embassy",
                        "owner": "POL", "lat": 50.4300, "lon": 30.5000, "footprint_wkt": KYIV_SQUARE,
                        "force": True}, headers=admin)  # fmt: skip
    assert added.status_code == 201, added.text
    movement = client.post("/api/v1/movements", json={"owner": "POL", "route": SOUTH_ROUTE, "width_m": 100_000,
                           "start": "2025-01-01", "until": "2025-12-31", "id": "pol-convoy"},
                           headers=admin)  # fmt: skip
    assert movement.status_code == 201, movement.text


@pytest.mark.slow
def test_no_scope_reads_another_owners_coordinates_before_and_after_an_owner_tries_to_widen_its_reach(
    world: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = world
    assert _leaks(client, tokens) == NO_LEAKS
    assert _escalate_as_owner(client, tokens) == [403] * 6
    assert _leaks(client, tokens) == NO_LEAKS


@pytest.mark.slow
def test_sites_and_corridors_stored_wider_than_an_owner_may_set_do_not_widen_its_exact_view(
    world: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = world
    _store_wide_objects_as_admin(client, tokens)
    assert _leaks(client, tokens) == NO_LEAKS
    pol = auth(tokens, "pol")
    strike = client.get("/api/v1/incidents/hit-0", headers=pol).json()  # at the AZE embassy
    assert strike["location_precision"] == "cell_0.01deg"
    matches = client.get("/api/v1/match?min_probability=0&limit=1000", headers=pol).json()["items"]
    assert "hit-0" not in {m["incident_id"] for m in matches}
    assert "hit-0" not in client.get("/api/v1/movements/pol-convoy/hits", headers=pol).text
    # an admin reads what was stored: the wide site's bundle holds the strike at the AZE embassy
    admin_bundle = client.get(f"/api/v1/sites/{POL_SITE}/evidence", headers=auth(tokens, "admin")).content
    assert any(SECRET_COORDS[AZE_EMBASSY.id][0] in text for text in _unzipped(admin_bundle))


def test_an_owner_may_register_a_site_up_to_the_limit_of_its_kind_and_an_admin_beyond(
    world: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = world
    site = {"name": "Polish hospital", "kind": "hospital", "owner": "POL", "lat": 50.4512, "lon": 30.5250,
            "force": True}  # fmt: skip
    limit = MAX_OWNER_REACH_M["hospital"]
    at_limit = client.post(
        "/api/v1/sites", json={**site, "id": "pol-h1", "radius_m": limit}, headers=auth(tokens, "pol")
    )
    assert at_limit.status_code == 201, at_limit.text
    beyond = client.post("/api/v1/sites", json={**site, "id": "pol-h2", "radius_m": limit + 1},
                         headers=auth(tokens, "pol"))  # fmt: skip
    assert beyond.status_code == 403
    error = beyond.json()["error"]
    assert error["where"] == "body.radius_m" or error["where"] == "radius_m"
    assert f"{limit:,.0f} m" in error["message"] and "admin" in error["message"]
    by_admin = client.post("/api/v1/sites", json={**site, "id": "pol-h2", "radius_m": limit + 1},
                           headers=auth(tokens, "admin"))  # fmt: skip
    assert by_admin.status_code == 201
    corridor = {"owner": "POL", "route": SOUTH_ROUTE, "start": "2025-01-01", "until": "2025-12-31"}
    assert client.post("/api/v1/movements", json={**corridor, "width_m": MAX_OWNER_WIDTH_M},
                       headers=auth(tokens, "pol")).status_code == 201  # fmt: skip
