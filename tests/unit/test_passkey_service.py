"""passkeys/service.py, called directly: a real session over the migrated SQLite schema, a
frozen clock, no Flask app and no mocks (issue 14 item 6). Each use case is checked for
what it writes when it succeeds and for what survives when it refuses (decision 0012).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import has_app_context
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from authdemo import base64url
from authdemo.clock import FrozenClock
from authdemo.consent import service as consent
from authdemo.consent.notices import NOTICES, PASSKEY_SIGNIN
from authdemo.errors import CeremonyFailed, UsernameTaken
from authdemo.models import (
    AuditEvent,
    CeremonyKind,
    ConsentEvent,
    Passkey,
    UsedChallenge,
    User,
    UserSession,
)
from authdemo.models.user import new_user_handle, new_user_id
from authdemo.passkeys import ceremonies, service
from authdemo.sessions.service import resolve
from authdemo.sessions.service import start as start_session
from authdemo.usecase import Refused
from tests.support.authenticator import SoftwareAuthenticator
from tests.support.service_db import (
    BOOKKEEPING,
    POLICY,
    RP,
    latest_session,
    rows,
    service_session,
)

NOTICE = NOTICES.current(PASSKEY_SIGNIN)
#: The deployment-facts block shown beside the notice: a hash the ledger records as given.
FACTS = "fa" * 32


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    with service_session(tmp_path / "service.sqlite3") as session:
        assert not has_app_context()
        yield session


def _options(started: service.Started) -> dict[str, Any]:
    options: dict[str, Any] = json.loads(started.options_json)
    return options


def _used_up(session: Session, started: service.Started) -> bool:
    """The digest of the challenge these options carried is recorded as used."""
    digest = hashlib.sha256(base64url.decode(_options(started)["challenge"])).digest()
    found = session.execute(select(UsedChallenge.digest).where(UsedChallenge.digest == digest))
    return found.first() is not None


def _count(session: Session, model: type) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def _audit(session: Session) -> list[tuple[str, str | None]]:
    found = session.execute(select(AuditEvent.event, AuditEvent.details).order_by(AuditEvent.id))
    return [(event, (details or {}).get("reason")) for event, details in found]


def _sign_up(
    session: Session, clock: FrozenClock, authenticator: SoftwareAuthenticator, name: str
) -> service.SignedIn:
    started = service.start_sign_up(
        session,
        rp=RP,
        account_id=new_user_id(),
        username=name,
        display_name=None,
        consent=NOTICE,
        consent_facts_sha256=FACTS,
        now=clock.now(),
    )
    session.commit()
    done = service.finish_sign_up(
        session,
        rp=RP,
        notices=NOTICES,
        token=started.token,
        payload=authenticator.create(_options(started)),
        now=clock.now(),
        policy=POLICY,
    )
    assert not isinstance(done, Refused), done
    session.commit()
    return done


# --- sign-up -----------------------------------------------------------------------------


def test_sign_up_writes_account_passkey_session_and_the_grant_bound_to_the_ceremony(
    session: Session, clock: FrozenClock
) -> None:
    done = _sign_up(session, clock, SoftwareAuthenticator(), "alice")
    ledger = session.execute(
        select(
            ConsentEvent.user_ref,
            ConsentEvent.action,
            ConsentEvent.notice_version,
            ConsentEvent.facts_sha256,
        )
    ).all()
    assert [tuple(row) for row in ledger] == [(done.user_id, "granted", NOTICE.version, FACTS)]
    assert (_count(session, User), _count(session, Passkey), _count(session, UserSession)) == (
        1,
        1,
        1,
    )


def test_sign_up_ceremony_without_a_consent_decision_creates_nothing(
    session: Session, clock: FrozenClock
) -> None:
    # A sign-up ceremony sealed by this server, but without the opt-in bound to it.
    token, _pending = ceremonies.issue(
        RP.ceremony_box,
        CeremonyKind.SIGN_UP,
        now=clock.now(),
        lifetime=RP.ceremony_lifetime,
        pending_username="alice",
        pending_user_handle=bytes(64),
    )
    before = rows(session, except_tables=BOOKKEEPING)
    options = {
        "challenge": "AAAA",
        "rp": {"id": "localhost", "name": "x"},
        "user": {"id": "AA", "name": "alice", "displayName": "alice"},
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
    }
    outcome = service.finish_sign_up(
        session,
        rp=RP,
        notices=NOTICES,
        token=token,
        payload=SoftwareAuthenticator().create(options),
        now=clock.now(),
        policy=POLICY,
    )
    assert isinstance(outcome, Refused)
    assert isinstance(outcome.error, consent.ConsentNotGiven)
    session.commit()
    assert rows(session, except_tables=BOOKKEEPING) == before
    assert len(rows(session)["used_challenges"]) == 1, "the challenge is used up by the refusal"


def test_sign_up_refused_when_the_username_was_taken_meanwhile_keeps_only_the_used_ceremony(
    session: Session, clock: FrozenClock
) -> None:
    started = service.start_sign_up(
        session,
        rp=RP,
        account_id=new_user_id(),
        username="alice",
        display_name=None,
        consent=NOTICE,
        consent_facts_sha256=FACTS,
        now=clock.now(),
    )
    session.add(User(username="alice", created_at=clock.now()))
    session.commit()
    before = rows(session, except_tables=BOOKKEEPING)
    outcome = service.finish_sign_up(
        session,
        rp=RP,
        notices=NOTICES,
        token=started.token,
        payload=SoftwareAuthenticator().create(_options(started)),
        now=clock.now(),
        policy=POLICY,
    )
    assert isinstance(outcome, Refused)
    assert isinstance(outcome.error, UsernameTaken)
    session.commit()
    assert rows(session, except_tables=BOOKKEEPING) == before
    assert _used_up(session, started), "the refusal used the challenge up"


def test_a_sign_up_sealed_without_an_account_id_is_refused_not_given_another_id(
    session: Session, clock: FrozenClock
) -> None:
    """A sign-up ceremony sealed by a version that minted the account id at verify (an
    instance not yet upgraded, during a rolling upgrade) carries no id: its account
    would land in a cohort nobody offered it, so it is refused (one retry), not created."""
    authenticator = SoftwareAuthenticator()
    token, older = ceremonies.issue(
        RP.ceremony_box,
        CeremonyKind.SIGN_UP,
        now=clock.now(),
        lifetime=RP.ceremony_lifetime,
        pending_username="alice",
        pending_user_handle=new_user_handle(),
        consent_notice_version=NOTICE.version,
        consent_facts_sha256=FACTS,
        consent_method=service.SIGN_UP_CONSENT_METHOD,
    )
    started = service.start_sign_up(
        session,
        rp=RP,
        account_id=new_user_id(),
        username="alice",
        display_name=None,
        consent=NOTICE,
        consent_facts_sha256=FACTS,
        now=clock.now(),
    )
    options = {**_options(started), "challenge": base64url.encode(older.challenge)}
    outcome = service.finish_sign_up(
        session,
        rp=RP,
        notices=NOTICES,
        token=token,
        payload=authenticator.create(options),
        now=clock.now(),
        policy=POLICY,
    )
    assert isinstance(outcome, Refused)
    assert isinstance(outcome.error, CeremonyFailed)
    session.commit()
    assert _count(session, User) == 0


def test_an_abandoned_sign_up_cannot_be_finished(session: Session, clock: FrozenClock) -> None:
    started = service.start_sign_up(
        session,
        rp=RP,
        account_id=new_user_id(),
        username="alice",
        display_name=None,
        consent=NOTICE,
        consent_facts_sha256=FACTS,
        now=clock.now(),
    )
    service.abandon_ceremony(session, rp=RP, token=started.token, now=clock.now())
    session.commit()
    outcome = service.finish_sign_up(
        session,
        rp=RP,
        notices=NOTICES,
        token=started.token,
        payload=SoftwareAuthenticator().create(_options(started)),
        now=clock.now(),
        policy=POLICY,
    )
    assert isinstance(outcome, Refused)
    assert isinstance(outcome.error, CeremonyFailed)
    assert outcome.error.reason == "challenge_unknown_or_used"
    session.commit()
    assert _count(session, User) == 0


# --- sign-in -------------------------------------------------------------------------------


def test_sign_in_starts_a_session_and_ends_the_one_it_replaces(
    session: Session, clock: FrozenClock
) -> None:
    authenticator = SoftwareAuthenticator()
    first = _sign_up(session, clock, authenticator, "alice")
    replaced = latest_session(session, first.user_id)
    started = service.start_sign_in(session, rp=RP, now=clock.now())
    session.commit()
    outcome = service.finish_sign_in(
        session,
        rp=RP,
        token=started.token,
        payload=authenticator.get(_options(started)),
        now=clock.now(),
        policy=POLICY,
        replacing=replaced,
    )
    assert isinstance(outcome, service.SignedIn)
    session.commit()
    assert outcome.user_id == first.user_id
    assert resolve(session, first.session_token, now=clock.now()) is None
    assert resolve(session, outcome.session_token, now=clock.now()) is not None
    assert _count(session, UserSession) == 1


def test_refused_sign_in_keeps_the_used_ceremony_and_the_audit_row_only(
    session: Session, clock: FrozenClock
) -> None:
    authenticator = SoftwareAuthenticator()
    _sign_up(session, clock, authenticator, "alice")
    started = service.start_sign_in(session, rp=RP, now=clock.now())
    session.commit()
    before = rows(session, except_tables=BOOKKEEPING)
    audit_before = _audit(session)
    forged = authenticator.get(_options(started))
    forged["response"]["signature"] = forged["response"]["signature"][:-4] + "AAAA"
    outcome = service.finish_sign_in(
        session,
        rp=RP,
        token=started.token,
        payload=forged,
        now=clock.now(),
        policy=POLICY,
    )
    assert isinstance(outcome, Refused)
    session.commit()
    assert rows(session, except_tables=BOOKKEEPING) == before
    assert _used_up(session, started), "the refusal used the challenge up"
    assert _audit(session) == [*audit_before, ("sign_in.failed", "verification_failed")]


def test_a_lost_counter_race_undoes_the_session_and_the_success_audit(
    session: Session, clock: FrozenClock
) -> None:
    """The savepoint: a refusal found after the first write (the conditional count update
    matched no row) rolls back everything the use case wrote after the ceremony."""
    authenticator = SoftwareAuthenticator()
    _sign_up(session, clock, authenticator, "alice")
    started = service.start_sign_in(session, rp=RP, now=clock.now())
    session.commit()
    response = authenticator.get(_options(started))
    # Another sign-in moved the counter on between this one's read and its update.
    session.execute(Passkey.__table__.update().values(sign_count=1000))  # type: ignore[attr-defined]
    session.commit()
    before = rows(session, except_tables=BOOKKEEPING)
    audit_before = _audit(session)
    outcome = service.finish_sign_in(
        session,
        rp=RP,
        token=started.token,
        payload=response,
        now=clock.now(),
        policy=POLICY,
    )
    assert isinstance(outcome, Refused)
    session.commit()
    assert rows(session, except_tables=BOOKKEEPING) == before
    assert not [event for event, _ in _audit(session)[len(audit_before) :] if "succeeded" in event]


# --- step-up and adding a passkey -------------------------------------------------------------


def test_step_up_with_another_persons_passkey_is_refused_and_audited(
    session: Session, clock: FrozenClock
) -> None:
    alice_key, bob_key = SoftwareAuthenticator(), SoftwareAuthenticator()
    alice = _sign_up(session, clock, alice_key, "alice")
    _sign_up(session, clock, bob_key, "bob")
    active = latest_session(session, alice.user_id)
    started = service.start_step_up(session, rp=RP, user_id=alice.user_id, now=clock.now())
    session.commit()
    before = rows(session, except_tables=BOOKKEEPING)
    options = {**_options(started), "allowCredentials": []}
    outcome = service.finish_step_up(
        session,
        rp=RP,
        token=started.token,
        payload=bob_key.get(options),
        active=active,
        now=clock.now(),
    )
    assert isinstance(outcome, Refused)
    session.commit()
    assert rows(session, except_tables=BOOKKEEPING) == before
    assert _audit(session)[-1] == ("step_up.failed", "credential_of_another_user")


def test_step_up_rotates_the_session_token(session: Session, clock: FrozenClock) -> None:
    authenticator = SoftwareAuthenticator()
    alice = _sign_up(session, clock, authenticator, "alice")
    active = latest_session(session, alice.user_id)
    clock.advance(minutes=10)
    started = service.start_step_up(session, rp=RP, user_id=alice.user_id, now=clock.now())
    outcome = service.finish_step_up(
        session,
        rp=RP,
        token=started.token,
        payload=authenticator.get(_options(started)),
        active=active,
        now=clock.now(),
    )
    assert isinstance(outcome, str)
    assert outcome != alice.session_token
    session.commit()
    row = session.get(UserSession, active.id)
    assert row is not None
    assert row.authenticated_at == clock.now()


def test_adding_a_passkey_after_consent_was_withdrawn_is_refused(
    session: Session, clock: FrozenClock
) -> None:
    authenticator = SoftwareAuthenticator()
    alice = _sign_up(session, clock, authenticator, "alice")
    user = session.get(User, alice.user_id)
    assert user is not None
    started = service.start_add_passkey(
        session,
        rp=RP,
        user=user,
        consent_to=NOTICE,
        current_notice=NOTICE,
        consent_facts_sha256=FACTS,
        consent_method="account:passkey-consent-checkbox",
        now=clock.now(),
    )
    session.commit()
    # Withdrawn in another tab (the same session) before the authenticator answered.
    active = latest_session(session, user.id)
    consent.withdraw(
        session,
        user_id=user.id,
        notice=NOTICE,
        facts_sha256=FACTS,
        method="account:withdraw-button",
        now=clock.now(),
        acting_session_id=active.id,
    )
    session.commit()
    before = rows(session, except_tables=BOOKKEEPING)
    outcome = service.finish_add_passkey(
        session,
        rp=RP,
        notices=NOTICES,
        token=started.token,
        payload=SoftwareAuthenticator().create(_options(started)),
        user=user,
        active=active,
        now=clock.now(),
    )
    assert isinstance(outcome, Refused)
    assert isinstance(outcome.error, consent.ConsentNotGiven)
    session.commit()
    assert rows(session, except_tables=BOOKKEEPING) == before


def test_adding_a_passkey_in_a_recovery_session_ends_that_session(
    session: Session, clock: FrozenClock
) -> None:
    alice = _sign_up(session, clock, SoftwareAuthenticator(), "alice")
    user = session.get(User, alice.user_id)
    assert user is not None
    start_session(
        session,
        user_id=user.id,
        method="recovery_code",
        now=clock.now(),
        policy=POLICY,
        restricted=True,
    )
    restricted = latest_session(session, user.id)
    assert restricted.restricted
    started = service.start_add_passkey(
        session,
        rp=RP,
        user=user,
        consent_to=NOTICE,
        current_notice=NOTICE,
        consent_facts_sha256=FACTS,
        consent_method="recovery:passkey-consent-checkbox",
        now=clock.now(),
    )
    outcome = service.finish_add_passkey(
        session,
        rp=RP,
        notices=NOTICES,
        token=started.token,
        payload=SoftwareAuthenticator().create(_options(started)),
        user=user,
        active=restricted,
        now=clock.now(),
    )
    assert isinstance(outcome, service.AddedPasskey)
    assert outcome.signed_out
    session.commit()
    assert session.get(UserSession, restricted.id) is None
    assert _count(session, Passkey) == 2
