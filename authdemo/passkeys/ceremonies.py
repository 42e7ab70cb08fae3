"""Ceremony state sealed in a token; single use recorded at verify (WebAuthn L3 §13.4.3).

Starting a ceremony writes nothing: its state (the random challenge, the kind, when it
expires, who started it, and for a sign-up the pending account and the consent decision)
is sealed with AES-256-GCM under a key of its own, derived from the data key with HKDF
(purpose ``passkey-ceremony``), with the kind as associated data, and travels in the
browser's session cookie. Only this server can make or read one; a token of another kind,
an altered one or an expired one opens to nothing.

Single use is enforced where the sign-in commits: the verify request inserts the SHA-256
of the challenge into ``used_challenges`` (primary key) in its own transaction, after the
signature check, as its first write. A second insert of the same digest, a replay or the
loser of a race, changes nothing and is refused. See docs/decisions/0019-sealed-challenges.md.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from authdemo import base64url
from authdemo.errors import CeremonyFailed
from authdemo.models import CeremonyKind, UsedChallenge
from authdemo.models.base import table
from authdemo.secrets_at_rest import DecryptionError, SecretBox

CHALLENGE_BYTES = 32
#: HKDF purpose of the sealing key: never the cookie-signing key, nor another data key.
PURPOSE = "passkey-ceremony"
#: Longer text is refused before decoding (a sealed sign-up is about 600 characters).
MAX_TOKEN_CHARS = 2048

# Built once (make bench --profile: building a statement per call costs more than running
# it). ON CONFLICT DO NOTHING: a replay changes nothing and needs no savepoint.
_USED = table(UsedChallenge)
#: RETURNING says whether a row went in (psycopg reports no rowcount for it).
_USE_UP = {
    "sqlite": sqlite.insert(_USED).on_conflict_do_nothing().returning(_USED.c.digest),
    "postgresql": postgresql.insert(_USED).on_conflict_do_nothing().returning(_USED.c.digest),
}
_PLAIN_INSERT = insert(_USED)
_WAS_USED = select(_USED.c.digest).where(_USED.c.digest == bindparam("digest"))


@dataclass(frozen=True, slots=True)
class PendingCeremony:
    """What a token carries. ``user_id``: who started an add-passkey or step-up. For a
    sign-up: the account to create (its id, minted with the pending sign-up, username,
    display name and user handle) and the notice (version and language), deployment-facts
    hash and "how" of the opt-in. For adding a passkey: the opt-in ticked with it, if one
    was, and where the person's consent ledger stood when it was ticked."""

    kind: CeremonyKind
    challenge: bytes
    issued_at: datetime
    expires_at: datetime
    user_id: str | None = None
    pending_user_id: str | None = None
    pending_username: str | None = None
    pending_display_name: str | None = None
    pending_user_handle: bytes | None = None
    consent_notice_version: str | None = None
    #: The language of the notice text shown with the tick (a token sealed before
    #: languages were recorded has none: every text then was English).
    consent_notice_language: str | None = None
    consent_facts_sha256: str | None = None
    consent_method: str | None = None
    consent_ledger_position: int | None = None

    @property
    def digest(self) -> bytes:
        """What ``used_challenges`` keeps: the challenge itself is never stored."""
        return hashlib.sha256(self.challenge).digest()


def _associated_data(kind: CeremonyKind) -> bytes:
    return f"authdemo:ceremony:{kind.value}".encode()


def issue(
    box: SecretBox,
    kind: CeremonyKind,
    *,
    now: datetime,
    lifetime: timedelta,
    **bound: Any,
) -> tuple[str, PendingCeremony]:
    """A fresh challenge and the sealed token that carries it (for the cookie)."""
    state = PendingCeremony(
        kind=kind,
        challenge=secrets.token_bytes(CHALLENGE_BYTES),
        issued_at=now,
        expires_at=now + lifetime,
        **bound,
    )
    sealed = box.encrypt(_serialise(state), context=_associated_data(kind))
    return base64url.encode(sealed), state


