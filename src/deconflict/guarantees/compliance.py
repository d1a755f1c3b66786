"""``deconflict compliance``: per commitment, what it covered, whether it was acknowledged, what hit.

Status of a commitment (:func:`commitment_status`, the one rule):

``breached``
    at least one counted incident graded ``confirmed`` hit a covered object during the window
    with probability at least :data:`~deconflict.options.BREACH_CONFIRMED_PROBABILITY` (more
    likely than not) — "breached with confirmed incidents";
``possibly breached``
    otherwise, at least one counted incident did with probability at least the alert threshold;
``held``
    no such incident has been recorded (so far: a window still open can change it).

This is a record of what was recorded, weighed by how probably each strike hit; it is not a
finding of intent. The per-site analysis p-values (how improbable the hits are against the
background of all strikes) are shown beside it where they can be computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from deconflict.errors import InvalidInput, NotFound, VerificationError
from deconflict.guarantees.commitments import CommitmentRecord
from deconflict.guarantees.exposure import movement_exposures, site_exposures
from deconflict.guarantees.model import ObjectRef, Window
from deconflict.options import BREACH_CONFIRMED_PROBABILITY, DEFAULT_MIN_PROBABILITY
from deconflict.relevance import incidents_concerning, incidents_concerning_movement
from deconflict.times import format_instant

if TYPE_CHECKING:
    from deconflict.access import Principal
    from deconflict.db import Database
    from deconflict.options import AnalysisOptions

__all__ = ["COMPLIANCE_STATUSES", "ComplianceEntry", "ComplianceHit", "commitment_status", "compliance"]

COMPLIANCE_STATUSES = ("held", "possibly breached", "breached")


@dataclass(frozen=True)
class ComplianceHit:
    """An incident in the commitment's window that may have hit a covered object."""

    object: ObjectRef
    incident_id: str
    incident_time: str
    spatial_probability: float
    time_fraction: float
    confidence: str
    provenance: str | None
    counted: bool
    alert_id: str | None

    @property
    def hit_probability(self) -> float:
        """Spatial probability x the share of the incident's time inside the window."""
        return self.spatial_probability * self.time_fraction

    def to_json(self) -> dict[str, Any]:
        """One hit as JSON."""
        return {
            "object_kind": self.object.kind, "object_id": self.object.id, "incident_id": self.incident_id,
            "incident_time": self.incident_time, "hit_probability": self.hit_probability,
            "spatial_probability": self.spatial_probability, "time_fraction": self.time_fraction,
            "confidence": self.confidence, "provenance": self.provenance, "counted": self.counted,
            "alert_id": self.alert_id,
        }  # fmt: skip


def commitment_status(hits: list[ComplianceHit], threshold: float) -> str:
    """``breached``, ``possibly breached`` or ``held`` (see the module docstring)."""
    counted = [h for h in hits if h.counted]
    if any(h.confidence == "confirmed" and h.hit_probability >= BREACH_CONFIRMED_PROBABILITY for h in counted):
        return "breached"
    if any(h.hit_probability >= threshold for h in counted):
        return "possibly breached"
    return "held"


@dataclass(frozen=True)
class ComplianceEntry:
    """The compliance of one commitment."""

    record: CommitmentRecord
    objects: list[dict[str, Any]]
    hits: list[ComplianceHit]
    status: str
    threshold: float
    analysis: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """What ``deconflict compliance --json`` and ``/api/v1/compliance`` print per commitment."""
        return {
            "commitment": self.record.to_json(),
            "status": self.status,
            "threshold": self.threshold,
            "objects": self.objects,
            "hits": [h.to_json() for h in self.hits],
            "analysis": self.analysis,
            "notes": self.notes,
            "caveat": "a record of what was recorded and how probably each strike hit; not a finding of intent",
        }


