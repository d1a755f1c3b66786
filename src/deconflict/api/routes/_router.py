"""The shared parts of every router: the error responses each route documents, paging."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from deconflict.api.schemas import MAX_PAGE, ErrorResponse

__all__ = ["ERROR_RESPONSES", "LimitQuery", "OffsetQuery", "api_router", "page_bounds"]

_ERROR_DESCRIPTIONS = {
    400: "Invalid input (a field, file row or argument).",
    401: "No token, or a malformed, unknown or revoked one.",
    403: "The token's scope does not allow this.",
    404: "No such record or route.",
    405: "Method not allowed.",
    409: "Conflicts with what is stored (e.g. a duplicate id).",
    413: "The request body is over the server's limit.",
    422: "The request failed validation, or a proof or signature failed to verify.",
    500: "Unexpected server error.",
    503: "The analysis is not available in this installation.",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text} for status, text in _ERROR_DESCRIPTIONS.items()
}

LimitQuery = Query(100, ge=1, le=MAX_PAGE, description=f"Page size (at most {MAX_PAGE}).")
OffsetQuery = Query(0, ge=0, le=2**53, description="Items to skip.")


def api_router(tag: str) -> APIRouter:
    """A router whose every route documents :class:`ErrorResponse` for each error status."""
    return APIRouter(tags=[tag], responses=ERROR_RESPONSES)


def page_bounds(found: int, limit: int, offset: int) -> int | None:
    """``next_offset`` of a page that fetched ``limit + 1`` items and got ``found``."""
    return offset + limit if found > limit else None
