"""The signed-in person's own account: their passkeys, sessions and profile.

Every function takes the database session, the person and ``now`` explicitly and never
commits (the route does). Every query is scoped by ``user_id``: an id of someone else's
passkey or session behaves exactly like an id that does not exist.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from authdemo import audit, ways_in
from authdemo.audit import Event
from authdemo.errors import AuthDemoError, InvalidInput, StepUpRequired, UsernameTaken
from authdemo.models import AuditEvent, Passkey, User, UserSession
from authdemo.models.passkey import PASSKEY_NAME_MAX
from authdemo.passkeys import signals
from authdemo.passkeys.providers import provider_name
from authdemo.usernames import normalise_display_name, normalise_username

#: Characters that have no place in a name shown back to people: controls, format
#: characters (bidi overrides that make text read backwards), surrogates, private use,
#: unassigned.
_UNPRINTABLE = {"Cc", "Cf", "Cs", "Co", "Cn"}
#: Raw input longer than this is refused before normalisation does any work.
_RAW_MAX = 256
DEVICE_LABEL_MAX = 64
NEVER = datetime.min.replace(tzinfo=UTC)


class PasskeyNotFound(AuthDemoError):
    status = 404
    slug = "passkey-not-found"
    title = lazy_gettext("We couldn't find that passkey. It may have been removed already.")


class SessionNotFound(AuthDemoError):
    status = 404
    slug = "session-not-found"
    title = lazy_gettext("That session has already ended.")


# --- names people type ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LabelMessages:
    """What a refused name says, as whole sentences per kind of name (a translation
    cannot be built from "The" + a noun: the article depends on the noun)."""

    not_text: Any
    too_long: Any
    unprintable: Any


PASSKEY_NAME = LabelMessages(
    lazy_gettext("The passkey name must be text."),
    lazy_gettext("A passkey name has at most %(num)d characters."),
    lazy_gettext("The passkey name contains characters that can't be shown."),
)
DEVICE_NAME = LabelMessages(
    lazy_gettext("The device name must be text."),
    lazy_gettext("A device name has at most %(num)d characters."),
    lazy_gettext("The device name contains characters that can't be shown."),
)


def normalise_label(
    raw: object, *, field: str, messages: LabelMessages, max_length: int
) -> str | None:
    """NFKC, whitespace collapsed, printable, at most ``max_length``; empty means None."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise InvalidInput(str(messages.not_text), field=field)
    if len(raw) > _RAW_MAX:
        raise InvalidInput(str(messages.too_long) % {"num": max_length}, field=field)
    text = " ".join(unicodedata.normalize("NFKC", raw).split())
    if not text:
        return None
    if len(text) > max_length:
        raise InvalidInput(str(messages.too_long) % {"num": max_length}, field=field)
    if any(unicodedata.category(ch) in _UNPRINTABLE for ch in text):
        raise InvalidInput(str(messages.unprintable), field=field)
    return text


# --- passkeys ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PasskeyView:
    id: int
    name: str
    #: From the AAGUID (authdemo/data/passkey_providers.json); None when unknown.
    provider: str | None
    created_at: datetime
    last_used_at: datetime | None
    #: The BS flag (WebAuthn L3 §6.1.3): backed up, i.e. synced across the person's devices.
    synced: bool
    #: When a sign count that did not increase was last seen (§6.1.1), if ever.
    possible_clone_at: datetime | None


def list_passkeys(session: Session, *, user_id: str) -> list[PasskeyView]:
    rows = session.execute(
        select(
            Passkey.id,
            Passkey.name,
            Passkey.aaguid,
            Passkey.created_at,
            Passkey.last_used_at,
            Passkey.backup_state,
        )
        .where(Passkey.user_id == user_id)
        .order_by(Passkey.created_at, Passkey.id)
    ).all()
    clones = possible_clones(session, user_id=user_id)
    return [
        PasskeyView(
            id=row.id,
            name=row.name,
            provider=provider_name(row.aaguid),
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            synced=row.backup_state,
            possible_clone_at=clones.get(row.id),
        )
        for row in rows
    ]


