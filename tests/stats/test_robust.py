"""Attack events, cities, families, the per-state test, the exchangeable control rank."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from deconflict.errors import InvalidInput
from deconflict.geo import LocalProjection
from deconflict.match import IncidentInput, SiteInput
from deconflict.stats import analyze_sites, estimate_attack_scale, group_attacks
from deconflict.stats.events import event_scores, site_events

KYIV = (30.5234, 50.4501)
START = datetime(2025, 1, 1, tzinfo=UTC)
NOTIFIED = (datetime(2025, 7, 1, 9, tzinfo=UTC), datetime(2025, 7, 1, 12, tzinfo=UTC))
DAY = 86_400.0


def _background(rng: np.random.Generator, centre=KYIV, n: int = 3000, half: float = 8000.0, prefix: str = "b"):
    proj = LocalProjection(*centre)
    x, y = rng.uniform(-half, half, (2, n))
    lon, lat = proj.unproject(x, y)
    days = rng.uniform(0, 364, n)
    return [IncidentInput(f"{prefix}{k}", float(lat[k]), float(lon[k]), 30.0,
                          (START + timedelta(days=float(d)),) * 2, "normal") for k, d in enumerate(days)]  # fmt: skip


def _sites(rng: np.random.Generator, n: int = 12):
    proj = LocalProjection(*KYIV)
    sx, sy = rng.uniform(-6000, 6000, (2, n))
    slon, slat = proj.unproject(sx, sy)
    return [SiteInput(f"e{k}", float(slat[k]), float(slon[k]), 30.0, "embassy", "Kyiv") for k in range(n)]


def test_salvo_spread_and_window_are_estimated_from_close_pairs() -> None:
    rng = np.random.default_rng(1)
    n_att = 1500
    cx, cy = rng.uniform(-10_000, 10_000, (2, n_att))
    t = np.floor(rng.uniform(0, 300, n_att)) * DAY + 23 * 3600
    size = rng.integers(2, 7, n_att)
    att = np.repeat(np.arange(n_att), size)
    x, y = cx[att] + rng.normal(0, 120, att.size), cy[att] + rng.normal(0, 120, att.size)
    times = t[att] + rng.uniform(0, 1800, att.size)
    scale = estimate_attack_scale(x, y, times, times)
    assert scale.estimated and 150 <= scale.distance_m <= 600 and scale.window_s <= 3 * 3600
    events = group_attacks(x, y, times, times, np.zeros(x.size), scale)
    assert 0.8 * n_att <= events.n_events <= 1.2 * n_att


def test_a_salvo_on_the_site_counts_once_with_its_best_report() -> None:
    probs = np.array([0.9, 0.8, 0.7, 0.6])
    x = np.array([0.0, 20.0, 40.0, 5_000.0])
    t = np.array([0.0, 600.0, 1200.0, 10 * DAY])
    from deconflict.stats.events import AttackScale

    labels = site_events(probs, x, np.zeros(4), t, t, np.zeros(4), AttackScale(300.0, 3 * 3600.0, False))
    assert labels[0] == labels[1] == labels[2] != labels[3]
    np.testing.assert_allclose(sorted(event_scores(probs, labels)), [0.6, 0.9])


def test_duplicate_reports_of_the_targeted_hits_do_not_multiply_the_evidence() -> None:
    rng = np.random.default_rng(2)
    background = _background(rng)
    sites = [SiteInput("aze", KYIV[1], KYIV[0], 30.0, "embassy", "Kyiv", NOTIFIED), *_sites(rng)]
    hits = []
    for k, day in enumerate((230, 300)):
        t = START + timedelta(days=day)
        hits += [IncidentInput(f"h{k}{c}", KYIV[1], KYIV[0], 0.0, (t + timedelta(minutes=c), t + timedelta(minutes=c)))
                 for c in range(3)]  # each strike reported by three sources  # fmt: skip
    once = [h for h in hits if h.id.endswith("0")]
    p_once = analyze_sites(sites, background + once, rng=np.random.default_rng(0), resamples=0)[0].headline
    p_thrice = analyze_sites(sites, background + hits, rng=np.random.default_rng(0), resamples=0)[0].headline
    assert p_once.at_least == p_thrice.at_least == 2
    assert p_once.p_value is not None and p_thrice.p_value is not None
    assert p_once.p_value <= p_thrice.p_value <= 2 * p_once.p_value  # duplicates only add to the background


def test_cities_far_apart_get_their_own_backgrounds_and_a_tiny_one_is_not_tested() -> None:
    rng = np.random.default_rng(3)
    kyiv = _background(rng, n=1500, half=6000.0)
    lviv = _background(rng, centre=(24.0316, 49.8429), n=9, half=3000.0, prefix="l")
    sites = [SiteInput("kyiv-site", KYIV[1], KYIV[0], 30.0, "embassy", "Kyiv"),
             SiteInput("lviv-site", 49.8429, 24.0316, 30.0, "embassy", "Lviv")]  # fmt: skip
    kyiv_res, lviv_res = analyze_sites(sites, kyiv + lviv, rng=np.random.default_rng(0), resamples=0)
    assert kyiv_res.headline.p_value is not None and kyiv_res.bandwidth_m < 3_000
    assert lviv_res.headline.p_value is None and "minimum of 30" in " ".join(lviv_res.headline.warnings)
    assert "Not tested" in lviv_res.sentence() and not lviv_res.flagged()
    with pytest.raises(InvalidInput, match="background too small"):
        analyze_sites(sites, lviv, rng=np.random.default_rng(0))


def test_premises_of_one_owner_in_one_building_form_a_family_where_a_strike_counts_once() -> None:
    rng = np.random.default_rng(4)
    background = _background(rng)
    t = START + timedelta(days=250)
    strike = IncidentInput("hit", KYIV[1], KYIV[0], 0.0, (t, t))
    co_located = [SiteInput(name, KYIV[1], KYIV[0] + 0.00005 * k, 30.0, kind, "Kyiv", NOTIFIED, owner="AZE")
                  for k, (name, kind) in enumerate([("embassy", "embassy"), ("consulate", "consular section"),
                                                    ("centre", "cultural centre")])]  # fmt: skip
    results = analyze_sites([*co_located, *_sites(rng)], [*background, strike], rng=np.random.default_rng(0),
                            resamples=0)  # fmt: skip
    heads = {r.site_id: r.headline for r in results[:3]}
    assert all(set(h.family) == {"centre", "consulate", "embassy"} for h in heads.values())
    assert all(h.at_least == 1 and h.p_value == heads["embassy"].p_value for h in heads.values())
    assert heads["embassy"].n_tested == 13  # 12 other embassies + 1 family
    assert results[0].state is not None and results[0].state.owner == "AZE" and results[0].state.premises == 1


def test_control_rank_is_exchangeable_when_no_site_is_targeted() -> None:
    rng = np.random.default_rng(5)
    background = _background(rng, n=6000)
    sites = _sites(rng, n=40)
    ps = []
    for seed in range(6):
        results = analyze_sites(sites, background, rng=np.random.default_rng(seed), resamples=0)
        ps += [r.p_value_control for r in results if r.p_value_control is not None]
    ps_arr = np.array(ps)
    # the rank of a uniform among 39 others: P(p <= 0.1) = 4/40
    assert np.mean(ps_arr <= 0.1) <= 0.1 + 3 * np.sqrt(0.1 * 0.9 / ps_arr.size)


def test_notified_site_gets_a_local_contrast_with_placebo_dates() -> None:
    rng = np.random.default_rng(6)
    sites = [SiteInput("aze", KYIV[1], KYIV[0], 30.0, "embassy", "Kyiv", NOTIFIED), *_sites(rng)]
    r = analyze_sites(sites, _background(rng), rng=np.random.default_rng(0), resamples=0)[0]
    assert r.local is not None and len(r.local.placebo_pvalues) == 4
    assert r.local.ring_before > 0 and r.local.ring_after > 0
    doc = r.to_json()
    assert doc["p_value_local"] == r.local.pvalue and len(doc["placebo_p_values"]) == 4
