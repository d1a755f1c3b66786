"""analyze_sites end to end on a small city, its JSON and its sentence."""

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from deconflict.geo import LocalProjection
from deconflict.match import IncidentInput, SiteInput
from deconflict.stats import SiteResult, analyze_sites, sensitivity_grid

KYIV = (30.5234, 50.4501)
START = datetime(2025, 1, 1, tzinfo=UTC)
NOTIFIED = (datetime(2025, 7, 1, 9, tzinfo=UTC), datetime(2025, 7, 1, 12, tzinfo=UTC))
JSON_KEYS = {"site_id", "observed", "expected", "p_value", "notified_at", "observed_after", "expected_after",
             "p_value_after", "rate_ratio", "p_value_change", "p_value_control", "p_adjusted"}  # fmt: skip


def _city(targeted: bool) -> tuple[list[SiteInput], list[IncidentInput]]:
    rng = np.random.default_rng(5)
    proj = LocalProjection(*KYIV)
    x, y = rng.uniform(-8000, 8000, (2, 3000))
    lon, lat = proj.unproject(x, y)
    days = rng.uniform(0, 364, 3000)
    incidents = [
        IncidentInput(f"i{k}", float(lat[k]), float(lon[k]), 50.0, (START + timedelta(days=float(d)),) * 2, "normal")
        for k, d in enumerate(days)
    ]
    if targeted:  # two hits on the embassy after notification, one before
        for k, day in enumerate((100, 200, 300)):
            t = START + timedelta(days=day)
            incidents.append(IncidentInput(f"hit{k}", KYIV[1], KYIV[0], 0.0, (t, t)))
    sx, sy = rng.uniform(-6000, 6000, (2, 12))
    slon, slat = proj.unproject(sx, sy)
    sites = [SiteInput("aze-embassy", KYIV[1], KYIV[0], 30.0, "embassy", "Kyiv", NOTIFIED)]
    sites += [SiteInput(f"e{k}", float(slat[k]), float(slon[k]), 30.0, "embassy", "Kyiv") for k in range(12)]
    return sites, incidents


@pytest.fixture(scope="module")
def targeted() -> list[SiteResult]:
    sites, incidents = _city(True)
    return analyze_sites(sites, incidents, rng=np.random.default_rng(0))


def test_targeted_embassy_is_flagged_with_a_small_after_notification_p_value(targeted: list[SiteResult]) -> None:
    r = targeted[0]
    assert r.site_id == "aze-embassy"
    assert r.observed == pytest.approx(3.0, abs=0.2)
    assert r.observed_after == pytest.approx(2.0, abs=0.1)
    assert r.expected_after is not None and r.expected_after < r.expected < 0.2
    assert r.p_value_after is not None and r.p_value_after < 1e-3
    assert r.flagged(0.05)
    assert r.p_value_control is not None and r.p_value_control <= 1 / 13 + 1e-12


def test_json_has_the_contract_keys_and_is_strict_json(targeted: list[SiteResult]) -> None:
    for r in targeted:
        doc = r.to_json()
        assert set(doc) >= JSON_KEYS
        json.dumps(doc, allow_nan=False)
    assert targeted[0].to_json()["notified_at"] == "2025-07-01T12:00:00Z"
    assert targeted[1].to_json()["notified_at"] is None
    assert targeted[1].to_json()["p_value_after"] is None


def test_sentence_gives_the_adjusted_figure_first_then_at_least_n_hits_odds_and_other_causes(
    targeted: list[SiteResult],
) -> None:
    text = targeted[0].sentence()
    assert text.startswith("Adjusted for the 13 sites (or families of premises) tested, p = ")
    assert "At least 2 attacks hit after notification where " in text
    assert "of the order of 1 in 10^" in text and "nearby in Kyiv" in text
    assert "times higher to explain it" in text and "Other explanations than intent:" in text


def test_headline_object_is_in_the_json_with_its_documented_keys(targeted: list[SiteResult]) -> None:
    head = targeted[0].to_json()["headline"]
    assert set(head) >= {"p_value", "adjusted", "method", "range", "tipping_point", "at_least", "expected"}
    assert head["p_value"] < 1e-3 and head["adjusted"] >= head["p_value"]
    assert head["tipping_point"] > 1 and head["period"] == "after notification"


def test_every_result_lists_its_assumptions(targeted: list[SiteResult]) -> None:
    assert all(len(r.assumptions) >= 5 for r in targeted)


def test_untargeted_city_flags_nothing() -> None:
    sites, incidents = _city(False)
    results = analyze_sites(sites, incidents, rng=np.random.default_rng(0))
    assert not any(r.flagged(0.05) for r in results)


def test_discounted_reports_do_not_count() -> None:
    sites, incidents = _city(True)
    incidents = [i if not i.id.startswith("hit") else IncidentInput(i.id, i.lat, i.lon, i.uncertainty_m, i.time,
                 confidence="discounted") for i in incidents]  # fmt: skip
    r = analyze_sites(sites, incidents, rng=np.random.default_rng(0))[0]
    assert r.observed < 0.5


def test_sensitivity_grid_covers_every_combination() -> None:
    sites, incidents = _city(True)
    cells = sensitivity_grid(sites[:2], incidents, rng=np.random.default_rng(0), bandwidth_factors=(0.5, 1.0),
                             radius_factors=(1.0, 2.0))  # fmt: skip
    assert len(cells) == 2 * 2 * 2
    embassy = [c for c in cells if c.site_id == "aze-embassy"]
    assert {c.radius_m for c in embassy} == {30.0, 60.0}
    assert all(c.p_value_after is not None and c.p_value_after < 0.01 for c in embassy)


@pytest.mark.slow
def test_analysis_on_a_real_two_worker_dask_cluster_equals_the_in_process_one_and_reports_progress() -> None:
    from distributed import LocalCluster

    sites, incidents = _city(True)
    heard: list[tuple[str, int, int | None]] = []
    local = analyze_sites(sites, incidents, rng=np.random.default_rng(7), resamples=30)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1") as cluster:  # fmt: skip
        from deconflict.stats import analyze_study, prepare_study
        from deconflict.stats.sites import _as_arrays

        rng = np.random.default_rng(7)
        study = prepare_study(*_as_arrays(sites, incidents), rng=rng)
        remote = analyze_study(study, rng=rng, resamples=30, engine="dask", scheduler=cluster.scheduler_address,
                               progress=lambda phase, done, total: heard.append((phase, done, total)))  # fmt: skip
    assert [json.dumps(r.to_json(), sort_keys=True) for r in local] == [
        json.dumps(r.to_json(), sort_keys=True) for r in remote
    ]
    assert local[0].scan is not None and local[0].scan.resamples == 30
    phases = [p for p, _, _ in heard]
    assert phases[0] == "statistics" and "resampling" in phases
    assert ("statistics", 13, 13) in heard and ("resampling", 30, 30) in heard
    assert all(done <= (total or done) for _, done, total in heard)
