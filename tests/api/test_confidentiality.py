"""A token of one owner never reads another owner's coordinates: directly, through search,
through analysis output, through reports or through bundles; analysts see only coarsened
locations; the public sees no coordinates at all."""

from __future__ import annotations

import io
import zipfile

import pytest
from fastapi.testclient import TestClient

from api.api_helpers import AZE_EMBASSY, HRV_EMBASSY, SECRET_COORDS, SITES, Fixture, auth
from deconflict.access import coarsen

HRV_SECRETS = [*SECRET_COORDS["hrv-embassy"], "Melnykova", "secret courtyard"]
AZE_SECRETS = [*SECRET_COORDS["aze-embassy"], *SECRET_COORDS["aze-consular"], "Hlybochytska"]
ALL_SECRETS = [text for site in SITES for text in SECRET_COORDS[site.id]]

REGISTRY_PATHS = [
    "/api/v1/sites?limit=1000",
    "/api/v1/sites?search=Croatia",
    "/api/v1/sites?search=Embassy",
    "/api/v1/sites?search=Київ",
    "/api/v1/sites?owner=HRV",
    "/api/v1/sites?near=50.455423,30.493271&within_m=200",
    "/api/v1/sites?near=50.460821,30.490562&within_m=200",
    "/api/v1/sites?near=50.45,30.5&within_m=50000",
    "/api/v1/sites/hrv-embassy",
    "/api/v1/sites/aze-embassy",
    "/api/v1/incidents?limit=1000",
    "/api/v1/incidents?near=50.455423,30.493271&within_m=100",
    "/api/v1/incidents/hit-2",
    "/api/v1/notifications",
    "/api/v1/match?limit=1000&min_probability=0",
    "/api/v1/analysis",
    "/api/v1/report",
    "/api/v1/log/entries?limit=1000",
]


def everything_readable(client: TestClient, db: Fixture, caller: str, bundles: list[str]) -> str:
    """All the text a caller can read through the API, bundles unzipped."""
    headers = auth(db.tokens, caller)
    texts = [client.get(path, headers=headers).text for path in REGISTRY_PATHS]
    for site_id in bundles:
        response = client.get(f"/api/v1/sites/{site_id}/evidence", headers=headers)
        assert response.status_code == 200, response.text
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            texts.extend(archive.read(name).decode("utf-8") for name in archive.namelist())
    return "\n".join(texts)


def test_the_secret_strings_are_really_readable_by_the_owner_so_the_leak_tests_mean_something(
    client: TestClient, api_db: Fixture
) -> None:
    own = everything_readable(client, api_db, "hrv", ["hrv-embassy"])
    assert all(secret in own for secret in HRV_SECRETS)


@pytest.mark.parametrize(
    ("caller", "bundles", "secrets"),
    [("aze", ["aze-embassy", "aze-consular"], HRV_SECRETS), ("hrv", ["hrv-embassy"], AZE_SECRETS)],
    ids=["AZE cannot read HRV", "HRV cannot read AZE"],
)
def test_an_owner_never_reads_another_owners_coordinates(
    client: TestClient, api_db: Fixture, caller: str, bundles: list[str], secrets: list[str]
) -> None:
    text = everything_readable(client, api_db, caller, bundles)
    leaked = [secret for secret in secrets if secret in text]
    assert leaked == []


def test_an_analyst_reads_only_coarsened_locations(client: TestClient, api_db: Fixture) -> None:
    text = everything_readable(client, api_db, "analyst", [])
    assert [secret for secret in ALL_SECRETS if secret in text] == []
    site = client.get("/api/v1/sites/hrv-embassy", headers=auth(api_db.tokens, "analyst")).json()
    assert (site["lat"], site["lon"]) == coarsen(HRV_EMBASSY.lat, HRV_EMBASSY.lon)
    assert site["location_precision"] == "cell_0.01deg"
    assert site["address"] is None and site["notes"] is None


def test_a_shrinking_search_radius_cannot_home_in_on_a_coarsened_site(client: TestClient, api_db: Fixture) -> None:
    exact = f"{HRV_EMBASSY.lat},{HRV_EMBASSY.lon}"
    admin = client.get(f"/api/v1/sites?near={exact}&within_m=60", headers=auth(api_db.tokens, "admin")).json()
    analyst = client.get(f"/api/v1/sites?near={exact}&within_m=60", headers=auth(api_db.tokens, "analyst")).json()
    assert "hrv-embassy" in [s["id"] for s in admin["items"]]
    assert "hrv-embassy" not in [s["id"] for s in analyst["items"]]  # the cell centre is 130 m away


def test_the_public_scope_reads_the_log_and_no_coordinates(client: TestClient, api_db: Fixture) -> None:
    headers = auth(api_db.tokens, "public")
    paths = ["/api/v1/log", "/api/v1/log/checkpoint", "/api/v1/log/entries?limit=1000",
             "/api/v1/log/tile/entries/000.p/11", "/api/v1/log/tile/0/000.p/11"]  # fmt: skip
    text = ""
    for path in paths:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, path
        text += response.content.decode("utf-8", errors="replace")
    assert [secret for secret in ALL_SECRETS if secret in text] == []
    assert '"lat"' not in text and "lat=" not in text


def test_an_owner_sees_its_own_site_exactly(client: TestClient, api_db: Fixture) -> None:
    site = client.get("/api/v1/sites/aze-embassy", headers=auth(api_db.tokens, "aze")).json()
    assert (site["lat"], site["lon"], site["location_precision"]) == (AZE_EMBASSY.lat, AZE_EMBASSY.lon, "exact")
    assert site["address"] == AZE_EMBASSY.address


def test_an_owner_sees_exactly_the_incidents_that_may_have_hit_its_sites_and_the_rest_coarsened(
    client: TestClient, api_db: Fixture
) -> None:
    items = client.get("/api/v1/incidents?limit=1000", headers=auth(api_db.tokens, "aze")).json()["items"]
    by_id = {i["id"]: i for i in items}
    assert by_id["hit-0"]["location_precision"] == "exact"  # at the AZE embassy
    assert by_id["hit-2"]["location_precision"] == "cell_0.01deg"  # at the HRV embassy


def test_match_and_analysis_rows_are_limited_to_visible_sites(client: TestClient, api_db: Fixture) -> None:
    headers = auth(api_db.tokens, "aze")
    matches = client.get("/api/v1/match?min_probability=0&limit=1000", headers=headers).json()["items"]
    analysis = client.get("/api/v1/analysis", headers=headers).json()["items"]
    assert {m["site_id"] for m in matches} <= {"aze-embassy", "aze-consular"}
    assert {"aze-embassy"} <= {m["site_id"] for m in matches}
    assert {row["site_id"] for row in analysis} == {"aze-embassy", "aze-consular"}
    analyst = client.get("/api/v1/match?min_probability=0&limit=1000", headers=auth(api_db.tokens, "analyst")).json()
    assert all(m["distance_m"] % 1000 == 0 for m in analyst["items"])
