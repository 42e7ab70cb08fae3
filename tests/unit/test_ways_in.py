"""The one definition of a way in (authdemo/ways_in.py, decision 0013), over every
combination of what an account can have, rather than a few examples."""

from __future__ import annotations

import itertools

import pytest

from authdemo import ways_in
from authdemo.ways_in import Method, Methods

ALL = [
    Methods(passkeys=passkeys, password_and_code=password, recovery_codes=codes)
    for passkeys, password, codes in itertools.product([0, 1, 2], [False, True], [0, 3])
]
SWITCH = [True, False]


@pytest.mark.parametrize("methods", ALL, ids=repr)
@pytest.mark.parametrize("passkey_signin", SWITCH)
def test_a_way_in_is_a_working_passkey_or_a_password_and_code(
    methods: Methods, passkey_signin: bool
) -> None:
    expected = set()
    if methods.passkeys and passkey_signin:
        expected.add(Method.PASSKEY)
    if methods.password_and_code:
        expected.add(Method.PASSWORD_AND_CODE)
    assert methods.ways_in(passkey_signin=passkey_signin) == expected
    assert methods.has_way_in(passkey_signin=passkey_signin) == bool(expected)


@pytest.mark.parametrize("methods", ALL, ids=repr)
@pytest.mark.parametrize("passkey_signin", SWITCH)
def test_recovery_codes_are_a_way_back_not_a_way_in(methods: Methods, passkey_signin: bool) -> None:
    without_codes = Methods(methods.passkeys, methods.password_and_code, recovery_codes=0)
    assert methods.has_way_in(passkey_signin=passkey_signin) == without_codes.has_way_in(
        passkey_signin=passkey_signin
    )


@pytest.mark.parametrize("methods", ALL, ids=repr)
@pytest.mark.parametrize("passkey_signin", SWITCH)
def test_no_removal_allowed_takes_away_the_last_way_in(
    methods: Methods, passkey_signin: bool
) -> None:
    had = methods.has_way_in(passkey_signin=passkey_signin)
    for allowed, after in [
        (
            ways_in.can_remove_a_passkey(methods, passkey_signin=passkey_signin),
            methods.without_a_passkey(),
        ),
        (
            ways_in.can_remove_password_and_code(methods, passkey_signin=passkey_signin),
            methods.without_password_and_code(),
        ),
    ]:
        left = after.has_way_in(passkey_signin=passkey_signin)
        assert allowed == (left or not had)
        if not allowed:
            with pytest.raises(ways_in.LastWayIn) as refused:
                ways_in.check_removal(methods, after, passkey_signin=passkey_signin, detail="x")
            assert refused.value.slug == "last-way-in"
            assert refused.value.status == 409


def test_removing_a_second_passkey_is_allowed_and_the_last_one_is_not() -> None:
    assert ways_in.can_remove_a_passkey(Methods(2, False, 0), passkey_signin=True)
    assert not ways_in.can_remove_a_passkey(Methods(1, False, 10), passkey_signin=True)
    assert ways_in.can_remove_a_passkey(Methods(1, True, 0), passkey_signin=True)


def test_password_and_code_stay_while_passkeys_are_switched_off() -> None:
    # With a passkey that works, password + code may go; switched off, the passkey is no
    # way in, so they may not.
    assert ways_in.can_remove_password_and_code(Methods(1, True, 0), passkey_signin=True)
    assert not ways_in.can_remove_password_and_code(Methods(1, True, 0), passkey_signin=False)


@pytest.mark.parametrize("methods", ALL, ids=repr)
def test_a_withdrawal_leaves_a_way_in_exactly_when_there_is_a_password_and_code(
    methods: Methods,
) -> None:
    left = methods.without_passkeys()
    assert left.passkeys == 0
    for passkey_signin in SWITCH:
        assert left.has_way_in(passkey_signin=passkey_signin) == methods.password_and_code


@pytest.mark.parametrize("methods", ALL, ids=repr)
@pytest.mark.parametrize("passkey_signin", SWITCH)
def test_a_session_confirms_with_nothing_only_when_nothing_is_registered(
    methods: Methods, passkey_signin: bool
) -> None:
    # Neither a switch nor the rollout empties what a session can confirm with: a passkey
    # that cannot sign in still confirms when it is all the account has (decision 0013).
    confirm = methods.confirm_methods(passkey_signin=passkey_signin)
    assert bool(confirm) == methods.any_registered
    assert methods.ways_in(passkey_signin=passkey_signin) <= confirm
    if not passkey_signin and methods.password_and_code:
        assert Method.PASSKEY not in confirm  # it confirms with password + code instead


@pytest.mark.parametrize("methods", ALL, ids=repr)
def test_a_withdrawal_needs_a_recent_sign_in_exactly_when_it_would_leave_nothing(
    methods: Methods,
) -> None:
    leaves_nothing = methods.passkeys > 0 and not methods.password_and_code
    assert methods.withdrawal_leaves_nothing == leaves_nothing
    assert methods.withdrawal_leaves_nothing == (
        methods.any_registered and not methods.without_passkeys().any_registered
    )
