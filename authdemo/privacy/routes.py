"""Privacy dashboard, export and erasure.

GET  /privacy              everything held about the person, in plain words
GET  /privacy/export       the export as a file download           (step-up, rate-limited)
GET  /api/privacy/export   the same document as JSON                (step-up, rate-limited)
GET  /privacy/delete       what deletion does; type your username  (step-up)
POST /privacy/delete       delete the account, then the goodbye page (step-up, CSRF,
                           typed confirmation, a fresh confirmation token)
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    current_app,
    render_template,
    request,
    url_for,
)
from flask import session as cookie
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user, logout_user
from sqlalchemy.exc import SQLAlchemyError

from authdemo import clock, current, i18n
from authdemo.compliance import privacy_notice
from authdemo.errors import (
    AuthDemoError,
    InvalidInput,
    backing_service_error_types,
)
from authdemo.extensions import db, limiter
from authdemo.fallback.throttle import account_key_for
from authdemo.passkeys import signals
from authdemo.pilot import complaints
from authdemo.privacy import dashboard as view
from authdemo.privacy import residue, service
from authdemo.privacy.service import Person
from authdemo.receipts import service as receipts
from authdemo.receipts import wiring as receipts_wiring
from authdemo.sessions.auth import (
    allow_restricted,
    current_session,
    login_required,
    require_recent_auth,
    require_recent_auth_unless_stranded,
)
from authdemo.sessions.service import ActiveSession
from authdemo.usernames import normalise_username

bp = Blueprint("privacy", __name__)

CONFIRMATION_KEY = "erasure-confirmation"

#: What static/js/privacy-goodbye.js may say, in the page's language (docs/translating.md).
GOODBYE_MESSAGES = {
    "forgetUnsupported": lazy_gettext(
        "This browser can't be told to forget passkeys automatically."
    ),
    "forgetSent": lazy_gettext(
        "Your browser was asked to forget the passkeys it holds for this site."
    ),
    "forgetNotConfirmed": lazy_gettext(
        "Your browser didn't confirm that it forgot this site's passkeys."
    ),
}


class StaleConfirmation(AuthDemoError):
    status = 409
    slug = "confirmation-expired"
    title = lazy_gettext("This delete form has expired or was not made for this session.")

    def __init__(self) -> None:
        super().__init__(
            _("Nothing was deleted. Please open the delete page again and confirm there.")
        )


def _person() -> Person:
    person = service.find_person(db.session, user_id=current_user.id)
    if person is None:  # deleted in another tab a moment ago
        raise service.UnknownAccount()
    return person


def _active() -> ActiveSession:
    active = current_session()
    assert active is not None, "login_required guarantees a session"
    return active


def _export_key() -> str:
    """Exports are counted per account (the limiter key erasure drops), not per address."""
    return account_key_for(current_user.username)


def _exported(response: Response) -> bool:
    """Only exports actually delivered count towards the limit."""
    return response.status_code == 200


export_limit = limiter.shared_limit(
    lambda: current.settings().RATELIMIT_EXPORT,
    scope="privacy-export",
    key_func=_export_key,
    deduct_when=_exported,
)


@bp.get("/privacy")
@login_required
def dashboard() -> str:
    settings = current.settings()
    shown = view.dashboard(db.session, _person())
    return render_template(
        "privacy/dashboard.html",
        view=shown,
        pages_language=i18n.page_language(shown.user.language),
        current_session_id=_active().id,
        describe_event=view.describe_event,
        consent_labels=view.CONSENT_LABELS,
        method_labels=view.METHOD_LABELS,
        withdraw_url=_url_if_exists("consent.manage"),
        sessions_url=_url_if_exists("account.sessions"),
        report_url=_url_if_exists("pilot.report_problem"),
        report_categories=complaints.CATEGORIES,
        # The same periods, in the same words, as the privacy notice (one source).
        notice=privacy_notice.build(settings),
    )


def _url_if_exists(endpoint: str) -> str | None:
    """Link to a page another feature provides, if this app has it."""
    return url_for(endpoint) if endpoint in current_app.view_functions else None


def _export(via: str) -> bytes:
    now = clock.now()
    person = _person()
    context = service.export_context(
        current.settings(),
        requested_via="self-service",
        current_session_id=_active().id,
        consent_receipts=receipts.for_export(
            db.session, receipts_wiring.issuer(), user_id=person.id, now=now
        ),
    )
    document = service.export(db.session, person, now=now, context=context, via=via)
    db.session.commit()
    return service.dump_export(document)


def _no_store(response: Response) -> Response:
    # Personal data: never kept by a shared cache or the browser's back-forward cache.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.get("/privacy/export")
@login_required
@export_limit
@require_recent_auth
def download() -> Response:
    """GDPR Art 15 and 20: the person's data as a file they can keep or take elsewhere."""
    data = _export("download")
    name = re.sub(r"[^a-z0-9-]+", "-", current.settings().RP_NAME.lower()).strip("-")
    filename = f"{name or 'account'}-personal-data-{clock.now():%Y-%m-%d}.json"
    response = Response(data, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _no_store(response)


@bp.get("/api/privacy/export")
@login_required
@export_limit
@require_recent_auth
def export_json() -> Response:
    """The same document for programs (the person's own scripts, a migration tool)."""
    return _no_store(Response(_export("api"), mimetype="application/json"))


# --- deletion -------------------------------------------------------------------------


def _confirmation_token(active: ActiveSession) -> str:
    return service.confirmation_token(
        current.keyed_hash(CONFIRMATION_KEY),
        user_id=active.user_id,
        session_id=active.id,
        authenticated_at=active.authenticated_at,
        issued_at=int(clock.now().timestamp()),
    )


def _delete_page(error: str | None = None) -> str:
    return render_template(
        "privacy/delete.html",
        view=view.dashboard(db.session, _person()),
        confirmation=_confirmation_token(_active()),
        error=error,
        typed=request.form.get("confirm_username", "") if error else "",
    )


@bp.get("/privacy/delete")
@login_required
@allow_restricted
@require_recent_auth_unless_stranded
def delete_confirm() -> str:
    return _delete_page()


@bp.post("/privacy/delete")
@login_required
@allow_restricted
@require_recent_auth_unless_stranded
def delete_account() -> ResponseReturnValue:
    """GDPR Art 17: delete the account and everything about it, in one transaction."""
    active = _active()
    settings = current.settings()
    fresh = service.confirmation_is_fresh(
        current.keyed_hash(CONFIRMATION_KEY),
        request.form.get("confirmation"),
        user_id=active.user_id,
        session_id=active.id,
        authenticated_at=active.authenticated_at,
        now=clock.now(),
        max_age=timedelta(seconds=settings.STEP_UP_SECONDS),
    )
    if not fresh:
        raise StaleConfirmation()
    person = _person()
    if not _typed_matches(request.form.get("confirm_username"), person.username):
        page = _delete_page(_("That is not your username. Type it exactly to confirm."))
        return page, 422

    erasure = service.erase_account(
        db.session,
        person,
        now=clock.now(),
        pseudonyms=current.keyed_hash("pseudonym"),
        via="self-service",
    )
    db.session.commit()
    _after_erasure(erasure)
    logout_user()
    # The goodbye page is still in the person's language (fixed for this request first),
    # and afterwards the browser keeps nothing of theirs, not even that (decision 0028).
    i18n.current_language()
    cookie.clear()
    signal = signals.call(
        signals.ALL_ACCEPTED,
        signals.all_accepted_credentials(
            rp_id=settings.RP_ID, user_handle=erasure.user_handle, credential_ids=[]
        ),
    )
    return render_template(
        "privacy/goodbye.html", page_data={"signals": [signal], "messages": GOODBYE_MESSAGES}
    )


def _typed_matches(typed: object, username: str) -> bool:
    try:
        return normalise_username(typed) == username
    except InvalidInput:
        return False


def _after_erasure(erasure: service.Erasure) -> None:
    """A failure here must not hide that the account is gone, so it is logged; the next
    ``flask retention purge`` finishes the job."""
    failures: tuple[type[Exception], ...] = (
        SQLAlchemyError,
        OSError,
        RuntimeError,
        *backing_service_error_types(redis=current.settings().uses_redis),
    )
    try:
        residue.after_erasure(current_app, erasure, vacuum=False)
    except failures:
        current_app.logger.exception("clean-up after erasure failed; the purge will retry")
