"""Languages: which ones this deployment offers, and which one a request is served in.

The one home for languages (decision 0028). Flask-Babel does the translating: templates
use ``_()``, ``gettext``, ``ngettext`` and ``{% trans %}`` (new-style gettext, so a
placeholder is escaped like any other value), Python code imports ``gettext as _`` (and
``lazy_gettext`` for module-level strings) from ``flask_babel``. The catalogues live in
``authdemo/translations/<lang>/LC_MESSAGES/``; docs/translating.md says how to add to them.

A request's language is, in this order:

1. the person's own choice, made with the language selector and kept in the session;
2. the signed-in account's stored language (``users.language``; none = follow the browser),
   which signing in also copies into the session;
3. the best match for the browser's ``Accept-Language`` among the offered languages;
4. English, the language the code is written in.

Only offered languages are ever chosen: ``AUTHDEMO_LANGUAGES`` lists them, and a language
is offered only once every page is translated into it (docs/translating.md).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel import Locale, UnknownLocaleError
from flask import Flask, Response, current_app, has_request_context, request
from flask import session as cookie
from flask_babel import Babel, get_locale, lazy_gettext, refresh
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from authdemo.config import ENV_PREFIX, ConfigError, Settings
from authdemo.errors import InvalidInput
from authdemo.models import User

#: The language the code, templates and msgids are written in. It needs no catalogue.
SOURCE_LANGUAGE = "en"
#: Where the person's choice is kept in the (signed, strictly necessary) session cookie.
SESSION_KEY = "lang"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

babel = Babel()


def parse_languages(value: str) -> tuple[str, ...]:
    """``AUTHDEMO_LANGUAGES`` ("en,de") as language codes, checked: each must be a language
    Babel (CLDR) knows, written as its plain code, listed once; English must be among them,
    because it is what every untranslated message falls back to."""
    codes = tuple(part.strip() for part in value.split(",") if part.strip())
    if not codes:
        raise ConfigError(f"{ENV_PREFIX}LANGUAGES must list at least one language, e.g. en")
    for code in codes:
        try:
            known = str(Locale.parse(code.replace("-", "_")))
        except (UnknownLocaleError, ValueError) as exc:
            raise ConfigError(
                f"{ENV_PREFIX}LANGUAGES: {code!r} is not a language code Babel knows"
            ) from exc
        if known != code:
            raise ConfigError(
                f"{ENV_PREFIX}LANGUAGES: write {code!r} as {known!r} (a catalogue's folder name)"
            )
    if len(set(codes)) != len(codes):
        raise ConfigError(f"{ENV_PREFIX}LANGUAGES lists a language twice")
    if SOURCE_LANGUAGE not in codes:
        raise ConfigError(f"{ENV_PREFIX}LANGUAGES must include {SOURCE_LANGUAGE}")
    return codes


def catalogue(language: str, directory: Path = TRANSLATIONS) -> Path:
    """The compiled catalogue Flask-Babel reads for ``language``."""
    return directory / language / "LC_MESSAGES" / "messages.mo"


def check_catalogues(languages: tuple[str, ...], directory: Path = TRANSLATIONS) -> None:
    """Fail at start-up, not on a person's first page, when an offered language has no
    compiled catalogue (Flask-Babel would silently serve English under its name)."""
    for language in languages:
        if language != SOURCE_LANGUAGE and not catalogue(language, directory).is_file():
            raise ConfigError(
                f"{ENV_PREFIX}LANGUAGES offers {language!r}, but there is no catalogue "
                f"{catalogue(language, directory).relative_to(directory.parent.parent)}: "
                "run `make translations` (docs/translating.md)"
            )


def init_app(app: Flask, settings: Settings) -> None:
    """Bind Flask-Babel to the app (no database I/O)."""
    languages = settings.languages
    check_catalogues(languages)
    app.extensions["authdemo.languages"] = languages
    app.config["BABEL_DEFAULT_LOCALE"] = SOURCE_LANGUAGE
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    babel.init_app(app, locale_selector=select_language)
    # {% trans %} blocks collapse their line breaks and indentation, as babel.cfg's
    # `trimmed = true` does when extracting, so a msgid is the sentence a person reads.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.after_request(_say_which_language)
    app.context_processor(
        lambda: {
            "current_language": current_language(),
            "offered_languages": offered(),
            "language_names": language_names,
            "language_name": language_name,
            "page_data_for_scripts": page_data_for_scripts,
            "return_path": return_path,
        }
    )


#: Answers written in the request's language: pages and problem+json. (JSON data answers
#: hold codes and records, not prose.)
_PROSE = frozenset({"text/html", "application/problem+json"})


def _say_which_language(response: Response) -> Response:
    """``Content-Language`` (RFC 9110 §8.5) on every page and problem+json answer."""
    if response.mimetype in _PROSE:
        response.headers.setdefault("Content-Language", current_language())
    return response


def offered() -> tuple[str, ...]:
    """The languages this deployment offers, in the order the setting lists them."""
    languages: tuple[str, ...] = current_app.extensions["authdemo.languages"]
    return languages


class Source(enum.StrEnum):
    """Where the language of a request's pages comes from (the order in the docstring)."""

    #: Stored on the signed-in account (``users.language``); signing in copies it into the
    #: session, so the session's copy counts as the account's while the two agree.
    ACCOUNT = "account"
    #: Chosen with the selector and kept only in this browser's session cookie: made while
    #: signed out (not stored on the account; compliance/retention.md) or in a
    #: recovery-code session.
    SESSION = "session"
    #: The browser's ``Accept-Language``: nothing is kept.
    BROWSER = "browser"
    #: English: nothing chosen, and the browser asks for no offered language.
    DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class PageLanguage:
    code: str
    source: Source


