"""Periods and dates in the words a person uses, in their language: "3 years", "3 Jahre",
"4 December 2026", "4. Dezember 2026"; never "1095 days".

The one helper for retention periods, timeouts and dates shown to people (the privacy
notice, the consent notice's deployment facts, the privacy dashboard, the account pages).
A period is written in the largest unit that divides it exactly, so the words never round
it: 1095 days is "3 years" (the settings count a year as 365 days), 43200 seconds is
"12 hours", 90 days stays "90 days". Months are never used, because they are not a fixed
number of days.

The words come from the request's language (authdemo/i18n.py, Babel's plural rules);
outside a request (the CLI, `flask compliance check`) they are English. Numbers are whole
and written without grouping in every language ("3601 seconds"), so the English wording
the compliance check reads is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from babel.dates import format_date, format_datetime
from flask_babel import get_locale, ngettext

#: Days in a year as the settings count them (``CONSENT_RETENTION_DAYS = 3 * 365``).
YEAR_DAYS = 365

_SECOND_UNITS: tuple[tuple[Callable[[int], str], int], ...] = (
    (lambda n: ngettext("%(num)d year", "%(num)d years", n), YEAR_DAYS * 86400),
    (lambda n: ngettext("%(num)d day", "%(num)d days", n), 86400),
    (lambda n: ngettext("%(num)d hour", "%(num)d hours", n), 3600),
    (lambda n: ngettext("%(num)d minute", "%(num)d minutes", n), 60),
    (lambda n: ngettext("%(num)d second", "%(num)d seconds", n), 1),
)

#: A day as people write it, per language (CLDR patterns). English keeps the
#: day-month-year order the pages always had; a language not listed gets CLDR's "long".
_DAY_PATTERNS = {"en": "d MMMM y", "de": "d. MMMM y"}
#: The same with the month abbreviated, where a text must stay short (a passkey's default
#: name, "Passkey from 4 Dec 2026"); a language not listed gets CLDR's "medium".
_SHORT_DAY_PATTERNS = {"en": "d MMM y", "de": "d. MMM y"}


def human_seconds(seconds: int) -> str:
    """A positive number of seconds in its largest exact unit: 1800 -> "30 minutes"."""
    if seconds <= 0:
        raise ValueError("a period is a positive number of seconds")
    for words, size in _SECOND_UNITS:
        if seconds % size == 0:
            return str(words(seconds // size))
    raise AssertionError("unreachable: every whole number of seconds divides by 1")


def human_duration(days: int) -> str:
    """A retention period in days as a person says it: 1095 -> "3 years", 90 -> "90 days"."""
    if days <= 0:
        raise ValueError("a retention period is a positive number of days")
    return human_seconds(days * 86400)


def _language() -> str:
    locale = get_locale()
    return "en" if locale is None else str(locale)


def human_date(day: date) -> str:
    """A day: "4 December 2026", "4. Dezember 2026"."""
    language = _language()
    return format_date(day, _DAY_PATTERNS.get(language, "long"), locale=language)


def human_short_date(day: date) -> str:
    """A day with its month abbreviated: "4 Dec 2026", "4. Dez. 2026"."""
    language = _language()
    return format_date(day, _SHORT_DAY_PATTERNS.get(language, "medium"), locale=language)


def human_moment(moment: datetime) -> str:
    """A moment, in UTC (the server knows no one's time zone): "4 December 2026, 09:30 UTC".
    A naive moment is UTC already, as the database keeps them."""
    language = _language()
    pattern = _DAY_PATTERNS.get(language, "long") + ", HH:mm"
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    text = format_datetime(utc, pattern, tzinfo=UTC, locale=language)
    return f"{text} UTC"
