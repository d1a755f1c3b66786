"""Validated value types of guarantees: movements, commitments, their acknowledgements, alerts.

Like :mod:`deconflict.model`, every constructor validates its fields and raises
:class:`~deconflict.errors.InvalidInput` naming the field, so a record that exists is valid.

- :class:`Movement`: a humanitarian movement (convoy, evacuation, staff move) notified like a
  site: a route of waypoints joined by geodesics, a corridor width in metres, a time window.
- :class:`Commitment`: what a party undertook, for which named sites and movements, for which
  window, in which words (text or reference), with a deadline for its acknowledgement.
- :class:`CommitmentAcknowledgement`: the party's acknowledgement of a commitment.
- :class:`Alert`: a possible breach: an incident that may have hit a protected object while a
  notification or commitment covered it, with the hit probability.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from deconflict.errors import InvalidInput
from deconflict.ids import check_id
from deconflict.model import check_lat_lon, check_owner
from deconflict.times import TimeSpan, format_utc

__all__ = [
    "ACKNOWLEDGEMENT_STATES",
    "BASIS_KINDS",
    "COMMITMENT_FORMS",
    "MAX_WIDTH_M",
    "MOVEMENT_KINDS",
    "OBJECT_KINDS",
    "Alert",
    "Commitment",
    "CommitmentAcknowledgement",
    "Movement",
    "ObjectRef",
    "Window",
]

MOVEMENT_KINDS: tuple[str, ...] = ("convoy", "evacuation", "staff", "medical", "other")
#: How an undertaking was given. ``public-statement`` is what a party said in public: recorded,
#: and labelled as such, because a statement is weaker than a note or an agreement.
COMMITMENT_FORMS: tuple[str, ...] = ("note-verbale", "agreement", "letter", "public-statement", "meeting", "other")
OBJECT_KINDS: tuple[str, ...] = ("site", "movement")
#: What an alert rests on: a commitment covering the object, or its notification.
BASIS_KINDS: tuple[str, ...] = ("commitment", "notification")
#: ``awaiting``: deadline ahead; ``acknowledged`` (by the deadline), ``acknowledged late``;
#: ``unacknowledged``: the deadline passed in silence; ``not requested``: no deadline.
ACKNOWLEDGEMENT_STATES: tuple[str, ...] = (
    "awaiting",
    "acknowledged",
    "acknowledged late",
    "unacknowledged",
    "not requested",
)
#: The widest corridor accepted (a corridor is a road or a sea lane, not a region).
MAX_WIDTH_M = 100_000.0


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    stripped = value.strip()
    return stripped or None


@dataclass(frozen=True, slots=True)
class Window:
    """A time window ``[start, end]`` (UTC); ``end`` None means open-ended."""

    start: datetime
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or (self.end is not None and self.end.tzinfo is None):
            raise InvalidInput("window times must be timezone-aware")
        if self.end is not None and self.end <= self.start:
            raise InvalidInput(
                f"the window ends ({format_utc(self.end)}) before it starts ({format_utc(self.start)})", where="until"
            )

    def to_json(self) -> dict[str, str | None]:
        """``{"start", "end"}`` as ISO 8601 UTC (``end`` null when open)."""
        return {"start": format_utc(self.start), "end": None if self.end is None else format_utc(self.end)}

    def to_text(self) -> str:
        """``start/end`` (``start/`` when open-ended)."""
        return f"{format_utc(self.start)}/{'' if self.end is None else format_utc(self.end)}"

    def intersect(self, other: Window) -> Window | None:
        """The common part of two windows, or None when they do not overlap."""
        start = max(self.start, other.start)
        ends = [e for e in (self.end, other.end) if e is not None]
        end = min(ends) if ends else None
        if end is not None and end <= start:
            return None
        return Window(start, end)

    def fraction_of(self, span: TimeSpan) -> float:
        """Which share of ``span`` lies in the window (the time is taken as uniform over ``span``)."""
        if span.end <= span.start:  # an instant: in or out
            inside = span.start >= self.start and (self.end is None or span.start <= self.end)
            return 1.0 if inside else 0.0
        start = max(span.start, self.start)
        end = span.end if self.end is None else min(span.end, self.end)
        overlap = (end - start).total_seconds()
        return max(0.0, min(1.0, overlap / (span.end - span.start).total_seconds()))


@dataclass(frozen=True, slots=True)
class Movement:
    """A humanitarian movement notified as a protected object.

    Attributes
    ----------
    id
        Stable identifier.
    owner
        ISO 3166-1 alpha-3 (or user-assigned, e.g. ``XUN``) code of the notifying state or
        organisation: who may read and write it, and whose channels its alerts go to.
    route
        Waypoints as ``(lat, lon)`` pairs, at least two, joined by geodesics.
    width_m
        Corridor width in metres: the corridor is the route buffered by half of it each side.
    window
        When the movement is protected (``end`` required).
    kind, name, organisation, vehicles, notes
        One of :data:`MOVEMENT_KINDS`; a label; the notifying organisation's name; vehicles and
        markings (free text); anything else.
    provenance
        ``synthetic`` for simulated movements (labelled wherever shown).
    """

    id: str
    owner: str
    route: tuple[tuple[float, float], ...]
    width_m: float
    window: Window
    kind: str = "convoy"
    name: str | None = None
    organisation: str | None = None
    vehicles: str | None = None
    notes: str | None = None
    provenance: str | None = None

    def __post_init__(self) -> None:
        check_id(self.id)
        try:
            object.__setattr__(self, "owner", check_owner(self.owner))
        except InvalidInput as exc:
            raise InvalidInput(exc.message, where="owner") from None
        kind = (self.kind or "convoy").strip().lower()
        if kind not in MOVEMENT_KINDS:
            raise InvalidInput(f"kind {self.kind!r} is not one of {', '.join(MOVEMENT_KINDS)}", where="kind")
        object.__setattr__(self, "kind", kind)
        points: list[tuple[float, float]] = []
        for lat, lon in self.route:
            point = check_lat_lon(lat, lon)
            if not points or points[-1] != point:  # a repeated waypoint adds nothing
                points.append(point)
        if len(points) < 2:
            raise InvalidInput("a route needs at least two different points", where="route")
        object.__setattr__(self, "route", tuple(points))
        try:
            width = float(self.width_m)
        except (TypeError, ValueError):
            raise InvalidInput(
                f"corridor width must be a number of metres, got {self.width_m!r}", where="width_m"
            ) from None
        if not math.isfinite(width) or not 0 < width <= MAX_WIDTH_M:
            raise InvalidInput(f"corridor width must be more than 0 and at most {MAX_WIDTH_M:,.0f} m, got {width:g}",
                               where="width_m")  # fmt: skip
        object.__setattr__(self, "width_m", width)
        if self.window.end is None:
            raise InvalidInput("a movement needs the end of its window", where="until")
        for name in ("name", "organisation", "vehicles", "notes", "provenance"):
            object.__setattr__(self, name, _text(getattr(self, name)))
        from deconflict.guarantees.routes import check_simple

        check_simple(self.route)

    @property
    def half_width_m(self) -> float:
        """Half the corridor width: how far from the route the corridor reaches."""
        return self.width_m / 2.0

    @property
    def synthetic(self) -> bool:
        """Whether the movement is simulated."""
        return (self.provenance or "").lower() == "synthetic"

    @property
    def label(self) -> str:
        """Its name, or its id."""
        return self.name or self.id


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """A protected object named by a record: ``kind`` (``site``/``movement``) and ``id``."""

    kind: str
    id: str

    def __post_init__(self) -> None:
        if self.kind not in OBJECT_KINDS:
            raise InvalidInput(f"object kind {self.kind!r} is not one of {', '.join(OBJECT_KINDS)}")
        check_id(self.id, f"{self.kind} id")

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"


@dataclass(frozen=True, slots=True)
class Commitment:
    """What ``party`` undertook for named sites and movements.

    Attributes
    ----------
    id
        Stable identifier.
    party
        Who undertook it (ISO 3166-1 alpha-3), e.g. ``RUS``.
    site_ids, movement_ids
        The objects it covers. ``owners`` records that it was given for *all* sites of these
        owners; they are resolved to the named sites when it is recorded, because a guarantee is
        checkable only for a list of objects (a category is not).
    made_at
        When it was made (a :class:`TimeSpan`; an interval when the date is not exact).
    window
        When it holds (default: from when it was made, open-ended).
    form, reference, text, source_url
        One of :data:`COMMITMENT_FORMS`; the note's reference; its words; where it is published.
    deadline
        By when the party is asked to acknowledge it (None: no acknowledgement requested).
    recorded_by
        The owner who recorded it (ISO3), or None for an admin.
    """

    id: str
    party: str
    made_at: TimeSpan
    window: Window
    site_ids: tuple[str, ...] = ()
    movement_ids: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    form: str = "note-verbale"
    reference: str | None = None
    text: str | None = None
    source_url: str | None = None
    deadline: datetime | None = None
    recorded_by: str | None = None

    def __post_init__(self) -> None:
        check_id(self.id)
        try:
            object.__setattr__(self, "party", check_owner(self.party, "party"))
        except InvalidInput as exc:
            raise InvalidInput(exc.message, where="party") from None
        form = (self.form or "").strip().lower()
        if form not in COMMITMENT_FORMS:
            raise InvalidInput(f"form {self.form!r} is not one of {', '.join(COMMITMENT_FORMS)}", where="form")
        object.__setattr__(self, "form", form)
        for site_id in self.site_ids:
            check_id(site_id, "site id")
        for movement_id in self.movement_ids:
            check_id(movement_id, "movement id")
        object.__setattr__(self, "owners", tuple(check_owner(o, "owner") for o in self.owners))
        if not self.site_ids and not self.movement_ids:
            raise InvalidInput("a commitment covers at least one site or movement (or an owner's sites)",
                               where="sites")  # fmt: skip
        for name, values in (("site", self.site_ids), ("movement", self.movement_ids)):
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise InvalidInput(f"{name}(s) named twice: {', '.join(repeated)}", where=f"{name}s")
        if self.deadline is not None:
            if self.deadline.tzinfo is None:
                raise InvalidInput("the deadline must be timezone-aware", where="deadline")
            if self.deadline < self.made_at.start:
                raise InvalidInput(
                    f"the acknowledgement deadline {format_utc(self.deadline)} is before the commitment was made "
                    f"({self.made_at.to_text()})",
                    where="deadline",
                )
        if self.recorded_by is not None:
            object.__setattr__(self, "recorded_by", check_owner(self.recorded_by, "recorded_by"))
        for name in ("reference", "text", "source_url"):
            object.__setattr__(self, name, _text(getattr(self, name)))

    @property
    def objects(self) -> tuple[ObjectRef, ...]:
        """Every object it covers."""
        return tuple(ObjectRef("site", s) for s in self.site_ids) + tuple(
            ObjectRef("movement", m) for m in self.movement_ids
        )

    def covers(self, ref: ObjectRef) -> bool:
        """Whether ``ref`` is one of its objects."""
        return ref.id in (self.site_ids if ref.kind == "site" else self.movement_ids)


@dataclass(frozen=True, slots=True)
class CommitmentAcknowledgement:
    """``party``'s acknowledgement of a commitment, at ``at``."""

    id: str
    commitment_id: str
    party: str
    at: TimeSpan
    reference: str | None = None
    text: str | None = None

    def __post_init__(self) -> None:
        check_id(self.id)
        check_id(self.commitment_id, "commitment id")
        object.__setattr__(self, "party", check_owner(self.party, "by"))


