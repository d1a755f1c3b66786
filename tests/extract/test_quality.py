"""Precision and recall per field over the labelled reports, against documented floors.

The floors are the figures in docs/extraction.md's table for ``deconflict extract``, rounded down
by a margin: a change that lowers quality below them fails here. ``reports`` is the set the
extractor was developed on; ``heldout`` was written afterwards and never used for tuning,
so its floors are lower and closer to what to expect on new text.
"""

from __future__ import annotations

import pytest

from deconflict.extract import FieldScore, evaluate
from deconflict.extract.evaluate import FIELDS

from .conftest import HELDOUT, REPORTS

# field: (precision floor, recall floor)
DEVELOPMENT_FLOORS: dict[str, tuple[float, float]] = {
    "report_date": (0.97, 0.97),
    "incident_time": (0.97, 0.97),
    "incident_city": (0.97, 0.97),
    "incident_district": (0.97, 0.97),
    "incident_weapon": (0.97, 0.97),
    "incident_site_hit": (0.97, 0.95),
    "incident_damage": (0.97, 0.95),
    "incident_casualties": (0.97, 0.97),
    "site_mention": (0.97, 0.97),
    "notification_site": (0.97, 0.89),
    "notification_recipient": (0.97, 0.97),
    "notification_bounds": (0.89, 0.89),
    "response_kind": (0.95, 0.97),
    "response_party": (0.94, 0.97),
}
# The first held-out set (8 short reports): never tuned on; floors a little below today's figures.
HELDOUT_FLOORS: dict[str, tuple[float, float]] = {
    "report_date": (0.95, 0.95),
    "incident_time": (0.65, 0.80),
    "incident_city": (0.65, 0.80),
    "incident_weapon": (0.55, 0.65),
    "incident_site_hit": (0.55, 0.55),
    "incident_damage": (0.65, 0.80),
    "site_mention": (0.95, 0.80),
    "notification_site": (0.95, 0.95),
    "response_kind": (0.60, 0.95),
    "response_party": (0.70, 0.95),
}


def test_the_development_set_has_at_least_60_reports_in_four_languages() -> None:
    files = [p.name for p in REPORTS.iterdir() if p.suffix in (".txt", ".html")]
    assert len(files) >= 60
    assert {name[:2] for name in files} == {"en", "de", "uk", "ru"}


def test_every_field_is_scored() -> None:
    assert set(DEVELOPMENT_FLOORS) == set(FIELDS)


@pytest.fixture(scope="module")
def development() -> dict[str, FieldScore]:
    return evaluate(REPORTS)


@pytest.mark.parametrize("field", FIELDS)
def test_development_set_precision_and_recall_stay_above_the_floor(
    development: dict[str, FieldScore], field: str
) -> None:
    score = development[field]
    precision_floor, recall_floor = DEVELOPMENT_FLOORS[field]
    assert score.precision >= precision_floor, f"{field} precision {score.precision:.2f}"
    assert score.recall >= recall_floor, f"{field} recall {score.recall:.2f}"


def test_heldout_set_precision_and_recall_stay_above_the_floor() -> None:
    scores = evaluate(HELDOUT)
    for field, (precision_floor, recall_floor) in HELDOUT_FLOORS.items():
        assert scores[field].precision >= precision_floor, f"{field} precision {scores[field].precision:.2f}"
        assert scores[field].recall >= recall_floor, f"{field} recall {scores[field].recall:.2f}"
