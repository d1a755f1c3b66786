"""Movements: routes, corridors (buffered lines, metres), windows; their hit probabilities; bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pyproj import Geod
from scipy.stats import norm

import deconflict
from deconflict.access import Principal
from deconflict.errors import InvalidInput, NotFound, VerificationError
from deconflict.geo import geodesic_densify, geodesic_distance_to_route_m
from deconflict.guarantees import Movement, Window
from deconflict.guarantees.exposure import movement_exposures
from deconflict.ledger.bundle import build_movement_bundle, verify_bundle
from deconflict.model import Incident
from deconflict.relevance import NORMAL_95_SCALE
from deconflict.times import parse_time

GEOD = Geod(ellps="WGS84")
WINDOW = Window(parse_time("2025-03-01T00:00Z").start, parse_time("2025-03-02T00:00Z").start)


def _meridian_route(lat0: float = 50.0, length_km: float = 40.0, lon: float = 30.0) -> tuple[tuple[float, float], ...]:
    north_lon, north_lat, _ = GEOD.fwd(lon, lat0, 0.0, length_km * 1000.0)
    return ((lat0, lon), (north_lat, north_lon))


def _incident_east_of(
    route: tuple[tuple[float, float], ...], offset_m: float, uncertainty_m: float, model: str = "disk"
) -> Incident:
    (lat_a, lon_a), (lat_b, lon_b) = route
    mid_lon, mid_lat = GEOD.npts(lon_a, lat_a, lon_b, lat_b, 1)[0]
    lon, lat, _ = GEOD.fwd(mid_lon, mid_lat, 90.0, offset_m)
    return Incident(
        id="i",
        time=parse_time("2025-03-01T12:00Z"),
        lat=lat,
        lon=lon,
        uncertainty_m=uncertainty_m,
        uncertainty_model=model,
    )


def _strip_fraction_disk(d: float, w: float, u: float) -> float:
    """Fraction of a disk of radius u, centred d from the axis, inside the strip |x| <= w (exact)."""

    def left_area(x: float) -> float:  # area of the disk with abscissa <= x (centred at 0)
        x = max(-u, min(u, x))
        return x * math.sqrt(u * u - x * x) + u * u * math.asin(x / u) + math.pi * u * u / 2

    return (left_area(w - d) - left_area(-w - d)) / (math.pi * u * u)


@pytest.mark.parametrize("offset_m,uncertainty_m", [(0.0, 300.0), (120.0, 300.0), (180.0, 100.0), (0.0, 40.0)])
def test_corridor_probability_of_a_disk_is_the_exact_strip_fraction(offset_m: float, uncertainty_m: float) -> None:
    route = _meridian_route()
    movement = Movement(id="m", owner="XUN", route=route, width_m=200.0, window=WINDOW)
    incident = _incident_east_of(route, offset_m, uncertainty_m)
    (exposure,) = movement_exposures(movement, [incident]) or [None]
    expected = _strip_fraction_disk(offset_m, 100.0, uncertainty_m)
    assert exposure is not None
    assert exposure.spatial_probability == pytest.approx(expected, abs=2e-3)
    assert exposure.distance_m == pytest.approx(offset_m, abs=0.05)


@pytest.mark.parametrize("offset_m", [0.0, 150.0, 400.0])
def test_corridor_probability_of_a_normal_error_is_the_gaussian_strip_mass(offset_m: float) -> None:
    route = _meridian_route()
    movement = Movement(id="m", owner="XUN", route=route, width_m=200.0, window=WINDOW)
    incident = _incident_east_of(route, offset_m, 300.0, "normal")
    sigma = 300.0 / NORMAL_95_SCALE
    expected = norm.cdf((100.0 - offset_m) / sigma) - norm.cdf((-100.0 - offset_m) / sigma)
    found = movement_exposures(movement, [incident])
    assert found and found[0].spatial_probability == pytest.approx(expected, abs=5e-3)


def test_a_long_route_far_from_its_middle_gives_the_same_probability_as_a_short_one() -> None:
    short = _meridian_route(lat0=60.0, length_km=20.0)
    long_route = ((55.0, 30.0), (60.0 + (short[1][0] - 60.0) / 2, 30.0), (64.0, 30.0))
    incident = _incident_east_of(short, 150.0, 300.0)
    near = movement_exposures(Movement(id="a", owner="XUN", route=short, width_m=200.0, window=WINDOW), [incident])
    far = movement_exposures(Movement(id="b", owner="XUN", route=long_route, width_m=200.0, window=WINDOW), [incident])
    assert near[0].spatial_probability == pytest.approx(far[0].spatial_probability, abs=1e-3)
    assert near[0].distance_m == pytest.approx(far[0].distance_m, abs=0.5)


def test_distance_to_a_route_is_geodesic() -> None:
    route = np.array([[30.0, 50.0], [31.5, 50.8], [32.0, 52.0]])
    vertices = geodesic_densify(route[:, 0], route[:, 1])
    rng = np.random.default_rng(1)
    lon = rng.uniform(30.0, 32.0, 5)
    lat = rng.uniform(50.0, 52.0, 5)
    found = geodesic_distance_to_route_m(vertices, lon, lat)
    fine = geodesic_densify(route[:, 0], route[:, 1], max_segment_m=20.0)
    for k in range(lon.size):
        _, _, brute = GEOD.inv(np.full(len(fine), lon[k]), np.full(len(fine), lat[k]), fine[:, 0], fine[:, 1])
        assert found[k] == pytest.approx(float(np.min(brute)), abs=1.0)


def test_an_incident_outside_the_window_or_the_reach_does_not_concern_a_movement() -> None:
    route = _meridian_route()
    movement = Movement(id="m", owner="XUN", route=route, width_m=200.0, window=WINDOW)
    inside = _incident_east_of(route, 50.0, 0.0)
    late = Incident(id="late", time=parse_time("2025-03-05T12:00Z"), lat=inside.lat, lon=inside.lon)
    wide = _incident_east_of(route, 2_000.0, 500.0)
    found = {e.incident.id for e in movement_exposures(movement, [inside, late, wide])}
    assert found == {"i"}


@pytest.mark.parametrize(
    "changes,where",
    [
        ({"route": "50.40,30.40"}, "route"),
        ({"route": "50.40,30.40; 50.40,30.40"}, "route"),
        ({"width_m": 0}, "width_m"),
        ({"width_m": -5}, "width_m"),
        ({"until": "2025-02-27"}, "until"),
        ({"route": "50.40,30.40; 50.45,30.52; 50.40,30.52; 50.45,30.40"}, "route"),
        ({"route": "50.40,30.40; 50.45,30.52; 50.40,30.40"}, "route"),
        ({"route": '{"type": "Point", "coordinates": [30.4, 50.4]}'}, "route"),
        ({"owner": "XX"}, "owner"),
    ],
)
def test_bad_movements_are_refused_naming_the_field_and_nothing_is_written(
    db: deconflict.Database, changes: dict[str, object], where: str
) -> None:
    fields: dict[str, object] = {
        "owner": "XUN",
        "route": "50.40,30.40; 50.45,30.52",
        "width_m": 100,
        "start": "2025-03-01",
        "until": "2025-03-02",
    }
    fields.update(changes)
    size = db.ledger.size
    with pytest.raises(InvalidInput) as caught:
        db.movements.create(**fields)  # type: ignore[arg-type]
    assert caught.value.where == where
    assert db.ledger.size == size and db.movements.list() == []


def test_a_movement_is_committed_to_the_log_and_re_imports_unchanged(db: deconflict.Database, tmp_path: object) -> None:
    movement, index = db.movements.create(
        owner="XUN",
        route="50.40,30.40; 50.45,30.52; 50.50,30.60",
        width_m=250,
        start="2025-03-01T06:00",
        until="2025-03-01T18:00",
        name="Convoy 7",
        organisation="WFP",
        vehicles="12 white trucks, UN markings",
        id="c7",
    )
    entry = db.ledger.entry(index)
    assert entry.kind == "movement_committed" and b"30.52" not in entry.data  # the route stays private
    assert db.movements.get("c7") == movement
    exported = {format: db.movements.export(format) for format in ("csv", "geojson")}
    for format, new_id in (("csv", "c8"), ("geojson", "c9")):
        path = tmp_path / f"m.{format}"  # type: ignore[operator]
        path.write_text(exported[format].replace("c7", new_id))
        ((copy, _),) = db.movements.import_file(path)
        assert copy == Movement(**{**{f: getattr(movement, f) for f in Movement.__slots__}, "id": new_id})
    db.ledger.verify()


def test_a_bad_row_of_a_movement_file_names_the_row_and_nothing_is_written(
    db: deconflict.Database, tmp_path: object
) -> None:
    path = tmp_path / "m.csv"  # type: ignore[operator]
    path.write_text(
        "id,owner,route,width_m,from,until\n"
        "a,XUN,50.40 30.40; 50.45 30.52,100,2025-03-01,2025-03-02\n"
        "b,XUN,50.40 30.40; 50.45 30.52,0,2025-03-01,2025-03-02\n"
    )
    with pytest.raises(InvalidInput) as caught:
        db.movements.import_file(path)
    assert "row 3" in str(caught.value) and "width_m" in str(caught.value)
    assert db.movements.list() == []


def test_a_movement_is_seen_only_by_its_owner_and_admins(db: deconflict.Database) -> None:
    db.movements.create(
        owner="XUN", route="50.40,30.40; 50.45,30.52", width_m=100, start="2025-03-01", until="2025-03-02", id="m1"
    )
    owner = Principal("t1", frozenset({"owner:XUN"}))
    other = Principal("t2", frozenset({"owner:AZE"}))
    analyst = Principal("t3", frozenset({"analyst"}))
    assert [m.id for m in db.movements.list(principal=owner)] == ["m1"]
    assert db.movements.list(principal=other) == [] and db.movements.list(principal=analyst) == []
    with pytest.raises(NotFound):
        db.movements.get("m1", principal=other)


def test_a_movement_bundle_verifies_offline_and_any_altered_byte_fails(db: deconflict.Database) -> None:
    db.movements.create(
        owner="XUN",
        route="50.40,30.40; 50.45,30.52",
        width_m=300,
        start="2025-03-01",
        until="2025-03-02",
        id="m1",
        provenance="synthetic",
    )
    db.notifications.notify([], movement_ids=["m1"], to="RUS", at="2025-02-25")
    db.commitments.add(party="RUS", movements=["m1"], made_at="2025-02-26", deadline="2025-02-28")
    db.incidents.add_rows([{"id": "hit", "time": "2025-03-01T10:00", "lat": 50.45, "lon": 30.52, "uncertainty_m": 20}])
    data = build_movement_bundle(db.ledger, "m1")
    report = verify_bundle(data, db.ledger.verifier_key)
    assert report.subject_kind == "movement" and report.site_id == "m1"
    text = " ".join(report.statements)
    assert "SYNTHETIC" in text and "RUS undertook" in text and "alert alr-" in text and "notified to RUS" in text
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    files["movement.json"] = files["movement.json"].replace(b"300.0", b"900.0")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    with pytest.raises(VerificationError):
        verify_bundle(buffer.getvalue(), db.ledger.verifier_key)
