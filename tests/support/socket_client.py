"""A browser over real sockets, for the tests that meet the shipped server
(tests/support/shipped_server.py): its cookies, the CSRF token of the last page that had
one (as the page's script reads it from the data block), forms and JSON. Redirects are
answered, not followed, so a test sees each 302."""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

_CSRF = re.compile(r'"csrfToken": "([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Client:
    """``base`` is put before every address (none: each call gives a whole URL). One cookie
    jar, so every server on the same host gets the same cookies, as a browser's would."""

    def __init__(self, base: str = "") -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )
        self.csrf = ""

    def get(self, path: str) -> tuple[int, str]:
        status, body = self._send(urllib.request.Request(self.base + path))  # noqa: S310
        match = _CSRF.search(body)
        if match:
            self.csrf = match.group(1)
        return status, body

    def refresh_csrf(self, base: str = "") -> None:
        """Read a token from the sign-in page, or the account page when signed in."""
        self.csrf = ""
        status, _ = self.get(base + "/signin")
        if status == 302:
            self.get(base + "/account")
        assert self.csrf, f"no CSRF token at {self.base}{base}"

    def post_form(self, path: str, form: dict[str, str]) -> tuple[int, str]:
        data = urllib.parse.urlencode({"csrf_token": self.csrf, **form}).encode()
        request = urllib.request.Request(self.base + path, data=data, method="POST")  # noqa: S310
        return self._send(request)

    def post_json(self, path: str, body: Any) -> tuple[int, Any]:
        request = urllib.request.Request(  # noqa: S310
            self.base + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "X-CSRFToken": self.csrf},
            method="POST",
        )
        status, text = self._send(request)
        return status, json.loads(text) if text else None

    def _send(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
