"""Password + one-time code: sign-up, sign-in, recovery codes and changes.

Every function takes the database session, ``now`` and its collaborators explicitly and
never commits. A sign-in that refuses returns ``Refused`` with only the refusal's audit row
in the session, for the caller to commit (docs/decisions/0012-use-case-transactions.md).

Sign-in answers "wrong" the same way whether the username is unknown, the password is
wrong or the code is wrong (and does the same argon2 work in each case), so the answer
never reveals whether an account exists (ASVS 5.0 V6.3.8).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from authdemo import audit, ways_in
from authdemo.audit import Event
from authdemo.consent import service as consent
from authdemo.consent.notices import Notice
from authdemo.errors import (
    AuthDemoError,
    InvalidInput,
    ServiceUnavailable,
    SignUpAlreadyFinished,
    UsernameTaken,
)
from authdemo.fallback import recovery, totp
from authdemo.fallback.passwords import (
    Hasher,
    PasswordPolicy,
    check_new_password,
    normalise_password,
)
from authdemo.models import (
    Enrolment,
    PasswordCredential,
    TotpCredential,
    User,
)
from authdemo.models.user import new_user_handle
from authdemo.secrets_at_rest import DecryptionError, KeyedHash, SecretBox
from authdemo.sessions import service as sessions
from authdemo.sessions.service import ActiveSession, SessionPolicy
from authdemo.usecase import Refused, refusable
from authdemo.usernames import account_id_taken, username_taken

log = logging.getLogger(__name__)

METHOD = "password_totp"
RECOVERY_METHOD = "recovery_code"
SIGNUP = "password_signup"
SETUP = "totp_setup"


class SignInRefused(AuthDemoError):
    """One answer for unknown user, wrong password and wrong code."""

    status = 401
    slug = "sign-in-failed"
    title = lazy_gettext("The username, password or code is not right. Please try again.")


class RecoverySignInRefused(SignInRefused):
    """The recovery-code page's one answer: it has no password field to blame."""

    title = lazy_gettext("The username or recovery code is not right. Please try again.")


class EnrolmentExpired(AuthDemoError):
    slug = "enrolment-expired"
    title = lazy_gettext("This set-up took too long or was already finished. Please start again.")


class WrongCode(InvalidInput):
    slug = "wrong-code"
    title = lazy_gettext(
        "That code is not right. Check the time on your phone and try the newest code."
    )


@dataclass(frozen=True, slots=True)
class Fallback:
    """Collaborators: password rules and hasher, secret box for TOTP, keyed hash for codes."""

    policy: PasswordPolicy
    hasher: Hasher
    totp_box: SecretBox
    recovery_hash: KeyedHash
    recovery_count: int
    totp_window: int
    enrolment_lifetime: timedelta


@dataclass(frozen=True, slots=True)
class PendingEnrolment:
    enrolment_id: str
    secret: str


@dataclass(frozen=True, slots=True)
class SignUpDecline:
    """A "No thanks" to passkeys made on the opt-in screen, before the account exists."""

    username: str
    notice: Notice
    #: SHA-256 of the deployment-facts block shown beside the notice (consent/facts.py).
    facts_sha256: str
    method: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Completed:
    user_id: str
    session_token: str | None
    recovery_codes: list[str]


def _context(kind: str, owner: str) -> bytes:
    """Associated data binding a TOTP ciphertext to one owner (user or enrolment)."""
    return f"totp:{kind}:{owner}".encode()


# --- sign-up with password + code (no passkey, no consent needed) -------------------


def start_signup(
    session: Session,
    fb: Fallback,
    *,
    username: str,
    display_name: str | None,
    password: object,
    now: datetime,
) -> PendingEnrolment:
    """Check the password and keep it (hashed) with a fresh TOTP secret until confirmed."""
    if username_taken(session, username):
        raise UsernameTaken()
    checked = check_new_password(password, username=username, policy=fb.policy)
    enrolment_id = secrets.token_urlsafe(32)
    secret = totp.new_secret()
    session.execute(
        insert(Enrolment).values(
            id=enrolment_id,
            kind=SIGNUP,
            username=username,
            display_name=display_name,
            password_hash=fb.hasher.hash(checked),
            totp_secret_ciphertext=fb.totp_box.encrypt(
                secret.encode(), context=_context("enrolment", enrolment_id)
            ),
            expires_at=now + fb.enrolment_lifetime,
        )
    )
    return PendingEnrolment(enrolment_id, secret)


