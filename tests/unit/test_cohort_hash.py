"""The pilot cohort (issue 20 item 2): a keyed hash of the account id (minted with the
pending sign-up, so one draw from sign-up on), stable, the stated size, and monotone in
the percentage. That the sign-up and the account afterwards are placed alike is shown
in the running app: tests/functional/test_pilot_cohort_pages.py."""

from __future__ import annotations

import itertools

import pytest

from authdemo.pilot.cohort import BUCKETS, Cohort, bucket, cohort_of
from authdemo.secrets_at_rest import KeyedHash

KEY = KeyedHash((b"k" * 32,))
OTHER_KEY = KeyedHash((b"o" * 32,))
ACCOUNTS = [f"acct{i:05d}" for i in range(4000)]


def members(percent: int, keyed: KeyedHash = KEY) -> set[str]:
    return {a for a in ACCOUNTS if cohort_of(keyed, percent, a) is Cohort.PILOT}


def test_the_same_account_always_lands_in_the_same_bucket() -> None:
    assert bucket(KEY, "acct1") == bucket(KEY, "acct1")
    assert 0 <= bucket(KEY, "acct1") < BUCKETS


def test_the_bucket_depends_on_the_key_so_nobody_can_choose_their_way_in() -> None:
    assert members(10) != members(10, OTHER_KEY)


@pytest.mark.parametrize("percent", [1, 10, 50, 90])
def test_the_cohort_is_the_stated_share_of_accounts(percent: int) -> None:
    share = 100 * len(members(percent)) / len(ACCOUNTS)
    assert abs(share - percent) < 2.5  # 4,000 accounts: about 3 standard errors at 50 %


def test_widening_keeps_everyone_already_in() -> None:
    sizes = [0, 1, 5, 10, 25, 50, 99, 100]
    for narrow, wide in itertools.pairwise(sizes):
        assert members(narrow) <= members(wide)
    assert members(0) == set()
    assert members(100) == set(ACCOUNTS)


def test_nobody_to_place_is_unknown_not_outside() -> None:
    assert cohort_of(KEY, 10, None) is Cohort.UNKNOWN
