"""The library handle: search by name in any script, geodesic near-queries, durability of writes."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

import deconflict
from deconflict.errors import ConflictError, InvalidInput, NotFound
from deconflict.model import Site
from deconflict.store.postgis import migrations as pg_migrations
from samples import SITES_CSV


@pytest.mark.parametrize("query", ["Kyiv", "Kiew", "Київ", "Киев", "KIJÓW", "kiev"])
def test_city_names_in_any_language_and_script_find_the_citys_sites(db, write, query):
    db.sites.import_file(write("sites.csv", SITES_CSV))
    assert {h.site.id for h in db.sites.list(search=query)} == {"aze-emb", "pol-emb", "fra-emb"}


@pytest.mark.parametrize("query", ["botschaft aserbaidschans", "ПОСОЛЬСТВО", "azerbaijan"])
def test_site_names_match_regardless_of_case_and_language(db, write, query):
    db.sites.import_file(write("sites.csv", SITES_CSV))
    assert [h.site.id for h in db.sites.list(search=query)] == ["aze-emb"]


def test_city_is_resolved_from_coordinates_when_missing(db, write):
    db.sites.import_file(write("sites.csv", SITES_CSV))
    assert db.sites.get("pol-emb").city == "Kyiv"


def test_near_query_agrees_with_brute_force_geodesic_distances(db):
    rng = np.random.default_rng(7)
    lats = rng.uniform(50.3, 50.6, 400)
    lons = rng.uniform(30.2, 30.8, 400)
    db.sites.add_many(
        [
            Site(id=f"s{i}", name=f"S{i}", kind="other", owner="UKR", lat=a, lon=b, city="Kyiv")
            for i, (a, b) in enumerate(zip(lats, lons, strict=True))
        ]
    )
    centre, radius = (50.45, 30.52), 6_000.0
    _, _, dist = Geod(ellps="WGS84").inv(np.full(400, centre[1]), np.full(400, centre[0]), lons, lats)
    expected = [f"s{i}" for i in np.argsort(dist) if dist[i] <= radius]
    hits = db.sites.list(near=centre, within_m=radius)
    assert [h.site.id for h in hits] == expected
    assert all(abs(h.distance_m - dist[int(h.site.id[1:])]) < 1e-6 for h in hits)


def test_near_query_works_across_the_antimeridian(db):
    db.sites.add_many(
        [
            Site(id="east", name="E", kind="other", owner="FJI", lat=-17.0, lon=179.99, city="Suva"),
            Site(id="west", name="W", kind="other", owner="FJI", lat=-17.0, lon=-179.99, city="Suva"),
        ]
    )
    assert {h.site.id for h in db.sites.list(near=(-17.0, 179.999), within_m=5_000)} == {
        "east",
        "west",
    }


def test_near_needs_within_and_valid_coordinates(db):
    with pytest.raises(InvalidInput):
        db.sites.list(near=(50.0, 30.0))
    with pytest.raises(InvalidInput, match="lat"):
        db.sites.list(near=(95.0, 30.0), within_m=10)


def test_unknown_site_is_not_found(db):
    with pytest.raises(NotFound, match="nope"):
        db.sites.get("nope")


def test_init_refuses_to_overwrite_an_existing_database(db_path):
    with pytest.raises(ConflictError):
        deconflict.init(db_path)


def test_open_refuses_a_missing_database(tmp_path):
    with pytest.raises(NotFound, match="deconflict init"):
        deconflict.open(tmp_path / "missing.db")


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    bogus = tmp_path / "bogus.db"
    bogus.write_text("hello, not sqlite" * 100)
    with pytest.raises(InvalidInput, match="not a deconflict database"):
        deconflict.open(bogus)


def test_committed_sites_survive_reopening(db_path, write):
    with deconflict.open(db_path) as first:
        first.sites.import_file(write("sites.csv", SITES_CSV))
    with deconflict.open(db_path) as second:
        assert second.sites.count() == 3


def test_database_uses_wal_foreign_keys_and_migrations(db, backend):
    conn = db.store.connection
    if backend == "postgis":
        assert conn.execute("SHOW synchronous_commit").fetchone()[0] == "on"
        assert db.store.schema_version() == pg_migrations()[-1][0]
        indexes = {row[0] for row in conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname LIKE '%geog'")}
        assert indexes == {f"CREATE INDEX {t}_geog ON public.{t} USING gist (geog)" for t in ("sites", "incidents")}
        return
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.store.schema_version() >= 1
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"sites_rtree", "incidents_rtree", "schema_migrations"} <= names
