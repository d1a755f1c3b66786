"""Commands for candidate records from reports: ``extract``, ``incidents confirm|reject``, ``claims ...``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from deconflict.cli._common import (
    JsonOption,
    LimitOption,
    app,
    group,
    handle_errors,
    incidents_app,
    limit_rows,
    opened,
    out,
    print_json,
    say_shown,
)
from deconflict.model import Claim

claims_app = group(
    "Notification claims and diplomatic responses read from reports (extract --import), for review.",
    "deconflict claims list --kind notification",
)
app.add_typer(claims_app, name="claims")


def _short(text: str, width: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@app.command()
@handle_errors
def extract(
    paths: Annotated[list[Path], typer.Argument(metavar="PATH", help="Report files (.txt, .md, .html) or folders.")],
    import_: Annotated[
        bool,
        typer.Option(
            "--import", help="Store the candidates for review: unverified incidents, and claims (deconflict claims)."
        ),
    ] = False,
    report_date: Annotated[
        str | None, typer.Option(metavar="YYYY-MM-DD", help="Date of the reports when the text does not say.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Propose candidate incidents, site hits, notification claims and responses from news reports.

    Example:

        deconflict extract reports/ --report-date 2025-11-14
        deconflict extract reports/statement.txt --import --json
    """
    from datetime import date

    from deconflict.errors import InvalidInput
    from deconflict.extract import extract_paths

    default_date = None
    if report_date:
        try:
            default_date = date.fromisoformat(report_date)
        except ValueError:
            raise InvalidInput(f"--report-date must be YYYY-MM-DD, got {report_date!r}") from None
    with opened() as db:
        sites = [hit.site for hit in db.sites.list()]
        results = extract_paths(paths, sites=sites, default_date=default_date)
        stored = db.claims.import_reports(results) if import_ else []
    imported = [i for s in stored for i in s.incident_ids]
    claims = [c for s in stored for c in s.claim_ids]
    if as_json:
        print_json({"reports": [r.to_json() for r in results], "imported": imported, "claims": claims})
        return
    table = Table(show_edge=False, pad_edge=False, show_lines=False)
    for column in ("report", "type", "when", "where", "what / who", "conf.", "quote"):
        table.add_column(column)
    for result in results:
        name = Path(result.path).name if result.path else "-"
        for c in result.incidents:
            what = ", ".join([*c.weapons, *(f"hit: {s}" for s in c.sites_hit)]) or (c.kind or "")
            table.add_row(name, "incident", c.time.to_text() if c.time else "?", c.city or "?", what,
                          f"{c.confidence:.2f}", _short(c.quote))  # fmt: skip
        for n in result.notifications:
            span = n.notified_at
            who = f"to {n.recipient or '?'}: {', '.join(n.site_ids)}"
            when = span.to_text() if span else "?"
            table.add_row(name, "notification claim", when, "", who, f"{n.confidence:.2f}", _short(n.quote))
        for r in result.responses:
            table.add_row(name, f"response: {r.kind}", r.date.isoformat() if r.date else "?", "",
                          ", ".join(r.parties), f"{r.confidence:.2f}", _short(r.quote))  # fmt: skip
    out.print(table)
    out.print(f"{len(results)} report(s); candidates are leads to check against the quoted words")
    if import_:
        out.print(f"imported {len(imported)} unverified incident(s); confirm with: deconflict incidents confirm ID")
        out.print(f"stored {len(claims)} claim(s) for review; see: deconflict claims list")