def pending_secret(session: Session, fb: Fallback, *, enrolment_id: object, now: datetime) -> str:
    """The TOTP secret of an unfinished enrolment (to show the QR code again)."""
    row = _live_enrolment(session, enrolment_id, now=now)
    return _decrypt_enrolment_secret(fb, row)


def finish_signup(
    session: Session,
    fb: Fallback,
    *,
    enrolment_id: object,
    username: str,
    account_id: str,
    code: object,
    now: datetime,
    policy: SessionPolicy,
    declined: SignUpDecline | None = None,
    replacing: ActiveSession | None = None,
) -> Completed:
    """A correct code proves the app is set up: only now does the account exist.

    ``username`` and ``account_id``: the sign-up in progress (authdemo/signup/pending.py).
    The account is created with its id, so its pilot cohort is the one the sign-up was
    offered. An enrolment started for another username belongs to a sign-up the person
    since restarted, and is not finished. ``declined``: the person pressed "No thanks" to
    passkeys on the opt-in screen for this username; the decline goes into the ledger with
    the account (GDPR Art 7(1))."""
    row = _live_enrolment(session, enrolment_id, now=now, kind=SIGNUP)
    if row.username != username:
        raise EnrolmentExpired()
    secret = _decrypt_enrolment_secret(fb, row)
    step = _step_for(secret, code, fb=fb, now=now)
    assert row.password_hash is not None
    if username_taken(session, username):
        raise UsernameTaken()
    if account_id_taken(session, account_id):
        raise SignUpAlreadyFinished()
    user = User(
        id=account_id,
        username=username,
        display_name=row.display_name,
        user_handle=new_user_handle(),
        created_at=now,
    )
    session.add(user)
    session.flush()
    session.execute(
        insert(PasswordCredential).values(
            user_id=user.id, hash=row.password_hash, created_at=now, changed_at=now
        )
    )
    _store_totp(session, fb, user_id=user.id, secret=secret, step=step, now=now)
    session.execute(delete(Enrolment).where(Enrolment.id == row.id))
    codes = _new_recovery_codes(session, fb, user_id=user.id, now=now)
    audit.record(session, Event.SIGN_UP, now=now, user_id=user.id, method=METHOD)
    if declined is not None and declined.username == user.username:
        consent.record(
            session,
            user_id=user.id,
            action=consent.Action.DECLINED,
            notice=declined.notice,
            facts_sha256=declined.facts_sha256,
            method=declined.method,
            now=declined.at,
        )
    token = sessions.start(
        session, user_id=user.id, method=METHOD, now=now, policy=policy, replacing=replacing
    )
    audit.record(session, Event.SIGN_IN_SUCCEEDED, now=now, user_id=user.id, method=METHOD)
    return Completed(user.id, token, codes)


# --- adding password + code to an existing account ----------------------------------


def start_setup(
    session: Session, fb: Fallback, *, user: User, password: object, now: datetime
) -> PendingEnrolment:
    checked = check_new_password(password, username=user.username, policy=fb.policy)
    session.execute(delete(Enrolment).where(Enrolment.user_id == user.id, Enrolment.kind == SETUP))
    enrolment_id = secrets.token_urlsafe(32)
    secret = totp.new_secret()
    session.execute(
        insert(Enrolment).values(
            id=enrolment_id,
            kind=SETUP,
            user_id=user.id,
            password_hash=fb.hasher.hash(checked),
            totp_secret_ciphertext=fb.totp_box.encrypt(
                secret.encode(), context=_context("enrolment", enrolment_id)
            ),
            expires_at=now + fb.enrolment_lifetime,
        )
    )
    return PendingEnrolment(enrolment_id, secret)


