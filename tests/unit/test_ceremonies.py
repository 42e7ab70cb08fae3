"""Ceremony challenges: single use, five minutes, one kind (issue 3 item 4).

Run against the real migrated SQLite database, because single use rests on the database
(``DELETE ... RETURNING``), not on Python state.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from authdemo import base64url
from authdemo.clock import FrozenClock
from authdemo.errors import CeremonyFailed
from authdemo.extensions import db
from authdemo.models import Ceremony, CeremonyKind
from authdemo.passkeys import ceremonies
from authdemo.passkeys import wiring as passkey_wiring

FIVE_MINUTES = timedelta(minutes=5)


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with app.app_context():
        yield db.session


def start(session: Session, clock: FrozenClock, kind: CeremonyKind = CeremonyKind.SIGN_IN) -> str:
    ceremony_id, _challenge = ceremonies.start(
        session, kind=kind, now=clock.now(), lifetime=FIVE_MINUTES
    )
    session.commit()
    return ceremony_id


def stored(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Ceremony)).scalar_one()


def test_default_ceremony_lifetime_is_five_minutes(app: Flask) -> None:
    with app.app_context():
        assert passkey_wiring.relying_party().ceremony_lifetime == FIVE_MINUTES


def test_challenge_is_32_random_bytes_and_differs_every_time(
    session: Session, clock: FrozenClock
) -> None:
    now = clock.now()
    started = [
        ceremonies.start(session, kind=CeremonyKind.SIGN_IN, now=now, lifetime=FIVE_MINUTES)
        for _ in range(20)
    ]
    assert all(len(challenge) == 32 for _id, challenge in started)
    assert len({challenge for _id, challenge in started}) == 20
    assert len({ceremony_id for ceremony_id, _ in started}) == 20


def test_ceremony_id_is_not_derived_from_the_challenge(
    session: Session, clock: FrozenClock
) -> None:
    ceremony_id, challenge = ceremonies.start(
        session, kind=CeremonyKind.SIGN_IN, now=clock.now(), lifetime=FIVE_MINUTES
    )
    # The id travels in the cookie; the challenge must only come from the server's row.
    assert challenge.hex() not in ceremony_id
    assert base64url.encode(challenge)[:16] not in ceremony_id


def test_consume_returns_the_stored_challenge_and_pending_account(
    session: Session, clock: FrozenClock
) -> None:
    ceremony_id, challenge = ceremonies.start(
        session,
        kind=CeremonyKind.SIGN_UP,
        now=clock.now(),
        lifetime=FIVE_MINUTES,
        pending_username="alice",
        pending_display_name="Alice",
        pending_user_handle=b"\x07" * 64,
    )
    pending = ceremonies.consume(session, ceremony_id, kind=CeremonyKind.SIGN_UP, now=clock.now())
    assert pending.challenge == challenge
    assert pending.kind is CeremonyKind.SIGN_UP
    assert (pending.pending_username, pending.pending_display_name) == ("alice", "Alice")
    assert pending.pending_user_handle == b"\x07" * 64


def test_ceremony_can_be_consumed_only_once(session: Session, clock: FrozenClock) -> None:
    ceremony_id = start(session, clock)
    ceremonies.consume(session, ceremony_id, kind=CeremonyKind.SIGN_IN, now=clock.now())
    session.commit()
    with pytest.raises(CeremonyFailed) as refused:
        ceremonies.consume(session, ceremony_id, kind=CeremonyKind.SIGN_IN, now=clock.now())
    assert refused.value.reason == "challenge_unknown_or_used"


def test_consumed_ceremony_is_deleted_from_the_database(
    session: Session, clock: FrozenClock
) -> None:
    ceremony_id = start(session, clock)
    ceremonies.consume(session, ceremony_id, kind=CeremonyKind.SIGN_IN, now=clock.now())
    session.commit()
    assert session.get(Ceremony, ceremony_id) is None


def test_ceremony_is_usable_until_just_before_five_minutes(
    session: Session, clock: FrozenClock
) -> None:
    ceremony_id = start(session, clock)
    clock.advance(seconds=299)
    ceremonies.consume(session, ceremony_id, kind=CeremonyKind.SIGN_IN, now=clock.now())


def test_ceremony_expires_after_five_minutes(session: Session, clock: FrozenClock) -> None:
    ceremony_id = start(session, clock)
    clock.advance(seconds=300)
    with pytest.raises(CeremonyFailed) as refused:
        ceremonies.consume(session, ceremony_id, kind=CeremonyKind.SIGN_IN, now=clock.now())
    assert refused.value.reason == "challenge_expired"


def test_expired_ceremony_is_used_up_by_the_attempt(session: Session, clock: FrozenClock) -> None:
    ceremony_id = start(session, clock)
    clock.advance(minutes=10)
    with pytest.raises(CeremonyFailed):
        ceremonies.consume(session, ceremony_id, kind=CeremonyKind.SIGN_IN, now=clock.now())
    session.commit()
    assert stored(session) == 0


def test_ceremony_of_another_kind_is_refused(session: Session, clock: FrozenClock) -> None:
    ceremony_id = start(session, clock, CeremonyKind.SIGN_IN)
    with pytest.raises(CeremonyFailed) as refused:
        ceremonies.consume(session, ceremony_id, kind=CeremonyKind.SIGN_UP, now=clock.now())
    assert refused.value.reason == "wrong_ceremony_kind"


def test_ceremony_presented_as_the_wrong_kind_cannot_be_used_afterwards(
    session: Session, clock: FrozenClock
) -> None:
    # A refused attempt still uses the challenge up: no second try with the same one.
    ceremony_id = start(session, clock, CeremonyKind.SIGN_IN)
    with pytest.raises(CeremonyFailed):
        ceremonies.consume(session, ceremony_id, kind=CeremonyKind.SIGN_UP, now=clock.now())
    session.commit()
    with pytest.raises(CeremonyFailed) as refused:
        ceremonies.consume(session, ceremony_id, kind=CeremonyKind.SIGN_IN, now=clock.now())
    assert refused.value.reason == "challenge_unknown_or_used"


@pytest.mark.parametrize("ceremony_id", [None, "", 42, ["x"], "no-such-ceremony"])
def test_missing_or_unknown_ceremony_id_is_refused(
    session: Session, clock: FrozenClock, ceremony_id: object
) -> None:
    start(session, clock)
    with pytest.raises(CeremonyFailed):
        ceremonies.consume(session, ceremony_id, kind=CeremonyKind.SIGN_IN, now=clock.now())
    assert stored(session) == 1


def test_purge_expired_deletes_only_expired_ceremonies(
    session: Session, clock: FrozenClock
) -> None:
    old = start(session, clock)
    clock.advance(minutes=4)
    fresh = start(session, clock)
    clock.advance(minutes=1)
    assert ceremonies.purge_expired(session, now=clock.now()) == 1
    session.commit()
    assert session.get(Ceremony, old) is None
    assert session.get(Ceremony, fresh) is not None


def test_discard_deletes_the_ceremony(session: Session, clock: FrozenClock) -> None:
    ceremony_id = start(session, clock)
    ceremonies.discard(session, ceremony_id)
    session.commit()
    assert stored(session) == 0
