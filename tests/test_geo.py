"""Projection and distance helpers: metres on the ground, never degrees."""

import numpy as np
import pytest
from shapely.geometry import Point, box

from deconflict.errors import InvalidInput
from deconflict.geo import LocalProjection, geodesic_distance_m, utm_crs_for

KYIV = (30.5234, 50.4501)


def test_geodesic_distance_matches_known_value_kyiv_to_lviv() -> None:
    d = geodesic_distance_m(30.5234, 50.4501, 24.0316, 49.8429)
    assert 466_000 < float(d) < 470_000


def test_local_projection_distances_agree_with_geodesic_within_a_city() -> None:
    rng = np.random.default_rng(0)
    lon = KYIV[0] + rng.uniform(-0.2, 0.2, 200)
    lat = KYIV[1] + rng.uniform(-0.15, 0.15, 200)
    proj = LocalProjection.from_points(lon, lat)
    x, y = proj.project(lon, lat)
    planar = np.hypot(x[1:] - x[:-1], y[1:] - y[:-1])
    geodesic = geodesic_distance_m(lon[1:], lat[1:], lon[:-1], lat[:-1])
    assert np.max(np.abs(planar - geodesic) / geodesic) < 1e-4


def test_projection_round_trips_points_and_geometries() -> None:
    proj = LocalProjection(*KYIV)
    lon, lat = proj.unproject(*proj.project([30.5, 30.6], [50.4, 50.5]))
    np.testing.assert_allclose(lon, [30.5, 30.6], atol=1e-9)
    np.testing.assert_allclose(lat, [50.4, 50.5], atol=1e-9)
    square = box(30.52, 50.45, 30.53, 50.46)
    back = proj.unproject_geometry(proj.project_geometry(square))
    assert back.symmetric_difference(square).area < 1e-12


def test_projected_buffer_has_its_area_in_square_metres() -> None:
    proj = LocalProjection(*KYIV)
    x, y = proj.project(*KYIV)
    disk = Point(float(x), float(y)).buffer(100.0, quad_segs=64)
    assert disk.area == pytest.approx(np.pi * 100.0**2, rel=1e-3)


def test_utm_zone_for_kyiv_is_36n() -> None:
    assert utm_crs_for(*KYIV).to_epsg() == 32636
    assert LocalProjection(*KYIV, kind="utm").crs.to_epsg() == 32636


def test_projection_centre_straddling_the_antimeridian_stays_near_the_data() -> None:
    proj = LocalProjection.from_points([179.9, -179.9], [0.0, 0.0])
    assert abs(abs(proj.lon0) - 180.0) < 0.01


@pytest.mark.parametrize(("lon", "lat"), [(0.0, 91.0), (181.0, 0.0), (float("nan"), 0.0)])
def test_invalid_coordinates_are_refused(lon: float, lat: float) -> None:
    with pytest.raises(InvalidInput):
        LocalProjection.from_points([lon], [lat])
