"""Languages: which ones this deployment offers, and which one a request is served in.

The one home for languages (decision 0028). Flask-Babel does the translating: templates
use ``_()``, ``gettext``, ``ngettext`` and ``{% trans %}`` (new-style gettext, so a
placeholder is escaped like any other value), Python code imports ``gettext as _`` (and
``lazy_gettext`` for module-level strings) from ``flask_babel``. The catalogues live in
``authdemo/translations/<lang>/LC_MESSAGES/``; docs/translating.md says how to add to them.

A request's language is, in this order:

1. the person's own choice, made with the language selector and kept in the session;
2. the best match for the browser's ``Accept-Language`` among the offered languages;
3. English, the language the code is written in.

Only offered languages are ever chosen: ``AUTHDEMO_LANGUAGES`` lists them, and a language
is offered only once every page is translated into it (docs/translating.md).
"""

from __future__ import annotations

from pathlib import Path

from babel import Locale, UnknownLocaleError
from flask import Flask, current_app, has_request_context, request
from flask import session as cookie
from flask_babel import Babel, get_locale

from authdemo.config import ENV_PREFIX, ConfigError, Settings

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
    app.context_processor(
        lambda: {"current_language": current_language(), "offered_languages": offered()}
    )


def offered() -> tuple[str, ...]:
    """The languages this deployment offers, in the order the setting lists them."""
    languages: tuple[str, ...] = current_app.extensions["authdemo.languages"]
    return languages


def select_language() -> str:
    """Flask-Babel's locale selector: the order in the module docstring."""
    if not has_request_context():
        return SOURCE_LANGUAGE
    languages = offered()
    chosen = cookie.get(SESSION_KEY)
    if isinstance(chosen, str) and chosen in languages:
        return chosen
    return browser_language(languages) or SOURCE_LANGUAGE


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


def current_language() -> str:
    """The language this request is served in, as a code for ``<html lang>`` and
    ``Content-Language``."""
    locale = get_locale()
    return SOURCE_LANGUAGE if locale is None else str(locale)
