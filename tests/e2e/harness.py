"""What the end-to-end fixtures hand to tests: the served app, and the virtual
authenticators of a page. The fixtures themselves are in ``conftest.py``."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from playwright.sync_api import CDPSession

#: A platform authenticator with a biometric check that succeeds (CDP
#: ``WebAuthn.VirtualAuthenticatorOptions``). Tests override single options.
PLATFORM_AUTHENTICATOR: dict[str, Any] = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


@dataclass(frozen=True)
class LiveServer:
    """The app listening on ``url`` with its own SQLite database file."""

    url: str
    app: Flask
    database: Path

    def query(self, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
        """Read the database directly, as an auditor would, bypassing the app."""
        connection = sqlite3.connect(self.database)
        try:
            return connection.execute(sql, parameters).fetchall()
        finally:
            connection.close()

    def database_bytes(self) -> bytes:
        """Everything SQLite holds on disk: the main file plus the write-ahead log, where
        recent commits live until a checkpoint copies them into the main file."""
        files = [self.database, self.database.with_name(self.database.name + "-wal")]
        return b"".join(path.read_bytes() for path in files if path.exists())


class VirtualAuthenticators:
    """Chrome DevTools ``WebAuthn`` domain for one page: add authenticators, read what
    they hold (including the private keys, which real authenticators never reveal)."""

    def __init__(self, cdp: CDPSession) -> None:
        self._cdp = cdp
        self._cdp.send("WebAuthn.enable", {"enableUI": False})

    def add(self, **options: Any) -> str:
        """Add an authenticator; ``options`` override :data:`PLATFORM_AUTHENTICATOR`
        (e.g. ``isUserVerified=False``, ``transport="usb"``,
        ``defaultBackupEligibility=True``). Returns its id."""
        result = self._cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {"options": {**PLATFORM_AUTHENTICATOR, **options}},
        )
        authenticator_id: str = result["authenticatorId"]
        return authenticator_id

    def credentials(self, authenticator_id: str) -> list[dict[str, Any]]:
        """``WebAuthn.Credential`` records: ``credentialId``, ``privateKey`` (base64
        PKCS#8), ``userHandle``, ``signCount``, ``backupEligibility``, ..."""
        result = self._cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
        credentials: list[dict[str, Any]] = result["credentials"]
        return credentials

    def set_user_verified(self, authenticator_id: str, verified: bool) -> None:
        """Make the next biometric / PIN check succeed or fail."""
        self._cdp.send(
            "WebAuthn.setUserVerified",
            {"authenticatorId": authenticator_id, "isUserVerified": verified},
        )


class MovedClock:
    """The real clock, moved on by the test (the app reads its clock for every request):
    ``live_server.app.extensions["authdemo.clock"] = clock``, then ``clock.offset += ...``
    as time passes for a real person."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset
