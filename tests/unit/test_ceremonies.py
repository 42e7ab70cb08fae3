"""Ceremony challenges: sealed, single use, five minutes, one kind (issue 3 item 4, issue 18
item 1, docs/decisions/0019-sealed-challenges.md).

The token is opened with the app's own key; single use is checked against the real
migrated database, because it rests on the ``used_challenges`` primary key, not on
Python state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from authdemo import base64url
from authdemo.clock import FrozenClock
from authdemo.errors import CeremonyFailed
from authdemo.extensions import db
from authdemo.models import CeremonyKind, UsedChallenge
from authdemo.passkeys import ceremonies
from authdemo.passkeys import wiring as passkey_wiring
from authdemo.secrets_at_rest import SecretBox

FIVE_MINUTES = timedelta(minutes=5)
KEY, OTHER_KEY = bytes(range(32)), bytes(range(1, 33))
BOX = SecretBox.from_master_keys((KEY,), ceremonies.PURPOSE)


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with app.app_context():
        yield db.session


def issue(
    clock: FrozenClock, kind: CeremonyKind = CeremonyKind.SIGN_IN, **bound: object
) -> tuple[str, ceremonies.PendingCeremony]:
    return ceremonies.issue(BOX, kind, now=clock.now(), lifetime=FIVE_MINUTES, **bound)


def used_digests(session: Session) -> list[bytes]:
    return list(session.execute(select(UsedChallenge.digest)).scalars())


def test_default_ceremony_lifetime_is_five_minutes(app: Flask) -> None:
    with app.app_context():
        assert passkey_wiring.relying_party().ceremony_lifetime == FIVE_MINUTES


def test_challenge_is_32_random_bytes_and_differs_every_time(clock: FrozenClock) -> None:
    challenges = [issue(clock)[1].challenge for _ in range(20)]
    assert all(len(challenge) == 32 for challenge in challenges)
    assert len(set(challenges)) == 20


def test_token_opens_to_the_challenge_and_the_pending_account(clock: FrozenClock) -> None:
    token, issued = issue(
        clock,
        CeremonyKind.SIGN_UP,
        pending_username="alice",
        pending_display_name="Alice",
        pending_user_handle=b"\x01" * 64,
        consent_notice_version="1.0",
        consent_facts_sha256="ab" * 32,
        consent_method="signup:passkey-consent-checkbox",
    )
    opened = ceremonies.open_token(BOX, token, kind=CeremonyKind.SIGN_UP, now=clock.now())
    assert opened == issued


def test_token_reveals_neither_the_challenge_nor_the_pending_account(clock: FrozenClock) -> None:
    # The cookie session is signed, not encrypted: the token itself must hide what it holds.
    token, issued = issue(clock, CeremonyKind.SIGN_UP, pending_username="alice")
    raw = base64url.decode(token)
    assert issued.challenge not in raw
    assert b"alice" not in raw
    assert base64url.encode(issued.challenge) not in token


def test_ceremony_can_be_consumed_only_once(session: Session, clock: FrozenClock) -> None:
    token, _ = issue(clock)
    first = ceremonies.open_token(BOX, token, kind=CeremonyKind.SIGN_IN, now=clock.now())
    assert ceremonies.use_up(session, first) is True
    session.commit()
    again = ceremonies.open_token(BOX, token, kind=CeremonyKind.SIGN_IN, now=clock.now())
    assert ceremonies.use_up(session, again) is False


def test_only_the_digest_of_a_used_challenge_is_stored(
    session: Session, clock: FrozenClock
) -> None:
    _token, issued = issue(clock, CeremonyKind.STEP_UP, user_id="someone")
    ceremonies.use_up(session, issued)
    session.commit()
    assert used_digests(session) == [hashlib.sha256(issued.challenge).digest()]
    row = session.execute(select(UsedChallenge)).scalar_one()
    assert row.expires_at == clock.now() + FIVE_MINUTES


def test_ceremony_is_usable_until_just_before_five_minutes(clock: FrozenClock) -> None:
    token, _ = issue(clock)
    clock.advance(seconds=299)
    ceremonies.open_token(BOX, token, kind=CeremonyKind.SIGN_IN, now=clock.now())


def test_ceremony_expires_after_five_minutes(clock: FrozenClock) -> None:
    token, _ = issue(clock)
    clock.advance(seconds=300)
    with pytest.raises(CeremonyFailed) as refused:
        ceremonies.open_token(BOX, token, kind=CeremonyKind.SIGN_IN, now=clock.now())
    assert refused.value.reason == "challenge_expired"


def test_expired_ceremony_is_used_up_by_the_attempt(session: Session, clock: FrozenClock) -> None:
    # Nothing to record: time only moves on, so an expired token never opens again.
    token, _ = issue(clock)
    clock.advance(seconds=301)
    for _attempt in range(2):
        with pytest.raises(CeremonyFailed) as refused:
            ceremonies.present(session, BOX, token, kind=CeremonyKind.SIGN_IN, now=clock.now())
        assert refused.value.reason == "challenge_expired"


def test_ceremony_of_another_kind_is_refused(session: Session, clock: FrozenClock) -> None:
    token, _ = issue(clock, CeremonyKind.SIGN_IN)
    with pytest.raises(CeremonyFailed) as refused:
        ceremonies.present(session, BOX, token, kind=CeremonyKind.STEP_UP, now=clock.now())
    assert refused.value.reason == "wrong_ceremony_kind"


def test_ceremony_presented_as_the_wrong_kind_cannot_be_used_afterwards(
    session: Session, clock: FrozenClock
) -> None:
    token, issued = issue(clock, CeremonyKind.SIGN_IN)
    with pytest.raises(CeremonyFailed):
        ceremonies.present(session, BOX, token, kind=CeremonyKind.SIGN_UP, now=clock.now())
    session.commit()
    opened = ceremonies.open_token(BOX, token, kind=CeremonyKind.SIGN_IN, now=clock.now())
    assert ceremonies.use_up(session, opened) is False
    assert used_digests(session) == [issued.digest]


@pytest.mark.parametrize("token", [None, "", 42, ["x"], "no-such-ceremony", "A" * 5000])
def test_missing_or_unknown_ceremony_token_is_refused(clock: FrozenClock, token: object) -> None:
    with pytest.raises(CeremonyFailed) as refused:
        ceremonies.open_token(BOX, token, kind=CeremonyKind.SIGN_IN, now=clock.now())
    assert refused.value.reason in {"no_ceremony", "challenge_unknown_or_used"}


def test_an_altered_token_is_refused(clock: FrozenClock) -> None:
    token, _ = issue(clock)
    raw = base64url.decode(token)
    for position in range(0, len(raw), 7):
        altered = bytearray(raw)
        altered[position] ^= 0x01
        with pytest.raises(CeremonyFailed) as refused:
            ceremonies.open_token(
                BOX, base64url.encode(bytes(altered)), kind=CeremonyKind.SIGN_IN, now=clock.now()
            )
        assert refused.value.reason == "challenge_unknown_or_used"


def test_a_key_of_another_purpose_cannot_open_a_token(clock: FrozenClock) -> None:
    # Same data key, another HKDF purpose (the TOTP secrets'): independent keys.
    token, _ = issue(clock)
    other = SecretBox.from_master_keys((KEY,), "totp-secret")
    with pytest.raises(CeremonyFailed):
        ceremonies.open_token(other, token, kind=CeremonyKind.SIGN_IN, now=clock.now())


def test_a_token_sealed_before_a_key_rotation_opens_while_the_old_key_is_configured(
    clock: FrozenClock,
) -> None:
    token, issued = issue(clock)
    rotated = SecretBox.from_master_keys((OTHER_KEY, KEY), ceremonies.PURPOSE)
    opened = ceremonies.open_token(rotated, token, kind=CeremonyKind.SIGN_IN, now=clock.now())
    assert opened.challenge == issued.challenge
    new_only = SecretBox.from_master_keys((OTHER_KEY,), ceremonies.PURPOSE)
    with pytest.raises(CeremonyFailed) as refused:
        ceremonies.open_token(new_only, token, kind=CeremonyKind.SIGN_IN, now=clock.now())
    assert refused.value.reason == "challenge_unknown_or_used"


def test_purge_expired_deletes_only_expired_used_challenges(
    session: Session, clock: FrozenClock
) -> None:
    _, old = issue(clock)
    ceremonies.use_up(session, old)
    clock.advance(seconds=200)
    _, recent = issue(clock)
    ceremonies.use_up(session, recent)
    session.commit()
    clock.advance(seconds=101)  # the first has expired, the second has not
    assert ceremonies.purge_expired(session, now=clock.now()) == 1
    session.commit()
    assert used_digests(session) == [recent.digest]


def test_discard_uses_the_ceremony_up(session: Session, clock: FrozenClock) -> None:
    token, issued = issue(clock, CeremonyKind.SIGN_UP, pending_username="alice")
    ceremonies.discard(session, BOX, token, now=clock.now())
    session.commit()
    assert used_digests(session) == [issued.digest]
    with pytest.raises(CeremonyFailed):  # nothing happens to what does not open
        ceremonies.open_token(BOX, "not-a-token", kind=CeremonyKind.SIGN_UP, now=clock.now())
    ceremonies.discard(session, BOX, "not-a-token", now=clock.now())
    assert used_digests(session) == [issued.digest]


@pytest.mark.parametrize(
    "plaintext",
    [b"not json", b"[]", b'{"kind": "sign_in"}', b'{"kind": "sign_in", "novel": 1}'],
)
def test_a_sealed_token_of_an_unknown_layout_is_refused_not_an_error(
    clock: FrozenClock, plaintext: bytes
) -> None:
    # Sealed with this deployment's key by an instance of another version (a rolling
    # upgrade): refused as no usable ceremony, never a 500.
    token = base64url.encode(BOX.encrypt(plaintext, context=b"authdemo:ceremony:sign_in"))
    with pytest.raises(CeremonyFailed) as refused:
        ceremonies.open_token(BOX, token, kind=CeremonyKind.SIGN_IN, now=clock.now())
    assert refused.value.reason in {"challenge_unknown_or_used", "wrong_ceremony_kind"}
