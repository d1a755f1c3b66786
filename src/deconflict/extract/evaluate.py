"""Precision and recall per field over a labelled set of reports.

The labelled set is a folder with report files and a ``labels.json`` (see
``tests/extract/reports``). Each field is scored as a set of facts per report, summed over
reports (micro-averaged): a fact is, e.g., ``(date, city)`` for the city of a strike, so a
strike placed in the right city on the wrong date counts as one false positive and one
false negative.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from deconflict.extract.pipeline import ExtractionResult, extract_report
from deconflict.extract.reader import read_report
from deconflict.model import Site
from deconflict.times import TimeSpan

__all__ = ["FIELDS", "FieldScore", "evaluate", "format_table", "load_sites", "time_key"]

Facts = set[tuple[Any, ...]]

#: The fields scored, in the order of the table.
FIELDS: tuple[str, ...] = (
    "report_date", "incident_time", "incident_city", "incident_district", "incident_weapon", "incident_site_hit",
    "incident_damage", "incident_casualties", "site_mention", "notification_site",
    "notification_recipient", "notification_bounds", "response_kind", "response_party",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class FieldScore:
    """True positives, false positives and false negatives of one field."""

    field: str
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        """Share of extracted facts that are right (1.0 when nothing was extracted)."""
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        """Share of labelled facts that were extracted (1.0 when nothing was labelled)."""
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else 1.0


def load_sites(labels: dict[str, Any]) -> list[Site]:
    """The registry sites listed in a ``labels.json``."""
    return [
        Site(
            id=s["id"], name=s["name"], kind=s["kind"], owner=s["owner"], lat=s["lat"],
            lon=s["lon"], city=s.get("city"), names=tuple((n[0], n[1]) for n in s.get("names", ())),
        )
        for s in labels["sites"]
    ]  # fmt: skip


def _local_day(moment: datetime | None, zone: ZoneInfo) -> str | None:
    # The last instant inside an exclusive end: an end at midnight belongs to the day before.
    if moment is None:
        return None
    return (moment.astimezone(zone) - timedelta(microseconds=1)).date().isoformat()


def time_key(span: TimeSpan, zone: ZoneInfo) -> str:
    """How a strike's time is written in ``labels.json``: the (last) local day, ``YYYY-MM`` for a month.

    A night is keyed by the morning it ends on, a week by its last day.
    """
    day = (span.end.astimezone(zone) - timedelta(microseconds=1)).date().isoformat()
    return day[:7] if span.precision == "month" else day


def _predicted(result: ExtractionResult, zone: ZoneInfo) -> dict[str, Facts]:
    facts: dict[str, Facts] = {name: set() for name in FIELDS}
    if result.report_date is not None:
        facts["report_date"].add((result.report_date.isoformat(),))
    for c in result.incidents:
        if c.time is None:
            continue
        key = time_key(c.time, zone)
        facts["incident_time"].add((key, c.time.precision))
        if c.city:
            facts["incident_city"].add((key, c.city))
        if c.district:
            facts["incident_district"].add((key, c.district))
        facts["incident_weapon"].update((key, w) for w in c.weapons)
        facts["incident_site_hit"].update((key, s) for s in c.sites_hit)
        if c.damage or c.sites_hit:
            facts["incident_damage"].add((key,))
        if c.casualties:
            facts["incident_casualties"].add((key,))
    facts["site_mention"] = {(m.site_id,) for m in result.site_mentions if m.site_id}
    for n in result.notifications:
        facts["notification_site"].update((s,) for s in n.site_ids)
        if n.recipient:
            facts["notification_recipient"].add((n.recipient,))
        first = n.not_before.astimezone(zone).date().isoformat() if n.not_before else None
        facts["notification_bounds"].add((first, _local_day(n.not_after, zone)))
    for r in result.responses:
        facts["response_kind"].add((r.kind, r.date.isoformat() if r.date else None))
        facts["response_party"].update((r.kind, p) for p in r.parties)
    return facts


def _expected(label: dict[str, Any]) -> dict[str, Facts]:
    facts: dict[str, Facts] = {name: set() for name in FIELDS}
    if label.get("report_date"):
        facts["report_date"].add((label["report_date"],))
    for i in label["incidents"]:
        key = i["date"]
        facts["incident_time"].add((key, i["precision"]))
        if i.get("city"):
            facts["incident_city"].add((key, i["city"]))
        if i.get("district"):
            facts["incident_district"].add((key, i["district"]))
        facts["incident_weapon"].update((key, w) for w in i["weapons"])
        facts["incident_site_hit"].update((key, s) for s in i["sites_hit"])
        if i.get("damage") or i["sites_hit"]:
            facts["incident_damage"].add((key,))
        if i.get("casualties"):
            facts["incident_casualties"].add((key,))
    facts["site_mention"] = {(s,) for s in label["sites"]}
    for n in label["notifications"]:
        facts["notification_site"].update((s,) for s in n["sites"])
        if n.get("recipient"):
            facts["notification_recipient"].add((n["recipient"],))
        facts["notification_bounds"].add((n.get("not_before"), n.get("not_after")))
    for r in label["responses"]:
        facts["response_kind"].add((r["kind"], r["date"]))
        facts["response_party"].update((r["kind"], p) for p in r["parties"])
    return facts


def evaluate(
    folder: str | Path,
    *,
    only: Callable[[dict[str, Any]], bool] | None = None,
    use_model: bool = True,
) -> dict[str, FieldScore]:
    """Score extraction on the labelled reports in ``folder`` (with its ``labels.json``).

    Parameters
    ----------
    folder
        Folder holding the reports and ``labels.json``.
    only
        Optional filter on the label records (e.g. by language of the file name).
    use_model
        Passed to :func:`~deconflict.extract.pipeline.extract_report` (the ``ru-ner`` extra).

    Returns
    -------
    dict
        Field name → :class:`FieldScore`, in the order of :data:`FIELDS`.
    """
    root = Path(folder)
    labels = json.loads((root / "labels.json").read_text(encoding="utf-8"))
    sites = load_sites(labels)
    zone = ZoneInfo(labels.get("timezone", "UTC"))
    totals = {name: [0, 0, 0] for name in FIELDS}
    for label in labels["reports"]:
        if only is not None and not only(label):
            continue
        report = read_report(root / label["file"])
        result = extract_report(
            report.text, sites=sites, report_date=report.report_date,
            source_sha256=report.sha256, local=zone, use_model=use_model,
        )  # fmt: skip
        predicted, expected = _predicted(result, zone), _expected(label)
        for name in FIELDS:
            totals[name][0] += len(predicted[name] & expected[name])
            totals[name][1] += len(predicted[name] - expected[name])
            totals[name][2] += len(expected[name] - predicted[name])
    return {name: FieldScore(name, *totals[name]) for name in FIELDS}


def format_table(scores: Iterable[FieldScore]) -> str:
    """A markdown table of the scores (as in docs/extraction.md)."""
    lines = ["| field | precision | recall | TP | FP | FN |", "|---|---:|---:|---:|---:|---:|"]
    for s in scores:
        lines.append(
            f"| {s.field} | {s.precision:.2f} | {s.recall:.2f} | {s.true_positives} | "
            f"{s.false_positives} | {s.false_negatives} |"
        )
    return "\n".join(lines)
