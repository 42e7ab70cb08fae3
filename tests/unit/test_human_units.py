"""Periods in the words people use (authdemo/human_units.py): exact, never rounded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask import Flask

from authdemo.human_units import (
    human_date,
    human_duration,
    human_moment,
    human_seconds,
    human_short_date,
)
from tests.conftest import make_app


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (1, "1 second"),
        (90, "90 seconds"),
        (300, "5 minutes"),
        (1800, "30 minutes"),
        (43200, "12 hours"),
        (86400, "1 day"),
        (90 * 86400, "90 days"),
        (1095 * 86400, "3 years"),
        (3601, "3601 seconds"),
    ],
)
def test_a_period_is_said_in_its_largest_exact_unit(seconds: int, words: str) -> None:
    assert human_seconds(seconds) == words


def test_days_use_the_same_rule() -> None:
    assert human_duration(1095) == "3 years"
    assert human_duration(35) == "35 days"


@pytest.mark.parametrize("seconds", [0, -1])
def test_a_period_must_be_positive(seconds: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        human_seconds(seconds)


# --- in the request's language (issue 19 item 5) ---------------------------------------


@pytest.fixture
def bilingual(tmp_path: Path) -> Flask:
    return make_app(tmp_path, LANGUAGES="en,de")


@pytest.mark.parametrize(
    ("language", "days", "words"),
    [
        ("de", 1095, "3 Jahre"),
        ("de", 365, "1 Jahr"),
        ("de", 1, "1 Tag"),
        ("de", 90, "90 Tage"),
        ("en", 1095, "3 years"),
        ("en", 1, "1 day"),
    ],
)
def test_a_period_is_said_in_the_requests_language(
    bilingual: Flask, language: str, days: int, words: str
) -> None:
    with bilingual.test_request_context("/", headers={"Accept-Language": language}):
        assert human_duration(days) == words


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (1, "1 Sekunde"),
        (90, "90 Sekunden"),
        (60, "1 Minute"),
        (1800, "30 Minuten"),
        (3600, "1 Stunde"),
        (43200, "12 Stunden"),
    ],
)
def test_every_unit_has_its_german_singular_and_plural(
    bilingual: Flask, seconds: int, words: str
) -> None:
    with bilingual.test_request_context("/", headers={"Accept-Language": "de"}):
        assert human_seconds(seconds) == words


@pytest.mark.parametrize(
    ("language", "day", "moment"),
    [
        ("en", "4 December 2026", "4 December 2026, 09:30 UTC"),
        ("de", "4. Dezember 2026", "4. Dezember 2026, 09:30 UTC"),
    ],
)
def test_dates_are_written_as_the_language_writes_them(
    bilingual: Flask, language: str, day: str, moment: str
) -> None:
    with bilingual.test_request_context("/", headers={"Accept-Language": language}):
        assert human_date(date(2026, 12, 4)) == day
        assert human_moment(datetime(2026, 12, 4, 9, 30, tzinfo=UTC)) == moment
        # A moment is said in UTC whatever zone it was given in.
        later = datetime(2026, 12, 4, 10, 30, tzinfo=timezone(timedelta(hours=1)))
        assert human_moment(later) == moment
        # The database's naive moments are UTC, whatever the server's own zone.
        assert human_moment(datetime(2026, 12, 4, 9, 30)) == moment


def test_outside_a_request_the_words_are_english() -> None:
    assert human_duration(1095) == "3 years"
    assert human_date(date(2026, 12, 4)) == "4 December 2026"


@pytest.mark.parametrize(("language", "day"), [("en", "4 Dec 2026"), ("de", "4. Dez. 2026")])
def test_a_short_date_abbreviates_the_month_as_the_language_does(
    bilingual: Flask, language: str, day: str
) -> None:
    with bilingual.test_request_context("/", headers={"Accept-Language": language}):
        assert human_short_date(date(2026, 12, 4)) == day
