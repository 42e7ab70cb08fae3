"""What the documents say about client addresses matches the code (issue 16 item 1).

The claim is "kept only as a keyed hash for at most N hours for rate limiting": N must be
the longest window of the limits that count per address, as the code computes it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from authdemo.compliance import manifest
from authdemo.compliance.inventory import Inventory, load
from authdemo.config import load_settings
from authdemo.ratelimit import ADDRESS_LIMITS, address_retention_seconds

ROOT = Path(__file__).resolve().parents[2]
CLAIM = re.compile(r"keyed\s+hash\s+for\s+at\s+most\s+(\d+)\s+hours", re.IGNORECASE)
DOCUMENTS = (
    "compliance/record-of-processing.md",
    "compliance/dpia.md",
    "compliance/retention.md",
    "compliance/data-inventory.yaml",
)
SETTINGS = load_settings({"ENV": "testing", "DATABASE_URL": "sqlite://"}, environ={})


def test_the_address_retention_is_the_longest_per_address_window() -> None:
    assert ADDRESS_LIMITS == (
        "RATELIMIT_CEREMONY",
        "RATELIMIT_SIGNUP",
        "RATELIMIT_PASSWORD_IP",
        "RATELIMIT_COMPLAINT",
        "RATELIMIT_CEREMONY_PROBLEM",
    )
    assert address_retention_seconds(SETTINGS) == 24 * 3600  # "500 per day"


@pytest.mark.parametrize("document", DOCUMENTS)
def test_each_document_states_the_address_retention_of_the_code(document: str) -> None:
    stated = {int(hours) for hours in CLAIM.findall((ROOT / document).read_text())}
    assert stated == {address_retention_seconds(SETTINGS) // 3600}


def test_the_manifest_states_the_retention_of_the_running_settings() -> None:
    from dataclasses import replace

    shorter = replace(
        SETTINGS, RATELIMIT_PASSWORD_IP="20 per minute; 100 per hour; 300 per 6 hours"
    )
    lines = manifest.build(shorter, _inventory(), None).never
    assert any("at most 6 hours" in line for line in lines)


def _inventory() -> Inventory:
    return load(ROOT / "compliance")
