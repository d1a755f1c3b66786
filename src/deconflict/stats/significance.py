"""Exact tests for hit counts and hit scores: the building blocks of the per-site statistics.

Observed hits are uncertain: report ``i`` hit the site with probability ``p_i`` (from
:mod:`deconflict.match`). The tests here, each returning a small frozen result object
(scipy/pointpats style: the statistic, the p-value, what was assumed):

* :func:`attack_score_test` — **the headline test.** The statistic is the site's *attack
  score*: for every attack event (reports of one attack night, :mod:`deconflict.stats.events`)
  the largest hit probability of its reports, summed over events. Under "no targeting" the
  background's reports near the site form a Poisson process and the score of a report is a
  random draw from the site's *score measure* (:mod:`deconflict.stats.exposure`). Taking the
  *maximum* within an event makes the test valid whatever the dependence inside an event
  (a salvo, a strike reported twice): ``P(max_i p_i >= t) <= sum_i P(p_i >= t)``, so an event
  scores no more often than its reports would if they were independent. The mean of the
  measure (the expected count) is itself estimated; its uncertainty is carried by mixing the
  Poisson mean over a Gamma distribution with shape ``size`` (the effective number of
  independent events behind the estimate): the null is then a *compound negative binomial*,
  whose tail is computed exactly by Panjer's recursion (Panjer 1981; Klugman, Panjer &
  Willmot, *Loss Models*, (a, b, 0) class).
* :func:`poisson_tail_test` — secondary: the Poisson upper tail of the number of true hits,
  averaged over its Poisson–binomial distribution (conservative: two reports each 70 %
  likely on the site never give less than 0.09). Counts reports, not attacks: **not valid
  under salvos or duplicate reports**.
* :func:`compound_poisson_tail_test` — secondary: the report-level hit score against the
  compound Poisson null (the attack score test without events and without the uncertainty
  of the expected count).
* :func:`conditional_change_test` — did the hits shift towards the period after
  notification? Conditional binomial test averaged over which reports were hits, with a
  rate-ratio interval obtained by inverting the same averaged test (no rounding of counts).
  O(n · support) time, at most O(n²) (the joint distribution is built from the two
  Poisson–binomial marginals; only reports whose time straddles the notification need the
  joint recursion), with negligible mass (< 1e-30) trimmed and added back conservatively.
* :func:`local_contrast_test` — the site's share of its neighbourhood's attacks before and
  after notification (a difference in differences): conditional on the site's hits, the
  number after notification is beta-binomial with the neighbourhood's after-share.
* :func:`control_rank_test` — the rank of a statistic among controls; exchangeable when the
  caller passes a statistic with the same null distribution at every site (the analysis
  passes the randomised probability-integral transform of each family's attack-score test).
* :func:`holm`, :func:`benjamini_hochberg` — multiple-testing adjustment.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, signal, special, stats

from deconflict.errors import InvalidInput

__all__ = [
    "AttackScoreResult",
    "ChangeTestResult",
    "ControlRankResult",
    "LocalContrastResult",
    "PoissonTestResult",
    "attack_score_test",
    "benjamini_hochberg",
    "compound_poisson_tail_test",
    "compound_tail",
    "conditional_change_test",
    "control_rank_test",
    "holm",
    "local_contrast_test",
    "poisson_binomial_pmf",
    "poisson_tail_test",
    "rate_ratio_ci",
]

_TRIM = 1e-30  # probability mass below this is dropped (and added back conservatively)

_POISSON_ASSUMPTIONS = (
    "Under 'no targeting' the number of hits is Poisson with mean the expected count.",
    "Uncertain hits: p-value averaged over the Poisson-binomial distribution of the "
    "number of hits implied by the match probabilities (incidents independent).",
    "Counts reports, not attacks: not valid under salvos or duplicate reports (secondary).",
)


def _probs(probabilities: ArrayLike) -> NDArray[np.float64]:
    p = np.ravel(np.asarray(probabilities, float))
    if np.any(~np.isfinite(p)) or np.any(p < 0) or np.any(p > 1):
        raise InvalidInput("hit probabilities must lie in [0, 1]")
    return p


def _pb_trimmed(p: NDArray[np.float64]) -> tuple[NDArray[np.float64], float]:
    """Poisson–binomial pmf, dropping trailing mass below ``_TRIM``.

    Exact: the generating polynomials ``(1 - p_i) + p_i z`` are multiplied pairwise in a
    balanced tree (each level vectorised over all pairs), and coefficients below 1e-30 at the
    top end are dropped; ``dropped`` is the total mass removed (an upper bound). Cost
    O(n · support); the support of a sum of small probabilities is short.
    """
    p = p[p > 0]
    if p.size == 0:
        return np.ones(1), 0.0
    polys = np.stack([1.0 - p, p], axis=1)
    dropped = 0.0
    while polys.shape[0] > 1:
        if polys.shape[0] % 2:
            one = np.zeros((1, polys.shape[1]))
            one[0, 0] = 1.0
            polys = np.vstack([polys, one])
        left, right = polys[0::2], polys[1::2]
        width = left.shape[1]
        out = np.zeros((left.shape[0], 2 * width - 1))
        for j in range(width):
            out[:, j : j + width] += left[:, j : j + 1] * right
        keep = int(np.flatnonzero(out.max(axis=0) >= _TRIM)[-1]) + 1
        if keep < out.shape[1]:
            dropped += float(out[:, keep:].sum())
            out = out[:, :keep]
        polys = out
    return polys[0], dropped


def poisson_binomial_pmf(probabilities: ArrayLike) -> NDArray[np.float64]:
    """Exact distribution of the number of successes of independent Bernoulli trials.

    ``pmf[k] = P(K = k)``; entries past the last one above 1e-30 are omitted (their mass is
    below 1e-30 per trial), so the array can be shorter than ``n + 1``.
    """
    pmf, _ = _pb_trimmed(_probs(probabilities))
    return pmf


@dataclass(frozen=True)
class PoissonTestResult:
    """Upper-tail test of an (uncertain) hit count or score against its expectation.

    ``statistic`` is the expected number of observed hits (sum of match probabilities).
    """

    statistic: float
    expected: float
    pvalue: float
    mid_pvalue: float
    randomized_pvalue: float
    assumptions: tuple[str, ...] = _POISSON_ASSUMPTIONS


def poisson_tail_test(
    hit_probabilities: ArrayLike, expected: float, *, rng: np.random.Generator | None = None
) -> PoissonTestResult:
    """Exact Poisson upper-tail test of observed hits given the expected count.

    ``pvalue = sum_k P(K = k) P(X >= k)`` with ``K`` the Poisson–binomial number of true hits
    and ``X ~ Poisson(expected)``; with certain hits (probabilities 0 or 1, ``k`` of them 1) it
    is exactly ``P(X >= k)``. ``mid_pvalue`` averages ``P(X > k) + P(X = k) / 2`` the same way;
    ``randomized_pvalue`` is ``P(X > K*) + U P(X = K*)`` for a draw ``K*`` of ``K``.

    Raises
    ------
    InvalidInput
        If ``expected`` is negative or not finite, or a probability is outside [0, 1].
    """
    if not np.isfinite(expected) or expected < 0:
        raise InvalidInput("expected count must be finite and >= 0")
    p = _probs(hit_probabilities)
    pmf, dropped = _pb_trimmed(p)
    k = np.arange(pmf.size)
    ge = np.where(k > 0, special.pdtrc(np.maximum(k - 1, 0), expected), 1.0)  # P(X >= k)
    with np.errstate(divide="ignore"):
        eq = np.exp(special.xlogy(k, expected) - expected - special.gammaln(k + 1))
    pvalue = float(np.clip(pmf @ ge + dropped, 0.0, 1.0))
    mid = float(np.clip(pmf @ (ge - 0.5 * eq) + dropped, 0.0, 1.0))
    rand = float("nan")
    if rng is not None:
        kk = int(np.sum(rng.random(p.size) < p))
        rand = float(stats.poisson.sf(kk, expected) + rng.random() * stats.poisson.pmf(kk, expected))
    return PoissonTestResult(float(p.sum()), float(expected), pvalue, mid, rand)


def compound_tail(score_measure: ArrayLike, observed_level: int, *, size: float = math.inf) -> tuple[float, float]:
    """``(P(S >= s), P(S = s))`` for a compound Poisson or negative-binomial score ``S``.

    Parameters
    ----------
    score_measure
        ``measure[j]``: expected number of events whose score is ``j / L`` (``L = len - 1``);
        index 0 is ignored. Its total mass is the mean number of scoring events.
    observed_level
        The observed score on the lattice (an integer multiple of ``1 / L``).
    size
        Shape of the Gamma mixing of the mean (``inf``: Poisson events; ``n``: negative
        binomial events with variance ``mean + mean**2 / n``).

    Notes
    -----
    Panjer's recursion for the (a, b, 0) class, scaled against underflow. The tail is
    ``1 - cdf`` while that keeps 8 digits, else the sum of the tail terms themselves, run
    until they are negligible.
    """
    nu = np.asarray(score_measure, float).copy()
    if nu.ndim != 1 or nu.size < 2 or np.any(~np.isfinite(nu)) or np.any(nu < 0):
        raise InvalidInput("score measure must be a non-negative vector of length >= 2")
    if not size > 0:
        raise InvalidInput("size must be > 0")
    nu[0] = 0.0
    levels = nu.size - 1
    total = float(nu.sum())
    obs = int(observed_level)
    if obs <= 0:
        g0 = math.exp(-total) if math.isinf(size) else (size / (size + total)) ** size
        return 1.0, g0 if obs == 0 else 0.0
    if total <= 0:
        return 0.0, 0.0
    f = nu / total
    fast = _compound_tail_fft(f, total, size, obs)
    if fast is not None:
        return fast
    if math.isinf(size):
        a, b, log_g0 = 0.0, total, -total
    else:
        a = total / (size + total)
        b = (size - 1.0) * a
        log_g0 = size * math.log(size / (size + total))
    jf = np.arange(levels + 1) * f
    cap = obs + 40 * levels
    out = np.zeros(cap + 1)
    out[0] = 1.0
    log_scale = log_g0
    tail_terms = 0.0
    s = 0
    while s < cap:
        s += 1
        lo = max(0, s - levels)
        past = out[lo:s][::-1]  # g_{s-1}, ..., g_{lo}
        out[s] = a * float(np.dot(f[1 : past.size + 1], past)) + b / s * float(np.dot(jf[1 : past.size + 1], past))
        if out[s] > 1e250:
            out[: s + 1] *= 1e-250
            log_scale += 250 * math.log(10.0)
        if s == obs:
            with np.errstate(under="ignore"):
                pmf = out[: obs + 1] * math.exp(log_scale)
            below = float(pmf[:obs].sum())
            if 1.0 - below > 1e-8:
                return float(np.clip(1.0 - below, 0.0, 1.0)), float(pmf[obs])
            tail_terms = float(pmf[obs])
        elif s > obs:
            with np.errstate(under="ignore"):
                term = float(out[s] * math.exp(log_scale))
            tail_terms += term
            if (s - obs) % levels == 0:  # one lattice block further: stop once blocks are negligible
                with np.errstate(under="ignore"):
                    block = float(out[s - levels + 1 : s + 1].sum() * math.exp(log_scale))
                if block < 1e-17 * tail_terms:
                    break
    else:
        # Cap reached with the tail still decaying: bound the rest by the geometric decay of
        # the last two lattice blocks (slowly decaying negative-binomial tails).
        with np.errstate(under="ignore"):
            last = float(out[cap - levels + 1 : cap + 1].sum() * math.exp(log_scale))
            prev = float(out[cap - 2 * levels + 1 : cap - levels + 1].sum() * math.exp(log_scale))
        ratio = last / prev if prev > 0 else 1.0
        tail_terms += last * ratio / (1.0 - ratio) if ratio < 1 else 1.0
    with np.errstate(under="ignore"):
        at = float(out[obs] * math.exp(log_scale))
    return float(np.clip(tail_terms, 0.0, 1.0)), at


def _compound_tail_fft(f: NDArray[np.float64], total: float, size: float, obs: int) -> tuple[float, float] | None:
    """The same tail by FFT of the probability generating function, when it is not small.

    Exact up to rounding (~1e-13 absolute) once the lattice is long enough that no mass wraps
    around; used only when the tail exceeds 1e-4, with a bound on the rounding added (it never
    favours the site); Panjer's recursion (exact at any size) takes over below.
    """
    levels = f.size - 1
    j = np.arange(levels + 1)
    mean = total * float(j @ f)
    var = total * float((j**2) @ f) * (1.0 + (0.0 if math.isinf(size) else total / size))
    n = 256
    while n < max(obs + 1, mean + 14.0 * math.sqrt(var) + 2 * levels):
        n *= 2
    if n > 1 << 20:
        return None
    phi = np.fft.rfft(np.concatenate([f, np.zeros(n - f.size)]))
    g = np.exp(total * (phi - 1.0)) if math.isinf(size) else (1.0 + (total / size) * (1.0 - phi)) ** (-size)
    pmf = np.fft.irfft(g, n)
    tail = 1.0 - float(pmf[:obs].sum())
    if tail < 1e-4:
        return None
    margin = 4.0 * np.finfo(float).eps * n * max(obs, 1)  # a bound on the FFT's rounding, added: never helps the site
    return float(min(tail + margin, 1.0)), float(max(pmf[obs], 0.0))


def compound_poisson_tail_test(
    hit_probabilities: ArrayLike,
    score_measure: ArrayLike,
    *,
    expected: float | None = None,
    rng: np.random.Generator | None = None,
) -> PoissonTestResult:
    """Exact upper-tail test of a site's report-level hit score against the compound Poisson null.

    Parameters
    ----------
    hit_probabilities
        Match probabilities of the candidate incidents (their rounded sum is the statistic).
    score_measure
        ``measure[j]``: expected number of background strikes whose score rounds to
        ``j / L`` (``L = len(measure) - 1``); index 0 is ignored.
    expected
        Expected hits to report (default: the lattice mean of the measure).
    rng
        For the randomised p-value (uniform tie-breaker on the lattice); NaN without one.
    """
    p = _probs(hit_probabilities)
    nu = np.asarray(score_measure, float)
    levels = nu.size - 1
    obs = int(np.sum(np.rint(p * levels)))
    tail, at = compound_tail(nu, obs)
    mean = float(np.arange(levels + 1)[1:] @ nu[1:]) / levels if levels > 0 else 0.0
    rand = float("nan") if rng is None else float(np.clip(tail - rng.random() * at, 0.0, 1.0))
    return PoissonTestResult(
        statistic=float(p.sum()),
        expected=mean if expected is None else float(expected),
        pvalue=tail,
        mid_pvalue=float(np.clip(tail - 0.5 * at, 0.0, 1.0)),
        randomized_pvalue=rand,
        assumptions=(
            "Under 'no targeting' strikes near the site form a Poisson process with the "
            "background intensity; the hit score is then compound Poisson.",
            f"Hit scores rounded to multiples of 1/{levels} in statistic and null alike.",
            "Counts reports, not attacks: not valid under salvos or duplicate reports (secondary).",
        ),
    )


@dataclass(frozen=True)
class AttackScoreResult:
    """The attack-score test (the headline test): one site or family, one period.

    ``statistic`` is the attack score (sum over attack events of the largest hit probability
    of their reports); ``expected`` its expectation under the background; ``size`` the shape
    of the Gamma mixing of that expectation (``inf`` when it is taken as known); ``at_least``
    a 95 % lower bound on the number of attacks that hit.
    """

    statistic: float
    expected: float
    size: float
    events: int
    at_least: int
    pvalue: float
    mid_pvalue: float
    randomized_pvalue: float
    assumptions: tuple[str, ...] = (
        "Attack events (reports of one attack window) count once: the largest hit "
        "probability of an event's reports is its score.",
        "Under 'no targeting' attack events are independent and the reports near the site "
        "follow the background; an event scores no more often than its reports would alone.",
        "The expected count is an estimate: its mean is mixed over a Gamma distribution "
        "(compound negative binomial null) with the effective number of events behind it.",
    )


def at_least_hits(event_scores: ArrayLike, confidence: float = 0.95) -> int:
    """Largest ``n`` with ``P(at least n of the events hit) >= confidence`` (independent events)."""
    pmf, _ = _pb_trimmed(_probs(event_scores))
    tail = np.cumsum(pmf[::-1])[::-1]  # P(K >= k)
    ok = np.flatnonzero(tail >= confidence - 1e-12)
    return int(ok[-1]) if ok.size else 0


def attack_score_test(
    event_scores: ArrayLike,
    score_measure: ArrayLike,
    *,
    size: float = math.inf,
    expected: float | None = None,
    rng: np.random.Generator | None = None,
) -> AttackScoreResult:
    """Upper-tail test of an attack score against a compound (negative-binomial) null.

    Parameters
    ----------
    event_scores
        One score per attack event that touched the site: the largest hit probability among
        its reports (times the share of its time after notification, for the after period).
    score_measure
        The site's expected number of background reports per score level (see
        :func:`compound_tail`); its mean is the expected count.
    size
        Gamma shape carrying the uncertainty of the expected count (``inf``: none).
    expected
        Expected count to report (default: the lattice mean of the measure).
    rng
        For the randomised p-value (a uniform tie-breaker on the lattice); NaN without one.
    """
    scores = _probs(event_scores)
    nu = np.asarray(score_measure, float)
    levels = nu.size - 1
    obs = int(np.sum(np.rint(scores * levels)))
    tail, at = compound_tail(nu, obs, size=size)
    mean = float(np.arange(1, levels + 1) @ nu[1:]) / levels
    rand = float("nan") if rng is None else float(np.clip(tail - rng.random() * at, 0.0, 1.0))
    return AttackScoreResult(
        statistic=float(scores.sum()),
        expected=mean if expected is None else float(expected),
        size=float(size),
        events=int(np.sum(scores > 0)),
        at_least=at_least_hits(scores),
        pvalue=tail,
        mid_pvalue=float(np.clip(tail - 0.5 * at, 0.0, 1.0)),
        randomized_pvalue=rand,
    )


def rate_ratio_ci(
    hits_after: int,
    hits_before: int,
    expected_after: float,
    expected_before: float,
    *,
    confidence: float = 0.95,
) -> tuple[float, float, float]:
    """Rate ratio (after / before, each relative to its expectation) with an exact CI.

    Conditional on the total ``n``, the after-count is binomial with share
    ``pi = RR * Ea / (RR * Ea + Eb)``; the Clopper–Pearson interval for ``pi`` maps to
    ``RR = pi / (1 - pi) * Eb / Ea``. For uncertain counts use :func:`conditional_change_test`,
    which inverts the test averaged over the counts instead of rounding them.

    Returns
    -------
    tuple
        ``(rate_ratio, low, high)``; ``inf`` where there were no hits before, ``nan`` if
        there were no hits at all or an expectation is zero.
    """
    a, b = int(hits_after), int(hits_before)
    if a < 0 or b < 0:
        raise InvalidInput("hit counts must be >= 0")
    if expected_after <= 0 or expected_before <= 0 or a + b == 0:
        return float("nan"), float("nan"), float("nan")
    scale = expected_before / expected_after
    ci = stats.binomtest(a, a + b, 0.5).proportion_ci(confidence, method="exact")

    def to_rr(pi: float) -> float:
        return float("inf") if pi >= 1 else pi / (1 - pi) * scale

    rr = float("inf") if b == 0 else (a / expected_after) / (b / expected_before)
    return rr, to_rr(float(ci.low)), to_rr(float(ci.high))


def _trinomial_trimmed(pb: NDArray[np.float64], pa: NDArray[np.float64]) -> NDArray[np.float64]:
    """Joint pmf of (hits before, hits after) of reports that may fall in either period."""
    pmf = np.ones((1, 1))
    for b, a in zip(pb, pa, strict=True):
        new = np.zeros((pmf.shape[0] + 1, pmf.shape[1] + 1))
        new[:-1, :-1] = pmf * (1.0 - b - a)
        new[1:, :-1] += pmf * b
        new[:-1, 1:] += pmf * a
        rows = np.flatnonzero(new.max(axis=1) >= _TRIM)
        cols = np.flatnonzero(new.max(axis=0) >= _TRIM)
        pmf = new[: rows[-1] + 1, : cols[-1] + 1]
    return pmf


def joint_period_pmf(p_before: ArrayLike, p_after: ArrayLike) -> NDArray[np.float64]:
    """Joint pmf ``J[kb, ka]`` of the numbers of hits before and after a date.

    Each report hits before (``p_before``), after (``p_after``) or misses. Reports that can
    only fall in one period give independent Poisson–binomial marginals; only the reports
    that straddle the date need the joint recursion, so the cost is O(n · support) and never
    more than O(n²) (the O(n³) trinomial recursion over all reports is avoided).
    """
    pb, pa = _probs(p_before), _probs(p_after)
    if pb.shape != pa.shape or np.any(pb + pa > 1 + 1e-9):
        raise InvalidInput("p_before and p_after must pair up and sum to at most 1")
    pa = np.minimum(pa, 1.0 - pb)
    both = (pb > 0) & (pa > 0)
    marg_b, _ = _pb_trimmed(pb[~both])
    marg_a, _ = _pb_trimmed(pa[~both])
    joint = np.outer(marg_b, marg_a)
    if np.any(both):
        joint = signal.convolve2d(joint, _trinomial_trimmed(pb[both], pa[both]), mode="full")
    return np.asarray(np.maximum(joint, 0.0))


@dataclass(frozen=True)
class ChangeTestResult:
    """Did the site's hits shift towards the period after notification?

    ``statistic`` is the (probability-weighted) number of hits after notification;
    ``pvalue`` the conditional binomial test of the after-share against its expected share
    ``expected_share = Ea / (Ea + Eb)``, one-sided (greater), averaged over which reports were
    hits; the rate-ratio interval inverts the same averaged test.
    """

    statistic: float
    hits_before: float
    expected_share: float
    pvalue: float
    rate_ratio: float
    rate_ratio_low: float
    rate_ratio_high: float
    assumptions: tuple[str, ...] = (
        "Conditional on the total number of hits, the number after notification is binomial "
        "with the expected share of the background's strikes after notification.",
        "Each uncertain incident falls before, after or misses (joint distribution exact).",
        "Rate-ratio interval: the averaged conditional test inverted (no rounding of counts).",
        "Counts reports and uses the city-wide timing: secondary to the local contrast.",
    )


def _averaged_tail(
    joint: NDArray[np.float64], tail: Callable[[NDArray[np.int64], NDArray[np.int64]], NDArray]
) -> float:
    kb, ka = np.meshgrid(np.arange(joint.shape[0]), np.arange(joint.shape[1]), indexing="ij")
    values = np.asarray(tail(kb, ka), float)
    values[(kb + ka) == 0] = 1.0
    return float(np.clip(np.sum(joint * values), 0.0, 1.0))


def _binom_upper(share: float) -> Callable[[NDArray[np.int64], NDArray[np.int64]], NDArray]:
    # P(X >= ka) for X ~ Bin(kb + ka, share), by the incomplete beta function (scipy.special)
    return lambda kb, ka: np.where(ka > 0, special.bdtrc(np.maximum(ka - 1, 0), kb + ka, share), 1.0)


def _binom_lower(share: float) -> Callable[[NDArray[np.int64], NDArray[np.int64]], NDArray]:
    return lambda kb, ka: special.bdtr(ka, kb + ka, share)


def _invert_share(joint: NDArray[np.float64], confidence: float) -> tuple[float, float]:
    """Confidence interval of the after-share by inverting the averaged one-sided tests."""
    half = (1.0 - confidence) / 2.0
    eps = 1e-12

    def upper(pi: float) -> float:
        return _averaged_tail(joint, _binom_upper(pi)) - half

    def lower(pi: float) -> float:
        return _averaged_tail(joint, _binom_lower(pi)) - half

    low = 0.0 if upper(eps) >= 0 else float(optimize.brentq(upper, eps, 1 - eps, xtol=1e-10))
    high = 1.0 if lower(1 - eps) >= 0 else float(optimize.brentq(lower, eps, 1 - eps, xtol=1e-10))
    return low, high


def conditional_change_test(
    p_before: ArrayLike,
    p_after: ArrayLike,
    expected_before: float,
    expected_after: float,
    *,
    confidence: float = 0.95,
) -> ChangeTestResult:
    """Conditional binomial test of the after-notification share of hits.

    Parameters
    ----------
    p_before, p_after
        For each candidate incident, the probability that it hit the site before / after
        notification (their sum is its match probability).
    expected_before, expected_after
        Expected hits in the two periods.
    """
    joint = joint_period_pmf(p_before, p_after)
    pb, pa = _probs(p_before), _probs(p_after)
    total_e = expected_before + expected_after
    share = expected_after / total_e if total_e > 0 else float("nan")
    obs_a, obs_b = float(pa.sum()), float(pb.sum())
    if not np.isfinite(share) or expected_after <= 0 or expected_before <= 0:
        return ChangeTestResult(obs_a, obs_b, share, 1.0, float("nan"), float("nan"), float("nan"))
    pvalue = _averaged_tail(joint, _binom_upper(share))
    low, high = _invert_share(joint, confidence)
    scale = expected_before / expected_after

    def to_rr(pi: float) -> float:
        return float("inf") if pi >= 1 else pi / (1 - pi) * scale

    rr = float("inf") if obs_b <= 0 else (obs_a / expected_after) / (obs_b / expected_before)
    if obs_a + obs_b <= 0:
        rr = float("nan")
    return ChangeTestResult(obs_a, obs_b, share, pvalue, rr, to_rr(low), to_rr(high))


@dataclass(frozen=True)
class LocalContrastResult:
    """The site's share of its neighbourhood's attacks, before vs after notification.

    ``odds_ratio`` is the difference in differences on the odds scale:
    ``(site after / ring after) / (site before / ring before)``; ``pvalue`` is one-sided
    (greater). ``placebo_pvalues`` are the same test at dates without a notification (in the
    period before it); ``pvalue_vs_unnotified`` compares the site with non-notified premises
    of the same kind nearby (``n_unnotified`` of them).
    """

    site_before: float
    site_after: float
    ring_before: float
    ring_after: float
    odds_ratio: float
    pvalue: float
    placebo_pvalues: tuple[float, ...] = ()
    pvalue_vs_unnotified: float | None = None
    n_unnotified: int = 0
    assumptions: tuple[str, ...] = (
        "Without targeting the site's share of the attacks on its neighbourhood (300-1,500 m "
        "ring) is the same before and after notification, whatever the city-wide trends.",
        "Conditional on the site's hits, the number after notification is beta-binomial with "
        "the ring's counts (Jeffreys prior on the ring's after-share).",
    )


def _beta_binomial_upper(after: float, before: float) -> Callable[[NDArray[np.int64], NDArray[np.int64]], NDArray]:
    a, b = after + 0.5, before + 0.5

    def tail(kb: NDArray[np.int64], ka: NDArray[np.int64]) -> NDArray:
        n_max = int((kb + ka).max()) if kb.size else 0
        n = np.arange(n_max + 1)[:, None]
        k = np.arange(n_max + 1)[None, :]
        ok = k <= n
        kk, nn = np.where(ok, k, 0), np.where(ok, n, 0)
        log_pmf = (special.gammaln(nn + 1) - special.gammaln(kk + 1) - special.gammaln(nn - kk + 1)
                   + special.betaln(kk + a, nn - kk + b) - special.betaln(a, b))  # fmt: skip
        pmf = np.where(ok, np.exp(log_pmf), 0.0)
        upper = np.cumsum(pmf[:, ::-1], axis=1)[:, ::-1]  # P(X >= k | n)
        return np.asarray(np.clip(upper[kb + ka, ka], 0.0, 1.0))

    return tail


def local_contrast_test(
    site_before: ArrayLike, site_after: ArrayLike, ring_before: float, ring_after: float
) -> LocalContrastResult:
    """Difference-in-differences test of the site's share of its neighbourhood's attacks.

    Parameters
    ----------
    site_before, site_after
        Per attack event on the site, the probability that it hit before / after notification.
    ring_before, ring_after
        Attack events in the neighbourhood ring before / after notification (weighted by the
        share of their time on each side).
    """
    joint = joint_period_pmf(site_before, site_after)
    pvalue = _averaged_tail(joint, _beta_binomial_upper(ring_after, ring_before))
    sb, sa = float(np.sum(site_before)), float(np.sum(site_after))
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = (sa / max(ring_after, 1e-12)) / (sb / max(ring_before, 1e-12)) if sb > 0 else math.inf
    if sa + sb <= 0:
        odds = float("nan")
    return LocalContrastResult(sb, sa, float(ring_before), float(ring_after), float(odds), pvalue)


@dataclass(frozen=True)
class ControlRankResult:
    """Rank of a site's statistic among comparable control sites (larger = more extreme)."""

    statistic: float
    n_controls: int
    pvalue: float
    pvalue_conservative: float = float("nan")
    assumptions: tuple[str, ...] = (
        "Control families (same kind and city, other buildings) are exchangeable under 'no "
        "targeting': the statistic is each family's randomised probability-integral transform "
        "of its own attack-score test, uniform under the null whatever its expected count.",
        "p = (1 + controls above + random share of ties) / (1 + controls); reproducible with the seed.",
    )