def possible_clones(session: Session, *, user_id: str) -> dict[int, datetime]:
    """Passkey id -> latest "possible clone" audit event for it (kept as long as the
    audit trail keeps events). The event is the record; no column duplicates it."""
    rows = session.execute(
        select(AuditEvent.occurred_at, AuditEvent.details).where(
            AuditEvent.user_ref == user_id,
            AuditEvent.event == str(Event.POSSIBLE_CLONED_PASSKEY),
        )
    ).all()
    latest: dict[int, datetime] = {}
    for occurred_at, details in rows:
        passkey_id = details.get("passkey_id") if isinstance(details, dict) else None
        if isinstance(passkey_id, int) and occurred_at > latest.get(passkey_id, NEVER):
            latest[passkey_id] = occurred_at
    return latest


def find_passkey(session: Session, *, user_id: str, passkey_id: int) -> PasskeyView | None:
    for view in list_passkeys(session, user_id=user_id):
        if view.id == passkey_id:
            return view
    return None


def get_passkey(session: Session, *, user_id: str, passkey_id: int) -> PasskeyView:
    view = find_passkey(session, user_id=user_id, passkey_id=passkey_id)
    if view is None:
        raise PasskeyNotFound()
    return view


def newest_passkey_id(session: Session, *, user_id: str) -> int | None:
    """The person's most recently created passkey (the one a sign-up just made)."""
    newest: int | None = session.execute(
        select(Passkey.id)
        .where(Passkey.user_id == user_id)
        .order_by(Passkey.created_at.desc(), Passkey.id.desc())
        .limit(1)
    ).scalar()
    return newest


def rename_passkey(
    session: Session, *, user_id: str, passkey_id: int, name: object, now: datetime
) -> str:
    new_name = normalise_label(
        name, field="name", messages=PASSKEY_NAME, max_length=PASSKEY_NAME_MAX
    )
    if new_name is None:
        raise InvalidInput(_("Please give the passkey a name."), field="name")
    result = session.execute(
        update(Passkey)
        .where(Passkey.id == passkey_id, Passkey.user_id == user_id)
        .values(name=new_name)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise PasskeyNotFound()
    audit.record(session, Event.PASSKEY_RENAMED, now=now, user_id=user_id, passkey_id=passkey_id)
    return new_name


def remove_passkey(
    session: Session,
    *,
    user_id: str,
    passkey_id: int,
    passkey_signin: bool,
    now: datetime,
    session_ref: str | None = None,
) -> None:
    """Remove one of the person's passkeys, refusing to remove the last way in
    (``authdemo.ways_in``; ``passkey_signin``: passkeys work where the person is).

    The account row is locked first (``SELECT ... FOR UPDATE`` on PostgreSQL), so two
    removals at once cannot each see "another way in remains" and together remove both.
    SQLite has one writer at a time and refuses a write from a stale snapshot.
    """
    session.execute(select(User.id).where(User.id == user_id).with_for_update()).one()
    owned = session.execute(
        select(exists().where(Passkey.id == passkey_id, Passkey.user_id == user_id))
    ).scalar()
    if not owned:
        raise PasskeyNotFound()
    methods = ways_in.methods_of(session, user_id)
    ways_in.check_removal(
        methods,
        methods.without_a_passkey(),
        passkey_signin=passkey_signin,
        detail=ways_in.PASSKEY_IS_LAST,
    )
    session.execute(
        delete(Passkey)
        .where(Passkey.id == passkey_id, Passkey.user_id == user_id)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        Event.PASSKEY_REMOVED,
        now=now,
        user_id=user_id,
        passkey_id=passkey_id,
        session_ref=session_ref,
    )


def all_accepted_credentials(session: Session, *, user: User, rp_id: str) -> dict[str, Any]:
    """Options for ``PublicKeyCredential.signalAllAcceptedCredentials`` (WebAuthn L3
    §5.1.10.2): the passkeys the account has now; the device may drop any other."""
    ids = session.execute(
        select(Passkey.credential_id).where(Passkey.user_id == user.id).order_by(Passkey.id)
    ).scalars()
    return signals.all_accepted_credentials(
        rp_id=rp_id, user_handle=user.user_handle, credential_ids=ids
    )


def current_user_details(user: User, *, rp_id: str) -> dict[str, Any]:
    """Options for ``PublicKeyCredential.signalCurrentUserDetails`` (§5.1.10.3): the names
    the passkey picker shows, as registration set them (``user.name``/``displayName``)."""
    return signals.current_user_details(
        rp_id=rp_id, user_handle=user.user_handle, name=user.username, display_name=user.label
    )


# --- sessions ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionView:
    id: int
    created_at: datetime
    last_seen_at: datetime
    method: str
    restricted: bool
    device_label: str | None
    current: bool


def list_sessions(
    session: Session, *, user_id: str, current_id: int | None, now: datetime
) -> list[SessionView]:
    """The person's live sessions, this one first, then the most recently seen."""
    rows = session.execute(
        select(
            UserSession.id,
            UserSession.created_at,
            UserSession.last_seen_at,
            UserSession.method,
            UserSession.restricted,
            UserSession.device_label,
        )
        .where(
            UserSession.user_id == user_id,
            UserSession.idle_expires_at > now,
            UserSession.absolute_expires_at > now,
        )
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).all()
    views = [
        SessionView(
            id=row.id,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            method=row.method,
            restricted=row.restricted,
            device_label=row.device_label,
            current=row.id == current_id,
        )
        for row in rows
    ]
    return sorted(views, key=lambda view: not view.current)


def session_started_at(session: Session, *, session_id: int) -> datetime | None:
    started: datetime | None = session.execute(
        select(UserSession.created_at).where(UserSession.id == session_id)
    ).scalar()
    return started


def label_session(session: Session, *, user_id: str, session_id: int, label: object) -> str | None:
    """Keep a device description only because the person typed one (data minimisation,
    GDPR Art 5(1)(c)): what the field held when saved, which may be the coarse suggestion
    the page offered (``sessions.device_names``); nothing is stored unless saved. Empty
    clears it."""
    text = normalise_label(
        label, field="device_label", messages=DEVICE_NAME, max_length=DEVICE_LABEL_MAX
    )
    result = session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.user_id == user_id)
        .values(device_label=text)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise SessionNotFound()
    return text


