"""``/api/v1`` guarantees: movements, commitments, alerts, channels, compliance, dossiers.

Every route calls one library function (``db.movements``, ``db.commitments``, ``db.alerts``,
``db.channels``, :func:`~deconflict.guarantees.compliance.compliance`,
:func:`~deconflict.guarantees.dossier.build_dossier`) with the caller's principal and returns its
JSON: the same JSON ``deconflict ... --json`` prints. Owners see their own movements and alerts
only; alerts and movements of other owners answer 404, as missing ones.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from deconflict.api.auth import PrincipalDep
from deconflict.api.deps import DbDep, SettingsDep
from deconflict.api.routes import api_router
from deconflict.api.schemas import WriteResult
from deconflict.errors import where_named
from deconflict.guarantees.movements import movement_json
from deconflict.ids import ID_PATTERN

__all__ = ["router"]

router = api_router("guarantees")
IdPath = Annotated[str, Path(pattern=ID_PATTERN)]
_ISO3 = r"^[A-Za-z]{3}$"


class MovementIn(BaseModel):
    """A movement to register (``route``: GeoJSON LineString, ``[[lon, lat], ...]`` or ``"lat,lon; ..."``)."""

    model_config = ConfigDict(extra="forbid")
    owner: str = Field(pattern=_ISO3)
    route: dict[str, Any] | list[list[float]] | str
    width_m: float
    start: str = Field(max_length=100, description="Start of the window (database timezone).")
    until: str = Field(max_length=100, description="End of the window; a date includes that day.")
    kind: str = "convoy"
    name: str | None = Field(default=None, max_length=500)
    organisation: str | None = Field(default=None, max_length=500)
    vehicles: str | None = Field(default=None, max_length=2000)
    notes: str | None = Field(default=None, max_length=5000)
    provenance: str | None = Field(default=None, max_length=100)
    id: str | None = Field(default=None, pattern=ID_PATTERN)


class CommitmentIn(BaseModel):
    """A commitment to record."""

    model_config = ConfigDict(extra="forbid")
    party: str = Field(pattern=_ISO3)
    sites: list[str] = Field(default_factory=list, max_length=10_000)
    movements: list[str] = Field(default_factory=list, max_length=10_000)
    owners: list[str] = Field(default_factory=list, max_length=100)
    made_at: str | None = Field(default=None, max_length=100)
    start: str | None = Field(default=None, max_length=100)
    until: str | None = Field(default=None, max_length=100)
    deadline: str | None = Field(default=None, max_length=100)
    form: str = "note-verbale"
    reference: str | None = Field(default=None, max_length=500)
    text: str | None = Field(default=None, max_length=20_000)
    source_url: str | None = Field(default=None, max_length=2000)
    id: str | None = Field(default=None, pattern=ID_PATTERN)


class CommitmentAckIn(BaseModel):
    """A party's acknowledgement of a commitment."""

    model_config = ConfigDict(extra="forbid")
    by: str = Field(pattern=_ISO3)
    at: str = Field(max_length=100)
    reference: str | None = Field(default=None, max_length=500)
    text: str | None = Field(default=None, max_length=20_000)
    id: str | None = Field(default=None, pattern=ID_PATTERN)


class AlertAckIn(BaseModel):
    """The owner has seen an alert."""

    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=5000)


class ChannelIn(BaseModel):
    """A delivery channel: ``webhook`` (``url``) or ``email`` (``to`` and the SMTP server)."""

    model_config = ConfigDict(extra="forbid")
    owner: str = Field(pattern=_ISO3)
    kind: str = Field(pattern="^(webhook|email)$")
    url: str | None = Field(default=None, max_length=2000)
    to: str | None = Field(default=None, max_length=500)
    smtp_host: str | None = Field(default=None, max_length=500)
    smtp_port: int = Field(default=25, ge=1, le=65535)
    sender: str = Field(default="deconflict@localhost", max_length=500)
    starttls: bool = False
    username: str | None = Field(default=None, max_length=500)
    password_env: str | None = Field(default=None, max_length=200)


# -- movements --------------------------------------------------------------------------------
@router.get("/movements", summary="List movements")
def list_movements(
    db: DbDep, principal: PrincipalDep, owner: Annotated[str | None, Query(pattern=_ISO3)] = None
) -> list[dict[str, Any]]:
    """Movements the token may see (its own owner's; all for admins), in log order."""
    return [movement_json(m, db.movements.log_index(m.id)) for m in db.movements.list(owner=owner, principal=principal)]


