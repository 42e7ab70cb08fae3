"""Which language a request is served in, and the start-up checks on AUTHDEMO_LANGUAGES
(authdemo/i18n.py, decision 0028)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from authdemo import i18n
from authdemo.config import ConfigError, load_settings
from tests.conftest import make_app


@pytest.fixture
def bilingual(tmp_path: Path) -> Flask:
    return make_app(tmp_path, LANGUAGES="en,de")


def served_in(app: Flask, *, accept: str | None = None, chosen: object = None) -> str:
    headers = {"Accept-Language": accept} if accept is not None else {}
    with app.test_request_context("/", headers=headers):
        from flask import session

        if chosen is not None:
            session[i18n.SESSION_KEY] = chosen
        return i18n.select_language()


# --- the order: the person's choice, then the browser, then English --------------------


def test_the_browsers_best_offered_match_wins_over_its_first_unoffered_one(bilingual: Flask):
    assert served_in(bilingual, accept="fr-FR, fr;q=0.9, de;q=0.8, en;q=0.5") == "de"
    assert served_in(bilingual, accept="en-GB, de;q=0.5") == "en"


def test_a_regional_variant_gets_its_language(bilingual: Flask):
    assert served_in(bilingual, accept="de-AT") == "de"


def test_no_or_a_garbled_accept_language_gets_english(bilingual: Flask):
    assert served_in(bilingual) == "en"
    assert served_in(bilingual, accept="fr, es") == "en"
    assert served_in(bilingual, accept=";;;q=x,,") == "en"


def test_the_persons_choice_wins_over_the_browser(bilingual: Flask):
    assert served_in(bilingual, accept="de", chosen="en") == "en"
    assert served_in(bilingual, accept="en", chosen="de") == "de"


def test_a_choice_of_a_language_no_longer_offered_falls_back_to_the_browser(tmp_path: Path):
    english_only = make_app(tmp_path, LANGUAGES="en")
    assert served_in(english_only, accept="de", chosen="de") == "en"
    assert served_in(english_only, accept="de, en;q=0.1") == "en"


def test_a_tampered_choice_is_ignored(bilingual: Flask):
    assert served_in(bilingual, accept="de", chosen=["en"]) == "de"
    assert served_in(bilingual, accept="de", chosen="../../etc") == "de"


def test_the_page_is_served_in_the_chosen_language_and_says_so(bilingual: Flask):
    german = bilingual.test_client().get("/", headers={"Accept-Language": "de"})
    assert '<html lang="de">' in german.text
    assert "Zum Hauptinhalt springen" in german.text
    english = bilingual.test_client().get("/", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in english.text
    assert "Skip to main content" in english.text


def test_english_only_deployments_serve_english_whatever_the_browser_asks(tmp_path: Path):
    english_only = make_app(tmp_path, LANGUAGES="en")
    page = english_only.test_client().get("/", headers={"Accept-Language": "de"})
    assert '<html lang="en">' in page.text
    assert "Skip to main content" in page.text


# --- AUTHDEMO_LANGUAGES fails fast ------------------------------------------------------


def settings_with(languages: str) -> object:
    return load_settings({"LANGUAGES": languages, "DATABASE_URL": "sqlite://"}, environ={})


@pytest.mark.parametrize("value", ["en,xx", "en,klingon", "en,de-", "en,12"])
def test_an_unknown_language_code_stops_the_start(value: str):
    with pytest.raises(ConfigError, match="LANGUAGES"):
        settings_with(value)


@pytest.mark.parametrize(("value", "spelling"), [("en,DE", "'de'"), ("en,de-de", "'de_DE'")])
def test_a_code_spelt_unlike_its_catalogue_folder_stops_the_start(value: str, spelling: str):
    with pytest.raises(ConfigError, match=spelling):
        settings_with(value)


@pytest.mark.parametrize("value", ["", " , ", "de", "en,de,en"])
def test_english_must_be_listed_once_and_nothing_twice(value: str):
    with pytest.raises(ConfigError, match="LANGUAGES"):
        settings_with(value)


def test_an_offered_language_without_a_catalogue_stops_the_app(tmp_path: Path):
    # French is a language Babel knows, but this project ships no French catalogue.
    assert not i18n.catalogue("fr").exists()
    with pytest.raises(ConfigError, match=r"'fr'.*make translations"):
        make_app(tmp_path, LANGUAGES="en,fr")


def test_every_shipped_catalogue_can_be_offered(tmp_path: Path):
    shipped = sorted(p.name for p in i18n.TRANSLATIONS.iterdir() if p.is_dir())
    assert shipped, "no catalogue shipped"
    app = make_app(tmp_path, LANGUAGES=",".join(["en", *shipped]))
    assert app.extensions["authdemo.languages"] == ("en", *shipped)


def test_english_and_german_are_offered_by_default():
    """German is offered: every page is translated (decision 0028, README "Languages")."""
    assert load_settings({"DATABASE_URL": "sqlite://"}, environ={}).languages == ("en", "de")
