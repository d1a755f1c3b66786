"""The Kyiv example, end to end: ``deconflict demo`` / ``make demo``.

What it builds (all printed, all labelled):

- **Sites**: the 77 diplomatic missions in Kyiv with coordinates in Wikidata (CC0, via
  the database-of-embassies export), plus Azerbaijan's consular section and cultural
  centre, placed by hand and marked *approximate location*.
- **Reported hits**: the publicly reported damage to diplomatic premises in Kyiv
  (compiled from press reports, see ``data/SOURCES.md``), placed at the premises with the
  reported distance as uncertainty; labelled ``reported``.
- **Synthetic background**: no openly licensed point-level strike data for Kyiv exists,
  so the background is simulated (seed 20251114): clustered night-time strikes over the
  city, labelled ``synthetic`` in the data and every output.
- **Guarantees**: Russia's public answer that diplomatic locations "are taken into account",
  recorded as the public statement it is, as a commitment covering the three Azerbaijani sites
  from when it was made (the hits of 2025 came before it and do not breach it), with an
  acknowledgement deadline (missed: the monitor logs it); a
  SYNTHETIC humanitarian convoy through Kyiv, notified with its route, corridor and window; and
  the alerts the reported hits raise.
"""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import dataclass, replace
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

import deconflict
from deconflict.db import Database
from deconflict.fileio import atomic_write_bytes
from deconflict.geo import geodesic_destination, geodesic_distance_m
from deconflict.model import Incident, Site, Source
from deconflict.options import AnalysisOptions, ReportDefaults
from deconflict.times import parse_time, zone

__all__ = [
    "DEMO_NOTES",
    "DEMO_SEED",
    "KYIV_BOUNDS",
    "DemoSummary",
    "demo_options",
    "reported_hits",
    "run_demo",
    "synthetic_kyiv_strikes",
]

DEMO_SEED = 20251114
#: (min_lat, max_lat, min_lon, max_lon) of the study area: Kyiv city, a box.
KYIV_BOUNDS = (50.36, 50.56, 30.30, 30.76)
#: Reports of one night whose premises lie this close are taken as one strike (a shared building).
SAME_BUILDING_M = 150.0
SYNTHETIC_NOTE = "SYNTHETIC: simulated background strike, not a real event"


def package_data(name: str) -> str:
    """Text of a file shipped in ``deconflict/data``."""
    return resources.files("deconflict.data").joinpath(name).read_text(encoding="utf-8")


def synthetic_kyiv_strikes(
    rng: np.random.Generator,
    *,
    start: date = date(2024, 1, 1),
    end: date = date(2026, 1, 31),
    attack_nights: int = 140,
    mean_impacts: float = 9.0,
) -> list[Incident]:
    """Simulate a clustered background of night strikes over Kyiv (labelled synthetic).

    A Neyman–Scott-like process: twelve fixed target zones with random weights; on each
    attack night a Poisson number of impacts falls around zones (Gaussian spread 1.5 km)
    or, for a quarter of them, anywhere in the city (debris, misses).
    """
    min_lat, max_lat, min_lon, max_lon = KYIV_BOUNDS
    zones = np.column_stack(
        [
            rng.uniform(min_lat + 0.02, max_lat - 0.02, 12),
            rng.uniform(min_lon + 0.03, max_lon - 0.03, 12),
        ]
    )
    weights = rng.gamma(1.0, 1.0, 12)
    weights /= weights.sum()
    days = (end - start).days
    nights = np.sort(rng.choice(days, size=attack_nights, replace=False))
    incidents: list[Incident] = []
    kyiv = zone("Europe/Kyiv")
    for night in nights:
        morning = start + timedelta(days=int(night))
        for _ in range(rng.poisson(mean_impacts)):
            if rng.random() < 0.25:
                lat, lon = rng.uniform(min_lat, max_lat), rng.uniform(min_lon, max_lon)
            else:
                z = zones[rng.choice(12, p=weights)]
                azimuth, distance = rng.uniform(0, 360), abs(rng.normal(0, 1_500))
                lon, lat = geodesic_destination(float(z[1]), float(z[0]), float(azimuth), float(distance))
            if not (min_lat <= lat <= max_lat and min_lon <= lon <= max_lon):
                continue
            number = len(incidents) + 1
            incidents.append(Incident(
                id=f"syn-{number:05d}", time=parse_time(morning.isoformat(), "night-of", kyiv),
                lat=round(float(lat), 6), lon=round(float(lon), 6),
                uncertainty_m=float(rng.choice([100.0, 250.0, 500.0])), kind="missile or drone (synthetic)",
                confidence="fair", notes=SYNTHETIC_NOTE, provenance="synthetic",
            ))  # fmt: skip
    return incidents