def finish_setup(
    session: Session,
    fb: Fallback,
    *,
    user: User,
    enrolment_id: object,
    code: object,
    now: datetime,
    active: ActiveSession | None = None,
    session_ref: str | None = None,
) -> list[str]:
    """Activate password + code after a correct code; returns new recovery codes. After a
    recovery (``active`` is restricted) that session ends here: sign in with the new way.
    ``session_ref``: the session doing it (``audit.record``), as in every use case below
    that a signed-in person performs."""
    row = _live_enrolment(session, enrolment_id, now=now, kind=SETUP)
    if row.user_id != user.id:
        raise EnrolmentExpired()
    secret = _decrypt_enrolment_secret(fb, row)
    step = _step_for(secret, code, fb=fb, now=now)
    assert row.password_hash is not None
    session.execute(delete(PasswordCredential).where(PasswordCredential.user_id == user.id))
    session.execute(delete(TotpCredential).where(TotpCredential.user_id == user.id))
    session.execute(
        insert(PasswordCredential).values(
            user_id=user.id, hash=row.password_hash, created_at=now, changed_at=now
        )
    )
    _store_totp(session, fb, user_id=user.id, secret=secret, step=step, now=now)
    session.execute(delete(Enrolment).where(Enrolment.id == row.id))
    audit.record(session, Event.PASSWORD_SET, now=now, user_id=user.id, session_ref=session_ref)
    audit.record(session, Event.TOTP_ENROLLED, now=now, user_id=user.id, session_ref=session_ref)
    codes = _new_recovery_codes(session, fb, user_id=user.id, now=now)
    if active is not None and active.restricted:
        sessions.sign_out(session, active, now=now)
    return codes


# --- sign-in -------------------------------------------------------------------------


def sign_in(
    session: Session,
    fb: Fallback,
    *,
    username: str | None,
    password: object,
    code: object,
    now: datetime,
    policy: SessionPolicy,
    replacing: ActiveSession | None = None,
) -> tuple[str, str] | Refused:
    """Password and one-time code together; returns (user id, session token). A refusal
    keeps only its audit row (of the account, or of no account: decision 0015)."""
    try:
        user_id = verify_password_and_code(
            session, fb, username=username, password=password, code=code, now=now
        )
    except SignInRefused as error:
        return Refused(error)
    with refusable(session):
        token = sessions.start(
            session, user_id=user_id, method=METHOD, now=now, policy=policy, replacing=replacing
        )
        audit.record(session, Event.SIGN_IN_SUCCEEDED, now=now, user_id=user_id, method=METHOD)
    return user_id, token


def verify_password_and_code(
    session: Session,
    fb: Fallback,
    *,
    username: str | None,
    password: object,
    code: object,
    now: datetime,
    expected_user_id: str | None = None,
) -> str:
    """Check both factors; raise SignInRefused (one answer for every failure).

    A wrong password takes one path whether the account exists with a password, exists
    with passkeys only, or does not exist: one select, one argon2 verification, one audit
    row (of the account, or of no account), so neither the statements, the commit, the
    metrics nor the time say which (decision 0015)."""
    try:
        candidate = normalise_password(password, policy=fb.policy)
    except InvalidInput:
        candidate = ""
    row = None
    if username is not None:
        row = session.execute(
            select(User.id, PasswordCredential.hash, TotpCredential.secret_ciphertext)
            .outerjoin(PasswordCredential, PasswordCredential.user_id == User.id)
            .outerjoin(TotpCredential, TotpCredential.user_id == User.id)
            .where(User.username == username)
        ).one_or_none()
    account = row.id if row is not None else None
    usable = (
        row is not None
        and row.hash is not None
        and row.secret_ciphertext is not None
        and (expected_user_id is None or row.id == expected_user_id)
    )
    # Always run the hash, even for an empty or refused password, and for no account or
    # one without a password against a dummy hash: the same work in every case.
    if row is not None and usable:
        password_ok = fb.hasher.verify(row.hash, candidate)
    else:
        fb.hasher.verify_dummy(candidate)
        password_ok = False
    if not usable or not candidate or not password_ok:
        audit.record(
            session,
            Event.SIGN_IN_FAILED,
            now=now,
            user_id=account,
            method=METHOD,
            reason="password",
        )
        raise SignInRefused()
    assert row is not None
    secret = _decrypt_user_secret(fb, row.id, row.secret_ciphertext)
    normalised = totp.normalise_code(code)
    step = (
        totp.matching_step(secret, normalised, now=now, window=fb.totp_window)
        if normalised
        else None
    )
    if step is None or not totp.claim_step(session, user_id=row.id, step=step):
        audit.record(
            session,
            Event.SIGN_IN_FAILED,
            now=now,
            user_id=row.id,
            method=METHOD,
            reason="code" if step is None else "code_reused",
        )
        raise SignInRefused()
    if fb.hasher.needs_rehash(row.hash):
        # Parameters changed since this hash was made: upgrade it now that we have the
        # password (OWASP Password Storage Cheat Sheet, "Upgrading the work factor").
        session.execute(
            update(PasswordCredential)
            .where(PasswordCredential.user_id == row.id)
            .values(hash=fb.hasher.hash(candidate))
        )
    return str(row.id)


