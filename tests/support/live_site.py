"""One live server and one Chromium page shared by a module that visits many people's pages:
the app the server runs is switched to the app each person meets (the switched-off person
meets the restarted one). Used by the e2e walks over every account state (layout, language).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from playwright.sync_api import Page

from tests.support.accounts import People
from tests.support.crawler import Crawl


@dataclass
class Site:
    """One server for the module; ``app`` is the app it runs at the moment."""

    url: str
    people: People
    app: Flask | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.app is not None, "no app chosen"
        return self.app(environ, start_response)


@dataclass
class Window:
    """The one browser page the module reuses, and its script errors as they happen."""

    page: Page
    errors: list[str]


def html_pages(walk: Crawl) -> list[str]:
    """The HTML pages a crawl reached (no error answers, no downloads), sorted."""
    return sorted(
        url for url, page in walk.pages.items() if page.status < 400 and url not in walk.downloads
    )
