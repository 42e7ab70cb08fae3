"""After an erasure or a purge is committed: make sure the data is gone from where the
database and the rate limiter would otherwise keep copies.

* SQLite: ``secure_delete`` (set on every connection) zeroes deleted content in the main
  file, but the write-ahead log still holds the pages as they were before. A
  ``wal_checkpoint(TRUNCATE)`` copies the new pages into the main file and empties the log.
* PostgreSQL: deleted rows stay in the table files as dead tuples until ``VACUUM``, which
  cannot run inside a transaction. What remains after that (free space, WAL, backups) is
  described in docs/retention-postgres.md.
* Flask-Limiter: the account's throttling counters are keyed by an HMAC of the username
  (authdemo.fallback.throttle); they are cleared so nothing keyed to the person remains.

``after_erasure`` is the one clean-up that follows a committed erasure, driven by the
``Erasure`` that ``privacy.service.erase_account`` returns; the self-service route and
every CLI erasure (``flask dsar delete``, ``reapply-erasures``, the no-way-in purge) call
it (house style, habit 3; decision 0012).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import Engine

from authdemo.extensions import Database, limiter
from authdemo.fallback.throttle import account_id_key_for, account_key_for
from authdemo.privacy.service import Erasure

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reclaimed:
    """What the database did to drop the old copies; ``complete`` is False when another
    connection kept SQLite from emptying its log (the next checkpoint finishes the job)."""

    action: str
    complete: bool


def reclaim(engine: Engine, tables: Iterable[str], *, full: bool = False) -> Reclaimed:
    """Run outside any transaction: the WAL checkpoint (SQLite) or VACUUM (PostgreSQL).

    Plain VACUUM makes the space of deleted rows reusable but leaves their bytes in the
    table and index files until new rows overwrite them; ``full=True`` runs VACUUM FULL,
    which rewrites each table into new files, under a lock that blocks the app while it
    runs (docs/retention-postgres.md)."""
    dialect = engine.dialect.name
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if dialect == "sqlite":
            busy, log_frames, checkpointed = connection.exec_driver_sql(
                "PRAGMA wal_checkpoint(TRUNCATE)"
            ).one()
            complete = busy == 0 and log_frames in (0, checkpointed)
            if not complete:
                log.warning("WAL checkpoint incomplete: another connection is reading")
            return Reclaimed("sqlite: write-ahead log checkpointed and truncated", complete)
        if dialect == "postgresql":
            names = sorted(set(tables))
            preparer = engine.dialect.identifier_preparer
            command = "VACUUM FULL" if full else "VACUUM"
            connection.exec_driver_sql(f"{command} " + ", ".join(preparer.quote(n) for n in names))
            return Reclaimed(f"postgresql: {command} {', '.join(names)}", True)
    return Reclaimed(f"{dialect}: nothing to do", True)


def forget_limiter_keys(app: Flask, key: str) -> int:
    """Clear every rate-limit counter stored under ``key`` (an account's limiter key) on
    every endpoint, as ``flask limiter clear --key`` does. Returns how many counters held
    something. Counters under other keys (client addresses) are left alone.

    With the default in-process (``memory-lazy://``) storage, the counters live in the process that
    counted them: the web server clears its own; a CLI run can only clear shared
    storage such as Redis.
    """
    if not app.config.get("RATELIMIT_ENABLED", True):
        return 0
    manager = limiter.limit_manager
    strategy = limiter.limiter
    # RATELIMIT_KEY_PREFIX, if set, leads every stored key (Flask-Limiter adds it likewise).
    key_prefix = getattr(limiter, "_key_prefix", "")
    prefix = [key_prefix] if key_prefix else []
    cleared = 0
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            blueprint = rule.endpoint.rpartition(".")[0]
            defaults, decorated = manager.resolve_limits(app, rule.endpoint, blueprint)
            for runtime in [*defaults, *decorated]:
                methods = sorted(rule.methods or ()) if runtime.per_method else [None]
                for method in methods:
                    args = [*prefix, key, runtime.scope_for(rule.endpoint, method)]
                    stats = strategy.get_window_stats(runtime.limit, *args)
                    if stats.remaining < runtime.limit.amount:
                        cleared += 1
                    strategy.clear(runtime.limit, *args)
    return cleared


@dataclass(frozen=True, slots=True)
class Cleaned:
    """What ``after_erasure`` did; ``reclaimed`` is None when the database step was left
    to the next ``flask retention purge``."""

    limiter_counters: int
    reclaimed: Reclaimed | None

    def lines(self) -> list[str]:
        """The same facts in the words the CLI prints."""
        lines = [f"rate-limit counters cleared: {self.limiter_counters}"]
        if self.reclaimed is None:
            lines.append("database pages: left to the next `flask retention purge`")
        else:
            incomplete = "" if self.reclaimed.complete else " (incomplete, see log)"
            lines.append(self.reclaimed.action + incomplete)
        return lines


def after_erasure(app: Flask, erasure: Erasure, *, vacuum: bool, full: bool = False) -> Cleaned:
    """Run after the erasure is committed: forget the account's limiter keys, then drop
    the old copies of the deleted rows' pages (``reclaim``).

    ``vacuum=False`` (a request) checkpoints SQLite's log but leaves PostgreSQL's VACUUM,
    too slow for a request, to the purge run by cron; the CLI passes ``vacuum=True``.
    Errors propagate: the caller decides whether a failure is reported or only logged,
    since the account is already gone either way."""
    cleared = forget_limiter_keys(app, account_key_for(erasure.username))
    cleared += forget_limiter_keys(app, account_id_key_for(erasure.user_id))
    engine = Database.engine_for(app)
    reclaimed = None
    if vacuum or engine.dialect.name == "sqlite":
        reclaimed = reclaim(engine, erasure.tables, full=full)
    return Cleaned(cleared, reclaimed)
