"""The UI's incident list: pages, filters (time, confidence, status, near a site), errors next to the field.

The same library call as ``GET /api/v1/incidents`` (:func:`deconflict.access.visible_incidents`),
so the UI lists what the API lists for the same token and filters.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api.api_helpers import Fixture, auth, ui_login


def rows(html: str) -> list[str]:
    """Ids of the incidents in the page's table."""
    body = html.split('<table id="incident-table">')[1]
    return re.findall(r"<tr><td>([\w.:-]+)</td>", body)


def sign_in(client: TestClient, api_db: Fixture, who: str) -> None:
    client.cookies.clear()
    assert ui_login(client, api_db.tokens[who]).status_code == 303


def test_incidents_come_a_hundred_a_page_with_links_both_ways(client: TestClient, api_db: Fixture) -> None:
    sign_in(client, api_db, "admin")
    first = client.get("/ui/incidents").text
    assert len(rows(first)) == 83 and "83 incident(s) stored" in first  # 80 background + 3 hits: one page
    every = [
        i["id"]
        for i in client.get("/api/v1/incidents?limit=1000", headers=auth(api_db.tokens, "admin")).json()["items"]
    ]
    assert rows(first) == every
    paged = client.get("/ui/incidents?offset=50").text
    assert rows(paged) == every[50:] and 'href="/ui/incidents?offset=0"' in paged and 'rel="next"' not in paged
    assert "Showing 51–83" in paged
    client.cookies.clear()


def test_filters_give_what_the_api_gives(client: TestClient, api_db: Fixture) -> None:
    sign_in(client, api_db, "aze")
    query = "start=2025-06-01&end=2025-12-31&status=confirmed&near_site=aze-embassy&within_m=300"
    page = client.get(f"/ui/incidents?{query}").text
    api = client.get(f"/api/v1/incidents?{query}&limit=1000", headers=auth(api_db.tokens, "aze")).json()["items"]
    assert rows(page) == [i["id"] for i in api] and {"hit-0", "hit-1"} <= set(rows(page))
    assert 'value="2025-06-01"' in page and '<option value="aze-embassy" selected>' in page  # the filters are kept
    assert rows(client.get("/ui/incidents?confidence=discounted").text) == []
    client.cookies.clear()


def test_an_analyst_searches_near_a_site_as_it_sees_it(client: TestClient, api_db: Fixture) -> None:
    sign_in(client, api_db, "analyst")
    page = client.get("/ui/incidents?near_site=hrv-embassy&within_m=1500").text
    api = client.get("/api/v1/incidents?near_site=hrv-embassy&within_m=1500&limit=1000",
                     headers=auth(api_db.tokens, "analyst")).json()["items"]  # fmt: skip
    assert rows(page) == [i["id"] for i in api] and "hit-2" in rows(page)
    assert all(i["location_precision"] == "cell_0.01deg" for i in api)
    client.cookies.clear()


def test_a_bad_filter_is_named_next_to_its_field_and_kept(client: TestClient, api_db: Fixture) -> None:
    sign_in(client, api_db, "aze")
    bad = client.get("/ui/incidents?start=last+tuesday&within_m=far")
    assert bad.status_code == 400
    assert re.search(r'id="within_m-error">distance must be a number', bad.text)
    assert 'value="last tuesday"' in bad.text and 'value="far"' in bad.text
    start = client.get("/ui/incidents?start=last+tuesday").text
    assert re.search(r'<input id="start" [^>]*aria-invalid="true"', start) and 'id="start-error">' in start
    unknown = client.get("/ui/incidents?near_site=hrv-embassy&within_m=100")  # AZE may not see HRV's site
    assert unknown.status_code == 404 and "no site with id &#39;hrv-embassy&#39;" in unknown.text
    assert 'id="near_site-error">' in unknown.text
    api = client.get("/api/v1/incidents?confidence=sure", headers=auth(api_db.tokens, "aze"))
    assert api.status_code == 400 and api.json()["error"]["where"] == "query.confidence"
    client.cookies.clear()