def page_language(stored: str | None) -> PageLanguage:
    """The language this request's pages are in, and where that comes from (the privacy
    dashboard says both): the locale selector's own choice, so what a page says about it
    is what it does. ``stored``: the signed-in account's stored language, if any."""
    code, source = _selected()
    if source is Source.SESSION and code == stored:
        source = Source.ACCOUNT  # the session's copy of the account's language
    return PageLanguage(code, source)


def select_language() -> str:
    """Flask-Babel's locale selector: the order in the module docstring."""
    if not has_request_context():
        return SOURCE_LANGUAGE
    return _selected()[0]


def _selected() -> tuple[str, Source]:
    """The order in the module docstring. A choice in the session is told apart from the
    account's copy of its language only by ``page_language`` (this runs on every request
    and loads no account for it)."""
    languages = offered()
    chosen = cookie.get(SESSION_KEY)
    if isinstance(chosen, str) and chosen in languages:
        return chosen, Source.SESSION
    stored = _account_language()
    if stored is not None and stored in languages:
        return stored, Source.ACCOUNT
    found = browser_language(languages)
    if found is not None:
        return found, Source.BROWSER
    return SOURCE_LANGUAGE, Source.DEFAULT


def _account_language() -> str | None:
    """The stored language of the account Flask-Login loaded for this request (no query of
    its own). Right after a sign-in the loaded "user" is only an id: the sign-in copied
    the account's language into the session already (``on_sign_in``)."""
    if not current_user.is_authenticated:
        return None
    user: Any = current_user._get_current_object()
    return user.language if isinstance(user, User) else None


def browser_language(languages: tuple[str, ...]) -> str | None:
    """The offered language the browser prefers most (RFC 9110 §12.5.4), taking each of its
    ranges in order of preference and a regional one ("de-AT") for its language when that
    region is not offered. Werkzeug's ``best_match`` tries every exact match before any
    regional one, so "en-GB, de;q=0.5" would get German; this does not."""
    by_code = {code.lower(): code for code in languages}
    for value, quality in request.accept_languages:
        if quality <= 0:
            continue
        wanted = value.replace("-", "_").lower()
        found = by_code.get(wanted) or by_code.get(wanted.split("_")[0])
        if found is not None:
            return found
    return None


