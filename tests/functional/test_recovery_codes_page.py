"""The recovery-codes page and the set-up key as served (issue 17 item 8): codes in
groups of four, one per list item; copy buttons that are plain buttons run by an ES
module (no inline script, strict CSP); the page data names the site and the account
for the downloaded file. How they look and copy is measured in Chromium
(tests/e2e/test_recovery_codes_in_chromium.py)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from authdemo.clock import FrozenClock
from tests.conftest import Browser

CODE = re.compile(r"^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$")
KEY = re.compile(r"^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$")


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.starts: list[tuple[str, dict[str, str]]] = []
        self.text: dict[str, str] = {}
        self.open: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.starts.append((tag, a))
        if "id" in a and tag not in ("input", "img", "br"):
            self.open.append((tag, a["id"]))
            self.text[a["id"]] = ""

    def handle_data(self, data: str) -> None:
        for _, element_id in self.open:
            self.text[element_id] += data

    def handle_endtag(self, tag: str) -> None:
        if self.open and self.open[-1][0] == tag:
            self.open.pop()


def _read(html: str) -> _Elements:
    reader = _Elements()
    reader.feed(html)
    return reader


def _scripts_are_modules_only(page: _Elements) -> None:
    for tag, attrs in page.starts:
        if tag == "script":
            assert attrs.get("type") in ("module", "application/json"), attrs
            assert attrs.get("type") == "application/json" or attrs.get("src"), attrs
        assert "style" not in attrs, (tag, attrs)
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)


def test_codes_page_groups_codes_and_names_site_and_account(
    browser: Browser, clock: FrozenClock
) -> None:
    browser.choose_username("robin")
    browser.post_form("/signup/password", {"password": "correct horse battery staple"})
    setup = _read(browser.client.get("/signup/password/code").get_data(as_text=True))
    assert KEY.match(setup.text["totp-key"].strip())
    assert ("button", {"type": "button", "class": "button", "id": "copy-key"}) in setup.starts
    assert any(t == "script" and a.get("src", "").endswith("/copy-key.js") for t, a in setup.starts)
    _scripts_are_modules_only(setup)

    account = browser.sign_up_with_password(clock, username="robin2")
    assert len(account.recovery_codes) == 10
    assert all(CODE.match(code) for code in account.recovery_codes)
    page = _read(browser.client.get("/account/password-code").get_data(as_text=True))
    assert "recovery-codes" not in page.text  # shown once only

    codes_page = browser.post_form("/account/recovery-codes", {}).get_data(as_text=True)
    shown = _read(codes_page)
    data = json.loads(shown.text["page-data"])
    assert data["username"] == "robin2"
    assert data["site"]
    items = [a for t, a in shown.starts if t == "li"]
    assert len(items) == len(data["recoveryCodes"]) == 10
    assert all(CODE.match(code) for code in data["recoveryCodes"])
    for button in ("copy-codes", "download-codes"):
        assert ("button", {"type": "button", "class": "button", "id": button}) in shown.starts
    _scripts_are_modules_only(shown)