@dataclass(frozen=True, slots=True)
class PlacedReport:
    """A reported hit and the site it was placed at (None when no open coordinates exist)."""

    row: dict[str, str]
    site: Site | None


def reported_hits(sites: list[Site]) -> tuple[list[Incident], list[PlacedReport], list[list[str]]]:
    """Kyiv rows of the reported-damage table as incidents at the premises they name, and the groups of
    reports that are one strike (neighbouring premises of one building hit the same night): the demo
    records each group as one incident with ``incidents merge``."""
    reader = csv.DictReader(io.StringIO(package_data("reported_damage_to_diplomatic_premises.csv")))
    by_owner_kind = {(s.owner, s.kind): s for s in sites if not s.approximate or s.kind != "embassy"}
    incidents: list[Incident] = []
    placed: list[PlacedReport] = []
    groups: dict[str, list[str]] = {}
    kyiv = zone("Europe/Kyiv")
    for row in reader:
        if row["city"] != "Kyiv":
            continue
        premises = row["premises"].lower()
        kind = "consular_section" if "consular section" in premises else "embassy" if "embassy" in premises else None
        site = by_owner_kind.get((row["owner"], kind)) if kind else None
        placed.append(PlacedReport(row, site))
        if site is None:
            continue
        distance = row["reported_distance_m"].strip()
        precision = "night-of" if row["night_of"] == "true" else "day"
        # One strike damaging neighbouring premises (a shared building) is one incident, not one per
        # embassy: counting it once per premises would break the statistics' independence assumption.
        same_event = next(
            (i for i in incidents if i.time.start.date() == parse_time(row["date"], precision, kyiv).start.date()
             and geodesic_distance_m(i.lon, i.lat, site.lon, site.lat) <= SAME_BUILDING_M
             and not any(i.id in g[1:] for g in groups.values())),
            None,
        )  # fmt: skip
        incident_id = f"rep-{row['date']}-{row['owner'].lower()}-{kind}"
        if same_event is not None:
            groups.setdefault(same_event.id, [same_event.id]).append(incident_id)
        described = f"reported distance {distance} m" if distance else "distance not reported"
        incidents.append(Incident(
            id=incident_id,
            time=parse_time(row["date"], precision, kyiv),
            lat=site.lat, lon=site.lon, uncertainty_m=float(distance) if distance else 100.0,
            kind=row["mechanism"], confidence="confirmed",
            source=Source(title=row["source"]),
            notes=f"reported: {row['damage']} (placed at the premises of {row['premises']}; {described})",
            provenance="reported",
        ))  # fmt: skip
    return incidents, placed, list(groups.values())


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What the demo built."""

    database: Path
    sites: int
    approximate_sites: int
    reported: int
    synthetic: int
    unplaced: list[str]
    reports: int = 0
    amended: str = ""
    merged: tuple[str, ...] = ()
    verifier_key: str = ""
    witness_key: str = ""
    bundle: Path | None = None
    witness_policy: Path | None = None
    tsa_roots: tuple[Path, ...] = ()
    outside: tuple[str, ...] = ()
    checkpoint_size: int = 0
    findings: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()
    report: Path | None = None
    commitments: tuple[str, ...] = ()
    movements: tuple[str, ...] = ()
    alerts: int = 0
    alerts_on_reported: int = 0
    deadlines_missed: int = 0
    movement_bundle: Path | None = None
    dossier: Path | None = None


AZE_SITES = ("wd-Q5369559", "aze-consular-section", "aze-cultural-centre")
#: Azerbaijan's transmission of coordinates to Russia: after the first hit (2024-01-02), before
#: the second (the night of 2025-08-28, i.e. from 18:00 Kyiv time on 27 August). The exact date is
#: not public, so the notification time is that interval.
AZE_NOTIFIED_AT = "2024-01-02T12:00/2025-08-27T18:00"
AZE_NOTIFICATION_TEXT = (
    "Coordinates of the embassy, the consular section and the cultural centre, transmitted after the "
    "first hit (President Aliyev, Munich Security Conference, 2026-02-14); the exact date is not public."
)


#: Russia's answer, as a public statement (the exact date and wording are not recorded here: the
#: statement followed President Aliyev's at the Munich Security Conference on 2026-02-14).
RUS_STATEMENT = "diplomatic locations are taken into account"
RUS_STATEMENT_MADE = "2026-02-14/2026-02-28"
RUS_STATEMENT_REFERENCE = (
    "public statement answering Azerbaijan (after the Munich Security Conference, 2026-02-14); "
    "date and wording to be checked against the published source"
)
#: The statement is recorded as holding from when it was made: events before an undertaking are not
#: evidence that it was broken (the library's default window). Its acknowledgement was asked for by this date.
RUS_ACK_DEADLINE = "2026-03-31"
#: A SYNTHETIC humanitarian convoy through Kyiv on the night of 14 November 2025, passing 30 m south
#: of the Azerbaijani embassy (lat, lon waypoints; corridor 100 m wide).
CONVOY_ROUTE = (
    (50.4560, 30.3650), (50.4610, 30.4300), (50.46055, 30.49056), (50.4620, 30.5150), (50.4510, 30.5240),
    (50.4280, 30.5650),
)  # fmt: skip
CONVOY_WINDOW = ("2025-11-13T20:00", "2025-11-14T08:00")


def record_guarantees(db: Database) -> tuple[list[str], list[str], int]:
    """Log the RUS commitment, the SYNTHETIC convoy and its notification, then run the monitor once.

    Returns the commitment ids, the movement ids and how many deadline_missed entries were logged.
    """
    from deconflict.guarantees.monitor import run_once

    commitment, _ = db.commitments.add(
        party="RUS", owners=["AZE"], made_at=RUS_STATEMENT_MADE,
        deadline=RUS_ACK_DEADLINE, form="public-statement", text=RUS_STATEMENT, reference=RUS_STATEMENT_REFERENCE,
        id="rus-statement-diplomatic-locations",
    )  # fmt: skip
    convoy, _ = db.movements.create(
        owner="XUN", route=CONVOY_ROUTE, width_m=100, start=CONVOY_WINDOW[0], until=CONVOY_WINDOW[1],
        kind="convoy", name="SYNTHETIC convoy K-1", organisation="SYNTHETIC humanitarian organisation",
        vehicles="SYNTHETIC: 6 trucks, white, emblem on roof", provenance="synthetic", id="synthetic-convoy-k1",
        notes="SYNTHETIC: a simulated movement to show corridor matching; not a real convoy",
    )  # fmt: skip
    db.notifications.notify(
        [], movement_ids=[convoy.id], to="RUS", at="2025-11-12T10:00", sender="XUN",
        channel="humanitarian notification system (SYNTHETIC)", id="synthetic-convoy-k1-notification",
    )  # fmt: skip
    cycle = run_once(db, deliver=False)
    return [commitment.id], [convoy.id], len(cycle.deadlines_missed)


@dataclass(frozen=True, slots=True)
class LedgerDemo:
    """What the demo's ledger step made: keys, the bundle, and the DEMO outside-time servers' results."""

    verifier_key: str
    witness_key: str
    bundle: Path
    checkpoint_size: int
    witness_policy: Path
    tsa_roots: tuple[Path, ...]
    outside: tuple[str, ...]


def record_ledger(db: Database, out_dir: Path) -> LedgerDemo:
    """Log the Azerbaijani notification, timestamp and witness a checkpoint, export a bundle.

    The two RFC 3161 TSAs (OpenSSL's, when the ``openssl`` command exists) and the two
    tlog-witnesses are local servers started here and stopped before returning: DEMO only,
    they prove what this machine's clock said, not what an independent party saw.
    """
    from deconflict.ledger.bundle import build_bundle
    from deconflict.ledger.local_tsa import LocalTSA, openssl_available
    from deconflict.ledger.note import write_signer_key
    from deconflict.ledger.policy import WitnessPolicy
    from deconflict.ledger.timestamp import load_tsa_trust
    from deconflict.ledger.witness import Witness, generate_witness_key
    from deconflict.ledger.witness_http import start_witness

    db.notifications.notify(
        AZE_SITES,
        to="RUS",
        at=AZE_NOTIFIED_AT,
        sender="AZE",
        channel="diplomatic channel (not public)",
        text=AZE_NOTIFICATION_TEXT,
        id="aze-2024-coordinates",
    )
    record_guarantees(db)
    db.ledger.sign_checkpoint()
    outside = out_dir / "outside"
    outside.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    roots: tuple[Path, ...] = ()
    if openssl_available():
        with (
            LocalTSA(outside / "tsa-1", name="DEMO TSA one") as first,
            LocalTSA(outside / "tsa-2", name="DEMO TSA two") as second,
        ):
            roots = (first.files.ca_cert, second.files.ca_cert)
            stamped = db.ledger.timestamp([first.url, second.url], load_tsa_trust(roots))
        times = ", ".join(t.gen_time for t in stamped.stored)
        lines.append(f"DEMO: checkpoint {stamped.checkpoint_size} timestamped by 2 local OpenSSL TSAs at {times}")
    else:
        lines.append("DEMO: RFC 3161 timestamps skipped (the openssl command is not installed)")
    keys = [generate_witness_key(f"demo-witness-{n}.local") for n in (1, 2)]
    for number, key in enumerate(keys, start=1):
        write_signer_key(outside / f"witness-{number}.key", key)
    servers = [
        start_witness(Witness(outside / f"witness-{n}.json", k, [db.ledger.verifier_key]))
        for n, k in enumerate(keys, 1)
    ]
    try:
        policy = WitnessPolicy.threshold([k.vkey for k in keys], 2, [s.url for s in servers])
        witnessed = db.ledger.witness(policy)
    finally:
        for server in servers:
            server.close()
    lines.append(
        f"DEMO: checkpoint {witnessed.checkpoint_size} cosigned by 2 local tlog-witnesses "
        f"({'witnessed' if witnessed.witnessed else 'NOT witnessed'}: {witnessed.policy})"
    )
    policy_file = outside / "witness-policy.txt"
    policy_file.write_text(
        "# DEMO witness policy: both local demo witnesses must cosign (c2sp.org/tlog-policy)\n"
        + WitnessPolicy.threshold([k.vkey for k in keys], 2).text,
        encoding="utf-8",
    )
    bundle = out_dir / "evidence-aze-embassy.zip"
    atomic_write_bytes(bundle, build_bundle(db.ledger, AZE_SITES[0]))
    for item in db.ledger.entry_times():
        if item.record_id == "aze-2024-coordinates":
            lines.append(f"{item.kind} {item.record_id}: {item.sentence()}")
    return LedgerDemo(
        db.ledger.verifier_key, keys[0].vkey, bundle, witnessed.checkpoint_size, policy_file, roots, tuple(lines)
    )


SHARED_BUILDING_REASON = (
    "one strike damaged neighbouring premises of one building the same night: reported once per premises, "
    "recorded once (counting it per premises would break the statistics' independence assumption)"
)
CONSULAR_REFINEMENT = (
    "the reports of 2025-08-28 and 2025-11-14 describe the consular section as part of the embassy premises: "
    "placed at the compound's point (Wikidata Q5369559) instead of the hand-placed point; still not surveyed"
)


def refine_consular_section(db: Database) -> str:
    """Amend the hand-placed consular section onto the embassy compound's point (a log entry with its reason)."""
    embassy = db.sites.get(AZE_SITES[0])
    site, index = db.sites.amend(
        AZE_SITES[1], lat=embassy.lat, lon=embassy.lon, approximate=True, reason=CONSULAR_REFINEMENT
    )
    where = f"{site.lat:.5f}, {site.lon:.5f}"
    return f"{site.id} moved to {where} (still approximate): log entry {index}, reason: {CONSULAR_REFINEMENT}"


def build_demo_database(out_dir: Path) -> tuple[Database, DemoSummary]:
    """Create ``out_dir/demo.db`` afresh with the Kyiv sites and incidents."""
    out_dir.mkdir(parents=True, exist_ok=True)
    db_path = out_dir / "demo.db"
    for suffix in ("", "-wal", "-shm", ".key"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    for stale in (out_dir / "witness", out_dir / "outside"):
        if stale.exists():
            shutil.rmtree(stale)
    db = deconflict.init(db_path, timezone="Europe/Kyiv")
    db.set_analysis_options(demo_options())
    db.set_report_defaults(ReportDefaults(title=DEMO_TITLE, site_ids=AZE_SITES, notes=DEMO_NOTES))
    missions = out_dir / "kyiv_missions.csv"
    missions.write_text(package_data("kyiv_missions.csv"), encoding="utf-8")
    db.sites.import_file(missions)
    amended = refine_consular_section(db)
    sites = [hit.site for hit in db.sites.list()]
    reported, placed, groups = reported_hits(sites)
    synthetic = synthetic_kyiv_strikes(np.random.default_rng(DEMO_SEED))
    db.incidents.add_many(reported + synthetic)
    merged = []
    for group in groups:
        incident, index = db.incidents.merge(group, reason=SHARED_BUILDING_REASON)
        merged.append(f"{len(group)} reports of {incident.time.start.astimezone(zone('Europe/Kyiv')).date()} "
                      f"({', '.join(group)}) merged into {incident.id}: log entry {index}")  # fmt: skip
    ledger = record_ledger(db, out_dir)
    guarantees = guarantee_outputs(db, out_dir)
    summary = DemoSummary(
        database=db_path, sites=len(sites), approximate_sites=sum(s.approximate for s in sites),
        synthetic=len(synthetic),
        unplaced=[f"{p.row['date']} {p.row['premises']}" for p in placed if p.site is None],
        reports=sum(1 for p in placed if p.site is not None), amended=amended, merged=tuple(merged),
        reported=len(reported) - sum(len(g) - 1 for g in groups),
        verifier_key=ledger.verifier_key, witness_key=ledger.witness_key, bundle=ledger.bundle,
        checkpoint_size=ledger.checkpoint_size,
        witness_policy=ledger.witness_policy, tsa_roots=ledger.tsa_roots, outside=ledger.outside,
        **guarantees,
    )  # fmt: skip
    return db, summary


def guarantee_outputs(db: Database, out_dir: Path) -> dict[str, Any]:
    """The convoy's evidence bundle and the dossier of the first alert on the embassy; what the summary says."""
    from deconflict.guarantees.dossier import build_dossier
    from deconflict.ledger.bundle import build_movement_bundle

    alerts = db.alerts.list()
    reported = [a for a in alerts if a.incident is not None and a.incident.provenance == "reported"]
    movement_bundle = out_dir / "evidence-synthetic-convoy.zip"
    atomic_write_bytes(movement_bundle, build_movement_bundle(db.ledger, "synthetic-convoy-k1"))
    dossier = None
    on_embassy = [a for a in reported if a.alert.object.id == AZE_SITES[0]]
    if on_embassy:
        dossier = out_dir / "dossier-aze-embassy.zip"
        atomic_write_bytes(dossier, build_dossier(db, on_embassy[-1].alert.id))
    missed = sum(1 for r in db.commitments.records() if r.deadline_missed_index is not None)
    return {
        "commitments": tuple(r.commitment.id for r in db.commitments.records()),
        "movements": tuple(m.id for m in db.movements.list()),
        "alerts": len(alerts), "alerts_on_reported": len(reported), "deadlines_missed": missed,
        "movement_bundle": movement_bundle, "dossier": dossier,
    }  # fmt: skip


DEMO_NOTES = (
    "DEMO: the background strikes are SYNTHETIC, and the reported hits are known precisely because they hit "
    "diplomatic premises (strikes that hit nothing notable are rarely reported one by one). These statistics "
    "illustrate the method on this sample; they are not findings about Kyiv.",
)


#: The demo's analysis: its seed and study area, stored with the database so that every door
#: (``deconflict report``, ``analyze``, the server) reproduces the demo's numbers.
DEMO_STUDY_AREA_LABEL = "Study area: a box around Kyiv (not the city boundary)"
DEMO_TITLE = "deconflict demo: diplomatic premises in Kyiv"


def demo_options() -> AnalysisOptions:
    """The demo's analysis options (seed and the Kyiv box)."""
    from shapely.geometry import box

    min_lat, max_lat, min_lon, max_lon = KYIV_BOUNDS
    area = box(min_lon, min_lat, max_lon, max_lat)
    return AnalysisOptions(seed=DEMO_SEED, study_area=area, study_area_label=DEMO_STUDY_AREA_LABEL)


def analyse_and_report(db: Database, out_dir: Path) -> tuple[list[str], list[str], Path]:
    """Analyse the demo database and write the HTML report: the Azerbaijani findings, assumptions, path."""
    from deconflict.analysis import analyze_database, report_data
    from deconflict.fileio import atomic_write_text
    from deconflict.report import render_html

    options = db.analysis_options()
    run = analyze_database(db, options)
    findings = []
    for result in run.results:
        if result.site_id in AZE_SITES:
            label = " (approximate location)" if run.sites[result.site_id].approximate else ""
            control = "—" if result.p_value_control is None else format(result.p_value_control, ".2g")
            findings.append(f"{run.sites[result.site_id].name}{label}: {result.sentence()}")
            findings.append(
                f"  headline p {result.p_primary:.2g}, Holm-adjusted {result.p_adjusted:.2g}; secondary: "
                f"p after notification (reports) {result.p_value_after:.2g}, control rank p {control}"
            )
    data = report_data(db)  # the stored title, featured sites, notes and options: `deconflict report` does the same
    path = out_dir / "report.html"
    atomic_write_text(path, render_html(data))
    return findings, list(run.results[0].assumptions[:3]), path


def run_demo(out_dir: Path) -> DemoSummary:
    """Build the demo database, its ledger, evidence bundle, analysis and report; return what was built.

    The caller prints it (``deconflict demo``); nothing here prints.
    """
    db, summary = build_demo_database(out_dir)
    try:
        findings, assumptions, report = analyse_and_report(db, out_dir)
    finally:
        db.close()
    return replace(summary, findings=tuple(findings), assumptions=tuple(assumptions), report=report)
