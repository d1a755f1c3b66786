"""Which reports are proposed as one strike (deconflict.duplicates), and what a merge keeps."""

from __future__ import annotations

from deconflict.duplicates import find_duplicates, merged_incident
from deconflict.model import Incident, Source
from deconflict.times import parse_time


def _inc(id: str, time: str, lat: float, lon: float, unc: float = 100.0, **kw) -> Incident:
    return Incident(id=id, time=parse_time(time), lat=lat, lon=lon, uncertainty_m=unc, **kw)


def test_overlapping_reports_within_their_uncertainties_from_different_sources_are_one_group():
    a = _inc("a", "2025-11-14T01:00Z", 50.4500, 30.5000, 50, kind="missile", source=Source("https://a"))
    b = _inc("b", "2025-11-14", 50.4505, 30.5004, 200, kind="Missile")  # a day contains the instant
    c = _inc("c", "2025-11-14T01:00Z", 50.4508, 30.5009, 100)  # chained through b
    groups = find_duplicates([a, b, c], {"a": 1, "b": 2, "c": 3})
    assert [g.incident_ids for g in groups] == [("a", "b", "c")] and groups[0].keep == "a"
    assert groups[0].reasons


def test_reports_that_are_not_one_strike_are_not_proposed():
    base = _inc("a", "2025-11-14T01:00Z", 50.45, 30.50, 50, kind="missile", weapon="Kh-101")
    others = [
        _inc("far", "2025-11-14T01:00Z", 50.46, 30.50, 50),  # 1.1 km apart, 100 m of uncertainty
        _inc("later", "2025-11-15T01:00Z", 50.45, 30.50, 50),  # another day
        _inc("drone", "2025-11-14T01:00Z", 50.45, 30.50, 50, kind="drone", weapon="Shahed"),  # another kind
        _inc("weapon", "2025-11-14T01:00Z", 50.45, 30.50, 50, kind="missile", weapon="Kh-22"),
        _inc("vague", "2025-11", 50.45, 30.50, 50),  # a month: too vague
        _inc("wide", "2025-11-14T01:00Z", 50.45, 30.50, 20_000),  # 20 km: too vague
    ]
    assert find_duplicates([base, *others], {i.id: k for k, i in enumerate([base, *others])}) == []


def test_reports_of_one_batch_or_one_document_are_distinct_events():
    a = _inc("a", "2025-11-14T01:00Z", 50.45, 30.50, source=Source("https://same"))
    b = _inc("b", "2025-11-14T01:00Z", 50.45, 30.50, source=Source("https://same"))
    c = _inc("c", "2025-11-14T01:00Z", 50.45, 30.50)
    d = _inc("d", "2025-11-14T01:00Z", 50.45, 30.50)
    assert find_duplicates([a, b], {"a": 1, "b": 2}) == []  # one document: a salvo
    assert find_duplicates([c, d], {"c": 5, "d": 5}) == []  # one import batch


def test_merged_incident_takes_the_most_precise_place_and_time_and_every_source():
    a = _inc("a", "2025-11-14", 50.4500, 30.5000, 300, source=Source("https://a"), kind="missile")
    b = _inc("b", "2025-11-14T01:00Z", 50.4503, 30.5001, 20, source=Source("https://b"))
    merged = merged_incident([a, b], keep="a")
    assert merged.id == "a" and (merged.lat, merged.uncertainty_m) == (50.4503, 20.0)
    assert merged.time == b.time and merged.kind == "missile"
    assert [s.url for s in merged.sources] == ["https://a", "https://b"]
