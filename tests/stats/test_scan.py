"""Space-time permutation scan, the separability check and the engines (in-process and dask)."""

import numpy as np
import pytest

from deconflict.stats.scan import build_scan_data, resample_task, run_resamples, scan

DAY = 86_400.0


def _city(moving: bool, seed: int = 0, n: int = 3_000):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 300 * DAY, n)
    x, y = rng.uniform(-8_000, 8_000, (2, n))
    if moving:  # after day 150 a third of the attacks fall in one district
        late = (t > 150 * DAY) & (rng.random(n) < 0.33)
        x[late], y[late] = rng.normal(4_000, 400, late.sum()), rng.normal(4_000, 400, late.sum())
    centres = np.array([[4_000.0, 4_000.0], [-4_000.0, -4_000.0], [0.0, 0.0]])
    notified = np.array([150 * DAY, 150 * DAY, np.nan])
    return build_scan_data(x, y, t, centres[:, 0], centres[:, 1], notified)


def test_separable_city_passes_the_check_and_a_moving_front_fails_it() -> None:
    calm = scan(_city(False), resamples=199, seed=1)
    shifted = scan(_city(True), resamples=199, seed=1)
    assert calm.separability_pvalue > 0.01 and calm.pvalue > 0.01  # one draw of a uniform p: not tiny
    assert shifted.separability_pvalue == pytest.approx(1 / 200) and shifted.pvalue == pytest.approx(1 / 200)
    assert shifted.unit_pvalue[0] == pytest.approx(1 / 200)  # the district that took the front
    assert shifted.unit_pvalue[1] > 0.05 and 2 not in shifted.unit_pvalue  # never notified: no window


def test_scan_and_separability_p_values_are_valid_under_the_null() -> None:
    results = [scan(_city(False, seed=s, n=400), resamples=39, seed=s) for s in range(60)]
    bound = 0.1 + 3 * np.sqrt(0.1 * 0.9 / 60)
    assert np.mean([r.pvalue <= 0.1 for r in results]) <= bound
    assert np.mean([r.separability_pvalue <= 0.1 for r in results]) <= bound


def test_resample_tasks_are_pure_functions_of_their_seed() -> None:
    data = _city(True, n=500)
    child = np.random.SeedSequence(5).spawn(1)[0]
    np.testing.assert_array_equal(resample_task(data, child, 3), resample_task(data, child, 3))
    np.testing.assert_array_equal(run_resamples(data, 7, 9, batch=2), run_resamples(data, 7, 9, batch=2))


@pytest.mark.slow
def test_dask_engine_on_a_real_two_worker_local_cluster_gives_identical_results() -> None:
    from distributed import LocalCluster

    data = _city(True, n=800)
    local = run_resamples(data, 40, 2026, engine="local", batch=10)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = run_resamples(data, 40, 2026, engine="dask", scheduler=cluster.scheduler_address, batch=10)
    np.testing.assert_array_equal(local, remote)
