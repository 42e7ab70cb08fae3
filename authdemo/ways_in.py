"""Ways in: which sign-in methods an account has, and which of them work *now*.

The one definition (issue 14; docs/decisions/0013-ways-in.md):

- A **way in** is a method that can start a normal session now: a passkey while passkey
  sign-in is enabled and offered where the person is (the kill switch and the
  jurisdiction rollout, ``authdemo.consent.rollout``), or a password + one-time code.
- **Recovery codes are a way back, not a way in**: they open only a restricted session,
  from which a new way in can be set up (or the account deleted).

Nothing may take away an account's last way in (``check_removal``); an account left with
none (after withdrawing consent, or because passkeys were switched off) keeps a short list
of things it can do without step-up (``authdemo.sessions.auth``), and is erased when it has
had no way in and no live session for ``NO_WAY_IN_ERASE_DAYS`` (``no_way_in_accounts``).

Functions take the session explicitly and never write.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from flask_babel import LazyString, lazy_gettext
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from authdemo.errors import AuthDemoError
from authdemo.models import (
    AuditEvent,
    ConsentEvent,
    Passkey,
    RecoveryCode,
    TotpCredential,
    User,
    UserSession,
)


class Method(enum.StrEnum):
    PASSKEY = "passkey"
    PASSWORD_AND_CODE = "password_and_code"  # noqa: S105 - a method name, not a secret


class LastWayIn(AuthDemoError):
    """A removal that would leave the account with no way in (one error, one slug, for
    every method; the detail says what to do first)."""

    status = 409
    slug = "last-way-in"
    title = lazy_gettext("That would leave your account with no way to sign in.")


#: What to do first, by what the person tried to remove (in the request's language when
#: the refusal is raised).
PASSKEY_IS_LAST = lazy_gettext(
    "This passkey is your only way to sign in, so it can't be removed. First add another "
    "passkey, or set up a password and one-time code; then you can remove it."
)
FALLBACK_IS_LAST = lazy_gettext(
    "Your password and one-time code are your only way to sign in right now, so they can't "
    "be removed. First add a passkey (where passkeys are available); then you can remove them."
)


@dataclass(frozen=True, slots=True)
class Methods:
    """What an account has registered, whether or not it works right now."""

    passkeys: int
    password_and_code: bool
    #: Unused recovery codes: a way back (a restricted session), never a way in.
    recovery_codes: int

    def ways_in(self, *, passkey_signin: bool) -> frozenset[Method]:
        """The methods that can start a normal session now. ``passkey_signin``: passkey
        sign-in is switched on and offered where this person is."""
        ways = set()
        if self.passkeys and passkey_signin:
            ways.add(Method.PASSKEY)
        if self.password_and_code:
            ways.add(Method.PASSWORD_AND_CODE)
        return frozenset(ways)

    def has_way_in(self, *, passkey_signin: bool) -> bool:
        return bool(self.ways_in(passkey_signin=passkey_signin))

    @property
    def any_registered(self) -> bool:
        """A passkey or a password + code, working now or not (the purge's test: a
        passkey switched off for a while is still the person's). Also what a live session
        can confirm it's them with (``confirm_methods``): an account with none has nothing
        to step up with, which alone lets its session skip step-up to set up a way in."""
        return self.passkeys > 0 or self.password_and_code

    def confirm_methods(self, *, passkey_signin: bool) -> frozenset[Method]:
        """What a live session of this account can confirm it's them with ("Confirm it's
        you", step-up): its ways in, and a registered passkey even where passkey sign-in
        is switched off or not offered, when the account has no password + code to
        confirm with instead (decision 0013: a person whose passkey is all they have can
        still prove it inside the session they have, and set up a password + code). Empty
        exactly when nothing is registered (``any_registered``)."""
        methods = set(self.ways_in(passkey_signin=passkey_signin))
        if self.passkeys and not self.password_and_code:
            methods.add(Method.PASSKEY)
        return frozenset(methods)

    @property
    def withdrawal_leaves_nothing(self) -> bool:
        """Withdrawing consent (every passkey deleted) would leave nothing to confirm
        with: such a withdrawal needs a recent sign-in, as adding a passkey does; one that
        leaves a password + code stays one click (decision 0013)."""
        return self.passkeys > 0 and not self.without_passkeys().any_registered

    # What is left after a change ---------------------------------------------------------

    def without_a_passkey(self) -> Methods:
        return replace(self, passkeys=max(0, self.passkeys - 1))

    def without_passkeys(self) -> Methods:
        """What a withdrawal of consent leaves: every passkey is deleted."""
        return replace(self, passkeys=0)

    def without_password_and_code(self) -> Methods:
        return replace(self, password_and_code=False)


def methods_of(session: Session, user_id: str) -> Methods:
    """The account's registered methods, in one query."""
    row = session.execute(
        select(
            select(func.count())
            .select_from(Passkey)
            .where(Passkey.user_id == user_id)
            .scalar_subquery(),
            exists().where(TotpCredential.user_id == user_id),
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user_id)
            .scalar_subquery(),
        )
    ).one()
    return Methods(passkeys=int(row[0]), password_and_code=bool(row[1]), recovery_codes=int(row[2]))


