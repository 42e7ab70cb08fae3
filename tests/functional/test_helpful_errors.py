"""Errors that help (issue 17 item 3): each message names what to do about the field the
person can see, and nothing else.

Pages are read as a browser builds them (tests/support/forms.py): a message counts only
if it is what the field's ``aria-describedby`` points at, on a field marked invalid.
"""

from __future__ import annotations

import itertools

import pytest
from flask import Flask
from sqlalchemy import func, select

from authdemo.clock import FrozenClock
from authdemo.extensions import db
from authdemo.models import AuditEvent
from tests.conftest import Browser
from tests.support.forms import read

SIGN_IN = {
    "username": "Enter your username",
    "password": "Enter your password",
    "code": "Enter the 6-digit code",
}
RECOVERY = {"username": "Enter your username", "recovery_code": "Enter one of your recovery codes"}
FILLED = {
    "username": "robin",
    "password": "correct horse battery staple",
    "code": "123456",
    "recovery_code": "ABCD-EFGH-IJKL-MNOP",
}


def _audit_rows(app: Flask) -> int:
    with app.app_context():
        return int(db.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one())


def _empty_subsets(fields: dict[str, str]) -> list[tuple[str, ...]]:
    names = list(fields)
    return [c for n in range(1, len(names) + 1) for c in itertools.combinations(names, n)]


@pytest.mark.parametrize(
    ("url", "fields"),
    [("/signin/password", SIGN_IN), ("/signin/recovery", RECOVERY)],
    ids=["password", "recovery-code"],
)
def test_a_field_left_empty_gets_enter_your_and_nothing_is_checked(
    app: Flask, browser: Browser, url: str, fields: dict[str, str]
) -> None:
    """Every combination of empty fields (spaces count as empty): exactly those fields are
    invalid, each says "Enter your ...", no "not right", and nothing is recorded."""
    for empty in _empty_subsets(fields):
        before = _audit_rows(app)
        form = {name: ("  " if name in empty else FILLED[name]) for name in fields}
        response = browser.post_form(url, form)
        html = response.get_data(as_text=True)
        assert response.status_code == 400, empty
        assert "not right" not in html, empty
        doc = read(html)
        # The form that has these fields (the page has others, e.g. the language selector).
        (sent,) = [
            f
            for f in doc.forms
            if all(any(x.attrs.get("name") == n for x in f.fields) for n in fields)
        ]
        for name, message in fields.items():
            element = sent.named(name)
            if name in empty:
                assert element.attrs.get("aria-invalid") == "true", (empty, name)
                assert message in doc.described_by(element), (empty, name)
            else:
                assert "aria-invalid" not in element.attrs, (empty, name)
        assert _audit_rows(app) == before, empty


def test_recovery_code_refusal_names_only_fields_that_page_has(
    browser: Browser, clock: FrozenClock
) -> None:
    account = browser.sign_up_with_password(clock, username="robin")
    browser.sign_out()
    for username in ("robin", "nobody-here"):
        response = browser.post_form(
            "/signin/recovery", {"username": username, "recovery_code": "ABCD-EFGH-IJKL-MNOP"}
        )
        assert response.status_code == 401
        doc = read(response.get_data(as_text=True))
        (form,) = [f for f in doc.forms if f.with_autocomplete("username")]
        field_types = {f.attrs.get("type") for f in form.fields}
        message = doc.text_of_id["recovery-error"].lower()
        assert "password" not in field_types
        assert "password" not in message
        assert "recovery code" in message
    assert account.recovery_codes  # the account had codes: a wrong one was refused


@pytest.mark.parametrize(
    ("username", "says"),
    [
        ("robin hood", "can't contain spaces"),
        (".robin", "can't start with \u201c.\u201d"),
        ("robin-", "can't end with \u201c-\u201d"),
        ("jos\u00e9", "can't have accents (\u201c\u00e9\u201d): use e"),
        ("\u0440obin", "is from another alphabet"),  # Cyrillic er, looks like a Latin p
        ("robin@home", "can't contain \u201c@\u201d"),
        ("rob\u202ein", "can't contain U+202E"),  # a bidi override is named, not shown
    ],
)
def test_username_rule_errors_say_which_rule_was_broken(
    browser: Browser, username: str, says: str
) -> None:
    response = browser.choose_username(username)
    assert response.status_code == 400
    doc = read(response.get_data(as_text=True))
    (form,) = [f for f in doc.forms if f.with_autocomplete("username")]
    field = form.named("username")
    assert field.attrs.get("aria-invalid") == "true"
    assert says in doc.described_by(field)
    assert "\u202e" not in doc.described_by(field)
