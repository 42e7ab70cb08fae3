"""Periods in the words people use (authdemo/human_units.py): exact, never rounded."""

from __future__ import annotations

import pytest

from authdemo.human_units import human_duration, human_seconds


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
