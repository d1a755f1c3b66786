"""Dates shown as they were recorded: one function (times.format_span) for every door.

Each case records a notification with the CLI's own text in a database of a given timezone, reads
the span back from the log entry's bytes, and checks what every door shows for it.
"""

from __future__ import annotations

import re

import pytest

import deconflict
from api.api_helpers import ui_login
from deconflict.analysis import report_data
from deconflict.ledger.entries import decode_entry
from deconflict.model import Site
from deconflict.report import render_html
from deconflict.times import TimeSpan, format_span, parse_instant, zone

# (timezone, --at as given, what an ISO door shows, what the report shows)
CASES = [
    ("Europe/Kyiv", "2025-10-05", "2025-10-05", "05 Oct 2025"),
    ("America/New_York", "2025-10-05", "2025-10-05", "05 Oct 2025"),
    ("Europe/Kyiv", "2024-01-02/2025-08-27", "2024-01-02 to 2025-08-27", "between 02 Jan 2024 and 27 Aug 2025"),
    ("America/New_York", "2025-09-01/2025-09-15", "2025-09-01 to 2025-09-15", "between 01 Sep 2025 and 15 Sep 2025"),
    ("Europe/Kyiv", "2025-10-01T12:00Z", "2025-10-01 15:00 +03:00", "01 Oct 2025 15:00 UTC+03:00"),
    ("America/New_York", "2025-10-01T12:00Z", "2025-10-01 08:00 -04:00", "01 Oct 2025 08:00 UTC-04:00"),
    ("Europe/Kyiv", "2025-11", "2025-11", "November 2025"),
    ("America/New_York", "2025-W46", "week 2025-W46", "week 46 of 2025 (from 10 Nov 2025)"),
    ("Europe/Kyiv", "2025-10-01T12:00/2025-10-02T08:30", "2025-10-01 12:00 +03:00 to 2025-10-02 08:30 +03:00",
     "between 01 Oct 2025 12:00 UTC+03:00 and 02 Oct 2025 08:30 UTC+03:00"),
    # Across the end of summer time (26 Oct 2025 in Kyiv): each end with its own offset.
    ("Europe/Kyiv", "2025-10-25T20:00/2025-10-26T20:00", "2025-10-25 20:00 +03:00 to 2025-10-26 20:00 +02:00",
     "between 25 Oct 2025 20:00 UTC+03:00 and 26 Oct 2025 20:00 UTC+02:00"),
]  # fmt: skip


def _logged_span(db: deconflict.Database, index: int) -> TimeSpan:
    body = decode_entry(db.ledger.entry(index).data)["body"]["notified_at"]
    return TimeSpan(parse_instant(body["start"]), parse_instant(body["end"]), body["precision"])


@pytest.mark.parametrize(("tz", "given", "iso", "text"), CASES)
def test_a_logged_time_is_shown_as_recorded(tmp_path, tz, given, iso, text):
    db = deconflict.init(tmp_path / "t.db", timezone=tz)
    try:
        db.sites.add(Site(id="s", name="Site", kind="embassy", owner="AZE", lat=50.45, lon=30.52))
        _, index = db.notifications.notify(["s"], to="RUS", at=given)
        span = _logged_span(db, index)
        assert format_span(span, db.timezone) == iso
        assert format_span(span, db.timezone, "text") == text
        assert db.notifications.get(db.notifications.list()[0][0].id).to_json()["notified_at_text"] == iso
    finally:
        db.close()


def test_night_of_is_the_night_in_both_timezones():
    for tz in ("Europe/Kyiv", "America/New_York"):
        from deconflict.times import parse_time

        span = parse_time("2025-11-14", "night-of", zone(tz))
        assert format_span(span, tz) == "night of 2025-11-13/14"
        assert format_span(span, tz, "text") == "night of 13/14 Nov 2025"


def test_a_date_in_kyiv_is_not_shown_a_day_early_in_the_report_and_cli(tmp_path, runner):
    from deconflict.cli import app

    path = tmp_path / "k.db"
    db = deconflict.init(path, timezone="Europe/Kyiv")
    try:
        db.sites.add(Site(id="s", name="Site", kind="embassy", owner="AZE", lat=50.45, lon=30.52))
        db.notifications.notify(["s"], to="RUS", at="2025-10-05", id="ntf-day")
        db.notifications.notify(["s"], to="RUS", at="2024-01-02/2025-08-27", id="ntf-interval")
        html = render_html(report_data(db, db.analysis_options(), analysis=False))
    finally:
        db.close()
    visible = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    assert "05 Oct 2025" in visible and "04 Oct 2025" not in visible
    assert "between 02 Jan 2024 and 27 Aug 2025" in visible and "01 Jan 2024" not in visible
    listed = runner.invoke(app, ["--db", str(path), "notifications", "list"])
    assert listed.exit_code == 0 and "2025-10-05" in listed.stdout and "2025-10-04" not in listed.stdout
    assert "2024-01-02 to 2025-08-27" in listed.stdout


def test_the_ui_log_shows_both_ends_of_an_interval(tmp_path):
    from fastapi.testclient import TestClient

    from deconflict.access import create_token
    from deconflict.api import create_app

    path = tmp_path / "u.db"
    db = deconflict.init(path, timezone="Europe/Kyiv")
    try:
        db.sites.add(Site(id="s", name="Site", kind="embassy", owner="AZE", lat=50.45, lon=30.52))
        db.notifications.notify(["s"], to="RUS", at="2025-09-01/2025-09-15")
        token = create_token(db, ["admin"])
    finally:
        db.close()
    with TestClient(create_app(path)) as client:
        ui_login(client, token)
        page = client.get("/ui/log")
    assert page.status_code == 200 and "Transparency log" in page.text
    assert "notified to RUS 2025-09-01 to 2025-09-15" in page.text and "2025-08-31T21:00:00Z" not in page.text


def test_stored_text_is_shown_as_the_span_it_holds_in_the_database_timezone() -> None:
    from deconflict.times import format_stored

    kyiv = "Europe/Kyiv"
    # An instant, an interval of whole local days, nothing.
    assert format_stored("2026-03-31T21:00:00Z", kyiv) == "2026-04-01 00:00 +03:00"
    assert format_stored("2026-02-13T22:00:00Z/2026-02-28T22:00:00Z", kyiv) == "2026-02-14 to 2026-02-28"
    assert format_stored("2026-02-13T22:00:00Z/2026-02-28T22:00:00Z", kyiv, "text") == (
        "between 14 Feb 2026 and 28 Feb 2026"
    )
    assert format_stored(None, kyiv, empty="open-ended") == "open-ended"
    assert format_stored("2025-10-01T12:00:00Z", "UTC") == "2025-10-01 12:00 UTC"
