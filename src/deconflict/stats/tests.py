"""Exact tests for hit counts: Poisson tails, Poisson–binomial counts, rate ratios, controls.

Observed hits are uncertain: incident ``i`` hit the site with probability ``p_i`` (from
:mod:`deconflict.match`). Two documented ways to test them, both reported by
:func:`deconflict.stats.analyze_sites`:

* :func:`poisson_tail_test` gives ``p_value`` / ``p_value_after`` (the primary, quoted
  numbers): the **Poisson upper tail of the observed count given the expected count**. With
  certain hits (every ``p_i`` 0 or 1, ``k`` hits) it is exactly ``P(X >= k)``,
  ``X ~ Poisson(expected)`` (``scipy.stats.poisson.sf(k - 1, expected)``). With uncertain hits
  the true count ``K`` is Poisson–binomial with the ``p_i`` and the p-value is the
  *expectation of that tail over K*, ``p = sum_k P(K = k) * P(X >= k)``. Valid: under "no
  targeting" a draw of ``K`` is exactly Poisson(expected) (each background strike near the
  site is a hit with marginal probability its expected score), ``P(X >= K)`` is then a valid
  p-value and its conditional expectation is, in the simulations of
  ``tests/stats/test_stats_calibration.py``, conservative (share of ``p <= 0.05`` between
  0.001 and 0.012 over six simulated cities). The price: two reports each 70 % likely to be
  on the site cannot give a p-value below ``0.3 * 0.3 = 0.09``, the chance that neither was
  a hit.
* :func:`compound_poisson_tail_test` gives ``p_value_score`` / ``p_value_after_score``: more
  powerful when locations are uncertain; depends on the background's distribution of hit
  scores. The statistic is the *hit score* ``sum_i p_i`` (rounded to a lattice of 1/100).
  Under "no targeting" every background strike near the site contributes a random score, so
  the total is compound Poisson with the site's score measure
  (:mod:`deconflict.stats.exposure`); its upper tail is computed exactly by Panjer's
  recursion. With certain hits (scores 0 or 1) this *is* the exact Poisson upper tail
  ``P(X >= k)``. Two reports each 70 % likely to be on the site are weighed against how
  often the background produces such scores there, which keeps the power that averaging
  discards, but the number is only as good as the modelled score distribution (location
  error model, kernel intensity at the scale of the uncertainty).

The calibration tests in ``tests/stats`` check validity (share of ``p <= alpha`` at most
``alpha``) when strikes fall at random, and measure the power of both tests.

Exact Poisson p-values of small expected counts are discrete and conservative; the
mid-p (``P(X > k) + P(X = k) / 2``) and the randomised p (``P(X > k) + U P(X = k)``, ``U``
uniform from ``rng``) are reported too; the randomised one is exactly uniform under the null
(for uncertain hits it uses a draw of ``K`` from its Poisson–binomial distribution, so it is
not reproducible without the seed and is not for quoting).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from deconflict.errors import InvalidInput

__all__ = [
    "ChangeTestResult",
    "ControlRankResult",
    "PoissonTestResult",
    "benjamini_hochberg",
    "compound_poisson_tail_test",
    "conditional_change_test",
    "control_rank_test",
    "holm",
    "poisson_binomial_pmf",
    "poisson_tail_test",
    "rate_ratio_ci",
]

_POISSON_ASSUMPTIONS = (
    "Under 'no targeting' the number of hits is Poisson with mean the expected count.",
    "Uncertain hits: p-value averaged over the Poisson-binomial distribution of the "
    "number of hits implied by the match probabilities (incidents independent).",
)


def _probs(probabilities: ArrayLike) -> NDArray[np.float64]:
    p = np.ravel(np.asarray(probabilities, float))
    if np.any(~np.isfinite(p)) or np.any(p < 0) or np.any(p > 1):
        raise InvalidInput("hit probabilities must lie in [0, 1]")
    return p


def poisson_binomial_pmf(probabilities: ArrayLike) -> NDArray[np.float64]:
    """Exact distribution of the number of successes of independent Bernoulli trials.

    Dynamic programming, O(n^2); ``pmf[k] = P(K = k)`` for ``k = 0..n``.
    """
    p = _probs(probabilities)
    pmf = np.zeros(p.size + 1)
    pmf[0] = 1.0
    for k, pk in enumerate(p):
        pmf[1 : k + 2] = pmf[1 : k + 2] * (1 - pk) + pmf[0 : k + 1] * pk
        pmf[0] *= 1 - pk
    return pmf


def _trinomial_pmf(p_before: NDArray[np.float64], p_after: NDArray[np.float64]) -> NDArray[np.float64]:
    """Joint pmf of (hits before, hits after) when each incident is before, after or a miss."""
    n = p_before.size
    pmf = np.zeros((n + 1, n + 1))
    pmf[0, 0] = 1.0
    for pb, pa in zip(p_before, p_after, strict=True):
        new = pmf * (1 - pb - pa)
        new[1:, :] += pmf[:-1, :] * pb
        new[:, 1:] += pmf[:, :-1] * pa
        pmf = new
    return pmf


@dataclass(frozen=True)
class PoissonTestResult:
    """Upper-tail test of an (uncertain) hit count against its expected count.

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

    Parameters
    ----------
    hit_probabilities
        Match probabilities of the incidents that could have hit the site (an integer count
        ``k`` can be given as ``[1.0] * k``).
    expected
        Expected number of hits under the background.
    rng
        For the randomised p-value (a draw of the count from its Poisson–binomial
        distribution and a uniform tie-breaker); ``NaN`` without one.

    Raises
    ------
    InvalidInput
        If ``expected`` is negative or not finite, or a probability is outside [0, 1].
    """
    if not np.isfinite(expected) or expected < 0:
        raise InvalidInput("expected count must be finite and >= 0")
    p = _probs(hit_probabilities)
    pmf = poisson_binomial_pmf(p)
    k = np.arange(pmf.size)
    ge = stats.poisson.sf(k - 1, expected)  # P(X >= k)
    eq = stats.poisson.pmf(k, expected)
    pvalue = float(np.clip(pmf @ ge, 0.0, 1.0))
    mid = float(np.clip(pmf @ (ge - 0.5 * eq), 0.0, 1.0))
    rand = float("nan")
    if rng is not None:
        kk = int(np.sum(rng.random(p.size) < p))
        rand = float(stats.poisson.sf(kk, expected) + rng.random() * stats.poisson.pmf(kk, expected))
    return PoissonTestResult(float(p.sum()), float(expected), pvalue, mid, rand)


def _panjer(rate_by_level: NDArray[np.float64], upto: int) -> tuple[NDArray[np.float64], float]:
    """Compound Poisson lattice pmf up to ``upto``, as (scaled pmf, log scale).

    ``pmf[k] = scaled[k] * exp(log_scale)``; the scaling keeps long recursions from
    overflowing.
    """
    nu = np.asarray(rate_by_level, float)
    levels = nu.size - 1
    jnu = np.arange(levels + 1) * nu  # j * nu_j, index 0 unused
    out = np.zeros(upto + 1)
    out[0] = 1.0
    log_scale = -float(nu[1:].sum())
    for k in range(1, upto + 1):
        lo = max(0, k - levels)
        # sum_{j=1..min(k,L)} j nu_j f(k-j)
        out[k] = float(np.dot(jnu[k - lo : 0 : -1], out[lo:k])) / k if k - lo > 0 else 0.0
        if out[k] > 1e250:
            out[: k + 1] *= 1e-250
            log_scale += 250 * np.log(10.0)
    return out, log_scale


def compound_poisson_tail_test(
    hit_probabilities: ArrayLike,
    score_measure: ArrayLike,
    *,
    expected: float | None = None,
    rng: np.random.Generator | None = None,
) -> PoissonTestResult:
    """Exact upper-tail test of a site's hit score against the background's score measure.

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

    Returns
    -------
    PoissonTestResult
        ``pvalue = P(S >= s_obs)``, ``mid_pvalue = P(S > s_obs) + P(S = s_obs) / 2``,
        ``randomized_pvalue = P(S > s_obs) + U P(S = s_obs)``.
    """
    p = _probs(hit_probabilities)
    nu = np.asarray(score_measure, float).copy()
    if nu.ndim != 1 or nu.size < 2 or np.any(~np.isfinite(nu)) or np.any(nu < 0):
        raise InvalidInput("score measure must be a non-negative vector of length >= 2")
    levels = nu.size - 1
    nu[0] = 0.0
    mean = float(np.arange(levels + 1) @ nu) / levels
    obs = int(np.sum(np.rint(p * levels)))
    extra = 8 * levels
    scaled, log_scale = _panjer(nu, obs + extra)
    with np.errstate(under="ignore"):
        pmf = scaled * np.exp(log_scale)
    below = float(np.sum(pmf[:obs]))
    at = float(pmf[obs])
    tail = 1.0 - below
    if tail < 1e-8:  # 1 - cdf loses precision: sum the tail terms directly
        tail = float(np.sum(pmf[obs:]))
    tail = float(np.clip(tail, 0.0, 1.0))
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
        ),
    )


def rate_ratio_ci(
    hits_after: int, hits_before: int, expected_after: float, expected_before: float,
    *, confidence: float = 0.95,
) -> tuple[float, float, float]:  # fmt: skip
    """Rate ratio (after / before, each relative to its expectation) with an exact CI.

    Conditional on the total ``n``, the after-count is binomial with share
    ``pi = RR * Ea / (RR * Ea + Eb)``; the Clopper–Pearson interval for ``pi`` maps to
    ``RR = pi / (1 - pi) * Eb / Ea``.

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


