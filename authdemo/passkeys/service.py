"""Passkey ceremonies: the relying-party steps of WebAuthn Level 3 §7.1 and §7.2.

py_webauthn performs the cryptographic steps. This module adds what it leaves to the
relying party (see ../shared/REFERENCES.md): the challenge is single use and expires; the
response's JSON is checked strictly first (``responses``); the credential must belong to
the person named by ``userHandle`` (§7.2 step 6); ``crossOrigin``/``topOrigin`` are
refused; the backup-eligibility flag may not change (§6.1.3); a sign count that does not
increase is treated as a possibly cloned authenticator (§6.1.1); a credential id is
registered once only (§7.1 step 26).

Functions take the database session, ``now`` and their collaborators explicitly and never
commit. A ``start_*`` writes nothing: the ceremony travels sealed in a token
(``ceremonies``, docs/decisions/0019-sealed-challenges.md). Each ``finish_*`` is one use
case (docs/decisions/0012-use-case-transactions.md): it opens the token, does its reads
and the signature check, and only then writes: first the used challenge's digest (single
use), then, in a savepoint, its person-data rows. A refusal returns ``Refused`` with only
the used challenge and the refusal's audit row in the session; the caller commits them.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import decode_credential_public_key, decoded_public_key_to_cryptography
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from authdemo import audit
from authdemo.audit import Event
from authdemo.consent import service as consent
from authdemo.consent.notices import DEFAULT_LANGUAGE, PASSKEY_SIGNIN, Notice, NoticeBook
from authdemo.consent.service import Action
from authdemo.errors import (
    AuthDemoError,
    CeremonyFailed,
    PasskeyNotLinked,
    SignUpAlreadyFinished,
    UsernameTaken,
)
from authdemo.models import CeremonyKind, Passkey, User
from authdemo.models.base import table
from authdemo.models.user import new_user_handle
from authdemo.passkeys import ceremonies, names, signals
from authdemo.passkeys.ceremonies import PendingCeremony
from authdemo.passkeys.responses import (
    ParsedAssertion,
    check_challenge,
    parse_assertion,
    parse_registration,
)
from authdemo.secrets_at_rest import SecretBox
from authdemo.sessions import service as sessions
from authdemo.sessions.service import ActiveSession, SessionPolicy
from authdemo.usecase import Refused, refusable
from authdemo.usernames import account_id_taken, username_taken

log = logging.getLogger(__name__)

METHOD = "passkey"
#: The ledger's "how" for the opt-in at sign-up (the box ticked on the opt-in screen).
SIGN_UP_CONSENT_METHOD = "signup:passkey-consent-checkbox"

# The sign-in path's statements, built once: building a statement per call costs more
# than running it (make bench --profile). Core tables, parameters bound at execution.
_P, _U = table(Passkey), table(User)
#: The account's passkeys, for the sign-in answer's Signal API list.
_MINE = _P.alias("mine")
#: The passkey presented and its account, one row per passkey of that account: the same
#: round trip also reads every credential id the account accepts (``accepted``).
_LOOKUP = (
    select(_P.c.id, _P.c.user_id, _P.c.public_key, _P.c.sign_count, _P.c.backup_eligible)
    .add_columns(_U.c.user_handle, _MINE.c.credential_id.label("accepted"))
    .join_from(_P, _U, _U.c.id == _P.c.user_id)
    .join(_MINE, _MINE.c.user_id == _P.c.user_id)
    .where(_P.c.credential_id == bindparam("credential_id"))
    .order_by(_MINE.c.id)
)
#: The WHERE on the old count makes two simultaneous sign-ins with one response's counter
#: impossible, and keeps the update correct without a row lock.
_COUNT_UPDATE = (
    update(_P)
    .where(_P.c.id == bindparam("passkey_id"), _P.c.sign_count == bindparam("old_count"))
    .values(
        sign_count=bindparam("new_count"),
        backup_state=bindparam("new_backup_state"),
        last_used_at=bindparam("used_at"),
    )
)


@dataclass(frozen=True, slots=True)
class RelyingParty:
    """What the server expects of every response (from config)."""

    id: str
    name: str
    #: The origin, or the list of origins when Related Origin Requests are configured.
    origin: str | list[str]
    algorithms: tuple[int, ...]
    ceremony_lifetime: timedelta
    #: Seals each ceremony's state into the token the browser keeps (``ceremonies``).
    ceremony_box: SecretBox


@dataclass(frozen=True, slots=True)
class Started:
    #: The sealed ceremony, for the session cookie: nothing was stored.
    token: str
    options_json: str


def _replayed() -> CeremonyFailed:
    return CeremonyFailed("challenge_unknown_or_used")


def _used_up_by(session: Session, pending: PendingCeremony, error: AuthDemoError) -> Refused:
    """A refusal uses the challenge up. One already used is answered as such: the other
    reason may only be a consequence of the replay."""
    if not ceremonies.use_up(session, pending):
        return Refused(_replayed())
    return Refused(error)


@dataclass(frozen=True, slots=True)
class SignedIn:
    user_id: str
    user_handle: bytes
    session_token: str
    #: The account's credential ids, for signalAllAcceptedCredentials.
    passkey_ids: list[bytes]


# --- registration (WebAuthn L3 §7.1) -------------------------------------------------


def start_sign_up(
    session: Session,
    *,
    rp: RelyingParty,
    account_id: str,
    username: str,
    display_name: str | None,
    consent: Notice,
    consent_facts_sha256: str,
    now: datetime,
) -> Started:
    """Options for creating the account's first passkey. The account does not exist yet.

    ``account_id`` is the id the pending sign-up was started with (its pilot cohort, and
    the account's afterwards). ``consent`` is the notice the person agreed to by ticking
    the box (GDPR Art 7), and ``consent_facts_sha256`` the deployment-facts block shown
    beside it: all are bound to the ceremony and written from there, with the account."""
    if username_taken(session, username):
        raise UsernameTaken()
    user_handle = new_user_handle()
    token, pending = ceremonies.issue(
        rp.ceremony_box,
        CeremonyKind.SIGN_UP,
        now=now,
        lifetime=rp.ceremony_lifetime,
        pending_user_id=account_id,
        pending_username=username,
        pending_display_name=display_name,
        pending_user_handle=user_handle,
        consent_notice_version=consent.version,
        consent_notice_language=consent.language,
        consent_facts_sha256=consent_facts_sha256,
        consent_method=SIGN_UP_CONSENT_METHOD,
    )
    options = _registration_options(
        rp,
        challenge=pending.challenge,
        user_handle=user_handle,
        username=username,
        display_name=display_name or username,
        exclude=[],
    )
    return Started(token, options)


def start_add_passkey(
    session: Session,
    *,
    rp: RelyingParty,
    user: User,
    consent_to: Notice | None,
    current_notice: Notice,
    consent_facts_sha256: str,
    consent_method: str,
    now: datetime,
) -> Started:
    """Give options for another passkey of a signed-in person, excluding the ones they
    have. ``consent_to``: the notice whose box they ticked, bound to the ceremony and
    recorded with the passkey (a ledger row unless already agreed to it); None when the
    page only reminded them of the notice they agreed to, which must then be
    ``current_notice`` (no new row: nothing new was decided). Writes nothing."""
    if consent_to is None:
        consent.require_agreed_to(session, user_id=user.id, notice=current_notice)
    token, pending = ceremonies.issue(
        rp.ceremony_box,
        CeremonyKind.ADD_PASSKEY,
        now=now,
        lifetime=rp.ceremony_lifetime,
        user_id=user.id,
        consent_notice_version=None if consent_to is None else consent_to.version,
        consent_notice_language=None if consent_to is None else consent_to.language,
        consent_facts_sha256=None if consent_to is None else consent_facts_sha256,
        consent_method=None if consent_to is None else consent_method,
        consent_ledger_position=consent.ledger_position(session, user.id),
    )
    existing = session.execute(
        select(Passkey.credential_id, Passkey.transports).where(Passkey.user_id == user.id)
    ).all()
    options = _registration_options(
        rp,
        challenge=pending.challenge,
        user_handle=user.user_handle,
        username=user.username,
        display_name=user.label,
        exclude=[(row.credential_id, row.transports) for row in existing],
    )
    return Started(token, options)


def abandon_ceremony(session: Session, *, rp: RelyingParty, token: object, now: datetime) -> None:
    """Use up the ceremony in the cookie on the server ("No thanks" or another username at
    sign-up), so a late authenticator response, or a copy of an older cookie, cannot
    finish it: the digest of its challenge is recorded as used."""
    ceremonies.discard(session, rp.ceremony_box, token, now=now)


def finish_sign_up(
    session: Session,
    *,
    rp: RelyingParty,
    notices: NoticeBook,
    token: object,
    payload: object,
    now: datetime,
    policy: SessionPolicy,
    replacing: ActiveSession | None = None,
) -> SignedIn | Refused:
    """Verify the new passkey, then create the account, its passkey, the consent-ledger
    grant bound to the ceremony and a session, all at once.

    Reads and checks first; then the used challenge, then the rows in a savepoint. A
    refusal keeps only the used challenge. The consent is checked before any account row
    exists. Nothing reserved the username when the options were given: two people may
    have asked for it, and the second to verify loses the race on the users table's
    unique username (a typed refusal, never a 500)."""
    try:
        pending = ceremonies.present(
            session, rp.ceremony_box, token, kind=CeremonyKind.SIGN_UP, now=now
        )
    except AuthDemoError as error:
        return Refused(error)
    try:
        notice, facts_sha256 = _consent_bound_to(pending, notices)
        passkey = _verify_registration(session, rp=rp, challenge=pending.challenge, payload=payload)
        assert pending.pending_username is not None
        assert pending.pending_user_handle is not None
        if pending.pending_user_id is None:
            # Sealed by a version that minted the id only here: its sign-up cookie has
            # no id either, so the person chooses the username again (one retry).
            raise CeremonyFailed("challenge_unknown_or_used")
        if username_taken(session, pending.pending_username):
            raise UsernameTaken()
        if account_id_taken(session, pending.pending_user_id):
            raise SignUpAlreadyFinished()
    except AuthDemoError as error:
        return _used_up_by(session, pending, error)
    if not ceremonies.use_up(session, pending):
        return Refused(_replayed())
    try:
        with refusable(session):
            user = User(
                id=pending.pending_user_id,
                username=pending.pending_username,
                display_name=pending.pending_display_name,
                user_handle=pending.pending_user_handle,
                created_at=now,
            )
            session.add(user)
            session.flush()
            passkey_id = _store_passkey(session, user_id=user.id, passkey=passkey, now=now)
            audit.record(session, Event.SIGN_UP, now=now, user_id=user.id, method=METHOD)
            consent.record(
                session,
                user_id=user.id,
                action=Action.GRANTED,
                notice=notice,
                facts_sha256=facts_sha256,
                method=SIGN_UP_CONSENT_METHOD,
                now=now,
            )
            token = sessions.start(
                session,
                user_id=user.id,
                method=METHOD,
                now=now,
                policy=policy,
                replacing=replacing,
            )
            audit.record(
                session,
                Event.SIGN_IN_SUCCEEDED,
                now=now,
                user_id=user.id,
                method=METHOD,
                passkey_id=passkey_id,
            )
    except IntegrityError as error:
        # Someone took the username, or registered this passkey, in the meantime (a race
        # the explicit checks can lose on PostgreSQL): say which.
        if "credential_id" in str(error.orig):
            return Refused(CeremonyFailed("credential_already_registered"))
        return Refused(UsernameTaken())
    return SignedIn(user.id, user.user_handle, token, [passkey.credential_id])


def _consent_bound_to(pending: PendingCeremony, notices: NoticeBook) -> tuple[Notice, str]:
    """The notice, and the deployment-facts hash beside it, agreed to when this sign-up
    ceremony started (GDPR Art 7(1): the controller can show the person consented, and
    to which text)."""
    if pending.consent_notice_version is None or pending.consent_facts_sha256 is None:
        raise consent.ConsentNotGiven()
    notice = _bound_notice(pending, notices)
    if notice is None:
        raise consent.UnknownNotice()
    return notice, pending.consent_facts_sha256


@dataclass(frozen=True, slots=True)
class AddedPasskey:
    passkey_id: int
    #: The session was a restricted (recovery) one: it ended here; forget the cookie.
    signed_out: bool


def finish_add_passkey(
    session: Session,
    *,
    rp: RelyingParty,
    notices: NoticeBook,
    token: object,
    payload: object,
    user: User,
    active: ActiveSession,
    now: datetime,
    session_ref: str | None = None,
) -> AddedPasskey | Refused:
    """Store another passkey of the signed-in person, and the opt-in ticked with it (bound
    to the ceremony). Consent may have been withdrawn (in another tab) since the options
    were given: then it is refused. After a recovery (a restricted session) the session
    ends: sign in with the new passkey. A refusal keeps only the used challenge."""
    try:
        pending = ceremonies.present(
            session, rp.ceremony_box, token, kind=CeremonyKind.ADD_PASSKEY, now=now
        )
    except AuthDemoError as error:
        return Refused(error)
    try:
        if pending.user_id != user.id:
            raise CeremonyFailed("ceremony_of_another_user")
        ticked = _consent_for_adding(session, pending, notices, user_id=user.id)
        passkey = _verify_registration(session, rp=rp, challenge=pending.challenge, payload=payload)
    except AuthDemoError as error:
        return _used_up_by(session, pending, error)
    if not ceremonies.use_up(session, pending):
        return Refused(_replayed())
    try:
        with refusable(session):
            if ticked is not None:
                assert pending.consent_facts_sha256 is not None
                assert pending.consent_method is not None
                consent.grant(
                    session,
                    user_id=user.id,
                    notice=ticked,
                    facts_sha256=pending.consent_facts_sha256,
                    method=pending.consent_method,
                    now=now,
                )
            passkey_id = _store_passkey(session, user_id=user.id, passkey=passkey, now=now)
            audit.record(
                session,
                Event.PASSKEY_ADDED,
                now=now,
                user_id=user.id,
                passkey_id=passkey_id,
                session_ref=session_ref,
            )
            if active.restricted:
                sessions.revoke(session, session_id=active.id, user_id=user.id)
                audit.record(session, Event.SIGNED_OUT, now=now, user_id=user.id)
    except IntegrityError:
        return Refused(CeremonyFailed("credential_already_registered"))
    return AddedPasskey(passkey_id, signed_out=active.restricted)


def _consent_for_adding(
    session: Session, pending: PendingCeremony, notices: NoticeBook, *, user_id: str
) -> Notice | None:
    """The notice ticked with this add-passkey ceremony (None: the page only reminded the
    person of the grant that stands, which must still stand). Either way no "no" may have
    been recorded since the options were given: a withdrawal in another tab stops it."""
    position = pending.consent_ledger_position or 0
    if consent.said_no_since(session, user_id, position):
        raise consent.ConsentNotGiven()
    if pending.consent_notice_version is None:
        latest = consent.latest(session, user_id)
        if latest is None or latest.action is not Action.GRANTED:
            raise consent.ConsentNotGiven()
        return None
    notice = _bound_notice(pending, notices)
    if notice is None:
        raise consent.UnknownNotice()
    return notice


def _bound_notice(pending: PendingCeremony, notices: NoticeBook) -> Notice | None:
    """The exact text (version and language) the opt-in bound to the ceremony was given
    on: the one the ledger records, whatever language the person switched to since."""
    assert pending.consent_notice_version is not None
    return notices.get(
        PASSKEY_SIGNIN,
        pending.consent_notice_version,
        pending.consent_notice_language or DEFAULT_LANGUAGE,
    )


@dataclass(frozen=True, slots=True)
class _VerifiedPasskey:
    credential_id: bytes
    public_key: bytes
    algorithm: int
    sign_count: int
    transports: list[str]
    aaguid: str
    backup_eligible: bool
    backup_state: bool


def _verify_registration(
    session: Session, *, rp: RelyingParty, challenge: bytes, payload: object
) -> _VerifiedPasskey:
    parsed = parse_registration(payload)
    check_challenge(parsed.challenge, challenge)
    try:
        verified = verify_registration_response(
            credential=parsed.raw,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_presence=True,
            require_user_verification=True,
            supported_pub_key_algs=[COSEAlgorithmIdentifier(a) for a in rp.algorithms],
        )
    except Exception as exc:
        raise _verifier_failure(exc) from exc
    if verified.credential_id != parsed.credential_id:
        raise CeremonyFailed("credential_id_mismatch")
    algorithm = _usable_public_key_algorithm(verified.credential_public_key, rp.algorithms)
    # §7.1 step 26: a credential id already registered (to anyone) is refused.
    if session.execute(
        select(exists().where(Passkey.credential_id == verified.credential_id))
    ).scalar():
        raise CeremonyFailed("credential_already_registered")
    return _VerifiedPasskey(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        algorithm=algorithm,
        sign_count=verified.sign_count,
        transports=parsed.transports,
        aaguid=verified.aaguid,
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backup_state=verified.credential_backed_up,
    )


#: Key type (COSE "kty") -> the algorithms a key of that type can verify, each with the
#: curve it requires (None: no curve). WebAuthn L3 §5.8.5 fixes the curves of ES256,
#: ES384, ES512 and EdDSA keys; RFC 9053 §2.1-2.2 and §7, RFC 8230 §4 the key types.
_ALGORITHMS_OF_KEY_TYPE: dict[int, dict[int, int | None]] = {
    1: {-8: 6},  # OKP: EdDSA on Ed25519
    2: {-7: 1, -35: 2, -36: 3},  # EC2: ES256 on P-256, ES384 on P-384, ES512 on P-521
    3: {-257: None, -258: None, -259: None, -37: None, -38: None, -39: None},  # RSA
}


def _usable_public_key_algorithm(cose_key: bytes, allowed: tuple[int, ...]) -> int:
    """Decode the COSE key to a real key object before storing it, and check that its
    "alg" is one offered (§7.1 step 20) *and* one its key type can verify (§5.8.5): an EC2
    key labelled RS256 would be stored, then never verify a signature again."""
    try:
        decoded = decode_credential_public_key(cose_key)
        decoded_public_key_to_cryptography(decoded)
    except Exception as exc:
        raise CeremonyFailed("unusable_public_key") from exc
    algorithm = int(decoded.alg)
    if algorithm not in allowed:
        raise CeremonyFailed("unsupported_algorithm")
    curves = _ALGORITHMS_OF_KEY_TYPE.get(int(decoded.kty), {})
    if algorithm not in curves or curves[algorithm] != _curve(decoded):
        raise CeremonyFailed("key_type_does_not_match_algorithm")
    return algorithm


def _curve(decoded: object) -> int | None:
    crv = getattr(decoded, "crv", None)
    return None if crv is None else int(crv)


def _store_passkey(
    session: Session, *, user_id: str, passkey: _VerifiedPasskey, now: datetime
) -> int:
    taken = set(session.execute(select(Passkey.name).where(Passkey.user_id == user_id)).scalars())
    result = session.execute(
        insert(Passkey)
        .values(
            user_id=user_id,
            credential_id=passkey.credential_id,
            public_key=passkey.public_key,
            algorithm=passkey.algorithm,
            sign_count=passkey.sign_count,
            transports=passkey.transports,
            aaguid=passkey.aaguid,
            backup_eligible=passkey.backup_eligible,
            backup_state=passkey.backup_state,
            name=names.default_name(
                aaguid=passkey.aaguid,
                transports=passkey.transports,
                created_at=now,
                taken=taken,
            ),
            created_at=now,
            last_used_at=None,
        )
        .returning(Passkey.id)
    )
    return int(result.scalar_one())


# --- authentication (WebAuthn L3 §7.2) -----------------------------------------------


def start_sign_in(session: Session, *, rp: RelyingParty, now: datetime) -> Started:
    """Usernameless options: empty allowCredentials, so nothing about any account leaks.
    Touches no database: ``session`` is unused, kept for the shape every start shares."""
    token, pending = ceremonies.issue(
        rp.ceremony_box, CeremonyKind.SIGN_IN, now=now, lifetime=rp.ceremony_lifetime
    )
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=pending.challenge,
        timeout=int(rp.ceremony_lifetime.total_seconds() * 1000),
        allow_credentials=[],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return Started(token, options_to_json(options))


def finish_sign_in(
    session: Session,
    *,
    rp: RelyingParty,
    token: object,
    payload: object,
    now: datetime,
    policy: SessionPolicy,
    replacing: ActiveSession | None = None,
) -> SignedIn | Refused:
    """Verify an assertion and start a session, writing late and once.

    Shape (docs/decisions/0007-one-transaction-sign-in.md, 0019): open the token; one
    joined select of the passkey, its user and the account's credential ids; verify; then
    the writes: the used challenge, and in a savepoint a conditional sign-count update, the
    session and the audit event. A refusal keeps the used challenge and the refusal's
    audit row.
    """
    try:
        pending = ceremonies.present(
            session, rp.ceremony_box, token, kind=CeremonyKind.SIGN_IN, now=now
        )
        found = _authenticate(
            session,
            rp=rp,
            pending=pending,
            payload=payload,
            now=now,
            failure_event=Event.SIGN_IN_FAILED,
        )
        if not ceremonies.use_up(session, pending):
            raise _replayed()
        with refusable(session):
            _count_use(session, found, now=now)
            session_token = sessions.start(
                session,
                user_id=found.user_id,
                method=METHOD,
                now=now,
                policy=policy,
                replacing=replacing,
            )
            # The passkey's row id lets the pilot report count sign-ins by provider
            # (authdemo/pilot/report.py); it is already the person's own (their export).
            audit.record(
                session,
                Event.SIGN_IN_SUCCEEDED,
                now=now,
                user_id=found.user_id,
                method=METHOD,
                passkey_id=found.passkey_id,
            )
    except AnotherCeremony as other:
        return Refused(other.failure, ceremony_kept=True)
    except AuthDemoError as error:
        return Refused(error)
    return SignedIn(found.user_id, found.user_handle, session_token, list(found.accepted))


def start_step_up(session: Session, *, rp: RelyingParty, user_id: str, now: datetime) -> Started:
    """Re-authentication options listing only this person's passkeys. Reads only."""
    token, pending = ceremonies.issue(
        rp.ceremony_box,
        CeremonyKind.STEP_UP,
        now=now,
        lifetime=rp.ceremony_lifetime,
        user_id=user_id,
    )
    mine = session.execute(
        select(Passkey.credential_id, Passkey.transports).where(Passkey.user_id == user_id)
    ).all()
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=pending.challenge,
        timeout=int(rp.ceremony_lifetime.total_seconds() * 1000),
        allow_credentials=[
            PublicKeyCredentialDescriptor(
                id=row.credential_id,
                transports=[AuthenticatorTransport(t) for t in row.transports],
            )
            for row in mine
        ],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return Started(token, options_to_json(options))


def finish_step_up(
    session: Session,
    *,
    rp: RelyingParty,
    token: object,
    payload: object,
    active: ActiveSession,
    now: datetime,
) -> str | Refused:
    """Step-up succeeds only with a passkey of the signed-in person (never another's):
    the session records the fresh authentication and gets a new token (returned for the
    cookie). A refusal keeps the used challenge and the refusal's audit row."""
    try:
        pending = ceremonies.present(
            session, rp.ceremony_box, token, kind=CeremonyKind.STEP_UP, now=now
        )
    except AuthDemoError as error:
        return Refused(error)
    if pending.user_id != active.user_id:
        return _used_up_by(session, pending, CeremonyFailed("ceremony_of_another_user"))
    try:
        found = _authenticate(
            session,
            rp=rp,
            pending=pending,
            payload=payload,
            now=now,
            failure_event=Event.STEP_UP_FAILED,
            expected_user_id=active.user_id,
        )
        if not ceremonies.use_up(session, pending):
            raise _replayed()
        with refusable(session):
            _count_use(session, found, now=now)
            audit.record(
                session, Event.STEP_UP_SUCCEEDED, now=now, user_id=active.user_id, method=METHOD
            )
            return sessions.reauthenticated(session, session_id=active.id, now=now)
    except AnotherCeremony as other:
        return Refused(other.failure, ceremony_kept=True)
    except AuthDemoError as error:
        return Refused(error)


class AnotherCeremony(Exception):
    """An assertion answering another challenge than the one in the cookie's ceremony."""

    def __init__(self, failure: CeremonyFailed) -> None:
        super().__init__(failure.reason)
        self.failure = failure


@dataclass(frozen=True, slots=True)
class _Authenticated:
    user_id: str
    user_handle: bytes
    passkey_id: int
    old_count: int
    new_count: int
    backup_state: bool
    #: Every credential id of the account (read with the passkey, in one statement).
    accepted: tuple[bytes, ...]


def _authenticate(
    session: Session,
    *,
    rp: RelyingParty,
    pending: PendingCeremony,
    payload: object,
    now: datetime,
    failure_event: Event,
    expected_user_id: str | None = None,
) -> _Authenticated:
    """WebAuthn L3 §7.2 once the token has opened. Reads and checks only; a refusal uses
    the challenge up, is audited and raised, before the use case writes anything else.

    A refusal of a challenge already used is answered as a replay and not audited as the
    other reason: a replayed genuine assertion has a counter that no longer increases, and
    must not flag its passkey as possibly cloned."""
    challenge = pending.challenge

    def refuse(error: AuthDemoError, *events: tuple[Event, dict[str, Any]]) -> AuthDemoError:
        if not ceremonies.use_up(session, pending):
            return _replayed()
        for event, fields in events:
            audit.record(session, event, now=now, **fields)
        return error

    try:
        parsed = parse_assertion(payload)
    except CeremonyFailed as malformed:
        raise refuse(malformed) from None
    rows = session.execute(_LOOKUP, {"credential_id": parsed.credential_id}).all()
    row = rows[0] if rows else None
    if row is None:
        # The page may tell the browser to forget this passkey (WebAuthn Signal API), and
        # tells the person it is no longer linked here: retrying cannot help.
        raise refuse(
            PasskeyNotLinked(
                "unknown_credential",
                signal=signals.unknown_credential(rp_id=rp.id, credential_id=parsed.credential_id),
            ),
            (
                failure_event,
                {"user_id": expected_user_id, "method": METHOD, "reason": "unknown_credential"},
            ),
        )
    if expected_user_id is not None and row.user_id != expected_user_id:
        # §7.2 step 5: the credential must be one of those of the user being identified.
        raise refuse(
            CeremonyFailed("credential_of_another_user"),
            (
                failure_event,
                {
                    "user_id": expected_user_id,
                    "method": METHOD,
                    "reason": "credential_of_another_user",
                },
            ),
        )
    try:
        check_challenge(parsed.challenge, challenge)
        _check_user_handle(parsed, row.user_handle, identified=expected_user_id is not None)
        new_count, backup_state = _verify_assertion(
            parsed,
            rp=rp,
            challenge=challenge,
            public_key=row.public_key,
            stored_count=row.sign_count,
            backup_eligible=row.backup_eligible,
        )
    except CeremonyFailed as failure:
        if failure.reason == "challenge_mismatch":
            # An answer to another ceremony than the cookie's (a tab started before the
            # latest one, or a captured response): audited, but the cookie's ceremony is
            # not used up, so the tab that started it can still finish.
            audit.record(
                session,
                failure_event,
                now=now,
                user_id=row.user_id,
                method=METHOD,
                reason=failure.reason,
                passkey_id=row.id,
            )
            raise AnotherCeremony(failure) from failure
        events: list[tuple[Event, dict[str, Any]]] = []
        if failure.reason == "sign_count_regressed":
            events.append(
                (Event.POSSIBLE_CLONED_PASSKEY, {"user_id": row.user_id, "passkey_id": row.id})
            )
        events.append(
            (
                failure_event,
                {
                    "user_id": row.user_id,
                    "method": METHOD,
                    "reason": failure.reason,
                    "passkey_id": row.id,
                },
            )
        )
        refusal = refuse(failure, *events)
        if refusal is failure:
            raise
        raise refusal from failure
    return _Authenticated(
        row.user_id,
        row.user_handle,
        row.id,
        row.sign_count,
        new_count,
        backup_state,
        tuple(r.accepted for r in rows),
    )


def _count_use(session: Session, found: _Authenticated, *, now: datetime) -> None:
    """The sign-count update, conditional on the count read (two sign-ins racing with one
    response: only one wins)."""
    updated = session.execute(
        _COUNT_UPDATE,
        {
            "passkey_id": found.passkey_id,
            "old_count": found.old_count,
            "new_count": found.new_count,
            "new_backup_state": found.backup_state,
            "used_at": now,
        },
    )
    if getattr(updated, "rowcount", 1) != 1:
        raise CeremonyFailed("concurrent_use")


def _check_user_handle(parsed: ParsedAssertion, stored: bytes, *, identified: bool) -> None:
    """§7.2 step 6: the credential must belong to the user named by ``userHandle``.

    py_webauthn does not check this; without it, a passkey of one account presented with
    another account's handle would sign in as the wrong person. Where the user was
    identified before the ceremony (step-up: the signed-in person; the credential was
    already checked to be theirs), ``userHandle`` is optional, and checked when present.
    """
    if parsed.user_handle is None:
        if identified:
            return
        raise CeremonyFailed("user_handle_missing")
    if not hmac.compare_digest(parsed.user_handle, stored):
        raise CeremonyFailed("user_handle_mismatch")


def _verify_assertion(
    parsed: ParsedAssertion,
    *,
    rp: RelyingParty,
    challenge: bytes,
    public_key: bytes,
    stored_count: int,
    backup_eligible: bool,
) -> tuple[int, bool]:
    try:
        verified = verify_authentication_response(
            credential=parsed.raw,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=public_key,
            # The counter is checked below, after the signature, so that only a genuine
            # signature can mark a passkey as possibly cloned (a forged response cannot).
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except Exception as exc:
        raise _verifier_failure(exc) from exc
    # §6.1.3: BE is fixed for the life of a credential; a change means a different one.
    if (verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE) != backup_eligible:
        raise CeremonyFailed("backup_eligibility_changed")
    # §6.1.1 / §7.2 step 22: a non-zero counter must increase.
    new_count = verified.new_sign_count
    if (new_count or stored_count) and new_count <= stored_count:
        raise CeremonyFailed("sign_count_regressed")
    return new_count, verified.credential_backed_up


def _verifier_failure(exc: Exception) -> CeremonyFailed:
    """Map anything py_webauthn raises to one refusal.

    Besides its documented ``InvalidRegistrationResponse``/``InvalidAuthenticationResponse``
    it can raise ``InvalidCBORData``, ``InvalidBackupFlags``, ``UnsupportedPublicKeyType``,
    ``KeyError``, ``ValueError``, ``TypeError`` and others on hostile input. Catching
    ``Exception`` here, at the one call into the verifier, keeps every one of them a 4xx.
    """
    log.info("passkey response refused by verifier: %s", type(exc).__name__)
    return CeremonyFailed("verification_failed")


def _registration_options(
    rp: RelyingParty,
    *,
    challenge: bytes,
    user_handle: bytes,
    username: str,
    display_name: str,
    exclude: list[tuple[bytes, list[str]]],
) -> str:
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user_handle,
        user_name=username,
        user_display_name=display_name,
        challenge=challenge,
        timeout=int(rp.ceremony_lifetime.total_seconds() * 1000),
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(
                id=credential_id,
                transports=[AuthenticatorTransport(t) for t in transports],
            )
            for credential_id, transports in exclude
        ],
        supported_pub_key_algs=[COSEAlgorithmIdentifier(a) for a in rp.algorithms],
    )
    return options_to_json(options)
