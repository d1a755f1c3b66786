"""The API and UI label synthetic data and approximate locations, as the CLI and report do."""

from __future__ import annotations

from api.api_helpers import auth, ui_login


def test_analysis_carries_the_synthetic_label_and_site_names(client, api_db):
    body = client.get("/api/v1/analysis", headers=auth(api_db.tokens, "aze")).json()
    assert any(label.startswith("SYNTHETIC") for label in body["data_labels"])
    row = next(r for r in body["items"] if r["site_id"] == "aze-embassy")
    assert row["owner"] == "AZE" and row["name"] and "approximate_location" in row
    assert any(label.startswith("SYNTHETIC") for label in row["data_labels"])


def test_matches_say_where_each_incident_comes_from(client, api_db):
    items = client.get("/api/v1/match", headers=auth(api_db.tokens, "admin")).json()["items"]
    assert {m["provenance"] for m in items} <= {"synthetic", "reported"}
    assert any(m["provenance"] == "reported" for m in items)


def test_ui_analysis_page_shows_the_synthetic_notice(client, api_db):
    client.cookies.clear()
    login = ui_login(client, api_db.tokens["aze"])
    assert login.status_code in (302, 303)
    page = client.get("/ui/analysis")
    assert page.status_code == 200 and "SYNTHETIC" in page.text
