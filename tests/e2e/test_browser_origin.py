"""What Chromium sends with this site's own forms and fetches, under the app's
``Referrer-Policy`` (issue 15 item 1, docs/decisions/0014).

With ``Referrer-Policy: no-referrer`` a browser sends ``Origin: null`` on a page's own
form posts and fetches, and no ``Referer``; the origin check then refuses everything.
Here the browser decides which headers it sends; the test only reads them.
"""

from __future__ import annotations

from playwright.sync_api import Page, Request

from tests.e2e.harness import LiveServer, VirtualAuthenticators
from tests.e2e.test_passkey_flows import sign_out, sign_up


def test_the_browser_sends_this_sites_origin_with_every_form_and_fetch(
    page: Page, live_server: LiveServer, virtual_authenticator: VirtualAuthenticators
) -> None:
    virtual_authenticator.add()
    posts: list[Request] = []
    page.on("request", lambda request: posts.append(request) if request.method == "POST" else None)

    sign_up(page, "ada")  # a form post, then the passkey fetches
    sign_out(page)  # another form

    kinds = {request.resource_type for request in posts}
    assert {"document", "fetch"} <= kinds, kinds
    for request in posts:
        headers = request.all_headers()
        where = f"{request.resource_type} POST {request.url}"
        assert headers.get("origin") == live_server.url, where
        assert headers.get("sec-fetch-site") == "same-origin", where
        # same-origin: the full URL goes to this site, never to another.
        assert headers.get("referer", "").startswith(live_server.url + "/"), where
