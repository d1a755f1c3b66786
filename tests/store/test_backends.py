"""Both storage backends behave alike; PostgreSQL specifics: URLs, errors, schema, indexes.

Tests taking ``backend``/``db`` run on SQLite and on PostgreSQL + PostGIS; the ``postgres_url``
tests are about the PostGIS backend alone.
"""

from __future__ import annotations

import json

import numpy as np
import psycopg
import pytest
from pyproj import Geod

import deconflict
from deconflict.cli import app
from deconflict.errors import ConflictError, DeconflictError, InvalidInput, NotFound
from deconflict.model import Incident, Site
from deconflict.store import IncidentQuery, SiteQuery, open_store
from deconflict.store import postgis as pg_backend
from deconflict.store import sqlite as sqlite_backend
from deconflict.store.base import TokenRecord
from deconflict.times import parse_time
from samples import INCIDENTS_CSV, SITES_CSV

GEOD = Geod(ellps="WGS84")


def _filled(location, tmp_path, write, name):
    db = deconflict.init(location, timezone="Europe/Kyiv", key_file=tmp_path / f"{name}.key")
    db.sites.import_file(write("sites.csv", SITES_CSV))
    db.incidents.import_file(write("incidents.csv", INCIDENTS_CSV))
    rng = np.random.default_rng(11)
    db.sites.add_many(
        [
            Site(id=f"w{i:03d}", name=f"Site {i} – Посольство", kind="hospital", owner="UKR", lat=a, lon=b, city="Kyiv")
            for i, (a, b) in enumerate(zip(rng.uniform(-80, 80, 120), rng.uniform(-180, 180, 120), strict=True))
        ]
    )
    return db


def test_both_backends_answer_every_query_identically(postgres_url, tmp_path, write):
    lite = _filled(tmp_path / "lite.db", tmp_path, write, "lite")
    post = _filled(postgres_url, tmp_path, write, "post")
    try:
        queries = [
            SiteQuery(),
            SiteQuery(near=(50.45, 30.52), within_m=3_000),
            SiteQuery(near=(10.0, 170.0), within_m=4_000_000, limit=5, offset=2),
            SiteQuery(search="Kyiv", limit=3),
            SiteQuery(search="посольство", owner="ukr", kind="hospital"),
            SiteQuery(ids=("pol-emb", "w007", "nope")),
            SiteQuery(ids=()),
        ]
        for query in queries:
            expected = lite.store.list_sites(query)
            got = post.store.list_sites(query)
            assert [site for site, _ in got] == [site for site, _ in expected], query
            for (_, d_post), (_, d_lite) in zip(got, expected, strict=True):
                assert (d_post is None) == (d_lite is None)
                assert d_post is None or abs(d_post - d_lite) < 0.01, query
        incident_queries = [
            IncidentQuery(),
            IncidentQuery(near=(50.4612, 30.4910), within_m=200),
            IncidentQuery(start="2025-01-01", limit=1, offset=1),
            IncidentQuery(end="2025-01-01T00:00:00Z", status="confirmed"),
        ]
        for query in incident_queries:
            assert post.store.list_incidents(query) == lite.store.list_incidents(query), query
        assert post.store.incidents_in_entry(123) == lite.store.incidents_in_entry(123)
        for site_id in ("aze-emb", "w000"):
            assert post.sites.get(site_id) == lite.sites.get(site_id)

        def imports(db):
            return [(r.target, r.filename, r.sha256, r.format, r.rows) for r in db.store.list_imports()]

        assert imports(post) == imports(lite)
        assert [row.kind for row in post.ledger.entries()] == [row.kind for row in lite.ledger.entries()]
    finally:
        lite.close()
        post.close()


