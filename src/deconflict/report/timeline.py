"""The report's figures, drawn with matplotlib and returned as inline SVG text.

- :func:`overall_timeline_svg`: strikes per week, by provenance, with notification and
  acknowledgement dates as vertical markers;
- :func:`site_timeline_svg`: the incidents near one site over time (distance from the
  site, time interval as a bar), its notification/acknowledgement dates, and expected vs
  observed hits per period;
- :func:`sensitivity_svg`: the sensitivity grid (bandwidth × hit radius) as a heat map of
  p-values.

Synthetic incidents are drawn in grey and named SYNTHETIC in every legend; a site with an
approximate location says so in its title. Figures use matplotlib's object API (no pyplot
state), so rendering is thread-safe and needs no display.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import matplotlib
import matplotlib.dates as mdates
import matplotlib.ticker
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from deconflict.geo import geodesic_distance_m
from deconflict.model import Incident, Site
from deconflict.relevance import could_hit
from deconflict.report.data import Period, ReportData, is_approximate, is_synthetic, notified_sites, provenance_of
from deconflict.times import EARLIEST, LATEST, TimeSpan, format_span

__all__ = [
    "NEAR_SITE_M",
    "PROVENANCE_COLOURS",
    "overall_timeline_svg",
    "sensitivity_svg",
    "site_timeline_svg",
    "sites_for_timelines",
]

#: Incidents within this distance of a site appear in its timeline.
NEAR_SITE_M = 2_000.0
#: Colours per provenance (others get "#1f77b4"); synthetic is grey everywhere.
PROVENANCE_COLOURS = {"reported": "#c0392b", "synthetic": "#8a8a8a", "acled": "#2c7fb8", "extracted": "#8e44ad"}
#: A site's timeline labels at most this many hits (the most probable, spread out in time).
MAX_HIT_LABELS = 4
#: Hits below this probability get no label.
MIN_LABELLED_PROBABILITY = 0.05
NOTIFIED_COLOUR = "#1a7f37"
ACK_COLOUR = "#b35900"
# Typed Any: matplotlib's stubs want literal rc keys, which a shared dict cannot carry.
_RC: Any = {
    "svg.fonttype": "none",  # text stays text: searchable, selectable and small
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10.0,
    "axes.titleweight": "bold",
    "legend.fontsize": 8.0,
    "legend.frameon": False,
}


def _colour(provenance: str) -> str:
    return PROVENANCE_COLOURS.get(provenance, "#1f77b4")


def _label(provenance: str) -> str:
    return "SYNTHETIC (simulated)" if provenance == "synthetic" else provenance


def _to_svg(fig: Figure, name: str) -> str:
    """The figure as an ``<svg>`` element that scales to its container's width."""
    buffer = io.StringIO()
    with matplotlib.rc_context({**_RC, "svg.hashsalt": name}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    # Responsive: keep the viewBox, drop the fixed size; and make ids unique per figure, since
    # several figures share one HTML document.
    svg = re.sub(r'<svg([^>]*?) width="[^"]+" height="[^"]+"', r'<svg\1 width="100%"', svg, count=1)
    prefix = re.sub(r"[^A-Za-z0-9]", "-", name)
    svg = re.sub(r'id="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    svg = re.sub(r'xlink:href="#([^"]+)"', rf'xlink:href="#{prefix}-\1"', svg)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{name}" ', 1)


def _new_figure(width_in: float, height_in: float, rows: int = 1, ratios: Sequence[float] | None = None) -> Any:
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width_in, height_in), layout="constrained")
        axes = fig.subplots(rows, 1, sharex=True, gridspec_kw={"height_ratios": ratios} if ratios else None)
    return fig, axes


def _ts(seconds: NDArray[np.float64]) -> NDArray[np.float64]:
    """Epoch seconds as matplotlib date numbers (days since 1970-01-01)."""
    return seconds / 86_400.0


