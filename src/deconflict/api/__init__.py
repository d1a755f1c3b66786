"""The deconflict server: a versioned REST API (``/api/v1``) and a small web UI (``/ui``).

::

    from deconflict.api import create_app
    app = create_app("kyiv.db")          # serve with uvicorn, or `deconflict serve`

Submodules: :mod:`~deconflict.api.app` (the app, error shape, body limit),
:mod:`~deconflict.api.auth` (tokens and scopes), :mod:`~deconflict.api.schemas` (models),
:mod:`~deconflict.api.tiles` (C2SP tlog-tiles), ``routes/`` (one router per resource).
"""

from deconflict.api.app import create_app

__all__ = ["create_app"]