def keeps_a_way_in(before: Methods, after: Methods, *, passkey_signin: bool) -> bool:
    """A change never takes away the account's last way in. Removing something from an
    account that already has no way in takes nothing away, and is allowed."""
    return after.has_way_in(passkey_signin=passkey_signin) or not before.has_way_in(
        passkey_signin=passkey_signin
    )


def check_removal(
    before: Methods, after: Methods, *, passkey_signin: bool, detail: LazyString
) -> None:
    if not keeps_a_way_in(before, after, passkey_signin=passkey_signin):
        raise LastWayIn(str(detail))


def can_remove_a_passkey(methods: Methods, *, passkey_signin: bool) -> bool:
    after = methods.without_a_passkey()
    return keeps_a_way_in(methods, after, passkey_signin=passkey_signin)


def can_remove_password_and_code(methods: Methods, *, passkey_signin: bool) -> bool:
    after = methods.without_password_and_code()
    return keeps_a_way_in(methods, after, passkey_signin=passkey_signin)


# --- the no-way-in purge ------------------------------------------------------------------


def last_activity(session: Session, user_id: str) -> datetime:
    """The latest sign of the account being used: its creation, its sessions (live or not
    yet purged), its audit trail (every sign-in, sign-out, withdrawal...) and its consent
    ledger. Config refuses ``AUDIT_RETENTION_DAYS`` shorter than the no-way-in period, so
    an activity the trail no longer holds is older than the period anyway."""
    latest = session.execute(
        select(
            User.created_at,
            select(func.max(UserSession.last_seen_at))
            .where(UserSession.user_id == user_id)
            .scalar_subquery(),
            select(func.max(AuditEvent.occurred_at))
            .where(AuditEvent.user_ref == user_id)
            .scalar_subquery(),
            select(func.max(ConsentEvent.occurred_at))
            .where(ConsentEvent.user_ref == user_id)
            .scalar_subquery(),
        ).where(User.id == user_id)
    ).one()
    moments: list[datetime] = [moment for moment in latest if moment is not None]
    return max(moments)


def no_way_in_accounts(session: Session, *, now: datetime, idle_since: datetime) -> list[str]:
    """Accounts with no passkey and no password + code, no live session, and no activity
    since ``idle_since``: the ones ``flask retention purge`` erases. Passkeys switched
    off by the kill switch or the rollout still count as the person's: a switch never
    deletes anyone."""
    candidates = session.execute(
        select(User.id).where(
            ~exists().where(Passkey.user_id == User.id),
            ~exists().where(TotpCredential.user_id == User.id),
            ~exists().where(
                UserSession.user_id == User.id,
                UserSession.idle_expires_at > now,
                UserSession.absolute_expires_at > now,
            ),
        )
    ).scalars()
    return [user_id for user_id in candidates if last_activity(session, user_id) < idle_since]
