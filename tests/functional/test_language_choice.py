"""The language selector on every page (issue 19 item 1, decision 0028): a plain form that
works without JavaScript, kept in the session and, when signed in, on the account."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import Browser, make_app
from tests.support.authenticator import SoftwareAuthenticator

_FORM = re.compile(r'<form method="post" action="(/language)"[^>]*>(.*?)</form>', re.DOTALL)
_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


@pytest.fixture
def app(tmp_path: Path, clock: Any) -> Flask:
    return make_app(tmp_path, clock, LANGUAGES="en,de")


def choose(browser: Browser, page: str, language: str) -> Any:
    """Pick ``language`` in the footer of ``page`` and send the form, as a person does."""
    html = browser.client.get(page).get_data(as_text=True)
    form = _FORM.search(html)
    assert form, f"no language selector on {page}"
    fields = dict(_HIDDEN.findall(form.group(2)))
    assert f'<option value="{language}"' in form.group(2)
    return browser.client.post(form.group(1), data={**fields, "language": language})


def lang_of(browser: Browser, page: str) -> str:
    html = browser.client.get(page, follow_redirects=True).get_data(as_text=True)
    found = re.search(r'<html lang="([^"]+)">', html)
    assert found
    return found.group(1)


def test_each_language_is_named_in_itself(browser: Browser):
    html = browser.client.get("/signin").get_data(as_text=True)
    assert '<option value="de" lang="de">Deutsch</option>' in html
    assert '<option value="en" lang="en" selected>English</option>' in html


@pytest.mark.parametrize("page", ["/", "/signin", "/privacy/notice?x=1"])
def test_choosing_a_language_returns_to_the_same_page_in_it(browser: Browser, page: str):
    response = choose(browser, page, "de")
    assert response.status_code == 303
    assert response.headers["Location"] == page
    assert lang_of(browser, page) == "de"
    assert lang_of(browser, "/signup") == "de", "the choice holds on every page"


def test_the_choice_wins_over_the_browsers_language(browser: Browser):
    choose(browser, "/", "en")
    html = browser.client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="en">' in html


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"]
)
def test_the_way_back_is_never_another_site(browser: Browser, target: str):
    response = browser.post_form("/language", {"language": "de", "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("data", [{"language": "xx"}, {"language": "DE"}, {}, {"language": ""}])
def test_a_language_not_offered_is_a_clear_400(browser: Browser, data: dict[str, str]):
    response = browser.post_form("/language", {"next": "/", **data})
    assert response.status_code == 400
    assert "text/html" in response.content_type
    assert lang_of(browser, "/") == "en"


def test_a_language_not_offered_is_a_problem_for_json_clients(browser: Browser):
    response = browser.client.post(
        "/language",
        data={"csrf_token": browser.csrf, "language": "fr"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"


def test_the_selector_needs_the_csrf_token(browser: Browser):
    response = browser.client.post("/language", data={"language": "de", "next": "/"})
    assert response.status_code == 400
    assert lang_of(browser, "/") == "en"


def test_a_signed_in_choice_follows_the_account_to_another_device(
    browser: Browser, new_browser: Any, authenticator: SoftwareAuthenticator
):
    browser.sign_up_with_passkey(authenticator)
    choose(browser, "/account", "de")
    other = new_browser()
    assert lang_of(other, "/signin") == "en"
    assert other.sign_in_with_passkey(authenticator).status_code == 200
    assert lang_of(other, "/account") == "de"


def test_a_choice_made_before_signing_in_survives_the_sign_in_and_the_sign_out(
    browser: Browser, authenticator: SoftwareAuthenticator
):
    browser.sign_up_with_passkey(authenticator)
    browser.sign_out()
    choose(browser, "/signin", "de")
    assert browser.sign_in_with_passkey(authenticator).status_code == 200
    assert lang_of(browser, "/account") == "de"
    browser.sign_out()
    assert lang_of(browser, "/signin") == "de"


def test_an_account_without_a_stored_language_follows_the_browser(
    browser: Browser, new_browser: Any, authenticator: SoftwareAuthenticator
):
    browser.sign_up_with_passkey(authenticator)
    other = new_browser()
    assert other.sign_in_with_passkey(authenticator).status_code == 200
    german = other.client.get("/account", headers={"Accept-Language": "de"})
    assert '<html lang="de">' in german.get_data(as_text=True)


def test_the_export_says_which_language_the_account_stored(
    browser: Browser, authenticator: SoftwareAuthenticator
):
    browser.sign_up_with_passkey(authenticator, username="ada")
    assert browser.client.get("/api/privacy/export").get_json()["account"]["language"] is None
    choose(browser, "/account", "de")
    assert browser.client.get("/api/privacy/export").get_json()["account"]["language"] == "de"
    page = browser.client.get("/privacy").get_data(as_text=True)
    assert re.search(r'id="privacy-language">Deutsch, bei Ihrem Konto gespeichert<', page)


def session_cookie(browser: Browser, app: Flask) -> dict[str, Any]:
    """What the browser's session cookie says, read as anyone holding it can (it is signed,
    not encrypted)."""
    cookie = browser.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    if cookie is None or not cookie.value:
        return {}
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    value: dict[str, Any] = serializer.loads(cookie.value)
    return value


def test_erasure_leaves_no_copy_of_the_language_anywhere(
    browser: Browser, authenticator: SoftwareAuthenticator, app: Flask
):
    from authdemo.extensions import db
    from authdemo.models import Base
    from tests.functional.test_privacy_erasure import delete_account

    browser.sign_up_with_passkey(authenticator, username="ada")
    choose(browser, "/account", "de")
    assert session_cookie(browser, app).get("lang") == "de"
    goodbye = delete_account(browser, "ada")
    assert goodbye.status_code == 200
    assert '<html lang="de">' in goodbye.get_data(as_text=True), "said goodbye in German"
    # The browser keeps nothing of the person's, not even the language...
    assert "lang" not in session_cookie(browser, app)
    # ...and no row anywhere says "de" (the account row, the only one that did, is gone).
    with app.app_context():
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if column.type.python_type is str:
                    found = db.session.execute(table.select().where(column == "de")).first()
                    assert found is None, f"{table.name}.{column.name} still says de"


def test_the_browsers_language_alone_stores_nothing_on_the_device(browser: Browser, app: Flask):
    response = browser.client.get("/", headers={"Accept-Language": "de"})
    assert '<html lang="de">' in response.get_data(as_text=True)
    assert "lang" not in session_cookie(browser, app)


def test_a_signed_out_choice_is_a_code_in_the_session_cookie_until_the_browser_closes(
    browser: Browser, app: Flask
):
    response = choose(browser, "/", "de")
    # The CSRF secret every form already had, and the language: nothing else.
    assert set(session_cookie(browser, app)) == {"csrf_token", "lang"}
    assert session_cookie(browser, app)["lang"] == "de"
    set_cookie = response.headers["Set-Cookie"]
    assert "Expires" not in set_cookie
    assert "Max-Age" not in set_cookie


# --- problem+json and error pages in the request's language (issue 19 item 1) -----------


def test_a_problem_is_told_in_the_requests_language_and_says_which(browser: Browser):
    asked = {"Accept": "application/json", "Accept-Language": "de"}
    response = browser.client.post(
        "/language", data={"csrf_token": browser.csrf, "language": "fr"}, headers=asked
    )
    assert response.status_code == 400
    assert response.headers["Content-Language"] == "de"
    problem = response.get_json()
    assert problem["title"] == "Einige der gesendeten Angaben waren ungültig."
    assert problem["detail"] == "Bitte wählen Sie eine der angebotenen Sprachen."
    # What a program reads stays the same in every language.
    assert problem["type"].endswith("/invalid-input")


def test_a_problem_in_english_is_unchanged(browser: Browser):
    response = browser.client.get("/api/no-such-thing", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert response.headers["Content-Language"] == "en"
    assert response.get_json()["title"] == "We couldn't find that page."


def test_the_friendly_error_page_follows_the_chosen_language(browser: Browser):
    choose(browser, "/", "de")
    response = browser.client.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["Content-Language"] == "de"
    html = response.get_data(as_text=True)
    assert "<h1>Diese Seite haben wir nicht gefunden.</h1>" in html
    assert "Zur Startseite" in html


# --- scripts' messages come translated in the page's data block (issue 19 item 1) --------


def script_messages(html: str) -> dict[str, str]:
    import json

    block = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S)
    assert block
    messages: dict[str, str] = json.loads(block.group(1))["messages"]
    return messages


@pytest.mark.parametrize("page", ["/", "/signin", "/signup", "/privacy/notice"])
def test_every_page_hands_its_scripts_their_messages_in_its_language(browser: Browser, page: str):
    from authdemo.i18n import SCRIPT_MESSAGES

    english = script_messages(browser.client.get(page).get_data(as_text=True))
    choose(browser, page, "de")
    german = script_messages(browser.client.get(page).get_data(as_text=True))
    assert set(SCRIPT_MESSAGES) <= set(english) == set(german)
    assert english["requestFailed"] == "The request failed. Please try again."
    assert (
        german["requestFailed"] == "Die Anfrage ist fehlgeschlagen. Bitte versuchen Sie es erneut."
    )
    assert all(german[key] != english[key] for key in SCRIPT_MESSAGES)


def test_the_way_back_keeps_the_pages_own_query_and_nothing_someone_else_put_there(
    browser: Browser,
):
    assert choose(browser, "/signin?next=/account", "de").headers["Location"] == (
        "/signin?next=%2Faccount"
    )
    page = "/signin?next=//evil.example/&x=<script>alert(1)</script>"
    html = browser.client.get(page).get_data(as_text=True)
    assert "evil.example" not in html
    assert "alert(1)" not in html
    assert choose(browser, page, "en").headers["Location"] == "/signin"
