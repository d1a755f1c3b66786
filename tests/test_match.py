"""Hit probabilities and matching."""

from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from shapely.geometry import box

import deconflict.geo as geo
from deconflict.errors import InvalidInput
from deconflict.geo import LocalProjection
from deconflict.match import (
    ACLED_GEO_PRECISION_RADIUS_M,
    DEFAULT_MIN_PROBABILITY,
    NORMAL_95_SCALE,
    NORMAL_REACH_SIGMAS,
    IncidentArray,
    IncidentInput,
    SiteArray,
    SiteInput,
    hit_probability,
    match,
    match_arrays,
    polygon_hit_probability,
    site_hit_regions,
)

KYIV = (30.5234, 50.4501)
T0 = datetime(2025, 11, 14, 0, 0, tzinfo=UTC)


def _mc(d: float, r: float, u: float, model: str, n: int = 400_000) -> float:
    rng = np.random.default_rng(1)
    if model == "disk":
        rho, th = u * np.sqrt(rng.random(n)), rng.uniform(0, 2 * np.pi, n)
        ex, ey = rho * np.cos(th), rho * np.sin(th)
    else:
        ex, ey = rng.normal(0, u / NORMAL_95_SCALE, (2, n))
    return float(np.mean(np.hypot(d + ex, ey) <= r))


@pytest.mark.parametrize("model", ["disk", "normal"])
@pytest.mark.parametrize(("d", "r", "u"), [(0, 50, 100), (80, 50, 100), (140, 50, 100), (30, 200, 50)])
def test_hit_probability_agrees_with_monte_carlo(model: str, d: float, r: float, u: float) -> None:
    assert float(hit_probability(d, r, u, model)) == pytest.approx(_mc(d, r, u, model), abs=3e-3)


def test_normal_hit_probability_is_the_rice_cdf_from_scipy() -> None:
    sigma = 300 / NORMAL_95_SCALE
    expected = stats.ncx2.cdf((50 / sigma) ** 2, 2, (120 / sigma) ** 2)
    assert float(hit_probability(120, 50, 300, "normal")) == pytest.approx(expected, rel=1e-10)


def test_normal_95_percent_circle_holds_95_percent_at_the_centre() -> None:
    assert float(hit_probability(0, 400, 400, "normal")) == pytest.approx(0.95, abs=1e-12)


def test_zero_uncertainty_is_an_indicator_with_the_boundary_inside() -> None:
    np.testing.assert_array_equal(hit_probability([0, 50, 50.001], 50, 0, "normal"), [1, 1, 0])
    np.testing.assert_array_equal(hit_probability([0, 50, 50.001], 50, 0, "disk"), [1, 1, 0])


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 5000), st.floats(0, 2000), st.floats(0, 2000), st.sampled_from(["disk", "normal"]))
def test_hit_probability_is_a_probability_decreasing_in_distance(d: float, r: float, u: float, model: str) -> None:
    p = hit_probability([d, d + 10.0], r, u, model)
    assert np.all((p >= 0) & (p <= 1))
    assert p[1] <= p[0] + 1e-12


def test_disk_lens_with_almost_concentric_tiny_disks_is_not_nan() -> None:
    # 2 d r underflows to zero: the lens formula would divide 0 by 0.
    assert float(hit_probability(5e-324, 1e-5, 1e-5, "disk")) == 1.0
    assert float(hit_probability(5e-324, 1e-5, 2e-5, "disk")) == pytest.approx(0.25)


def test_normal_with_tiny_uncertainty_beyond_chndtr_range_is_not_nan() -> None:
    # (d / sigma)^2 ~ 6e10: scipy's chndtr returns NaN there; the Rice law is normal.
    sigma = 1e-5 / NORMAL_95_SCALE
    p = hit_probability([1.0, 1.0 - sigma, 1.0 + sigma], 1.0, 1e-5, "normal")
    np.testing.assert_allclose(p, [0.5, stats.norm.cdf(1), stats.norm.cdf(-1)], atol=1e-4)


def test_unknown_model_and_negative_values_are_refused() -> None:
    with pytest.raises(InvalidInput):
        hit_probability(1, 1, 1, "square")
    with pytest.raises(InvalidInput):
        hit_probability(-1, 1, 1, "disk")


