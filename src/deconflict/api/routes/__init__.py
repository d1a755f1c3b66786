"""One router per resource; every API route declares the error shape for its error statuses."""

from deconflict.api.routes._router import ERROR_RESPONSES, LimitQuery, OffsetQuery, api_router, page_bounds

__all__ = ["ERROR_RESPONSES", "LimitQuery", "OffsetQuery", "api_router", "page_bounds"]