def step_up(
    session: Session,
    fb: Fallback,
    *,
    user: User,
    active: ActiveSession,
    password: object,
    code: object,
    now: datetime,
) -> str | Refused:
    """Re-authentication with this account's own password and code: the session records
    the fresh authentication and gets a new token (returned for the cookie). A refusal
    keeps only its audit row."""
    try:
        verify_password_and_code(
            session,
            fb,
            username=user.username,
            password=password,
            code=code,
            now=now,
            expected_user_id=user.id,
        )
    except SignInRefused as error:
        return Refused(error)
    with refusable(session):
        audit.record(session, Event.STEP_UP_SUCCEEDED, now=now, user_id=user.id, method=METHOD)
        return sessions.reauthenticated(session, session_id=active.id, now=now)


def sign_in_with_recovery_code(
    session: Session,
    fb: Fallback,
    *,
    username: str | None,
    code: object,
    now: datetime,
    policy: SessionPolicy,
    replacing: ActiveSession | None = None,
) -> tuple[str, str, int] | Refused:
    """A recovery code gives a *restricted* session: set up a new way in, nothing else.
    A refusal keeps only its audit row (of the account, or of no account)."""
    user_id = None
    if username is not None:
        user_id = session.execute(select(User.id).where(User.username == username)).scalar()
    # The DELETE runs for no account too (matching nothing), and every refusal is
    # audited: one path whether the account exists or not (decision 0015).
    used = recovery.consume(session, user_id=user_id or "", entered=code, hasher=fb.recovery_hash)
    if user_id is None or not used:
        audit.record(
            session,
            Event.SIGN_IN_FAILED,
            now=now,
            user_id=user_id,
            method=RECOVERY_METHOD,
            reason="recovery_code",
        )
        return Refused(RecoverySignInRefused())
    left = recovery.remaining(session, user_id=user_id)
    audit.record(session, Event.RECOVERY_CODE_USED, now=now, user_id=user_id, remaining=left)
    token = sessions.start(
        session,
        user_id=user_id,
        method=RECOVERY_METHOD,
        now=now,
        policy=policy,
        restricted=True,
        replacing=replacing,
    )
    return user_id, token, left


# --- changes (the routes require step-up before calling these) ----------------------


