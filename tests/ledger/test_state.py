"""The tables are a function of the log: an edit of any table behind the library's back fails verification.

One database holds a row in every table the log determines (sites with names, an amendment and a
withdrawal, a notification of sites and a movement, amended, acknowledgements, one withdrawn,
incidents with a review, a revision and a merge, a commitment with a missed deadline and an
acknowledgement, an alert and its acknowledgement). Each test makes one direct edit of the file
or database, as an attacker with access to it would, and ``log verify`` must fail naming the
table, the row and the field.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import deconflict
from deconflict.errors import VerificationError
from deconflict.guarantees.monitor import run_once
from deconflict.ledger.state import check_state
from pg import PostgresServer, is_postgres, tamper
from samples import INCIDENTS_CSV, SITES_CSV

ROUTE = "50.40,30.40; 50.45,30.52; 50.50,30.60"


def build(db: deconflict.Database, tmp_path: Path) -> None:
    """A row in every table the log determines."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    db.sites.import_file(write("sites.csv", SITES_CSV))
    db.sites.create(id="emb", name="Embassy", kind="embassy", owner="AZE", lat=50.45, lon=30.52)
    db.sites.amend("pol-emb", lat=50.44561, reason="surveyed on site")
    db.sites.withdraw("fra-emb", reason="registered twice")
    db.movements.create(owner="XUN", route=ROUTE, width_m=250, start="2025-03-01T06:00", until="2025-03-01T18:00",
                        id="c7")  # fmt: skip
    db.notifications.notify(["aze-emb", "emb"], to="RUS", at="2025-01-02", channel="note-verbale", reference="No. 1",
                            text="coordinates", id="n1", movement_ids=["c7"])  # fmt: skip
    db.notifications.amend("n1", at="2025-01-01", reason="date misread from the note")
    db.notifications.acknowledge("n1", by="RUS", at="2025-01-05", reference="No. 7", text="taken into account",
                                 id="a1")  # fmt: skip
    db.notifications.acknowledge("n1", by="RUS", at="2025-01-06", id="a2")
    db.acknowledgements.withdraw("a2", reason="the reply was to another note")
    db.incidents.import_file(write("incidents.csv", INCIDENTS_CSV))
    db.incidents.review("i3", "rejected", "not a strike")
    commitment, _ = db.commitments.add(party="RUS", sites=["emb"], made_at="2025-02-01", deadline="2025-02-15")
    run_once(db, deliver=False)  # the deadline passed in silence: logged
    db.acknowledge(commitment.id, by="RUS", at="2025-03-01")
    db.incidents.import_file(write("hit.csv", "id,time,lat,lon,uncertainty_m\nhit,2025-03-01T12:00,50.45,30.5201,20\n"))
    alert = db.alerts.list()[0]  # on the notification and on the commitment
    db.alerts.acknowledge(alert.alert.id, note="seen; note verbale sent")
    revised = INCIDENTS_CSV.replace("on the premises", "on the premises and two craters")
    db.incidents.import_file(write("incidents-v2.csv", revised), on_existing="update")
    db.incidents.import_file(
        write("news.csv", "id,time,lat,lon,uncertainty_m,kind,source_url\n"
                          "news-1,2025-11-14T01:30:00+02:00,50.4610,30.4907,300,missile,https://example.org/news\n")
    )  # fmt: skip
    db.incidents.merge(["news-1", "i1"])
    db.ledger.sign_checkpoint()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """One full database per backend (built once), copied for each test."""
    made: dict[str, str] = {"root": str(tmp_path_factory.mktemp("state"))}
    yield made
    if "postgis" in made:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        server.drop_database(made["postgis"])


@pytest.fixture
def full(backend: str, built: dict[str, str], tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """Location of a copy of the full database on the backend under test."""
    if backend not in built:
        if backend == "postgis":
            server: PostgresServer = request.getfixturevalue("postgres_server")
            location = server.create_database("state_full")
        else:
            location = str(Path(built["root"]) / "state-full.db")
        deconflict.init(location, timezone="Europe/Kyiv", key_file=Path(built["root"]) / f"{backend}.key")
        with deconflict.open(location) as db:
            build(db, tmp_path)
            db.ledger.verify()
        built[backend] = location
    source = built[backend]
    if backend == "postgis":
        server = request.getfixturevalue("postgres_server")
        name = f"state_copy_{abs(hash(request.node.nodeid)) % 10**9}"
        from psycopg import sql

        with server.admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(source.rsplit("/", 1)[1])))  # fmt: skip
        url = server.url(name)
        yield url
        server.drop_database(url)
        return
    copy = tmp_path / "full.db"
    shutil.copy(source, copy)
    yield str(copy)


