"""The hole fraction of the soft leave-site-out: the interpolant used for footprints matches the exact sum."""

import numpy as np
import pytest

from deconflict.stats.exposure import hole_fraction, hole_fraction_interpolant


@pytest.mark.parametrize("radius_m", [15.0, 75.0, 400.0])
def test_hole_fraction_interpolant_matches_the_exact_sum_to_1e_9(radius_m: float) -> None:
    rng = np.random.default_rng(4)
    groups = [(0.0, "disk"), (50.0, "disk"), (500.0, "disk"), (30.0, "normal"), (2_000.0, "normal")]
    shares = rng.dirichlet(np.ones(len(groups)))
    hs = 600.0 * 3.0 ** (np.arange(-8, 5) / 4)
    mix = rng.dirichlet(np.ones(hs.size))
    d = np.concatenate([rng.uniform(0, 3_000, 5_000), [0.0, radius_m, 3_000.0, 9_000.0]])  # 9 km: beyond the table
    exact = hole_fraction(d, radius_m, hs, groups, shares, mix)
    approx = hole_fraction_interpolant(3_000.0, radius_m, hs, groups, shares, mix)(d)
    assert np.max(np.abs(approx - exact)) < 1e-9
    assert np.all(np.abs(approx - exact) <= 1e-8 * exact + 1e-15)
