"""The doors of guarantees: CLI and API give the same answers; bad input is one line, exit 2, nothing written."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import deconflict
from api.api_helpers import ui_login
from deconflict.access import create_token
from deconflict.api import create_app
from deconflict.cli import app
from samples import file_digest

ROUTE = "50.40,30.40; 50.45,30.52; 50.50,30.60"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("guarantees") / "g.db"
    db = deconflict.init(path, timezone="Europe/Kyiv")
    try:
        db.sites.create(name="Embassy", kind="embassy", owner="AZE", lat=50.45, lon=30.52, id="emb")
        db.sites.create(name="Other", kind="embassy", owner="POL", lat=50.47, lon=30.50, id="pol")
        db.notifications.notify(["emb"], to="RUS", at="2025-01-01")
        db.notifications.notify(["pol"], to="RUS", at="2025-01-01")
        db.movements.create(
            owner="XUN",
            route=ROUTE,
            width_m=200,
            start="2025-03-01",
            until="2025-03-02",
            id="mv",
            organisation="WFP",
            provenance="synthetic",
        )
        db.notifications.notify([], movement_ids=["mv"], to="RUS", at="2025-02-20")
        db.commitments.add(
            party="RUS",
            owners=["AZE"],
            made_at="2025-02-01",
            deadline="2025-02-15",
            form="public-statement",
            text="taken into account",
            id="cmt-rus",
        )
        db.incidents.add_rows(
            [
                {"id": "hit", "time": "2025-03-01T12:00", "lat": 50.45, "lon": 30.5201, "uncertainty_m": 30},
                {"id": "pol-hit", "time": "2025-03-01T12:00", "lat": 50.47, "lon": 30.50},
                {"id": "convoy-hit", "time": "2025-03-01T13:00", "lat": 50.4752, "lon": 30.5601, "uncertainty_m": 50},
            ]
        )
        tokens = {
            "admin": create_token(db, ["admin"]),
            "aze": create_token(db, ["owner:AZE"]),
            "pol": create_token(db, ["owner:POL"]),
            "xun": create_token(db, ["owner:XUN"]),
        }
    finally:
        db.close()
    return path, tokens


def _cli(path: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["--db", str(path), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _get(path: Path, token: str, url: str) -> object:
    with TestClient(create_app(path)) as client:
        response = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    "cli_args,url",
    [
        (("alerts", "list", "--json"), "/api/v1/alerts"),
        (("commitments", "list", "--json"), "/api/v1/commitments"),
        (("commitments", "show", "cmt-rus", "--json"), "/api/v1/commitments/cmt-rus"),
        (("movements", "list", "--json"), "/api/v1/movements"),
        (("movements", "show", "mv", "--json"), "/api/v1/movements/mv"),
        (("movements", "hits", "mv", "--json"), "/api/v1/movements/mv/hits"),
        (("movements", "summary", "--json"), "/api/v1/movements/summary"),
        (("compliance", "--json"), "/api/v1/compliance"),
        (("compliance", "--party", "RUS", "--owner", "AZE", "--json"), "/api/v1/compliance?party=RUS&owner=AZE"),
    ],
)
def test_cli_and_api_give_the_same_answer(
    world: tuple[Path, dict[str, str]], cli_args: tuple[str, ...], url: str
) -> None:
    path, tokens = world
    assert json.loads(_cli(path, *cli_args)) == _get(path, tokens["admin"], url)


def test_the_api_inbox_of_an_owner_holds_its_own_alerts_only(world: tuple[Path, dict[str, str]]) -> None:
    path, tokens = world
    everything = json.loads(_cli(path, "alerts", "list", "--json"))
    for owner in ("aze", "pol", "xun"):
        mine = _get(path, tokens[owner], "/api/v1/alerts")
        assert mine == [a for a in everything if a["owner"] == owner.upper()] and mine
    with TestClient(create_app(path)) as client:
        other = next(a["id"] for a in everything if a["owner"] == "AZE")
        response = client.get(f"/api/v1/alerts/{other}", headers={"Authorization": f"Bearer {tokens['pol']}"})
        assert response.status_code == 404
        response = client.get("/api/v1/movements/mv", headers={"Authorization": f"Bearer {tokens['aze']}"})
        assert response.status_code == 404


def test_compliance_says_breached_for_a_confirmed_hit_and_names_the_public_statement(
    world: tuple[Path, dict[str, str]],
) -> None:
    path, _ = world
    (entry,) = json.loads(_cli(path, "compliance", "--json"))
    assert entry["status"] == "breached" and entry["commitment"]["acknowledgement_status"] == "unacknowledged"
    assert entry["hits"][0]["incident_id"] == "hit" and entry["hits"][0]["alert_id"]
    assert any("public statement" in note for note in entry["notes"])


def test_the_dossier_holds_a_verifiable_bundle_and_draft_accounts_in_four_languages(
    world: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    path, tokens = world
    alerts = json.loads(_cli(path, "alerts", "list", "--json"))
    alert = next(a for a in alerts if a["object_id"] == "emb")
    out = tmp_path / "dossier.zip"
    _cli(path, "dossier", alert["id"], "--out", str(out))
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        assert {
            "evidence-bundle.zip",
            "alert.json",
            "compliance.json",
            "account.en.md",
            "account.de.md",
            "account.uk.md",
            "account.ru.md",
        } <= names
        accounts = {lang: archive.read(f"account.{lang}.md").decode() for lang in ("en", "de", "uk", "ru")}
        bundle = archive.read("evidence-bundle.zip")
    for marker, lang in (("DRAFT", "en"), ("ENTWURF", "de"), ("ЧЕРНЕТКА", "uk"), ("ЧЕРНОВИК", "ru")):
        assert marker in accounts[lang] and "taken into account" in accounts[lang]
    assert "not proof of intent" in accounts["en"] and "kein Beweis einer Absicht" in accounts["de"]
    assert "public statement" in accounts["en"]
    with deconflict.open(path) as db:
        key = db.ledger.verifier_key
    from deconflict.ledger.bundle import verify_bundle

    report = verify_bundle(bundle, key)
    assert any("RUS undertook" in s for s in report.statements)
    with TestClient(create_app(path)) as client:
        response = client.get(
            f"/api/v1/alerts/{alert['id']}/dossier", headers={"Authorization": f"Bearer {tokens['admin']}"}
        )
    assert response.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(response.content)).read("account.en.md").decode() == accounts["en"]


BAD_INPUT = [
    (
        (
            "movements",
            "add",
            "--owner",
            "XUN",
            "--width",
            "100",
            "--from",
            "2025-03-01",
            "--until",
            "2025-03-02",
            "--route",
            "50.4,30.4",
        ),
        "--route",
    ),
    (
        (
            "movements",
            "add",
            "--owner",
            "XUN",
            "--width",
            "0",
            "--from",
            "2025-03-01",
            "--until",
            "2025-03-02",
            "--route",
            ROUTE,
        ),
        "--width",
    ),
    (
        (
            "movements",
            "add",
            "--owner",
            "XUN",
            "--width",
            "100",
            "--from",
            "2025-03-05",
            "--until",
            "2025-03-02",
            "--route",
            ROUTE,
        ),
        "--until",
    ),
    (
        (
            "movements",
            "add",
            "--owner",
            "XUN",
            "--width",
            "100",
            "--from",
            "2025-03-01",
            "--until",
            "2025-03-02",
            "--route",
            "50.40,30.40; 50.45,30.52; 50.40,30.52; 50.45,30.40",
        ),
        "--route",
    ),
    (("commitments", "add", "--party", "RUS", "--site", "nope"), "--site"),
    (
        (
            "commitments",
            "add",
            "--party",
            "RUS",
            "--site",
            "emb",
            "--made-at",
            "2025-03-01",
            "--deadline",
            "2025-02-01",
        ),
        "--deadline",
    ),
    (("channels", "add", "--owner", "AZE", "--webhook", "ftp://example.org/hook"), "--webhook"),
    (("channels", "add", "--owner", "AZE", "--webhook", "example.org/hook"), "--webhook"),
    (("alerts", "threshold", "1.5"), "THRESHOLD"),
    (("notify", "--to", "RUS", "--at", "2025-01-01", "--movement", "nope"), "movement"),
]


@pytest.mark.parametrize("args,where", BAD_INPUT)
def test_bad_input_is_one_line_exit_2_and_nothing_is_written(tmp_path: Path, args: tuple[str, ...], where: str) -> None:
    path = tmp_path / "b.db"
    db = deconflict.init(path)
    db.sites.create(name="Embassy", kind="embassy", owner="AZE", lat=50.45, lon=30.52, id="emb")
    db.close()
    before = file_digest(path)
    result = CliRunner().invoke(app, ["--db", str(path), *args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and where in lines[0], result.stderr
    assert "Traceback" not in result.output
    assert file_digest(path) == before


def test_the_api_refuses_bad_input_naming_the_body_field(world: tuple[Path, dict[str, str]]) -> None:
    path, tokens = world
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    with TestClient(create_app(path)) as client:
        response = client.post(
            "/api/v1/movements",
            headers=headers,
            json={"owner": "XUN", "route": "50.4,30.4", "width_m": 100, "start": "2025-03-01", "until": "2025-03-02"},
        )
        assert response.status_code == 400 and response.json()["error"]["where"] == "body.route"
        response = client.post(
            "/api/v1/channels", headers=headers, json={"owner": "AZE", "kind": "webhook", "url": "ftp://x"}
        )
        assert response.status_code == 400 and response.json()["error"]["where"] == "body.url"
        response = client.post("/api/v1/commitments", headers=headers, json={"party": "RUS", "sites": ["nope"]})
        assert response.status_code == 404 and response.json()["error"]["where"] == "body.sites"


def test_an_api_incident_batch_raises_the_alert_an_owner_then_acknowledges(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    db = deconflict.init(path, timezone="Europe/Kyiv")
    db.sites.create(name="Embassy", kind="embassy", owner="AZE", lat=50.45, lon=30.52, id="emb")
    db.notifications.notify(["emb"], to="RUS", at="2025-01-01")
    admin, owner = create_token(db, ["admin"]), create_token(db, ["owner:AZE"])
    db.close()
    with TestClient(create_app(path)) as client:
        response = client.post(
            "/api/v1/incidents",
            headers={"Authorization": f"Bearer {admin}"},
            json=[{"id": "hit", "time": "2025-03-01T12:00", "lat": 50.45, "lon": 30.52}],
        )
        assert response.status_code == 201
        (alert,) = client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {owner}"}).json()
        assert alert["incident_id"] == "hit" and alert["trigger"] == "import"
        response = client.post(
            f"/api/v1/alerts/{alert['id']}/ack", headers={"Authorization": f"Bearer {owner}"}, json={"note": "seen"}
        )
        assert response.status_code == 201
        assert (
            client.get("/api/v1/alerts?unacknowledged=true", headers={"Authorization": f"Bearer {owner}"}).json() == []
        )


def test_the_ui_inbox_shows_an_owner_its_own_alerts_and_acknowledges_them(
    world: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    import re
    import shutil

    source, tokens = world
    path = tmp_path / "copy.db"
    shutil.copy(source, path)
    with TestClient(create_app(path)) as client:
        assert ui_login(client, tokens["aze"]).status_code == 303
        page = client.get("/ui/alerts").text
        assert "site Embassy" in page and "pol-hit" not in page and "convoy-hit" not in page
        assert "UNACKNOWLEDGED" in page and "PUBLIC STATEMENT" in page
        alert_id = re.search(r'id="alert-(alr-[0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
        assert client.post(f"/ui/alerts/{alert_id}/ack", data={"csrf": "forged"}).status_code == 403
        response = client.post(f"/ui/alerts/{alert_id}/ack", data={"csrf": csrf}, follow_redirects=False)
        assert response.status_code == 303
        assert "acknowledged by" in client.get("/ui/alerts").text