def change_password(
    session: Session,
    fb: Fallback,
    *,
    user: User,
    new_password: object,
    now: datetime,
    session_ref: str | None = None,
) -> None:
    checked = check_new_password(new_password, username=user.username, policy=fb.policy)
    result = session.execute(
        update(PasswordCredential)
        .where(PasswordCredential.user_id == user.id)
        .values(hash=fb.hasher.hash(checked), changed_at=now)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise InvalidInput(_("You don't have a password to change."), field="password")
    audit.record(session, Event.PASSWORD_CHANGED, now=now, user_id=user.id, session_ref=session_ref)


def remove_password_and_code(
    session: Session,
    *,
    user: User,
    passkey_signin: bool,
    now: datetime,
    session_ref: str | None = None,
) -> None:
    """Removing the app removes password sign-in with it, and only if another way in
    remains (``authdemo.ways_in``: a passkey that works where the person is).

    The account row is locked first (on PostgreSQL; SQLite serialises writers anyway), so
    this and a simultaneous removal of the last passkey cannot both succeed."""
    session.execute(select(User.id).where(User.id == user.id).with_for_update())
    methods = ways_in.methods_of(session, user.id)
    if not methods.password_and_code:
        # Nothing to remove: refused, so nothing is audited as removed.
        raise InvalidInput(_("You don't have a password and code to remove."))
    ways_in.check_removal(
        methods,
        methods.without_password_and_code(),
        passkey_signin=passkey_signin,
        detail=ways_in.FALLBACK_IS_LAST,
    )
    session.execute(delete(TotpCredential).where(TotpCredential.user_id == user.id))
    session.execute(delete(PasswordCredential).where(PasswordCredential.user_id == user.id))
    audit.record(
        session, Event.SECOND_FACTOR_REMOVED, now=now, user_id=user.id, session_ref=session_ref
    )


def regenerate_recovery_codes(
    session: Session, fb: Fallback, *, user: User, now: datetime
) -> list[str]:
    return _new_recovery_codes(session, fb, user_id=user.id, now=now)


@dataclass(frozen=True, slots=True)
class OperatorRecovery:
    codes: list[str]
    sessions_ended: int


def operator_recovery(
    session: Session, fb: Fallback, *, user: User, verified_by: str, now: datetime
) -> OperatorRecovery:
    """The operator's recovery (``flask recovery issue-codes``), one use case: fresh
    recovery codes (the old ones stop working), every session of the person ended, and
    the audit row that records the identity check (GDPR Art 12(6)) and shows the person a
    security notice. It has no refusal path of its own: the command checks its input first."""
    codes = _new_recovery_codes(session, fb, user_id=user.id, now=now)
    ended = sessions.revoke_all(session, user_id=user.id)
    audit.record(
        session, Event.OPERATOR_RECOVERY, now=now, user_id=user.id, verified_by=verified_by
    )
    return OperatorRecovery(codes=codes, sessions_ended=ended)


# --- queries -------------------------------------------------------------------------


def purge_expired_enrolments(session: Session, *, now: datetime) -> int:
    result = session.execute(delete(Enrolment).where(Enrolment.expires_at <= now))
    return int(getattr(result, "rowcount", 0))


# --- helpers -------------------------------------------------------------------------


def _live_enrolment(
    session: Session, enrolment_id: object, *, now: datetime, kind: str | None = None
) -> Enrolment:
    if not isinstance(enrolment_id, str):
        raise EnrolmentExpired()
    row = session.get(Enrolment, enrolment_id)
    if row is None or row.expires_at <= now or (kind is not None and row.kind != kind):
        raise EnrolmentExpired()
    return row


def _decrypt_enrolment_secret(fb: Fallback, row: Enrolment) -> str:
    assert row.totp_secret_ciphertext is not None
    try:
        return fb.totp_box.decrypt(
            row.totp_secret_ciphertext, context=_context("enrolment", row.id)
        ).decode()
    except DecryptionError as exc:
        raise EnrolmentExpired() from exc


def _decrypt_user_secret(fb: Fallback, user_id: str, blob: bytes) -> str:
    try:
        return fb.totp_box.decrypt(blob, context=_context("user", user_id)).decode()
    except DecryptionError as exc:
        # An operator problem (a data key was dropped too early), not the person's.
        log.error("a TOTP secret cannot be decrypted: check DATA_KEY and DATA_KEY_PREVIOUS")
        raise ServiceUnavailable() from exc


def _step_for(secret: str, code: object, *, fb: Fallback, now: datetime) -> int:
    normalised = totp.normalise_code(code)
    if normalised is None:
        raise InvalidInput(_("Please enter the 6-digit code from your app."), field="code")
    step = totp.matching_step(secret, normalised, now=now, window=fb.totp_window)
    if step is None:
        raise WrongCode(field="code")
    return step


def _store_totp(
    session: Session, fb: Fallback, *, user_id: str, secret: str, step: int, now: datetime
) -> None:
    session.execute(
        insert(TotpCredential).values(
            user_id=user_id,
            secret_ciphertext=fb.totp_box.encrypt(
                secret.encode(), context=_context("user", user_id)
            ),
            last_used_step=step,  # the enrolment code itself cannot be replayed
            created_at=now,
        )
    )


def _new_recovery_codes(
    session: Session, fb: Fallback, *, user_id: str, now: datetime
) -> list[str]:
    codes = recovery.replace_codes(
        session, user_id=user_id, now=now, hasher=fb.recovery_hash, count=fb.recovery_count
    )
    audit.record(
        session, Event.RECOVERY_CODES_GENERATED, now=now, user_id=user_id, count=len(codes)
    )
    return codes


def reencrypt_totp_secrets(session: Session, fb: Fallback) -> int:
    """Key rotation: re-encrypt every TOTP secret not under the current key."""
    changed = 0
    for row in session.execute(select(TotpCredential)).scalars():
        if fb.totp_box.needs_rotation(row.secret_ciphertext):
            secret = _decrypt_user_secret(fb, row.user_id, row.secret_ciphertext)
            row.secret_ciphertext = fb.totp_box.encrypt(
                secret.encode(), context=_context("user", row.user_id)
            )
            changed += 1
    session.flush()
    return changed
