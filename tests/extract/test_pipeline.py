"""The pipeline: candidates point back at their words, negations, claims, conversion."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import deconflict.extract as extract
from deconflict.errors import NotFound
from deconflict.extract import extract_paths, extract_report, to_incidents
from deconflict.model import Site

KYIV = ZoneInfo("Europe/Kyiv")
TEXT = (
    "Russian Shahed drones struck Kyiv in the night of 14 November. "
    "The embassy of Portugal was damaged. The embassy of Argentina was not damaged. "
    "On 15 November Lisbon summoned the Russian ambassador."
)


def test_the_public_names_are_exactly_the_intended_ones() -> None:
    assert set(extract.__all__) == {
        "DateMention", "DiplomaticResponse", "Evidence", "ExtractionResult", "FieldScore",
        "IncidentCandidate", "NotificationClaim", "PlaceMention", "Report", "SiteMention",
        "SiteResolver", "evaluate", "extract_paths", "extract_report", "find_dates", "find_places",
        "format_table", "html_to_text", "lookup_city", "publication_date", "read_report", "to_incidents",
    }  # fmt: skip


def test_every_candidate_quotes_exactly_the_words_at_its_span(sites: list[Site]) -> None:
    result = extract_report(TEXT, sites=sites, report_date=date(2025, 11, 15), local=KYIV)
    candidates = [*result.incidents, *result.notifications, *result.responses]
    assert candidates
    for candidate in candidates:
        start, end = candidate.span
        assert TEXT[start:end] == candidate.quote
        assert candidate.source_sha256 == hashlib.sha256(TEXT.encode()).hexdigest()
        assert 0.0 <= candidate.confidence <= 1.0
    for incident in result.incidents:
        for evidence in incident.evidence:
            assert TEXT[evidence.span[0] : evidence.span[1]] == evidence.quote


def test_a_negated_damage_phrase_does_not_make_the_site_hit(sites: list[Site]) -> None:
    (incident,) = extract_report(TEXT, sites=sites, report_date=date(2025, 11, 15), local=KYIV).incidents
    assert incident.sites_hit == ("prt-emb",)
    assert incident.sites_not_hit == ("arg-emb",)
    assert (incident.time and incident.time.precision, incident.weapons) == ("night-of", ("Shahed",))


def test_a_summoned_ambassador_is_a_response_with_date_and_parties(sites: list[Site]) -> None:
    (response,) = extract_report(TEXT, sites=sites, report_date=date(2025, 11, 16)).responses
    assert (response.kind, response.date, set(response.parties)) == (
        "summons",
        date(2025, 11, 15),
        {"PRT", "RUS"},
    )


def test_two_dated_strikes_in_one_report_are_two_candidates(sites: list[Site]) -> None:
    text = "Drones attacked Odesa last night. In Kyiv, in the night of 27 December, missile debris damaged the embassy of Azerbaijan."
    result = extract_report(text, sites=sites, report_date=date(2025, 12, 28), local=KYIV)
    places = sorted((c.time.start.date().isoformat(), c.city) for c in result.incidents if c.time)
    assert [city for _, city in places] == ["Kyiv", "Odesa"]


def test_a_claim_sentence_only_account_is_marked_as_the_claimants(sites: list[Site]) -> None:
    text = "According to the Russian defence ministry, drones struck energy facilities in Kyiv in the night of 14 November."
    (incident,) = extract_report(text, sites=sites, report_date=date(2025, 11, 15)).incidents
    assert incident.claimed_by == "RUS"
    assert to_incidents(extract_report(text, sites=sites, report_date=date(2025, 11, 15)))[0].confidence == "contested"


def test_notification_bounds_come_from_the_strikes_the_text_names(sites: list[Site]) -> None:
    text = (
        "The embassy of Azerbaijan in Kyiv was hit in the night of 21 August 2025 and in the night of 14 November 2025. "
        "After the first attack Baku gave the Russian side the coordinates of the embassy. Two more hits followed."
    )
    (claim,) = extract_report(text, sites=sites, report_date=date(2026, 1, 5), local=KYIV).notifications
    assert (claim.site_ids, claim.recipient, claim.sender) == (("aze-emb",), "RUS", "AZE")
    assert claim.not_before is not None and claim.not_after is not None
    assert claim.not_before.astimezone(KYIV).isoformat() == "2025-08-21T06:00:00+03:00"
    assert claim.not_after.astimezone(KYIV).isoformat() == "2025-11-13T18:00:00+02:00"
    assert claim.notified_at is not None and claim.notified_at.precision == "interval"


def test_to_incidents_makes_unverified_extracted_records_with_the_source_hash(sites: list[Site]) -> None:
    result = extract_report(TEXT, sites=sites, report_date=date(2025, 11, 15), source_sha256="ab" * 32)
    (incident,) = to_incidents(result)
    assert (incident.status, incident.provenance, incident.counted) == ("unverified", "extracted", False)
    assert incident.source.sha256 == "ab" * 32
    assert incident.kind == "drone" and incident.uncertainty_m > 1000


def test_the_result_is_json_serialisable(sites: list[Site]) -> None:
    result = extract_report(TEXT, sites=sites, report_date=date(2025, 11, 15))
    decoded = json.loads(json.dumps(result.to_json()))
    assert decoded["incidents"][0]["time_precision"] == "night-of"
    assert decoded["incidents"][0]["sites_hit"] == ["prt-emb"]


def test_extract_paths_reads_html_and_text_in_a_folder_with_the_file_hash(sites: list[Site], tmp_path: Path) -> None:
    page = (
        '<html><head><meta name="date" content="2025-11-15"></head><body><nav>Menu</nav>'
        "<p>Drones struck Kyiv last night &amp; damaged the embassy of Portugal.</p></body></html>"
    )
    (tmp_path / "a.html").write_text(page, encoding="utf-8")
    (tmp_path / "b.txt").write_text("Date: 2025-11-15\nNothing happened.", encoding="utf-8")
    (tmp_path / "c.bin").write_bytes(b"\x00")
    results = extract_paths([tmp_path], sites=sites)
    assert [Path(r.path or "").name for r in results] == ["a.html", "b.txt"]
    html_result = results[0]
    assert html_result.source_sha256 == hashlib.sha256(page.encode()).hexdigest()
    assert html_result.report_date == date(2025, 11, 15)
    assert html_result.incidents[0].sites_hit == ("prt-emb",)
    assert "Menu" not in html_result.text


def test_extract_paths_names_a_missing_path(sites: list[Site], tmp_path: Path) -> None:
    with pytest.raises(NotFound) as raised:
        extract_paths([tmp_path / "nope.txt"], sites=sites)
    assert "nope.txt" in str(raised.value)


@pytest.mark.parametrize(
    "text",
    [
        "KYIV, Nov 14 (Reuters) - A Russian missile strike overnight damaged the embassy of Portugal in Kyiv, "
        "the foreign ministry said, adding that Baku had handed Moscow the coordinates of its embassy.",
        "КИЇВ, 14 листопада - Російська ракета вночі пошкодила посольство Португалії в Києві, заявили в МЗС, "
        "додавши, що Баку передав Москві координати свого посольства.",
        "KIEW, 14. November - Eine russische Rakete beschädigte in der Nacht die Botschaft Portugals in Kiew, "
        "teilte das Außenministerium mit; Baku habe Moskau die Koordinaten seiner Botschaft übermittelt.",
    ],
)
def test_a_strike_and_a_notification_joined_in_one_sentence_are_both_read(sites: list[Site], text: str) -> None:
    # Wire copy joins the second statement with "adding that" / "додавши, що" / a semicolon: the
    # strike keeps its site, and the claim names the sender's site, not the one struck.
    result = extract_report(text, sites=sites, report_date=date(2025, 11, 14), local=KYIV)
    assert [c.sites_hit for c in result.incidents] == [("prt-emb",)]
    assert len(result.notifications) == 1
    claim = result.notifications[0]
    assert claim.sender == "AZE" and claim.recipient == "RUS"
    assert claim.site_ids == ("aze-emb",)
    assert text[claim.span[0] : claim.span[1]] == claim.quote and "prt-emb" not in claim.site_ids


def test_an_attack_that_bounds_a_notification_stays_in_its_sentence(sites: list[Site]) -> None:
    # "After the first attack" dates the claim; it is no second statement and no strike of its own.
    text = (
        "The embassy of Azerbaijan was hit on 21 August. After the first attack we gave the Russian side the "
        "coordinates of our embassy, the ambassador of Azerbaijan said on 15 November. Two more attacks "
        "followed, on 14 November."
    )
    result = extract_report(text, sites=sites, report_date=date(2025, 11, 15), local=KYIV)
    assert [c.span[0] for c in result.incidents] == [0, text.index("Two more")]
    [claim] = result.notifications
    assert claim.site_ids == ("aze-emb",)
    assert claim.not_before is not None and claim.not_before.date() == date(2025, 8, 21)
    assert claim.not_after is not None and claim.not_after.date() == date(2025, 11, 13)


def test_in_quoted_words_the_embassy_is_the_speaking_states(sites: list[Site]) -> None:
    text = (
        "Russian drones damaged the embassy of Azerbaijan and the embassy of Portugal in Kyiv on 14 November. "
        '"The embassy was hit despite the notification," a spokesman of the foreign ministry of Azerbaijan said.'
    )
    result = extract_report(text, sites=sites, report_date=date(2025, 11, 15), local=KYIV)
    quoted = [m for m in result.site_mentions if m.quote.lower() == "embassy"]
    assert [(m.owner, m.site_id, m.via) for m in quoted] == [("AZE", "aze-emb", "speaker")]