def _date(moment: datetime) -> float:
    return moment.timestamp() / 86_400.0


#: Notifications named (with their dates) in a figure's legend; later ones are counted.
MAX_MARKED = 3


def _markers(ax: Any, data: ReportData, site_id: str | None, *, labels: bool = True) -> None:
    """Notification spans/lines and acknowledgement lines on ``ax`` (for one site or all).

    With ``labels``, each mark's legend entry names the recipient and its date in the
    database's timezone (:func:`deconflict.times.format_span`): the legend sits beside the
    axes, so a late notification's text cannot run into it or off the figure.
    """
    notifications = [
        n
        for n in sorted(data.notifications, key=lambda n: n.notified_at.start)
        if site_id is None or site_id in n.site_ids
    ]
    for k, notification in enumerate(notifications):
        span = notification.notified_at
        if not labels:
            label = "notification" if k == 0 else None
        elif k < MAX_MARKED:
            label = f"notified to {notification.recipient}\n{_wrap(format_span(span, data.timezone, 'text'))}"
        elif k == MAX_MARKED:
            label = f"+ {len(notifications) - MAX_MARKED} later notification(s)"
        else:
            label = None
        if span.end - span.start > timedelta(days=1):
            ax.axvspan(_date(span.start), _date(span.end), color=NOTIFIED_COLOUR, alpha=0.12)
            ax.axvline(_date(span.end), color=NOTIFIED_COLOUR, lw=1.4, ls="-", label=label)
        else:
            ax.axvline(_date(span.start), color=NOTIFIED_COLOUR, lw=1.4, label=label)
    sites_of = {n.id: n.site_ids for n in data.notifications}
    acks = [a for a in data.acknowledgements if site_id is None or site_id in sites_of.get(a.notification_id, ())]
    for k, ack in enumerate(sorted(acks, key=lambda a: a.at.start)):
        at: TimeSpan = ack.at
        if not labels:
            label = "acknowledgement" if k == 0 else None
        elif k < MAX_MARKED:
            label = f"acknowledged by {ack.recipient}\n{_wrap(format_span(at, data.timezone, 'text'))}"
        elif k == MAX_MARKED:
            label = f"+ {len(acks) - MAX_MARKED} later acknowledgement(s)"
        else:
            label = None
        ax.axvline(_date(at.start), color=ACK_COLOUR, lw=1.2, ls="--", label=label)


