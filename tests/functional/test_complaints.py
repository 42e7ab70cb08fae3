"""Issue 20 item 3: "Report a problem": a fixed list of categories and an optional short
text, signed in or out, rate limited, kept COMPLAINT_RETENTION_DAYS, exported to the
person and erased with the account, counted on /metrics by category and cohort only."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import Complaint
from tests.conftest import Browser, make_app
from tests.support.authenticator import SoftwareAuthenticator
from tests.support.scrape import sample, scrape

REPORT = "/report-a-problem"
TEXT = "The passkey prompt closed by itself twice on my tablet."


def reports(app: Flask) -> list[tuple[str, str | None, str | None, str | None, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(
                Complaint.category,
                Complaint.text,
                Complaint.user_id,
                Complaint.method,
                Complaint.cohort,
            ).order_by(Complaint.id)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_a_report_sent_signed_out_is_kept_with_no_account_and_counted(
    app: Flask, browser: Browser
) -> None:
    page = browser.client.get(REPORT).get_data(as_text=True)
    assert 'id="report-anonymous"' in page
    before = scrape(app)
    sent = browser.post_form(REPORT, {"category": "passkey_sign_in", "text": TEXT})
    assert sent.status_code == 302
    thanked = browser.client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Your report has reached us" in thanked
    assert reports(app) == [("passkey_sign_in", TEXT, None, None, "unknown")]
    after = scrape(app)
    name, labels = "authdemo_complaints_total", {"category": "passkey_sign_in", "cohort": "unknown"}
    assert sample(after, name, **labels) - sample(before, name, **labels) == 1
    assert TEXT not in after


def test_a_report_sent_signed_in_is_linked_exported_and_erased_with_the_account(
    tmp_path: Path, clock: FrozenClock
) -> None:
    app = make_app(tmp_path, clock, PASSKEY_PILOT_PERCENT="100")
    browser = Browser(app.test_client())
    assert browser.sign_up_with_passkey(SoftwareAuthenticator(), "reporter").status_code == 200
    assert 'id="report-linked"' in browser.client.get(REPORT).get_data(as_text=True)
    assert browser.post_form(REPORT, {"category": "unclear", "text": TEXT}).status_code == 302
    [(category, text, user_id, method, cohort)] = reports(app)
    assert (category, text, method, cohort) == ("unclear", TEXT, "passkey", "pilot")
    assert user_id is not None

    dashboard = browser.client.get("/privacy").get_data(as_text=True)
    assert "Something was confusing or unclear: “" + TEXT + "”" in html.unescape(dashboard)

    export = browser.client.get("/api/privacy/export")
    assert export.status_code == 200
    document = export.get_json()
    assert [(r["category"], r["text"]) for r in document["problem_reports"]] == [("unclear", TEXT)]
    assert document["summary"]["problem_reports"] == 1

    confirm = browser.client.get("/privacy/delete").get_data(as_text=True)
    token = re.search(r'name="confirmation" value="([^"]+)"', confirm)
    assert token is not None
    deleted = browser.post_form(
        "/privacy/delete", {"confirmation": token.group(1), "confirm_username": "reporter"}
    )
    assert deleted.status_code in (200, 302, 303)
    assert reports(app) == []


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"category": "", "text": "x"}, "category"),
        ({"category": "lottery", "text": ""}, "category"),
        ({"category": "other", "text": "x" * 501}, "text"),
        ({"category": "other", "text": "bad\x00byte"}, "text"),
    ],
)
def test_a_report_outside_the_categories_or_too_long_is_refused_on_the_page(
    app: Flask, browser: Browser, form: dict[str, str], field: str
) -> None:
    refused = browser.post_form(REPORT, form)
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert 'id="error-summary"' in page
    assert f'id="{field}-error"' in page
    assert reports(app) == []


def test_the_longest_allowed_text_is_kept_whole(app: Flask, browser: Browser) -> None:
    text = "é" * 500
    assert browser.post_form(REPORT, {"category": "other", "text": text}).status_code == 302
    assert reports(app) == [("other", text, None, None, "unknown")]


def test_reports_are_rate_limited_per_address(app: Flask, browser: Browser) -> None:
    statuses = [
        browser.post_form(REPORT, {"category": "other", "text": ""}).status_code for _ in range(4)
    ]
    assert statuses == [302, 302, 302, 429]  # RATELIMIT_COMPLAINT: 3 per 10 minutes


def test_a_refused_report_costs_nothing_of_the_limit(app: Flask, browser: Browser) -> None:
    too_long = {"category": "other", "text": "x" * 501}
    refused = [browser.post_form(REPORT, too_long).status_code for _ in range(4)]
    assert refused == [400, 400, 400, 400]
    sent = [
        browser.post_form(REPORT, {"category": "other", "text": TEXT}).status_code for _ in range(4)
    ]
    assert sent == [302, 302, 302, 429]


def test_reports_are_deleted_by_the_retention_purge_after_the_period(
    app: Flask, browser: Browser, clock: FrozenClock
) -> None:
    assert browser.post_form(REPORT, {"category": "privacy", "text": TEXT}).status_code == 302
    runner = app.test_cli_runner()
    clock.advance(days=89)
    kept = runner.invoke(args=["retention", "purge"])
    assert "problem reports older than 90 days deleted: 0" in kept.output
    assert len(reports(app)) == 1
    clock.advance(days=1, seconds=1)
    purged = runner.invoke(args=["retention", "purge"])
    assert "problem reports older than 90 days deleted: 1" in purged.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Complaint)) == 0


@pytest.mark.parametrize("path", ["/signin", "/signup", "/account", "/account/passkeys"])
def test_report_a_problem_is_linked_from_the_sign_in_and_account_pages(
    app: Flask, browser: Browser, path: str
) -> None:
    if path.startswith("/account"):
        assert browser.sign_up_with_passkey(SoftwareAuthenticator(), "linked").status_code == 200
    page = browser.client.get(path, follow_redirects=True).get_data(as_text=True)
    assert f'href="{REPORT}"' in page