def control_rank_test(
    statistic: float, control_statistics: ArrayLike, *, rng: np.random.Generator
) -> ControlRankResult:
    """Permutation p-value of a site's statistic among its controls (larger = more extreme).

    ``p = (1 + G + T') / (1 + n)`` with ``G`` controls strictly above, ``T'`` a uniform draw
    from ``0..T`` for ``T`` ties: exact when the statistics are exchangeable. ``NaN`` without
    controls. ``pvalue_conservative`` counts every tie against the site.
    """
    ctrl = np.ravel(np.asarray(control_statistics, float))
    ctrl = ctrl[np.isfinite(ctrl)]
    if ctrl.size == 0:
        return ControlRankResult(float(statistic), 0, float("nan"))
    above = int(np.sum(ctrl > statistic))
    ties = int(np.sum(ctrl == statistic))
    extra = int(rng.integers(0, ties + 1))
    return ControlRankResult(
        float(statistic), int(ctrl.size), (1 + above + extra) / (1 + ctrl.size), (1 + above + ties) / (1 + ctrl.size)
    )


def _clean(pvalues: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    p = np.ravel(np.asarray(pvalues, float))
    ok = np.isfinite(p)
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        raise InvalidInput("p-values must lie in [0, 1]")
    return p, ok


def holm(pvalues: ArrayLike) -> NDArray[np.float64]:
    """Holm step-down adjusted p-values (family-wise error); NaN entries stay NaN."""
    p, ok = _clean(pvalues)
    out = np.full(p.size, np.nan)
    q = p[ok]
    m = q.size
    order = np.argsort(q, kind="stable")
    adj = np.maximum.accumulate((m - np.arange(m)) * q[order])
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def benjamini_hochberg(pvalues: ArrayLike) -> NDArray[np.float64]:
    """Benjamini–Hochberg adjusted p-values (false discovery rate); NaN entries stay NaN."""
    p, ok = _clean(pvalues)
    out = np.full(p.size, np.nan)
    q = p[ok]
    m = q.size
    order = np.argsort(q, kind="stable")
    adj = np.minimum.accumulate(m / np.arange(m, 0, -1) * q[order][::-1])[::-1]
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out
