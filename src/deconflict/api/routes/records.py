"""Corrections and histories: amend and withdraw sites and notifications, withdraw acknowledgements,
merge duplicate incidents; every one is a log entry superseding the old record (kept in its history)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, Field

from deconflict.api.auth import PrincipalDep
from deconflict.api.deps import DbDep, SettingsDep
from deconflict.api.routes import api_router
from deconflict.api.schemas import WriteResult
from deconflict.errors import where_named
from deconflict.ids import ID_PATTERN

__all__ = ["router"]

router = api_router("corrections")
IdPath = Annotated[str, Path(pattern=ID_PATTERN)]
_ISO3 = r"^[A-Za-z]{3}$"


class _In(BaseModel):
    model_config = {"extra": "forbid"}


class WithdrawIn(_In):
    """Why a record is withdrawn (logged with it)."""

    reason: str = Field(min_length=1, max_length=2000)


class SiteAmendIn(_In):
    """A site's corrected fields (those left out keep their value) and why."""

    reason: str = Field(min_length=1, max_length=2000)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    radius_m: float | None = Field(None, gt=0, le=50_000)
    name: str | None = Field(None, min_length=1, max_length=500)
    kind: str | None = Field(None, min_length=1, max_length=64)
    address: str | None = Field(None, max_length=500)
    city: str | None = Field(None, max_length=200)
    approximate: bool | None = None
    footprint_wkt: str | None = Field(None, max_length=100_000)
    notes: str | None = Field(None, max_length=4000)
    force: bool = Field(False, description="Record it even when a plausibility check warns.")


class NotificationAmendIn(_In):
    """A notification's corrected fields (those left out keep their value) and why."""

    reason: str = Field(min_length=1, max_length=2000)
    recipient: str | None = Field(None, pattern=_ISO3)
    notified_at: str | None = Field(None, min_length=1, max_length=100)
    site_ids: list[str] | None = Field(None, min_length=1, max_length=200)
    sender: str | None = Field(None, pattern=_ISO3)
    channel: str | None = Field(None, max_length=200)
    reference: str | None = Field(None, max_length=200)
    text: str | None = Field(None, max_length=4000)
    force: bool = Field(False, description="Record it even when a plausibility check warns.")


class MergeIn(_In):
    """Reports of one strike to record as one incident."""

    incident_ids: list[str] = Field(min_length=2, max_length=100)
    keep: str | None = Field(None, pattern=ID_PATTERN, description="Default: the most precise report.")
    reason: str = Field("duplicate reports of one strike", min_length=1, max_length=2000)
    force: bool = Field(False, description="Merge even when the reports do not look like one strike.")


class HistoryOut(BaseModel):
    """A record's versions and corrections, oldest first."""

    target: str
    id: str
    state: str
    events: list[dict[str, Any]]


@router.post("/sites/{site_id}/amend", response_model=WriteResult, summary="Amend a site", tags=["sites"])
def amend_site(
    site_id: IdPath, body: SiteAmendIn, db: DbDep, principal: PrincipalDep, settings: SettingsDep
) -> WriteResult:
    """Correct a site: a new salted commitment superseding the one in force (the old one stays provable)."""
    fields = body.model_dump(exclude={"reason", "force"})
    with settings.write_lock, where_named(reason="body.reason", **{k: f"body.{k}" for k in fields}):
        site, index = db.sites.amend(site_id, reason=body.reason, force=body.force, principal=principal, **fields)
    return WriteResult(id=site.id, log_index=index)


@router.post("/sites/{site_id}/withdraw", response_model=WriteResult, summary="Withdraw a site", tags=["sites"])
def withdraw_site(
    site_id: IdPath, body: WithdrawIn, db: DbDep, principal: PrincipalDep, settings: SettingsDep
) -> WriteResult:
    """Withdraw a site from the registry; its history and bundle keep it."""
    with settings.write_lock, where_named(reason="body.reason"):
        site, index = db.sites.withdraw(site_id, reason=body.reason, principal=principal)
    return WriteResult(id=site.id, log_index=index)


@router.get("/sites/{site_id}/history", response_model=HistoryOut, summary="A site's history", tags=["sites"])
def site_history(site_id: IdPath, db: DbDep, principal: PrincipalDep) -> HistoryOut:
    """Every committed version of the site and its withdrawal, with reasons."""
    return HistoryOut(**db.sites.history(site_id, principal=principal).to_json())


@router.get("/notifications/{notification_id}/record", summary="A notification with its state", tags=["notifications"])
def notification_record(notification_id: IdPath, db: DbDep, principal: PrincipalDep) -> dict[str, Any]:
    """The notification as in force, its state, corrections and acknowledgements (as ``notifications show --json``)."""
    return db.notifications.get(notification_id, principal=principal).to_json()


