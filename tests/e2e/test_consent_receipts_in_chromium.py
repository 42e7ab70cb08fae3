"""A consent receipt downloaded in Chromium at a grant verifies with the CLI
(issue 19 item 4, docs/decisions/0027-consent-receipts.md)."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.harness import LiveServer, VirtualAuthenticators
from tests.e2e.test_passkey_flows import sign_up


def test_a_receipt_downloaded_at_a_grant_verifies_with_the_cli(
    page: Page,
    live_server: LiveServer,
    virtual_authenticator: VirtualAuthenticators,
    tmp_path: Path,
) -> None:
    virtual_authenticator.add()
    sign_up(page, "alice")  # ticks the consent box: a grant
    offer = page.locator("section.receipt-offer")
    expect(offer).to_be_visible()
    expect(offer.locator("#receipt-username-offer")).not_to_be_checked()
    with page.expect_download() as started:
        offer.locator("#download-receipt-offer").click()
    download = started.value
    assert download.suggested_filename.startswith("consent-receipt-")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)

    result = live_server.app.test_cli_runner().invoke(
        args=["consent", "verify-receipt", str(saved)]
    )
    assert result.exit_code == 0, result.output
    claims = json.loads(result.output.split("\n", 1)[1])
    [(action, notice_sha256)] = live_server.query(
        "SELECT action, notice_sha256 FROM consent_events"
    )
    assert claims["decision"]["action"] == action == "granted"
    assert claims["notice"]["sha256"] == notice_sha256
    assert "alice" not in saved.read_text()
    assert "alice" not in result.output
