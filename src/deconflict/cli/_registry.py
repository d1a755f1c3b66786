"""Commands for the site registry, incidents, ``init`` and ``demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.status import Status
from rich.table import Table

import deconflict
from deconflict.cli._common import (
    DelimiterOption,
    HistoryOption,
    JsonOption,
    LimitOption,
    OfflineCommand,
    YesOption,
    app,
    err,
    handle_errors,
    incidents_app,
    limit_rows,
    opened,
    option_names,
    out,
    parse_point,
    print_history,
    print_json,
    progress_bars,
    say_shown,
    sites_app,
    state,
    write_output,
)
from deconflict.errors import InvalidInput
from deconflict.export import incident_row
from deconflict.ingest import INCIDENT_FORMATS, SITE_FORMATS
from deconflict.model import SITE_KINDS
from deconflict.times import format_span


@app.command()
@handle_errors
def init(
    timezone: Annotated[
        str,
        typer.Option(metavar="ZONE", help="IANA timezone in which dates without a time are read, e.g. Europe/Kyiv."),
    ] = "UTC",
    origin: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="The log's origin (checkpoint first line); default deconflict/log-RANDOM."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create the database and the log's Ed25519 signing key (printed as a verifier key).

    Example:

        deconflict --db kyiv.db init --timezone Europe/Kyiv
    """
    db = deconflict.init(state.db_path, timezone=timezone, origin=origin, key_file=state.key_file)
    try:
        ledger = db.ledger
        if as_json:
            print_json(
                {
                    "location": db.location,
                    "timezone": timezone,
                    "origin": ledger.origin,
                    "key_file": str(ledger.key_file),
                    "verifier_key": ledger.verifier_key,
                }
            )
            return
        out.print(f"created {db.location} (dates read in {timezone})")
        out.print(f"log origin    {ledger.origin}")
        out.print(f"signing key   {ledger.key_file} (private, mode 0600; keep it safe, never share it)")
        out.print(f"verifier key  {ledger.verifier_key}", markup=False)
        out.print("give the verifier key to whoever must check this log's checkpoints and evidence bundles")
    finally:
        db.close()


# -- sites -------------------------------------------------------------------------------
def _site_table(hits: list[deconflict.SiteHit], withdrawn: set[str] | None = None) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    show_distance = any(h.distance_m is not None for h in hits)
    for column in ("id", "name", "kind", "owner", "lat", "lon", "radius m", "city"):
        table.add_column(column)
    if show_distance:
        table.add_column("distance m", justify="right")
    for hit in hits:
        s = hit.site
        cells = [
            s.id,
            s.name + (" (approx.)" if s.approximate else "") + (" (WITHDRAWN)" if s.id in (withdrawn or ()) else ""),
            s.kind,
            s.owner,
            f"{s.lat:.5f}",
            f"{s.lon:.5f}",
            f"{s.radius_m:g}",
            s.city or "",
        ]
        if show_distance:
            cells.append(f"{hit.distance_m:,.0f}" if hit.distance_m is not None else "")
        table.add_row(*cells)
    return table


def _site_json(hit: deconflict.SiteHit) -> dict[str, Any]:
    s = hit.site
    data: dict[str, Any] = {
        "id": s.id, "name": s.name, "kind": s.kind, "owner": s.owner, "lat": s.lat, "lon": s.lon,
        "radius_m": s.radius_m, "address": s.address, "city": s.city,
        "names": [{"lang": lang, "name": name} for lang, name in s.names],
        "footprint_wkt": s.footprint_wkt, "approximate": s.approximate, "source": s.source, "notes": s.notes,
    }  # fmt: skip
    if hit.distance_m is not None:
        data["distance_m"] = round(hit.distance_m, 2)
    return data


