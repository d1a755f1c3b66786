"""Commands for guarantees: movements, commitments, alerts, channels, monitor, compliance, dossier."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from deconflict.cli._common import (
    JsonOption,
    LimitOption,
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
    write_output,
)
from deconflict.errors import InvalidInput, NotFound
from deconflict.fileio import atomic_write_bytes
from deconflict.guarantees.model import COMMITMENT_FORMS, MOVEMENT_KINDS
from deconflict.times import format_stored

#: Records of the Kyiv demo that the examples name (``deconflict demo`` makes them).
CONVOY = "synthetic-convoy-k1"
RUS_COMMITMENT = "rus-statement-diplomatic-locations"
EMBASSY_ALERT = "alr-da48b5c32642"  # the strike of 2025-11-14 on the embassy, after its notification

movements_app = group("Humanitarian movements: routes, corridors, time windows.", f"deconflict movements hits {CONVOY}")
commitments_app = group(
    "What a party undertook, for which objects, by which deadline.", "deconflict commitments list --party RUS"
)
alerts_app = group("Possible breaches raised by incident writes; the owner's inbox.", "deconflict alerts list")
channels_app = group("Where an owner's alerts are delivered (webhook, e-mail).", "deconflict channels list")
app.add_typer(movements_app, name="movements")
app.add_typer(commitments_app, name="commitments")
app.add_typer(alerts_app, name="alerts")
app.add_typer(channels_app, name="channels")

_MOVEMENT_OPTIONS = {
    "route": "--route",
    "width_m": "--width",
    "from": "--from",
    "until": "--until",
    "kind": "--kind",
    "owner": "--owner",
    "id": "--id",
}


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound("file does not exist", where=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read it: {exc}", where=str(path)) from None


# -- movements ------------------------------------------------------------------------------------
@movements_app.command("add")
@handle_errors
def movements_add(
    owner: Annotated[str, typer.Option(help="Notifying state or organisation (ISO3, e.g. XUN for the UN).")],
    width: Annotated[float, typer.Option(help="Corridor width in metres (half of it each side of the route).")],
    start: Annotated[str, typer.Option("--from", help="Start of the window (database timezone).")],
    until: Annotated[str, typer.Option(help="End of the window; a date includes that whole day.")],
    route: Annotated[
        str | None, typer.Option(help="Waypoints 'lat,lon; lat,lon; ...', a GeoJSON LineString or WKT.")
    ] = None,
    route_file: Annotated[Path | None, typer.Option(help="A file holding the route (GeoJSON LineString).")] = None,
    kind: Annotated[str, typer.Option(help=f"One of {', '.join(MOVEMENT_KINDS)}.")] = "convoy",
    name: Annotated[str | None, typer.Option(help="A label.")] = None,
    organisation: Annotated[str | None, typer.Option(help="The notifying organisation's name.")] = None,
    vehicles: Annotated[str | None, typer.Option(help="Vehicles and markings (free text).")] = None,
    notes: Annotated[str | None, typer.Option()] = None,
    synthetic: Annotated[bool, typer.Option(help="Label it SYNTHETIC (a simulated movement).")] = False,
    id: Annotated[str | None, typer.Option("--id", help="Movement id (default generated).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Register a movement: one log entry committing to its route and window (notify it with --movement).

    Example:

        deconflict movements add --owner XUN --organisation WFP --width 100 --from 2025-12-01T06:00 \\
            --until 2025-12-01T18:00 --route '50.4560,30.3650; 50.4610,30.4300; 50.4620,30.5150'
    """
    from deconflict.guarantees.movements import movement_json

    if (route is None) == (route_file is None):
        raise InvalidInput("give the route with --route or --route-file (one of them)", where="--route")
    text = route if route is not None else _read(route_file)  # type: ignore[arg-type]
    with opened() as db, option_names(**_MOVEMENT_OPTIONS):
        movement, index = db.movements.create(
            owner=owner,
            route=text,
            width_m=width,
            start=start,
            until=until,
            kind=kind,
            name=name,
            organisation=organisation,
            vehicles=vehicles,
            notes=notes,
            provenance="synthetic" if synthetic else None,
            id=id,
        )
    if as_json:
        print_json(movement_json(movement, index))
        return
    label = " [SYNTHETIC]" if movement.synthetic else ""
    out.print(
        f"movement {movement.id}{label}: {len(movement.route)} waypoints, corridor {movement.width_m:g} m, "
        f"{movement.window.to_text()} — log entry {index}",
        markup=False,
    )
    out.print(f"notify it: deconflict notify --movement {movement.id} --to ISO3 --at TIME", markup=False)


