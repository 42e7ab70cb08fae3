"""The consent service on a real (migrated) database, with a clock we control."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from authdemo.consent import service
from authdemo.consent.notices import NOTICES, PASSKEY_SIGNIN, Notice, NoticeBook
from authdemo.consent.service import (
    Action,
    AlreadyRecorded,
    NoticeChanged,
    NoticeMismatch,
    UnknownNotice,
)
from authdemo.extensions import db
from authdemo.models import AuditEvent, ConsentEvent, Passkey, User

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
QUIET = timedelta(days=90)
V1 = NOTICES.current(PASSKEY_SIGNIN)
V2 = Notice(
    purpose=PASSKEY_SIGNIN,
    version="test-material",
    published=date(2027, 4, 1),
    material=True,
    title="Signing in with a passkey",
    text="Changed.",
)
V2_BOOK = NoticeBook([*NOTICES.versions(PASSKEY_SIGNIN), V2])
#: The deployment-facts hash the pages would show (any SHA-256 will do for the service).
FACTS = hashlib.sha256(b"deployment facts").hexdigest()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with app.app_context():
        yield db.session


def _user(session: Session, username: str = "alice") -> str:
    user = User(username=username, created_at=NOW)
    session.add(user)
    session.flush()
    return user.id


def _passkey(session: Session, user_id: str, credential_id: bytes = b"cred-1") -> None:
    session.execute(
        insert(Passkey).values(
            user_id=user_id,
            credential_id=credential_id,
            public_key=b"k",
            algorithm=-7,
            sign_count=0,
            transports=[],
            aaguid="00000000-0000-0000-0000-000000000000",
            backup_eligible=False,
            backup_state=False,
            name="Passkey",
            created_at=NOW,
        )
    )


def _record(
    session: Session, user_id: str, action: Action, when: datetime = NOW, notice: Notice = V1
) -> None:
    service.record(
        session,
        user_id=user_id,
        action=action,
        notice=notice,
        facts_sha256=FACTS,
        method="test:button",
        now=when,
    )


def _actions(session: Session) -> list[str]:
    return list(session.execute(select(ConsentEvent.action).order_by(ConsentEvent.id)).scalars())


# --- checking what the page showed ---------------------------------------------------


def test_shown_notice_accepts_the_current_version_with_its_hash() -> None:
    assert service.shown_notice(NOTICES, version=V1.version, sha256=V1.sha256) is V1


@pytest.mark.parametrize(
    ("version", "sha256", "error"),
    [
        ("0", V1.sha256, UnknownNotice),
        (None, V1.sha256, UnknownNotice),
        (V1.version, ["not", "a", "string"], UnknownNotice),
        (V1.version, V1.sha256.upper(), NoticeMismatch),
        (V1.version, V1.sha256[:-1] + "0", NoticeMismatch),
        (V1.version, "", NoticeMismatch),
    ],
)
def test_shown_notice_refuses_unknown_versions_and_wrong_hashes(
    version: object, sha256: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        service.shown_notice(NOTICES, version=version, sha256=sha256)


def test_superseded_notice_is_refused_for_consent_but_accepted_for_withdrawal() -> None:
    with pytest.raises(NoticeChanged):
        service.shown_notice(V2_BOOK, version=V1.version, sha256=V1.sha256)
    shown = service.shown_notice(V2_BOOK, version=V1.version, sha256=V1.sha256, current_only=False)
    assert shown is V1


# --- the ledger ------------------------------------------------------------------------


def test_record_appends_to_the_ledger_and_the_audit_trail(session: Session) -> None:
    alice = _user(session)
    _record(session, alice, Action.GRANTED)
    row = session.execute(select(ConsentEvent)).scalar_one()
    assert (row.user_ref, row.purpose, row.action) == (alice, PASSKEY_SIGNIN, "granted")
    assert (row.notice_version, row.notice_sha256, row.method) == (
        V1.version,
        V1.sha256,
        "test:button",
    )
    assert row.occurred_at == NOW
    audit = session.execute(select(AuditEvent)).scalar_one()
    assert audit.event == "consent.granted"
    assert audit.details == {
        "purpose": PASSKEY_SIGNIN,
        "notice_version": V1.version,
        "via": "test:button",
    }


def test_latest_is_the_most_recent_decision(session: Session) -> None:
    alice = _user(session)
    _record(session, alice, Action.GRANTED, NOW)
    _record(session, alice, Action.WITHDRAWN, NOW + timedelta(days=1))
    latest = service.latest(session, alice)
    assert latest is not None
    assert latest.action is Action.WITHDRAWN


def test_same_instant_decisions_are_ordered_by_insertion(session: Session) -> None:
    alice = _user(session)
    _record(session, alice, Action.WITHDRAWN)
    _record(session, alice, Action.GRANTED)
    assert service.latest(session, alice).action is Action.GRANTED  # type: ignore[union-attr]


def test_grant_is_not_repeated_for_the_same_version(session: Session) -> None:
    alice = _user(session)
    assert (
        service.grant(session, user_id=alice, notice=V1, facts_sha256=FACTS, method="a", now=NOW)
        is True
    )
    assert (
        service.grant(session, user_id=alice, notice=V1, facts_sha256=FACTS, method="a", now=NOW)
        is False
    )
    assert (
        service.grant(session, user_id=alice, notice=V2, facts_sha256=FACTS, method="a", now=NOW)
        is True
    )
    assert _actions(session) == ["granted", "granted"]


# --- asking, and not nagging -----------------------------------------------------------


def test_invited_when_no_decision_was_ever_made(session: Session) -> None:
    assert service.may_invite(session, _user(session), now=NOW, quiet_period=QUIET) is True


@pytest.mark.parametrize("action", [Action.DECLINED, Action.WITHDRAWN])
def test_no_invitation_within_the_quiet_period_after_no(session: Session, action: Action) -> None:
    alice = _user(session)
    _record(session, alice, action, NOW)
    quiet_end = NOW + QUIET
    assert (
        service.may_invite(session, alice, now=quiet_end - timedelta(seconds=1), quiet_period=QUIET)
        is False
    )
    assert service.may_invite(session, alice, now=quiet_end, quiet_period=QUIET) is True


def test_no_invitation_for_someone_who_uses_passkeys(session: Session) -> None:
    alice = _user(session)
    _passkey(session, alice)
    assert service.may_invite(session, alice, now=NOW, quiet_period=QUIET) is False


def test_decline_is_refused_within_the_quiet_period(session: Session) -> None:
    alice = _user(session)
    service.decline(
        session,
        user_id=alice,
        notice=V1,
        facts_sha256=FACTS,
        method="a",
        now=NOW,
        quiet_period=QUIET,
    )
    with pytest.raises(AlreadyRecorded):
        service.decline(
            session,
            user_id=alice,
            notice=V1,
            facts_sha256=FACTS,
            method="a",
            now=NOW,
            quiet_period=QUIET,
        )
    later = NOW + QUIET
    service.decline(
        session,
        user_id=alice,
        notice=V1,
        facts_sha256=FACTS,
        method="a",
        now=later,
        quiet_period=QUIET,
    )
    assert _actions(session) == ["declined", "declined"]


def test_reconsent_is_due_only_after_a_material_change_for_passkey_users(session: Session) -> None:
    alice = _user(session)
    _record(session, alice, Action.GRANTED)
    assert service.ask_again(session, V2_BOOK, alice) is None  # no passkey: nothing to ask
    _passkey(session, alice)
    assert service.ask_again(session, NOTICES, alice) is None
    due = service.ask_again(session, V2_BOOK, alice)
    assert due is not None
    assert due.notice is V2
    _record(session, alice, Action.GRANTED, notice=V2)
    assert service.ask_again(session, V2_BOOK, alice) is None


def test_passkeys_without_any_recorded_consent_are_asked_about(session: Session) -> None:
    alice = _user(session)
    _passkey(session, alice)  # e.g. an account from before the ledger existed
    due = service.ask_again(session, NOTICES, alice)
    assert due is not None
    assert due.notice is V1


def test_reconsent_when_nothing_is_due_is_refused(session: Session) -> None:
    alice = _user(session)
    _passkey(session, alice)
    _record(session, alice, Action.GRANTED)
    with pytest.raises(AlreadyRecorded):
        service.reconsent(
            session, NOTICES, user_id=alice, notice=V1, facts_sha256=FACTS, method="a", now=NOW
        )


# --- withdrawal --------------------------------------------------------------------------


def test_withdraw_deletes_every_passkey_of_the_person_only(
    session: Session,
) -> None:
    alice, bob = _user(session, "alice"), _user(session, "bobby")
    _passkey(session, alice, b"a1")
    _passkey(session, alice, b"a2")
    _passkey(session, bob, b"b1")
    _record(session, alice, Action.GRANTED)
    session.flush()

    done = service.withdraw(
        session, user_id=alice, notice=V1, facts_sha256=FACTS, method="a", now=NOW
    )

    assert done.passkeys_deleted == 2
    owners = session.execute(select(Passkey.user_id)).scalars().all()
    assert owners == [bob]
    assert service.latest(session, alice).action is Action.WITHDRAWN  # type: ignore[union-attr]
    removed = session.execute(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.event == "passkey.removed")
    ).scalar_one()
    assert removed == 2


def test_withdraw_reports_whether_another_way_in_is_left(session: Session) -> None:
    alice = _user(session)
    _passkey(session, alice)
    _record(session, alice, Action.GRANTED)
    assert (
        service.withdraw(
            session, user_id=alice, notice=V1, facts_sha256=FACTS, method="a", now=NOW
        ).way_in_left
        is False
    )


def test_withdraw_with_nothing_to_withdraw_is_refused(session: Session) -> None:
    alice = _user(session)
    with pytest.raises(AlreadyRecorded):
        service.withdraw(session, user_id=alice, notice=V1, facts_sha256=FACTS, method="a", now=NOW)
    _record(session, alice, Action.DECLINED)
    with pytest.raises(AlreadyRecorded):
        service.withdraw(session, user_id=alice, notice=V1, facts_sha256=FACTS, method="a", now=NOW)
    assert _actions(session) == ["declined"]


def test_withdraw_after_a_grant_without_a_passkey_is_recorded(session: Session) -> None:
    alice = _user(session)
    _record(session, alice, Action.GRANTED)  # agreed, then cancelled the device prompt
    assert (
        service.withdraw(
            session, user_id=alice, notice=V1, facts_sha256=FACTS, method="a", now=NOW
        ).passkeys_deleted
        == 0
    )
    assert _actions(session) == ["granted", "withdrawn"]


def test_record_refuses_a_method_that_does_not_fit(session: Session) -> None:
    with pytest.raises(ValueError, match="method"):
        service.record(
            session,
            user_id=_user(session),
            action=Action.GRANTED,
            notice=V1,
            facts_sha256=FACTS,
            method="x" * 65,
            now=NOW,
        )


def test_record_refuses_a_facts_hash_that_is_not_a_sha256(session: Session) -> None:
    with pytest.raises(ValueError, match="facts_sha256"):
        service.record(
            session,
            user_id=_user(session),
            action=Action.GRANTED,
            notice=V1,
            facts_sha256="not a hash",
            method="test:button",
            now=NOW,
        )
