"""What the per-site analysis returns: typed results, their JSON and their sentence.

A :class:`SiteResult` holds one small result object per test (scipy/pointpats style), the
:class:`Headline` — the one number to quote, with its adjustment, method, range, tipping point
and what else could explain the hits — and the site's identity. The flat attributes callers
used before (``observed``, ``p_value_after``, ...) are read-only properties over those objects,
and :meth:`SiteResult.to_json` keeps the documented wire format (``docs/statistics.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from deconflict.stats.significance import (
    AttackScoreResult,
    ChangeTestResult,
    ControlRankResult,
    LocalContrastResult,
    PoissonTestResult,
)

__all__ = [
    "ANALYSIS_ASSUMPTIONS",
    "OTHER_EXPLANATIONS",
    "Headline",
    "SensitivityCell",
    "SiteResult",
    "SpaceTimeScan",
    "StateTest",
]

ANALYSIS_ASSUMPTIONS: tuple[str, ...] = (
    "No targeting (null hypothesis): attacks fall independently of the site, with the spatial "
    "intensity of all other strikes in the site's city (adaptive kernel estimate; the site's own "
    "possible hits left out in proportion to their hit probability).",
    "Attack events, not reports, are independent: reports of one attack window and salvo spread "
    "count once (the largest hit probability among them).",
    "After notification, the site's neighbourhood (300-1,500 m) sets the timing: the expected "
    "hits after notification are the site's share of the strikes that fell nearby after that date.",
    "The expected count is estimated: its uncertainty (effective number of attack events behind "
    "it) is carried into the headline p-value (compound negative binomial).",
    "Counted incidents: confidence other than 'discounted' and status confirmed (or not given).",
    "A hit is a true impact inside the site's hit region (radius_m around the point or the "
    "footprint); location errors follow the incident's uncertainty model.",
    "'After notification' means after the END of the notification interval (conservative).",
    "Premises of one owner in one building or one notification form a family tested once; "
    "headline.adjusted is Holm's adjustment over all families tested.",
    "Every other p-value is secondary (see docs/statistics.md).",
)

#: What can make a site hit more often than its background without intent.
OTHER_EXPLANATIONS: tuple[str, ...] = (
    "a frequently attacked target next door (military site, bridge, road) finer than the background resolves",
    "debris of intercepted missiles or drones",
    "reports biased towards well-known buildings",
    "one strike reported twice beyond the attack window",
)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat().replace("+00:00", "Z")


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def one_in(p: float) -> str:
    """``"1 in 3,900"``-style odds with two significant digits."""
    if p <= 0:
        return "less than 1 in 10^15"
    n = 1.0 / p
    digits = max(0, math.floor(math.log10(n)) - 1)
    return f"1 in {round(n, -digits):,.0f}"


def order_of_magnitude(p: float) -> str:
    """``"1 in 10^5"`` for the order of magnitude of small probabilities."""
    if p <= 0:
        return "below 1 in 10^15"
    return f"1 in 10^{max(0, round(-math.log10(p)))}"


@dataclass(frozen=True)
class SensitivityCell:
    """One site's numbers under one (bandwidth, hit radius) setting."""

    site_id: str
    bandwidth_m: float
    radius_m: float
    observed: float
    expected: float
    p_value: float
    observed_after: float | None
    expected_after: float | None
    p_value_after: float | None
    headline_p_value: float | None = None


@dataclass(frozen=True)
class StateTest:
    """One test over all notified premises of an owner state, after their notifications.

    Families count once; ``observed`` is the attack score summed over them, ``expected`` its
    expectation, ``pvalue`` the compound negative-binomial tail of the sum (secondary: for a
    state's overall claim; not adjusted across states).
    """

    owner: str
    premises: int
    observed: float
    expected: float
    pvalue: float

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"owner": self.owner, "premises": self.premises, "observed": _num(self.observed),
                "expected": _num(self.expected), "p_value": _num(self.pvalue)}  # fmt: skip


@dataclass(frozen=True)
class SpaceTimeScan:
    """The space–time permutation scan seen from one site (secondary).

    ``pvalue``: the site's own cylinders (250–1,000 m) after its notification against resampled
    cities (``None`` if never notified); ``pvalue_adjusted``: the same against the largest
    cylinder anywhere in the city; ``city_pvalue``: the city's most likely cluster;
    ``separability_pvalue``: the check that where attacks fall did not change in time.
    """

    pvalue: float | None
    pvalue_adjusted: float | None
    city_pvalue: float
    separability_pvalue: float
    resamples: int


