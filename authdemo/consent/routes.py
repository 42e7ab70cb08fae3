"""Consent pages: the notices, "No thanks", one-click withdrawal, and asking again.

Thin routes: read the form, check the notice it claims to show, call ``service``, commit,
redirect. Also the hooks that tie consent into the rest of the app without copies in
every route: the re-consent question after any sign-in (``on_sign_in``, connected in
``create_app``) and the panel on the account page. The kill-switch state is audited by
``flask passkeys record-switches`` (authdemo/consent/cli.py), not at start-up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as cookie
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from authdemo import clock, current, ways_in
from authdemo.consent import script_messages, service, web
from authdemo.consent.notices import PASSKEY_SIGNIN, Notice
from authdemo.consent.rollout import Availability
from authdemo.consent.service import Action
from authdemo.errors import wants_json
from authdemo.extensions import Database, db
from authdemo.http import safe_next
from authdemo.models import User
from authdemo.passkeys import service as passkeys
from authdemo.passkeys import signals
from authdemo.passkeys import wiring as passkey_wiring
from authdemo.passkeys.routes import CEREMONY_KEY
from authdemo.privacy import residue
from authdemo.sessions.auth import (
    ask_to_step_up,
    current_session,
    login_required,
    may_act_without_step_up,
    may_withdraw_without_step_up,
    session_ref,
)
from authdemo.signup import pending as pending_signup

log = logging.getLogger(__name__)

bp = Blueprint("consent", __name__)

#: Cookie flag set at sign-in: check, at the next page, whether to ask again.
RECONSENT_CHECK_KEY = "consent_check"
NOTICE_FIELDS = frozenset({"csrf_token", "notice_version", "notice_language", "notice_sha256"})
#: Where a withdrawal was made from -> the ledger's "how" (page and control).
WITHDRAW_SOURCES = {
    "account": "account:withdraw-button",
    "consent-page": "consent-page:withdraw-button",
    "reconsent": "reconsent:stop-using-passkeys-button",
}
#: Where each withdraw button is, to come back to after "Confirm it's you".
WITHDRAW_PAGES = {
    "account": "main.account",
    "consent-page": "consent.manage",
    "reconsent": "consent.manage",
}
#: Pages that never redirect to the re-consent question (it would get in the way).
_NOT_INTERRUPTED = frozenset(
    {
        "static",
        "sessions.signin",
        "sessions.signout",
        "fallback.recover",
        "fallback.setup",
        "fallback.setup_code",
    }
)


def _quiet_period() -> timedelta:
    return timedelta(days=current.settings().CONSENT_REASK_DAYS)


def _user_id() -> str:
    user_id: str = current_user.id
    return user_id


# --- public: the notices ---------------------------------------------------------------


@bp.get("/notices/passkeys")
@bp.get("/notices/passkeys/<version>")
@bp.get("/notices/passkeys/<version>/<language>")
def notice(version: str | None = None, language: str | None = None) -> str:
    """Every published text, so anyone can read what they (or others) agreed to: a
    version in the page's language (or in English, saying so), or with ``language``
    exactly the text a ledger row or receipt names, in the language it was shown in."""
    book = web.notice_book()
    if version is None:
        shown: Notice | None = web.current_notice()
    elif language is None:
        original = book.get(PASSKEY_SIGNIN, version)
        shown = None if original is None else web.in_page_language(original)
    else:
        shown = book.get(PASSKEY_SIGNIN, version, language)
    if shown is None:
        abort(404)
    return render_template(
        "consent/notice.html",
        notice=shown,
        versions=[web.in_page_language(v) for v in book.versions(PASSKEY_SIGNIN)],
        languages=book.languages(PASSKEY_SIGNIN, shown.version),
    )


# --- sign-up: "No thanks, use a password and a one-time code" ----------------------------


@bp.post("/signup/no-passkey")
def decline_at_signup() -> Response:
    """Discard any passkey ceremony this sign-up started (on the server: a late answer
    from the authenticator, or an older cookie, cannot create the account after "No
    thanks"), and remember the decline until the password + code account exists."""
    pending = pending_signup.current()
    if pending is None:
        return redirect(url_for("signup.signup"))
    service.reject_unexpected(request.form.keys(), NOTICE_FIELDS)
    shown = None
    if web.availability().enrolment:  # only a choice that was offered is recorded
        shown = web.notice_from_form(request.form, current_only=False)
    passkeys.abandon_ceremony(
        db.session,
        rp=passkey_wiring.relying_party(),
        token=cookie.pop(CEREMONY_KEY, None),
        now=clock.now(),
    )
    db.session.commit()
    if shown is not None:
        web.remember_signup_decline(
            shown, method="signup:no-thanks-button", username=pending.username, now=clock.now()
        )
    return redirect(url_for("fallback.signup_password"))


# --- the signed-in person's consent ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Panel:
    """What the account page shows about passkey consent."""

    passkeys: int
    agreed: service.Entry | None
    #: Offer passkeys (never within the quiet period after a "No thanks").
    invite: bool
    #: Passkeys are the only way in: offer password + code or recovery codes first.
    only_way_in: bool
    #: The account has a password + code (the page speaks of it only then).
    password_and_code: bool
    #: Passkeys are in use without a grant still in force: ask again, saying why.
    reconsent: service.AskAgain | None
    availability: Availability
    notice: Notice

    @property
    def on(self) -> bool:
        return self.passkeys > 0

    @property
    def agreed_to_current(self) -> bool:
        """The current grant is of the notice shown now: adding a passkey needs only a
        one-line reminder (``consent/_opt_in_or_reminder.html``), and records nothing."""
        return self.agreed is not None and self.agreed.notice_version == self.notice.version


def panel_for(user_id: str) -> Panel:
    session, now = db.session, clock.now()
    methods = ways_in.methods_of(session, user_id)
    state = web.availability()
    last = service.latest(session, user_id)
    return Panel(
        passkeys=methods.passkeys,
        agreed=last if last is not None and last.action is Action.GRANTED else None,
        invite=state.enrolment
        and service.may_invite(session, user_id, now=now, quiet_period=_quiet_period()),
        only_way_in=methods.passkeys > 0
        and not methods.without_passkeys().has_way_in(passkey_signin=state.signin),
        password_and_code=methods.password_and_code,
        reconsent=service.ask_again(session, web.notice_book(), user_id),
        availability=state,
        notice=web.current_notice(),
    )


@bp.get("/account/passkeys/consent")
@login_required
def manage() -> str:
    """Passkey sign-in for this person: read the notice, opt in, or withdraw."""
    return render_template(
        "consent/manage.html",
        panel=panel_for(_user_id()),
        history=service.history(db.session, _user_id()),
        book=web.notice_book(),
    )


@bp.post("/account/passkeys/consent/no-thanks")
@login_required
def decline() -> Response:
    service.reject_unexpected(request.form.keys(), NOTICE_FIELDS)
    shown = web.notice_from_form(request.form, current_only=False)
    service.decline(
        db.session,
        user_id=_user_id(),
        notice=shown,
        facts_sha256=web.facts_beside(shown).sha256,
        method="account:no-thanks-button",
        now=clock.now(),
        quiet_period=_quiet_period(),
    )
    db.session.commit()
    flash(_("Got it: no passkeys. We won't ask again for a while. You can opt in here any time."))
    return redirect(url_for("main.account"))


@bp.post("/account/passkeys/consent/withdraw")
@login_required
def withdraw() -> Response:
    """One click (GDPR Art 7(3)): passkeys deleted at once. A withdrawal that would leave
    the account with nothing to confirm with (passkeys only) from a session older than the
    step-up window first asks "Confirm it's you" with the passkey that still exists, as
    adding one does (decision 0013): else an old session could withdraw, then set up a
    password + code of its own with nothing left to step up with."""
    service.reject_unexpected(request.form.keys(), NOTICE_FIELDS | {"source"})
    source = str(request.form.get("source", "account"))
    method = WITHDRAW_SOURCES.get(source)
    if method is None:
        raise service.UnexpectedField()
    if not may_withdraw_without_step_up():
        return ask_to_step_up(url_for(WITHDRAW_PAGES[source]))
    shown = web.notice_from_form(request.form, current_only=False)
    active = current_session()
    done = service.withdraw(
        db.session,
        user_id=_user_id(),
        notice=shown,
        facts_sha256=web.facts_beside(shown).sha256,
        method=method,
        now=clock.now(),
        session_ref=session_ref(),
        acting_session_id=None if active is None else active.id,
    )
    db.session.commit()
    count = done.passkeys_deleted
    if count:
        _checkpoint_deleted_passkeys()
    flash(
        ngettext(
            "Passkey sign-in is off. We deleted %(num)d passkey from our records.",
            "Passkey sign-in is off. We deleted %(num)d passkeys from our records.",
            count,
        )
    )
    if done.other_sessions_ended:
        flash(_("With no way to sign in left, your account is now signed out everywhere else."))
    return redirect(url_for("consent.withdrawn"))


def _checkpoint_deleted_passkeys() -> None:
    """The deleted passkeys (credential ids, public keys) stay in SQLite's write-ahead log
    until a checkpoint: checkpoint now, as erasure does (authdemo.privacy.residue). The
    withdrawal itself is committed already, so a failure here is only logged; the next
    ``flask retention purge`` checkpoints again."""
    engine = Database.engine_for(current_app)
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL: VACUUM by the purge (docs/retention-postgres.md)
    try:
        residue.reclaim(engine, ("passkeys",))
    except (SQLAlchemyError, OSError):
        log.exception("WAL checkpoint after a withdrawal failed; the purge will retry")


@bp.get("/account/passkeys/consent/withdrawn")
@login_required
def withdrawn() -> str | Response:
    """After withdrawing: tell the device to stop offering the passkeys (Signal API), and
    say plainly when the account has no way in left."""
    user_id = _user_id()
    methods = ways_in.methods_of(db.session, user_id)
    if methods.passkeys:
        # Never ask a browser to hide passkeys the account still accepts.
        return redirect(url_for("consent.manage"))
    user: User = current_user
    signal = signals.all_accepted_credentials(
        rp_id=current.settings().RP_ID, user_handle=user.user_handle, credential_ids=[]
    )
    return render_template(
        "consent/withdrawn.html",
        page_data={"signal": signal, "messages": script_messages.of("consent-withdrawn")},
        way_in_left=methods.has_way_in(passkey_signin=False),
        recovery_codes_left=methods.recovery_codes,
        can_set_up_password=may_act_without_step_up(),
        can_create_passkey=web.availability().enrolment,
        erase_days=current.settings().NO_WAY_IN_ERASE_DAYS,
    )


@bp.route("/account/passkeys/consent/renew", methods=["GET", "POST"])
@login_required
def reconsent() -> str | Response:
    """Passkeys in use without a grant still in force (``service.ask_again``: a material
    change to the notice, or no agreement on record): agree to the current text, stop
    using passkeys, or decide later. The page says which reason applies, and what a "no"
    leaves: the password and code where the account has them, else the warning that it
    would leave no way in, with the ways to set one up first. Password + code is never
    blocked by this question."""
    user_id = _user_id()
    next_url = safe_next(request.values.get("next"), url_for("main.account"))
    if request.method == "GET":
        panel = panel_for(user_id)
        if panel.reconsent is None:
            return redirect(next_url)
        return render_template(
            "consent/reconsent.html",
            due=panel.reconsent,
            notice=web.in_page_language(panel.reconsent.notice),
            changes=[web.in_page_language(n) for n in panel.reconsent.changed_by],
            panel=panel,
            next_url=next_url,
        )
    service.reject_unexpected(request.form.keys(), NOTICE_FIELDS | {"next"})
    shown = web.notice_from_form(request.form)
    service.reconsent(
        db.session,
        web.notice_book(),
        user_id=user_id,
        notice=shown,
        facts_sha256=web.facts_beside(shown).sha256,
        method="reconsent:agree-button",
        now=clock.now(),
    )
    db.session.commit()
    flash(_("Thank you. You agreed to the updated passkey notice."))
    return redirect(next_url)


# --- hooks ---------------------------------------------------------------------------------


@bp.before_app_request
def _before_request() -> Response | None:
    return _ask_again_after_sign_in()


def _ask_again_after_sign_in() -> Response | None:
    """At the first page after a sign-in (any method): if the notice changed materially
    since the person agreed, show the question first. Asked once per sign-in; "decide
    later" carries on, so it never blocks anyone."""
    if RECONSENT_CHECK_KEY not in cookie or request.method != "GET":
        return None
    endpoint = request.endpoint or ""
    if endpoint in _NOT_INTERRUPTED or endpoint.startswith(("consent.", "stepup.")):
        return None
    if wants_json():
        return None
    cookie.pop(RECONSENT_CHECK_KEY, None)
    active = current_session() if current_user.is_authenticated else None
    if active is None or active.restricted or not web.availability().any:
        return None
    if service.ask_again(db.session, web.notice_book(), active.user_id) is None:
        return None
    return redirect(url_for("consent.reconsent", next=request.full_path.rstrip("?")))


def on_sign_in(_app: Flask, user: Any = None, **_extra: Any) -> None:
    """Flask-Login's ``user_logged_in`` signal, connected in ``create_app``: every way of
    signing in passes here. Marks the cookie to check, at the next page, whether to ask
    again. Writes nothing to the database."""
    cookie[RECONSENT_CHECK_KEY] = True


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    """For templates outside this package: the account panel, the sign-in and sign-up
    pages (switched off? the notice to show)."""
    return {
        "passkey_consent_panel": lambda: panel_for(_user_id()),
        "passkey_availability": web.availability,
        "passkey_notice": web.current_notice,
        "deployment_facts": web.facts_beside,
        "language_name": web.language_name,
        "notice_page_language": web.page_language,
        "consent_script_messages": script_messages.of,
    }
