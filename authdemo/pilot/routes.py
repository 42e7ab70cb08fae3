"""The rollout's two ways for people to tell us something went wrong: the page script's
ceremony-problem report (JSON) and the "Report a problem" form (HTML). Thin: parse, one
use case, commit, respond; counted on /metrics after the commit."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from authdemo import clock, current
from authdemo.errors import InvalidInput
from authdemo.extensions import db, limiter
from authdemo.http import read_json_object
from authdemo.human_units import human_duration
from authdemo.models.pilot import COMPLAINT_TEXT_MAX
from authdemo.operations import metrics
from authdemo.pilot import complaints, signals, web
from authdemo.sessions import auth

bp = Blueprint("pilot", __name__)

# Every category and error name is on /metrics from the first scrape, at zero.
metrics.initialise_pilot_series(
    ceremonies=signals.CEREMONIES, errors=signals.ERROR_NAMES, categories=complaints.CATEGORIES
)


def _problem_limit() -> str:
    return current.settings().RATELIMIT_CEREMONY_PROBLEM


def _complaint_limit() -> str:
    return current.settings().RATELIMIT_COMPLAINT


@bp.post("/api/passkeys/problems")
@limiter.limit(_problem_limit)
def ceremony_problem() -> tuple[str, int]:
    """A ceremony the browser ended with an error: its name, nothing else (204)."""
    problem = signals.parse_problem(read_json_object())
    signals.record_problem(db.session, problem, now=clock.now())
    db.session.commit()
    signals.observe(problem)
    return "", 204


def _report_page(
    status: int = 200, *, form: dict[str, str] | None = None, error: InvalidInput | None = None
) -> tuple[str, int]:
    page = render_template(
        "pilot/report.html",
        categories=complaints.CATEGORIES,
        text_max=COMPLAINT_TEXT_MAX,
        retention=human_duration(current.settings().COMPLAINT_RETENTION_DAYS),
        signed_in=current_user.is_authenticated,
        form=form or {"category": "", "text": ""},
        error=error,
    )
    return page, status


def _accepted(response: WerkzeugResponse) -> bool:
    """Only reports taken count towards the limit: one refused for a typo (too long, no
    category) must not cost the person their chance to send it right."""
    return response.status_code < 400


@bp.route("/report-a-problem", methods=["GET", "POST"])
@limiter.limit(_complaint_limit, methods=["POST"], deduct_when=_accepted)
def report_problem() -> tuple[str, int] | WerkzeugResponse | Response:
    if request.method == "GET":
        return _report_page()
    form = {"category": request.form.get("category", ""), "text": request.form.get("text", "")}
    try:
        report = complaints.parse_report(request.form.get("category"), request.form.get("text"))
    except InvalidInput as error:
        return _report_page(400, form=form, error=error)
    active = auth.current_session() if current_user.is_authenticated else None
    cohort = str(web.cohort_of_account(active.user_id)) if active is not None else "unknown"
    complaints.submit(
        db.session,
        report,
        now=clock.now(),
        user_id=active.user_id if active is not None else None,
        method=active.method if active is not None else None,
        cohort=cohort,
    )
    db.session.commit()
    metrics.observe_complaint(report.category, cohort)
    flash(_("Thank you. Your report has reached us."))
    return redirect(url_for("pilot.report_problem"))
