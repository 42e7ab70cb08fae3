"""Nothing a person, a reader or an auditor sees says what is false (issue 16 items 4 and 5).

Two statements were false and were found on pages and in documents:

- erased records "can't be traced back to you": they carry a keyed pseudonym the operator
  can recompute, so they are pseudonymous data (GDPR Recital 26), not anonymous;
- a password with a one-time code is "equally secure" / "works just as well" / "equally
  strong" as a passkey: it opens the same account at the same assurance level, but it can
  be phished and a passkey cannot (compliance/dpia.md, R3).

The first test reads the pages as people get them (every GET route, signed out, signed in,
and where passkeys are not offered); the second reads every document and every text the
code ships. Superseded consent notices are the one exception: a published version is a
record of what people agreed to and is never edited in place, so version 1's wording stays
in its history; the current version must say nothing false (compliance/notices.md).
"""

from __future__ import annotations

import ast
import html
import re
from collections.abc import Iterator
from pathlib import Path

from flask import Flask

from authdemo.consent.notices import NOTICES, PASSKEY_SIGNIN
from tests.conftest import Browser, make_app
from tests.functional.test_every_route import visit_every_page
from tests.support.authenticator import SoftwareAuthenticator

ROOT = Path(__file__).resolve().parents[2]

#: Each false claim, as a pattern over text with its whitespace collapsed.
FALSE_CLAIMS = {
    "erased records are anonymous": r"can(?:'|\u2019|no)t be (?:traced|linked) back to you",
    "the alternative is as phishing-resistant": (
        r"equally (?:secure|strong|safe)|works just as well|just as (?:secure|safe|strong)"
    ),
}

#: A rendered consent notice (templates/consent/_macros.html), with its version.
NOTICE_BLOCK = re.compile(
    r'<div class="consent-notice"[^>]*data-notice-version="([^"]+)".*?</div>', re.DOTALL
)
#: Where the published notice texts live; their current versions are read separately.
NOTICE_SOURCES = {"authdemo/consent/notices.py", "compliance/notices.md"}
CURRENT = NOTICES.current(PASSKEY_SIGNIN)


def false_claims_in(text: str) -> list[str]:
    flat = " ".join(html.unescape(text).split())
    return [
        f"{name}: {match.group(0)!r}"
        for name, pattern in FALSE_CLAIMS.items()
        for match in re.finditer(pattern, flat, re.IGNORECASE)
    ]


def page_text(body: str) -> str:
    """The page without superseded notices (kept word for word as history)."""
    return NOTICE_BLOCK.sub(
        lambda block: block.group(0) if block.group(1) == CURRENT.version else "", body
    )


def test_the_phrases_are_recognised_however_they_are_wrapped() -> None:
    # Guards the patterns themselves: a test that cannot fail proves nothing.
    assert false_claims_in("a code that can&#39;t be traced\n    back to you")
    assert false_claims_in("Both ways are equally\nsecure.")
    assert false_claims_in("A password works just as well.")
    assert not false_claims_in("opens the same account; a passkey can't be phished")


def pages(app: Flask, browser: Browser) -> Iterator[tuple[str, str]]:
    for url, response in visit_every_page(app, browser):
        yield url, page_text(response.get_data(as_text=True))


def test_no_page_a_person_sees_says_what_is_false(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator, tmp_path: Path
) -> None:
    seen: dict[str, list[str]] = {}
    for url, text in pages(app, browser):
        seen[f"signed out {url}"] = false_claims_in(text)
    assert browser.sign_up_with_passkey(authenticator, "ada").status_code == 200
    for url, text in pages(app, browser):
        seen[f"signed in {url}"] = false_claims_in(text)
    # Where passkeys are not offered, the sign-up page explains why (the rollout message).
    (tmp_path / "elsewhere").mkdir()
    elsewhere = make_app(tmp_path / "elsewhere", JURISDICTION="US", PASSKEY_JURISDICTIONS="DE")
    visitor = Browser(elsewhere.test_client())
    assert visitor.choose_username("grace").status_code == 302
    how = visitor.client.get("/signup/how")
    assert 'id="passkeys-unavailable"' in how.get_data(as_text=True)
    seen["where passkeys are not offered /signup/how"] = false_claims_in(how.get_data(as_text=True))
    assert len(seen) > 20, "the walk found too few pages to prove anything"
    assert {where: found for where, found in seen.items() if found} == {}


def shipped_texts() -> Iterator[tuple[str, str]]:
    """Documents (README, compliance/, docs/), templates, scripts, and every string
    literal and docstring of the Python package."""
    files = [ROOT / "README.md"]
    for folder, pattern in [
        ("compliance", "*.md"),
        ("compliance", "*.yaml"),
        ("docs", "*.md"),
        ("templates", "*.html"),
        ("static", "*.js"),
    ]:
        files += sorted((ROOT / folder).rglob(pattern))
    for path in files:
        yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "authdemo").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        strings = [
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        ]
        yield path.relative_to(ROOT).as_posix(), "\n".join(strings)


def test_the_current_notice_says_nothing_false() -> None:
    assert false_claims_in(CURRENT.full_text) == []
    assert CURRENT.version != "1"  # version 1 said "works just as well"


def test_a_superseded_notice_is_left_out_of_a_page_and_the_current_one_is_read() -> None:
    old = '<div class="consent-notice" data-notice-version="1">works just as well</div>'
    new = f'<div class="consent-notice" data-notice-version="{CURRENT.version}">x</div>'
    assert false_claims_in(page_text(old + new)) == []
    assert "x" in page_text(old + new)


def test_no_page_or_document_says_what_is_false() -> None:
    found = {
        name: claims
        for name, text in shipped_texts()
        if name not in NOTICE_SOURCES and (claims := false_claims_in(text))
    }
    assert found == {}