def test_distances_agree_with_pyproj_geodesics_within_a_millimetre_worldwide(postgres_url, tmp_path):
    rng = np.random.default_rng(3)
    lats, lons = rng.uniform(-89.9, 89.9, 300), rng.uniform(-180, 180, 300)
    with deconflict.init(postgres_url, key_file=tmp_path / "k.key") as db:
        db.sites.add_many(
            [
                Site(id=f"s{i}", name=f"S{i}", kind="other", owner="UKR", lat=a, lon=b, city="Kyiv")
                for i, (a, b) in enumerate(zip(lats, lons, strict=True))
            ]
        )
        for centre in [(0.0, 179.9), (-89.0, 10.0), (48.0, 2.3)]:
            hits = db.sites.list(near=centre, within_m=3_000_000)
            _, _, dist = GEOD.inv(np.full(300, centre[1]), np.full(300, centre[0]), lons, lats)
            assert [h.site.id for h in hits] == [f"s{i}" for i in np.argsort(dist) if dist[i] <= 3_000_000]
            assert max((abs(h.distance_m - dist[int(h.site.id[1:])]) for h in hits), default=0) < 1e-3


def test_a_refused_duplicate_leaves_the_transaction_usable(db):
    store = db.store
    site = Site(id="a", name="A", kind="other", owner="UKR", lat=50.0, lon=30.0)
    with store.transaction():
        store.insert_sites([site], [None], None)
        with pytest.raises(ConflictError, match="'a'"):
            store.insert_sites([site], [None], None)
        store.insert_sites([site.with_changes(id="b")], [None], None)
    assert [s.id for s, _ in store.list_sites(SiteQuery())] == ["a", "b"]


def test_a_failed_transaction_writes_nothing(db):
    with pytest.raises(RuntimeError), db.store.transaction():
        db.store.set_meta("colour", "blue")
        raise RuntimeError("boom")
    assert db.store.get_meta("colour") is None


def test_writes_outside_a_transaction_are_refused(db):
    with pytest.raises(DeconflictError, match="outside a transaction"):
        db.store.set_meta("colour", "blue")


def test_incident_review_status_and_missing_incident(db):
    incident = Incident(id="x1", time=parse_time("2025-01-01"), lat=50.0, lon=30.0, status="unverified")
    with db.store.transaction():
        db.store.insert_incidents([incident], None)
        db.store.set_incident_status("x1", "confirmed")
        with pytest.raises(NotFound, match="nope"):
            db.store.set_incident_status("nope", "confirmed")
    assert db.store.get_incident("x1").status == "confirmed"
    assert db.store.incident_entry("x1") is None
    with pytest.raises(ConflictError), db.store.transaction():
        db.store.insert_incidents([incident], None)


def test_incidents_are_filtered_by_confidence_and_status(db):
    levels = ["confirmed", "fair", "weak", "fair", "discounted"]
    incidents = [
        Incident(id=f"c{n}", time=parse_time(f"2025-01-0{n + 1}"), lat=50.0, lon=30.0, confidence=level,
                 status="unverified" if n == 1 else "confirmed")
        for n, level in enumerate(levels)
    ]  # fmt: skip
    db.incidents.add_many(incidents)
    assert [i.id for i in db.incidents.list(confidence="fair")] == ["c1", "c3"]
    assert [i.id for i in db.incidents.list(confidence="fair", status="confirmed")] == ["c3"]
    assert db.incidents.count(confidence="discounted") == 1
    assert db.incidents.list(confidence="contested") == []


def test_api_tokens_round_trip_and_revoke_once(db):
    token = TokenRecord("t1", "ab" * 32, ("read", "write:AZE"), "ci", "2025-01-01T00:00:00Z")
    with db.store.transaction():
        db.store.insert_token(token)
        db.store.insert_token(TokenRecord("t0", "cd" * 32, ("read",), None, "2025-01-01T00:00:00Z"))
    assert db.store.get_token("t1") == token and db.store.get_token("nope") is None
    assert [t.id for t in db.store.list_tokens()] == ["t0", "t1"]
    with pytest.raises(ConflictError, match="t1"), db.store.transaction():
        db.store.insert_token(token)
    with db.store.transaction():
        db.store.revoke_token("t1", "2025-02-01T00:00:00Z")
    assert db.store.get_token("t1").revoked_at == "2025-02-01T00:00:00Z"
    with pytest.raises(NotFound), db.store.transaction():
        db.store.revoke_token("t1", "2025-03-01T00:00:00Z")


def test_both_backends_ship_the_same_migration_versions():
    assert [v for v, _, _ in pg_backend.migrations()] == [v for v, _, _ in sqlite_backend.migrations()]


# -- PostgreSQL only ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://postgres@127.0.0.1:1/deconflict", "cannot connect to postgresql://postgres@127.0.0.1:1/"),
        ("postgresql://a b c", "cannot connect"),
        ("postgres://postgres:s3cret@127.0.0.1:1/x?connect_timeout=2", r"postgres:\*\*\*@"),
    ],
    ids=["refused", "malformed", "password-hidden"],
)
def test_an_unreachable_or_malformed_url_is_one_line_of_invalid_input(url, message):
    with pytest.raises(InvalidInput, match=message) as caught:
        open_store(url)
    assert "\n" not in str(caught.value) and "s3cret" not in str(caught.value)


def test_the_cli_reports_an_unreachable_server_in_one_line_with_exit_2(runner):
    result = runner.invoke(app, ["--db", "postgresql://postgres@127.0.0.1:1/x", "sites", "list"])
    assert result.exit_code == 2
    assert "cannot connect" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_an_unknown_database_on_a_running_server_is_invalid_input(postgres_server):
    with pytest.raises(InvalidInput, match="does not exist"):
        open_store(postgres_server.url("no_such_database"))


def test_opening_an_empty_database_says_to_run_init(postgres_url):
    with pytest.raises(NotFound, match="deconflict init"):
        deconflict.open(postgres_url)


def test_init_creates_the_versioned_schema_once(postgres_url, tmp_path):
    deconflict.init(postgres_url, key_file=tmp_path / "k.key").close()
    with psycopg.connect(postgres_url) as conn:
        versions = conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert versions == [(v, name) for v, name, _ in pg_backend.migrations()]
    with pytest.raises(ConflictError, match="already exists"):
        deconflict.init(postgres_url, key_file=tmp_path / "k.key")
    store = open_store(postgres_url)
    assert store.schema_version() == versions[-1][0]
    store.close()


@pytest.fixture
def pg_db(postgres_url, tmp_path):
    """An initialised PostGIS database."""
    db = deconflict.init(postgres_url, key_file=tmp_path / "k.key")
    yield db
    db.close()


def test_a_missing_migration_is_applied_on_open(pg_db):
    pg_db.close()
    with psycopg.connect(pg_db.location, autocommit=True) as conn:
        conn.execute("DROP TABLE api_tokens")
        conn.execute("DELETE FROM schema_migrations WHERE version = 3")
    with deconflict.open(pg_db.location) as db:
        assert db.store.schema_version() == pg_backend.migrations()[-1][0] and db.store.list_tokens() == []


def test_near_queries_use_the_gist_index(pg_db):
    db = pg_db
    assert isinstance(db.store, pg_backend.PostGISStore)
    conn = db.store.connection
    with db.store.transaction():
        conn.execute("SET LOCAL enable_seqscan = off")
        plans = [
            "\n".join(row[0] for row in conn.execute(
                f"EXPLAIN SELECT id FROM {table} WHERE ST_DWithin(geog, ST_MakePoint(30.5, 50.4)::geography, 1000)"
            ))
            for table in ("sites", "incidents")
        ]  # fmt: skip
    assert "sites_geog" in plans[0] and "incidents_geog" in plans[1]


def test_the_log_sequencer_is_an_advisory_lock_held_until_commit(pg_db):
    db = pg_db
    assert isinstance(db.store, pg_backend.PostGISStore)
    conn = db.store.connection
    count = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
    with db.store.transaction():
        db.store.lock_log()
        assert conn.execute(count).fetchone()[0] == 1
    assert conn.execute(count).fetchone()[0] == 0


