"""Which incidents concern a site: each incident's own reach, found through the spatial index."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

import deconflict
from deconflict.errors import VerificationError
from deconflict.geo import geodesic_destination
from deconflict.ledger.bundle import build_bundle, verify_bundle
from deconflict.model import Incident, Site
from deconflict.relevance import could_hit, incident_reach_boxes, incidents_concerning
from deconflict.store import IncidentQuery
from deconflict.times import parse_time

SITE = Site(id="emb", name="Embassy", kind="embassy", owner="AZE", lat=50.45, lon=30.52, radius_m=50.0)


def _at(id: str, distance_m: float, uncertainty_m: float, model: str = "disk", azimuth: float = 40.0) -> Incident:
    lon, lat = geodesic_destination(SITE.lon, SITE.lat, azimuth, distance_m)
    return Incident(id=id, time=parse_time("2025-03-01"), lat=lat, lon=lon, uncertainty_m=uncertainty_m,
                    uncertainty_model=model)  # fmt: skip


INCIDENTS = [
    _at("close", 100.0, 100.0),
    _at("wide", 30_000.0, 40_000.0),  # far, but its own reach covers the site
    _at("short", 30_000.0, 29_900.0),  # 50 m short of the site's radius
    _at("normal-in", 30_000.0, 15_000.0, "normal"),  # 5 sigma = 30.6 km
    _at("normal-out", 30_000.0, 14_000.0, "normal", azimuth=200.0),  # 5 sigma = 28.6 km
    _at("exact", 40.0, 0.0, azimuth=300.0),
    _at("city-far", 60_000.0, 20_000.0, azimuth=100.0),
]


def test_a_site_gets_exactly_the_incidents_within_their_own_reach_on_both_backends(db):
    db.sites.add(SITE)
    db.incidents.add_many(INCIDENTS)
    found = [i.id for i in incidents_concerning(db.store, SITE)]
    assert sorted(found) == sorted(i.id for i, near in zip(INCIDENTS, could_hit(SITE, INCIDENTS), strict=True) if near)
    assert sorted(found) == ["close", "exact", "normal-in", "wide"]
    # The index holds reach boxes, yet a point query still answers by the reported point.
    near = db.store.list_incidents(IncidentQuery(near=(SITE.lat, SITE.lon), within_m=200))
    assert sorted(i.id for i in near) == ["close", "exact"]


def test_the_index_prefilter_returns_few_candidates_around_a_site_among_many_wide_reports(db):
    db.sites.add(SITE)
    far = [_at(f"far{k}", 50_000.0 + 100 * k, 20_000.0, azimuth=float(k)) for k in range(200)]
    db.incidents.add_many([*far, INCIDENTS[0]])
    candidates = db.store.list_incidents(IncidentQuery(reaching=(SITE.lat, SITE.lon, SITE.radius_m)))
    assert [i.id for i in candidates] == ["close"]


def test_reach_boxes_contain_the_reach_disk_also_across_the_antimeridian_and_near_a_pole():
    rng = np.random.default_rng(4)
    lat, lon = rng.uniform(-89.5, 89.5, 400), rng.uniform(-180, 180, 400)
    lat[:3], lon[:3] = [0.0, 89.2, -10.0], [179.99, 20.0, -179.999]
    uncertainty = rng.uniform(0, 300_000, 400)
    boxes = incident_reach_boxes(lat, lon, uncertainty)
    for azimuth in range(0, 360, 15):
        edge = np.array([geodesic_destination(o, a, azimuth, u) for o, a, u in zip(lon, lat, uncertainty, strict=True)])
        assert np.all((boxes[:, 0] <= edge[:, 1]) & (edge[:, 1] <= boxes[:, 1]))
        assert np.all((boxes[:, 2] <= edge[:, 0]) & (edge[:, 0] <= boxes[:, 3]))


def test_a_database_from_before_reach_boxes_is_migrated_and_its_bundles_verify(tmp_path):
    path = tmp_path / "old.db"
    db = deconflict.init(path, key_file=tmp_path / "k.key")
    db.sites.add(SITE)
    db.notifications.notify(["emb"], to="RUS", at="2025-01-01")
    many = [_at(f"n{k}", 20.0 * k, 30.0, azimuth=float(k)) for k in range(70)]
    db.incidents.add_many([*INCIDENTS, *many])
    db.close()
    with sqlite3.connect(path) as conn:  # as migration 0007 left it: points in the R*Tree, no batch nodes
        conn.execute("DELETE FROM incidents_rtree")
        conn.execute("INSERT INTO incidents_rtree SELECT pk, lat, lat, lon, lon FROM incidents")
        conn.execute("DROP TABLE batch_nodes")
        conn.execute("DELETE FROM schema_migrations WHERE name = '0008_scale.sql'")
    with deconflict.open(path, key_file=tmp_path / "k.key") as db:
        found = sorted(i.id for i in incidents_concerning(db.store, SITE))
        assert found[:4] == ["close", "exact", "n0", "n1"] and "wide" in found and "normal-out" not in found
        db.ledger.sign_checkpoint()
        report = verify_bundle(build_bundle(db.ledger, "emb"), db.ledger.verifier_key)
    assert any(s.startswith(f"{len(found)} incident record(s)") for s in report.statements)


@pytest.mark.parametrize("count", [33, 100])
def test_bundles_of_large_batches_verify_with_stored_or_rebuilt_subtrees(db, count):
    db.sites.add(SITE)
    db.notifications.notify(["emb"], to="RUS", at="2025-01-01")
    db.incidents.add_many([_at(f"b{k:03d}", 0.5 * k, 5.0, azimuth=float(k)) for k in range(count)])
    db.ledger.sign_checkpoint()
    report = verify_bundle(build_bundle(db.ledger, "emb"), db.ledger.verifier_key)
    assert any(s.startswith(f"{count} incident record(s)") for s in report.statements)
    with db.store.transaction():
        db.store.connection.execute("DELETE FROM batch_nodes")
    report = verify_bundle(build_bundle(db.ledger, "emb"), db.ledger.verifier_key)  # as for an old batch
    assert any(s.startswith(f"{count} incident record(s)") for s in report.statements)


def backend_is_sqlite(db: deconflict.Database) -> bool:
    return isinstance(db.store.connection, sqlite3.Connection)


def test_log_verify_catches_an_altered_stored_subtree_hash(db):
    db.incidents.add_many([_at(f"b{k:03d}", 0.5 * k, 5.0, azimuth=float(k)) for k in range(40)])
    db.ledger.verify()
    sql = "UPDATE batch_nodes SET hash = {m} WHERE level = 5 AND idx = 0"
    with db.store.transaction():
        db.store.connection.execute(sql.format(m="?" if backend_is_sqlite(db) else "%s"), (b"\x00" * 32,))
    with pytest.raises(VerificationError, match="stored subtree hashes of its incident batch are altered"):
        db.ledger.verify()