def _fails(location: str, *words: str) -> str:
    with deconflict.open(location) as db, pytest.raises(VerificationError) as caught:
        db.ledger.verify()
    message = caught.value.message
    for word in words:
        assert word in message, message
    with deconflict.open(location) as db, pytest.raises(VerificationError):
        check_state(db.store)
    return message


def test_the_untouched_database_matches_its_log_in_every_table(full: str) -> None:
    with deconflict.open(full) as db:
        report = db.ledger.verify()
        state = check_state(db.store)
    assert report.state is not None and report.state.rows == state.rows
    assert {table for table, count in state.rows.items() if count == 0} == set()
    assert state.rows["incident_versions"] == 3 and state.rows["corrections"] == 7


FAKE_INCIDENT = (
    "INSERT INTO incidents (id, time_start, time_end, time_precision, lat, lon, uncertainty_m, uncertainty_model, "
    "confidence, status) VALUES ('fake', '2025-12-01T00:00:00Z', '2025-12-01T00:00:00Z', 'instant', 50.45, 30.52, "
    "0, 'normal', 'confirmed', 'confirmed')"
)
FAKE_ACK = (
    "INSERT INTO acknowledgements (id, entry_idx, notification_id, recipient, at_start, at_end, precision, text) "
    "VALUES ('fake-ack', {entry}, 'n1', 'RUS', '2025-01-03T00:00:00Z', '2025-01-03T00:00:00Z', 'day', 'agreed')"
)
FAKE_SITE = (
    "INSERT INTO sites (id, name, kind, owner, lat, lon, radius_m, created_at) "
    "VALUES ('fake-site', 'Fake', 'embassy', 'AZE', 50.4, 30.4, 50, '2025-01-01T00:00:00Z')"
)

