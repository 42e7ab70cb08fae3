"""Extensions created once and bound to the app in ``create_app``."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

from flask import Flask, g
from flask_limiter import Limiter
from flask_login import LoginManager
from limits.storage import MemoryStorage
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from authdemo.csrf import OriginCheckingCSRFProtect
from authdemo.ratelimit import address_key

#: libpq parameters that keep a PostgreSQL server that stops answering from hanging a
#: request (or /healthz) for the kernel's defaults (minutes to hours): give up connecting
#: after 5 s; probe an idle connection after 30 s; treat sent data unacknowledged for
#: 15 s as a dead connection. ``AUTHDEMO_DATABASE_URL`` query parameters of the same name
#: win (docs/deployment.md, "Database and Redis").
POSTGRESQL_TIMEOUTS: dict[str, int] = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 15_000,
}


class Database:
    """A SQLAlchemy engine per app and a session per app context (request or CLI command).

    The request layer commits; services only ``flush``. The session is closed (and any
    uncommitted work rolled back) when the app context ends.
    """

    def init_app(self, app: Flask, url: str, *, sqlite_synchronous: str = "FULL") -> None:
        engine = create_engine(url, **_engine_options(url))
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine, sqlite_synchronous)
        factory = sessionmaker(engine, expire_on_commit=False)
        app.extensions["authdemo.db"] = factory
        app.teardown_appcontext(self._close)

    @staticmethod
    def engine_for(app: Flask) -> Engine:
        factory: sessionmaker[Session] = app.extensions["authdemo.db"]
        bind = factory.kw["bind"]
        assert isinstance(bind, Engine)
        return bind

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            from flask import current_app

            g.db_session = current_app.extensions["authdemo.db"]()
        session: Session = g.db_session
        return session

    @staticmethod
    def _close(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.close()


def _engine_options(url: str) -> dict[str, Any]:
    # Error messages never carry statement parameters (usernames, keys) into the logs.
    common: dict[str, Any] = {"hide_parameters": True}
    if url.startswith("sqlite"):
        # A busy writer makes others wait (up to 10 s) instead of failing at once.
        return {**common, "connect_args": {"timeout": 10, "check_same_thread": False}}
    options: dict[str, Any] = {**common, "pool_pre_ping": True, "pool_size": 5, "max_overflow": 5}
    if url.startswith("postgresql"):
        options["connect_args"] = _postgresql_timeouts(url)
    return options


def _postgresql_timeouts(url: str) -> dict[str, int]:
    """:data:`POSTGRESQL_TIMEOUTS`, except those the URL sets itself."""
    given = make_url(url).query
    return {name: value for name, value in POSTGRESQL_TIMEOUTS.items() if name not in given}


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "do_connect")
    def _owner_only(_dialect: Any, _record: Any, _cargs: Any, _cparams: Any) -> None:
        # SQLite creates a new database file with mode 0644 (less the umask), and its
        # -wal and -shm files with the database file's mode. Creating the file first,
        # 0600, keeps all three readable by the owner only.
        _create_owner_only(engine.url.database, uri=bool(engine.url.query.get("uri")))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers proceed while one writer commits; see docs/decisions.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Overwrite deleted content with zeros so erased personal data does not linger
        # in free pages (GDPR Art 17; see compliance/retention.md).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()


def _create_owner_only(database: str | None, *, uri: bool) -> None:
    if not database or database == ":memory:" or uri:
        return
    path = Path(database)
    if path.exists():
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # another connection was first
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


class LazyMemoryStorage(MemoryStorage):
    """limits' in-process storage, expiring old entries lazily on use.

    The stock ``memory://`` storage starts a timer thread to expire entries whenever the
    previous one finished (roughly once per request under light load), and each request
    then waits for that thread to start: up to a few milliseconds per sign-in measured by
    ``make bench``. Here the same sweep runs inline, at most once a second. Counting is
    unchanged: every read already ignores expired entries. Production uses Redis.
    """

    STORAGE_SCHEME = ["memory-lazy"]  # noqa: RUF012 - the registry key limits reads
    SWEEP_INTERVAL = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()
        self._next_sweep = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the timer thread
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_INTERVAL
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


db = Database()
login_manager = LoginManager()
csrf = OriginCheckingCSRFProtect()
# Per-address limits are keyed by a keyed hash of the address, never the address itself.
limiter = Limiter(key_func=address_key, default_limits=[])
