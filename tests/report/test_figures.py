"""Figures people read: periods at their true extent on a log axis, few labels, dated marks."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
from matplotlib.collections import LineCollection

from deconflict.match import Match
from deconflict.model import Incident
from deconflict.report.data import Period
from deconflict.report.timeline import MAX_HIT_LABELS, _new_figure, _periods, site_timeline_svg
from deconflict.times import TimeSpan


def test_expected_and_observed_are_both_visible_and_each_period_spans_its_true_extent() -> None:
    start, cut, end = (
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2025, 8, 27, tzinfo=UTC),
        datetime(2026, 1, 22, tzinfo=UTC),
    )
    periods = [Period("s", start, cut, 1.0, 0.0023), Period("s", cut, end, 2.0, 0.00098)]
    _fig, ax = _new_figure(9.0, 3.0)
    _periods(ax, periods)
    assert ax.get_yscale() == "log"
    low, high = ax.get_ylim()
    assert low < 0.00098 and high > 2.0, "an expected count of 0.001 must be on the axis with an observed 2"
    segments = [seg for c in ax.collections if isinstance(c, LineCollection) for seg in c.get_segments()]
    extents = {(round(seg[0][0], 3), round(seg[1][0], 3)) for seg in segments}
    day = 86_400.0
    for p in periods:
        assert (round(p.start.timestamp() / day, 3), round(p.end.timestamp() / day, 3)) in extents
    texts = [t.get_text() for t in ax.texts]
    assert "observed 2\nexpected 0.00098" in texts and "observed 1\nexpected 0.0023" in texts


def test_a_site_with_hundreds_of_possible_hits_gets_only_a_few_labels(report_data) -> None:
    site = next(s for s in report_data.sites if s.id == "wd-Q5369559")
    base = datetime(2024, 1, 1, tzinfo=UTC)
    rng = np.random.default_rng(7)
    extra = [
        Incident(
            f"dense-{k}",
            TimeSpan(base + timedelta(hours=6 * k), base + timedelta(hours=6 * k + 1), "interval"),
            site.lat + float(rng.normal(0, 0.0003)),
            site.lon + float(rng.normal(0, 0.0003)),
            uncertainty_m=30,
            provenance="synthetic",
        )
        for k in range(300)
    ]
    data = replace(
        report_data,
        incidents=[*report_data.incidents, *extra],
        matches=[*report_data.matches, *(Match(site.id, i.id, 20.0, 0.6) for i in extra)],
    )
    svg = site_timeline_svg(data, site)
    assert 1 <= svg.count("P(hit)") <= MAX_HIT_LABELS


def test_notification_and_acknowledgement_marks_carry_their_dates_in_the_database_timezone(report_data) -> None:
    site = next(s for s in report_data.sites if s.id == "wd-Q5369559")
    svg = site_timeline_svg(replace(report_data, timezone="Europe/Kyiv"), site)
    text = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg)) or svg
    assert "notified to RUS" in svg and "acknowledged by RUS" in svg
    # 2024-03-15 09:00 UTC is 11:00 in Kyiv (UTC+02:00 in winter).
    assert "15 Mar 2024 11:00" in svg, text
