"""What the resources do: register, notify, acknowledge, import, paginate, report, bundle."""

from __future__ import annotations

import io
import zipfile

from fastapi.testclient import TestClient

import deconflict
from api.api_helpers import Fixture, auth
from deconflict.ledger.bundle import verify_bundle


def test_a_notification_is_a_log_entry_and_can_be_acknowledged(fresh_client: TestClient, fresh: Fixture) -> None:
    headers = auth(fresh.tokens, "aze")
    size = fresh_client.get("/api/v1/log").json()["size"]
    body = {"site_ids": ["aze-embassy", "aze-consular"], "recipient": "rus", "notified_at": "2025-11-20T10:00Z",
            "channel": "note-verbale", "reference": "AZE-2025-7"}  # fmt: skip
    created = fresh_client.post("/api/v1/notifications", headers=headers, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["log_index"] == size
    entry = fresh_client.get(f"/api/v1/log/entries/{size}").json()["entry"]
    assert entry["kind"] == "notification" and entry["body"]["sender"] == "AZE" and entry["body"]["recipient"] == "RUS"
    notification = fresh_client.get(f"/api/v1/notifications/{created.json()['id']}", headers=headers).json()
    assert notification["notified_at"]["start"] == "2025-11-20T10:00:00Z"
    ack = fresh_client.post(f"/api/v1/notifications/{created.json()['id']}/acknowledgements", headers=headers,
                            json={"by": "RUS", "at": "2025-11-21", "reference": "RU-1"})  # fmt: skip
    assert ack.status_code == 201 and ack.json()["log_index"] == size + 1
    acks = fresh_client.get("/api/v1/acknowledgements", headers=headers).json()["items"]
    assert [a["id"] for a in acks] == [ack.json()["id"]]


def test_an_owner_cannot_send_in_another_owners_name(fresh_client: TestClient, fresh: Fixture) -> None:
    body = {"site_ids": ["aze-embassy"], "recipient": "RUS", "notified_at": "2025-11-20", "sender": "HRV"}
    response = fresh_client.post("/api/v1/notifications", headers=auth(fresh.tokens, "aze"), json=body)
    assert response.status_code == 400 and response.json()["error"]["where"] == "body.sender"


def test_listings_paginate_without_gaps_or_repeats(client: TestClient, api_db: Fixture) -> None:
    headers = auth(api_db.tokens, "admin")
    seen, offset = [], 0
    while offset is not None:
        page = client.get(f"/api/v1/incidents?limit=7&offset={offset}", headers=headers).json()
        assert len(page["items"]) <= 7
        seen.extend(i["id"] for i in page["items"])
        offset = page["next_offset"]
    assert len(seen) == len(set(seen)) == 83


def test_incidents_upload_as_json_batch_and_as_a_file_each_one_log_entry(
    fresh_client: TestClient, fresh: Fixture
) -> None:
    headers = auth(fresh.tokens, "admin")
    size = fresh_client.get("/api/v1/log").json()["size"]
    batch = [{"id": f"api-{n}", "time": "2025-11-14", "time_precision": "night-of", "lat": 50.44, "lon": 30.5 + n / 100,
              "uncertainty_m": 250, "confidence": "fair"} for n in range(3)]  # fmt: skip
    assert fresh_client.post("/api/v1/incidents", headers=headers, json=batch).json()["added"] == 3
    csv_text = "id,time,lat,lon,uncertainty_m\nup-1,2025-11-15,50.45,30.52,100\nup-2,2025-11-16,50.46,30.53,100\n"
    imported = fresh_client.post("/api/v1/incidents/import?filename=strikes.csv", headers=headers,
                                 content=csv_text, )  # fmt: skip
    assert imported.status_code == 201 and imported.json()["added"] == 2
    assert fresh_client.get("/api/v1/log").json()["size"] == size + 2
    night = fresh_client.get("/api/v1/incidents/api-0", headers=headers).json()["time"]
    assert night["precision"] == "night-of"


def test_a_refused_upload_names_the_row_and_changes_nothing(fresh_client: TestClient, fresh: Fixture) -> None:
    headers = auth(fresh.tokens, "admin")
    size = fresh_client.get("/api/v1/log").json()["size"]
    bad = "id,time,lat,lon\nok-1,2025-11-15,50.45,30.52\nbad-1,2025-11-15,95,30.52\n"
    response = fresh_client.post("/api/v1/incidents/import?filename=bad.csv", headers=headers, content=bad)
    assert response.status_code == 400
    error = response.json()["error"]
    assert "bad.csv" in error["where"] and "row 3" in error["where"] and "/tmp" not in str(error)
    assert fresh_client.get("/api/v1/log").json()["size"] == size


def test_a_site_registered_by_its_owner_is_committed_to_the_log(fresh_client: TestClient, fresh: Fixture) -> None:
    body = {"name": "Cultural centre", "kind": "cultural_centre", "owner": "AZE", "lat": 50.45, "lon": 30.51,
            "names": {"uk": "Культурний центр"}}  # fmt: skip
    created = fresh_client.post("/api/v1/sites", headers=auth(fresh.tokens, "aze"), json=body).json()
    assert created["location_precision"] == "exact" and created["radius_m"] == 30.0
    found = fresh_client.get("/api/v1/sites?search=Культурний", headers=auth(fresh.tokens, "aze")).json()["items"]
    assert [s["id"] for s in found] == [created["id"]]
    last = fresh_client.get("/api/v1/log").json()["size"] - 1
    assert fresh_client.get(f"/api/v1/log/entries/{last}").json()["entry"]["body"]["site_id"] == created["id"]


def test_the_evidence_bundle_verifies_offline(client: TestClient, api_db: Fixture) -> None:
    response = client.get("/api/v1/sites/aze-embassy/evidence", headers=auth(api_db.tokens, "aze"))
    assert response.headers["content-type"] == "application/zip"
    vkey = client.get("/api/v1/log").json()["verifier_key"]
    report = verify_bundle(response.content, vkey)
    assert report.site_id == "aze-embassy"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert "site.json" in archive.namelist()


def test_the_report_is_offline_html_of_what_the_scope_may_see(client: TestClient, api_db: Fixture) -> None:
    response = client.get("/api/v1/report", headers=auth(api_db.tokens, "aze"))
    assert response.headers["content-type"].startswith("text/html")
    assert "attachment" in response.headers["content-disposition"]
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "Embassy of Azerbaijan" in response.text and "Embassy of Croatia" not in response.text


def test_analysis_rows_carry_the_statistics_and_their_assumptions(client: TestClient, api_db: Fixture) -> None:
    body = client.get("/api/v1/analysis?site_id=aze-embassy", headers=auth(api_db.tokens, "admin")).json()
    (row,) = body["items"]
    assert row["observed_after"] == 2 and row["p_value_after"] < 0.01
    assert body["assumptions"] and body["seed"] == 20251114


def test_the_server_reads_what_the_library_wrote(fresh: Fixture) -> None:
    with deconflict.open(fresh.path) as db:
        assert db.ledger.verify().size == 11
