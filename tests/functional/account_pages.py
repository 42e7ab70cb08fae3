"""Reading the account pages the way a person does: the visible text of an element, the
items of a list, the page's JSON data block. Standard library only (html.parser)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

from werkzeug.test import TestResponse

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
#: Elements that start a new line on screen: their text never runs into the next one's.
_BLOCKS = {"dd", "div", "dl", "dt", "form", "h1", "h2", "h3", "li", "p", "section", "ul"}
_PAGE_DATA = re.compile(r'<script type="application/json" id="page-data">(.*?)</script>', re.S)


class _Collector(HTMLParser):
    """Text of the element with ``id``, and of each ``<li>`` directly inside it."""

    def __init__(self, element_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.element_id = element_id
        self.depth = 0  # > 0 while inside the element
        self.text: list[str] = []
        self.items: list[list[str]] = []
        self.found = False
        self._li_depth: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        if self.depth and tag in _BLOCKS:
            self.handle_data(" ")
        if self.depth:
            self.depth += 1
            if tag == "li" and self._li_depth is None and self.depth == 2:
                self._li_depth = self.depth
                self.items.append([])
        elif dict(attrs).get("id") == self.element_id and not self.found:
            self.found = True
            self.depth = 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not self.depth:
            return
        if tag in _BLOCKS:
            self.handle_data(" ")
        if self._li_depth == self.depth:
            self._li_depth = None
        self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text.append(data)
            if self._li_depth is not None:
                self.items[-1].append(data)


def _squash(parts: list[str]) -> str:
    return " ".join("".join(parts).split())


def _html(page: TestResponse | str) -> str:
    return page if isinstance(page, str) else page.get_data(as_text=True)


def text_of(page: TestResponse | str, element_id: str) -> str | None:
    """The visible text of the element with this id (whitespace squashed), or None."""
    collector = _Collector(element_id)
    collector.feed(_html(page))
    return _squash(collector.text) if collector.found else None


def items_of(page: TestResponse | str, element_id: str) -> list[str]:
    """The text of each list item directly inside the element with this id."""
    collector = _Collector(element_id)
    collector.feed(_html(page))
    return [_squash(item) for item in collector.items]


def page_data(page: TestResponse | str) -> dict[str, Any]:
    """The page's JSON data block (what its ES modules read)."""
    match = _PAGE_DATA.search(_html(page))
    assert match, "no page-data block"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def json_block(page: TestResponse | str, element_id: str) -> Any:
    """The JSON data block with this id, or None when the page has none."""
    pattern = rf'<script type="application/json" id="{re.escape(element_id)}">(.*?)</script>'
    match = re.search(pattern, _html(page), re.S)
    return None if match is None else json.loads(match.group(1))


def has_id(page: TestResponse | str, element_id: str) -> bool:
    return f'id="{element_id}"' in _html(page)
