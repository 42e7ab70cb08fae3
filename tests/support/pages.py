"""What a person can do on a page: the links and forms in its ``<main>``, read with the
standard library's HTML parser (no JavaScript runs here).

The header and footer are left out on purpose: "Your account" and "Sign out" are on every
page, so counting them would make every page look like it has a way forward.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

#: ``<input type=...>`` that a person cannot type into; everything else is a field.
_NOT_TYPED = frozenset({"hidden", "submit", "button", "reset", "image"})


@dataclass
class Form:
    """A ``<form>`` as the browser would submit it."""

    method: str
    action: str
    #: Hidden inputs and pre-filled values, as the page sends them.
    values: dict[str, str] = field(default_factory=dict)
    #: Fields a person types into or ticks (name -> ``type``), required or not.
    fields: dict[str, str] = field(default_factory=dict)
    #: The text of the form's submit buttons.
    buttons: list[str] = field(default_factory=list)
    #: ``id`` of the form or of its first submit button, when there is one.
    id: str = ""
    #: Neither ``action`` nor ``method``: an ES module handles the submit (a passkey
    #: ceremony); the browser alone would only reload the page.
    scripted: bool = False


@dataclass
class Link:
    href: str
    text: str
    id: str = ""


@dataclass
class Page:
    """The parts of one page a person can act on."""

    url: str
    status: int
    title: str = ""
    links: list[Link] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)
    #: ``<button type="button">`` in ``<main>``: actions an ES module runs (by id).
    script_buttons: list[str] = field(default_factory=list)
    #: The page's JSON data block (what its ES modules read).
    data: dict[str, Any] = field(default_factory=dict)


class _Reader(HTMLParser):
    def __init__(self, page: Page, region: str = "main") -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.region = region
        self.in_main = 0
        self.form: Form | None = None
        self.link: Link | None = None
        self.link_text: list[str] = []
        self.button: list[str] | None = None
        self.in_title = False
        self.in_data = False
        self.data_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "title":
            self.in_title = True
        elif tag == "script" and a.get("id") == "page-data":
            self.in_data = True
        elif tag == self.region:
            self.in_main += 1
        if not self.in_main:
            return
        if tag == "a" and "href" in a and not a["href"].startswith("#"):
            self.link = Link(urljoin(self.page.url, a["href"]), "", a.get("id", ""))
            self.link_text = []
        elif tag == "form":
            method = a.get("method", "get").upper()
            scripted = "action" not in a and "method" not in a
            action = urljoin(self.page.url, a.get("action") or self.page.url)
            self.form = Form(method, action, id=a.get("id", ""), scripted=scripted)
        elif tag == "input" and self.form is not None and a.get("name"):
            name, kind = a["name"], a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                self.form.fields[name] = kind
                if "checked" in a:
                    self.form.values[name] = a.get("value") or "on"
            elif kind in _NOT_TYPED:
                self.form.values[name] = a.get("value", "")
            else:
                self.form.fields[name] = kind
                if a.get("value"):
                    self.form.values[name] = a["value"]
        elif tag in ("select", "textarea") and self.form is not None and a.get("name"):
            self.form.fields[a["name"]] = tag
        elif tag == "button":
            kind = a.get("type", "submit").lower()
            if kind == "button":
                self.page.script_buttons.append(a.get("id", ""))
            elif self.form is not None:
                self.button = []
                if a.get("name"):
                    self.form.values[a["name"]] = a.get("value", "")
                if not self.form.id:
                    self.form.id = a.get("id", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag == "script" and self.in_data:
            self.in_data = False
            self.page.data = json.loads("".join(self.data_text) or "{}")
        elif tag == self.region:
            self.in_main -= 1
        elif tag == "a" and self.link is not None:
            self.link.text = " ".join("".join(self.link_text).split())
            self.page.links.append(self.link)
            self.link = None
        elif tag == "button" and self.button is not None and self.form is not None:
            self.form.buttons.append(" ".join("".join(self.button).split()))
            self.button = None
        elif tag == "form" and self.form is not None:
            self.page.forms.append(self.form)
            self.form = None

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.page.title += data
        if self.in_data:
            self.data_text.append(data)
        if self.link is not None:
            self.link_text.append(data)
        if self.button is not None:
            self.button.append(data)


def read_page(url: str, status: int, html: str, region: str = "main") -> Page:
    """The links and forms of the page's ``<main>`` (or of another ``region``, such as
    the site's ``header``)."""
    page = Page(url=url, status=status)
    _Reader(page, region).feed(html)
    page.title = " ".join(page.title.split())
    return page


def site_path(url: str) -> str | None:
    """The path (and query) of a link within this site (the app writes them as paths), or
    None for another site, a fragment on the same page, a static file, ``mailto:``..."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None
    if not parts.path or parts.path.startswith("/static/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")
