"""The origin check's rule, header by header (authdemo/csrf.py, decision 0014)."""

from __future__ import annotations

from typing import Any

import pytest

from authdemo.csrf import foreign_origin

ALLOWED = {"https://login.example.com", "https://example.org"}


def arguments(headers: dict[str, str]) -> dict[str, Any]:
    return {
        "origin": headers.get("Origin"),
        "fetch_site": headers.get("Sec-Fetch-Site"),
        "allowed": ALLOWED,
    }


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://login.example.com"},
        {"Origin": "https://example.org", "Sec-Fetch-Site": "cross-site"},  # a related origin
        {"Origin": "https://login.example.com", "Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},  # typed or bookmarked by the person
        {},  # not a browser page: no victim's cookie; the token decides
    ],
)
def test_requests_from_this_site_or_no_browser_page_pass(headers: dict[str, str]) -> None:
    assert foreign_origin(**arguments(headers)) is None


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "null"},
        {"Origin": "null", "Sec-Fetch-Site": "same-origin"},
        {"Origin": ""},
        {"Origin": "https://evil.example"},
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "same-origin"},
        {"Origin": "http://login.example.com"},  # another scheme is another origin
        {"Origin": "https://login.example.com:8443"},
        {"Origin": "https://login.example.com.evil.example"},
        {"Origin": "https://login.example.com/"},  # not how browsers serialise an origin
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain is not this origin
    ],
)
def test_requests_another_site_could_send_are_refused(headers: dict[str, str]) -> None:
    assert foreign_origin(**arguments(headers))