def _wrap(text: str, width: int = 30) -> str:
    """``text`` broken into lines for a legend entry (a long interval would widen the legend)."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False))


def _date_axis(ax: Any) -> None:
    # Keep the axis within the range of times accepted on input: a database written before that
    # bound may hold a notification dated 9999-12-31, and the axis margins around it would leave
    # the range matplotlib can draw (years 1 to 9999). A marker outside the axis is not drawn;
    # its date is in the report's tables.
    low, high = ax.get_xlim()
    earliest, latest = _date(EARLIEST), _date(LATEST)
    low, high = min(max(low, earliest), latest - 1), max(min(high, latest), earliest + 1)
    ax.set_xlim(low, max(high, low + 1))
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def overall_timeline_svg(data: ReportData) -> str:
    """Incidents per week over the whole period, stacked by provenance, with notification markers.

    Returns
    -------
    str
        An ``<svg>`` element (empty string when there are no incidents).
    """
    if not data.incidents:
        return ""
    mid = np.array([i.time.midpoint.timestamp() for i in data.incidents])
    provenance = np.array([provenance_of(i) for i in data.incidents])
    week = 7 * 86_400.0
    edges = np.arange(math.floor(mid.min() / week) * week, mid.max() + 2 * week, week)
    fig, ax = _new_figure(9.0, 3.0)
    bottom = np.zeros(edges.size - 1)
    order = sorted(set(provenance), key=lambda p: (p == "synthetic", p))[::-1]  # synthetic at the bottom
    for name in order:
        counts, _ = np.histogram(mid[provenance == name], bins=edges)
        ax.bar(
            _ts(edges[:-1]),
            counts,
            width=7.0,
            bottom=bottom,
            align="edge",
            color=_colour(name),
            hatch="///" if name == "synthetic" else None,
            edgecolor="white",
            linewidth=0.2,
            label=f"{_label(name)} ({int((provenance == name).sum()):,})",
        )
        bottom += counts
    _markers(ax, data, None, labels=False)
    ax.set_ylabel("incidents per week")
    ax.set_title("All incidents per week" + (" — includes SYNTHETIC data" if "synthetic" in order else ""))
    _date_axis(ax)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5)
    return _to_svg(fig, "timeline-overall")


def _near(
    site: Site, incidents: Sequence[Incident], lat: NDArray[np.float64], lon: NDArray[np.float64], within_m: float
) -> tuple[Any, Any]:
    """Indices and geodesic distances (m) of the incidents to draw on ``site``'s timeline.

    Those within ``within_m`` (the surroundings), and always every incident that concerns the
    site (:func:`deconflict.relevance.could_hit`: a large footprint, or a report whose uncertainty
    reaches the site from farther away).
    """
    if not incidents:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    dist = geodesic_distance_m(site.lon, site.lat, lon, lat)
    keep = (dist <= within_m) | could_hit(site, incidents)
    index = np.flatnonzero(keep)
    return index, dist[index]


def site_timeline_svg(
    data: ReportData, site: Site, *, within_m: float = NEAR_SITE_M, arrays: dict[str, Any] | None = None
) -> str:
    """One site's timeline: nearby incidents by distance over time, markers, and hits per period.

    Parameters
    ----------
    data
        The report data (incidents, notifications, acknowledgements, matches, periods).
    site
        The site.
    within_m
        Incidents within this geodesic distance are drawn.
    arrays
        Pre-computed incident columns from :func:`incident_arrays` (saves work over many sites).

    Returns
    -------
    str
        An ``<svg>`` element.
    """
    cols = arrays or incident_arrays(data.incidents)
    index, dist = _near(site, data.incidents, cols["lat"], cols["lon"], within_m)
    periods = [p for p in data.periods if p.site_id == site.id]
    fig, axes = _new_figure(9.0, 4.6 if periods else 3.1, rows=2 if periods else 1, ratios=(3, 2) if periods else None)
    ax = axes[0] if periods else axes
    hit_prob = {m.incident_id: m.probability for m in data.matches if m.site_id == site.id}
    for name in sorted({cols["provenance"][k] for k in index}, key=lambda p: p != "synthetic"):
        sel = np.array([cols["provenance"][k] == name for k in index], dtype=bool)
        k_sel = index[sel]
        start, end = cols["start"][k_sel], cols["end"][k_sel]
        ax.errorbar(
            _ts((start + end) / 2),
            dist[sel],
            xerr=_ts((end - start) / 2),
            fmt="o",
            ms=3.5 if name == "synthetic" else 5,
            color=_colour(name),
            elinewidth=0.8,
            alpha=0.7 if name == "synthetic" else 1.0,
            zorder=2 if name == "synthetic" else 3,
            label=f"{_label(name)} ({int(sel.sum())})",
        )
    _hit_labels(ax, cols, index, dist, hit_prob)
    ax.axhline(site.radius_m, color="black", lw=0.8, ls=":", label=f"hit radius {site.radius_m:g} m")
    # Symmetric log: 0 m (an incident placed at the premises) stays on the axis.
    ax.set_yscale("symlog", linthresh=10.0, linscale=0.5)
    ax.set_ylim(-0.5, within_m * 1.3)
    ticks = [t for t in (0, 10, 100, 1000, 10_000, 100_000) if t <= within_m * 1.3]
    ax.set_yticks(ticks, [f"{t:,}" for t in ticks])
    ax.yaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_ylabel("distance from site (m)")
    if data.incidents:
        ax.set_xlim(
            _date(min(i.time.start for i in data.incidents)) - 7, _date(max(i.time.end for i in data.incidents)) + 7
        )
    _markers(ax, data, site.id)
    approx = ", APPROXIMATE location" if site.approximate else ""
    ax.set_title(
        f"{site.name} ({site.owner}, {site.kind.replace('_', ' ')}{approx})\nincidents within {within_m / 1000:g} km",
        loc="left",
        fontsize=9.5,
    )
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), ncols=1, fontsize=7.5)
    _date_axis(ax)
    if periods:
        _periods(axes[1], periods)
    return _to_svg(fig, f"timeline-{site.id}")


def _hit_labels(
    ax: Any, cols: dict[str, Any], index: NDArray[np.int64], dist: NDArray[np.float64], hit_prob: dict[str, float]
) -> None:
    """Label the featured hits only: the :data:`MAX_HIT_LABELS` most probable, never two close in time.

    With hundreds of thousands of incidents a site has many possible hits; labelling each
    prints a pile of overlapping text. The hits table lists every one.
    """
    if not len(index):
        return
    mids = cols["mid"][index]
    span_days = max(float(np.ptp(mids)) / 86_400.0, 1.0)
    candidates = [
        (probability, position)
        for position, k in enumerate(index)
        if (probability := hit_prob.get(cols["id"][k])) is not None and probability >= MIN_LABELLED_PROBABILITY
    ]
    placed: list[float] = []
    for probability, position in sorted(candidates, key=lambda c: (-c[0], c[1])):
        x = float(mids[position]) / 86_400.0
        if len(placed) >= MAX_HIT_LABELS or any(abs(x - other) < span_days / 7 for other in placed):
            continue
        placed.append(x)
        ax.annotate(
            f"P(hit) {probability:.2f}",
            xy=(x, float(dist[position])),
            xytext=(4, 3),
            textcoords="offset points",
            fontsize=7,
        )


def _periods(ax: Any, periods: list[Period]) -> None:
    """Expected vs observed hits per period, each drawn across its true extent on a log axis.

    Expected counts (often below 0.01) and observed ones (1, 2, ...) differ by orders of
    magnitude: on a linear axis the expected bar is invisible. Here the grey band is the
    expected count over the period, the red line and dot the observed count; an observed 0,
    which a log axis cannot show, is an open dot on the bottom edge. Each period is labelled
    with both numbers.
    """
    values = [v for p in periods for v in (p.expected, p.observed) if v > 0]
    low = min(values, default=1e-3) / 4
    high = max(max(values, default=1.0) * 12, 5.0)  # room for the labels at the top
    ax.set_yscale("log")
    ax.set_ylim(low, high)
    for k, p in enumerate(periods):
        start, end = _date(p.start), _date(p.end)
        middle = (start + end) / 2
        ax.hlines(
            max(p.expected, low),
            start,
            end,
            color="#9a9a9a",
            lw=7,
            alpha=0.7,
            label="expected by chance" if k == 0 else None,
        )
        if p.observed > 0:
            ax.hlines(p.observed, start, end, color="#c0392b", lw=1.6)
            ax.plot([middle], [p.observed], "o", color="#c0392b", ms=6, label="observed" if k == 0 else None)
        else:
            ax.plot(
                [middle], [low], "o", mfc="white", mec="#c0392b", ms=6, clip_on=False,
                label="observed" if k == 0 else None,
            )  # fmt: skip
        ax.annotate(
            f"observed {_count(p.observed)}\nexpected {_count(p.expected)}",
            xy=(middle, 1.0),
            xycoords=("data", "axes fraction"),
            ha="center",
            va="top",
            fontsize=7,
        )
        ax.axvline(end, color="#dddddd", lw=0.6, zorder=0)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_ylabel("hits (log scale)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5)
    _date_axis(ax)


def _count(value: float) -> str:
    """A hit count as printed in a figure: whole numbers plainly, small expectations in 2 digits."""
    if value == 0:
        return "0"
    if float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.2g}"


def incident_arrays(incidents: Sequence[Incident]) -> dict[str, Any]:
    """Columns of the incidents used by the site timelines (computed once per report)."""
    start = np.array([i.time.start.timestamp() for i in incidents], dtype=float)
    end = np.array([i.time.end.timestamp() for i in incidents], dtype=float)
    return {
        "id": [i.id for i in incidents],
        "lat": np.array([i.lat for i in incidents], dtype=float),
        "lon": np.array([i.lon for i in incidents], dtype=float),
        "start": start,
        "end": end,
        "mid": (start + end) / 2,
        "provenance": [provenance_of(i) for i in incidents],
    }


def sites_for_timelines(data: ReportData, limit: int = 12) -> list[Site]:
    """The sites that get their own timeline: flagged, notified, then most probably hit.

    At most ``limit`` sites, so a report over a whole city stays readable.
    """
    notified = notified_sites(data)
    flagged = {a["site_id"] for a in data.analysis if a.get("flagged")}
    expected_hits: dict[str, float] = {}
    for match in data.matches:
        expected_hits[match.site_id] = expected_hits.get(match.site_id, 0.0) + match.probability
    candidates = [s for s in data.sites if s.id in flagged or s.id in notified or expected_hits.get(s.id, 0) > 0.05]
    candidates.sort(key=lambda s: (s.id not in flagged, s.id not in notified, -expected_hits.get(s.id, 0.0), s.id))
    return candidates[:limit]


def sensitivity_svg(data: ReportData, site_id: str) -> str:
    """Heat map of one site's p-values over the bandwidth × hit-radius grid ("" when absent)."""
    cells = [c for c in data.sensitivity if c.site_id == site_id]
    if not cells:
        return ""
    bandwidths = sorted({float(c.bandwidth_m) for c in cells})
    radii = sorted({float(c.hit_radius_m) for c in cells})
    grid = np.full((len(radii), len(bandwidths)), np.nan)
    for c in cells:
        if c.p_value is not None:
            grid[radii.index(float(c.hit_radius_m)), bandwidths.index(float(c.bandwidth_m))] = c.p_value
    fig, ax = _new_figure(3.6, 2.5)
    strength = -np.log10(np.clip(grid, 1e-12, 1.0))
    image = ax.imshow(
        strength,
        cmap="Reds",
        vmin=0,
        vmax=max(4.0, float(np.nanmax(strength, initial=0.0))),
        origin="lower",
        aspect="auto",
    )
    for r in range(len(radii)):
        for b in range(len(bandwidths)):
            p = grid[r, b]
            text = "n/a" if math.isnan(p) else f"{p:.2g}"
            ax.text(
                b,
                r,
                text,
                ha="center",
                va="center",
                fontsize=8,
                color="white" if not math.isnan(p) and strength[r, b] > 2.5 else "black",
            )
    ax.set_xticks(range(len(bandwidths)), [f"{b:,.0f}" for b in bandwidths])
    ax.set_yticks(range(len(radii)), [f"{r:g}" for r in radii])
    ax.set_xlabel("background bandwidth (m)")
    ax.set_ylabel("hit radius (m)")
    site = next((x for x in data.sites if x.id == site_id), None)
    tags = []
    if site is not None and is_approximate(site):
        tags.append("APPROXIMATE location")
    if any(is_synthetic(i) for i in data.incidents):
        tags.append("SYNTHETIC data")
    ax.set_title(f"p-value, {site_id}" + (f"\n({'; '.join(tags)})" if tags else ""), fontsize=8.5)
    colorbar = fig.colorbar(image, ax=ax, shrink=0.9)
    colorbar.set_label("−log10 p (darker: less likely by chance)", fontsize=7)
    return _to_svg(fig, f"sensitivity-{site_id}")
