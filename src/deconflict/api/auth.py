"""API tokens and the scopes they carry: who may read what, and at which precision.

A token is ``dcf_<id>_<secret>``: ``id`` is 12 hex digits (public, shown by ``token list``),
``secret`` is ``secrets.token_urlsafe(32)`` (256 random bits). The store keeps only the
SHA-256 of the secret (hex), compared with :func:`hmac.compare_digest`, so a leaked database
does not leak usable tokens and a comparison's time does not depend on how many characters
of a guess are right.

Scopes (a token may carry several)::

    admin          everything: every site exactly, every write
    owner:ISO3     read and write that owner's sites, notifications and acknowledgements;
                   exact coordinates of its own sites only (other owners' sites are invisible);
                   incidents exactly only where they could have hit its own sites, else
                   coarsened; analysis and matches of its own sites
    analyst        every site and incident at coarsened precision (see :func:`coarsen`),
                   analyses and matches (distances rounded to the kilometre); no writes
    (an admin also adds incidents; a site of another owner answers 404, as a missing one)
    public         the log only: checkpoints, entries, proofs, tiles (no coordinates at all)
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from deconflict.api.deps import DbDep
from deconflict.db import Database
from deconflict.errors import InvalidInput, PermissionDenied, Unauthenticated
from deconflict.model import Site, check_owner
from deconflict.store.base import TokenRecord
from deconflict.times import format_utc

__all__ = [
    "COARSE_GRID_DEG",
    "SCOPES_HELP",
    "TOKEN_PREFIX",
    "LogReaderDep",
    "Principal",
    "PrincipalDep",
    "Unauthenticated",
    "authenticate",
    "coarsen",
    "create_token",
    "current_principal",
    "hash_secret",
    "list_tokens",
    "log_reader",
    "parse_scope",
    "revoke_token",
]

TOKEN_PREFIX = "dcf"
#: Coarsened coordinates are the centre of the 0.01° x 0.01° cell holding the true point
#: (about 1.1 km north-south, 0.7 km east-west at Kyiv's latitude).
COARSE_GRID_DEG = 0.01
SCOPES_HELP = "admin, analyst, public or owner:ISO3 (e.g. owner:AZE)"
_TOKEN = re.compile(r"^dcf_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_DUMMY_HASH = hashlib.sha256(b"no such token").hexdigest()

LocationView = Literal["exact", "coarse"]


def parse_scope(text: str) -> str:
    """A scope in canonical form (``owner:aze`` → ``owner:AZE``); raises :class:`InvalidInput`."""
    scope = text.strip()
    if scope in ("admin", "analyst", "public"):
        return scope
    if scope.lower().startswith("owner:"):
        return "owner:" + check_owner(scope.split(":", 1)[1], "owner in scope")
    raise InvalidInput(f"unknown scope {text!r}; expected {SCOPES_HELP}")


def hash_secret(secret: str) -> str:
    """SHA-256 of a token's secret, as stored (hex)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(db: Database, scopes: Iterable[str], name: str | None = None) -> str:
    """Create an API token and return it; only its hash is stored, so it is shown once.

    Parameters
    ----------
    db
        The database the server serves.
    scopes
        One or more of ``admin``, ``analyst``, ``public``, ``owner:ISO3``.
    name
        A label for people (who holds the token).

    Raises
    ------
    InvalidInput
        For an unknown scope or none.
    """
    parsed = tuple(dict.fromkeys(parse_scope(s) for s in scopes))
    if not parsed:
        raise InvalidInput(f"a token needs at least one scope: {SCOPES_HELP}")
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    record = TokenRecord(token_id, hash_secret(secret), parsed, name, format_utc(datetime.now(UTC)))
    with db.store.transaction():
        db.store.insert_token(record)
    return f"{TOKEN_PREFIX}_{token_id}_{secret}"


def revoke_token(db: Database, token_id: str) -> None:
    """Revoke a token by its public id; raises :class:`~deconflict.errors.NotFound` when unknown."""
    with db.store.transaction():
        db.store.revoke_token(token_id, format_utc(datetime.now(UTC)))


def list_tokens(db: Database) -> list[TokenRecord]:
    """Every token (hashes only), oldest first."""
    return db.store.list_tokens()