def _analysis_rows(
    db: Database, principal: Principal, options: AnalysisOptions | None, site_ids: set[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    from deconflict.analysis import analyze_database, resolve_options

    if not site_ids:
        return [], []
    try:
        run = analyze_database(db, options or resolve_options(db), principal)
    except (InvalidInput, VerificationError) as exc:  # too few incidents, or tables that differ from the log
        return [], [f"analysis p-values are not shown: {exc.message}"]
    keys = ("site_id", "name", "observed", "expected", "p_value", "observed_after", "expected_after",
            "p_value_after", "p_adjusted", "sentence", "data_labels")  # fmt: skip
    rows = [{k: row.get(k) for k in keys} for row in run.rows() if row["site_id"] in site_ids]
    return rows, []


def compliance(
    db: Database,
    *,
    party: str | None = None,
    owner: str | None = None,
    principal: Principal | None = None,
    options: AnalysisOptions | None = None,
    now: datetime | None = None,
) -> list[ComplianceEntry]:
    """The compliance of every commitment the caller may read (of ``party``, covering ``owner``'s objects).

    Objects the caller may not see are left out of its entries (and said so in the notes).
    """
    from deconflict.access import Principal

    caller = principal or Principal.local()
    tz = db.timezone
    threshold = db.alerts.threshold()
    alert_ids = {
        (a.alert.incident_id, a.alert.object.kind, a.alert.object.id, a.alert.commitment_id): a.alert.id
        for a in db.alerts.list()
    }
    found = []
    for record in db.commitments.records(party=party, owner=owner, principal=caller, now=now or datetime.now(UTC)):
        commitment = record.commitment
        objects: list[dict[str, Any]] = []
        hits: list[ComplianceHit] = []
        hidden = 0
        for ref in commitment.objects:
            if ref.kind == "site":
                site = db.sites.get(ref.id)
                if caller.site_view(site) is None:
                    hidden += 1
                    continue
                window: Window | None = commitment.window
                concerning = incidents_concerning(db.store, site, reach_cap_m=caller.reach_cap_m(site))
                exposures = site_exposures([site], concerning)
                objects.append({"kind": "site", "id": site.id, "label": site.name, "owner": site.owner,
                                "approximate": site.approximate})  # fmt: skip
            else:
                try:
                    movement = db.movements.get(ref.id, principal=caller)
                except NotFound:  # another owner's movement: not the caller's to see
                    hidden += 1
                    continue
                window = commitment.window.intersect(movement.window)
                concerning = incidents_concerning_movement(db.store, movement, reach_cap_m=caller.corridor_cap_m)
                exposures = movement_exposures(movement, concerning)
                objects.append({"kind": "movement", "id": movement.id, "label": movement.label,
                                "owner": movement.owner, "synthetic": movement.synthetic})  # fmt: skip
            if window is None:
                continue
            for exposure in exposures:
                incident = exposure.incident
                fraction = window.fraction_of(incident.time)
                if exposure.spatial_probability * fraction < DEFAULT_MIN_PROBABILITY:
                    continue
                key = (incident.id, ref.kind, ref.id, commitment.id)
                hits.append(ComplianceHit(
                    ref, incident.id, incident.time.to_text(), exposure.spatial_probability, fraction,
                    incident.confidence, incident.provenance, incident.counted, alert_ids.get(key),
                ))  # fmt: skip
        hits.sort(key=lambda h: (-h.hit_probability, h.incident_id, h.object.id))
        notes = [f"{hidden} covered object(s) outside this caller's scope are left out"] if hidden else []
        if commitment.form == "public-statement":
            notes.append("this commitment is a public statement, recorded as such (not a note or an agreement)")
        if commitment.window.start < commitment.made_at.start:
            notes.append(
                f"the window begins {format_instant(commitment.window.start, tz)}, before the commitment was made "
                f"({format_instant(commitment.made_at.start, tz)}): a retroactive undertaking, as recorded; strikes "
                "before "
                "it was made are not evidence that it was broken"
            )
        if record.status == "unacknowledged" and commitment.deadline is not None:
            notes.append(f"not acknowledged by the deadline {format_instant(commitment.deadline, tz)}")
        analysis, analysis_notes = _analysis_rows(
            db, caller, options, {o["id"] for o in objects if o["kind"] == "site"}
        )
        found.append(ComplianceEntry(record, objects, hits, commitment_status(hits, threshold), threshold, analysis,
                                     notes + analysis_notes))  # fmt: skip
    return found