def test_acled_precision_radii_grow_with_the_code() -> None:
    assert ACLED_GEO_PRECISION_RADIUS_M[1] < ACLED_GEO_PRECISION_RADIUS_M[2] < ACLED_GEO_PRECISION_RADIUS_M[3]


def test_polygon_probability_of_a_square_matches_monte_carlo() -> None:
    square = box(-50, -50, 50, 50)
    for model in ("disk", "normal"):
        got = float(polygon_hit_probability(square, [60.0], [0.0], [80.0], model)[0])
        rng = np.random.default_rng(3)
        if model == "disk":
            rho, th = 80 * np.sqrt(rng.random(400_000)), rng.uniform(0, 2 * np.pi, 400_000)
            ex, ey = rho * np.cos(th), rho * np.sin(th)
        else:
            ex, ey = rng.normal(0, 80 / NORMAL_95_SCALE, (2, 400_000))
        mc = float(np.mean((np.abs(60 + ex) <= 50) & (np.abs(ey) <= 50)))
        assert got == pytest.approx(mc, abs=5e-3)


def test_match_finds_the_embassy_hit_and_ignores_distant_or_discounted_reports() -> None:
    proj = LocalProjection(*KYIV)
    lon, lat = proj.unproject([0.0, 30.0, 5000.0, 10.0], [0.0, 0.0, 0.0, 0.0])
    site = SiteInput("aze-embassy", lat=KYIV[1], lon=KYIV[0], radius_m=50.0)
    incidents = [
        IncidentInput("near", float(lat[1]), float(lon[1]), 20.0, (T0, T0)),
        IncidentInput("far", float(lat[2]), float(lon[2]), 100.0, (T0, T0)),
        IncidentInput("vague", float(lat[3]), float(lon[3]), 2000.0, (T0, T0), "normal"),
    ]
    found = {m.incident_id: m for m in match([site], incidents)}
    assert set(found) == {"near", "vague"}
    assert found["near"].probability == pytest.approx(1.0)
    assert found["near"].distance_m == pytest.approx(30.0, abs=0.01)
    assert found["vague"].probability < 0.01


def test_match_arrays_equals_brute_force_on_random_data() -> None:
    rng = np.random.default_rng(7)
    proj = LocalProjection(*KYIV)
    sx, sy = rng.uniform(-3000, 3000, (2, 300))
    ix, iy = rng.uniform(-3000, 3000, (2, 2000))
    unc = rng.choice([0.0, 50.0, 200.0, 500.0], 2000)
    model = rng.choice(np.array(["disk", "normal"], object), 2000)
    radius = rng.choice([25.0, 75.0], 300)
    sites = SiteArray.from_arrays(*proj.unproject(sx, sy), radius)
    inc = IncidentArray.from_arrays(*proj.unproject(ix, iy), unc, np.zeros(2000), model=model)
    table = match_arrays(sites, inc, projection=proj, min_probability=1e-6)
    d = np.hypot(sx[:, None] - ix[None, :], sy[:, None] - iy[None, :])
    p = hit_probability(d, radius[:, None], unc[None, :], model[None, :])
    s_idx, i_idx = np.nonzero(p >= 1e-6)
    got = set(zip(table.site_index.tolist(), table.incident_index.tolist(), strict=True))
    want = set(zip(s_idx.tolist(), i_idx.tolist(), strict=True))
    # Normal tails beyond 5 sigma are truncated on purpose; they carry < 4e-6.
    assert got <= want
    assert all(p[s, i] < 4e-6 for s, i in want - got)
    np.testing.assert_allclose(table.probability, p[table.site_index, table.incident_index], rtol=1e-6)


def test_footprint_site_uses_the_polygon() -> None:
    proj = LocalProjection(*KYIV)
    footprint = proj.unproject_geometry(box(-100, -10, 100, 10))
    site = SiteArray.from_arrays([KYIV[0]], [KYIV[1]], 0.0, footprints=[footprint])
    lon, lat = proj.unproject([90.0, 0.0], [0.0, 50.0])
    inc = IncidentArray.from_arrays(lon, lat, 0.0, [0.0, 0.0])
    table = match_arrays(site, inc, projection=proj)
    assert table.incident_index.tolist() == [0]


