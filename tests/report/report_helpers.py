"""Small helpers for the report tests (importable as ``report.report_helpers``)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from deconflict.match import Match
from deconflict.model import Incident, Site
from deconflict.report import ReportData
from deconflict.times import TimeSpan


def data_block(html: str) -> Any:
    """The JSON embedded in a report's ``#report-data`` block."""
    match = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
    assert match is not None, "no #report-data block"
    return json.loads(match.group(1))


def tiny_report_data() -> ReportData:
    """Two sites (one approximate), three incidents (one synthetic), one match."""
    day = TimeSpan(datetime(2025, 11, 13, 16, 0, tzinfo=UTC), datetime(2025, 11, 14, 4, 0, tzinfo=UTC), "night-of")
    return ReportData(
        title="Tiny report",
        generated_at=datetime(2026, 1, 1, tzinfo=UTC),
        sites=[
            Site("s1", "Embassy One", "embassy", "AZE", 50.46, 30.49),
            Site("s2", "Cultural Centre Two", "cultural_centre", "AZE", 50.461, 30.491, approximate=True),
        ],
        incidents=[
            Incident("i1", day, 50.4601, 30.4901, uncertainty_m=40, provenance="reported", kind="missile"),
            Incident("i2", day, 50.45, 30.50, uncertainty_m=250, provenance="synthetic"),
            Incident("i3", day, 50.47, 30.48, uncertainty_m=100, provenance="acled"),
        ],
        matches=[Match("s1", "i1", 13.0, 0.8)],
    )
