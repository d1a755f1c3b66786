"""The FastAPI application: the versioned REST API under ``/api/v1`` and the web UI under ``/ui``.

Every error, whatever raised it, leaves as :class:`~deconflict.api.schemas.ErrorResponse`
with the status in the body and in the response line:

- a :class:`~deconflict.errors.DeconflictError` → its ``http_status`` and ``err.to_json()``;
- a request that fails validation → 422, code ``invalid_request``, ``where`` naming the field;
- an unknown route → 404 ``not_found``; a wrong method → 405 ``method_not_allowed``;
- a body over ``max_body_bytes`` → 413 ``too_large`` (checked while the body streams in);
- anything unexpected → 500 ``internal_error`` with no traceback in the response.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

import deconflict
from deconflict._version import __version__
from deconflict.api.deps import Settings
from deconflict.errors import DeconflictError

__all__ = ["DEFAULT_MAX_BODY_BYTES", "create_app", "error_response"]

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
_log = logging.getLogger("deconflict.api")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def error_response(status: int, code: str, message: str, where: str | None = None) -> JSONResponse:
    """A response in the API's error shape."""
    body = {"error": {"code": code, "message": message, "where": where, "status": status}}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


class _BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413, by header and while streaming.

    A ``Content-Length`` over the limit is refused before the body is read; a chunked body is
    counted as it arrives and refused as soon as it passes the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        message = f"the request body is larger than the server's limit of {limit:,} bytes"
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_large = int(value) > limit
                except ValueError:
                    too_large = False
                if too_large:
                    await error_response(413, "too_large", message, "body")(scope, receive, send)
                    return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return msg

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await error_response(413, "too_large", message, "body")(scope, receive, send)


class SecurityHeadersMiddleware:
    """Headers every response carries: no sniffing, no framing, no referrer, a strict CSP default."""

    HEADERS = (
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
    )
    CSP = (
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def add_headers(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                headers = list(msg.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers.extend(h for h in self.HEADERS if h[0] not in names)
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", self.CSP))
                msg["headers"] = headers
            await send(msg)

        await self.app(scope, receive, add_headers)


def _where(loc: Any) -> str:
    parts = [str(p) for p in loc]
    return ".".join(parts) if parts else "request"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DeconflictError)
    async def deconflict_error(request: Request, exc: DeconflictError) -> JSONResponse:
        response = error_response(exc.http_status, exc.code, exc.message, exc.where)
        warnings = getattr(exc, "warnings", None)  # Implausible: what looked wrong (force to record it)
        if warnings:
            body = {"error": {**exc.to_json()["error"], "warnings": list(warnings)}}
            return JSONResponse(body, status_code=exc.http_status)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        message = f"{first.get('msg', 'invalid value')}{more}"
        return error_response(422, "invalid_request", message, _where(first.get("loc", ())))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated", 403: "permission_denied"}
        if exc.status_code == 404 and request.url.path.rstrip("/") in ("", "/ui"):
            return RedirectResponse("/ui/", status_code=303)
        message = f"no route {request.method} {request.url.path}" if exc.status_code in (404, 405) else str(exc.detail)
        return error_response(exc.status_code, codes.get(exc.status_code, "http_error"), message, "path")

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        _log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal server error (logged on the server)")


def _install_openapi(app: FastAPI) -> None:
    """Document every error response of every operation as JSON in the error shape.

    Whatever the route's own media type (tiles are octet-stream, the checkpoint text, the report
    HTML), its errors are :class:`~deconflict.api.schemas.ErrorResponse` JSON.
    """
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
            for item in schema.get("paths", {}).values():
                for operation in item.values():
                    for status, response in operation.get("responses", {}).items():
                        if status[0] in "45":
                            response["content"] = error
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _deliver_alerts(settings: Settings, every_s: float, stop: threading.Event) -> None:
    """The server's outbox relay: deliver due alerts until ``stop`` (errors are logged, never fatal)."""
    from deconflict.guarantees.delivery import deliver_due

    while not stop.wait(every_s):
        try:
            with settings.pool.connection() as db:
                deliver_due(db)
        except Exception:  # a relay that dies would stop every later delivery: log and go on
            _log.exception("alert delivery failed; retrying in %s s", every_s)


def create_app(
    db_location: str | Path,
    *,
    key_file: str | Path | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    anonymous_log: bool = True,
    analysis_overrides: dict[str, Any] | None = None,
    deliver_alerts_every_s: float | None = None,
) -> FastAPI:
    """The deconflict server for one database.

    Parameters
    ----------
    db_location
        The database (SQLite file or PostgreSQL URL); it must exist (``deconflict init``).
    key_file
        The log's private key, to sign checkpoints and evidence bundles (default: the one
        ``init`` recorded in the database).
    max_body_bytes
        Largest request body accepted; larger ones get 413.
    anonymous_log
        Serve the public log (checkpoint, entries, proofs, tlog tiles) without a token.
    analysis_overrides
        Analysis options (``seed``, ``study_area``, ...) applied over the database's own, as the
        CLI's flags are (default: none, i.e. the database's options).
    deliver_alerts_every_s
        Also deliver due alerts (the outbox) every this many seconds while serving, as
        ``deconflict monitor`` does (default: not; run the monitor from cron instead).

    Returns
    -------
    FastAPI
        The app; serve it with uvicorn (``deconflict serve``).

    Raises
    ------
    NotFound
        If there is no database at ``db_location``.
    """
    from deconflict.api.routes import analysis, evidence, guarantees, incidents, log, notifications, records, sites, ui

    settings = Settings(
        db_location=str(db_location),
        key_file=str(key_file) if key_file else None,
        max_body_bytes=max_body_bytes,
        anonymous_log=anonymous_log,
        analysis_overrides=dict(analysis_overrides or {}),
    )
    deconflict.open(settings.db_location, key_file=settings.key_file).close()  # fail early, not per request

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        worker = None
        if deliver_alerts_every_s:
            worker = threading.Thread(
                target=_deliver_alerts,
                args=(settings, deliver_alerts_every_s, stop),
                name="deconflict-alerts",
                daemon=True,
            )
            worker.start()
        yield
        stop.set()
        if worker is not None:
            worker.join(timeout=30)
        settings.pool.close()

    app = FastAPI(
        title="deconflict",
        version=__version__,
        summary="Tamper-evident notification records, strike matching and intentionality statistics.",
        description=(
            'Every error has the body `{"error": {"code", "message", "where", "status"}}`. '
            "Send `Authorization: Bearer dcf_<id>_<secret>`; the public log needs no token."
        ),
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # Swagger UI loads from a CDN; the schema is at /api/v1/openapi.json
        redoc_url=None,
    )
    app.state.settings = settings
    _install_error_handlers(app)
    _install_openapi(app)
    # records first: its /incidents/duplicates must win over /incidents/{incident_id}
    for module in (records, sites, notifications, incidents, analysis, evidence, log, guarantees):
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(ui.router)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes)
    return app
