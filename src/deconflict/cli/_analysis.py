"""Commands for matching, statistics and reports: ``match``, ``analyze``, ``report``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from deconflict.cli._common import JsonOption, app, err, handle_errors, opened, out, print_json
from deconflict.errors import InvalidInput


def _fmt_p(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "—"
    return f"{value:.2g}" if value >= 1e-3 else f"{value:.1e}"


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.{digits}g}"


def _bandwidth(text: str | None) -> float | str | None:
    if text is None or text in ("cv", "scott", "silverman"):
        return text
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"--bandwidth must be metres or one of cv, scott, silverman; got {text!r}") from None
    if not 10 <= value <= 100_000:
        raise InvalidInput(f"--bandwidth must be between 10 and 100,000 metres, got {value:g}")
    return value


@app.command("match")
@handle_errors
def match_command(
    min_probability: Annotated[float, typer.Option(help="Smallest hit probability listed.", min=0, max=1)] = 1e-3,
    site: Annotated[list[str] | None, typer.Option("--site", help="Only these sites (repeatable).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Which incidents could have hit which sites, with hit probabilities."""
    from deconflict.analysis import data_labels, match_database

    with opened() as db:
        matches = match_database(db, min_probability=min_probability)
        incidents = {i.id: i for i in db.incidents.list()}
        sites = {h.site.id: h.site for h in db.sites.list()}
    if site:
        unknown = [s for s in site if s not in sites]
        if unknown:
            raise InvalidInput(f"unknown site(s): {', '.join(unknown)}")
        matches = [m for m in matches if m.site_id in set(site)]
    matches.sort(key=lambda m: (m.site_id, -m.probability, m.incident_id))
    labels = data_labels(list(incidents.values()), list(sites.values()))
    if as_json:
        print_json([
            {"site_id": m.site_id, "incident_id": m.incident_id, "hit_probability": m.probability,
             "distance_m": m.distance_m, "incident_time": incidents[m.incident_id].time.to_text(),
             "provenance": incidents[m.incident_id].provenance, "counted": incidents[m.incident_id].counted}
            for m in matches
        ])  # fmt: skip
        return
    for label in labels:
        out.print(f"[bold yellow]{label}[/bold yellow]")
    table = Table(show_edge=False, pad_edge=False)
    for column in ("site", "incident", "time", "distance m", "hit probability", "provenance"):
        table.add_column(column, justify="right" if column in ("distance m", "hit probability") else "left")
    for m in matches:
        incident = incidents[m.incident_id]
        provenance = (incident.provenance or "").upper() if incident.provenance == "synthetic" else incident.provenance
        label = (provenance or "") + ("" if incident.counted else " (not counted)")
        table.add_row(m.site_id, m.incident_id, incident.time.to_text(), f"{m.distance_m:,.0f}", f"{m.probability:.3f}",
                      label)  # fmt: skip
    out.print(table)
    out.print(f"{len(matches)} possible hit(s) with probability ≥ {min_probability:g}")


