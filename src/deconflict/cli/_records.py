"""Commands that correct the record (amend, withdraw, merge) and show notifications and duplicates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from deconflict.cli._common import (
    HistoryOption,
    JsonOption,
    YesOption,
    app,
    group,
    handle_errors,
    incidents_app,
    opened,
    option_names,
    out,
    print_history,
    print_json,
    sites_app,
    write_output,
)
from deconflict.times import format_span

notifications_app = group(
    "Notifications: list, show, export, amend, withdraw (notify records them).", "deconflict notifications list"
)
acknowledgements_app = group("Acknowledgements: list, withdraw.", "deconflict acknowledgements list")
app.add_typer(notifications_app, name="notifications")
app.add_typer(acknowledgements_app, name="acknowledgements")

ReasonOption = Annotated[
    str, typer.Option("--reason", metavar="TEXT", help="Why (logged with the correction; required).")
]


# -- sites ---------------------------------------------------------------------------------------
@sites_app.command("amend")
@handle_errors
def sites_amend(
    site_id: Annotated[str, typer.Argument(help="The site to correct.")],
    reason: ReasonOption,
    lat: Annotated[float | None, typer.Option(help="Corrected latitude, WGS84 degrees.")] = None,
    lon: Annotated[float | None, typer.Option(help="Corrected longitude, WGS84 degrees.")] = None,
    radius: Annotated[float | None, typer.Option(help="Corrected protection radius in metres.")] = None,
    name: Annotated[str | None, typer.Option(help="Corrected primary name.")] = None,
    kind: Annotated[str | None, typer.Option(help="Corrected kind.")] = None,
    address: Annotated[str | None, typer.Option()] = None,
    city: Annotated[str | None, typer.Option()] = None,
    approximate: Annotated[
        bool | None, typer.Option("--approximate/--exact", help="Mark the location approximate or exact.")
    ] = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Correct a site: a new salted commitment in the log superseding the old one (kept in its history).

    Example:

        deconflict sites amend aze-cultural-centre --lat 50.4606 --lon 30.4911 --approximate \\
            --reason "placed from the mission's published address"
    """
    with opened() as db, option_names(lat="--lat", lon="--lon", radius_m="--radius", reason="--reason"):
        site, index = db.sites.amend(
            site_id, reason=reason, lat=lat, lon=lon, radius_m=radius, name=name, kind=kind, address=address,
            city=city, approximate=approximate, force=yes,
        )  # fmt: skip
    if as_json:
        print_json({"id": site.id, "log_index": index, "lat": site.lat, "lon": site.lon, "radius_m": site.radius_m,
                    "approximate": site.approximate, "reason": reason})  # fmt: skip
        return
    out.print(
        f"amended site {site.id}: {site.lat:.6f}, {site.lon:.6f}, radius {site.radius_m:g} m"
        f"{' (approximate)' if site.approximate else ''} — log entry {index} (reason: {reason})",
        markup=False,
    )


@sites_app.command("withdraw")
@handle_errors
def sites_withdraw(
    site_id: Annotated[str, typer.Argument(help="The site to withdraw.")],
    reason: ReasonOption,
    as_json: JsonOption = False,
) -> None:
    """Withdraw a site (registered in error, closed): it leaves listings and analyses, the log keeps it.

    Example:

        deconflict sites withdraw aze-cultural-centre --reason "registered twice"
    """
    with opened() as db, option_names(reason="--reason"):
        _, index = db.sites.withdraw(site_id, reason=reason)
    _print_withdrawn("site", site_id, index, reason, as_json)


def _print_withdrawn(what: str, record_id: str, index: int, reason: str, as_json: bool) -> None:
    """What a withdrawal prints; its JSON is the API's answer (``id``, ``log_index``)."""
    if as_json:
        print_json({"id": record_id, "log_index": index})
        return
    out.print(f"withdrew {what} {record_id} — log entry {index} (reason: {reason})", markup=False)