@dataclass(frozen=True)
class ChangeTestResult:
    """Did the site's hits shift towards the period after notification?

    ``statistic`` is the (probability-weighted) number of hits after notification;
    ``pvalue`` the conditional binomial test of the after-share against its expected share
    ``expected_share = Ea / (Ea + Eb)``, one-sided (greater).
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
        "Rate-ratio interval: Clopper-Pearson at the hit counts rounded to integers.",
    )


def conditional_change_test(
    p_before: ArrayLike, p_after: ArrayLike, expected_before: float, expected_after: float,
    *, confidence: float = 0.95,
) -> ChangeTestResult:  # fmt: skip
    """Conditional binomial test of the after-notification share of hits.

    Parameters
    ----------
    p_before, p_after
        For each candidate incident, the probability that it hit the site before / after
        notification (their sum is its match probability).
    expected_before, expected_after
        Expected hits in the two periods.
    """
    pb, pa = _probs(p_before), _probs(p_after)
    if pb.shape != pa.shape or np.any(pb + pa > 1 + 1e-9):
        raise InvalidInput("p_before and p_after must pair up and sum to at most 1")
    total_e = expected_before + expected_after
    share = expected_after / total_e if total_e > 0 else float("nan")
    obs_a, obs_b = float(pa.sum()), float(pb.sum())
    if not np.isfinite(share):
        pvalue = 1.0
    else:
        joint = _trinomial_pmf(pb, np.minimum(pa, 1 - pb))
        kb, ka = np.meshgrid(np.arange(joint.shape[0]), np.arange(joint.shape[1]), indexing="ij")
        tail = stats.binom.sf(ka - 1, kb + ka, share)
        tail[kb + ka == 0] = 1.0
        pvalue = float(np.clip(np.sum(joint * tail), 0.0, 1.0))
    rr, lo, hi = rate_ratio_ci(round(obs_a), round(obs_b), expected_after, expected_before,
                               confidence=confidence)  # fmt: skip
    if obs_b > 0 and expected_after > 0 and expected_before > 0:
        rr = (obs_a / expected_after) / (obs_b / expected_before)
    return ChangeTestResult(obs_a, obs_b, share, pvalue, rr, lo, hi)


@dataclass(frozen=True)
class ControlRankResult:
    """Rank of a site's excess among comparable control sites."""

    statistic: float
    n_controls: int
    pvalue: float
    pvalue_conservative: float = float("nan")
    assumptions: tuple[str, ...] = (
        "Comparable sites (same kind and city) are exchangeable under 'no targeting'.",
        "Statistic: standardised excess (observed - expected) / sqrt(expected).",
        "p = (1 + controls above + random share of ties) / (1 + controls); ties broken by rng.",
        "pvalue_conservative counts every tie against the site: deterministic, never smaller.",
    )


def control_rank_test(
    statistic: float, control_statistics: ArrayLike, *, rng: np.random.Generator
) -> ControlRankResult:
    """Permutation p-value of a site's statistic among its controls (larger = more extreme).

    ``p = (1 + G + T') / (1 + n)`` with ``G`` controls strictly above, ``T'`` a uniform draw
    from ``0..T`` for ``T`` ties: exact under exchangeability. ``NaN`` without controls.
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