@movements_app.command("import")
@handle_errors
def movements_import(
    file: Annotated[Path, typer.Argument(help="CSV (route as 'lat,lon; ...') or GeoJSON LineString features.")],
    as_json: JsonOption = False,
) -> None:
    """Import movements from a file: every row or none.

    Example:

        deconflict movements import movements.csv
    """
    with opened() as db:
        done = db.movements.import_file(file)
    if as_json:
        print_json([{"id": m.id, "log_index": i} for m, i in done])
        return
    out.print(f"imported {len(done)} movements from {file}")


def _movement_table(movements: list[Any]) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    for column in ("id", "name", "kind", "owner", "organisation", "waypoints", "width m", "window", "label"):
        table.add_column(column)
    for m in movements:
        table.add_row(
            m.id,
            m.name or "",
            m.kind,
            m.owner,
            m.organisation or "",
            str(len(m.route)),
            f"{m.width_m:g}",
            m.window.to_text(),
            "SYNTHETIC" if m.synthetic else "",
        )
    return table


@movements_app.command("list")
@handle_errors
def movements_list(
    owner: Annotated[str | None, typer.Option(metavar="ISO3", help="Only this owner.")] = None,
    limit: LimitOption = None,
    as_json: JsonOption = False,
) -> None:
    """List movements in log order.

    Example:

        deconflict movements list --owner XUN
    """
    from deconflict.guarantees.movements import movement_json

    with opened() as db:
        found = db.movements.list(owner=owner)
        movements = first(found, limit_rows(limit, as_json))
        indices = {m.id: db.movements.log_index(m.id) for m in movements}
    if as_json:
        print_json([movement_json(m, indices[m.id]) for m in movements])
    else:
        out.print(_movement_table(movements))
    say_shown(len(movements), len(found), "movement(s)", as_json=as_json)


@movements_app.command("show")
@handle_errors
def movements_show(movement_id: Annotated[str, typer.Argument()], as_json: JsonOption = False) -> None:
    """Show one movement with its route.

    Example:

        deconflict movements show synthetic-convoy-k1 --json
    """
    from deconflict.guarantees.movements import movement_json

    with opened() as db:
        data = movement_json(db.movements.get(movement_id), db.movements.log_index(movement_id))
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        if key == "route":
            value = "; ".join(f"{lat},{lon}" for lon, lat in value["coordinates"])
        if value not in (None, ""):
            out.print(f"{key:>12}: {value}", markup=False)


@movements_app.command("export")
@handle_errors
def movements_export(
    out_file: Annotated[Path | None, typer.Option("--out", help="File to write (default stdout).")] = None,
    format: Annotated[str, typer.Option(help="csv or geojson.")] = "csv",
) -> None:
    """Export movements as CSV or GeoJSON (re-imports unchanged).

    Example:

        deconflict movements export --format geojson --out movements.geojson
    """
    with opened() as db:
        text = db.movements.export(format)
    write_output(text, out_file)


@movements_app.command("hits")
@handle_errors
def movements_hits(movement_id: Annotated[str, typer.Argument()], as_json: JsonOption = False) -> None:
    """Incidents that may have hit a movement's corridor in its window, with their hit probabilities.

    Example:

        deconflict movements hits synthetic-convoy-k1
    """
    with opened() as db:
        hits = db.movements.hits(movement_id)
    if as_json:
        print_json([h.to_json() for h in hits])
        return
    table = Table(show_edge=False, pad_edge=False)
    for column in ("incident", "time", "distance m", "P(hit)", "spatial", "time share", "counted", "provenance"):
        table.add_column(column)
    for h in hits:
        table.add_row(
            h.incident_id,
            h.incident_time.to_text(),
            f"{h.distance_m:,.0f}",
            f"{h.hit_probability:.3f}",
            f"{h.spatial_probability:.3f}",
            f"{h.time_fraction:.2f}",
            "yes" if h.counted else "no",
            ((h.provenance or "") + (" ⚠ SYNTHETIC" if h.provenance == "synthetic" else "")).strip(),
        )
    out.print(table)
    out.print(f"{len(hits)} possible hit(s)")


