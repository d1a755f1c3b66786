"""``/api/v1/notifications`` and acknowledgements: each one written is a log entry.

An owner writes notifications of its own sites only and reads the notifications naming one of
its sites (or sent by it); analysts and admins read all. Notifications hold site ids, never
coordinates (the public log shows the same entries).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from deconflict.access import Principal, visible_notifications
from deconflict.api.auth import PrincipalDep
from deconflict.api.deps import DbDep, SettingsDep
from deconflict.api.routes import LimitQuery, OffsetQuery, api_router, page_bounds
from deconflict.api.routes.sites import SiteIdPath
from deconflict.api.schemas import (
    AcknowledgementIn,
    AcknowledgementOut,
    NotificationIn,
    NotificationOut,
    Page,
    WriteResult,
)
from deconflict.db import Database
from deconflict.errors import NotFound, where_named
from deconflict.ids import ID_PATTERN
from deconflict.model import Notification

__all__ = ["router"]

router = api_router("notifications")
NotificationIdPath = Annotated[str, Path(pattern=ID_PATTERN)]


def _visible_notification(db: Database, principal: Principal, notification_id: str) -> tuple[Notification, int]:
    for notification, index in visible_notifications(db, principal):
        if notification.id == notification_id:
            return notification, index
    raise NotFound(f"no notification with id {notification_id!r}")


@router.get("/notifications", response_model=Page[NotificationOut], summary="List notifications")
def list_notifications(
    db: DbDep,
    principal: PrincipalDep,
    site_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    limit: int = LimitQuery,
    offset: int = OffsetQuery,
) -> Page[NotificationOut]:
    """Notifications the token may read, oldest log entry first."""
    found = visible_notifications(db, principal, site_id)[offset : offset + limit + 1]
    items = [NotificationOut.of(n, i) for n, i in found[:limit]]
    return Page[NotificationOut](
        items=items, limit=limit, offset=offset, next_offset=page_bounds(len(found), limit, offset)
    )


@router.get("/notifications/{notification_id}", response_model=NotificationOut, summary="One notification")
def get_notification(notification_id: NotificationIdPath, db: DbDep, principal: PrincipalDep) -> NotificationOut:
    """One notification with its log index."""
    return NotificationOut.of(*_visible_notification(db, principal, notification_id))


@router.post("/notifications", response_model=WriteResult, status_code=201, summary="Log a notification")
def add_notification(body: NotificationIn, db: DbDep, principal: PrincipalDep, settings: SettingsDep) -> WriteResult:
    """Record that sites were notified to a party: one log entry, durable when this returns 201."""
    fields = {"to": "body.recipient", "at": "body.notified_at", "sender": "body.sender", "id": "body.id"}
    with settings.write_lock, where_named(**fields):
        notification, index = db.notifications.notify(
            body.site_ids,
            to=body.recipient,
            at=body.notified_at,
            sender=body.sender,
            channel=body.channel,
            reference=body.reference,
            text=body.text,
            id=body.id,
            force=body.force,
            principal=principal,
        )
    return WriteResult(id=notification.id, log_index=index)


@router.get(
    "/sites/{site_id}/notifications",
    response_model=list[NotificationOut],
    summary="Notifications of one site",
    tags=["sites"],
)
def site_notifications(site_id: SiteIdPath, db: DbDep, principal: PrincipalDep) -> list[NotificationOut]:
    """Every notification naming the site."""
    return [NotificationOut.of(n, i) for n, i in visible_notifications(db, principal, site_id)]


@router.get("/acknowledgements", response_model=Page[AcknowledgementOut], summary="List acknowledgements")
def list_acknowledgements(
    db: DbDep,
    principal: PrincipalDep,
    notification_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    limit: int = LimitQuery,
    offset: int = OffsetQuery,
) -> Page[AcknowledgementOut]:
    """Acknowledgements of the notifications the token may read."""
    readable = {n.id for n, _ in visible_notifications(db, principal)}
    if notification_id is not None and notification_id not in readable:
        raise NotFound(f"no notification with id {notification_id!r}")
    found = [(a, i) for a, i in db.notifications.acknowledgements(notification_id) if a.notification_id in readable]
    page = found[offset : offset + limit + 1]
    items = [AcknowledgementOut.of(a, i) for a, i in page[:limit]]
    return Page[AcknowledgementOut](
        items=items, limit=limit, offset=offset, next_offset=page_bounds(len(page), limit, offset)
    )


@router.post(
    "/notifications/{notification_id}/acknowledgements",
    response_model=WriteResult,
    status_code=201,
    summary="Log an acknowledgement",
)
def add_acknowledgement(
    notification_id: NotificationIdPath,
    body: AcknowledgementIn,
    db: DbDep,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> WriteResult:
    """Record the recipient's acknowledgement of a notification (owners: of their own notifications)."""
    with settings.write_lock, where_named(by="body.by", at="body.at", id="body.id"):
        ack, index = db.notifications.acknowledge(
            notification_id,
            by=body.by,
            at=body.at,
            reference=body.reference,
            text=body.text,
            id=body.id,
            force=body.force,
            principal=principal,
        )
    return WriteResult(id=ack.id, log_index=index)