@router.post("/movements", response_model=WriteResult, status_code=201, summary="Register a movement")
def add_movement(body: MovementIn, db: DbDep, principal: PrincipalDep, settings: SettingsDep) -> WriteResult:
    """One ``movement_committed`` log entry, durable when this returns 201."""
    names = {k: f"body.{k}" for k in ("route", "width_m", "kind", "owner", "id")} | {
        "from": "body.start", "until": "body.until"
    }  # fmt: skip
    with settings.write_lock, where_named(**names):
        movement, index = db.movements.create(
            owner=body.owner, route=body.route, width_m=body.width_m, start=body.start, until=body.until,
            kind=body.kind, name=body.name, organisation=body.organisation, vehicles=body.vehicles,
            notes=body.notes, provenance=body.provenance, id=body.id, principal=principal,
        )  # fmt: skip
    return WriteResult(id=movement.id, log_index=index)


@router.get("/movements/summary", summary="Movements per organisation")
def movements_summary(db: DbDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    """Per organisation: movements, possible hits, largest hit probability, alerts."""
    return db.movements.summary(principal=principal)


@router.get("/movements/{movement_id}", summary="One movement")
def get_movement(movement_id: IdPath, db: DbDep, principal: PrincipalDep) -> dict[str, Any]:
    """One movement with its route (GeoJSON) and window."""
    return movement_json(db.movements.get(movement_id, principal=principal), db.movements.log_index(movement_id))


@router.get("/movements/{movement_id}/hits", summary="Possible hits on a movement")
def movement_hits(movement_id: IdPath, db: DbDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    """Incidents that may have hit the corridor during the window, most probable first."""
    return [h.to_json() for h in db.movements.hits(movement_id, principal=principal)]


@router.get(
    "/movements/{movement_id}/evidence",
    summary="A movement's evidence bundle",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def movement_evidence(movement_id: IdPath, db: DbDep, principal: PrincipalDep) -> Response:
    """The movement's evidence bundle (zip), verifiable offline with the log's key."""
    from deconflict.guarantees.evidence import bundle_for

    db.movements.get(movement_id, principal=principal)
    data = bundle_for(db, movement_id, principal=principal)
    headers = {"Content-Disposition": f'attachment; filename="evidence-{movement_id}.zip"'}
    return Response(data, media_type="application/zip", headers=headers)


# -- commitments ------------------------------------------------------------------------------
@router.get("/commitments", summary="List commitments")
def list_commitments(
    db: DbDep,
    principal: PrincipalDep,
    party: Annotated[str | None, Query(pattern=_ISO3)] = None,
    owner: Annotated[str | None, Query(pattern=_ISO3)] = None,
) -> list[dict[str, Any]]:
    """Commitments the token may read, with acknowledgement status and deadline."""
    return [r.to_json() for r in db.commitments.records(party=party, owner=owner, principal=principal)]


@router.post("/commitments", response_model=WriteResult, status_code=201, summary="Record a commitment")
def add_commitment(body: CommitmentIn, db: DbDep, principal: PrincipalDep, settings: SettingsDep) -> WriteResult:
    """One ``commitment`` log entry (and the alerts it implies for incidents already in its window)."""
    names = {k: f"body.{k}" for k in ("party", "sites", "movements", "owners", "made_at", "until", "deadline",
                                       "form", "id")} | {"from": "body.start"}  # fmt: skip
    with settings.write_lock, where_named(**names):
        commitment, index = db.commitments.add(
            party=body.party, sites=body.sites, movements=body.movements, owners=body.owners, made_at=body.made_at,
            start=body.start, until=body.until, deadline=body.deadline, form=body.form, reference=body.reference,
            text=body.text, source_url=body.source_url, id=body.id, principal=principal,
        )  # fmt: skip
    return WriteResult(id=commitment.id, log_index=index)


@router.get("/commitments/{commitment_id}", summary="One commitment")
def get_commitment(commitment_id: IdPath, db: DbDep, principal: PrincipalDep) -> dict[str, Any]:
    """One commitment with its acknowledgement status."""
    return db.commitments.get(commitment_id, principal=principal).to_json()


@router.post(
    "/commitments/{commitment_id}/acknowledgements",
    response_model=WriteResult,
    status_code=201,
    summary="Log a commitment's acknowledgement",
)
def acknowledge_commitment(
    commitment_id: IdPath, body: CommitmentAckIn, db: DbDep, principal: PrincipalDep, settings: SettingsDep
) -> WriteResult:
    """One ``commitment_acknowledged`` log entry."""
    with settings.write_lock, where_named(by="body.by", at="body.at", id="body.id"):
        ack, index = db.commitments.acknowledge(
            commitment_id, by=body.by, at=body.at, reference=body.reference, text=body.text, id=body.id,
            principal=principal,
        )  # fmt: skip
    return WriteResult(id=ack.id, log_index=index)


@router.get("/compliance", summary="Compliance per commitment")
def get_compliance(
    db: DbDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    party: Annotated[str | None, Query(pattern=_ISO3)] = None,
    owner: Annotated[str | None, Query(pattern=_ISO3)] = None,
) -> list[dict[str, Any]]:
    """Held / possibly breached / breached, per commitment the token may read (as ``deconflict compliance``)."""
    from deconflict.guarantees.compliance import compliance

    options = settings.analysis_options(db)
    return [e.to_json() for e in compliance(db, party=party, owner=owner, principal=principal, options=options)]


# -- alerts -----------------------------------------------------------------------------------
@router.get("/alerts", summary="The alert inbox")
def list_alerts(
    db: DbDep,
    principal: PrincipalDep,
    owner: Annotated[str | None, Query(pattern=_ISO3)] = None,
    unacknowledged: bool = False,
) -> list[dict[str, Any]]:
    """Alerts on the token's own sites and movements (all for admins), newest first."""
    return [a.to_json() for a in db.alerts.list(principal=principal, owner=owner, unacknowledged=unacknowledged)]


@router.get("/alerts/{alert_id}", summary="One alert")
def get_alert(alert_id: IdPath, db: DbDep, principal: PrincipalDep) -> dict[str, Any]:
    """One alert with its deliveries."""
    return db.alerts.get(alert_id, principal=principal).to_json()


@router.post("/alerts/{alert_id}/ack", response_model=WriteResult, status_code=201, summary="Acknowledge an alert")
def acknowledge_alert(
    alert_id: IdPath, body: AlertAckIn, db: DbDep, principal: PrincipalDep, settings: SettingsDep
) -> WriteResult:
    """One ``alert_acknowledged`` log entry."""
    with settings.write_lock:
        record, index = db.alerts.acknowledge(alert_id, note=body.note, principal=principal)
    return WriteResult(id=record.alert.id, log_index=index)


@router.get(
    "/alerts/{alert_id}/dossier",
    summary="An alert's breach dossier",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def alert_dossier(alert_id: IdPath, db: DbDep, principal: PrincipalDep) -> Response:
    """The evidence bundle and the DRAFT accounts (en, de, uk, ru) of one alert, as a zip."""
    from deconflict.guarantees.dossier import build_dossier

    data = build_dossier(db, alert_id, principal=principal)
    headers = {"Content-Disposition": f'attachment; filename="dossier-{alert_id}.zip"'}
    return Response(data, media_type="application/zip", headers=headers)


# -- channels ---------------------------------------------------------------------------------
@router.get("/channels", summary="Delivery channels")
def list_channels(
    db: DbDep, principal: PrincipalDep, owner: Annotated[str | None, Query(pattern=_ISO3)] = None
) -> list[dict[str, Any]]:
    """The channels the token may manage."""
    return [c.to_json() for c in db.channels.list(owner=owner, principal=principal)]


@router.post("/channels", status_code=201, summary="Add a delivery channel")
def add_channel(body: ChannelIn, db: DbDep, principal: PrincipalDep, settings: SettingsDep) -> dict[str, Any]:
    """A webhook (signed JSON POSTs) or e-mail channel for an owner's alerts."""
    names = {"url": "body.url", "to": "body.to", "owner": "body.owner", "smtp_host": "body.smtp_host",
             "sender": "body.sender", "password_env": "body.password_env"}  # fmt: skip
    with settings.write_lock, where_named(**names):
        if body.kind == "webhook":
            channel = db.channels.add_webhook(body.owner, body.url or "", principal=principal)
        else:
            channel = db.channels.add_email(
                body.owner, body.to or "", smtp_host=body.smtp_host or "", smtp_port=body.smtp_port,
                sender=body.sender, starttls=body.starttls, username=body.username, password_env=body.password_env,
                principal=principal,
            )  # fmt: skip
    return channel.to_json()


@router.delete("/channels/{channel_id}", summary="Remove a delivery channel")
def remove_channel(channel_id: IdPath, db: DbDep, principal: PrincipalDep, settings: SettingsDep) -> dict[str, Any]:
    """Stop delivering to a channel."""
    with settings.write_lock:
        return db.channels.remove(channel_id, principal=principal).to_json()