@dataclass(frozen=True, slots=True)
class Alert:
    """A possible breach, as logged.

    Attributes
    ----------
    id
        Derived from what it is about (incident, object, basis), so it is raised at most once.
    incident_id, incident_index
        The incident and the log entry (batch) holding it.
    object, owner
        The protected object and its owner (whose inbox and channels the alert goes to).
    basis_kind, basis_id, basis_index
        What protected it: a commitment, or the object's notification; and its log entry.
    hit_probability
        ``spatial_probability`` x ``time_fraction``: the probability that the incident hit the
        object's hit region (site radius/footprint, or corridor) while the basis held, with the
        incident's time taken as uniform over its reported interval.
    distance_m
        Geodesic distance from the incident's reported point to the site's point (or the route).
    threshold
        The threshold it was raised at; ``trigger`` what raised it (``import``, ``review``,
        ``monitor``, ``commitment``, ...).
    """

    id: str
    incident_id: str
    incident_index: int | None
    object: ObjectRef
    owner: str
    basis_kind: str
    basis_id: str
    basis_index: int
    hit_probability: float
    spatial_probability: float
    time_fraction: float
    distance_m: float
    threshold: float
    trigger: str
    notification_ids: tuple[str, ...] = ()
    log_index: int = -1
    logged_at: str = ""
    acknowledged: dict[str, Any] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        check_id(self.id)
        if self.basis_kind not in BASIS_KINDS:
            raise InvalidInput(f"basis {self.basis_kind!r} is not one of {', '.join(BASIS_KINDS)}")

    @property
    def commitment_id(self) -> str | None:
        """The commitment it rests on, if any."""
        return self.basis_id if self.basis_kind == "commitment" else None

    def to_json(self) -> dict[str, Any]:
        """The alert as every door prints it."""
        return {
            "id": self.id,
            "incident_id": self.incident_id,
            "incident_index": self.incident_index,
            "object_kind": self.object.kind,
            "object_id": self.object.id,
            "owner": self.owner,
            "basis": {"kind": self.basis_kind, "id": self.basis_id, "log_index": self.basis_index},
            "commitment_id": self.commitment_id,
            "notification_ids": list(self.notification_ids),
            "hit_probability": self.hit_probability,
            "spatial_probability": self.spatial_probability,
            "time_fraction": self.time_fraction,
            "distance_m": self.distance_m,
            "threshold": self.threshold,
            "trigger": self.trigger,
            "log_index": self.log_index,
            "raised_at": self.logged_at,
            "acknowledged": self.acknowledged,
        }
