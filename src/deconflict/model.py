"""Validated value types: :class:`Site`, :class:`Incident`, :class:`Source`, :class:`Notification`,
:class:`Acknowledgement`, :class:`Claim`.

Every constructor validates its fields and raises :class:`~deconflict.errors.InvalidInput`
naming the field, so a record that exists is a record that is valid. Readers of files
(:mod:`deconflict.ingest`) add the file and row to the error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import pycountry

from deconflict.errors import InvalidInput
from deconflict.ids import check_id as _check_id
from deconflict.times import TimeSpan

__all__ = [
    "CLAIM_KINDS",
    "CLAIM_STATUSES",
    "CONFIDENCE_LEVELS",
    "COUNTED_CONFIDENCE",
    "COUNTED_STATUSES",
    "DEFAULT_RADIUS_M",
    "INCIDENT_STATUSES",
    "MAX_OWNER_REACH_M",
    "MAX_OWNER_WIDTH_M",
    "SITE_KINDS",
    "UNCERTAINTY_MODELS",
    "Acknowledgement",
    "Claim",
    "ExtraValue",
    "Incident",
    "Notification",
    "Site",
    "Source",
    "check_lat_lon",
    "check_owner",
    "counted_mask",
    "is_counted",
    "owner_name",
]

#: Site kinds and their default protection (hit) radius in metres: the distance from the
#: site's point within which an impact counts as a hit on the premises when no footprint or
#: explicit ``radius_m`` is given. Compounds of diplomatic missions are typically 20-60 m
#: across; hospitals, power plants and heritage sites are larger.
DEFAULT_RADIUS_M: dict[str, float] = {
    "embassy": 50.0,
    "consular_section": 30.0,
    "consulate": 40.0,
    "cultural_centre": 30.0,
    "residence": 30.0,
    "international_organisation": 50.0,
    "hospital": 100.0,
    "school": 60.0,
    "heritage": 100.0,
    "power_plant": 500.0,
    "humanitarian": 50.0,
    "other": 50.0,
}
SITE_KINDS: tuple[str, ...] = tuple(DEFAULT_RADIUS_M)
#: The largest reach (metres) of a site of each kind that a non-admin token may register or amend
#: to: the radius, or the farthest footprint vertex from the site's point plus the radius
#: (:func:`deconflict.relevance.site_reach_m`). An admin may record more. An owner's exact view of
#: incidents is bounded by the same figure, whatever the stored radius
#: (:meth:`deconflict.access.Principal.reach_cap_m`): a site's reach decides which incidents its
#: owner reads exactly, so it must not be the owner's to widen.
MAX_OWNER_REACH_M: dict[str, float] = {
    "embassy": 300.0,
    "consular_section": 200.0,
    "consulate": 300.0,
    "cultural_centre": 200.0,
    "residence": 200.0,
    "international_organisation": 500.0,
    "hospital": 1000.0,
    "school": 500.0,
    "heritage": 1000.0,
    "power_plant": 2000.0,
    "humanitarian": 500.0,
    "other": 300.0,
}
#: The widest movement corridor (metres) a non-admin token may register (an admin may record up to
#: :data:`deconflict.guarantees.model.MAX_WIDTH_M`); an owner's views reach at most half of it from
#: the route, whatever the stored width.
MAX_OWNER_WIDTH_M: float = 2_000.0

CONFIDENCE_LEVELS: tuple[str, ...] = ("confirmed", "fair", "weak", "contested", "discounted")
#: Confidence levels that count in statistics; ``discounted`` incidents are kept but not counted.
COUNTED_CONFIDENCE: frozenset[str] = frozenset({"confirmed", "fair", "weak", "contested"})
INCIDENT_STATUSES: tuple[str, ...] = ("confirmed", "unverified", "rejected")
#: Review statuses that count in statistics (``unverified`` waits for a person; ``rejected`` never counts).
COUNTED_STATUSES: frozenset[str] = frozenset({"confirmed"})
#: ``disk``: the impact lies uniformly in a disk of radius ``uncertainty_m``;
#: ``normal``: isotropic bivariate normal whose 95 % circle has radius ``uncertainty_m``.
UNCERTAINTY_MODELS: tuple[str, ...] = ("disk", "normal")

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")

# ISO 3166-1 alpha-3 user-assigned ranges (AAA-AAZ, QMA-QZZ, XAA-XZZ, ZZA-ZZZ): used for
# parties that are not states, e.g. XEU for the European Union, XUN for the United Nations.
_USER_ASSIGNED_NAMES = {"XEU": "European Union", "XUN": "United Nations", "XKX": "Kosovo"}


def _user_assigned(code: str) -> bool:
    return code.startswith("AA") or (code[0] == "Q" and code[1] >= "M") or code[0] == "X" or code.startswith("ZZ")


def check_owner(value: str, field_name: str = "owner") -> str:
    """Return ``value`` as an upper-case ISO 3166-1 alpha-3 code or raise :class:`InvalidInput`."""
    code = (value or "").strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise InvalidInput(f"{field_name} must be an ISO 3166-1 alpha-3 code such as AZE, got {value!r}")
    if pycountry.countries.get(alpha_3=code) is None and not _user_assigned(code):
        raise InvalidInput(f"{field_name} {value!r} is not an ISO 3166-1 alpha-3 country code")
    return code


def owner_name(code: str) -> str:
    """The English short name of an alpha-3 code (the code itself when unknown)."""
    country = pycountry.countries.get(alpha_3=code)
    if country is not None:
        return str(getattr(country, "common_name", None) or country.name)
    return _USER_ASSIGNED_NAMES.get(code, code)


def _finite(value: Any, field_name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{field_name} must be a number, got {value!r}") from exc
    if not math.isfinite(number):
        raise InvalidInput(f"{field_name} must be a finite number, got {value!r}")
    return number


def check_lat_lon(lat: Any, lon: Any) -> tuple[float, float]:
    """Validate WGS84 latitude/longitude in degrees and return them as floats."""
    latitude = _finite(lat, "lat")
    longitude = _finite(lon, "lon")
    if not -90.0 <= latitude <= 90.0:
        raise InvalidInput(f"lat {latitude} is outside [-90, 90]")
    if not -180.0 <= longitude <= 180.0:
        raise InvalidInput(f"lon {longitude} is outside [-180, 180]")
    return latitude, longitude


def is_counted(status: str, confidence: str) -> bool:
    """THE rule of what counts in statistics: a confirmed record whose confidence is not ``discounted``."""
    return status in COUNTED_STATUSES and confidence in COUNTED_CONFIDENCE


def counted_mask(statuses: Iterable[str], confidences: Iterable[str]) -> list[bool]:
    """:func:`is_counted` of each (status, confidence) pair."""
    return [is_counted(s, c) for s, c in zip(statuses, confidences, strict=True)]


#: A value of :attr:`Incident.extra`: what a source gives beyond the interchange columns.
ExtraValue = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Source:
    """A document an incident rests on, with its SHA-256 for the chain of custody."""

    url: str | None = None
    sha256: str | None = None
    title: str | None = None

    def __post_init__(self) -> None:
        if self.sha256 is not None:
            digest = self.sha256.strip().lower()
            if not _SHA256.match(digest):
                raise InvalidInput(f"source_sha256 must be 64 hex digits, got {self.sha256!r}")
            object.__setattr__(self, "sha256", digest)


@dataclass(frozen=True, slots=True)
class Site:
    """A protected site.

    Attributes
    ----------
    id
        Stable identifier (letters, digits, ``._:-``).
    name
        Primary name; ``names`` holds ``(language, name)`` pairs in other languages/scripts.
    kind
        One of :data:`SITE_KINDS`.
    owner
        ISO 3166-1 alpha-3 code of the state (or user-assigned code of the organisation)
        the site belongs to.
    lat, lon
        WGS84 degrees of the site's reference point.
    radius_m
        Protection (hit) radius in metres; defaults per kind (:data:`DEFAULT_RADIUS_M`).
    footprint_wkt
        Optional WGS84 polygon of the premises as WKT.
    approximate
        True when the location is approximate (e.g. placed by hand from a press report).
    """

    id: str
    name: str
    kind: str
    owner: str
    lat: float
    lon: float
    radius_m: float = -1.0
    address: str | None = None
    city: str | None = None
    names: tuple[tuple[str, str], ...] = ()
    footprint_wkt: str | None = None
    approximate: bool = False
    source: str | None = None
    notes: str | None = None

    def __post_init__(self) -> None:
        _check_id(self.id)
        if not self.name or not self.name.strip():
            raise InvalidInput("name is empty")
        kind = (self.kind or "").strip().lower().replace(" ", "_").replace("-", "_")
        if kind not in DEFAULT_RADIUS_M:
            raise InvalidInput(f"kind {self.kind!r} is not one of {', '.join(SITE_KINDS)}")
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "owner", check_owner(self.owner))
        lat, lon = check_lat_lon(self.lat, self.lon)
        object.__setattr__(self, "lat", lat)
        object.__setattr__(self, "lon", lon)
        # -1.0 (the default) means "the default radius of the kind"; any other value must be a radius.
        radius = DEFAULT_RADIUS_M[kind] if self.radius_m is None or self.radius_m == -1.0 else self.radius_m
        radius = _finite(radius, "radius_m")
        if not 0 < radius <= 50_000:
            raise InvalidInput(f"radius_m must be in (0, 50000] metres, got {radius}")
        object.__setattr__(self, "radius_m", radius)
        for lang, alt in self.names:
            if not _LANG.match(lang):
                raise InvalidInput(f"name language {lang!r} is not a language tag such as 'uk' or 'de'")
            if not alt.strip():
                raise InvalidInput(f"name:{lang} is empty")
        if self.footprint_wkt:
            _check_footprint(self.footprint_wkt)

    def with_changes(self, **changes: Any) -> Site:
        """A copy with ``changes`` applied (and validated)."""
        return replace(self, **changes)


def _check_footprint(wkt: str) -> None:
    from shapely import wkt as shapely_wkt
    from shapely.errors import ShapelyError

    try:
        geometry = shapely_wkt.loads(wkt)
    except (ShapelyError, ValueError, TypeError) as exc:
        raise InvalidInput(f"footprint is not valid WKT: {exc}") from exc
    if geometry.geom_type not in ("Polygon", "MultiPolygon") or not geometry.is_valid:
        raise InvalidInput("footprint must be a valid WGS84 Polygon or MultiPolygon")


@dataclass(frozen=True, slots=True)
class Incident:
    """A reported strike, with the uncertainty of its time and place.

    Attributes
    ----------
    time
        When it happened, as a :class:`~deconflict.times.TimeSpan`.
    lat, lon, uncertainty_m, uncertainty_model
        Reported impact point (WGS84) and the radius in metres within which the true
        impact lies (see :data:`UNCERTAINTY_MODELS`).
    confidence
        One of :data:`CONFIDENCE_LEVELS`.
    provenance
        Where the record comes from, shown wherever it is displayed: e.g. ``reported``
        (public reporting), ``synthetic`` (simulated), ``extracted`` (from a news text).
    status
        ``confirmed`` records count in statistics; ``unverified`` ones wait for review.
    """

    id: str
    time: TimeSpan
    lat: float
    lon: float
    uncertainty_m: float = 0.0
    uncertainty_model: str = "disk"
    kind: str | None = None
    weapon: str | None = None
    confidence: str = "confirmed"
    source: Source = field(default_factory=Source)
    notes: str | None = None
    provenance: str | None = None
    status: str = "confirmed"
    extra: tuple[tuple[str, ExtraValue], ...] = ()
    more_sources: tuple[Source, ...] = ()

    def __post_init__(self) -> None:
        _check_id(self.id)
        if self.extra:
            _check_extra(self.extra)
        lat, lon = check_lat_lon(self.lat, self.lon)
        object.__setattr__(self, "lat", lat)
        object.__setattr__(self, "lon", lon)
        uncertainty = _finite(self.uncertainty_m, "uncertainty_m")
        if not 0 <= uncertainty <= 500_000:
            raise InvalidInput(f"uncertainty_m must be in [0, 500000] metres, got {uncertainty}")
        object.__setattr__(self, "uncertainty_m", uncertainty)
        if self.uncertainty_model not in UNCERTAINTY_MODELS:
            raise InvalidInput(
                f"uncertainty_model {self.uncertainty_model!r} is not one of {', '.join(UNCERTAINTY_MODELS)}"
            )
        confidence = (self.confidence or "confirmed").strip().lower()
        if confidence not in CONFIDENCE_LEVELS:
            raise InvalidInput(f"confidence {self.confidence!r} is not one of {', '.join(CONFIDENCE_LEVELS)}")
        object.__setattr__(self, "confidence", confidence)
        if self.status not in INCIDENT_STATUSES:
            raise InvalidInput(f"status {self.status!r} is not one of {', '.join(INCIDENT_STATUSES)}")

    @property
    def counted(self) -> bool:
        """Whether the incident counts in statistics (confirmed status, not discounted)."""
        return is_counted(self.status, self.confidence)

    @property
    def sources(self) -> tuple[Source, ...]:
        """Every source of the incident: its own and those of reports merged into it."""
        own = () if self.source == Source() else (self.source,)
        return own + self.more_sources

    @property
    def extra_fields(self) -> dict[str, ExtraValue]:
        """The source-specific fields (e.g. ACLED ``fatalities``, ``actor1``) as a dict."""
        return dict(self.extra)


def _check_extra(extra: tuple[tuple[str, ExtraValue], ...]) -> None:
    keys = [key for key, _ in extra]
    if keys != sorted(set(keys)):
        raise InvalidInput("extra fields must be (name, value) pairs with distinct names, sorted by name")
    for key, value in extra:
        if not isinstance(key, str) or not key:
            raise InvalidInput(f"extra field name {key!r} is not a non-empty text")
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput(f"extra field {key!r} must be a finite number, got {value!r}")
        if value is not None and not isinstance(value, str | int | float | bool):
            raise InvalidInput(f"extra field {key!r} must be text, a number, a boolean or null, got {value!r}")


@dataclass(frozen=True, slots=True)
class Notification:
    """A notification of protected sites (and movements, :mod:`deconflict.guarantees`) to a party.

    ``notified_at`` is a :class:`TimeSpan`: when the exact date is not public (as for
    Azerbaijan's transmission to Russia, known only to lie between two hits) it is an
    interval, and statistics count "after notification" from its end.
    """

    id: str
    site_ids: tuple[str, ...]
    recipient: str
    notified_at: TimeSpan
    channel: str | None = None
    reference: str | None = None
    text: str | None = None
    sender: str | None = None
    movement_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_id(self.id)
        if not self.site_ids and not self.movement_ids:
            raise InvalidInput("a notification names at least one site or movement")
        for site_id in self.site_ids:
            _check_id(site_id, "site id")
        for movement_id in self.movement_ids:
            _check_id(movement_id, "movement id")
        for what, ids in (("site", self.site_ids), ("movement", self.movement_ids)):
            repeated = sorted({s for s in ids if ids.count(s) > 1})
            if repeated:
                raise InvalidInput(f"{what}(s) named twice in one notification: {', '.join(repeated)}")
        object.__setattr__(self, "recipient", check_owner(self.recipient, "recipient"))
        if self.sender is not None:
            object.__setattr__(self, "sender", check_owner(self.sender, "sender"))


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """A recipient's acknowledgement of a notification.

    ``recipient`` is the party that acknowledged (ISO 3166-1 alpha-3, usually the notification's
    recipient); ``at`` is when, as a :class:`TimeSpan`.
    """

    id: str
    notification_id: str
    recipient: str
    at: TimeSpan
    reference: str | None = None
    text: str | None = None

    def __post_init__(self) -> None:
        _check_id(self.id)
        _check_id(self.notification_id, "notification id")
        object.__setattr__(self, "recipient", check_owner(self.recipient, "recipient"))


#: What a claim read from a report says: that sites were notified, or a diplomatic response.
CLAIM_KINDS: tuple[str, ...] = ("notification", "response")
#: A claim waits for a person (``unverified``) who confirms or rejects it.
CLAIM_STATUSES: tuple[str, ...] = ("unverified", "confirmed", "rejected")


@dataclass(frozen=True, slots=True)
class Claim:
    """A claim read from a report, kept as an unverified candidate until a person reviews it.

    A ``notification`` claim says that the coordinates of ``site_ids`` were passed from
    ``sender`` to ``recipient`` some time in ``[not_before, not_after)`` (either bound may be
    unknown); a ``response`` claim is a ``response_kind`` (``protest_note``, ``summons``,
    ``statement``) by ``parties`` on ``response_date``. ``span``/``quote`` are the words in the
    report with SHA-256 ``source_sha256``. A confirmed notification claim names the
    :class:`Notification` it became.
    """

    id: str
    kind: str
    source_sha256: str
    span: tuple[int, int]
    quote: str
    confidence: float
    status: str = "unverified"
    source_name: str | None = None
    site_ids: tuple[str, ...] = ()
    site_candidates: tuple[tuple[str, ...], ...] = ()
    sender: str | None = None
    recipient: str | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    bounds_quote: str | None = None
    response_kind: str | None = None
    parties: tuple[str, ...] = ()
    response_date: date | None = None
    date_stated: bool | None = None
    created_at: str = ""
    reviewed_at: str | None = None
    review_note: str | None = None
    notification_id: str | None = None

    def __post_init__(self) -> None:
        _check_id(self.id)
        if self.kind not in CLAIM_KINDS:
            raise InvalidInput(f"claim kind must be one of {', '.join(CLAIM_KINDS)}, got {self.kind!r}")
        if self.status not in CLAIM_STATUSES:
            raise InvalidInput(f"claim status must be one of {', '.join(CLAIM_STATUSES)}, got {self.status!r}")
        for bound in (self.not_before, self.not_after):
            if bound is not None and bound.tzinfo is None:
                raise InvalidInput("claim bounds must be timezone-aware")

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (times as ISO 8601 UTC)."""
        from deconflict.times import format_utc

        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "source_sha256": self.source_sha256,
            "source_name": self.source_name,
            "span": list(self.span),
            "quote": self.quote,
            "confidence": self.confidence,
            "site_ids": list(self.site_ids),
            "site_candidates": [list(c) for c in self.site_candidates],
            "sender": self.sender,
            "recipient": self.recipient,
            "not_before": format_utc(self.not_before) if self.not_before else None,
            "not_after": format_utc(self.not_after) if self.not_after else None,
            "bounds_quote": self.bounds_quote,
            "response_kind": self.response_kind,
            "parties": list(self.parties),
            "response_date": self.response_date.isoformat() if self.response_date else None,
            "date_stated": self.date_stated,
            "created_at": self.created_at,
            "reviewed_at": self.reviewed_at,
            "review_note": self.review_note,
            "notification_id": self.notification_id,
        }
