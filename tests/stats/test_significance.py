"""Exact tests, cross-checked against scipy.stats."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from deconflict.errors import InvalidInput
from deconflict.stats import (
    SCORE_LEVELS,
    benjamini_hochberg,
    compound_poisson_tail_test,
    conditional_change_test,
    control_rank_test,
    holm,
    poisson_binomial_pmf,
    poisson_tail_test,
    rate_ratio_ci,
)


def _certain_measure(expected: float) -> np.ndarray:
    nu = np.zeros(SCORE_LEVELS + 1)
    nu[SCORE_LEVELS] = expected
    return nu


@pytest.mark.parametrize("expected", [0.004, 0.3, 2.0, 25.0])
@pytest.mark.parametrize("hits", [0, 1, 2, 5])
def test_certain_hits_give_the_scipy_poisson_upper_tail(expected: float, hits: int) -> None:
    want = stats.poisson.sf(hits - 1, expected)
    assert poisson_tail_test([1.0] * hits, expected).pvalue == pytest.approx(want, rel=1e-9)
    got = compound_poisson_tail_test([1.0] * hits, _certain_measure(expected)).pvalue
    assert got == pytest.approx(want, rel=1e-7, abs=1e-300)


def test_mid_p_and_randomised_p_bracket_the_point_mass() -> None:
    r = poisson_tail_test([1.0, 1.0], 0.5, rng=np.random.default_rng(0))
    above, at = stats.poisson.sf(2, 0.5), stats.poisson.pmf(2, 0.5)
    assert r.mid_pvalue == pytest.approx(above + 0.5 * at)
    assert above <= r.randomized_pvalue <= above + at


def test_compound_poisson_tail_matches_simulation_for_uncertain_scores() -> None:
    rng = np.random.default_rng(11)
    nu = np.zeros(SCORE_LEVELS + 1)
    nu[[20, 50, 100]] = [1.5, 0.4, 0.2]
    n = 400_000
    total = np.zeros(n)
    for level, rate in ((20, 1.5), (50, 0.4), (100, 0.2)):
        total += rng.poisson(rate, n) * level
    observed = [0.5, 0.5, 0.2, 1.0]  # score 220 on the lattice
    mc = float(np.mean(total >= 220))
    assert compound_poisson_tail_test(observed, nu).pvalue == pytest.approx(mc, abs=3e-3)


def test_poisson_binomial_pmf_reduces_to_binomial() -> None:
    np.testing.assert_allclose(poisson_binomial_pmf([0.3] * 6), stats.binom.pmf(np.arange(7), 6, 0.3), atol=1e-14)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=0, max_size=30))
def test_poisson_binomial_pmf_sums_to_one_with_the_right_mean(p: list[float]) -> None:
    pmf = poisson_binomial_pmf(p)
    assert pmf.sum() == pytest.approx(1.0)
    assert np.arange(pmf.size) @ pmf == pytest.approx(sum(p), abs=1e-9)


@pytest.mark.parametrize(("before", "after", "share"), [(1, 2, 0.3), (0, 2, 0.5), (4, 1, 0.2), (3, 3, 0.9)])
def test_change_test_with_certain_hits_is_scipy_binomtest(before: int, after: int, share: float) -> None:
    expected_after = 2.0 * share
    expected_before = 2.0 * (1 - share)
    r = conditional_change_test([1.0] * before + [0.0] * after, [0.0] * before + [1.0] * after,
                                expected_before, expected_after)  # fmt: skip
    want = stats.binomtest(after, before + after, share, alternative="greater").pvalue
    assert r.pvalue == pytest.approx(want, rel=1e-9)
    assert r.expected_share == pytest.approx(share)


def test_rate_ratio_interval_covers_the_estimate_and_is_exact_clopper_pearson() -> None:
    rr, lo, hi = rate_ratio_ci(6, 3, 1.0, 2.0)
    assert rr == pytest.approx(4.0)
    ci = stats.binomtest(6, 9).proportion_ci(0.95, method="exact")
    assert lo == pytest.approx(ci.low / (1 - ci.low) * 2.0)
    assert hi == pytest.approx(ci.high / (1 - ci.high) * 2.0)
    assert lo < rr < hi


def test_rate_ratio_without_hits_before_is_infinite_with_a_finite_lower_bound() -> None:
    rr, lo, hi = rate_ratio_ci(2, 0, 0.1, 1.0)
    assert rr == float("inf") and hi == float("inf") and 0 < lo < float("inf")


def test_control_rank_is_exact_and_breaks_ties_with_the_rng() -> None:
    rng = np.random.default_rng(0)
    assert control_rank_test(5.0, [1, 2, 3], rng=rng).pvalue == pytest.approx(0.25)
    assert control_rank_test(0.0, [1, 2, 3], rng=rng).pvalue == pytest.approx(1.0)
    draws = {control_rank_test(1.0, [1, 1, 1], rng=rng).pvalue for _ in range(200)}
    assert draws == {0.25, 0.5, 0.75, 1.0}
    assert np.isnan(control_rank_test(1.0, [], rng=rng).pvalue)


def test_holm_and_bh_match_hand_computed_values() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    np.testing.assert_allclose(holm(p), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(benjamini_hochberg(p), [0.02, 0.04, 0.04, 0.02])
    out = holm([0.01, float("nan")])
    assert out[0] == pytest.approx(0.01) and np.isnan(out[1])


def test_invalid_probabilities_are_refused() -> None:
    with pytest.raises(InvalidInput):
        poisson_tail_test([1.2], 1.0)
    with pytest.raises(InvalidInput):
        poisson_tail_test([0.5], -1.0)


def test_control_rank_conservative_p_counts_every_tie_against_the_site() -> None:
    rng = np.random.default_rng(1)
    results = [control_rank_test(1.0, [1, 1, 1, 0], rng=rng) for _ in range(50)]
    assert all(r.pvalue_conservative == pytest.approx(4 / 5) for r in results)
    assert all(r.pvalue <= r.pvalue_conservative for r in results)


def _cubic_trinomial_pmf(p_before: np.ndarray, p_after: np.ndarray) -> np.ndarray:
    """The old O(n^3) recursion over every report (the reference the fast joint pmf must match)."""
    n = p_before.size
    pmf = np.zeros((n + 1, n + 1))
    pmf[0, 0] = 1.0
    for pb, pa in zip(p_before, p_after, strict=True):
        new = pmf * (1 - pb - pa)
        new[1:, :] += pmf[:-1, :] * pb
        new[:, 1:] += pmf[:, :-1] * pa
        pmf = new
    return pmf


@pytest.mark.parametrize("seed", range(6))
def test_joint_period_pmf_and_change_test_match_the_old_cubic_recursion(seed: int) -> None:
    from deconflict.stats.significance import joint_period_pmf

    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 60))
    hit = rng.uniform(0, 1, n) ** 3  # a few near-certain hits among many faint ones
    share_after = rng.choice([0.0, 1.0, 0.3, 0.7], n)  # before, after, or straddling the date
    pb, pa = hit * (1 - share_after), hit * share_after
    fast = joint_period_pmf(pb, pa)
    slow = _cubic_trinomial_pmf(pb, pa)
    common = slow[: fast.shape[0], : fast.shape[1]]
    assert np.max(np.abs(fast - common)) < 1e-15
    outside = slow.copy()
    outside[: fast.shape[0], : fast.shape[1]] = 0.0
    assert outside.sum() < 1e-25  # only negligible mass trimmed
    kb, ka = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    for share in (0.2, 0.5, 0.8):
        tail = np.where(ka > 0, stats.binom.sf(ka - 1, kb + ka, share), 1.0)
        tail[kb + ka == 0] = 1.0
        want = float(np.sum(slow * tail))
        got = conditional_change_test(pb, pa, 1.0 - share, share).pvalue
        assert got == pytest.approx(want, rel=1e-12, abs=1e-15)
