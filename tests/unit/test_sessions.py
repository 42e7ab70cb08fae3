"""Server-side sign-in sessions (issue 3 item 4; OWASP Session Management Cheat Sheet).

The cookie carries a random token; the database keeps only its SHA-256, with an idle
expiry that slides while the person is active and an absolute expiry that does not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import User, UserSession
from authdemo.sessions import service
from authdemo.sessions.service import TOUCH_INTERVAL, SessionPolicy

POLICY = SessionPolicy(idle=timedelta(minutes=30), absolute=timedelta(hours=12))


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with app.app_context():
        yield db.session


def make_user(session: Session, clock: FrozenClock, username: str = "alice") -> str:
    user = User(username=username, created_at=clock.now())
    session.add(user)
    session.flush()
    return user.id


def start(session: Session, clock: FrozenClock, user_id: str) -> str:
    token = service.start(
        session, user_id=user_id, method="passkey", now=clock.now(), policy=POLICY
    )
    session.commit()
    return token


def resolve(session: Session, clock: FrozenClock, token: str) -> service.ActiveSession | None:
    """What a request does: read the session, then (its own transaction) slide it."""
    active = service.resolve(session, token, now=clock.now())
    if active is not None and active.touch_due:
        service.touch(session, active, now=clock.now(), policy=POLICY)
        session.commit()
    return active


def test_token_has_at_least_128_bits_and_is_new_every_time(
    session: Session, clock: FrozenClock
) -> None:
    user_id = make_user(session, clock)
    tokens = {start(session, clock, user_id) for _ in range(10)}
    assert len(tokens) == 10
    # token_urlsafe: 6 bits per character.
    assert all(len(token) * 6 >= 128 for token in tokens)


def test_only_the_sha256_of_the_token_is_stored(session: Session, clock: FrozenClock) -> None:
    user_id = make_user(session, clock)
    token = start(session, clock, user_id)
    row = session.execute(select(UserSession)).scalar_one()
    assert row.token_hash == hashlib.sha256(token.encode()).digest()


def test_the_raw_token_appears_nowhere_in_the_sessions_table(
    session: Session, clock: FrozenClock
) -> None:
    user_id = make_user(session, clock)
    token = start(session, clock, user_id)
    for row in session.execute(text("SELECT * FROM user_sessions")).all():
        for value in row:
            assert token not in str(value)
            if isinstance(value, bytes):
                assert token.encode() not in value


def test_live_token_resolves_to_its_user(session: Session, clock: FrozenClock) -> None:
    user_id = make_user(session, clock)
    token = start(session, clock, user_id)
    active = resolve(session, clock, token)
    assert active is not None
    assert active.user_id == user_id
    assert active.method == "passkey"
    assert active.authenticated_at == clock.now()


def test_unknown_token_resolves_to_nothing(session: Session, clock: FrozenClock) -> None:
    start(session, clock, make_user(session, clock))
    assert resolve(session, clock, "not-a-token") is None


def test_session_is_live_until_just_before_the_idle_timeout(
    session: Session, clock: FrozenClock
) -> None:
    token = start(session, clock, make_user(session, clock))
    clock.advance(seconds=POLICY.idle.total_seconds() - 1)
    assert resolve(session, clock, token) is not None


def test_session_ends_after_the_idle_timeout(session: Session, clock: FrozenClock) -> None:
    token = start(session, clock, make_user(session, clock))
    clock.advance(seconds=POLICY.idle.total_seconds())
    assert resolve(session, clock, token) is None


def test_activity_slides_the_idle_expiry(session: Session, clock: FrozenClock) -> None:
    token = start(session, clock, make_user(session, clock))
    clock.advance(minutes=20)
    assert resolve(session, clock, token) is not None
    clock.advance(minutes=20)  # 40 minutes after sign-in, 20 after the last request
    assert resolve(session, clock, token) is not None
    clock.advance(minutes=30)  # 30 idle minutes
    assert resolve(session, clock, token) is None


def test_requests_within_a_minute_do_not_write_last_seen(
    session: Session, clock: FrozenClock
) -> None:
    token = start(session, clock, make_user(session, clock))
    signed_in_at = clock.now()
    clock.advance(seconds=TOUCH_INTERVAL.total_seconds() - 1)
    resolve(session, clock, token)
    row = session.execute(select(UserSession)).scalar_one()
    session.refresh(row)
    assert row.last_seen_at == signed_in_at


def test_session_ends_at_the_absolute_timeout_despite_activity(
    session: Session, clock: FrozenClock
) -> None:
    token = start(session, clock, make_user(session, clock))
    elapsed = timedelta()
    while elapsed + timedelta(minutes=20) < POLICY.absolute:
        clock.advance(minutes=20)
        elapsed += timedelta(minutes=20)
        assert resolve(session, clock, token) is not None
    clock.advance(seconds=(POLICY.absolute - elapsed).total_seconds())
    assert resolve(session, clock, token) is None


def test_revoked_session_no_longer_resolves(session: Session, clock: FrozenClock) -> None:
    user_id = make_user(session, clock)
    token = start(session, clock, user_id)
    active = resolve(session, clock, token)
    assert active is not None
    assert service.revoke(session, session_id=active.id, user_id=user_id) is True
    session.commit()
    assert resolve(session, clock, token) is None


def test_a_session_cannot_be_revoked_by_another_user(session: Session, clock: FrozenClock) -> None:
    alice = make_user(session, clock, "alice")
    mallory = make_user(session, clock, "mallory")
    token = start(session, clock, alice)
    active = resolve(session, clock, token)
    assert active is not None
    assert service.revoke(session, session_id=active.id, user_id=mallory) is False
    session.commit()
    assert resolve(session, clock, token) is not None


def test_revoke_all_keeps_only_the_current_session(session: Session, clock: FrozenClock) -> None:
    user_id = make_user(session, clock)
    current_token, *others = [start(session, clock, user_id) for _ in range(3)]
    current = resolve(session, clock, current_token)
    assert current is not None
    assert service.revoke_all(session, user_id=user_id, except_id=current.id) == 2
    session.commit()
    assert resolve(session, clock, current_token) is not None
    assert all(resolve(session, clock, token) is None for token in others)


def test_purge_expired_deletes_idle_and_absolute_expired_sessions(
    session: Session, clock: FrozenClock
) -> None:
    user_id = make_user(session, clock)
    idle = start(session, clock, user_id)
    clock.advance(minutes=29)
    fresh = start(session, clock, user_id)
    clock.advance(minutes=1)
    assert service.purge_expired(session, now=clock.now()) == 1
    session.commit()
    assert resolve(session, clock, fresh) is not None
    assert resolve(session, clock, idle) is None
