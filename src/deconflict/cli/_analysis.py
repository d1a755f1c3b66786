"""Commands for matching, statistics and reports: ``match``, ``analyze``, ``report``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from deconflict.cli._common import (
    JsonOption,
    LimitOption,
    SeedOption,
    SiteOption,
    StudyAreaOption,
    UnverifiedOption,
    app,
    err,
    first,
    handle_errors,
    limit_rows,
    opened,
    option_names,
    out,
    print_json,
    print_json_list,
    progress_bars,
    say_shown,
    write_output,
)
from deconflict.errors import InvalidInput
from deconflict.options import DEFAULT_ALPHA, DEFAULT_MIN_PROBABILITY
from deconflict.times import format_span

if TYPE_CHECKING:
    from deconflict.analysis import AnalysisRun
    from deconflict.stats import SiteResult


def _fmt_p(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "—"
    return f"{value:.2g}" if value >= 1e-3 else f"{value:.1e}"


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.{digits}g}"


LayerFormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        metavar="geojson|csv|gpkg",
        help="Write a GIS layer instead of the table: geojson or csv (stdout or --out), gpkg (--out).",
    ),
]
LayerOutOption = Annotated[Path | None, typer.Option("--out", help="File for --format (default stdout).")]


def _written(text: str | None, out_file: Path | None) -> None:
    if text is None:
        err.print(f"wrote {out_file}", markup=False)
    else:
        write_output(text, out_file)


@app.command("match")
@handle_errors
def match_command(
    min_probability: Annotated[
        float | None,
        typer.Option(
            metavar="P",
            help=f"Smallest hit probability listed (default: the database's, else {DEFAULT_MIN_PROBABILITY:g}).",
            min=0,
            max=1,
        ),
    ] = None,
    site: SiteOption = None,
    limit: LimitOption = None,
    format: LayerFormatOption = None,
    out_file: LayerOutOption = None,
    as_json: JsonOption = False,
) -> None:
    """Which incidents could have hit which sites, with hit probabilities (--format: pairs as lines).

    Example:

        deconflict match --site wd-Q5369559
        deconflict match --min-probability 0.5 --json
        deconflict match --format geojson --out matches.geojson
    """
    from deconflict.analysis import data_labels, match_database, resolve_options
    from deconflict.layers import match_layer, render_layer

    names = option_names(min_probability="--min-probability", path="--out", format="--format")
    with opened() as db, names, progress_bars(quiet=as_json or format is not None) as progress:
        options = resolve_options(db, min_probability=min_probability)
        matches = match_database(db, options, site_ids=site or [], progress=progress)
        if format is not None:
            _written(render_layer(match_layer(db, matches), format, path=out_file, layer="matches"), out_file)
            return
        labels = data_labels(db.incidents.iter(), [h.site for h in db.sites.list()]) if not as_json else []
        tz = db.timezone
    total = len(matches)
    matches = first(matches, limit_rows(limit, as_json))
    if as_json:
        print_json_list(m.to_json() for m in matches)
        say_shown(len(matches), total, "possible hit(s)", as_json=True)
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
    say_shown(len(matches), total, f"possible hit(s) with probability ≥ {options.min_probability:g}")


def _results_table(run: AnalysisRun, shown: list[SiteResult], tz: ZoneInfo) -> Table:
    """The per-site results as a table: hits, expected counts, rate ratio and p-values."""
    table = Table(show_edge=False, pad_edge=False)
    columns = ("site", "owner", "notified at", "headline p (range)", "p adjusted", "hits before/after",
               "expected before/after", "rate ratio (95% CI)", "p after (reports)", "p local",
               "p control-rank")  # fmt: skip
    for column in columns:
        table.add_column(column)
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
            "—" if notification is None else format_span(notification.notified_at, tz),
            headline, _fmt_p(r.p_adjusted),
            f"{_fmt(before)}/{_fmt(r.observed_after)}" if before is not None else f"{_fmt(r.observed)} (not notified)",
            f"{_fmt(expected_before)}/{_fmt(r.expected_after)}" if expected_before is not None else _fmt(r.expected),
            ratio, _fmt_p(r.p_value_after), _fmt_p(None if r.local is None else r.local.pvalue),
            _fmt_p(r.p_value_control),
        )  # fmt: skip
    return table


@app.command()
@handle_errors
def analyze(
    site: Annotated[
        list[str] | None,
        typer.Option("--site", metavar="SITE_ID", help="Show only this site (all are analysed); repeat for several."),
    ] = None,
    seed: SeedOption = None,
    bandwidth: Annotated[
        str | None,
        typer.Option(metavar="METRES|cv|scott|silverman", help="Kernel bandwidth (default cv: cross-validated)."),
    ] = None,
    study_area: StudyAreaOption = None,
    alpha: Annotated[
        float, typer.Option(metavar="P", help="Level at which a site is flagged (adjusted p).", min=0, max=1)
    ] = DEFAULT_ALPHA,
    sensitivity: Annotated[
        bool, typer.Option("--sensitivity", help="Also compute the bandwidth × hit-radius grid.")
    ] = False,
    engine: Annotated[
        str,
        typer.Option(
            metavar="local|dask",
            help="Where the resampled cities run: this process, or dask.distributed (same numbers).",
        ),
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS",
            help="Dask scheduler (e.g. tcp://10.0.0.5:8786) for --engine dask; default a 2-worker LocalCluster.",
        ),
    ] = None,
    format: LayerFormatOption = None,
    out_file: LayerOutOption = None,
    unverified: UnverifiedOption = False,
    as_json: JsonOption = False,
) -> None:
    """Intentionality statistics: observed vs expected hits per site, before and after notification.

    Example:

        deconflict analyze --site wd-Q5369559 --sensitivity
        deconflict analyze --bandwidth 1500 --alpha 0.01 --json
        deconflict analyze --format gpkg --out analysis.gpkg
        deconflict analyze --engine dask --scheduler tcp://10.0.0.5:8786 --json
    """
    from deconflict.analysis import analyze_database, load_study_area, parse_bandwidth, resolve_options
    from deconflict.layers import analysis_layer, render_layer

    names = option_names(bandwidth="--bandwidth", alpha="--alpha", seed="--seed", path="--out", format="--format")
    with opened() as db, names, progress_bars(quiet=as_json or format is not None) as progress:
        options = resolve_options(
            db, seed=seed, bandwidth_m=parse_bandwidth(bandwidth), study_area=load_study_area(study_area), alpha=alpha
        )
        if engine not in ("local", "dask"):
            raise InvalidInput(f"unknown engine {engine!r}; use local or dask", where="--engine")
        if scheduler is not None and engine != "dask":
            raise InvalidInput("--scheduler needs --engine dask", where="--scheduler")
        run = analyze_database(
            db, options, site_ids=site or [], sensitivity=sensitivity, progress=progress, unverified=unverified,
            engine="dask" if engine == "dask" else "local", scheduler=scheduler,
        )  # fmt: skip
        _warn_unverified(run.labels)
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
    shown = (
        sorted(results, key=lambda r: (math.isnan(r.p_adjusted), r.p_adjusted, r.site_id))
        if site
        else run.highlighted()
    )
    table = _results_table(run, shown, tz)
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


def _warn_unverified(lines: Sequence[str]) -> None:
    """Print the warning of an output computed with --unverified on stderr, where no --json hides it."""
    from deconflict.ledger.guard import UNVERIFIED_LABEL

    for line in lines:
        if line.startswith(UNVERIFIED_LABEL):
            err.print(f"[bold red]{line}[/bold red]")


@app.command()
@handle_errors
def report(
    out_file: Annotated[Path, typer.Option("--out", help="The HTML file to write (with --brief: .html or .pdf).")],
    site: Annotated[
        list[str] | None,
        typer.Option("--site", metavar="SITE_ID", help="A site to feature (timelines, sensitivity); repeatable."),
    ] = None,
    pdf: Annotated[Path | None, typer.Option(help="Also write a PDF (headless Chromium, the pdf extra).")] = None,
    tiles: Annotated[
        str | None, typer.Option(metavar="URL", help="Online tile layer URL template (the only host allowed).")
    ] = None,
    title: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="Report title (default: the database's, else 'deconflict report')."),
    ] = None,
    seed: SeedOption = None,
    study_area: StudyAreaOption = None,
    no_analysis: Annotated[bool, typer.Option("--no-analysis", help="Map and timeline only.")] = False,
    unverified: UnverifiedOption = False,
    brief: Annotated[
        bool,
        typer.Option(
            "--brief",
            help="Write the 2-4 page brief on the --site sites (notifications, map, timeline, numbers, "
            "verification) and their evidence bundles beside it.",
        ),
    ] = False,
    lang: Annotated[
        str, typer.Option("--lang", metavar="LANG", help="Language of the brief: en, de, uk, ru (de/uk/ru unreviewed).")
    ] = "en",
    as_json: JsonOption = False,
) -> None:
    """Write the offline HTML report (map, timeline, statistics, ledger) and optionally its PDF.

    The database's stored options (seed, study area, title, featured sites, notes; the demo
    stores its own) are the defaults, so the same command makes the same report.

    Example:

        deconflict report --out report.html --site wd-Q5369559 --title "Kyiv, 2024-2025"
        deconflict report --out map.html --no-analysis --pdf map.pdf
        deconflict report --brief --site wd-Q5369559 --out brief.pdf --lang uk
    """
    from deconflict.analysis import load_study_area, report_data, resolve_options, write_brief
    from deconflict.fileio import atomic_write_text
    from deconflict.report import render_html, render_pdf

    if brief:
        if no_analysis or pdf is not None or tiles is not None:
            raise InvalidInput(
                "--brief takes --site, --out (.html or .pdf), --lang, --seed, --study-area and --unverified only"
            )
        with opened() as db, option_names(seed="--seed"), progress_bars(quiet=as_json) as progress:
            options = resolve_options(db, seed=seed, study_area=load_study_area(study_area))
            files = write_brief(db, site or [], out_file, options, lang=lang, progress=progress, unverified=unverified)
            _warn_unverified(files.notes)
        if as_json:
            print_json(
                {"brief": str(files.path), "bundles": [str(p) for p in files.bundles], "sha256": files.fingerprints,
                 "notes": files.notes}
            )  # fmt: skip
            return
        out.print(f"wrote {files.path}")
        for path in files.bundles:
            out.print(f"wrote {path}")
        return
    if lang != "en":
        raise InvalidInput("--lang applies to --brief only (the full report is in English)")
    with opened() as db, option_names(seed="--seed"), progress_bars(quiet=as_json) as progress:
        options = resolve_options(db, seed=seed, study_area=load_study_area(study_area))
        data = report_data(
            db, options, title=title, site_ids=site or None, analysis=not no_analysis, progress=progress,
            unverified=unverified,
        )  # fmt: skip
        _warn_unverified(data.notes)
    atomic_write_text(out_file, render_html(data, tiles_url=tiles))
    if pdf is not None:
        render_pdf(out_file, pdf)
    if as_json:
        print_json({"html": str(out_file), "pdf": None if pdf is None else str(pdf), "notes": list(data.notes)})
        return
    out.print(f"wrote {out_file}")
    if pdf is not None:
        out.print(f"wrote {pdf}")
    if data.notes:
        err.print("note: " + "; ".join(data.notes), markup=False)
