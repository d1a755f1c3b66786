"""Calibration and power on a simulated city (1,000 sites, 20,000 strikes, seeded).

Strikes come from a known inhomogeneous intensity with no targeting; the true expected hit
counts are known in closed form. Documented figures (README, "What the p-values mean"):

* valid: share of p <= alpha at most alpha + 3 Monte-Carlo standard errors, alpha = 0.01,
  0.05, 0.1, for the whole-period, after-notification, change and control p-values;
* the randomised p-values are uniform (Kolmogorov-Smirnov p > 0.01);
* expected counts: median ratio estimated/true within 0.9-1.1, 90 % of ratios in 0.7-1.4;
* power: 2 planted hits after notification (100 m reporting uncertainty, 75 m site) at sites
  whose expected after-notification count is <= 0.1 are detected at alpha = 0.05 (unadjusted
  p_value_after) with probability >= 0.85.
"""

import numpy as np
import pytest
from scipy import stats

from deconflict.stats import SiteResult, analyze_sites, plant_targeting, simulate_city
from deconflict.stats.simulate import SimulatedCity

SEED = 2026
ALPHAS = (0.01, 0.05, 0.1)


@pytest.fixture(scope="module")
def city() -> SimulatedCity:
    return simulate_city(np.random.default_rng(SEED), n_sites=1000, n_strikes=20_000)


@pytest.fixture(scope="module")
def null_results(city: SimulatedCity) -> list[SiteResult]:
    return analyze_sites(city.sites, city.incidents, rng=np.random.default_rng(SEED + 1),
                         study_area=city.study_area, projection=city.projection, bandwidth_m="cv")  # fmt: skip


def _assert_valid(pvalues: np.ndarray) -> None:
    n = pvalues.size
    for alpha in ALPHAS:
        share = float(np.mean(pvalues <= alpha))
        assert share <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / n), (alpha, share)


@pytest.mark.slow
def test_p_values_are_valid_when_nothing_is_targeted(null_results: list[SiteResult]) -> None:
    assert len(null_results) >= 1000
    notified = [r for r in null_results if r.notified_at is not None]
    _assert_valid(np.array([r.p_value for r in null_results]))
    _assert_valid(np.array([r.mid_p_value for r in null_results]))
    _assert_valid(np.array([r.p_value_after for r in notified]))
    _assert_valid(np.array([r.p_value_change for r in notified]))
    _assert_valid(np.array([r.p_value_control for r in null_results]))
    assert np.mean([r.flagged(0.05) for r in null_results]) <= 0.01  # Holm across sites


@pytest.mark.slow
def test_randomised_p_values_are_uniform(null_results: list[SiteResult]) -> None:
    whole = [r.randomized_p_value for r in null_results]
    after = [r.randomized_p_value_after for r in null_results if r.notified_at is not None]
    assert stats.kstest(whole, "uniform").pvalue > 0.01
    assert stats.kstest(after, "uniform").pvalue > 0.01


@pytest.mark.slow
def test_expected_counts_match_the_true_ones(city: SimulatedCity, null_results: list[SiteResult]) -> None:
    ratio = np.array([r.expected for r in null_results]) / city.true_expected
    assert 0.9 <= np.median(ratio) <= 1.1
    low, high = np.quantile(ratio, [0.05, 0.95])
    assert low >= 0.7 and high <= 1.4
    notified = np.array([r.notified_at is not None for r in null_results])
    after = np.array([r.expected_after or 0.0 for r in null_results])[notified] / city.true_expected_after[notified]
    assert 0.9 <= np.median(after) <= 1.1


@pytest.mark.slow
def test_power_against_two_planted_hits_after_notification(city: SimulatedCity) -> None:
    rng = np.random.default_rng(SEED + 2)
    targets = rng.choice(np.flatnonzero(city.sites.notified), 200, replace=False)
    incidents = plant_targeting(city, targets, rng, hits_per_site=2, uncertainty_m=100.0)
    results = analyze_sites(city.sites, incidents, rng=np.random.default_rng(SEED + 3),
                            study_area=city.study_area, projection=city.projection, bandwidth_m="cv")  # fmt: skip
    hit = [results[k] for k in targets]
    low = [r for r in hit if r.expected_after is not None and r.expected_after <= 0.1]
    assert len(low) >= 50
    power = np.mean([r.p_value_after is not None and r.p_value_after <= 0.05 for r in low])
    assert power >= 0.85
