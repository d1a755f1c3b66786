"""FastAPI dependencies for the caller of a route: the :class:`~deconflict.access.Principal` of its token.

Tokens, scopes and views are library rules (:mod:`deconflict.access`); this module only reads the
``Authorization`` header.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from deconflict.access import Principal, authenticate
from deconflict.api.deps import DbDep
from deconflict.errors import Unauthenticated

__all__ = ["LogReaderDep", "PrincipalDep", "current_principal", "log_reader"]

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
