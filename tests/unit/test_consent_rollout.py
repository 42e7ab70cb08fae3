"""Kill switches and jurisdiction rollout decisions, without HTTP."""

from __future__ import annotations

import dataclasses

import pytest

from authdemo.config import Settings
from authdemo.consent.rollout import (
    ENROLMENT_OFF,
    NOT_HERE,
    SIGNIN_OFF,
    SWITCHED_OFF,
    Availability,
    allowed_in,
    availability,
    parse_places,
    place_of,
    switch_state,
)

BASE = Settings(DATABASE_URL="sqlite://")


def settings(**changes: object) -> Settings:
    return dataclasses.replace(BASE, **changes)  # type: ignore[arg-type]


def test_everything_on_by_default() -> None:
    assert availability(BASE) == Availability(True, True)


@pytest.mark.parametrize(
    ("enrolment", "signin", "expected"),
    [
        (False, True, Availability(False, True, ENROLMENT_OFF, None)),
        (True, False, Availability(True, False, None, SIGNIN_OFF)),
        (False, False, Availability(False, False, SWITCHED_OFF, SWITCHED_OFF)),
    ],
)
def test_kill_switches_turn_each_part_off_with_a_reason(
    enrolment: bool, signin: bool, expected: Availability
) -> None:
    chosen = settings(PASSKEY_ENROLMENT_ENABLED=enrolment, PASSKEY_SIGNIN_ENABLED=signin)
    assert availability(chosen) == expected


def test_outside_the_allowed_places_everything_is_off() -> None:
    chosen = settings(JURISDICTION="US", PASSKEY_JURISDICTIONS="EU")
    assert availability(chosen) == Availability(False, False, NOT_HERE, NOT_HERE)


@pytest.mark.parametrize(
    ("place", "allowed", "expected"),
    [
        ("DE", "EU", True),
        ("NO", "EU", False),
        ("NO", "EEA", True),
        ("US-IL", "US", True),
        ("US-IL", "US-CA", False),
        ("US", "US-IL", False),
        ("GB", "", True),
        ("", "", True),
        ("", "EU", False),
    ],
)
def test_allowed_in(place: str, allowed: str, expected: bool) -> None:
    assert allowed_in(place, parse_places(allowed)) is expected


def test_places_are_parsed_case_insensitively_and_trimmed() -> None:
    assert parse_places(" eu, us-il ,,") == frozenset({"EU", "US-IL"})


def test_country_header_wins_when_configured() -> None:
    chosen = settings(JURISDICTION="DE", COUNTRY_HEADER="CF-IPCountry")
    assert place_of(chosen, "fr") == "FR"
    assert place_of(chosen, None) == "DE"


def test_country_header_value_is_ignored_when_not_configured() -> None:
    assert place_of(settings(JURISDICTION="DE"), "US") == "DE"


@pytest.mark.parametrize("value", ["", "D", "DEUTSCHLAND", "DE,US", "DE\r\nX: y", "<b>"])
def test_malformed_country_counts_as_unknown(value: str) -> None:
    assert place_of(settings(JURISDICTION="DE", COUNTRY_HEADER="X-Country"), value) == ""


def test_switch_state_holds_no_personal_data_and_describes_the_rollout() -> None:
    chosen = settings(
        PASSKEY_SIGNIN_ENABLED=False,
        JURISDICTION="de",
        PASSKEY_JURISDICTIONS="eu,us",
        COUNTRY_HEADER="X-Country",
    )
    assert switch_state(chosen) == {
        "enrolment": True,
        "signin": False,
        "reason": "jurisdiction=DE; allowed=EU,US; country_header=X-Country",
    }