@movements_app.command("summary")
@handle_errors
def movements_summary(as_json: JsonOption = False) -> None:
    """Per organisation: movements, possible hits, the largest hit probability, alerts.

    Example:

        deconflict movements summary
    """
    with opened() as db:
        rows = db.movements.summary()
    if as_json:
        print_json(rows)
        return
    table = Table(show_edge=False, pad_edge=False)
    for column in ("organisation", "owner", "movements", "possible hits", "max P(hit)", "alerts", "label"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["organisation"],
            r["owner"],
            str(r["movements"]),
            str(r["possible_hits"]),
            f"{r['max_hit_probability']:.3f}",
            str(r["alerts"]),
            "SYNTHETIC" if r["synthetic"] else "",
        )
    out.print(table)


# -- commitments ----------------------------------------------------------------------------------
def _commitment_lines(data: dict[str, Any], tz: ZoneInfo | str) -> list[str]:
    window = data["window"]
    lines = [
        f"commitment {data['id']} by {data['party']} "
        f"({'PUBLIC STATEMENT' if data['public_statement'] else data['form']}) — log entry {data['log_index']}",
        f"  covers      {len(data['site_ids'])} site(s) {', '.join(data['site_ids'])}"
        + (
            f"; {len(data['movement_ids'])} movement(s) {', '.join(data['movement_ids'])}"
            if data["movement_ids"]
            else ""
        )
        + (f" (all sites of {', '.join(data['owners'])} when recorded)" if data["owners"] else ""),
        f"  made        {format_stored(data['made_at'], tz)}",
        f"  window      {format_stored(window['start'], tz)} to {format_stored(window['end'], tz, empty='open-ended')}",
        f"  deadline    {format_stored(data['deadline'], tz, empty='none')}: {data['acknowledgement_status'].upper()}"
        + (
            f" (deadline_missed logged at entry {data['deadline_missed_log_index']})"
            if data["deadline_missed_log_index"] is not None
            else ""
        ),
    ]
    if data["text"]:
        lines.append(f'  text        "{data["text"]}"')
    if data["reference"]:
        lines.append(f"  reference   {data['reference']}")
    return lines