# -- notifications ---------------------------------------------------------------------------------
@notifications_app.command("list")
@handle_errors
def notifications_list(
    site: Annotated[str | None, typer.Option(help="Only notifications naming this site.")] = None,
    history: Annotated[bool, typer.Option("--history", help="Withdrawn ones too, with every correction.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List notifications as in force (amended ones as amended), oldest first.

    Example:

        deconflict notifications list --json
    """
    with opened() as db:
        records = db.notifications.records(site, include_withdrawn=history)
        tz = db.timezone
    if as_json:
        print_json([r.to_json() for r in records])
        return
    table = Table(show_edge=False, pad_edge=False)
    for column in ("id", "sites", "to", "notified", "channel", "reference", "state", "log entry"):
        table.add_column(column)
    for record in records:
        n = record.notification
        table.add_row(
            n.id, " ".join(n.site_ids), n.recipient, format_span(n.notified_at, tz), n.channel or "",
            n.reference or "", record.state, str(record.log_index),
        )  # fmt: skip
    out.print(table)
    out.print(f"{len(records)} notification(s)")
    for record in records:
        for correction in record.corrections:
            out.print(
                f"  {record.notification.id}: {correction.kind.split('_')[-1]} at log entry {correction.entry_index}"
                f" — reason: {correction.reason}",
                markup=False,
            )


@notifications_app.command("show")
@handle_errors
def notifications_show(
    notification_id: Annotated[str, typer.Argument(help="Notification id.")],
    history: HistoryOption = False,
    as_json: JsonOption = False,
) -> None:
    """Show one notification as in force, its acknowledgements and (with --history) every version.

    Example:

        deconflict notifications show aze-2024-coordinates --history
    """
    with opened() as db:
        record = db.notifications.get(notification_id)
        chain = db.notifications.history(notification_id) if history else None
        tz = db.timezone
    data = record.to_json()
    if as_json:
        if chain is not None:
            data["history"] = chain.to_json()["events"]
        print_json(data)
        return
    for key in ("id", "state", "site_ids", "sender", "recipient", "notified_at_text", "channel", "reference", "text",
                "log_index", "original_log_index"):  # fmt: skip
        value = data[key]
        if value not in (None, "", []):
            shown = " ".join(value) if isinstance(value, list) else value
            out.print(f"{key.replace('_text', ''):>18}: {shown}", markup=False)
    for ack in data["acknowledgements"]:
        out.print(f"{'acknowledged':>18}: by {ack['by']} {ack['at_text']} (log entry {ack['log_index']})", markup=False)
    for correction in data["corrections"]:
        out.print(
            f"{correction['kind'].split('_')[-1]:>18}: log entry {correction['log_index']} — {correction['reason']}",
            markup=False,
        )
    if chain is not None:
        print_history(chain, tz)


@notifications_app.command("export")
@handle_errors
def notifications_export(
    out_file: Annotated[Path | None, typer.Option("--out", help="File to write (default stdout).")] = None,
    format: Annotated[str, typer.Option(help="json or csv.")] = "json",
    history: Annotated[bool, typer.Option("--history", help="Withdrawn ones too.")] = False,
) -> None:
    """Export the notifications as JSON or CSV (times as recorded, in the database's timezone, and UTC).

    Example:

        deconflict notifications export --format csv --out notifications.csv
    """
    with opened() as db:
        text = db.notifications.export(format, include_withdrawn=history)
    write_output(text, out_file)


@notifications_app.command("amend")
@handle_errors
def notifications_amend(
    notification_id: Annotated[str, typer.Argument(help="The notification to correct.")],
    reason: ReasonOption,
    to: Annotated[str | None, typer.Option("--to", help="Corrected recipient (ISO3).")] = None,
    at: Annotated[str | None, typer.Option(help="Corrected time (as for notify --at).")] = None,
    site: Annotated[list[str] | None, typer.Option("--site", help="Corrected list of sites (repeat).")] = None,
    channel: Annotated[str | None, typer.Option(metavar="TEXT", help="Corrected channel.")] = None,
    ref: Annotated[str | None, typer.Option("--ref", metavar="TEXT", help="Corrected reference of the note.")] = None,
    text: Annotated[str | None, typer.Option(metavar="TEXT", help="Corrected free text.")] = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Correct a notification (a wrong date or recipient): a log entry superseding it; analyses use the amended one.

    Example:

        deconflict notifications amend aze-2024-coordinates --ref NV-117 --reason "reference added"
    """
    with opened() as db, option_names(at="--at", to="--to", reason="--reason", site_ids="--site"):
        notification, index = db.notifications.amend(
            notification_id, reason=reason, to=to, at=at, site_ids=site, channel=channel, reference=ref, text=text,
            force=yes,
        )  # fmt: skip
        shown = format_span(notification.notified_at, db.timezone)
    if as_json:
        print_json({"id": notification.id, "log_index": index, "notified_at": notification.notified_at.to_text(),
                    "notified_at_text": shown, "recipient": notification.recipient, "reason": reason})  # fmt: skip
        return
    out.print(
        f"amended notification {notification.id}: to {notification.recipient} {shown} — log entry {index} "
        f"(reason: {reason})",
        markup=False,
    )


@notifications_app.command("withdraw")
@handle_errors
def notifications_withdraw(
    notification_id: Annotated[str, typer.Argument(help="The notification to withdraw.")],
    reason: ReasonOption,
    as_json: JsonOption = False,
) -> None:
    """Withdraw a notification recorded in error (its acknowledgements go with it); the log keeps it.

    Example:

        deconflict notifications withdraw aze-2024-coordinates --reason "entered for the wrong site"
    """
    with opened() as db, option_names(reason="--reason"):
        _, index = db.notifications.withdraw(notification_id, reason=reason)
    _print_withdrawn("notification", notification_id, index, reason, as_json)


# -- acknowledgements ------------------------------------------------------------------------------
@acknowledgements_app.command("list")
@handle_errors
def acknowledgements_list(
    notification: Annotated[str | None, typer.Option(help="Only those of this notification.")] = None,
    history: Annotated[bool, typer.Option("--history", help="Withdrawn ones too.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List acknowledgements in force.

    Example:

        deconflict acknowledgements list --json
    """
    with opened() as db:
        found = db.acknowledgements.list(notification, include_withdrawn=history)
        tz = db.timezone
    rows = [{"id": a.id, "notification_id": a.notification_id, "by": a.recipient, "at": a.at.to_text(),
             "at_text": format_span(a.at, tz), "reference": a.reference, "log_index": i} for a, i in found]  # fmt: skip
    if as_json:
        print_json(rows)
        return
    for row in rows:
        out.print(f"{row['id']}  {row['notification_id']}  by {row['by']}  {row['at_text']}  entry {row['log_index']}")
    out.print(f"{len(rows)} acknowledgement(s)")


@acknowledgements_app.command("withdraw")
@handle_errors
def acknowledgements_withdraw(
    acknowledgement_id: Annotated[str, typer.Argument(help="The acknowledgement to withdraw.")],
    reason: ReasonOption,
    as_json: JsonOption = False,
) -> None:
    """Withdraw an acknowledgement recorded in error: a log entry; the original stays in the log.

    Example:

        deconflict acknowledgements withdraw ack-example --reason "the reply was to another note"
    """
    with opened() as db, option_names(reason="--reason"):
        _, index = db.acknowledgements.withdraw(acknowledgement_id, reason=reason)
    _print_withdrawn("acknowledgement", acknowledgement_id, index, reason, as_json)


# -- incidents -------------------------------------------------------------------------------------
@incidents_app.command("duplicates")
@handle_errors
def incidents_duplicates(as_json: JsonOption = False) -> None:
    """Propose groups of incidents that may be reports of one strike (merge them with 'incidents merge').

    Example:

        deconflict incidents duplicates --json
    """
    with opened() as db:
        groups = db.incidents.duplicates()
    if as_json:
        print_json([g.to_json() for g in groups])
        return
    for found in groups:
        others = " ".join(i for i in found.incident_ids if i != found.keep)
        out.print(f"{' '.join(found.incident_ids)}  → deconflict incidents merge {found.keep} {others}", markup=False)
        for reason in found.reasons:
            out.print(f"    {reason}", markup=False)
    out.print(f"{len(groups)} group(s) of likely duplicate reports")


@incidents_app.command("merge")
@handle_errors
def incidents_merge(
    incident_ids: Annotated[list[str], typer.Argument(help="The reports of one strike.", show_default=False)],
    keep: Annotated[str | None, typer.Option(help="The id the merged incident keeps (default: most precise).")] = None,
    reason: Annotated[str, typer.Option(help="Why (logged).")] = "duplicate reports of one strike",
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Record several reports as one incident with all their sources (a log entry); it counts once.

    Example:

        deconflict incidents merge rep-2025-11-14-aze-embassy x-report-1 \\
            --keep rep-2025-11-14-aze-embassy
    """
    with opened() as db, option_names(keep="--keep", incident_ids="INCIDENT_IDS"):
        incident, index = db.incidents.merge(incident_ids, keep=keep, reason=reason, force=yes)
    if as_json:
        print_json({"id": incident.id, "merged": list(dict.fromkeys(incident_ids)), "log_index": index,
                    "sources": len(incident.sources)})  # fmt: skip
        return
    out.print(
        f"merged {len(set(incident_ids))} reports into incident {incident.id} ({len(incident.sources)} sources) — "
        f"log entry {index}",
        markup=False,
    )
