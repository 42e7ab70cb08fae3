"""Periods in the words a person uses: "3 years", "12 hours", never "1095 days".

The one helper for retention periods and timeouts shown to people (the privacy notice,
the consent notice's deployment facts, the privacy dashboard). A period is written in the
largest unit that divides it exactly, so the words never round it: 1095 days is "3 years"
(the settings count a year as 365 days), 43200 seconds is "12 hours", 90 days stays
"90 days". Months are never used, because they are not a fixed number of days.
"""

from __future__ import annotations

#: Days in a year as the settings count them (``CONSENT_RETENTION_DAYS = 3 * 365``).
YEAR_DAYS = 365

_SECOND_UNITS = (
    ("year", YEAR_DAYS * 86400),
    ("day", 86400),
    ("hour", 3600),
    ("minute", 60),
    ("second", 1),
)


def _count(n: int, unit: str) -> str:
    return f"1 {unit}" if n == 1 else f"{n} {unit}s"


def human_seconds(seconds: int) -> str:
    """A positive number of seconds in its largest exact unit: 1800 -> "30 minutes"."""
    if seconds <= 0:
        raise ValueError("a period is a positive number of seconds")
    for unit, size in _SECOND_UNITS:
        if seconds % size == 0:
            return _count(seconds // size, unit)
    raise AssertionError("unreachable: every whole number of seconds divides by 1")


def human_duration(days: int) -> str:
    """A retention period in days as a person says it: 1095 -> "3 years", 90 -> "90 days"."""
    if days <= 0:
        raise ValueError("a retention period is a positive number of days")
    return human_seconds(days * 86400)