def sign_out_session(session: Session, *, user_id: str, session_id: int, now: datetime) -> None:
    result = session.execute(
        delete(UserSession)
        .where(UserSession.id == session_id, UserSession.user_id == user_id)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise SessionNotFound()
    audit.record(session, Event.SESSION_REVOKED, now=now, user_id=user_id, session_id=session_id)


def sign_out_other_sessions(
    session: Session, *, user_id: str, current_id: int, now: datetime
) -> int:
    result = session.execute(
        delete(UserSession)
        .where(UserSession.user_id == user_id, UserSession.id != current_id)
        .execution_options(synchronize_session=False)
    )
    count = int(getattr(result, "rowcount", 0))
    if count:
        audit.record(session, Event.SESSION_REVOKED, now=now, user_id=user_id, count=count)
    return count


# --- profile (GDPR Art 16, rectification) --------------------------------------------


@dataclass(frozen=True, slots=True)
class ProfileChange:
    username: str
    display_name: str | None
    #: Which fields changed: a subset of ("username", "display_name").
    changed: tuple[str, ...]


def change_profile(
    session: Session,
    *,
    user: User,
    username: object,
    display_name: object,
    now: datetime,
    stepped_up: bool,
    session_ref: str | None = None,
) -> ProfileChange:
    """Change the username and display name, with the same rules as at sign-up.

    A new username needs a recent step-up (``stepped_up``): password and recovery-code
    sign-in take the username, so a session left open could otherwise lock the owner
    out. The display name is only how we greet the person and needs none.

    Raises InvalidInput (field named), StepUpRequired or UsernameTaken, in that order, so
    a session without step-up cannot even learn whether a username is taken. A race with
    someone taking the same username at the same moment ends at the unique constraint
    (IntegrityError), which the route turns into the same UsernameTaken answer.
    """
    new_username = normalise_username(username)
    new_display_name = normalise_display_name(display_name)
    changed: list[str] = []
    if new_username != user.username and not stepped_up:
        raise StepUpRequired()
    if new_username != user.username:
        taken = session.execute(
            select(exists().where(User.username == new_username, User.id != user.id))
        ).scalar()
        if taken:
            raise UsernameTaken()
        changed.append("username")
    if new_display_name != user.display_name:
        changed.append("display_name")
    if changed:
        user.username, user.display_name = new_username, new_display_name
        session.flush()  # a username taken at this very moment fails here (unique)
        for field in changed:
            # Which field, never the old or new value: the trail stays pseudonymous.
            audit.record(
                session,
                Event.PROFILE_CHANGED,
                now=now,
                user_id=user.id,
                field=field,
                session_ref=session_ref,
            )
    return ProfileChange(new_username, new_display_name, tuple(changed))
