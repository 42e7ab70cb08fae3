"""Durations written beside a setting's name: "kept for 30 days (`AUDIT_RETENTION_DAYS`)".

A citation in the ``NAME = value`` form is compared exactly (check 4); prose says the same
thing in people's units and drifts silently. In every sentence or table row that names a
duration setting (a field of ``authdemo.config.Settings`` ending in ``_SECONDS``,
``_MINUTES``, ``_HOURS`` or ``_DAYS``), every duration written in words ("90 days",
"three years", "12 hours") must be the value of one of the settings named there.

A bound ("at most 24 hours", "at least 8", "within 72 hours", "up to a day") is how the
documents quote a standard's or a law's limit beside our value, so it is not read as
a value; the price is that "kept for at most 30 days" beside a 90-day setting is missed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from authdemo.compliance.documents import Passage

#: Seconds per unit; a month and a year are ranges (28-31 days, 365-366 days).
_UNITS: dict[str, tuple[int, int]] = {
    "second": (1, 1),
    "minute": (60, 60),
    "hour": (3600, 3600),
    "day": (86400, 86400),
    "week": (7 * 86400, 7 * 86400),
    "month": (28 * 86400, 31 * 86400),
    "year": (365 * 86400, 366 * 86400),
}
_SUFFIXES = {"_SECONDS": 1, "_MINUTES": 60, "_HOURS": 3600, "_DAYS": 86400}
_WORDS = {
    "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "fifteen": 15,
    "thirty": 30, "ninety": 90,
}  # fmt: skip
_NUMBER = r"(?P<n>\d[\d,]*(?:\.\d+)?|" + "|".join(sorted(_WORDS, key=len, reverse=True)) + ")"
_DURATION = re.compile(
    rf"(?<![\w.=`-]){_NUMBER}[\s-]+(?P<unit>second|minute|hour|day|week|month|year)s?\b",
    re.IGNORECASE,
)
_BOUND = re.compile(
    r"(?:at most|at least|no more than|no less than|not more than|up to|within|under|over"
    r"|longer than|shorter than|more than|less than)\s+$",
    re.IGNORECASE,
)


_SETTING = re.compile(r"\b(?P<env>AUTHDEMO_)?(?P<name>[A-Z][A-Z0-9_]+)\b(?P<assign>=?)")


def _settings_named(text: str) -> Iterator[str]:
    """Setting names in ``text``, bare or as environment variables, except in the example
    form ``AUTHDEMO_NAME=value`` (a non-default value on purpose, compliance/README.md)."""
    for match in _SETTING.finditer(text):
        if not (match.group("env") and match.group("assign")):
            yield match.group("name")


@dataclass(frozen=True, slots=True)
class Mismatch:
    passage: Passage
    written: str
    settings: tuple[str, ...]
    values: tuple[str, ...]


def seconds_of(name: str, value: object) -> int | None:
    """A duration setting's value in seconds (``None`` for other settings)."""
    for suffix, factor in _SUFFIXES.items():
        if name.endswith(suffix) and isinstance(value, int) and not isinstance(value, bool):
            return value * factor
    return None


def mismatches(passage: Passage, defaults: Mapping[str, object]) -> Iterator[Mismatch]:
    named = {
        name: seconds
        for name in _settings_named(passage.text)
        if (seconds := seconds_of(name, defaults.get(name))) is not None
    }
    if not named:
        return
    for match in _DURATION.finditer(passage.text):
        if _BOUND.search(passage.text[: match.start()]):
            continue
        raw = match.group("n").lower().replace(",", "")
        count = float(_WORDS[raw]) if raw in _WORDS else float(raw)
        low, high = _UNITS[match.group("unit").lower()]
        if not any(count * low <= s <= count * high for s in named.values()):
            yield Mismatch(
                passage,
                match.group(0),
                tuple(sorted(named)),
                tuple(f"{n} = {defaults[n]}" for n in sorted(named)),
            )
