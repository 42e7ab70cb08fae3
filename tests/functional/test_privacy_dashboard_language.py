"""The privacy dashboard says which language the pages are in and where that choice is
kept, truthfully for each way a language is chosen (issue 19 review; decision 0028):

- chosen with the selector while signed in: stored with the account (the export says it,
  and another device that signs in gets it);
- chosen while signed out, before signing up: kept only in this browser's session cookie,
  not with the account (compliance/retention.md; the export says none is stored);
- nothing chosen: the browser's language settings (``Accept-Language``), kept nowhere;
  English when they ask for no language offered.

Each case checks the claim against where the language really is: the account's export,
the session cookie the browser holds, another browser signing in.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.conftest import Browser
from tests.functional.test_account_pages_in_german import visible
from tests.functional.test_language_choice import choose, lang_of, session_cookie
from tests.support.authenticator import SoftwareAuthenticator


def dashboard_says(browser: Browser) -> dict[str, str]:
    """The dashboard's language rows as the person reads them, by the row's label."""
    html = browser.client.get("/privacy").get_data(as_text=True)
    rows = {}
    for row_id in ("privacy-language", "privacy-account-language"):
        start = html.find(f'id="{row_id}"')
        if start != -1:
            row = html[html.rfind("<div>", 0, start) : html.index("</div>", start)]
            rows[row_id] = visible(row)[1]
    return rows


def exported_language(browser: Browser) -> Any:
    return browser.client.get("/api/privacy/export").get_json()["account"]["language"]


def test_a_choice_made_while_signed_out_is_said_to_be_kept_in_this_browser_only(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    choose(browser, "/", "de")  # signed out, then signs up
    assert browser.sign_up_with_passkey(authenticator).status_code == 200
    assert dashboard_says(browser) == {
        "privacy-language": "Sprache der Seiten Deutsch, in diesem Browser gewählt und nur in "
        "seinem Cookie gespeichert, nicht bei Ihrem Konto",
        "privacy-account-language": "Bei Ihrem Konto gespeicherte Sprache keine",
    }
    # Where it really is: in the cookie, and not on the account.
    assert session_cookie(browser, app)["lang"] == "de"
    assert exported_language(browser) is None


def test_a_choice_made_while_signed_in_is_said_to_be_stored_with_the_account(
    browser: Browser, new_browser: Any, authenticator: SoftwareAuthenticator
) -> None:
    browser.sign_up_with_passkey(authenticator)
    choose(browser, "/account", "de")
    assert dashboard_says(browser) == {
        "privacy-language": "Sprache der Seiten Deutsch, bei Ihrem Konto gespeichert",
    }
    # Where it really is: on the account, so another device signing in gets it.
    assert exported_language(browser) == "de"
    other = new_browser()
    assert other.sign_in_with_passkey(authenticator).status_code == 200
    assert lang_of(other, "/account") == "de"


def test_a_choice_made_while_signed_in_is_said_in_english_too(
    browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    browser.sign_up_with_passkey(authenticator)
    browser.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    choose(browser, "/account", "en")
    assert dashboard_says(browser) == {
        "privacy-language": "Language for the pages English, stored with your account",
    }
    assert exported_language(browser) == "en"


def test_the_browsers_language_is_said_to_come_from_its_settings_and_be_stored_nowhere(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    browser.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de-DE,de;q=0.9,en;q=0.5"
    assert browser.sign_up_with_passkey(authenticator).status_code == 200
    assert dashboard_says(browser) == {
        "privacy-language": "Sprache der Seiten Deutsch, aus den Spracheinstellungen Ihres "
        "Browsers (nicht bei Ihrem Konto gespeichert)",
        "privacy-account-language": "Bei Ihrem Konto gespeicherte Sprache keine",
    }
    assert "lang" not in session_cookie(browser, app)
    assert exported_language(browser) is None


def test_english_is_said_to_be_used_when_the_browser_asks_for_no_language_offered(
    browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    browser.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-FR,fr;q=0.9"
    assert browser.sign_up_with_passkey(authenticator).status_code == 200
    assert dashboard_says(browser) == {
        "privacy-language": "Language for the pages English: your browser's language settings "
        "ask for none of the languages offered here",
        "privacy-account-language": "Language stored with your account none",
    }
