"""Recovery codes and the set-up key in Chromium (issue 17 item 8): what a person sees,
copies and downloads, measured in the rendered page rather than read from the CSS.

The clipboard is read back through the browser's own API (permission granted to the
context, as a person allowing it would), so a copy button that copies nothing, or the
wrong text, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyotp
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.harness import LiveServer
from tests.support.languages import SECOND_LANGUAGE, choose_language

PASSWORD = "purple tractor sings at dawn"
CODE = re.compile(r"^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$")

#: Per code: its font, size in px, and whether it fits on one line (height of one line).
MEASURE = """() => [...document.querySelectorAll('#recovery-codes li')].map(li => {
  const code = li.querySelector('code');
  const style = getComputedStyle(code);
  const lineHeight = parseFloat(getComputedStyle(li).lineHeight)
    || parseFloat(style.fontSize) * 1.6;
  return {text: code.textContent, family: style.fontFamily, size: parseFloat(style.fontSize),
          height: code.getBoundingClientRect().height, line: lineHeight,
          right: li.getBoundingClientRect().right, left: li.getBoundingClientRect().left};
})"""


def _to_key_page(page: Page, username: str) -> None:
    """Sign up with a password; stop on the step that shows the authenticator key."""
    page.goto("/signup")
    page.fill("#username", username)
    page.click("#continue")
    page.click("#use-password")
    page.fill("#password", PASSWORD)
    page.click("#continue")
    expect(page).to_have_url(re.compile(r"/signup/password/code$"))
    # Module scripts run just before DOMContentLoaded: a click before that finds no
    # listener on the copy button (seen once under load).
    page.wait_for_load_state("load")


def _to_codes_page(page: Page, username: str) -> str:
    """Sign up with a password and code; stop on the recovery-codes page. Returns the key."""
    _to_key_page(page, username)
    key = page.inner_text("#totp-key")
    page.click("#copy-key")
    expect(page.locator("#key-status")).to_have_text(re.compile("Key copied"))
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == key.replace(" ", "")
    assert pyotp.TOTP(copied).now()  # a valid base32 key, as an app would take it
    page.fill("#code", pyotp.TOTP(copied).now())
    page.click("#create-account")
    expect(page.locator("h1")).to_have_text("Save your recovery codes")
    # The heading is in the DOM before the stylesheet has loaded: measure after "load",
    # or a busy machine measures the browser's own 13 px monospace.
    page.wait_for_load_state("load")
    return copied


def _grant_clipboard(context: BrowserContext, live_server: LiveServer) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)


def test_codes_are_large_monospace_one_per_line_and_copy_and_download_whole(
    context: BrowserContext, page: Page, live_server: LiveServer
) -> None:
    _grant_clipboard(context, live_server)
    page.set_viewport_size({"width": 390, "height": 844})
    _to_codes_page(page, "robin")
    codes = page.evaluate(MEASURE)
    assert len(codes) == 10
    root_px = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    for code in codes:
        assert CODE.match(code["text"]), code
        assert code["size"] >= 1.25 * root_px, code
        assert "mono" in code["family"].lower(), code
        assert code["height"] < 1.5 * code["line"], code  # one line, not wrapped
    # On a phone the codes fit the screen: one column, nothing beyond the viewport.
    assert len({c["left"] for c in codes}) == 1
    assert max(c["right"] for c in codes) <= 390
    shown = [c["text"] for c in codes]

    page.click("#copy-codes")
    expect(page.locator("#codes-status")).to_have_text(re.compile("Copied"))
    copied = page.evaluate("navigator.clipboard.readText()")
    assert re.findall(r"[A-Z2-7]{4}(?:-[A-Z2-7]{4}){3}", copied) == shown
    site = page.inner_text(".brand")  # the site name, as the header shows it
    assert f"robin at {site}" in copied.splitlines()[0]

    with page.expect_download() as download_info:
        page.click("#download-codes")
    download = download_info.value
    name = download.suggested_filename
    assert "robin" in name
    assert re.sub(r"[^a-z0-9._-]+", "-", site.lower()).strip("-") in name
    assert name.endswith(".txt")
    assert Path(download.path()).read_text(encoding="utf-8") == copied


def test_codes_sit_in_two_columns_on_a_desktop(
    context: BrowserContext, page: Page, live_server: LiveServer
) -> None:
    _grant_clipboard(context, live_server)
    page.set_viewport_size({"width": 1280, "height": 800})
    _to_codes_page(page, "kim")
    codes = page.evaluate(MEASURE)
    assert len({c["left"] for c in codes}) == 2
    assert all(c["height"] < 1.5 * c["line"] for c in codes)


def test_the_key_fits_a_phone_and_breaks_only_between_its_groups(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    _to_key_page(page, "kim")
    measured = page.evaluate(
        """() => {
          const code = document.querySelector('#totp-key');
          const node = code.firstChild, text = node.textContent, groups = [];
          let at = 0;
          for (const group of text.split(' ')) {
            const range = document.createRange();
            range.setStart(node, at); range.setEnd(node, at + group.length);
            groups.push({group, lines: new Set([...range.getClientRects()].map(r => r.top)).size});
            at += group.length + 1;
          }
          return {right: code.getBoundingClientRect().right, width: innerWidth,
                  scroll: document.documentElement.scrollWidth, groups};
        }"""
    )
    assert measured["right"] <= measured["width"], measured
    assert measured["scroll"] <= measured["width"], measured
    assert len(measured["groups"]) == 8, measured  # 32 base32 characters in fours
    assert all(g["lines"] == 1 for g in measured["groups"]), measured


def test_the_codes_page_offers_no_language_switch_that_would_lose_them(
    context: BrowserContext, page: Page, live_server: LiveServer
) -> None:
    """The codes page answers the POST that made them: the selector's way back (a GET of
    its address) would show a 405 or another page, and the codes would be gone (decision
    0028). The footer says where the language can be changed instead, and that page
    keeps the promise."""
    _grant_clipboard(context, live_server)
    _to_codes_page(page, "sam")
    expect(page.locator("#language-select")).to_have_count(0)
    expect(page.locator("footer #language-later")).to_have_text(
        "You can change the language on the next page."
    )
    expect(page.locator("#language-later")).to_be_visible()
    expect(page.locator("#recovery-codes code")).to_have_count(10)

    page.click("#codes-saved")
    expect(page).to_have_url(re.compile(r"/account$"))
    choose_language(page, SECOND_LANGUAGE)
    expect(page).to_have_url(re.compile(r"/account$"))
