"""Commands for the server: ``serve`` and API ``token`` management."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.table import Table

from deconflict.cli._common import (
    JsonOption,
    LimitOption,
    SeedOption,
    StudyAreaOption,
    app,
    err,
    first,
    group,
    handle_errors,
    limit_rows,
    opened,
    option_names,
    out,
    print_json,
    say_shown,
    state,
)
from deconflict.errors import MissingDependency

token_app = group("API tokens for the server: create (printed once), list, revoke.", "deconflict token list")
app.add_typer(token_app, name="token")


@contextmanager
def server_extra() -> Iterator[None]:
    """Turn a missing server dependency into one line naming the extra that installs it."""
    try:
        yield
    except ImportError as exc:
        raise MissingDependency(
            f"the server needs the server extra ({exc.name or exc} is not installed): pip install 'deconflict[server]'"
        ) from None


@app.command()
@handle_errors
def serve(
    host: Annotated[str, typer.Option(metavar="ADDRESS", help="Address to listen on (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(metavar="PORT", help="TCP port.", min=1, max=65535)] = 8000,
    max_body_mb: Annotated[
        float, typer.Option(metavar="MIB", help="Largest request body accepted, MiB (413 beyond).", min=0.01, max=4096)
    ] = 10.0,
    private_log: Annotated[
        bool, typer.Option("--private-log", help="Require a token to read the log (default: the log is public).")
    ] = False,
    seed: SeedOption = None,
    study_area: StudyAreaOption = None,
    deliver_alerts: Annotated[
        float | None,
        typer.Option(help="Also deliver due alerts every this many seconds (else run 'deconflict monitor').", min=1),
    ] = None,
) -> None:
    """Serve the REST API (/api/v1, schema at /api/v1/openapi.json) and the web UI (/ui).

    Needs the server extra: pip install 'deconflict[server]'.

    Example:

        deconflict serve --port 8080 --private-log
    """
    with server_extra():
        import uvicorn

        from deconflict.api import create_app
    from deconflict.analysis import load_study_area
    from deconflict.db import resolve_db_path

    location = resolve_db_path(state.db_path)
    with option_names(seed="--seed"):
        overrides = {"seed": seed, "study_area": load_study_area(study_area)}
    application = create_app(
        location,
        key_file=state.key_file,
        max_body_bytes=int(max_body_mb * 1024 * 1024),
        anonymous_log=not private_log,
        analysis_overrides=overrides,
        deliver_alerts_every_s=deliver_alerts,
    )
    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print(f"warning: listening on {host}; put TLS in front of it, tokens travel in headers", markup=False)
    err.print(f"serving {location} on http://{host}:{port}/ui/ (API under /api/v1)", markup=False)
    uvicorn.run(application, host=host, port=port, log_level="info", server_header=False)


@token_app.command("create")
@handle_errors
def token_create(
    scope: Annotated[
        list[str],
        typer.Option("--scope", metavar="SCOPE", help="admin, analyst, public or owner:ISO3; repeat for several."),
    ],
    name: Annotated[str | None, typer.Option(metavar="TEXT", help="Who holds the token (a label).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a token and print it once (only its hash is stored).

    Example:

        deconflict token create --scope owner:AZE --name "AZE foreign ministry"
        deconflict token create --scope analyst --scope public --json
    """
    from deconflict.access import create_token

    with opened() as db:
        token = create_token(db, scope, name)
    if as_json:
        print_json({"token": token, "id": token.split("_")[1], "scopes": scope, "name": name})
        return
    out.print(token, markup=False)
    err.print("store it now: it is shown only once (send it as 'Authorization: Bearer <token>')", markup=False)


@token_app.command("list")
@handle_errors
def token_list(limit: LimitOption = None, as_json: JsonOption = False) -> None:
    """List tokens: id, name, scopes, created, revoked (never the secret).

    Example:

        deconflict token list
    """
    from deconflict.access import list_tokens

    with opened() as db:
        tokens = list_tokens(db)
    total = len(tokens)
    tokens = first(tokens, limit_rows(limit, as_json))
    if as_json:
        print_json([{"id": t.id, "name": t.name, "scopes": list(t.scopes), "created_at": t.created_at,
                     "revoked_at": t.revoked_at} for t in tokens])  # fmt: skip
        say_shown(len(tokens), total, "token(s)", as_json=True)
        return
    table = Table("id", "name", "scopes", "created", "revoked")
    for t in tokens:
        table.add_row(t.id, t.name or "", " ".join(t.scopes), t.created_at, t.revoked_at or "")
    out.print(table)
    say_shown(len(tokens), total, "token(s)")


@token_app.command("revoke")
@handle_errors
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (the part after dcf_).")],
    as_json: JsonOption = False,
) -> None:
    """Revoke a token: the server refuses it from the next request on.

    Example:

        deconflict token revoke "$TOKEN_ID"
    """
    from deconflict.access import revoke_token

    with opened() as db:
        revoke_token(db, token_id)
    if as_json:
        print_json({"id": token_id, "revoked": True})
        return
    out.print(f"revoked token {token_id}")