def coarsen(lat: float, lon: float) -> tuple[float, float]:
    """The centre of the :data:`COARSE_GRID_DEG` cell holding ``(lat, lon)``.

    Every point of a cell maps to the same centre, so coarsened coordinates reveal only the
    cell (about 1 km), however many times they are read.
    """

    def centre(value: float, low: float, high: float) -> float:
        cell = math.floor(value / COARSE_GRID_DEG)
        return round(min(max((cell + 0.5) * COARSE_GRID_DEG, low), high), 4)

    return centre(lat, -90.0, 90.0), centre(lon, -180.0, 180.0)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's id (None when anonymous) and its scopes."""

    token_id: str | None
    scopes: frozenset[str]
    name: str | None = None

    @classmethod
    def anonymous(cls) -> Principal:
        """An unauthenticated caller: reads the public log only."""
        return cls(None, frozenset({"public"}))

    @property
    def is_admin(self) -> bool:
        """Whether the token carries ``admin``."""
        return "admin" in self.scopes

    @property
    def is_analyst(self) -> bool:
        """Whether the token carries ``analyst``."""
        return "analyst" in self.scopes

    @property
    def owners(self) -> frozenset[str]:
        """The ISO3 codes of the ``owner:`` scopes."""
        return frozenset(s.split(":", 1)[1] for s in self.scopes if s.startswith("owner:"))

    @property
    def reads_registry(self) -> bool:
        """Whether the caller may read sites, incidents and notifications at all."""
        return self.is_admin or self.is_analyst or bool(self.owners)

    def can_see_exact(self, site: Site) -> bool:
        """Whether the caller may read ``site``'s exact coordinates."""
        return self.is_admin or site.owner in self.owners

    def site_view(self, site: Site) -> LocationView | None:
        """How the caller sees ``site``: ``exact``, ``coarse`` or not at all (None)."""
        if self.can_see_exact(site):
            return "exact"
        if self.is_analyst:
            return "coarse"
        return None

    def can_write(self, owner: str) -> bool:
        """Whether the caller may add sites and notifications of ``owner``."""
        return self.is_admin or owner in self.owners

    def require_registry(self) -> None:
        """Raise :class:`PermissionDenied` unless the caller may read the registry."""
        if not self.reads_registry:
            raise PermissionDenied("this token's scope allows the public log only (checkpoints and proofs)")

    def require_admin(self, action: str) -> None:
        """Raise :class:`PermissionDenied` unless the caller is an admin."""
        if not self.is_admin:
            raise PermissionDenied(f"{action} needs an admin token")

    def require_write(self, owner: str) -> None:
        """Raise :class:`PermissionDenied` unless the caller may write records of ``owner``."""
        if not self.can_write(owner):
            raise PermissionDenied(f"this token may not write records of owner {owner}")


def authenticate(db: Database, token: str) -> Principal:
    """The principal a presented token stands for; raises :class:`Unauthenticated`.

    The secret's hash is compared in constant time; an unknown id costs the same comparison,
    so timing does not tell which ids exist.
    """
    match = _TOKEN.match(token.strip())
    if match is None:
        raise Unauthenticated("malformed token; expected dcf_<id>_<secret> (deconflict token create)")
    token_id, secret = match.groups()
    record = db.store.get_token(token_id)
    presented = hash_secret(secret)
    stored = record.secret_hash if record is not None else _DUMMY_HASH
    if not hmac.compare_digest(presented, stored) or record is None:
        raise Unauthenticated("unknown token")
    if record.revoked_at is not None:
        raise Unauthenticated("this token was revoked")
    return Principal(record.id, frozenset(record.scopes), record.name)


# -- FastAPI dependencies ---------------------------------------------------------------------
_BEARER = HTTPBearer(auto_error=False, description="An API token: dcf_<id>_<secret> (deconflict token create).")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)]


def current_principal(credentials: BearerDep, db: DbDep) -> Principal:
    """The caller of an API route: a ``Bearer`` token is required (401 without one)."""
    if credentials is None:
        raise Unauthenticated("this endpoint needs a token: send 'Authorization: Bearer dcf_<id>_<secret>'")
    return authenticate(db, credentials.credentials)


def log_reader(request: Request, credentials: BearerDep, db: DbDep) -> Principal:
    """The caller of a public-log route: anonymous callers are allowed unless the app forbids it."""
    if credentials is not None:
        return authenticate(db, credentials.credentials)
    if request.app.state.settings.anonymous_log:
        return Principal.anonymous()
    raise Unauthenticated("this server requires a token for the log: send 'Authorization: Bearer dcf_<id>_<secret>'")


PrincipalDep = Annotated[Principal, Depends(current_principal)]
LogReaderDep = Annotated[Principal, Depends(log_reader)]