def test_discounted_and_unverified_incidents_are_not_counted() -> None:
    inc = IncidentArray.from_arrays([30.0] * 3, [50.0] * 3, 10.0, [0.0] * 3,
                                    confidence=np.array(["weak", "discounted", "confirmed"], object),
                                    status=np.array([None, None, "unverified"], object))  # fmt: skip
    assert inc.counted.tolist() == [True, False, False]


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(InvalidInput):
        IncidentArray.from_records([IncidentInput("x", 50.0, 30.0, 10.0, (datetime(2025, 1, 1), datetime(2025, 1, 2)))])


def _brute_force(sites: SiteArray, inc: IncidentArray, proj: LocalProjection, counted_only: bool = False) -> dict:
    """Every pair within its exact reach, and its probability, one (site, incident) at a time."""
    fwd = proj._forward  # one plain PROJ call, no chunking
    sx, sy = (np.asarray(v) for v in fwd.transform(sites.lon, sites.lat))
    ix, iy = (np.asarray(v) for v in fwd.transform(inc.lon, inc.lat))
    regions, s_reach = site_hit_regions(sites, proj)
    i_reach = np.where(inc.normal, inc.uncertainty_m * NORMAL_REACH_SIGMAS / NORMAL_95_SCALE, inc.uncertainty_m)
    dx, dy = sx[:, None] - ix[None, :], sy[:, None] - iy[None, :]
    d = np.sqrt(dx * dx + dy * dy)
    ok = d <= s_reach[:, None] + i_reach[None, :]
    if counted_only:
        ok &= inc.counted[None, :]
    out = {}
    for s_k, i_k in zip(*np.nonzero(ok), strict=True):
        region = regions[s_k]
        if region is None:
            p = hit_probability(d[s_k, i_k], sites.radius_m[s_k], inc.uncertainty_m[i_k], bool(inc.normal[i_k]))
        else:
            model = "normal" if inc.normal[i_k] else "disk"
            p = polygon_hit_probability(region, [ix[i_k]], [iy[i_k]], [inc.uncertainty_m[i_k]], model)[0]
        out[int(s_k), int(i_k)] = (float(d[s_k, i_k]), float(p))
    return out


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_fast_path_gives_exactly_the_brute_force_pairs_and_probabilities(
    workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small chunks so that these few thousand points are projected in several threads.
    monkeypatch.setattr(geo, "_PARALLEL_MIN_POINTS", 97)
    rng = np.random.default_rng(11)
    proj = LocalProjection(*KYIV)
    n_s, n_i = 400, 3000
    sx, sy = rng.uniform(-2500, 2500, (2, n_s))
    # Many distinct radii (the quantile binning path), zero radii, and a few footprints.
    radius = np.round(
        rng.choice([0.0, 25.0, 50.0, 75.0, 120.0], n_s) + rng.uniform(0, 3, n_s) * (rng.random(n_s) < 0.5), 1
    )
    unc = rng.choice([0.0, 1e-12, 25.0, 50.0, 200.0, 500.0], n_i) + rng.choice([0.0, 7.5], n_i)
    model = rng.choice(np.array(["disk", "normal"], object), n_i)
    ix, iy = rng.uniform(-3000, 3000, (2, n_i))
    # Incidents placed at exactly their reach from a site, and exactly on a site.
    k = rng.integers(0, n_s, 300)
    reach = np.where(model[:300] == "normal", unc[:300] * NORMAL_REACH_SIGMAS / NORMAL_95_SCALE, unc[:300])
    ang = rng.uniform(0, 2 * np.pi, 300)
    ix[:300], iy[:300] = sx[k] + (radius[k] + reach) * np.cos(ang), sy[k] + (radius[k] + reach) * np.sin(ang)
    ix[300:330], iy[300:330] = sx[:30], sy[:30]
    footprints: list = [None] * n_s
    for f in range(0, n_s, 50):
        footprints[f] = proj.unproject_geometry(box(sx[f] - 60, sy[f] - 15, sx[f] + 60, sy[f] + 15))
    sites = SiteArray.from_arrays(*proj.unproject(sx, sy, workers=1), radius, footprints=footprints)
    status = rng.choice(np.array([None, "unverified"], object), n_i, p=[0.8, 0.2])
    inc = IncidentArray.from_arrays(*proj.unproject(ix, iy, workers=1), unc, np.zeros(n_i), model=model, status=status)
    for counted_only in (False, True):
        want = _brute_force(sites, inc, proj, counted_only)
        table = match_arrays(
            sites, inc, projection=proj, min_probability=0.0, counted_only=counted_only, workers=workers
        )
        assert np.all(np.diff(table.site_index) >= 0)  # grouped by site
        got = {
            (int(a), int(b)): (float(d), float(p))
            for a, b, d, p in zip(
                table.site_index, table.incident_index, table.distance_m, table.probability, strict=True
            )
        }
        assert len(got) == len(table)  # no pair twice
        assert got == want  # same pairs, bit-identical distances and probabilities
        # The default cut-off only drops pairs below it.
        cut = match_arrays(sites, inc, projection=proj, counted_only=counted_only, workers=workers)
        kept = set(zip(cut.site_index.tolist(), cut.incident_index.tolist(), strict=True))
        assert kept == {key for key, (_, p) in want.items() if p >= DEFAULT_MIN_PROBABILITY}
    assert sum(1 for (a, b) in want if b < 300) > 150  # the boundary cases are in play
    single = match_arrays(sites, inc, projection=proj, min_probability=0.0, workers=1)
    table = match_arrays(sites, inc, projection=proj, min_probability=0.0, workers=workers)
    for col in ("site_index", "incident_index", "distance_m", "probability"):  # same order too
        np.testing.assert_array_equal(getattr(table, col), getattr(single, col))


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_chunked_in_place_projection_equals_one_proj_call(workers: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(geo, "_PARALLEL_MIN_POINTS", 10)
    proj = LocalProjection(*KYIV)
    rng = np.random.default_rng(5)
    lon = KYIV[0] + rng.uniform(-0.5, 0.5, (7, 13))
    lat = KYIV[1] + rng.uniform(-0.5, 0.5, (7, 13))
    lon_f = np.asfortranarray(lon)[:, ::2]  # non-contiguous, strided view
    lat_f = np.asfortranarray(lat)[:, ::2]
    before = lon_f.copy(), lat_f.copy()
    x, y = proj.project(lon_f, lat_f, workers=workers)
    ex, ey = proj._forward.transform(np.ascontiguousarray(lon_f), np.ascontiguousarray(lat_f))
    assert x.shape == lon_f.shape and x.dtype == np.float64
    np.testing.assert_array_equal(x, ex)
    np.testing.assert_array_equal(y, ey)
    np.testing.assert_array_equal(lon_f, before[0])  # the caller's arrays are never written
    np.testing.assert_array_equal(lat_f, before[1])
    lo, la = proj.unproject(x, y, workers=workers)
    np.testing.assert_allclose(lo, lon_f, atol=1e-9)
    np.testing.assert_allclose(la, lat_f, atol=1e-9)
    # Scalars, integers, lists and empty arrays keep their shapes.
    sx, sy = proj.project(30, 50, workers=workers)
    assert sx.shape == sy.shape == ()
    assert (float(sx), float(sy)) == proj._forward.transform(30.0, 50.0)
    assert proj.project([30.5], [50.4], workers=workers)[0].shape == (1,)
    assert proj.project(np.zeros((2, 0)), np.zeros((2, 0)), workers=workers)[0].shape == (2, 0)
    with pytest.raises(InvalidInput):
        proj.unproject([0.0, 1.0], [0.0])


def test_a_subnormal_distance_gives_the_zero_distance_probability() -> None:
    """Regression: chndtr mis-evaluates subnormal noncentralities (found by hypothesis)."""
    at_zero = hit_probability([0.0], 882.0, 1526.0, "normal")[0]
    tiny = hit_probability([1.9318448483258904e-158], 882.0, 1526.0, "normal")[0]
    assert tiny == at_zero
