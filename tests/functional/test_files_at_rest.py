"""Files the app creates are readable by their owner only (issue 15 item 6).

Development as a person starts it, in a fresh folder: ``flask db upgrade`` (as ``make
run`` does), then the app serving a request that writes. The umask is 0 throughout, so a
mode comes from the app's own choice, not from a cautious shell.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from authdemo import create_app
from authdemo.extensions import Database
from tests.conftest import Browser

pytestmark = pytest.mark.sqlite_only

VENV_BIN = Path(sys.executable).parent


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def no_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def instance(tmp_path: Path, no_umask: None, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A development set-up in a folder that does not exist yet, migrated by the CLI."""
    folder = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHDEMO_")}
    env.update({"AUTHDEMO_INSTANCE_PATH": str(folder), "FLASK_APP": "authdemo"})
    subprocess.run([VENV_BIN / "flask", "db", "upgrade"], env=env, check=True, timeout=120)
    for name in [k for k in os.environ if k.startswith("AUTHDEMO_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AUTHDEMO_INSTANCE_PATH", str(folder))
    return folder


def test_flask_db_upgrade_creates_the_folder_secrets_and_database_owner_only(
    instance: Path,
) -> None:
    assert mode(instance) == 0o700
    assert mode(instance / "dev-secrets.json") == 0o600
    assert mode(instance / "authdemo.sqlite3") == 0o600
    assert sorted(p.name for p in instance.iterdir() if p.name.startswith(".")) == []


def test_the_write_ahead_log_and_shared_memory_files_are_owner_only(instance: Path) -> None:
    app = create_app({"ENV": "development"})
    try:
        browser = Browser(app.test_client())
        # A write: the sign-in options store a fresh challenge in the database.
        assert browser.post_json("/api/passkeys/sign-in/options").status_code == 200
        # The pool keeps its connection open, so SQLite keeps both files meanwhile.
        files = {p.name: mode(p) for p in instance.iterdir()}
    finally:
        Database.engine_for(app).dispose()
    assert files == {
        "dev-secrets.json": 0o600,
        "authdemo.sqlite3": 0o600,
        "authdemo.sqlite3-wal": 0o600,
        "authdemo.sqlite3-shm": 0o600,
    }