def test_paged_reads_return_what_one_page_returns(pg_db, write, monkeypatch):
    from deconflict.store import _postgis_ledger

    db = pg_db
    db.sites.import_file(write("sites.csv", SITES_CSV))
    db.incidents.import_file(write("incidents.csv", INCIDENTS_CSV))
    whole = (
        list(db.store.log_iter_entries()),
        list(db.store.log_iter_nodes()),
        db.store.list_incidents(IncidentQuery()),
    )
    sliced = db.store.list_incidents(IncidentQuery(offset=1, limit=2))
    monkeypatch.setattr(pg_backend, "_PAGE_ROWS", 1)
    monkeypatch.setattr(_postgis_ledger, "_PAGE_ROWS", 2)
    paged = (
        list(db.store.log_iter_entries()),
        list(db.store.log_iter_nodes()),
        db.store.list_incidents(IncidentQuery()),
    )
    assert paged == whole and len(whole[0]) == 4 and len(whole[1]) > 4
    assert db.store.list_incidents(IncidentQuery(offset=1, limit=2)) == sliced == whole[2][1:3]
    db.ledger.verify()


def test_the_cli_initialises_and_uses_a_postgres_url(postgres_url, runner, tmp_path, monkeypatch, write):
    monkeypatch.chdir(tmp_path)
    init = runner.invoke(app, ["--db", postgres_url, "init", "--origin", "example.org/pg"])
    assert init.exit_code == 0, init.output
    key = tmp_path / f"deconflict-{postgres_url.rsplit('/', 1)[1]}.key"
    assert key.read_text().startswith("PRIVATE+KEY+example.org/pg+")

    def cli(*args: str):
        result = runner.invoke(app, ["--db", postgres_url, *args])
        assert result.exit_code == 0, result.output
        return result

    cli("sites", "import", str(write("s.csv", SITES_CSV)))
    near = json.loads(cli("sites", "list", "--near", "50.4608,30.4905", "--within", "100", "--json").stdout)
    assert [row["id"] for row in near] == ["aze-emb"]
    cli("notify", "aze-emb", "--to", "RUS", "--at", "2025-01-01")
    cli("log", "checkpoint")
    assert json.loads(cli("log", "verify", "--json").stdout)["size"] == 4
    again = runner.invoke(app, ["--db", postgres_url, "init"])
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_a_user_who_may_not_create_postgis_is_told_what_to_do(postgres_server, tmp_path):
    with postgres_server.admin() as conn:
        conn.execute("CREATE ROLE plain_user LOGIN")
        conn.execute("CREATE DATABASE plain_db OWNER plain_user TEMPLATE template0")
    url = postgres_server.url("plain_db").replace("postgres@", "plain_user@")
    try:
        with pytest.raises(InvalidInput, match=r"postgis.*CREATE EXTENSION postgis") as caught:
            deconflict.init(url, key_file=tmp_path / "k.key")
        assert "\n" not in str(caught.value)
        with postgres_server.admin("plain_db") as conn:
            conn.execute("CREATE EXTENSION postgis")  # what the administrator does
        deconflict.init(url, key_file=tmp_path / "k.key").close()
    finally:
        postgres_server.drop_database(url)
        with postgres_server.admin() as conn:
            conn.execute("DROP ROLE plain_user")


def test_the_location_shown_never_contains_the_password(postgres_url, tmp_path):
    url = postgres_url.replace("postgres@", "postgres:s3cret@")
    with deconflict.init(url, key_file=tmp_path / "k.key") as db:
        assert "s3cret" not in db.location and db.location.startswith("postgresql://postgres:***@")


def test_counting_incidents_in_sql_agrees_with_listing_them(db, write):
    db.incidents.import_file(write("incidents.csv", INCIDENTS_CSV))
    for filters in ({}, {"status": "confirmed"}, {"start": "2025-01-01"}, {"end": "2025-01-01T00:00:00Z"},
                    {"provenance": "synthetic"}, {"near": (50.4612, 30.4910), "within_m": 200}):  # fmt: skip
        assert db.incidents.count(**filters) == len(db.incidents.list(**filters)), filters
    assert db.incidents.count(start="2025-01-01") < db.incidents.count()