@sites_app.command("add")
@handle_errors
def sites_add(
    name: Annotated[str, typer.Option(metavar="TEXT", help="Primary name.")],
    kind: Annotated[str, typer.Option(metavar="KIND", help=f"One of: {', '.join(SITE_KINDS)}.")],
    owner: Annotated[str, typer.Option(metavar="ISO3", help="ISO 3166-1 alpha-3 code of the owner state, e.g. AZE.")],
    lat: Annotated[float, typer.Option(metavar="DEGREES", help="Latitude, WGS84 degrees.")],
    lon: Annotated[float, typer.Option(metavar="DEGREES", help="Longitude, WGS84 degrees.")],
    radius: Annotated[
        float | None, typer.Option(metavar="METRES", help="Protection radius in metres (default per kind).")
    ] = None,
    id: Annotated[
        str | None, typer.Option("--id", metavar="ID", help="Site id (default derived from the content).")
    ] = None,
    address: Annotated[str | None, typer.Option(metavar="TEXT", help="Street address.")] = None,
    city: Annotated[
        str | None, typer.Option(metavar="NAME", help="City (default: the nearest city in GeoNames).")
    ] = None,
    alt_name: Annotated[
        list[str] | None,
        typer.Option("--alt-name", metavar="LANG=NAME", help="Another name, e.g. uk=Посольство."),
    ] = None,
    approximate: Annotated[bool, typer.Option("--approximate", help="Mark the location as approximate.")] = False,
    source: Annotated[str | None, typer.Option(metavar="TEXT", help="Where the location comes from.")] = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Add one protected site.

    Example:

        deconflict sites add --name "Embassy of Japan" --kind embassy --owner JPN \\
            --lat 50.4470 --lon 30.5170 --alt-name uk="Посольство Японії"
    """
    names: dict[str, list[str]] = {}
    for item in alt_name or []:
        lang, sep, text = item.partition("=")
        if not sep:
            raise InvalidInput(f"must be LANG=NAME, got {item!r}", where="--alt-name")
        names.setdefault(lang.strip(), []).append(text)
    with opened() as db, option_names(lat="--lat", lon="--lon", radius_m="--radius", id="--id"):
        site = db.sites.create(
            name=name,
            kind=kind,
            owner=owner,
            lat=lat,
            lon=lon,
            radius_m=radius,
            id=id,
            address=address,
            city=city,
            names=names,
            approximate=approximate,
            source=source,
            force=yes,
        )
    if as_json:
        print_json(_site_json(deconflict.SiteHit(site)))
    else:
        out.print(f"added site {site.id}: {site.name} ({site.kind}, {site.owner}), radius {site.radius_m:g} m")


@sites_app.command("import")
@handle_errors
def sites_import(
    file: Annotated[Path, typer.Argument(help="CSV, GeoJSON or the Wikidata embassies export.")],
    format: Annotated[
        str | None,
        typer.Option(metavar="|".join(SITE_FORMATS), help="The file's format (default: by extension)."),
    ] = None,
    city: Annotated[
        str | None, typer.Option(metavar="NAME", help="wikidata-embassies only: import one city's missions.")
    ] = None,
    delimiter: DelimiterOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Import sites from a file: every row or none.

    Example:

        deconflict sites import sites.csv
    """
    with opened() as db, progress_bars(quiet=as_json) as progress:
        result = db.sites.import_file(file, format, city=city, progress=progress, delimiter=delimiter, force=yes)
    if as_json:
        print_json(result.to_json())
        return
    out.print(f"imported {result.added} sites from {file} ({result.format}, sha256 {result.sha256[:16]}…)")
    if result.skipped:
        out.print(
            f"skipped {len(result.skipped)} rows that cannot be sites (e.g. row {result.skipped[0][0]}: "
            f"{result.skipped[0][1]})"
        )
    if result.ignored_columns:
        err.print(f"warning: ignored unknown column(s) {', '.join(result.ignored_columns)}", markup=False)


@sites_app.command("list")
@handle_errors
def sites_list(
    near: Annotated[str | None, typer.Option(metavar="LAT,LON", help="A point; use with --within.")] = None,
    within: Annotated[
        float | None, typer.Option(metavar="METRES", help="Geodesic distance from --near in metres.")
    ] = None,
    owner: Annotated[str | None, typer.Option(metavar="ISO3", help="Only this owner.")] = None,
    kind: Annotated[str | None, typer.Option(metavar="KIND", help="Only this kind.")] = None,
    search: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="Any name of the site or its city, any language/script, words inflected."),
    ] = None,
    city: Annotated[
        str | None, typer.Option(metavar="NAME", help="Only sites in this city, any spelling (Kyiv, Kiev, Київ).")
    ] = None,
    limit: LimitOption = None,
    history: Annotated[
        bool, typer.Option("--history", help="Withdrawn sites too, and each site's versions and corrections.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """List sites in force, nearest first with --near.

    Example:

        deconflict sites list --near 50.4501,30.5234 --within 2000
        deconflict sites list --search Київ --owner AZE --json
        deconflict sites list --city Kiev --history
    """
    point = parse_point(near) if near else None
    filters = {"near": point, "within_m": within, "owner": owner, "kind": kind, "search": search, "city": city,
               "include_withdrawn": history}  # fmt: skip
    shown = limit_rows(limit, as_json)
    with opened() as db, option_names(city="--city"):
        hits = db.sites.list(**filters, limit=shown)  # type: ignore[arg-type]
        total = db.sites.count(**filters) if shown is not None and len(hits) == shown else len(hits)
        histories = {h.site.id: db.sites.history(h.site.id) for h in hits} if history else {}
        tz = db.timezone
    withdrawn = {site_id for site_id, record in histories.items() if record.state == "withdrawn"}
    if as_json:
        rows = [_site_json(h) for h in hits]
        for row in rows:
            if history:
                row["history"] = histories[row["id"]].to_json()
        print_json(rows)
    else:
        out.print(_site_table(hits, withdrawn))
        if withdrawn:
            out.print(f"{len(withdrawn)} of them withdrawn", markup=False)
        for record in histories.values():
            if record.corrected:
                print_history(record, tz)
    say_shown(len(hits), total, "site(s)", as_json=as_json)


@sites_app.command("show")
@handle_errors
def sites_show(
    site_id: Annotated[str, typer.Argument(help="Site id.")],
    history: HistoryOption = False,
    as_json: JsonOption = False,
) -> None:
    """Show one site with all its names (and, with --history, every version and correction).

    Example:

        deconflict sites show wd-Q5369559
        deconflict sites show aze-consular-section --history
    """
    with opened() as db:
        site = db.sites.get(site_id)
        record = db.sites.history(site_id) if history else None
        tz = db.timezone
    data = _site_json(deconflict.SiteHit(site))
    if record is not None:
        data["state"] = record.state
        data["history"] = record.to_json()["events"]
    if as_json:
        print_json(data)
        return
    if record is not None:
        data.pop("history")
        for key, value in data.items():
            if key == "names":
                value = ", ".join(f"{n['name']} [{n['lang']}]" for n in value) or ""
            if value not in (None, ""):
                out.print(f"{key:>14}: {value}", markup=False)
        print_history(record, tz)
        return
    for key, value in data.items():
        if key == "names":
            value = ", ".join(f"{n['name']} [{n['lang']}]" for n in value) or ""
        if value not in (None, ""):
            out.print(f"{key:>14}: {value}", markup=False)


@sites_app.command("export")
@handle_errors
def sites_export(
    out_file: Annotated[Path | None, typer.Option("--out", help="File to write (default stdout).")] = None,
    format: Annotated[
        str, typer.Option(metavar="csv|geojson|gpkg", help="The format to write (gpkg: a GeoPackage, needs --out).")
    ] = "csv",
) -> None:
    """Export the sites as CSV, typed GeoJSON or a GeoPackage (CSV and GeoJSON re-import unchanged).

    Example:

        deconflict sites export --format geojson --out sites.geojson
        deconflict sites export --format gpkg --out sites.gpkg
    """
    with opened() as db, option_names(path="--out", format="--format"):
        text = db.sites.export(format, path=out_file)
    if format == "gpkg":
        err.print(f"wrote {out_file}", markup=False)
    else:
        write_output(text, out_file)


# -- incidents ---------------------------------------------------------------------------
@incidents_app.command("import")
@handle_errors
def incidents_import(
    file: Annotated[Path, typer.Argument(help="CSV, GeoJSON or ACLED-style export.")],
    format: Annotated[
        str | None,
        typer.Option(metavar="|".join(INCIDENT_FORMATS), help="The file's format (default: by extension)."),
    ] = None,
    on_existing: Annotated[
        str,
        typer.Option(
            "--on-existing",
            help="Records already stored: refuse (the file), skip them, or update them (a revision entry).",
        ),
    ] = "refuse",
    delimiter: DelimiterOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Import incidents: every row or none; progress bars on a terminal.

    Example:

        deconflict incidents import strikes.csv
        deconflict incidents import acled-export.csv --format acled --json
        deconflict incidents import strikes.csv --on-existing update
    """
    with opened() as db, progress_bars(quiet=as_json) as progress, option_names(on_existing="--on-existing"):
        result = db.incidents.import_file(
            file, format, progress=progress, on_existing=on_existing, delimiter=delimiter, force=yes
        )
    if as_json:
        print_json(result.to_json())
        return
    out.print(f"imported {result.added} incidents from {file} ({result.format}, sha256 {result.sha256[:16]}…)")
    if result.updated or result.unchanged:
        out.print(
            f"{result.updated} already stored and revised (one revision entry), {result.unchanged} already stored "
            "unchanged or skipped"
        )
    if result.ignored_columns:
        err.print(f"warning: ignored unknown column(s) {', '.join(result.ignored_columns)}", markup=False)


def _incident_json(incident: Any) -> dict[str, Any]:
    """An incident as typed JSON (numbers as numbers, missing values as null)."""
    row: dict[str, Any] = {k: (v if v != "" else None) for k, v in incident_row(incident).items()}
    row.update(lat=incident.lat, lon=incident.lon, uncertainty_m=incident.uncertainty_m,
               time_start=incident.time.start.isoformat().replace("+00:00", "Z"),
               time_end=incident.time.end.isoformat().replace("+00:00", "Z"), counted=incident.counted)  # fmt: skip
    return row


@incidents_app.command("list")
@handle_errors
def incidents_list(
    near: Annotated[str | None, typer.Option(metavar="LAT,LON", help="A point; use with --within.")] = None,
    within: Annotated[float | None, typer.Option(metavar="METRES", help="Geodesic distance in metres.")] = None,
    start: Annotated[
        str | None,
        typer.Option(metavar="TIME", help="Only incidents that may have happened at or after (ISO 8601)."),
    ] = None,
    end: Annotated[str | None, typer.Option(metavar="TIME", help="... at or before (ISO 8601).")] = None,
    status: Annotated[
        str | None, typer.Option(metavar="confirmed|unverified|rejected", help="Only this status.")
    ] = None,
    limit: LimitOption = None,
    as_json: JsonOption = False,
) -> None:
    """List incidents in time order.

    Example:

        deconflict incidents list --near 50.4608,30.4906 --within 500
        deconflict incidents list --start 2025-01-01 --status confirmed --limit 20
    """
    from deconflict.model import INCIDENT_STATUSES
    from deconflict.times import format_utc, parse_instant

    point = parse_point(near) if near else None
    if (point is None) != (within is None):
        raise InvalidInput("--near and --within go together")
    if status is not None and status not in INCIDENT_STATUSES:
        raise InvalidInput(f"--status must be one of {', '.join(INCIDENT_STATUSES)}, got {status!r}")
    start_text = format_utc(parse_instant(start)) if start else None
    end_text = format_utc(parse_instant(end)) if end else None
    filters = {"near": point, "within_m": within, "start": start_text, "end": end_text, "status": status}
    shown = limit_rows(limit, as_json)
    with opened() as db:
        incidents = db.incidents.list(**filters, limit=shown)  # type: ignore[arg-type]
        total = db.incidents.count(**filters) if shown is not None and len(incidents) == shown else len(incidents)
        tz = db.timezone
    if as_json:
        print_json([_incident_json(i) for i in incidents])
        say_shown(len(incidents), total, "incident(s)", as_json=True)
        return
    table = Table(show_edge=False, pad_edge=False)
    for column in (
        "id",
        "time",
        "precision",
        "lat",
        "lon",
        "± m",
        "kind",
        "confidence",
        "provenance",
    ):
        table.add_column(column)
    for i in incidents:
        label = (i.provenance or "") + (" ⚠ SYNTHETIC" if i.provenance == "synthetic" else "")
        table.add_row(
            i.id,
            format_span(i.time, tz),
            i.time.precision,
            f"{i.lat:.5f}",
            f"{i.lon:.5f}",
            f"{i.uncertainty_m:g}",
            i.kind or "",
            i.confidence,
            label.strip(),
        )
    out.print(table)
    say_shown(len(incidents), total, "incident(s)")


@incidents_app.command("show")
@handle_errors
def incidents_show(
    incident_id: Annotated[str, typer.Argument(help="Incident id.")],
    history: HistoryOption = False,
    as_json: JsonOption = False,
) -> None:
    """Show one incident (with --history: every version, revision and merge, also of a merged report).

    Example:

        deconflict incidents show rep-2025-11-14-aze-embassy
        deconflict incidents show rep-2024-12-20-prt-embassy --history
    """
    with opened() as db:
        record = db.incidents.history(incident_id) if history else None
        incident = db.incidents.get(incident_id) if record is None or not record.state.startswith("merged") else None
        tz = db.timezone
    if as_json:
        data = _incident_json(incident) if incident is not None else {"id": incident_id}
        if record is not None:
            data.update(state=record.state, history=record.to_json()["events"])
        print_json(data)
        return
    if incident is not None:
        row = incident_row(incident)
        row["time"] = f"{format_span(incident.time, tz)} ({row['time']})"
        for key, value in row.items():
            if value:
                out.print(f"{key:>17}: {value}", markup=False)
    if record is not None:
        print_history(record, tz)


@incidents_app.command("export")
@handle_errors
def incidents_export(
    out_file: Annotated[Path | None, typer.Option("--out", help="File to write (default stdout).")] = None,
    format: Annotated[
        str, typer.Option(metavar="csv|geojson|gpkg", help="The format to write (gpkg: a GeoPackage, needs --out).")
    ] = "csv",
) -> None:
    """Export incidents as CSV, typed GeoJSON (time_start/time_end for QGIS) or a GeoPackage.

    Example:

        deconflict incidents export --out incidents.csv
        deconflict incidents export --format geojson --out incidents.geojson
    """
    with opened() as db, option_names(path="--out", format="--format"):
        text = db.incidents.export(format, path=out_file)
    if format == "gpkg":
        err.print(f"wrote {out_file}", markup=False)
    else:
        write_output(text, out_file)


# -- demo --------------------------------------------------------------------------------
@app.command(cls=OfflineCommand)
@handle_errors
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the demo database and outputs.")] = Path(
        "demo-output"
    ),
    as_json: JsonOption = False,
) -> None:
    """Build the Kyiv example end to end and print where its outputs are.

    Example:

        deconflict demo --out demo-output
    """
    import contextlib
    import dataclasses

    from deconflict.demo import DEMO_NOTES, DEMO_SEED, RUS_ACK_DEADLINE, RUS_STATEMENT, run_demo

    building = Status("building the Kyiv example (about a minute)", console=err)
    with contextlib.nullcontext() if as_json else building:
        summary = run_demo(out_dir)
    if as_json:
        print_json({k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(summary).items()})
        return
    out.print(f"[bold]deconflict demo[/bold]: Kyiv example in {out_dir}/")
    out.print(f"  database        {summary.database}")
    out.print(
        f"  sites           {summary.sites} diplomatic premises in Kyiv (Wikidata, CC0); "
        f"{summary.approximate_sites} placed by hand, marked approximate location"
    )
    out.print(
        f"  reported hits   {summary.reported} publicly reported strikes placed at the premises (labelled "
        f"reported; {summary.reports} reports, one strike on neighbouring premises counted once)"
    )
    out.print(
        f"  [bold yellow]synthetic[/bold yellow]       {summary.synthetic} SYNTHETIC background strikes "
        f"(seed {DEMO_SEED}; no open strike data exists for Kyiv)"
    )
    out.print(f"  amendment       {summary.amended}", markup=False)
    for line in summary.merged:
        out.print(f"  merged reports  {line}", markup=False)
    if summary.unplaced:
        out.print(
            f"  not placed      {len(summary.unplaced)} reported hits on premises without open "
            "coordinates: " + "; ".join(summary.unplaced)
        )
    out.print(
        f"  ledger          notification of the 3 Azerbaijani sites to RUS between 2024-01-02 and 2025-08-27 "
        f"(exact date not public); checkpoint of size {summary.checkpoint_size}. "
        "Logged today: the log proves when a record was made, not the date it claims"
    )
    for line in summary.outside:
        out.print(f"    {line}", markup=False)
    out.print(f"  evidence        {summary.bundle}")
    out.print(
        f'  commitment      RUS: "{RUS_STATEMENT}" — recorded as the PUBLIC STATEMENT it is, covering the 3 '
        "Azerbaijani sites from when it was made (the 2025 hits came before it); "
        f"acknowledgement deadline {RUS_ACK_DEADLINE}: "
        + ("UNACKNOWLEDGED, deadline_missed logged by the monitor" if summary.deadlines_missed else "awaiting"),
        markup=False,
    )
    out.print(
        f"  movement        [bold yellow]SYNTHETIC[/bold yellow] convoy through Kyiv on the night of 14 November 2025 "
        f"(corridor 100 m), notified to RUS; its bundle: {summary.movement_bundle}"
    )
    out.print(
        f"  alerts          {summary.alerts} raised: {summary.alerts_on_reported} by reported hits, "
        f"{summary.alerts - summary.alerts_on_reported} by SYNTHETIC strikes (see 'deconflict alerts list', "
        "'deconflict compliance')",
        markup=False,
    )
    if summary.dossier:
        out.print(f"  dossier         {summary.dossier} (evidence + DRAFT account in en, de, uk, ru)", markup=False)
    out.print(
        f"  analysis        (against the SYNTHETIC background; seed {DEMO_SEED}; study area: a box around Kyiv;"
        " stored with the database, so 'deconflict report' reproduces these numbers)"
    )
    for line in summary.findings:
        out.print(f"    {line}", markup=False)
    out.print("    assumptions: " + "; ".join(summary.assumptions) + " (all in the report)", markup=False)
    out.print("    " + DEMO_NOTES[0], markup=False)
    report = summary.report.resolve() if summary.report else ""
    out.print(f"  [bold]report[/bold]          {report}  (open it in a browser; works offline)")
    out.print("  verify it offline:", markup=False)
    out.print(
        f"    deconflict evidence verify {summary.bundle} --key '{summary.verifier_key}' "
        f"--witness-policy {summary.witness_policy}" + "".join(f" --tsa-cert {root}" for root in summary.tsa_roots),
        markup=False,
    )
