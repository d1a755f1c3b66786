"""``/api/v1/notifications`` and acknowledgements: each one written is a log entry.

An owner writes notifications of its own sites only and reads the notifications naming one of
its sites (or sent by it); analysts and admins read all. Notifications hold site ids, never
coordinates (the public log shows the same entries).
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Path, Query

from deconflict.api.auth import Principal, PrincipalDep
from deconflict.api.deps import DbDep, SettingsDep
from deconflict.api.routes import LimitQuery, OffsetQuery, api_router, page_bounds
from deconflict.api.routes.sites import SiteIdPath, visible_site
from deconflict.api.schemas import (
    AcknowledgementIn,
    AcknowledgementOut,
    NotificationIn,
    NotificationOut,
    Page,
    WriteResult,
)
from deconflict.db import Database
from deconflict.errors import InvalidInput, NotFound
from deconflict.model import Notification, check_owner
from deconflict.store.base import Acknowledgement
from deconflict.times import parse_time

__all__ = ["create_notification", "router", "visible_notifications"]

router = api_router("notifications")
NotificationIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")]


def _may_read(db: Database, principal: Principal, notification: Notification) -> bool:
    if principal.is_admin or principal.is_analyst:
        return True
    if notification.sender in principal.owners:
        return True
    for site_id in notification.site_ids:
        try:
            if db.sites.get(site_id).owner in principal.owners:
                return True
        except NotFound:
            continue
    return False


def visible_notifications(
    db: Database, principal: Principal, site_id: str | None = None
) -> list[tuple[Notification, int]]:
    """Notifications the caller may read (of one site, or all), oldest entry first."""
    principal.require_registry()
    if site_id is not None:
        visible_site(db, principal, site_id)
    return [(n, i) for n, i in db.notifications.list(site_id) if _may_read(db, principal, n)]


def _visible_notification(db: Database, principal: Principal, notification_id: str) -> tuple[Notification, int]:
    for notification, index in visible_notifications(db, principal):
        if notification.id == notification_id:
            return notification, index
    raise NotFound(f"no notification with id {notification_id!r}")


def create_notification(db: Database, principal: Principal, body: NotificationIn) -> Notification:
    """Check the caller may notify every site named, then build the notification (not yet logged)."""
    principal.require_registry()
    owners = set()
    for site_id in body.site_ids:
        site, _ = visible_site(db, principal, site_id)
        principal.require_write(site.owner)
        owners.add(site.owner)
    sender = body.sender.upper() if body.sender else (owners.pop() if len(owners) == 1 else None)
    if sender is not None and not principal.is_admin and sender not in principal.owners:
        raise InvalidInput(f"sender {sender} is not an owner this token writes for", where="body.sender")
    span = parse_time(body.notified_at, None, db.timezone)
    return Notification(
        id=body.id or f"ntf-{secrets.token_hex(5)}", site_ids=tuple(body.site_ids), recipient=body.recipient,
        notified_at=span, channel=body.channel, reference=body.reference, text=body.text, sender=sender,
    )  # fmt: skip


@router.get("/notifications", response_model=Page[NotificationOut], summary="List notifications")
def list_notifications(
    db: DbDep,
    principal: PrincipalDep,
    site_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")] = None,
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
    notification = create_notification(db, principal, body)
    with settings.write_lock:
        index = db.notifications.notify(notification)
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
    notification_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")] = None,
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
    notification, _ = _visible_notification(db, principal, notification_id)
    for site_id in notification.site_ids:
        principal.require_write(db.sites.get(site_id).owner)
    ack = Acknowledgement(
        id=body.id or f"ack-{secrets.token_hex(5)}", notification_id=notification_id,
        recipient=check_owner(body.by, "by"), at=parse_time(body.at, None, db.timezone), reference=body.reference,
        text=body.text,
    )  # fmt: skip
    with settings.write_lock:
        index = db.notifications.acknowledge(ack)
    return WriteResult(id=ack.id, log_index=index)