@incidents_app.command("confirm")
@handle_errors
def incidents_confirm(
    incident_ids: Annotated[list[str], typer.Argument(metavar="INCIDENT_ID", help="Incidents to confirm.")],
    note: Annotated[str | None, typer.Option(metavar="TEXT", help="Why (kept in the log entry).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Confirm incidents after review: they count in statistics from now on (a log entry each).

    Example:

        deconflict incidents confirm x-report-1 --note "matches the municipal damage register"
    """
    _review(incident_ids, "confirmed", note, as_json)


@incidents_app.command("reject")
@handle_errors
def incidents_reject(
    incident_ids: Annotated[list[str], typer.Argument(metavar="INCIDENT_ID", help="Incidents to reject.")],
    note: Annotated[str | None, typer.Option(metavar="TEXT", help="Why (kept in the log entry).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Reject incidents after review (kept, never counted; a log entry each).

    Example:

        deconflict incidents reject x-report-1 --note "the same strike as rep-2025-11-14-aze-embassy"
    """
    _review(incident_ids, "rejected", note, as_json)


def _review(incident_ids: list[str], status: str, note: str | None, as_json: bool) -> None:
    with opened() as db:
        indices = db.incidents.review_many(incident_ids, status, note)
    if as_json:
        print_json(
            [
                {"incident_id": incident_id, "status": status, "log_index": index}
                for incident_id, index in zip(incident_ids, indices, strict=True)
            ]
        )
        return
    for incident_id, index in zip(incident_ids, indices, strict=True):
        out.print(f"{status} {incident_id} — log entry {index}")


@claims_app.command("list")
@handle_errors
def claims_list(
    status: Annotated[str | None, typer.Option(metavar="STATUS", help="unverified, confirmed or rejected.")] = None,
    kind: Annotated[str | None, typer.Option(metavar="KIND", help="notification or response.")] = None,
    limit: LimitOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the claims read from reports, in the order they were stored.

    Example:

        deconflict claims list --status unverified --kind notification
    """
    shown = limit_rows(limit, as_json)
    with opened() as db:
        found = db.claims.list(status=status, kind=kind, limit=shown)
        total = db.claims.count(status=status, kind=kind)
    if as_json:
        print_json([c.to_json() for c in found])
    else:
        table = Table(show_edge=False, pad_edge=False)
        for column in ("id", "kind", "status", "what", "when", "conf.", "quote"):
            table.add_column(column)
        for c in found:
            quote = _short(c.quote, 60)
            table.add_row(c.id, c.kind, c.status, _claim_what(c), _claim_when(c), f"{c.confidence:.2f}", quote)
        out.print(table)
    say_shown(len(found), total, "claim(s)", as_json=as_json)


def _claim_what(claim: Claim) -> str:
    if claim.kind == "notification":
        return f"{claim.sender or '?'} → {claim.recipient or '?'}: {', '.join(claim.site_ids) or '?'}"
    return f"{claim.response_kind}: {', '.join(claim.parties)}"


def _claim_when(claim: Claim) -> str:
    if claim.kind == "response":
        return claim.response_date.isoformat() if claim.response_date else "?"
    first = claim.not_before.date().isoformat() if claim.not_before else "…"
    last = claim.not_after.date().isoformat() if claim.not_after else "…"
    return f"{first} – {last}"


@claims_app.command("show")
@handle_errors
def claims_show(
    claim_id: Annotated[str, typer.Argument(metavar="CLAIM_ID", help="The claim.")], as_json: JsonOption = False
) -> None:
    """Show one claim with the words it was read from.

    Example:

        deconflict claims show clm-e6bc8cb206fb
    """
    with opened() as db:
        claim = db.claims.get(claim_id)
    if as_json:
        print_json(claim.to_json())
        return
    for key, value in claim.to_json().items():
        if value not in (None, [], ""):
            out.print(f"{key}: {value}", markup=False)


@claims_app.command("confirm")
@handle_errors
def claims_confirm(
    claim_id: Annotated[str, typer.Argument(metavar="CLAIM_ID", help="The claim.")],
    at: Annotated[
        str | None,
        typer.Option(metavar="WHEN", help="When, if not the claim's interval (date, date-time or start/end)."),
    ] = None,
    to: Annotated[str | None, typer.Option(metavar="ISO3", help="Recipient, if not the claim's.")] = None,
    site: Annotated[
        list[str] | None, typer.Option(metavar="SITE_ID", help="A site notified, if not the claim's (repeat).")
    ] = None,
    sender: Annotated[str | None, typer.Option(metavar="ISO3", help="Sender, if not the claim's.")] = None,
    note: Annotated[str | None, typer.Option(metavar="TEXT", help="Why (kept with the claim).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Confirm a claim after review: a notification claim becomes a notification in the log.

    Example:

        deconflict claims confirm clm-e6bc8cb206fb --at 2025-10-01/2025-11-14
    """
    with opened() as db:
        review = db.claims.confirm(claim_id, at=at, to=to, site_ids=site, sender=sender, note=note)
    if as_json:
        print_json(review.to_json())
        return
    if review.notification is not None:
        n = review.notification
        out.print(f"confirmed {claim_id}: notification {n.id} of {', '.join(n.site_ids)} to {n.recipient}, "
                  f"{n.notified_at.to_text()} — log entry {review.log_index}", markup=False)  # fmt: skip
    else:
        out.print(f"confirmed {claim_id}")


@claims_app.command("reject")
@handle_errors
def claims_reject(
    claim_id: Annotated[str, typer.Argument(metavar="CLAIM_ID", help="The claim.")],
    note: Annotated[str | None, typer.Option(metavar="TEXT", help="Why (kept with the claim).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Reject a claim after review (it is kept, marked rejected).

    Example:

        deconflict claims reject clm-435ad314aa69 --note duplicate
    """
    with opened() as db:
        review = db.claims.reject(claim_id, note=note)
    if as_json:
        print_json(review.to_json())
        return
    out.print(f"rejected {claim_id}")
