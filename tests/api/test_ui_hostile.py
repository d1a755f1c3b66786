"""Hostile names: markup in every field an owner, an importer or a token's creator controls stays text.

An owner's site name, address, city, other names, notes and source; a notification's channel,
reference and text; an incident's kind, weapon, notes and source title; a token's name; a search
typed into the UI: each holds an element with an id ``pwned-<field>`` and a script setting
``window.pwned``. Every UI page is opened by every scope in a real browser (the map's tooltips
hovered): no such element may exist in the DOM, no script may have run, and the text must be
shown literally where the field is displayed.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

import deconflict
from api.api_helpers import Fixture, LiveServer
from api.ui_browser import browser, sign_in, visit
from deconflict.access import create_token
from deconflict.model import Incident, Site, Source
from deconflict.times import parse_time
from pg import free_port

__all__ = ["browser"]

pytestmark = pytest.mark.slow


def hostile(field: str) -> str:
    """Markup that would create ``#pwned-<field>`` and run a script if it were not escaped."""
    return f"""<b id="pwned-{field}" title='x' data-x="&amp;">{field}</b><script>window.pwned="{field}"</script>"""


HOSTILE_SITE = Site(
    id="aze-hostile",
    name=hostile("name"),
    kind="embassy",
    owner="AZE",
    lat=50.4702,
    lon=30.4801,
    address=hostile("address"),
    city=hostile("city"),
    names=(("uk", hostile("other-name")),),
    notes=hostile("notes"),
    source=hostile("source"),
)
HOSTILE_INCIDENT = Incident(
    id="hostile-1",
    time=parse_time("2025-12-28T10:00Z"),
    lat=50.4702,
    lon=30.4801,
    uncertainty_m=20,
    kind=hostile("kind"),
    weapon=hostile("weapon"),
    notes=hostile("incident-notes"),
    source=Source(title=hostile("source-title")),
    provenance="reported",
)
#: Which scopes see which hostile field on which page (the field's text must appear literally there).
SHOWN = {
    "sites": {"admin": ["name"], "aze": ["name"], "analyst": ["name"]},
    "notify": {"aze": ["name"]},
    "incidents": {"admin": ["kind"], "aze": ["kind"]},
    "alerts": {"aze": ["name"]},
}
PAGES = ["sites", "sites/new", "sites/aze-hostile/edit", "notify", "incidents", "analysis", "alerts", "report", "log"]
SCOPES = ["admin", "aze", "analyst", "public"]


@pytest.fixture(scope="module")
def hostile_server(api_db: Fixture, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict]]:
    """A server over a copy of the test database with hostile text in every free-text field."""
    copy = api_db.copy_to(tmp_path_factory.mktemp("hostile"))
    db = deconflict.open(copy.path, key_file=copy.key_file)
    try:
        db.sites.add_many([HOSTILE_SITE])
        db.notifications.notify(
            ["aze-hostile"], to="RUS", at="2025-12-01T12:00Z", sender="AZE",
            channel=hostile("channel"), reference=hostile("reference"), text=hostile("text"),
        )  # fmt: skip
        db.incidents.add_many([HOSTILE_INCIDENT])
        tokens = {**copy.tokens, "hostile": create_token(db, ["owner:AZE"], hostile("token-name"))}
    finally:
        db.close()
    server = LiveServer(copy, free_port())
    server.start(timeout_s=180)  # a busy machine starts it slowly
    yield server, tokens
    server.stop()


def assert_inert(page: Page, where: str) -> None:
    """No hostile element in the DOM and no hostile script run."""
    found = page.evaluate("Array.from(document.querySelectorAll('[id^=pwned]')).map(e => e.id)")
    assert found == [], f"{where}: hostile markup became elements {found}"
    assert page.evaluate("window.pwned === undefined"), f"{where}: a hostile script ran"


def hover_every_shape(page: Page) -> list[str]:
    """Hover each shape on the map and return the tooltips' text (checking each for live markup)."""
    texts = []
    for shape in page.locator("#map path.leaflet-interactive").all():
        shape.hover(force=True)
        tooltip = page.locator(".leaflet-tooltip").last
        if tooltip.count():
            texts.append(tooltip.inner_text())
            assert tooltip.locator("b, script").count() == 0
    return texts


@pytest.mark.parametrize("scope", SCOPES)
def test_hostile_text_stays_text_on_every_page(
    browser: Browser, hostile_server: tuple[LiveServer, dict], scope: str
) -> None:
    server, tokens = hostile_server
    context: BrowserContext = sign_in(browser, server.url, tokens[scope])
    try:
        for name in PAGES:
            opened = visit(context, f"{server.url}/ui/{name}")
            where = f"/ui/{name} as {scope}"
            assert_inert(opened.page, where)
            text = opened.page.locator("body").inner_text()
            for field in SHOWN.get(name, {}).get(scope, []):
                assert f'<b id="pwned-{field}"' in text, f"{where}: {field} is not shown as text"
            if name == "sites" and scope in ("admin", "aze", "analyst"):
                tooltips = hover_every_shape(opened.page)
                assert any('<b id="pwned-name"' in t for t in tooltips), f"{where}: tooltips {tooltips}"
                assert_inert(opened.page, f"{where}, tooltips open")
            assert opened.outside_requests(server.url) == []
            opened.page.close()
    finally:
        context.close()


def test_hostile_token_name_search_and_form_input_stay_text(
    browser: Browser, hostile_server: tuple[LiveServer, dict]
) -> None:
    server, tokens = hostile_server
    context = sign_in(browser, server.url, tokens["hostile"])
    try:
        opened = visit(context, f"{server.url}/ui/sites")
        assert '<b id="pwned-token-name"' in opened.page.locator("header").inner_text()
        assert_inert(opened.page, "header")
        opened.page.fill("#search", hostile("search"))
        opened.page.wait_for_timeout(600)  # htmx swaps the table after 300 ms
        assert "pwned-search" in opened.page.locator("#site-table").inner_text()
        assert_inert(opened.page, "live search")
        searched = visit(context, f"{server.url}/ui/sites?search={quote(hostile('search'))}")
        assert_inert(searched.page, "search in the URL")
        form = visit(context, f"{server.url}/ui/notify")
        form.page.check("input[name=site_ids][value=aze-hostile]")
        form.page.fill("#recipient", "XX1")  # refused: the form comes back with the input kept
        form.page.fill("#notified_at", '<b id="pwned-at">1</b>')  # the form takes at most 100 characters here
        form.page.fill("#reference", hostile("form-reference"))
        form.page.evaluate("document.querySelector('#recipient').removeAttribute('pattern')")
        form.page.click("text=Review the notification")
        form.page.wait_for_selector("text=This is permanent")
        assert_inert(form.page, "confirmation of the notification")
        assert "pwned-form-reference" in form.page.locator("#confirm-summary").inner_text()
        form.page.click("text=Write to the log (permanent)")
        form.page.wait_for_selector(".field-error")
        assert_inert(form.page, "notification form sent back")
        assert form.page.input_value("#reference") == hostile("form-reference")  # kept, as text
    finally:
        context.close()
