"""Extensions created once and bound to the app in ``create_app``."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, g
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from limits.storage import MemoryStorage
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


class Database:
    """A SQLAlchemy engine per app and a session per app context (request or CLI command).

    The request layer commits; services only ``flush``. The session is closed (and any
    uncommitted work rolled back) when the app context ends.
    """

    def init_app(self, app: Flask, url: str, *, sqlite_synchronous: str = "FULL") -> None:
        engine = create_engine(url, **_engine_options(url))
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine, sqlite_synchronous)
        app.extensions["authdemo.db"] = sessionmaker(engine, expire_on_commit=False)
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
    return {**common, "pool_pre_ping": True, "pool_size": 5, "max_overflow": 5}


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
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
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
