"""The delete form's confirmation token: bound to one person, one session and one step-up,
and good only within the step-up window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from authdemo.privacy.service import confirmation_is_fresh, confirmation_token
from authdemo.secrets_at_rest import KeyedHash

KEY = KeyedHash((b"k" * 32,))
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
STEPPED_UP = NOW - timedelta(seconds=30)
WINDOW = timedelta(minutes=5)
BOUND = {"user_id": "a" * 32, "session_id": 7, "authenticated_at": STEPPED_UP}


def token(issued: datetime = NOW, key: KeyedHash = KEY, **changes: object) -> str:
    return confirmation_token(key, issued_at=int(issued.timestamp()), **{**BOUND, **changes})  # type: ignore[arg-type]


def fresh(value: object, now: datetime = NOW, **changes: object) -> bool:
    return confirmation_is_fresh(KEY, value, now=now, max_age=WINDOW, **{**BOUND, **changes})  # type: ignore[arg-type]


def test_a_token_for_this_session_and_step_up_is_fresh() -> None:
    assert fresh(token())


def test_a_token_older_than_the_step_up_window_is_stale() -> None:
    assert fresh(token(), now=NOW + WINDOW)
    assert not fresh(token(), now=NOW + WINDOW + timedelta(seconds=1))


def test_a_token_from_the_future_is_refused() -> None:
    assert not fresh(token(issued=NOW + timedelta(seconds=5)))


def test_a_token_from_an_earlier_step_up_is_stale() -> None:
    assert not fresh(token(), authenticated_at=NOW)


def test_a_token_of_another_session_or_account_is_refused() -> None:
    assert not fresh(token(), session_id=8)
    assert not fresh(token(), user_id="b" * 32)


def test_a_token_under_a_rotated_out_key_is_refused_and_a_previous_key_is_accepted() -> None:
    assert not fresh(token(key=KeyedHash((b"x" * 32,))))
    rotated = KeyedHash((b"n" * 32, b"k" * 32))
    assert confirmation_is_fresh(rotated, token(), now=NOW, max_age=WINDOW, **BOUND)  # type: ignore[arg-type]


def test_malformed_tokens_are_refused() -> None:
    for value in (None, 42, "", ".", "abc.def", "1.", "-5.00", "9" * 200, token() + "0"):
        assert not fresh(value)
