"""Passkey provider names from the AAGUID (authenticator model id).

The AAGUID names a product ("iCloud Keychain", "Windows Hello"), never a device or a
person. The table in ``authdemo/data/passkey_providers.json`` is a small, names-only
subset of the community list it cites; an unknown or all-zero AAGUID gives no name.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

ZERO_AAGUID = "00000000-0000-0000-0000-000000000000"


@cache
def _table() -> dict[str, str]:
    text = resources.files("authdemo").joinpath("data/passkey_providers.json").read_text()
    data: dict[str, str] = json.loads(text)
    return {k.lower(): v for k, v in data.items() if not k.startswith("_")}


def provider_name(aaguid: str) -> str | None:
    if not aaguid or aaguid == ZERO_AAGUID:
        return None
    return _table().get(aaguid.lower())