def open_token(
    box: SecretBox, token: object, *, kind: CeremonyKind, now: datetime
) -> PendingCeremony:
    """The ceremony a token carries, if this server sealed it for ``kind`` and it has not
    expired. Reads nothing and writes nothing; single use is ``use_up``'s."""
    if not isinstance(token, str) or not token:
        raise CeremonyFailed("no_ceremony")
    state = _unseal(box, token, kind)
    if state is None:
        if any(_unseal(box, token, other) for other in CeremonyKind if other is not kind):
            raise CeremonyFailed("wrong_ceremony_kind")
        # Altered, made elsewhere, or sealed under a data key no longer configured.
        raise CeremonyFailed("challenge_unknown_or_used")
    if state.expires_at <= now:
        raise CeremonyFailed("challenge_expired")
    return state


def use_up(session: Session, ceremony: PendingCeremony) -> bool:
    """Record the challenge as used, in the caller's transaction. False when it already
    was: a replay, or the loser of two requests racing with one challenge (PostgreSQL
    makes the second insert wait for the first transaction, then finds the row)."""
    values = {"digest": ceremony.digest, "expires_at": ceremony.expires_at}
    statement = _USE_UP.get(session.get_bind().dialect.name)
    if statement is None:  # another database: a plain insert in a savepoint
        try:
            with session.begin_nested():
                session.execute(_PLAIN_INSERT, values)
        except IntegrityError:
            return False
        return True
    return session.execute(statement, values).first() is not None


def present(
    session: Session, box: SecretBox, token: object, *, kind: CeremonyKind, now: datetime
) -> PendingCeremony:
    """``open_token`` for a verify request, and a read of whether its challenge was used
    already: a plain replay is refused before any other check or work (the insert of
    ``use_up`` stays the authority, for requests racing each other). A token presented as
    the wrong kind is used up all the same (it was valid, and is refused: it must not be
    tried again elsewhere)."""
    try:
        pending = open_token(box, token, kind=kind, now=now)
    except CeremonyFailed as failure:
        if failure.reason == "wrong_ceremony_kind":
            discard(session, box, token, now=now)
        raise
    if session.execute(_WAS_USED, {"digest": pending.digest}).first() is not None:
        raise CeremonyFailed("challenge_unknown_or_used")
    return pending


def discard(session: Session, box: SecretBox, token: object, *, now: datetime) -> None:
    """Use a ceremony of any kind up without finishing it ("No thanks", another username at
    sign-up), so a late authenticator answer or an older copy of the cookie cannot finish
    it. A token that does not open (none, expired, altered) needs nothing."""
    if not isinstance(token, str):
        return
    for kind in CeremonyKind:
        state = _unseal(box, token, kind)
        if state is not None:
            if state.expires_at > now:
                use_up(session, state)
            return


def purge_expired(session: Session, *, now: datetime) -> int:
    """Digests of challenges that have expired: an expired challenge is refused anyway."""
    result = session.execute(delete(UsedChallenge).where(UsedChallenge.expires_at <= now))
    return int(getattr(result, "rowcount", 0))


# --- the token's plaintext -------------------------------------------------------------

_BYTES = frozenset({"challenge", "pending_user_handle"})
_TIMES = frozenset({"issued_at", "expires_at"})
_FIELDS = tuple(f.name for f in dataclasses.fields(PendingCeremony))


def _serialise(state: PendingCeremony) -> bytes:
    # Field by field, not dataclasses.asdict: every value is flat, and asdict's deep copy
    # was most of the cost of issuing a challenge (make bench --profile).
    plain: dict[str, Any] = {}
    for name in _FIELDS:
        value = getattr(state, name)
        if value is None:
            continue
        if name in _BYTES:
            value = base64url.encode(value)
        elif name in _TIMES:
            value = value.isoformat()
        plain[name] = value
    return json.dumps(plain, separators=(",", ":")).encode()


def _unseal(box: SecretBox, token: str, kind: CeremonyKind) -> PendingCeremony | None:
    if len(token) > MAX_TOKEN_CHARS:
        return None
    try:
        plaintext = box.decrypt(base64url.decode(token), context=_associated_data(kind))
    except (ValueError, DecryptionError):
        return None
    try:
        fields = json.loads(plaintext)
        if not isinstance(fields, dict):
            return None
        for name in _BYTES & fields.keys():
            fields[name] = base64url.decode(fields[name])
        for name in _TIMES:
            fields[name] = datetime.fromisoformat(fields[name])
        fields["kind"] = CeremonyKind(fields["kind"])
        return PendingCeremony(**fields)
    except (ValueError, KeyError, TypeError):
        # Sealed by us, but in a layout this version does not know (an instance of another
        # version during a rolling upgrade): no ceremony, one retry; never a 500.
        return None