#: One edit of each kind, per table: (SQL, words the error must contain).
EDITS = {
    "incident-inserted-without-entry": (FAKE_INCIDENT, ("incidents", "'fake'", "entry_idx")),
    "incident-pointed-at-a-notification": (
        FAKE_INCIDENT.replace("status)", "status, entry_idx, entry_pos)").replace("'confirmed')", "'confirmed', 9, 0)"),
        ("incidents", "'fake'", "entry_idx"),
    ),
    "incident-status-changed": ("UPDATE incidents SET status = 'confirmed' WHERE id = 'i3'", ("incidents", "status")),
    "incident-import-changed": (
        "UPDATE imports SET filename = 'other.csv' WHERE filename = 'hit.csv'",
        ("incidents", "'hit'", "import"),
    ),
    "incident-version-deleted": ("DELETE FROM incident_versions WHERE incident_id = 'news-1'", ("incident_versions",)),
    "incident-version-status": (
        "UPDATE incident_versions SET status = 'rejected' WHERE incident_id = 'news-1'",
        ("incident_versions", "status"),
    ),
    "notification-deleted": ("DELETE FROM notifications WHERE id = 'n1'", ("notifications", "'n1'", "row")),
    "notification-sender": ("UPDATE notifications SET sender = 'UKR' WHERE id = 'n1'", ("notifications", "sender")),
    "notification-channel": ("UPDATE notifications SET channel = 'email' WHERE id = 'n1'", ("channel",)),
    "notification-reference": ("UPDATE notifications SET reference = 'No. 2' WHERE id = 'n1'", ("reference",)),
    "notification-text": ("UPDATE notifications SET text = 'nothing' WHERE id = 'n1'", ("notifications", "text")),
    "notification-site-removed": (
        "DELETE FROM notification_sites WHERE site_id = 'emb'",
        ("notification_sites", "'n1'", "site_ids"),
    ),
    "notification-movement-removed": ("DELETE FROM notification_movements", ("notification_movements", "row")),
    "acknowledgement-inserted": (FAKE_ACK, ("acknowledgements", "'fake-ack'")),
    "acknowledgement-text": (
        "UPDATE acknowledgements SET text = 'agreed' WHERE id = 'a1'",
        ("acknowledgements", "text"),
    ),
    "acknowledgement-unwithdrawn": (
        "UPDATE acknowledgements SET withdrawn_idx = NULL WHERE id = 'a2'",
        ("acknowledgements", "withdrawn_idx"),
    ),
    "site-deleted-with-commitment": (
        "DELETE FROM site_commitments WHERE site_id = 'emb'; DELETE FROM site_names WHERE site_pk = "
        "(SELECT pk FROM sites WHERE id = 'emb'); DELETE FROM sites WHERE id = 'emb'",
        ("site_commitments", "'emb'", "row"),
    ),
    "site-inserted-without-commitment": (FAKE_SITE, ("sites", "'fake-site'", "row")),
    "site-unwithdrawn": ("UPDATE sites SET withdrawn_idx = NULL WHERE id = 'fra-emb'", ("sites", "withdrawn_idx")),
    "site-name-removed": ("DELETE FROM site_names WHERE lang = ''", ("site_names",)),
    "site-commitment-record": (
        "UPDATE site_commitments SET commitment = 'ab' WHERE site_id = 'aze-emb'",
        ("site_commitments", "commitment"),
    ),
    "correction-reason": ("UPDATE corrections SET reason = 'nothing' WHERE target = 'site'", ("corrections", "reason")),
    "movement-owner": ("UPDATE movements SET owner = 'AZE'", ("movements", "'c7'", "owner")),
    "commitment-party": ("UPDATE commitments SET party = 'BLR'", ("commitments", "party")),
    "commitment-object-removed": ("DELETE FROM commitment_objects", ("commitment_objects", "row")),
    "commitment-ack-deleted": ("DELETE FROM commitment_acknowledgements", ("commitment_acknowledgements",)),
    "deadline-missed-deleted": ("DELETE FROM deadlines_missed", ("deadlines_missed",)),
    "alert-owner": ("UPDATE alerts SET owner = 'POL'", ("alerts", "owner")),
    "alert-ack-deleted": ("DELETE FROM alert_acknowledgements", ("alert_acknowledgements",)),
}
SQLITE_ONLY = {"incident-spatial-index": ("DELETE FROM incidents_rtree", ("incidents_rtree",))}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_edit_of_any_table_fails_verification_naming_table_row_and_field(full: str, edit: str) -> None:
    statement, words = EDITS[edit]
    with deconflict.open(full) as db:
        ack_entry = db.ledger.size - 1  # an entry that is no acknowledgement
        if "9, 0)" in statement:
            notification_entry = db.store.notification_state("n1")[0]
            statement = statement.replace("9, 0)", f"{notification_entry}, 0)")
    for part in statement.split("; "):
        tamper(full, part.replace("{entry}", str(ack_entry)))
    _fails(full, *words)


def test_a_deleted_spatial_index_entry_hides_no_incident(full: str) -> None:
    if is_postgres(full):
        tamper(full, "ALTER TABLE incidents ALTER COLUMN geog DROP EXPRESSION")
        tamper(full, "UPDATE incidents SET geog = ST_SetSRID(ST_MakePoint(0, 0), 4326)::geography WHERE id = 'i2'")
        _fails(full, "incidents.geog", "'i2'")
    else:
        tamper(full, "DELETE FROM incidents_rtree WHERE pk = (SELECT pk FROM incidents WHERE id = 'i2')")
        _fails(full, "incidents_rtree", "'i2'")


def test_an_incident_reach_box_moved_in_the_spatial_index_is_found(full: str) -> None:
    # SQLite's R*Tree holds each incident's reach box: a box moved away hides the incident from
    # the sites it concerns as surely as a deleted one.
    if is_postgres(full):
        pytest.skip("PostGIS derives the box from the row (a generated column): see the test above")
    tamper(
        full,
        "UPDATE incidents_rtree SET min_lat = min_lat + 0.05, max_lat = max_lat + 0.05 "
        "WHERE pk = (SELECT pk FROM incidents WHERE id = 'i2')",
    )
    _fails(full, "incidents_rtree", "'i2'")


def test_an_incident_inserted_without_an_entry_moves_no_number(full: str) -> None:
    # The first case: a fabricated hit on the embassy after notification.
    tamper(full, FAKE_INCIDENT)
    message = _fails(full, "incidents", "'fake'")
    assert "entry_idx" in message and "None" in message
