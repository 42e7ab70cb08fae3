"""What a server worker loads: only what serving requests needs (issue 10, memory per worker).

Each server worker builds the app with ``create_app``. Libraries that only some
configurations or rare pages need are imported on first use, so they cost a worker's
memory only when used: the Redis client (about 6 MB) when Redis is not configured, the QR
code drawer (TOTP set-up page only), YAML and the compliance pack's parsers (the manifest
page and the CLI) and Alembic (migrations run from the CLI). zxcvbn is never imported: the
password blocklist is a data file (authdemo/data/common-passwords.txt).
"""

from __future__ import annotations

import json
import subprocess
import sys

from authdemo.config import load_settings
from authdemo.errors import backing_service_error_types

ON_FIRST_USE = ("redis", "segno", "yaml", "alembic", "zxcvbn", "authdemo.compliance.check")

PROBE = """
import json, sys
from authdemo import create_app
create_app({
    "ENV": "testing",
    "DATABASE_URL": "sqlite://",
    "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    "DATA_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
    "REDIS_URL": "",
    "RATELIMIT_STORAGE_URI": "memory-lazy://",
})
if "--check-a-password" in sys.argv:
    from authdemo.fallback.passwords import PasswordPolicy, check_new_password

    check_new_password("a long and unusual phrase", username="bob", policy=PasswordPolicy(8, 256))
print(json.dumps(sorted(m for m in %r if m in sys.modules)))
"""


def _first_use_libraries_loaded(*probe_args: str) -> list[str]:
    """Build the app in a fresh interpreter (this test process has imported everything
    already) and return which of ON_FIRST_USE it loaded."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE % (ON_FIRST_USE,), *probe_args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_building_the_app_leaves_first_use_libraries_unloaded() -> None:
    assert _first_use_libraries_loaded() == []


def test_checking_a_password_does_not_load_zxcvbn() -> None:
    assert _first_use_libraries_loaded("--check-a-password") == []


def test_redis_errors_are_backing_service_errors_only_when_redis_is_used() -> None:
    from redis.exceptions import RedisError

    assert RedisError not in backing_service_error_types(redis=False)
    assert RedisError in backing_service_error_types(redis=True)


def test_uses_redis_follows_the_settings(tmp_path: object) -> None:
    def settings(**config: str) -> bool:
        base = {
            "ENV": "testing",
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "DATA_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
            "REDIS_URL": "",
            "RATELIMIT_STORAGE_URI": "memory-lazy://",
        }
        return load_settings({**base, **config}, instance_path=str(tmp_path)).uses_redis

    assert settings() is False
    assert settings(REDIS_URL="redis://127.0.0.1:6379/0") is True
    assert settings(RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/1") is True
    assert settings(RATELIMIT_STORAGE_URI="rediss://cache.example:6380/0") is True