@router.post(
    "/notifications/{notification_id}/amend", response_model=WriteResult, summary="Amend a notification",
    tags=["notifications"],
)  # fmt: skip
def amend_notification(
    notification_id: IdPath, body: NotificationAmendIn, db: DbDep, principal: PrincipalDep, settings: SettingsDep
) -> WriteResult:
    """Correct a notification (a wrong date or recipient): a log entry superseding it."""
    names = {"reason": "body.reason", "to": "body.recipient", "at": "body.notified_at", "site_ids": "body.site_ids"}
    with settings.write_lock, where_named(**names):
        notification, index = db.notifications.amend(
            notification_id, reason=body.reason, to=body.recipient, at=body.notified_at, site_ids=body.site_ids,
            sender=body.sender, channel=body.channel, reference=body.reference, text=body.text, force=body.force,
            principal=principal,
        )  # fmt: skip
    return WriteResult(id=notification.id, log_index=index)


@router.post(
    "/notifications/{notification_id}/withdraw", response_model=WriteResult, summary="Withdraw a notification",
    tags=["notifications"],
)  # fmt: skip
def withdraw_notification(
    notification_id: IdPath, body: WithdrawIn, db: DbDep, principal: PrincipalDep, settings: SettingsDep
) -> WriteResult:
    """Withdraw a notification recorded in error (its acknowledgements go out of force with it)."""
    with settings.write_lock, where_named(reason="body.reason"):
        notification, index = db.notifications.withdraw(notification_id, reason=body.reason, principal=principal)
    return WriteResult(id=notification.id, log_index=index)


@router.get(
    "/notifications/{notification_id}/history", response_model=HistoryOut, summary="A notification's history",
    tags=["notifications"],
)  # fmt: skip
def notification_history(notification_id: IdPath, db: DbDep, principal: PrincipalDep) -> HistoryOut:
    """The notification as first logged and every amendment or withdrawal."""
    return HistoryOut(**db.notifications.history(notification_id, principal=principal).to_json())


@router.post(
    "/acknowledgements/{acknowledgement_id}/withdraw", response_model=WriteResult,
    summary="Withdraw an acknowledgement", tags=["notifications"],
)  # fmt: skip
def withdraw_acknowledgement(
    acknowledgement_id: IdPath, body: WithdrawIn, db: DbDep, principal: PrincipalDep, settings: SettingsDep
) -> WriteResult:
    """Withdraw an acknowledgement recorded in error."""
    with settings.write_lock, where_named(reason="body.reason"):
        ack, index = db.acknowledgements.withdraw(acknowledgement_id, reason=body.reason, principal=principal)
    return WriteResult(id=ack.id, log_index=index)


@router.get(
    "/acknowledgements/{acknowledgement_id}/history", response_model=HistoryOut,
    summary="An acknowledgement's history", tags=["notifications"],
)  # fmt: skip
def acknowledgement_history(acknowledgement_id: IdPath, db: DbDep, principal: PrincipalDep) -> HistoryOut:
    """The acknowledgement as logged and its withdrawal."""
    return HistoryOut(**db.acknowledgements.history(acknowledgement_id, principal=principal).to_json())


@router.get("/incidents/duplicates", summary="Likely duplicate reports", tags=["incidents"])
def duplicates(db: DbDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    """Groups of incidents that may be reports of one strike (admin), as ``incidents duplicates --json``."""
    return [group.to_json() for group in db.incidents.duplicates(principal=principal)]


@router.post("/incidents/merge", response_model=WriteResult, status_code=201, summary="Merge duplicate reports",
             tags=["incidents"])  # fmt: skip
def merge(body: MergeIn, db: DbDep, principal: PrincipalDep, settings: SettingsDep) -> WriteResult:
    """Record several reports as one incident with all their sources: one log entry (admin)."""
    with settings.write_lock, where_named(keep="body.keep", incident_ids="body.incident_ids"):
        incident, index = db.incidents.merge(
            body.incident_ids, keep=body.keep, reason=body.reason, force=body.force, principal=principal
        )
    return WriteResult(id=incident.id, log_index=index)


@router.get("/incidents/{incident_id}/history", response_model=HistoryOut, summary="An incident's history",
            tags=["incidents"])  # fmt: skip
def incident_history(incident_id: IdPath, db: DbDep, principal: PrincipalDep) -> HistoryOut:
    """Every version of the incident (revisions, merges) with their log entries (admin)."""
    return HistoryOut(**db.incidents.history(incident_id, principal=principal).to_json())
