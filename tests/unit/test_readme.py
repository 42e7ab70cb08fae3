"""The README's settings table lists exactly the settings the app reads."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from authdemo.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_settings_table_matches_the_settings() -> None:
    text = README.read_text()
    table = text[text.index("config-table:start") : text.index("config-table:end")]
    documented = set(re.findall(r"`AUTHDEMO_([A-Z0-9_]+)`", table))
    assert documented == {f.name for f in fields(Settings)}


def test_readme_shows_the_two_commands_first() -> None:
    text = README.read_text()
    first_block = text[text.index("```sh") : text.index("```", text.index("```sh") + 5)]
    assert "make run" in first_block
    assert "make test" in first_block


def test_readme_pictures_exist() -> None:
    for path in re.findall(r"\]\((docs/screenshots/[^)]+)\)", README.read_text()):
        assert (README.parent / path).is_file(), path
