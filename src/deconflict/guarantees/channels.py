"""``db.channels``: where an owner's alerts are delivered: webhooks (signed JSON) and e-mail (SMTP).

Channels are configuration, like API tokens: not evidence, not in the log (a webhook URL or an
address in a public log would tell everyone where to look). Each alert raised for an owner gets
one outbox row per channel the owner has at that moment (:func:`deconflict.guarantees.delivery.enqueue`).
"""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from deconflict.errors import InvalidInput, NotFound
from deconflict.ids import check_id, id_unavailable, new_id
from deconflict.model import check_owner
from deconflict.times import format_utc

if TYPE_CHECKING:
    from deconflict.access import Principal
    from deconflict.db import Database

__all__ = ["CHANNEL_KINDS", "Channel", "Channels", "check_email", "check_webhook_url"]

CHANNEL_KINDS = ("webhook", "email")


def _local() -> Principal:
    from deconflict.access import Principal

    return Principal.local()


def check_webhook_url(url: str) -> str:
    """``url`` when it is an ``http://`` or ``https://`` URL with a host; else :class:`InvalidInput`."""
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"a webhook URL must be http:// or https:// with a host, got {url!r}", where="url")
    if parts.username or parts.password:
        raise InvalidInput("a webhook URL must not carry credentials", where="url")
    return parts.geturl()


def check_email(address: str, where: str = "to") -> str:
    """``address`` when it looks like ``name@domain``; else :class:`InvalidInput`."""
    _, parsed = parseaddr(address or "")
    local, at, domain = parsed.rpartition("@")
    if not at or not local or not domain or " " in parsed:
        raise InvalidInput(f"not an e-mail address: {address!r}", where=where)
    return parsed


@dataclass(frozen=True)
class Channel:
    """One delivery channel of an owner."""

    id: str
    owner: str
    kind: str
    target: str
    options: dict[str, Any]
    created_at: str
    removed_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON every door prints (a password is never stored, only the variable naming it)."""
        return {"id": self.id, "owner": self.owner, "kind": self.kind, "target": self.target,
                "options": self.options, "created_at": self.created_at, "removed_at": self.removed_at}  # fmt: skip


def _channel(row: dict[str, Any]) -> Channel:
    return Channel(row["id"], row["owner"], row["kind"], row["target"], json.loads(row["options"]),
                   row["created_at"], row["removed_at"])  # fmt: skip


class Channels:
    """The alert channels of a :class:`~deconflict.db.Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _insert(
        self,
        owner: str,
        kind: str,
        target: str,
        options: dict[str, Any],
        principal: Principal | None,
        id: str | None = None,
    ) -> Channel:
        caller = principal or _local()
        try:
            code = check_owner(owner, "owner")
        except InvalidInput as exc:
            raise InvalidInput(exc.message, where="owner") from None
        caller.require_write(code)
        if id is not None:
            check_id(id)
            if self._db.store.select_rows("alert_channels", {"id": id}):
                raise id_unavailable("channel", [id], where="id")
        channel = Channel(id or new_id("chn"), code, kind, target, options, format_utc(datetime.now(UTC)))
        with self._db.store.transaction():
            self._db.store.insert_rows("alert_channels", [{
                "id": channel.id, "owner": code, "kind": kind, "target": target,
                "options": json.dumps(options, sort_keys=True), "created_at": channel.created_at, "removed_at": None,
            }])  # fmt: skip
        return channel

    def add_webhook(
        self, owner: str, url: str, *, id: str | None = None, principal: Principal | None = None
    ) -> Channel:
        """Deliver ``owner``'s alerts as signed JSON POSTs to ``url`` (http or https); ``id`` default: new."""
        return self._insert(owner, "webhook", check_webhook_url(url), {}, principal, id)

    def add_email(
        self,
        owner: str,
        to: str,
        *,
        smtp_host: str,
        smtp_port: int = 25,
        sender: str = "deconflict@localhost",
        starttls: bool = False,
        username: str | None = None,
        password_env: str | None = None,
        id: str | None = None,
        principal: Principal | None = None,
    ) -> Channel:
        """Deliver ``owner``'s alerts by e-mail to ``to`` through an SMTP server.

        ``password_env`` names the environment variable holding the SMTP password of ``username``
        (the password itself is never stored).
        """
        if not smtp_host or not smtp_host.strip():
            raise InvalidInput("the SMTP host is empty", where="smtp_host")
        if not 0 < int(smtp_port) < 65536:
            raise InvalidInput(f"not a port: {smtp_port}", where="smtp_port")
        if username and not password_env:
            raise InvalidInput("a username needs password_env, the variable holding its password", where="password_env")
        options = {"smtp_host": smtp_host.strip(), "smtp_port": int(smtp_port), "sender": check_email(sender, "sender"),
                   "starttls": bool(starttls), "username": username, "password_env": password_env}  # fmt: skip
        return self._insert(owner, "email", check_email(to), options, principal, id)

    def list(
        self, *, owner: str | None = None, include_removed: bool = False, principal: Principal | None = None
    ) -> builtins.list[Channel]:
        """The channels the caller may manage (of one owner, or all), oldest first."""
        caller = principal or _local()
        where: dict[str, Any] = {} if owner is None else {"owner": owner.strip().upper()}
        if not include_removed:
            where["removed_at"] = None
        found = [_channel(r) for r in self._db.store.select_rows("alert_channels", where, ("created_at", "id"))]
        return [c for c in found if caller.can_write(c.owner)]

    def get(self, channel_id: str, *, principal: Principal | None = None) -> Channel:
        """One channel; :class:`NotFound` when unknown or not the caller's."""
        caller = principal or _local()
        rows = self._db.store.select_rows("alert_channels", {"id": channel_id})
        if not rows or not caller.can_write(rows[0]["owner"]):
            raise NotFound(f"no channel with id {channel_id!r}")
        return _channel(rows[0])

    def remove(self, channel_id: str, *, principal: Principal | None = None) -> Channel:
        """Stop delivering to a channel (alerts raised later get no outbox row for it)."""
        channel = self.get(channel_id, principal=principal)
        if channel.removed_at is not None:
            return channel
        removed = format_utc(datetime.now(UTC))
        with self._db.store.transaction():
            self._db.store.update_rows("alert_channels", {"id": channel_id}, {"removed_at": removed})
        return Channel(**{**channel.__dict__, "removed_at": removed})

    def active_for(self, owner: str) -> builtins.list[Channel]:
        """The channels alerts of ``owner`` go to now (no scope: for the library's own outbox)."""
        rows = self._db.store.select_rows("alert_channels", {"owner": owner, "removed_at": None}, ("created_at", "id"))
        return [_channel(r) for r in rows]

    def require(self, channel_id: str) -> Channel:
        """The channel ``channel_id`` whatever its state (no scope); :class:`NotFound` when unknown."""
        rows = self._db.store.select_rows("alert_channels", {"id": channel_id})
        if not rows:
            raise NotFound(f"no channel with id {channel_id!r}")
        return _channel(rows[0])
