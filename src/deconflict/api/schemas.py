"""Request and response models of the HTTP API, and the views of records a scope may see.

Every error response has one shape, :class:`ErrorResponse`::

    {"error": {"code": "not_found", "message": "no site 'x'", "where": null, "status": 404}}

:func:`site_out` and :func:`incident_out` are the only places a record's coordinates leave
the server: each takes the caller's view (``exact`` or ``coarse``) and drops or coarsens
what the caller may not read.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from deconflict.access import LocationView, coarsen
from deconflict.ids import ID_PATTERN
from deconflict.model import Acknowledgement, Incident, Notification, Site
from deconflict.times import TimeSpan, format_utc

__all__ = [
    "MAX_PAGE",
    "AcknowledgementIn",
    "AcknowledgementOut",
    "AnalysisOut",
    "ConsistencyProofOut",
    "ErrorBody",
    "ErrorResponse",
    "ImportOut",
    "IncidentIn",
    "IncidentOut",
    "InclusionProofOut",
    "LogEntryOut",
    "LogInfo",
    "MatchOut",
    "NotificationIn",
    "NotificationOut",
    "Page",
    "SiteIn",
    "SiteOut",
    "Span",
    "WriteResult",
    "incident_out",
    "site_out",
    "span_out",
]

MAX_PAGE = 1000
T = TypeVar("T")
_ID = ID_PATTERN
_ISO3 = r"^[A-Za-z]{3}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    """What went wrong: a stable ``code``, a sentence, the input at fault, the HTTP status."""

    code: str = Field(description="Stable machine-readable code, e.g. not_found, invalid_input.")
    message: str = Field(description="What is wrong, in words a user understands.")
    where: str | None = Field(description="The input at fault (file, row, field or request part), or null.")
    status: int = Field(description="The HTTP status of the response.")
    warnings: list[str] | None = Field(
        None, description="For code implausible: what looks wrong; send force=true to record it anyway."
    )


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorBody


class Page(BaseModel, Generic[T]):
    """One page of a listing; ``next_offset`` is null on the last page."""

    items: list[T]
    limit: int
    offset: int
    next_offset: int | None


class Span(BaseModel):
    """A time known to lie in ``[start, end)`` (ISO 8601 UTC), with its precision."""

    start: str
    end: str
    precision: str
    text: str = Field(description="The span as ISO 8601 text that the API reads back.")


def span_out(span: TimeSpan) -> Span:
    """A :class:`TimeSpan` as a :class:`Span`."""
    return Span(start=format_utc(span.start), end=format_utc(span.end), precision=span.precision, text=span.to_text())


# -- sites --------------------------------------------------------------------------------------
class SiteIn(_In):
    """A protected site to register (the interchange format's fields)."""

    id: str | None = Field(None, pattern=_ID, description="Default: generated.")
    name: str = Field(min_length=1, max_length=500)
    kind: str = Field(min_length=1, max_length=64)
    owner: str = Field(pattern=_ISO3, description="ISO 3166-1 alpha-3 of the owner state.")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_m: float | None = Field(None, gt=0, le=50_000)
    address: str | None = Field(None, max_length=500)
    city: str | None = Field(None, max_length=200)
    names: dict[str, str] = Field(default_factory=dict, description="Other names by language tag (uk, de, ru).")
    footprint_wkt: str | None = Field(None, max_length=100_000)
    approximate: bool = False
    source: str | None = Field(None, max_length=2000)
    notes: str | None = Field(None, max_length=4000)
    force: bool = Field(False, description="Register it even when a plausibility check warns.")


class SiteOut(BaseModel):
    """A site as the caller may see it.

    With ``location_precision`` ``cell_0.01deg`` the coordinates are the centre of the
    0.01° cell holding the site, and address, footprint, source and notes are withheld.
    """

    id: str
    name: str
    kind: str
    owner: str
    lat: float
    lon: float
    location_precision: Literal["exact", "cell_0.01deg"]
    radius_m: float
    city: str | None
    names: dict[str, str]
    approximate: bool
    address: str | None
    footprint_wkt: str | None
    source: str | None
    notes: str | None
    distance_m: float | None = Field(None, description="From the search point (rounded to 1 km when coarse).")


def site_out(site: Site, view: LocationView, distance_m: float | None = None) -> SiteOut:
    """The caller's view of ``site``: exact, or coarsened with location details withheld."""
    exact = view == "exact"
    lat, lon = (site.lat, site.lon) if exact else coarsen(site.lat, site.lon)
    if distance_m is not None and not exact:
        distance_m = round(distance_m, -3)
    return SiteOut(
        id=site.id, name=site.name, kind=site.kind, owner=site.owner, lat=lat, lon=lon,
        location_precision="exact" if exact else "cell_0.01deg", radius_m=site.radius_m, city=site.city,
        names=dict(site.names), approximate=site.approximate,
        address=site.address if exact else None, footprint_wkt=site.footprint_wkt if exact else None,
        source=site.source if exact else None, notes=site.notes if exact else None, distance_m=distance_m,
    )  # fmt: skip


# -- incidents ----------------------------------------------------------------------------------
class IncidentIn(_In):
    """A strike report (the interchange format's fields)."""

    id: str | None = Field(None, pattern=_ID, description="Default: generated.")
    time: str = Field(min_length=1, max_length=100, description="ISO 8601 date, date-time or start/end.")
    time_precision: str | None = Field(None, max_length=20)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    uncertainty_m: float = Field(0.0, ge=0, le=500_000)
    uncertainty_model: Literal["disk", "normal"] = "disk"
    kind: str | None = Field(None, max_length=100)
    weapon: str | None = Field(None, max_length=100)
    confidence: Literal["confirmed", "fair", "weak", "contested", "discounted"] = "confirmed"
    source_url: str | None = Field(None, max_length=2000)
    source_sha256: str | None = Field(None, pattern=r"^[0-9a-fA-F]{64}$")
    notes: str | None = Field(None, max_length=4000)
    provenance: str | None = Field(None, max_length=100)
    status: Literal["confirmed", "unverified", "rejected"] = "confirmed"
    extra: dict[str, str | int | float | bool | None] | None = Field(
        None, description="Source-specific fields (e.g. ACLED fatalities, actor1)."
    )


class IncidentOut(BaseModel):
    """An incident as the caller may see it (coordinates coarsened for analysts)."""

    id: str
    time: Span
    lat: float
    lon: float
    location_precision: Literal["exact", "cell_0.01deg"]
    uncertainty_m: float
    uncertainty_model: str
    kind: str | None
    weapon: str | None
    confidence: str
    source_url: str | None
    source_sha256: str | None
    notes: str | None
    provenance: str | None
    status: str


def incident_out(incident: Incident, view: LocationView) -> IncidentOut:
    """The caller's view of ``incident``."""
    exact = view == "exact"
    lat, lon = (incident.lat, incident.lon) if exact else coarsen(incident.lat, incident.lon)
    return IncidentOut(
        id=incident.id, time=span_out(incident.time), lat=lat, lon=lon,
        location_precision="exact" if exact else "cell_0.01deg", uncertainty_m=incident.uncertainty_m,
        uncertainty_model=incident.uncertainty_model, kind=incident.kind, weapon=incident.weapon,
        confidence=incident.confidence, source_url=incident.source.url, source_sha256=incident.source.sha256,
        notes=incident.notes, provenance=incident.provenance, status=incident.status,
    )  # fmt: skip


class SkippedRow(BaseModel):
    """A row a bulk import skipped, numbered as a spreadsheet shows it, and why."""

    row: int
    reason: str


class ImportOut(BaseModel):
    """What an incident import did."""

    added: int
    sha256: str
    format: str
    skipped: list[SkippedRow]
    ignored_columns: list[str]
    updated: int = Field(0, description="Stored records the upload revised (on_existing=update).")
    unchanged: int = Field(0, description="Stored records the upload has unchanged, or skipped.")
    warnings: list[str] = Field(default_factory=list)


# -- notifications ------------------------------------------------------------------------------
class NotificationIn(_In):
    """A notification of sites to a party."""

    id: str | None = Field(None, pattern=_ID, description="Default: generated.")
    site_ids: list[str] = Field(
        min_length=1, max_length=200, description="At most 200 (a log entry stays under 64 KiB)."
    )
    recipient: str = Field(pattern=_ISO3, description="ISO3 of the party notified, e.g. RUS.")
    notified_at: str = Field(min_length=1, max_length=100, description="ISO 8601 date-time, date or start/end.")
    sender: str | None = Field(None, pattern=_ISO3, description="Default: the sites' owner.")
    channel: str | None = Field(None, max_length=200)
    reference: str | None = Field(None, max_length=200)
    text: str | None = Field(None, max_length=4000, description="Free text; it is public in the log entry.")
    force: bool = Field(False, description="Record it even when a plausibility check warns.")


class NotificationOut(BaseModel):
    """A stored notification and its log entry."""

    id: str
    site_ids: list[str]
    recipient: str
    sender: str | None
    notified_at: Span
    channel: str | None
    reference: str | None
    text: str | None
    log_index: int

    @classmethod
    def of(cls, notification: Notification, index: int) -> NotificationOut:
        """From the library's record."""
        return cls(
            id=notification.id, site_ids=list(notification.site_ids), recipient=notification.recipient,
            sender=notification.sender, notified_at=span_out(notification.notified_at),
            channel=notification.channel, reference=notification.reference, text=notification.text, log_index=index,
        )  # fmt: skip


class AcknowledgementIn(_In):
    """A recipient's acknowledgement of a notification."""

    id: str | None = Field(None, pattern=_ID, description="Default: generated.")
    by: str = Field(pattern=_ISO3, description="ISO3 of who acknowledged, usually the recipient.")
    at: str = Field(min_length=1, max_length=100)
    reference: str | None = Field(None, max_length=200)
    text: str | None = Field(None, max_length=4000)
    force: bool = Field(False, description="Record it even when a plausibility check warns.")


class AcknowledgementOut(BaseModel):
    """A stored acknowledgement and its log entry."""

    id: str
    notification_id: str
    recipient: str
    at: Span
    reference: str | None
    text: str | None
    log_index: int

    @classmethod
    def of(cls, ack: Acknowledgement, index: int) -> AcknowledgementOut:
        """From the library's record."""
        return cls(
            id=ack.id, notification_id=ack.notification_id, recipient=ack.recipient, at=span_out(ack.at),
            reference=ack.reference, text=ack.text, log_index=index,
        )  # fmt: skip


class WriteResult(BaseModel):
    """A record written and the index of the log entry that commits to it."""

    id: str
    log_index: int


# -- log ----------------------------------------------------------------------------------------
class LogInfo(BaseModel):
    """The log's identity and current state."""

    origin: str
    verifier_key: str
    size: int
    root_hash: str = Field(description="Base64 RFC 6962 root of the current tree.")
    tiles: str = Field(description="The C2SP tlog-tiles prefix (checkpoint, tile/, tile/entries/).")


class LogEntryOut(BaseModel):
    """One log entry: its exact bytes (base64) and the same decoded."""

    index: int
    kind: str
    logged_at: str
    leaf_hash: str
    data_b64: str
    entry: dict[str, Any]


class InclusionProofOut(BaseModel):
    """RFC 9162 inclusion proof, hashes base64, leaf to root."""

    index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    proof: list[str]


class ConsistencyProofOut(BaseModel):
    """RFC 9162 consistency proof between two tree sizes, hashes base64."""

    old_size: int
    new_size: int
    old_root: str
    new_root: str
    proof: list[str]


# -- analysis -----------------------------------------------------------------------------------
class MatchOut(BaseModel):
    """A candidate hit; ``distance_m`` is rounded to 1 km for coarse views."""

    site_id: str
    incident_id: str
    hit_probability: float
    distance_m: float
    incident_time: str
    provenance: str | None = None
    counted: bool


class AnalysisOut(BaseModel):
    """Per-site statistics (the rows of ``deconflict analyze --json``) and what they assume."""

    items: list[dict[str, Any]]
    seed: int
    assumptions: list[str]
    data_labels: list[str] = []
