"""Places, as a proxy or an operator names them: ISO 3166-1 alpha-2 country codes, ISO 3166-2
subdivisions ("US-IL"), and two groups, "EU" and "EEA".

The EU's members are data, not code: ``authdemo/data/eu-member-states.json`` says where
the list was checked and when. A code a proxy never sends is refused at start-up with the
code it meant, because a place that never matches would silently switch passkeys off (or
leave them on) for a whole country: "UK" and "EL" are only *exceptionally reserved* in
ISO 3166-1; the codes are GB and GR.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

#: "DE", "US-IL" (ISO 3166-2 subdivision), or a group name such as "EU".
PLACE = re.compile(r"[A-Z]{2,3}(-[A-Z0-9]{1,3})?")
#: Codes people write that ISO 3166-1 does not assign, and the code they mean.
NOT_ISO = {"UK": "GB", "EL": "GR"}


@cache
def _member_states() -> dict[str, Any]:
    text = resources.files("authdemo").joinpath("data/eu-member-states.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def eu() -> frozenset[str]:
    return frozenset(_member_states()["members"])


def groups() -> Mapping[str, frozenset[str]]:
    """Groups an operator may list instead of single countries."""
    members = eu()
    return {"EU": members, "EEA": members | frozenset(_member_states()["eea_only"])}


def parse_places(raw: str) -> frozenset[str]:
    return frozenset(part.strip().upper() for part in raw.split(",") if part.strip())


def problem_with(place: str) -> str | None:
    """Why ``place`` (upper case) is not a place we can match, or None."""
    if place in groups():
        return None
    if not PLACE.fullmatch(place) or len(place.split("-")[0]) != 2:
        return (
            f"{place!r} is not an ISO 3166-1 alpha-2 code (e.g. DE), "
            "a subdivision (US-IL), EU or EEA"
        )
    country = place.split("-")[0]
    if country in NOT_ISO:
        return (
            f"{place!r} is not an ISO 3166-1 code and no proxy sends it: "
            f"write {NOT_ISO[country]} instead"
        )
    return None
