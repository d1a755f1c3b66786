"""Signing in and out of the web UI are forms another site cannot submit (CSRF)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.api_helpers import Fixture, ui_login
from deconflict.api import create_app
from deconflict.api.routes.ui import COOKIE


@pytest.fixture
def browser_like(api_db: Fixture) -> Iterator[TestClient]:
    """A client with its own cookie jar (a browser)."""
    with TestClient(create_app(api_db.path, key_file=api_db.key_file)) as test_client:
        yield test_client


def test_a_sign_in_posted_without_the_forms_token_is_refused_and_sets_no_session(
    browser_like: TestClient, api_db: Fixture
) -> None:
    # What a page on another site can send: the attacker's own token, no nonce cookie, no form token.
    forged = browser_like.post("/ui/login", data={"token": api_db.tokens["aze"]}, follow_redirects=False)
    assert forged.status_code == 403 and COOKIE not in forged.cookies
    assert "came from another site" in forged.text
    assert browser_like.get("/ui/sites", follow_redirects=False).headers["location"] == "/ui/login"


def test_a_sign_in_with_a_form_token_of_another_nonce_is_refused(browser_like: TestClient, api_db: Fixture) -> None:
    form = browser_like.get("/ui/login").text  # the attacker loads the form: its token binds the attacker's nonce
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', form).group(1)  # type: ignore[union-attr]
    browser_like.cookies.clear()  # the victim's browser has another nonce (here: none)
    browser_like.get("/ui/login")
    forged = browser_like.post(
        "/ui/login", data={"token": api_db.tokens["aze"], "csrf": token + "0"}, follow_redirects=False
    )
    assert forged.status_code == 403


def test_signing_in_through_the_form_works(browser_like: TestClient, api_db: Fixture) -> None:
    assert ui_login(browser_like, api_db.tokens["aze"]).status_code == 303
    assert browser_like.get("/ui/sites").status_code == 200


def test_a_forged_sign_out_leaves_the_session_and_the_forms_one_ends_it(
    browser_like: TestClient, api_db: Fixture
) -> None:
    ui_login(browser_like, api_db.tokens["aze"])
    page = browser_like.get("/ui/sites").text
    forged = browser_like.post("/ui/logout", follow_redirects=False)
    assert forged.status_code == 403 and browser_like.get("/ui/sites", follow_redirects=False).status_code == 200
    logout_form = page[page.index('action="/ui/logout"') :]
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', logout_form).group(1)  # type: ignore[union-attr]
    signed_out = browser_like.post("/ui/logout", data={"csrf": csrf}, follow_redirects=False)
    assert signed_out.status_code == 303
    assert browser_like.get("/ui/sites", follow_redirects=False).headers["location"] == "/ui/login"