@commitments_app.command("add")
@handle_errors
def commitments_add(
    party: Annotated[str, typer.Option(help="Who undertook it (ISO3), e.g. RUS.")],
    site: Annotated[list[str] | None, typer.Option("--site", help="A site covered (repeatable).")] = None,
    movement: Annotated[list[str] | None, typer.Option("--movement", help="A movement covered (repeatable).")] = None,
    owner: Annotated[
        list[str] | None, typer.Option("--owner", help="Cover every site of this owner, as registered now.")
    ] = None,
    made_at: Annotated[
        str | None, typer.Option(help="When it was made (date, date-time or start/end); default now.")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="Start of the window it holds for; default when made.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="End of the window; default open-ended.")] = None,
    deadline: Annotated[str | None, typer.Option(help="Acknowledgement deadline (a date means its end).")] = None,
    form: Annotated[str, typer.Option(help=f"One of {', '.join(COMMITMENT_FORMS)}.")] = "note-verbale",
    ref: Annotated[str | None, typer.Option("--ref", help="Reference of the note or statement.")] = None,
    text: Annotated[str | None, typer.Option(help="Its words (kept in the public log entry).")] = None,
    source_url: Annotated[str | None, typer.Option(help="Where it is published.")] = None,
    id: Annotated[str | None, typer.Option("--id", help="Commitment id (default generated).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Record what a party undertook: one log entry (alerts for incidents already in its window follow).

    Example:

        deconflict commitments add --party RUS --owner AZE --form note-verbale --ref AZE-2026-041 \\
            --made-at 2026-04-01 --deadline 2026-04-15 --text 'the listed premises will not be targeted'
    """
    names = {
        "party": "--party",
        "sites": "--site",
        "movements": "--movement",
        "owners": "--owner",
        "made_at": "--made-at",
        "from": "--from",
        "until": "--until",
        "deadline": "--deadline",
        "form": "--form",
        "id": "--id",
    }
    with opened() as db, option_names(**names):
        commitment, _index = db.commitments.add(
            party=party,
            sites=site or (),
            movements=movement or (),
            owners=owner or (),
            made_at=made_at,
            start=start,
            until=until,
            deadline=deadline,
            form=form,
            reference=ref,
            text=text,
            source_url=source_url,
            id=id,
        )
        record = db.commitments.get(commitment.id)
        alerts = db.alerts.list(commitment_id=commitment.id)
        tz = db.timezone
    if as_json:
        print_json({**record.to_json(), "alerts": [a.alert.id for a in alerts]})
        return
    for line in _commitment_lines(record.to_json(), tz):
        out.print(line, markup=False)
    if alerts:
        out.print(f"  {len(alerts)} alert(s) raised for incidents already in its window", markup=False)


@commitments_app.command("list")
@handle_errors
def commitments_list(
    party: Annotated[str | None, typer.Option(help="Only this party (ISO3).")] = None,
    owner: Annotated[str | None, typer.Option(help="Only those covering this owner's objects.")] = None,
    limit: LimitOption = None,
    as_json: JsonOption = False,
) -> None:
    """List commitments with their acknowledgement status and deadline.

    Example:

        deconflict commitments list --party RUS
    """
    with opened() as db:
        every = [r.to_json() for r in db.commitments.records(party=party, owner=owner)]
        tz = db.timezone
    found = first(every, limit_rows(limit, as_json))
    if as_json:
        print_json(found)
        say_shown(len(found), len(every), "commitment(s)", as_json=True)
        return
    table = Table(show_edge=False, pad_edge=False)
    for column in ("id", "party", "form", "objects", "window", "deadline", "acknowledgement"):
        table.add_column(column)
    for c in found:
        table.add_row(
            c["id"],
            c["party"],
            "PUBLIC STATEMENT" if c["public_statement"] else c["form"],
            str(len(c["site_ids"]) + len(c["movement_ids"])),
            f"{format_stored(c['window']['start'], tz)} to {format_stored(c['window']['end'], tz, empty='open')}",
            format_stored(c["deadline"], tz),
            c["acknowledgement_status"],
        )
    out.print(table)
    say_shown(len(found), len(every), "commitment(s)")


@commitments_app.command("show")
@handle_errors
def commitments_show(commitment_id: Annotated[str, typer.Argument()], as_json: JsonOption = False) -> None:
    """Show one commitment.

    Example:

        deconflict commitments show rus-statement-diplomatic-locations
    """
    with opened() as db:
        data = db.commitments.get(commitment_id).to_json()
        tz = db.timezone
    if as_json:
        print_json(data)
        return
    for line in _commitment_lines(data, tz):
        out.print(line, markup=False)


# -- alerts ---------------------------------------------------------------------------------------
@alerts_app.command("list")
@handle_errors
def alerts_list(
    owner: Annotated[str | None, typer.Option(help="Only this owner's (ISO3).")] = None,
    unacknowledged: Annotated[bool, typer.Option(help="Only those not acknowledged yet.")] = False,
    limit: LimitOption = None,
    as_json: JsonOption = False,
) -> None:
    """List alerts, newest first, with their delivery state.

    Example:

        deconflict alerts list --unacknowledged
    """
    with opened() as db:
        every = db.alerts.list(owner=owner, unacknowledged=unacknowledged)
        tz = db.timezone
        found = [a.to_json() for a in first(every, limit_rows(limit, as_json))]
    if as_json:
        print_json(found)
        say_shown(len(found), len(every), "alert(s)", as_json=True)
        return
    table = Table(show_edge=False, pad_edge=False)
    for column in ("id", "object", "incident", "P(hit)", "basis", "raised", "delivered", "ack", "labels"):
        table.add_column(column)
    for a in found:
        delivered = sum(1 for d in a["deliveries"] if d["status"] == "delivered")
        table.add_row(
            a["id"],
            f"{a['object_kind']} {a['object_id']}",
            a["incident_id"],
            f"{a['hit_probability']:.3f}",
            f"{a['basis']['kind']} {a['basis']['id']}",
            format_stored(a["raised_at"], tz),
            f"{delivered}/{len(a['deliveries'])}",
            "yes" if a["acknowledged"] else "",
            "SYNTHETIC" if any("SYNTHETIC" in x for x in a["labels"]) else "",
        )
    out.print(table)
    say_shown(len(found), len(every), "alert(s)")


@alerts_app.command("show")
@handle_errors
def alerts_show(alert_id: Annotated[str, typer.Argument()], as_json: JsonOption = False) -> None:
    """Show one alert, its deliveries and every delivery attempt.

    Example:

        deconflict alerts show alr-da48b5c32642
    """
    from deconflict.guarantees.delivery import attempts

    with opened() as db:
        data = db.alerts.get(alert_id).to_json()
        tz = db.timezone
        for delivery in data["deliveries"]:
            delivery["attempt_log"] = attempts(db, delivery["id"])
    if as_json:
        print_json(data)
        return
    out.print(
        f"alert {data['id']} — log entry {data['log_index']}, raised {format_stored(data['raised_at'], tz)} "
        f"({data['trigger']})",
        markup=False,
    )
    out.print(
        f"  incident {data['incident_id']} ({data['incident_time']}) may have hit {data['object_kind']} "
        f"{data['object_id']} ({data['object_label']})",
        markup=False,
    )
    out.print(
        f"  P(hit) {data['hit_probability']:.3f} = spatial {data['spatial_probability']:.3f} x time "
        f"{data['time_fraction']:.3f}; distance {data['distance_m']:,.0f} m; threshold {data['threshold']:g}",
        markup=False,
    )
    out.print(
        f"  basis {data['basis']['kind']} {data['basis']['id']} (log entry {data['basis']['log_index']})", markup=False
    )
    for label in data["labels"]:
        out.print(f"  {label}", markup=False)
    for d in data["deliveries"]:
        out.print(
            f"  delivery {d['id']} via {d['channel_id']}: {d['status']} after {d['attempts']} attempt(s)"
            + (f", last error: {d['last_error']}" if d["last_error"] else ""),
            markup=False,
        )
    if data["acknowledged"]:
        out.print(
            f"  acknowledged by {data['acknowledged']['by']} (log entry {data['acknowledged']['log_index']})",
            markup=False,
        )


@alerts_app.command("ack")
@handle_errors
def alerts_ack(
    alert_id: Annotated[str, typer.Argument()],
    note: Annotated[str | None, typer.Option(help="What was done (kept in the log entry).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Acknowledge an alert (the owner has seen it): one log entry.

    Example:

        deconflict alerts ack alr-da48b5c32642 --note 'note verbale sent'
    """
    with opened() as db:
        _, index = db.alerts.acknowledge(alert_id, note=note)
    if as_json:
        print_json({"id": alert_id, "log_index": index})
        return
    out.print(f"alert {alert_id} acknowledged — log entry {index}")


@alerts_app.command("threshold")
@handle_errors
def alerts_threshold(
    value: Annotated[float | None, typer.Argument(help="New threshold in (0, 1]; omit to print it.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Print or set the hit probability at or above which alerts are raised (default 0.05).

    Example:

        deconflict alerts threshold
        deconflict alerts threshold 0.1
    """
    with opened() as db, option_names(threshold="THRESHOLD"):
        threshold = db.alerts.threshold() if value is None else db.alerts.set_threshold(value)
    if as_json:
        print_json({"threshold": threshold})
        return
    out.print(f"alert threshold {threshold:g}")


# -- channels -------------------------------------------------------------------------------------
@channels_app.command("add")
@handle_errors
def channels_add(
    owner: Annotated[str, typer.Option(help="Whose alerts (ISO3).")],
    webhook: Annotated[str | None, typer.Option(help="POST signed JSON to this http(s) URL.")] = None,
    email: Annotated[str | None, typer.Option(help="Send e-mail to this address.")] = None,
    smtp: Annotated[str | None, typer.Option(help="SMTP server HOST:PORT (with --email).")] = None,
    sender: Annotated[str, typer.Option("--from", help="Sender address (with --email).")] = "deconflict@localhost",
    starttls: Annotated[bool, typer.Option(help="Use STARTTLS (with --email).")] = False,
    username: Annotated[str | None, typer.Option(help="SMTP user (with --email).")] = None,
    password_env: Annotated[str | None, typer.Option(help="Variable holding the SMTP password.")] = None,
    id: Annotated[str | None, typer.Option("--id", metavar="ID", help="Channel id (default generated).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a delivery channel for an owner's alerts.

    Example:

        deconflict channels add --owner AZE --webhook https://soc.example.org/deconflict
        deconflict channels add --owner AZE --email security@embassy.example --smtp mail.example.org:587 --starttls
    """
    if (webhook is None) == (email is None):
        raise InvalidInput("give one of --webhook URL or --email ADDRESS", where="--webhook")
    with (
        opened() as db,
        option_names(
            url="--webhook",
            to="--email",
            owner="--owner",
            smtp_host="--smtp",
            smtp_port="--smtp",
            sender="--from",
            password_env="--password-env",
        ),
    ):
        if webhook is not None:
            channel = db.channels.add_webhook(owner, webhook, id=id)
        else:
            if not smtp:
                raise InvalidInput("--email needs --smtp HOST:PORT", where="--smtp")
            host, _, port = smtp.rpartition(":")
            if not host or not port.isdigit():
                raise InvalidInput(f"must be HOST:PORT, got {smtp!r}", where="--smtp")
            channel = db.channels.add_email(
                owner,
                email or "",
                smtp_host=host,
                smtp_port=int(port),
                sender=sender,
                starttls=starttls,
                username=username,
                password_env=password_env,
                id=id,
            )
    if as_json:
        print_json(channel.to_json())
        return
    out.print(f"channel {channel.id}: {channel.kind} {channel.target} for {channel.owner}'s alerts", markup=False)


@channels_app.command("list")
@handle_errors
def channels_list(
    owner: Annotated[str | None, typer.Option(metavar="ISO3", help="Only this owner's.")] = None,
    limit: LimitOption = None,
    as_json: JsonOption = False,
) -> None:
    """List delivery channels.

    Example:

        deconflict channels list --owner AZE
    """
    with opened() as db:
        every = [c.to_json() for c in db.channels.list(owner=owner)]
    found = first(every, limit_rows(limit, as_json))
    if as_json:
        print_json(found)
    else:
        for c in found:
            out.print(f"{c['id']}  {c['owner']}  {c['kind']}  {c['target']}", markup=False)
    say_shown(len(found), len(every), "channel(s)", as_json=as_json)


@channels_app.command("remove")
@handle_errors
def channels_remove(
    channel_id: Annotated[str, typer.Argument()],
    as_json: JsonOption = False,
) -> None:
    """Stop delivering to a channel (pending deliveries to it are still made).

    Example:

        deconflict channels remove aze-soc
    """
    with opened() as db:
        channel = db.channels.remove(channel_id)
    if as_json:
        print_json(channel.to_json())
        return
    out.print(f"channel {channel_id} removed")


# -- monitor, compliance, dossier -----------------------------------------------------------------
def _print_cycle(report: Any, as_json: bool) -> None:
    if as_json:
        print_json(report.to_json())
        return
    for name, count in report.imported:
        out.print(f"imported {count} incidents from {name}", markup=False)
    for name, message in report.rejected:
        err.print(f"rejected {name}: {message}", markup=False)
    for commitment_id, index in report.deadlines_missed:
        out.print(f"deadline missed: commitment {commitment_id} — log entry {index}", markup=False)
    if report.alerts:
        out.print(f"{len(report.alerts)} alert(s) raised: {', '.join(a.id for a in report.alerts)}", markup=False)
    delivery = report.delivery
    out.print(f"delivered {len(delivery.delivered)}, failed {len(delivery.failed)} (retried later)", markup=False)
    for delivery_id, error in delivery.failed:
        err.print(f"  delivery {delivery_id} failed: {error}", markup=False)


@app.command()
@handle_errors
def monitor(
    watch: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="Keep running: import incident files dropped into this folder."),
    ] = None,
    interval: Annotated[float, typer.Option(help="Seconds between cycles with --watch.", min=0.05)] = 5.0,
    timeout: Annotated[float, typer.Option(help="Seconds a delivery may take.", min=0.1)] = 10.0,
    retry_base: Annotated[
        float, typer.Option(help="First retry after this many seconds (then doubling).", min=0.0)
    ] = 30.0,
    retry_cap: Annotated[float, typer.Option(help="Longest wait between retries, seconds.", min=0.0)] = 3600.0,
    as_json: JsonOption = False,
) -> None:
    """Log missed deadlines, raise alerts, deliver them: once (for cron), or keep watching a folder.

    Example:

        deconflict monitor
        deconflict monitor --timeout 2 --json
    """
    from deconflict.guarantees.monitor import run_once
    from deconflict.guarantees.monitor import watch as watch_folder

    delivery = {"timeout_s": timeout, "retry_base_s": retry_base, "retry_cap_s": retry_cap}
    with opened() as db:
        if watch is None:
            _print_cycle(run_once(db, **delivery), as_json)  # type: ignore[arg-type]
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        err.print(f"watching {watch} every {interval:g} s (stop with Ctrl-C or SIGTERM)", markup=False)
        watch_folder(
            db,
            watch,
            interval_s=interval,
            stop=stop,
            on_cycle=lambda r: _print_cycle(r, as_json),
            timeout_s=timeout,
            retry_base_s=retry_base,
            retry_cap_s=retry_cap,
        )


@app.command()
@handle_errors
def compliance(
    party: Annotated[str | None, typer.Option(help="Only commitments of this party (ISO3).")] = None,
    owner: Annotated[str | None, typer.Option(help="Only commitments covering this owner's objects.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Per commitment: held, possibly breached, or breached with confirmed incidents.

    Example:

        deconflict compliance --party RUS --owner AZE
    """
    from deconflict.guarantees.compliance import compliance as compute

    with opened() as db:
        entries = [e.to_json() for e in compute(db, party=party, owner=owner)]
        tz = db.timezone
    if as_json:
        print_json(entries)
        return
    for entry in entries:
        for line in _commitment_lines(entry["commitment"], tz):
            out.print(line, markup=False)
        out.print(
            f"  STATUS      {entry['status'].upper()} ({len(entry['hits'])} possible hit(s) in the window)",
            markup=False,
        )
        for hit in entry["hits"][:10]:
            synthetic = " SYNTHETIC" if hit["provenance"] == "synthetic" else ""
            out.print(
                f"    {hit['incident_id']} on {hit['object_kind']} {hit['object_id']}: P(hit) "
                f"{hit['hit_probability']:.3f} ({hit['confidence']}{synthetic})",
                markup=False,
            )
        for row in entry["analysis"]:
            out.print(f"    {row['name']}: {row['sentence']}", markup=False)
        for note in entry["notes"]:
            out.print(f"    note: {note}", markup=False)
        out.print(f"    ({entry['caveat']})", markup=False)


@app.command()
@handle_errors
def dossier(
    alert_id: Annotated[str, typer.Argument(help="The alert.")],
    out_file: Annotated[Path, typer.Option("--out", help="The dossier to write (zip).")],
    as_json: JsonOption = False,
) -> None:
    """Write a breach dossier: the evidence bundle and a DRAFT account in en, de, uk and ru.

    Example:

        deconflict dossier alr-da48b5c32642 --out dossier.zip
    """
    from deconflict.guarantees.dossier import build_dossier

    with opened() as db:
        data = build_dossier(db, alert_id)
    atomic_write_bytes(out_file, data)
    if as_json:
        import hashlib

        print_json({"alert_id": alert_id, "path": str(out_file), "bytes": len(data),
                    "sha256": hashlib.sha256(data).hexdigest()})  # fmt: skip
        return
    out.print(f"wrote {out_file} ({len(data):,} bytes): evidence bundle, alert, DRAFT accounts (en, de, uk, ru)")