@app.command()
@handle_errors
def analyze(
    site: Annotated[list[str] | None, typer.Option("--site", help="Show only these sites (all are analysed).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the random generator (randomised p-values, ties).")] = 0,
    bandwidth: Annotated[
        str | None, typer.Option(help="Kernel bandwidth in metres, or cv (default), scott, silverman.")
    ] = None,
    study_area: Annotated[
        Path | None, typer.Option(help="GeoJSON or WKT polygon of the study area (default: buffered hull).")
    ] = None,
    alpha: Annotated[float, typer.Option(help="Level at which a site is flagged (adjusted p).", min=0, max=1)] = 0.05,
    sensitivity: Annotated[bool, typer.Option(help="Also compute the bandwidth × hit-radius grid.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Intentionality statistics: observed vs expected hits per site, before and after notification."""
    from deconflict.analysis import analyze_database, load_study_area

    with opened() as db:
        if site:
            for site_id in site:
                db.sites.get(site_id)
        area = load_study_area(study_area)
        notified = sorted({s for n, _ in db.notifications.list() for s in n.site_ids})
        grid_sites = (site or notified) if sensitivity else []
        run = analyze_database(db, seed=seed, bandwidth_m=_bandwidth(bandwidth), study_area=area,  # type: ignore[arg-type]
                               sensitivity_sites=grid_sites, require_sites=site or [])  # fmt: skip
    results = [r for r in run.results if not site or r.site_id in set(site)]
    if as_json:
        rows = [run.to_json(r, alpha) for r in results]
        if sensitivity:
            for row in rows:
                row["sensitivity"] = [
                    {"bandwidth_m": c.bandwidth_m, "hit_radius_m": c.radius_m, "p_value": c.p_value,
                     "p_value_after": c.p_value_after, "headline_p_value": c.headline_p_value}
                    for c in run.sensitivity if c.site_id == row["site_id"]
                ]  # fmt: skip
        print_json(rows)
        return
    for label in run.labels:
        out.print(f"[bold yellow]{label}[/bold yellow]")
    table = Table(show_edge=False, pad_edge=False)
    columns = ("site", "owner", "notified at", "headline p (range)", "p adjusted", "hits before/after",
               "expected before/after", "rate ratio (95% CI)", "p after (reports)", "p local",
               "p control-rank")  # fmt: skip
    for column in columns:
        table.add_column(column)
    shown = sorted(results, key=lambda r: (math.isnan(r.p_adjusted), r.p_adjusted, r.site_id))
    if not site:
        shown = [r for r in shown if r.notified_at is not None or r.p_adjusted <= max(alpha, 0.2) or r.observed >= 0.5]
    for r in shown:
        s = run.sites[r.site_id]
        notification = run.notifications.get(r.site_id)
        before = None if r.observed_after is None else r.observed - r.observed_after
        expected_before = None if r.expected_after is None else r.expected - r.expected_after
        ci = r.rate_ratio_ci
        ratio = _fmt(r.rate_ratio)
        if ci and ci[0] is not None and ci[1] is not None and not (math.isnan(ci[0]) or math.isnan(ci[1])):
            ratio += f" ({_fmt(ci[0])}–{_fmt(ci[1])})"
        headline = _fmt_p(r.headline.p_value)
        if r.headline.range is not None:
            headline += f" ({_fmt_p(r.headline.range[0])}–{_fmt_p(r.headline.range[1])})"
        table.add_row(
            r.site_id + (" (approx.)" if s.approximate else ""), s.owner,
            "—" if notification is None else notification.notified_at.end.date().isoformat(),
            headline, _fmt_p(r.p_adjusted),
            f"{_fmt(before)}/{_fmt(r.observed_after)}" if before is not None else f"{_fmt(r.observed)} (not notified)",
            f"{_fmt(expected_before)}/{_fmt(r.expected_after)}" if expected_before is not None else _fmt(r.expected),
            ratio, _fmt_p(r.p_value_after), _fmt_p(None if r.local is None else r.local.pvalue),
            _fmt_p(r.p_value_control),
        )  # fmt: skip
    out.print(table)
    out.print(f"{len(shown)} of {len(results)} sites shown (notified, flagged or hit); --json lists all")
    if sensitivity and run.sensitivity:
        grid = Table(title="sensitivity: headline p (after notification where notified)", show_edge=False)
        for column in ("site", "bandwidth m", "hit radius m", "expected", "p"):
            grid.add_column(column)
        for c in run.sensitivity:
            p = c.headline_p_value
            expected = c.expected_after if c.expected_after is not None else c.expected
            grid.add_row(c.site_id, f"{c.bandwidth_m:,.0f}", f"{c.radius_m:g}", _fmt(expected), _fmt_p(p))
        out.print(grid)
    talk = [r for r in shown if r.flagged(alpha) or r.notified_at is not None]
    for r in talk:
        tag = "FLAGGED" if r.flagged(alpha) else "notified"
        out.print(f"- [{tag}] {r.site_id} ({run.sites[r.site_id].name}): {r.sentence()}", markup=False)
    if any(label.startswith("SYNTHETIC") for label in run.labels):
        out.print(
            "[bold yellow]These figures are computed against SYNTHETIC incidents: they illustrate the method, "
            "they are not findings.[/bold yellow]"
        )
    out.print(
        "A low p-value is evidence against chance, not proof of intent; "
        "see docs/statistics.md, 'What the p-values mean'.",
        markup=False,
    )


@app.command()
@handle_errors
def report(
    out_file: Annotated[Path, typer.Option("--out", help="The HTML file to write.")],
    site: Annotated[list[str] | None, typer.Option("--site", help="Sites to feature (timelines, sensitivity).")] = None,
    pdf: Annotated[Path | None, typer.Option(help="Also write a PDF (headless Chromium).")] = None,
    tiles: Annotated[str | None, typer.Option(help="Online tile layer URL template (the only host allowed).")] = None,
    title: Annotated[str, typer.Option(help="Report title.")] = "deconflict report",
    seed: Annotated[int, typer.Option(help="Seed of the statistics' random generator.")] = 0,
    study_area: Annotated[Path | None, typer.Option(help="GeoJSON or WKT study-area polygon.")] = None,
    no_analysis: Annotated[bool, typer.Option("--no-analysis", help="Map and timeline only.")] = False,
) -> None:
    """Write the offline HTML report (map, timeline, statistics, ledger) and optionally its PDF."""
    from deconflict.analysis import analyze_database, load_study_area, match_database, report_data
    from deconflict.fileio import atomic_write_text
    from deconflict.report import render_html, render_pdf

    with opened() as db:
        featured = list(site or [])
        for site_id in featured:
            db.sites.get(site_id)
        area = load_study_area(study_area)
        if not featured:
            featured = sorted({sid for n, _ in db.notifications.list() for sid in n.site_ids})
        run = None if no_analysis else analyze_database(db, seed=seed, study_area=area, sensitivity_sites=featured)
        label = "Study area (given with --study-area)" if area is not None else None
        data = report_data(db, run, title=title, matches=match_database(db), study_area=area, study_area_label=label)
    atomic_write_text(out_file, render_html(data, tiles_url=tiles))
    out.print(f"wrote {out_file}")
    if pdf is not None:
        render_pdf(out_file, pdf)
        out.print(f"wrote {pdf}")
    if data.notes:
        err.print("note: " + "; ".join(data.notes), markup=False)
