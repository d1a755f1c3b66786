"""Background intensity and site exposure."""

import numpy as np
import pytest
from shapely.geometry import box

from deconflict.errors import InvalidInput
from deconflict.stats import (
    after_fraction,
    bandwidth_rule,
    fit_background,
    hit_integrals,
    site_exposure,
    strikes_per_period,
)
from deconflict.stats.exposure import radial_table, soft_exposure

AREA = box(-10_000, -10_000, 10_000, 10_000)
N = 40_000
LAM = N / AREA.area


@pytest.fixture(scope="module")
def uniform_points() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)
    return rng.uniform(-10_000, 10_000, N), rng.uniform(-10_000, 10_000, N)


def test_binned_kde_matches_the_exact_gaussian_sum(uniform_points: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = uniform_points
    bg = fit_background(x[:5000], y[:5000], study_area=AREA, bandwidth_m=600.0, edge_correction=False, adaptive=False)
    px, py = x[:200], y[:200]
    d2 = (px[:, None] - x[None, :5000]) ** 2 + (py[:, None] - y[None, :5000]) ** 2
    exact = np.exp(-0.5 * d2 / 600.0**2).sum(axis=1) / (2 * np.pi * 600.0**2)
    assert np.max(np.abs(bg.kernel_sum(px, py) / exact - 1)) < 0.02


def test_edge_correction_removes_the_boundary_deficit(uniform_points: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = uniform_points
    corrected = fit_background(x, y, study_area=AREA, bandwidth_m=500.0)
    raw = fit_background(x, y, study_area=AREA, bandwidth_m=500.0, edge_correction=False, adaptive=False)
    edge_x, edge_y = np.full(50, 9_990.0), np.linspace(-5000, 5000, 50)
    assert np.mean(raw.intensity(edge_x, edge_y)) / LAM == pytest.approx(0.5, abs=0.08)
    assert np.mean(corrected.intensity(edge_x, edge_y)) / LAM == pytest.approx(1.0, abs=0.08)


def _soft(bg, cx: float, cy: float, own: np.ndarray, probs: np.ndarray, radius: float = 60.0) -> float:
    groups = [(0.0, "disk")]
    table = radial_table(radius, groups, bg.cell_m)
    exp = soft_exposure(bg, cx, cy, radius_m=radius, groups=groups, shares=np.ones(1), table=table,
                        own_points=own, own_probabilities=probs)  # fmt: skip
    return float(exp.expected[0])


def _own(bg, cx: float, cy: float, radius: float = 60.0) -> tuple[np.ndarray, np.ndarray]:
    d = np.hypot(bg.points[:, 0] - cx, bg.points[:, 1] - cy)
    own = np.flatnonzero(d <= radius)
    return own, np.ones(own.size)


def test_soft_leave_site_out_is_unbiased_when_nothing_is_targeted(
    uniform_points: tuple[np.ndarray, np.ndarray],
) -> None:
    x, y = uniform_points
    bg = fit_background(x, y, study_area=AREA, bandwidth_m=500.0)
    rng = np.random.default_rng(0)
    centres = rng.uniform(-8000, 8000, (200, 2))
    vals = [_soft(bg, cx, cy, *_own(bg, cx, cy)) for cx, cy in centres]
    assert np.mean(vals) / (LAM * np.pi * 60.0**2) == pytest.approx(1.0, abs=0.05)


def test_soft_leave_site_out_ignores_a_cluster_of_hits_on_the_site(
    uniform_points: tuple[np.ndarray, np.ndarray],
) -> None:
    x, y = uniform_points
    xx, yy = np.concatenate([x, np.full(300, 1000.0)]), np.concatenate([y, np.full(300, 1000.0)])
    truth = LAM * np.pi * 60.0**2
    fixed = fit_background(xx, yy, study_area=AREA, bandwidth_m=500.0, adaptive=False)
    assert float(fixed.intensity(np.array([1000.0]), np.array([1000.0]))[0]) * np.pi * 60.0**2 > 2.5 * truth
    assert _soft(fixed, 1000.0, 1000.0, *_own(fixed, 1000.0, 1000.0)) / truth == pytest.approx(1.0, abs=0.15)
    # Adaptive: the cluster still shrinks its neighbours' kernels (pilot density), which leaves
    # a conservative excess, far below the cluster's own weight.
    adaptive = fit_background(xx, yy, study_area=AREA, bandwidth_m=500.0)
    assert 0.9 < _soft(adaptive, 1000.0, 1000.0, *_own(adaptive, 1000.0, 1000.0)) / truth < 1.5


def test_a_compact_hot_spot_next_to_the_site_stays_in_its_background() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-10_000, 10_000, (2, 20_000))
    hx, hy = rng.normal(300.0, 50.0, 400), rng.normal(0.0, 50.0, 400)  # a target hit 400 times, 300 m away
    bg = fit_background(np.concatenate([x, hx]), np.concatenate([y, hy]), study_area=AREA, bandwidth_m="cv")
    site = _soft(bg, 150.0, 0.0, *_own(bg, 150.0, 0.0))  # half-way: 3 sd from the spot's centre
    background_only = 20_000 / AREA.area * np.pi * 60.0**2
    spot = 400 * np.exp(-0.5 * 9.0) / (2 * np.pi * 50.0**2) * np.pi * 60.0**2
    assert site >= 0.8 * (background_only + spot)


@pytest.mark.parametrize("group", [(0.0, "disk"), (150.0, "disk"), (300.0, "normal"), (40.0, "normal")])
def test_expected_hits_under_uniform_background_are_intensity_times_area(
    uniform_points: tuple[np.ndarray, np.ndarray], group: tuple[float, str]
) -> None:
    # Convolution with the location error preserves mass: expected = lambda * pi * r^2
    # whatever the uncertainty, which pins down the quadrature.
    x, y = uniform_points
    bg = fit_background(x, y, study_area=AREA, bandwidth_m=800.0)
    vals = [hit_integrals(bg, cx, cy, radius_m=60.0, groups=[group])[0] / (LAM * np.pi * 60.0**2)
            for cx, cy in [(0, 0), (3000, -2000), (-4000, 4000), (1000, 5000)]]  # fmt: skip
    assert np.mean(vals) == pytest.approx(1.0, abs=0.06)


def test_footprint_exposure_agrees_with_the_equivalent_disk(uniform_points: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = uniform_points
    bg = fit_background(x, y, study_area=AREA, bandwidth_m=800.0)
    square = box(-50, -50, 50, 50)
    for group in [(0.0, "disk"), (100.0, "disk"), (200.0, "normal")]:
        region = site_exposure(bg, 0.0, 0.0, radius_m=0.0, groups=[group], region=square)
        assert region.expected[0] == pytest.approx(LAM * square.area, rel=0.08)
        levels = np.arange(region.score_measure.shape[1]) / (region.score_measure.shape[1] - 1)
        assert levels @ region.score_measure[0] == pytest.approx(region.expected[0], rel=1e-6)


def test_score_measure_has_the_expected_mean(uniform_points: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = uniform_points
    bg = fit_background(x, y, study_area=AREA, bandwidth_m=800.0)
    exp = site_exposure(bg, 0.0, 0.0, radius_m=60.0, groups=[(0.0, "disk"), (150.0, "normal")])
    levels = np.arange(exp.score_measure.shape[1]) / (exp.score_measure.shape[1] - 1)
    np.testing.assert_allclose(exp.score_measure @ levels, exp.expected, rtol=0.01)
    # certain hits put all their mass on score 1
    assert exp.score_measure[0, -1] == pytest.approx(exp.expected[0])


def test_scott_rule_and_cross_validation() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(0, 1000, 5000), rng.normal(0, 1000, 5000)
    assert bandwidth_rule(x, y, "scott") == pytest.approx(1000 * 5000 ** (-1 / 6), rel=0.05)
    clustered_x = np.concatenate([rng.normal(-3000, 150, 2500), rng.normal(3000, 150, 2500)])
    cv = fit_background(clustered_x, y / 7, bandwidth_m="cv").bandwidth_m
    assert cv < bandwidth_rule(clustered_x, y / 7, "scott")
    with pytest.raises(InvalidInput):
        bandwidth_rule(np.zeros(3), np.zeros(3), "scott")


def test_after_fraction_splits_an_uncertain_night_uniformly() -> None:
    np.testing.assert_allclose(after_fraction([0, 10, 0], [0, 10, 100], 5.0), [0.0, 1.0, 0.95])
    assert after_fraction([5.0], [5.0], 5.0)[0] == 0.0


def test_strikes_per_period_conserves_strikes() -> None:
    day = 86_400.0
    per = strikes_per_period([0.0, day * 0.5, day * 1.75], [0.0, day * 1.5, day * 1.75])
    assert per.strikes.sum() == pytest.approx(3.0)
    np.testing.assert_allclose(per.strikes[:2], [1.5, 1.5])
