"""Kill switches and jurisdiction rollout decisions, without HTTP."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from authdemo import jurisdictions
from authdemo.config import ConfigError, Settings, load_settings
from authdemo.consent.rollout import (
    ENROLMENT_OFF,
    GROUPS,
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
MEMBER_STATES = Path(__file__).resolve().parents[2] / "authdemo/data/eu-member-states.json"


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


# --- places are ISO 3166-1 codes; the EU is a committed list --------------------------------


def member_states_file() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MEMBER_STATES.read_text(encoding="utf-8"))
    return data


def test_the_eu_group_is_exactly_the_27_member_states_of_the_committed_list() -> None:
    data = member_states_file()
    assert data["source"]
    assert date.fromisoformat(data["checked"]) <= date.today()
    assert len(data["members"]) == 27
    assert GROUPS["EU"] == frozenset(data["members"])
    assert GROUPS["EEA"] == frozenset(data["members"]) | {"IS", "LI", "NO"}
    # The member the first list forgot, and the ISO code of Greece (the EU writes EL).
    assert {"HU", "GR"} <= GROUPS["EU"]
    assert not {"EL", "GB", "UK"} & GROUPS["EU"]


def test_every_member_is_an_iso_alpha_2_code() -> None:
    for code in member_states_file()["members"]:
        assert re.fullmatch("[A-Z]{2}", code), code
        assert jurisdictions.problem_with(code) is None, code


def test_a_hungarian_visitor_is_inside_the_eu_group() -> None:
    chosen = settings(COUNTRY_HEADER="X-Country", PASSKEY_JURISDICTIONS="EU")
    assert availability(chosen, country="HU").enrolment is True


@pytest.mark.parametrize(("written", "meant"), [("UK", "GB"), ("EL", "GR"), ("UK-ENG", "GB")])
@pytest.mark.parametrize("setting", ["JURISDICTION", "PASSKEY_JURISDICTIONS"])
def test_start_up_refuses_a_code_no_proxy_sends_and_names_the_iso_code(
    written: str, meant: str, setting: str
) -> None:
    environ = {"AUTHDEMO_DATABASE_URL": "sqlite://", f"AUTHDEMO_{setting}": f"DE, {written}"}
    with pytest.raises(ConfigError, match=rf"AUTHDEMO_{setting}: '{written}'.*write {meant}"):
        load_settings(environ=environ, instance_path=None)


def test_start_up_refuses_what_is_not_a_place() -> None:
    with pytest.raises(ConfigError, match="ISO 3166-1 alpha-2"):
        load_settings(
            environ={"AUTHDEMO_DATABASE_URL": "sqlite://", "AUTHDEMO_JURISDICTION": "Europe"}
        )


def test_start_up_accepts_countries_subdivisions_and_groups() -> None:
    environ = {
        "AUTHDEMO_DATABASE_URL": "sqlite://",
        "AUTHDEMO_JURISDICTION": "gb",
        "AUTHDEMO_PASSKEY_JURISDICTIONS": "EU, EEA, GB, US-IL",
    }
    assert load_settings(environ=environ).PASSKEY_JURISDICTIONS == "EU, EEA, GB, US-IL"