def language_names() -> list[tuple[str, str]]:
    """Each offered language with its name in that language ("Deutsch"), for the
    selector: a person who cannot read the page's language still finds their own."""
    return [(code, language_name(code)) for code in offered()]


def language_name(code: str) -> str:
    """A language's name in that language: "Deutsch", "English"."""
    return Locale.parse(code).get_display_name(code) or code


#: A query value the selector carries back as it is: a plain word, an endpoint or a path.
_PLAIN_VALUE = re.compile(r"[\w.:/-]{0,200}")
#: Requests whose page a GET of the same address shows again (RFC 9110 §9.2.1: safe).
_SHOWN_AGAIN_BY_A_GET = frozenset({"GET", "HEAD"})


def return_path() -> str | None:
    """Where the selector brings the person back: this page, with only the query values the
    app itself puts in its links (a ``next`` that ``safe_next`` accepts, plain words such
    as an endpoint), so a page never carries back what someone else put in its address.

    None for a page that answers anything but a GET: the way back is a GET of the page's
    address, which cannot show it again. The address may take POST only (405), and a page
    shown once, such as the recovery codes, would be lost; sending the POST again is no
    way back either (it is not idempotent, RFC 9110 §9.2.2: it would make new codes). Such
    a page offers no selector and says the language can be changed on the next page
    (decision 0028)."""
    from werkzeug.urls import iri_to_uri

    from authdemo.http import safe_next

    if request.method not in _SHOWN_AGAIN_BY_A_GET:
        return None
    kept = [
        (key, value)
        for key, value in request.args.items(multi=True)
        if (safe_next(value, "") if key == "next" else _PLAIN_VALUE.fullmatch(value))
    ]
    query = urlencode(kept)
    return iri_to_uri(request.path + (f"?{query}" if query else ""))


def chosen(value: object) -> str:
    """A language sent by the selector, if it is one this deployment offers."""
    if not isinstance(value, str) or value not in offered():
        raise InvalidInput(_("Please choose one of the languages offered."))
    return value


def keep_choice(language: str) -> None:
    """Keep the choice in the session cookie and serve the rest of this request in it."""
    cookie[SESSION_KEY] = language
    refresh()


def remember_language(session: Session, *, user_id: str, language: str | None) -> None:
    """Store the account's language (None: follow the browser). The caller commits. No
    audit row: the language changes what the pages say, not who can do what (decision
    0028)."""
    session.execute(update(User).where(User.id == user_id).values(language=language))


def on_sign_in(_app: Flask, user: Any = None, **_extra: Any) -> None:
    """Flask-Login's ``user_logged_in``: the account's stored language applies from the
    sign-in on (on any device). An account that stored none keeps the choice this browser
    made before signing in. Reads only; the sign-in committed already."""
    from authdemo.extensions import db

    # One column, not the whole account row: this runs on every sign-in (make bench).
    stored = db.session.scalar(select(User.language).where(User.id == user.get_id()))
    if stored is not None and stored in offered():
        keep_choice(stored)


#: What static/js/api.js and ui.js may tell a person on any page, by key. A feature's own
#: module gets its messages from its view, as ``page_data={"messages": {...}}`` (the
#: passkey ceremonies' in authdemo/passkeys/script_messages.py; docs/translating.md).
SCRIPT_MESSAGES: Mapping[str, Any] = {
    "requestFailed": lazy_gettext("The request failed. Please try again."),
    "noConnection": lazy_gettext(
        "We couldn't reach the server. Please check your connection and try again."
    ),
}


def page_data_for_scripts(page_data: Mapping[str, Any] | None) -> dict[str, Any]:
    """A page's data block (base.html): the view's data, and every message its scripts
    may show, translated into the page's language."""
    data = dict(page_data or {})
    own: Mapping[str, Any] = data.get("messages") or {}
    data["messages"] = {key: str(text) for key, text in {**SCRIPT_MESSAGES, **own}.items()}
    return data


def current_language() -> str:
    """The language this request is served in, as a code for ``<html lang>`` and
    ``Content-Language``."""
    locale = get_locale()
    return SOURCE_LANGUAGE if locale is None else str(locale)
