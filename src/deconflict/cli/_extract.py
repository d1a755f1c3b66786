"""Commands for candidate records from reports: ``extract``, ``incidents confirm|reject``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from deconflict.cli._common import JsonOption, app, handle_errors, incidents_app, opened, out, print_json
from deconflict.store.base import ImportRecord


def _short(text: str, width: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@app.command()
@handle_errors
def extract(
    paths: Annotated[list[Path], typer.Argument(metavar="PATH", help="Report files (.txt, .md, .html) or folders.")],
    import_: Annotated[
        bool, typer.Option("--import", help="Store the incident candidates as unverified incidents for review.")
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
    from deconflict.extract import extract_paths, to_incidents

    default_date = None
    if report_date:
        try:
            default_date = date.fromisoformat(report_date)
        except ValueError:
            raise InvalidInput(f"--report-date must be YYYY-MM-DD, got {report_date!r}") from None
    with opened() as db:
        sites = [hit.site for hit in db.sites.list()]
        results = extract_paths(paths, sites=sites, default_date=default_date)
        imported: list[str] = []
        if import_:
            for result in results:
                incidents = to_incidents(result, id_prefix=f"x-{result.source_sha256[:10]}")
                if not incidents:
                    continue
                name = Path(result.path).name if result.path else "report"
                record = ImportRecord("incidents", name, result.source_sha256, "extract", len(incidents))
                existing = db.store.existing_incident_ids([i.id for i in incidents])
                fresh = [i for i in incidents if i.id not in existing]
                if fresh:
                    db.incidents.add_many(fresh, record)
                    imported += [i.id for i in fresh]
    if as_json:
        print_json({"reports": [r.to_json() for r in results], "imported": imported})
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
