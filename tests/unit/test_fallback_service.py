"""fallback/service.py (password + code), account/service.py and erasure, called directly:
a real session over the migrated SQLite schema, a frozen clock, no Flask app and no
mocks (issue 14 item 6), including what survives a refusal (decision 0012).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pyotp
import pytest
from flask import has_app_context
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from authdemo import ways_in
from authdemo.account import service as account
from authdemo.clock import FrozenClock
from authdemo.consent.notices import NOTICES, PASSKEY_SIGNIN
from authdemo.fallback import service
from authdemo.fallback.service import SignInRefused, SignUpDecline
from authdemo.models import AuditEvent, ConsentEvent, User, UserSession
from authdemo.models.user import new_user_id
from authdemo.privacy import service as privacy
from authdemo.secrets_at_rest import KeyedHash
from authdemo.usecase import Refused
from tests.support.service_db import (
    BOOKKEEPING,
    MASTER_KEY,
    POLICY,
    fallback_collaborators,
    latest_session,
    rows,
    service_session,
)

PASSWORD = "correct horse battery staple"
FB = fallback_collaborators()


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    with service_session(tmp_path / "service.sqlite3") as session:
        assert not has_app_context()
        yield session


def _code(secret: str, now: datetime) -> str:
    return pyotp.TOTP(secret).at(now)


def _sign_up(
    session: Session,
    clock: FrozenClock,
    username: str = "bob",
    declined: SignUpDecline | None = None,
) -> tuple[service.Completed, str]:
    pending = service.start_signup(
        session, FB, username=username, display_name=None, password=PASSWORD, now=clock.now()
    )
    done = service.finish_signup(
        session,
        FB,
        enrolment_id=pending.enrolment_id,
        username=username,
        account_id=new_user_id(),
        code=_code(pending.secret, clock.now()),
        now=clock.now(),
        policy=POLICY,
        declined=declined,
    )
    session.commit()
    clock.advance(seconds=60)  # the enrolment code is used up: the next one is new
    return done, pending.secret


def _events(session: Session) -> list[str]:
    return list(session.execute(select(AuditEvent.event).order_by(AuditEvent.id)).scalars())


def test_sign_up_after_no_thanks_records_the_decline_with_the_account(
    session: Session, clock: FrozenClock
) -> None:
    notice = NOTICES.current(PASSKEY_SIGNIN)
    decline = SignUpDecline("bob", notice, "fa" * 32, "signup:no-thanks-button", clock.now())
    done, _secret = _sign_up(session, clock, declined=decline)
    ledger = session.execute(select(ConsentEvent.user_ref, ConsentEvent.action)).all()
    assert [tuple(row) for row in ledger] == [(done.user_id, "declined")]


def test_a_decline_made_for_another_username_is_not_recorded(
    session: Session, clock: FrozenClock
) -> None:
    notice = NOTICES.current(PASSKEY_SIGNIN)
    decline = SignUpDecline("alice", notice, "fa" * 32, "signup:no-thanks-button", clock.now())
    _sign_up(session, clock, declined=decline)
    assert session.execute(select(ConsentEvent)).first() is None


def test_sign_in_with_a_wrong_password_keeps_only_its_audit_row(
    session: Session, clock: FrozenClock
) -> None:
    _done, secret = _sign_up(session, clock)
    before = rows(session, except_tables=BOOKKEEPING)
    events = _events(session)
    outcome = service.sign_in(
        session,
        FB,
        username="bob",
        password="not the password at all",
        code=_code(secret, clock.now()),
        now=clock.now(),
        policy=POLICY,
    )
    assert isinstance(outcome, Refused)
    assert isinstance(outcome.error, SignInRefused)
    session.commit()
    assert rows(session, except_tables=BOOKKEEPING) == before
    assert _events(session) == [*events, "sign_in.failed"]


def test_sign_in_for_an_unknown_username_keeps_only_an_audit_row_of_no_account(
    session: Session, clock: FrozenClock
) -> None:
    _sign_up(session, clock)
    before = rows(session, except_tables=BOOKKEEPING)
    events = _events(session)
    outcome = service.sign_in(
        session,
        FB,
        username="nobody",
        password=PASSWORD,
        code="123456",
        now=clock.now(),
        policy=POLICY,
    )
    assert isinstance(outcome, Refused)
    session.commit()
    assert rows(session, except_tables=BOOKKEEPING) == before
    assert _events(session) == [*events, "sign_in.failed"]  # one path (decision 0015)
    last = session.execute(select(AuditEvent.user_ref).order_by(AuditEvent.id.desc())).first()
    assert last is not None
    assert last.user_ref is None


def test_sign_in_with_password_and_code_starts_a_session(
    session: Session, clock: FrozenClock
) -> None:
    done, secret = _sign_up(session, clock)
    outcome = service.sign_in(
        session,
        FB,
        username="bob",
        password=PASSWORD,
        code=_code(secret, clock.now()),
        now=clock.now(),
        policy=POLICY,
        replacing=latest_session(session, done.user_id),
    )
    assert not isinstance(outcome, Refused)
    session.commit()
    assert outcome[0] == done.user_id
    assert len(session.execute(select(UserSession)).all()) == 1, "the replaced one ended"


def test_a_wrong_recovery_code_is_refused_and_consumes_no_code(
    session: Session, clock: FrozenClock
) -> None:
    done, _secret = _sign_up(session, clock)
    before = rows(session, except_tables=BOOKKEEPING)
    outcome = service.sign_in_with_recovery_code(
        session, FB, username="bob", code="AAAA-AAAA-AAAA-AAAA", now=clock.now(), policy=POLICY
    )
    assert isinstance(outcome, Refused)
    session.commit()
    assert rows(session, except_tables=BOOKKEEPING) == before
    good = service.sign_in_with_recovery_code(
        session, FB, username="bob", code=done.recovery_codes[0], now=clock.now(), policy=POLICY
    )
    assert not isinstance(good, Refused)
    session.commit()
    assert good[2] == len(done.recovery_codes) - 1
    restricted = session.execute(select(UserSession.restricted).order_by(UserSession.id.desc()))
    assert restricted.scalars().first() is True


def test_step_up_with_a_wrong_code_is_refused_and_keeps_the_session_as_it_was(
    session: Session, clock: FrozenClock
) -> None:
    done, _secret = _sign_up(session, clock)
    user = session.get(User, done.user_id)
    assert user is not None
    before = rows(session, except_tables=BOOKKEEPING)
    outcome = service.step_up(
        session,
        FB,
        user=user,
        active=latest_session(session, user.id),
        password=PASSWORD,
        code="000000",
        now=clock.now(),
    )
    assert isinstance(outcome, Refused)
    session.commit()
    assert rows(session, except_tables=BOOKKEEPING) == before


def test_removing_the_only_way_in_is_refused_and_removes_nothing(
    session: Session, clock: FrozenClock
) -> None:
    done, _secret = _sign_up(session, clock)
    user = session.get(User, done.user_id)
    assert user is not None
    before = rows(session)
    with pytest.raises(ways_in.LastWayIn):
        service.remove_password_and_code(session, user=user, passkey_signin=True, now=clock.now())
    session.rollback()
    assert rows(session) == before


def test_setting_up_password_and_code_in_a_recovery_session_ends_it(
    session: Session, clock: FrozenClock
) -> None:
    done, _secret = _sign_up(session, clock)
    user = session.get(User, done.user_id)
    assert user is not None
    recovered = service.sign_in_with_recovery_code(
        session, FB, username="bob", code=done.recovery_codes[0], now=clock.now(), policy=POLICY
    )
    assert not isinstance(recovered, Refused)
    session.commit()
    restricted = latest_session(session, user.id)
    assert restricted.restricted
    pending = service.start_setup(session, FB, user=user, password=PASSWORD, now=clock.now())
    service.finish_setup(
        session,
        FB,
        user=user,
        enrolment_id=pending.enrolment_id,
        code=_code(pending.secret, clock.now()),
        now=clock.now(),
        active=restricted,
    )
    session.commit()
    assert session.get(UserSession, restricted.id) is None


# --- account/service.py ----------------------------------------------------------------------


def test_profile_change_to_a_taken_username_is_refused_and_changes_nothing(
    session: Session, clock: FrozenClock
) -> None:
    _sign_up(session, clock, "alice")
    done, _secret = _sign_up(session, clock, "bob")
    user = session.get(User, done.user_id)
    assert user is not None
    before = rows(session)
    with pytest.raises(account.UsernameTaken):
        account.change_profile(
            session,
            user=user,
            username="alice",
            display_name="",
            now=clock.now(),
            stepped_up=True,
        )
    session.rollback()
    assert rows(session) == before


def test_signing_out_another_session_of_someone_else_is_refused(
    session: Session, clock: FrozenClock
) -> None:
    alice, _ = _sign_up(session, clock, "alice")
    bob, _ = _sign_up(session, clock, "bob")
    before = rows(session)
    with pytest.raises(account.SessionNotFound):
        account.sign_out_session(
            session,
            user_id=alice.user_id,
            session_id=latest_session(session, bob.user_id).id,
            now=clock.now(),
        )
    session.rollback()
    assert rows(session) == before


# --- erasure (privacy/service.py) ---------------------------------------------------------------


def test_erasure_leaves_none_of_the_persons_identifiers_in_any_table(
    session: Session, clock: FrozenClock
) -> None:
    """Looks for the person's bytes in every column of every table, not for the rows the
    erasure's own rules select."""
    done, _secret = _sign_up(session, clock, "carol")
    _sign_up(session, clock, "dave")
    person = privacy.find_person(session, username="carol")
    assert person is not None
    privacy.erase_account(
        session,
        person,
        now=clock.now(),
        pseudonyms=KeyedHash.from_master_keys((MASTER_KEY,), "pseudonym"),
        via="self-service",
    )
    session.commit()
    needles = [done.user_id, "carol", person.user_handle.hex()]
    with session.get_bind().connect() as connection:
        names = connection.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'table'")
        ).scalars()
        for name in list(names):
            for row in connection.execute(text(f'SELECT * FROM "{name}"')):
                flat = " ".join(v.hex() if isinstance(v, bytes) else str(v) for v in row)
                for needle in needles:
                    assert needle not in flat, f"{name} still holds {needle!r}"
    assert privacy.find_person(session, username="dave") is not None


def test_operator_recovery_replaces_the_codes_ends_every_session_and_audits_the_check(
    session: Session, clock: FrozenClock
) -> None:
    done, _secret = _sign_up(session, clock)
    user = session.get(User, done.user_id)
    assert user is not None
    recovered = service.operator_recovery(
        session, FB, user=user, verified_by="ticket 42", now=clock.now()
    )
    session.commit()
    assert recovered.sessions_ended == 1
    assert session.execute(select(UserSession)).first() is None
    assert _events(session)[-1] == "operator.recovery_codes_issued"
    old = service.sign_in_with_recovery_code(
        session, FB, username="bob", code=done.recovery_codes[0], now=clock.now(), policy=POLICY
    )
    assert isinstance(old, Refused), "the codes issued before the recovery stop working"
    session.commit()
    new = service.sign_in_with_recovery_code(
        session, FB, username="bob", code=recovered.codes[0], now=clock.now(), policy=POLICY
    )
    assert not isinstance(new, Refused)
