"""The UI's forms: a confirmation step before the log, input kept and errors next to their field.

Through the app (TestClient) over a private database copy; the browser tests drive the same
forms in Chromium. Every write is checked in the log itself (its size), not in the page only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

import deconflict
from api.api_helpers import Fixture, ui_login


def log_size(fresh: Fixture) -> int:
    db = deconflict.open(fresh.path, key_file=fresh.key_file)
    try:
        return db.ledger.size
    finally:
        db.close()


def signed_in(client: TestClient, fresh: Fixture, who: str) -> str:
    """Sign ``client`` in as the token ``who``; returns the CSRF token of its forms."""
    client.cookies.clear()
    assert ui_login(client, fresh.tokens[who]).status_code == 303
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/ui/notify").text)
    return found.group(1) if found else ""


def field_error(html: str, name: str) -> str:
    """The error shown next to field ``name`` (the field must point at it with aria-describedby)."""
    tag = re.search(
        rf'<(?:input|textarea|select|fieldset)[^>]*(?:id="{name}"|aria-describedby="{name}-error)[^>]*>', html
    )
    assert tag and 'aria-invalid="true"' in tag.group(0), f"field {name} is not marked invalid"
    found = re.search(rf'<p class="error field-error" id="{name}-error">([^<]*)</p>', html)
    assert found, f"no error next to {name}"
    return found.group(1)


@pytest.fixture
def ui(fresh_client: TestClient) -> Iterator[TestClient]:
    yield fresh_client
    fresh_client.cookies.clear()


NOTE = {"site_ids": ["aze-embassy"], "recipient": "RUS", "notified_at": "2025-12-24T09:00Z",
        "channel": "note-verbale", "reference": "AZE-FORM-1", "text": "Please respect the premises."}  # fmt: skip


def test_a_notification_is_confirmed_before_it_is_logged(ui: TestClient, fresh: Fixture) -> None:
    csrf = signed_in(ui, fresh, "aze")
    before = log_size(fresh)
    review = ui.post("/ui/notify", data={**NOTE, "csrf": csrf})
    assert review.status_code == 200 and "This is permanent" in review.text
    assert "AZE-FORM-1" in review.text and 'name="confirmed" value="yes"' in review.text
    assert log_size(fresh) == before  # nothing written yet
    back = ui.post("/ui/notify", data={**NOTE, "csrf": csrf, "confirmed": "edit"})
    assert 'value="AZE-FORM-1"' in back.text and 'value="aze-embassy" checked' in back.text
    assert log_size(fresh) == before
    done = ui.post("/ui/notify", data={**NOTE, "csrf": csrf, "confirmed": "yes"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/ui/log?highlight={before}"
    assert log_size(fresh) == before + 1


def test_a_refused_notification_keeps_the_input_and_names_the_field(ui: TestClient, fresh: Fixture) -> None:
    csrf = signed_in(ui, fresh, "aze")
    before = log_size(fresh)
    bad = ui.post("/ui/notify", data={**NOTE, "recipient": "R1S", "csrf": csrf, "confirmed": "yes"})
    assert bad.status_code == 400
    assert "ISO 3166-1 alpha-3" in field_error(bad.text, "recipient")
    assert 'value="R1S"' in bad.text and 'value="AZE-FORM-1"' in bad.text and "Please respect the premises." in bad.text
    bad_time = ui.post("/ui/notify", data={**NOTE, "notified_at": "yesterday", "csrf": csrf, "confirmed": "yes"})
    assert "ISO 8601" in field_error(bad_time.text, "notified_at") and 'value="yesterday"' in bad_time.text
    none = ui.post("/ui/notify", data={**NOTE, "site_ids": [], "csrf": csrf, "confirmed": "yes"})
    assert none.status_code == 400 and "at least one site" in none.text
    forged = ui.post("/ui/notify", data={**NOTE, "csrf": "forged", "confirmed": "yes"})
    assert forged.status_code == 403 and "form expired" in forged.text and 'value="AZE-FORM-1"' in forged.text
    assert log_size(fresh) == before


def test_an_implausible_notification_is_recorded_only_when_forced(ui: TestClient, fresh: Fixture) -> None:
    csrf = signed_in(ui, fresh, "aze")
    before = log_size(fresh)
    future = {**NOTE, "notified_at": "2031-01-01T00:00Z", "csrf": csrf, "confirmed": "yes"}
    warned = ui.post("/ui/notify", data=future)
    assert warned.status_code == 400 and "in the future" in warned.text and 'name="force" value="yes"' in warned.text
    assert log_size(fresh) == before
    forced = ui.post("/ui/notify", data={**future, "force": "yes"}, follow_redirects=False)
    assert forced.status_code == 303 and log_size(fresh) == before + 1


SITE = {"name": "Residence of the Ambassador", "kind": "residence", "lat": "50.4589", "lon": "30.4977",
        "radius_m": "", "address": "Volodymyrska 3", "city": "Kyiv", "notes": "gate on the left"}  # fmt: skip


def test_an_owner_registers_a_site_after_confirming(ui: TestClient, fresh: Fixture) -> None:
    csrf = signed_in(ui, fresh, "aze")
    form = ui.get("/ui/sites/new").text
    assert 'name="owner" value="AZE"' in form  # an owner registers its own sites only
    before = log_size(fresh)
    review = ui.post("/ui/sites/new", data={**SITE, "owner": "AZE", "csrf": csrf})
    assert "This is permanent" in review.text and "Residence of the Ambassador" in review.text
    assert log_size(fresh) == before
    done = ui.post("/ui/sites/new", data={**SITE, "owner": "AZE", "csrf": csrf, "confirmed": "yes"},
                   follow_redirects=False)  # fmt: skip
    assert done.status_code == 303 and log_size(fresh) == before + 1
    site_id = done.headers["location"].split("registered=")[1]
    listed = ui.get(done.headers["location"]).text
    assert f"Site {site_id} registered" in listed and "Residence of the Ambassador" in listed
    assert f'href="/ui/sites/{site_id}/edit"' in listed


def test_a_refused_site_keeps_the_input_and_names_the_field(ui: TestClient, fresh: Fixture) -> None:
    csrf = signed_in(ui, fresh, "aze")
    before = log_size(fresh)
    typo = ui.post("/ui/sites/new", data={**SITE, "owner": "AZE", "lat": "50,45x", "csrf": csrf, "confirmed": "yes"})
    assert typo.status_code == 400 and "must be a number" in field_error(typo.text, "lat")
    assert 'value="Residence of the Ambassador"' in typo.text and "gate on the left" in typo.text
    outside = ui.post("/ui/sites/new", data={**SITE, "owner": "AZE", "lat": "95", "csrf": csrf, "confirmed": "yes"})
    assert outside.status_code == 400 and "outside [-90, 90]" in field_error(outside.text, "lat")
    radius = ui.post("/ui/sites/new", data={**SITE, "owner": "AZE", "radius_m": "-5", "csrf": csrf, "confirmed": "yes"})
    assert "radius_m must be" in field_error(radius.text, "radius_m") and 'value="-5"' in radius.text
    other = ui.post("/ui/sites/new", data={**SITE, "owner": "HRV", "csrf": csrf, "confirmed": "yes"})
    assert other.status_code == 403 and "owner HRV" in other.text
    assert log_size(fresh) == before


def test_an_owner_amends_its_site_with_a_reason(ui: TestClient, fresh: Fixture) -> None:
    csrf = signed_in(ui, fresh, "aze")
    form = ui.get("/ui/sites/aze-embassy/edit").text
    assert 'value="Embassy of Azerbaijan"' in form and 'value="50.460821"' in form
    values = dict(re.findall(r'<input id="(\w+)" name="\w+" value="([^"]*)"', form))
    values.update(name="Embassy of the Republic of Azerbaijan", kind="embassy", csrf=csrf)
    before = log_size(fresh)
    no_reason = ui.post("/ui/sites/aze-embassy/edit", data={**values, "confirmed": "yes"})
    assert no_reason.status_code == 400 and "needs a reason" in field_error(no_reason.text, "reason")
    assert 'value="Embassy of the Republic of Azerbaijan"' in no_reason.text
    values["reason"] = "the official name"
    review = ui.post("/ui/sites/aze-embassy/edit", data=values)
    assert "This is permanent" in review.text
    assert "Embassy of Azerbaijan → Embassy of the Republic of Azerbaijan" in review.text
    assert "Latitude" not in review.text  # only what changes
    done = ui.post("/ui/sites/aze-embassy/edit", data={**values, "confirmed": "yes"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/ui/log?highlight={before}"
    assert log_size(fresh) == before + 1
    assert "site aze-embassy amended" in ui.get(done.headers["location"]).text
    same = ui.post("/ui/sites/aze-embassy/edit", data={**values, "confirmed": "yes"})
    assert same.status_code == 400 and "changes nothing" in same.text


def test_sites_of_another_owner_and_analysts_cannot_be_amended(ui: TestClient, fresh: Fixture) -> None:
    signed_in(ui, fresh, "aze")
    assert ui.get("/ui/sites/hrv-embassy/edit").status_code == 404  # not even visible to AZE
    assert "/ui/sites/hrv-embassy/edit" not in ui.get("/ui/sites").text
    signed_in(ui, fresh, "analyst")
    assert ui.get("/ui/sites/aze-embassy/edit").status_code == 403
    assert ui.get("/ui/sites/new").status_code == 403
    assert "/edit" not in ui.get("/ui/sites").text


def test_the_analysis_page_streams_its_progress_then_the_results(ui: TestClient, fresh: Fixture) -> None:
    signed_in(ui, fresh, "aze")
    with ui.stream("GET", "/ui/analysis") as response:
        assert response.status_code == 200
        chunks = [chunk for chunk in response.iter_text() if chunk]
    page = "".join(chunks)
    first_step = page.index('<p class="step">')
    assert (
        page.index('id="progress"') < first_step < page.index('id="analysis-done"') < page.index('id="analysis-table"')
    )
    assert "statistics" in page[first_step:] and "aze-embassy" in page and "SYNTHETIC" in page
    assert page.rstrip().endswith("</html>") and len(chunks) > 3
