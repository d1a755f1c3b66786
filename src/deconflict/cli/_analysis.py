"""Commands for matching, statistics and reports: ``match``, ``analyze``, ``report``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from deconflict.cli._common import (
    JsonOption,
    SeedOption,
    StudyAreaOption,
    app,
    err,
    handle_errors,
    opened,
    option_names,
    out,
    print_json,
    write_output,
)
from deconflict.options import DEFAULT_ALPHA, DEFAULT_MIN_PROBABILITY
from deconflict.times import format_span


def _fmt_p(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "—"
    return f"{value:.2g}" if value >= 1e-3 else f"{value:.1e}"


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.{digits}g}"


@app.command("match")
@handle_errors
def match_command(
    min_probability: Annotated[
        float | None,
        typer.Option(help=f"Smallest hit probability listed [default: {DEFAULT_MIN_PROBABILITY:g}].", min=0, max=1),
    ] = None,
    site: Annotated[list[str] | None, typer.Option("--site", help="Only these sites (repeatable).")] = None,
    format: LayerFormatOption = None,
    out_file: LayerOutOption = None,
    as_json: JsonOption = False,
) -> None:
    """Which incidents could have hit which sites, with hit probabilities (--format: pairs as lines)."""
    from deconflict.analysis import data_labels, match_database, resolve_options
    from deconflict.layers import match_layer, render_layer

    with opened() as db, option_names(min_probability="--min-probability", path="--out", format="--format"):
        options = resolve_options(db, min_probability=min_probability)
        matches = match_database(db, options, site_ids=site or [])
        if format is not None:
            text = render_layer(match_layer(db, matches), format, path=out_file, layer="matches")
            _written(text, out_file)
            return
        labels = data_labels(db.incidents.list(), [h.site for h in db.sites.list()]) if not as_json else []
        tz = db.timezone
    if as_json:
        print_json([m.to_json() for m in matches])
        return
    for label in labels:
        out.print(f"[bold yellow]{label}[/bold yellow]")
    table = Table(show_edge=False, pad_edge=False)
    for column in ("site", "incident", "time", "distance m", "hit probability", "provenance"):
        table.add_column(column, justify="right" if column in ("distance m", "hit probability") else "left")
    for m in matches:
        incident = m.incident
        provenance = (incident.provenance or "").upper() if incident.provenance == "synthetic" else incident.provenance
        label = (provenance or "") + ("" if incident.counted else " (not counted)")
        table.add_row(
            m.match.site_id,
            m.match.incident_id,
            format_span(incident.time, tz),
            f"{m.match.distance_m:,.0f}",
            f"{m.match.probability:.3f}",
            label,
        )
    out.print(table)
    out.print(f"{len(matches)} possible hit(s) with probability ≥ {options.min_probability:g}")


LayerFormatOption = Annotated[
    str | None,
    typer.Option(
        "--format", help="Write a GIS layer instead of the table: geojson or csv (stdout or --out), gpkg (--out)."
    ),
]
LayerOutOption = Annotated[Path | None, typer.Option("--out", help="File for --format (default stdout).")]


def _written(text: str | None, out_file: Path | None) -> None:
    if text is None:
        err.print(f"wrote {out_file}", markup=False)
    else:
        write_output(text, out_file)


@app.command()
@handle_errors
def analyze(
    site: Annotated[list[str] | None, typer.Option("--site", help="Show only these sites (all are analysed).")] = None,
    seed: SeedOption = None,
    bandwidth: Annotated[
        str | None, typer.Option(help="Kernel bandwidth in metres, or cv (default), scott, silverman.")
    ] = None,
    study_area: StudyAreaOption = None,
    alpha: Annotated[
        float, typer.Option(help="Level at which a site is flagged (adjusted p).", min=0, max=1)
    ] = DEFAULT_ALPHA,
    sensitivity: Annotated[bool, typer.Option(help="Also compute the bandwidth × hit-radius grid.")] = False,
    format: LayerFormatOption = None,
    out_file: LayerOutOption = None,
    as_json: JsonOption = False,
) -> None:
    """Intentionality statistics: observed vs expected hits per site, before and after notification."""
    from deconflict.analysis import analyze_database, load_study_area, parse_bandwidth, resolve_options
    from deconflict.layers import analysis_layer, render_layer

    names = {"bandwidth": "--bandwidth", "alpha": "--alpha", "seed": "--seed", "path": "--out", "format": "--format"}
    with opened() as db, option_names(**names):
        options = resolve_options(
            db, seed=seed, bandwidth_m=parse_bandwidth(bandwidth), study_area=load_study_area(study_area), alpha=alpha
        )
        run = analyze_database(db, options, site_ids=site or [], sensitivity=sensitivity)
        tz = db.timezone
        if format is not None:
            text = render_layer(analysis_layer(run), format, path=out_file, layer="analysis", data_labels=run.labels)
            _written(text, out_file)
            return
    results = run.results
    if as_json:
        print_json(run.rows())
        return
    for label in run.labels:
        out.print(f"[bold yellow]{label}[/bold yellow]")
    table = Table(show_edge=False, pad_edge=False)
    columns = ("site", "owner", "notified at", "hits before/after", "expected before/after", "rate ratio (95% CI)",
               "p Poisson", "p after", "p control-rank", "p adjusted")  # fmt: skip
    for column in columns:
        table.add_column(column)
    shown = sorted(results, key=lambda r: (r.p_adjusted, r.site_id))
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
        table.add_row(
            r.site_id + (" (approx.)" if s.approximate else ""), s.owner,
            "—" if notification is None else format_span(notification.notified_at, tz),
            f"{_fmt(before)}/{_fmt(r.observed_after)}" if before is not None else f"{_fmt(r.observed)} (not notified)",
            f"{_fmt(expected_before)}/{_fmt(r.expected_after)}" if expected_before is not None else _fmt(r.expected),
            ratio, _fmt_p(r.p_value), _fmt_p(r.p_value_after), _fmt_p(r.p_value_control), _fmt_p(r.p_adjusted),
        )  # fmt: skip
    out.print(table)
    out.print(f"{len(shown)} of {len(results)} sites shown (notified, flagged or hit); --json lists all")
    if sensitivity and run.sensitivity:
        grid = Table(title="sensitivity: p after notification (p whole period if never notified)", show_edge=False)
        for column in ("site", "bandwidth m", "hit radius m", "expected", "p"):
            grid.add_column(column)
        for c in run.sensitivity:
            p = c.p_value_after if c.p_value_after is not None else c.p_value
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
    seed: SeedOption = None,
    study_area: StudyAreaOption = None,
    no_analysis: Annotated[bool, typer.Option("--no-analysis", help="Map and timeline only.")] = False,
) -> None:
    """Write the offline HTML report (map, timeline, statistics, ledger) and optionally its PDF."""
    from deconflict.analysis import load_study_area, report_data, resolve_options
    from deconflict.fileio import atomic_write_text
    from deconflict.report import render_html, render_pdf

    with opened() as db, option_names(seed="--seed"):
        options = resolve_options(db, seed=seed, study_area=load_study_area(study_area))
        data = report_data(db, options, title=title, site_ids=site or [], analysis=not no_analysis)
    atomic_write_text(out_file, render_html(data, tiles_url=tiles))
    out.print(f"wrote {out_file}")
    if pdf is not None:
        render_pdf(out_file, pdf)
        out.print(f"wrote {pdf}")
    if data.notes:
        err.print("note: " + "; ".join(data.notes), markup=False)