@dataclass(frozen=True)
class Headline:
    """The one number to quote for a site, and what it rests on.

    ``p_value`` is the attack-score test of the primary period (after notification for a
    notified site, else the whole period) of the site's family; ``adjusted`` its Holm
    adjustment over all families tested; ``range`` the smallest and largest ``p_value`` over the
    sensitivity grid (``None`` when not computed); ``tipping_point`` how many times higher the
    background would have to be for ``p_value`` to reach 0.05 (``None`` when it already is);
    ``None`` values throughout when the site could not be tested (``warnings`` says why).
    """

    p_value: float | None
    adjusted: float | None
    method: str
    period: str
    observed: float
    at_least: int
    expected: float
    expected_interval: tuple[float, float] | None
    tipping_point: float | None = None
    range: tuple[float, float] | None = None
    family: tuple[str, ...] = ()
    n_tested: int = 0
    explanations: tuple[str, ...] = OTHER_EXPLANATIONS
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (non-finite numbers become ``null``)."""
        interval = self.expected_interval
        return {
            "p_value": _num(self.p_value),
            "adjusted": _num(self.adjusted),
            "method": self.method,
            "period": self.period,
            "range": None if self.range is None else [_num(self.range[0]), _num(self.range[1])],
            "tipping_point": _num(self.tipping_point),
            "at_least": self.at_least,
            "observed": _num(self.observed),
            "expected": _num(self.expected),
            "expected_interval": None if interval is None else [_num(interval[0]), _num(interval[1])],
            "family": list(self.family),
            "n_tested": self.n_tested,
            "explanations": list(self.explanations),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class SiteResult:
    """Statistics for one site: the headline and every per-test result behind it.

    ``headline`` is the number to quote. The other results are secondary and documented in
    ``docs/statistics.md``: ``whole`` / ``after`` (report-level Poisson tails, not valid under
    salvos), ``whole_score`` / ``after_score`` (report-level compound Poisson), ``attacks`` /
    ``attacks_after`` (the attack-score tests the headline takes), ``change`` (city-wide
    timing), ``local`` (the neighbourhood before/after contrast with placebo dates) and
    ``control`` (rank among comparable families).
    """

    site_id: str
    kind: str
    city: str
    owner: str
    radius_m: float
    bandwidth_m: float
    notified_at: float | None  # end of the notification interval, epoch seconds
    whole: PoissonTestResult
    whole_score: PoissonTestResult
    attacks: AttackScoreResult | None
    after: PoissonTestResult | None
    after_score: PoissonTestResult | None
    attacks_after: AttackScoreResult | None
    change: ChangeTestResult | None
    local: LocalContrastResult | None
    control: ControlRankResult
    headline: Headline
    p_adjusted_bh: float
    matched_incidents: tuple[tuple[str, float], ...]
    certain_counts: bool
    sensitivity: tuple[SensitivityCell, ...] = ()
    scan: SpaceTimeScan | None = None
    state: StateTest | None = None
    assumptions: tuple[str, ...] = field(default=ANALYSIS_ASSUMPTIONS)

    # Flat views kept for callers (read-only).
    @property
    def observed(self) -> float:
        """Sum of match probabilities over the whole period (reports)."""
        return self.whole.statistic

    @property
    def expected(self) -> float:
        """Expected reports on the site over the whole period."""
        return self.whole.expected

    @property
    def p_value(self) -> float:
        """Secondary: report-level Poisson tail over the whole period."""
        return self.whole.pvalue

    @property
    def mid_p_value(self) -> float:
        """Secondary: mid-p of :attr:`p_value`."""
        return self.whole.mid_pvalue

    @property
    def observed_after(self) -> float | None:
        """Sum of match probabilities after notification."""
        return None if self.after is None else self.after.statistic

    @property
    def expected_after(self) -> float | None:
        """Expected reports after notification (neighbourhood timing)."""
        return None if self.after is None else self.after.expected

    @property
    def p_value_after(self) -> float | None:
        """Secondary: report-level Poisson tail after notification."""
        return None if self.after is None else self.after.pvalue

    @property
    def p_value_score(self) -> float:
        """Secondary: report-level compound Poisson score test, whole period."""
        return self.whole_score.pvalue

    @property
    def p_value_after_score(self) -> float | None:
        """Secondary: report-level compound Poisson score test after notification."""
        return None if self.after_score is None else self.after_score.pvalue

    @property
    def rate_ratio(self) -> float | None:
        """Rate ratio after / before (city-wide timing)."""
        return None if self.change is None else self.change.rate_ratio

    @property
    def rate_ratio_ci(self) -> tuple[float | None, float | None] | None:
        """95 % interval of :attr:`rate_ratio`."""
        return None if self.change is None else (self.change.rate_ratio_low, self.change.rate_ratio_high)

    @property
    def p_value_change(self) -> float | None:
        """Secondary: conditional change test (city-wide timing)."""
        return None if self.change is None else self.change.pvalue

    @property
    def p_value_control(self) -> float | None:
        """Secondary: rank among comparable families (exchangeable statistic)."""
        return None if self.control.n_controls == 0 else self.control.pvalue

    @property
    def n_controls(self) -> int:
        """Number of control families."""
        return self.control.n_controls

    @property
    def p_primary(self) -> float:
        """The headline p-value (NaN when the site could not be tested)."""
        return math.nan if self.headline.p_value is None else self.headline.p_value

    @property
    def p_adjusted(self) -> float:
        """The headline's Holm-adjusted p-value (NaN when the site could not be tested)."""
        return math.nan if self.headline.adjusted is None else self.headline.adjusted

    def flagged(self, alpha: float = 0.05) -> bool:
        """Whether the headline's adjusted p-value is at most ``alpha``."""
        return self.headline.adjusted is not None and self.headline.adjusted <= alpha

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict of the documented keys (non-finite numbers become ``null``)."""
        ci = self.rate_ratio_ci
        local = self.local
        return {
            "site_id": self.site_id,
            "kind": self.kind,
            "city": self.city,
            "radius_m": self.radius_m,
            "bandwidth_m": self.bandwidth_m,
            "headline": self.headline.to_json(),
            "observed": _num(self.observed),
            "expected": _num(self.expected),
            "p_value": _num(self.p_value),
            "mid_p_value": _num(self.mid_p_value),
            "notified_at": None if self.notified_at is None else _iso(self.notified_at),
            "observed_after": _num(self.observed_after),
            "expected_after": _num(self.expected_after),
            "p_value_after": _num(self.p_value_after),
            "p_value_score": _num(self.p_value_score),
            "p_value_after_score": _num(self.p_value_after_score),
            "p_value_attacks": None if self.attacks is None else _num(self.attacks.pvalue),
            "p_value_attacks_after": None if self.attacks_after is None else _num(self.attacks_after.pvalue),
            "rate_ratio": _num(self.rate_ratio),
            "rate_ratio_ci": None if ci is None else [_num(ci[0]), _num(ci[1])],
            "p_value_change": _num(self.p_value_change),
            "p_value_local": None if local is None else _num(local.pvalue),
            "local_odds_ratio": None if local is None else _num(local.odds_ratio),
            "placebo_p_values": [] if local is None else [_num(p) for p in local.placebo_pvalues],
            "p_value_vs_unnotified": None if local is None else _num(local.pvalue_vs_unnotified),
            "p_value_scan": None if self.scan is None else _num(self.scan.pvalue),
            "p_value_scan_adjusted": None if self.scan is None else _num(self.scan.pvalue_adjusted),
            "p_value_separability": None if self.scan is None else _num(self.scan.separability_pvalue),
            "state_test": None if self.state is None else self.state.to_json(),
            "p_value_control": _num(self.p_value_control),
            "p_value_control_randomized": _num(self.p_value_control),
            "n_controls": self.n_controls,
            "p_adjusted": _num(self.p_adjusted),
            "p_adjusted_bh": _num(self.p_adjusted_bh),
            "matched_incidents": [{"incident_id": i, "probability": p} for i, p in self.matched_incidents],
            "assumptions": list(self.assumptions),
        }

    def sentence(self) -> str:
        """The headline in words: adjusted figure first, at least N hits, odds with range, other causes."""
        h = self.headline
        where = f"nearby in {self.city}" if self.city else "nearby"
        family = f" on its {len(h.family)} premises" if len(h.family) > 1 else ""
        when = " after notification" if h.period == "after notification" else ""
        if h.p_value is None:
            return f"Not tested: {'; '.join(h.warnings) or 'no background'}."
        noun = "attack" if h.at_least == 1 else "attacks"
        counted = f"at least {h.at_least} {noun} hit{family}{when}"
        head = f"{counted[0].upper()}{counted[1:]} where {h.expected:.2g} were expected"
        adjusted = h.adjusted if h.adjusted is not None else h.p_value
        adj = (
            f"Adjusted for the {h.n_tested} sites (or families of premises) tested, p = {adjusted:.2g}. "
            if h.n_tested > 1
            else ""
        )
        if h.p_value >= 0.05:
            body = (
                f"{head}: a probability of {h.p_value:.2f} if strikes fell as they did {where}, consistent with chance"
            )
        else:
            spread = ""
            if h.range is not None and h.range[0] is not None and h.range[1] is not None:
                spread = f" (from {one_in(h.range[0])} to {one_in(h.range[1])} across bandwidths and hit radii)"
            tip = ""
            if h.tipping_point is not None:
                factor = f"{h.tipping_point:,.0f}" if h.tipping_point >= 10 else f"{h.tipping_point:.2g}"
                tip = f"; the background would have to be {factor} times higher to explain it"
            body = (
                f"{head}: a probability of the order of {order_of_magnitude(h.p_value)} "
                f"(about {one_in(h.p_value)}){spread} if strikes fell as they did {where}{tip}"
            )
        others = "Other explanations than intent: " + "; ".join(h.explanations) + "."
        return f"{adj}{body}. {others}"
