"""Hit probabilities and matching."""

from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from shapely.geometry import box

from deconflict.errors import InvalidInput
from deconflict.geo import LocalProjection
from deconflict.match import (
    ACLED_GEO_PRECISION_RADIUS_M,
    NORMAL_95_SCALE,
    IncidentArray,
    IncidentInput,
    SiteArray,
    SiteInput,
    hit_probability,
    match,
    match_arrays,
    polygon_hit_probability,
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
