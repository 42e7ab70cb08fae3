"""The forms of a page with every attribute of every field, read with the standard
library's HTML parser the way a browser builds them (no JavaScript runs here): what a
password manager or autofill sees, and which fields a submit would send."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Field:
    tag: str
    attrs: dict[str, str]

    @property
    def autocomplete(self) -> list[str]:
        return self.attrs.get("autocomplete", "").split()

    @property
    def hidden(self) -> bool:
        """Not shown: ``type=hidden`` or the ``hidden`` attribute."""
        return self.attrs.get("type") == "hidden" or "hidden" in self.attrs


@dataclass
class Form:
    attrs: dict[str, str]
    fields: list[Field] = field(default_factory=list)

    def named(self, name: str) -> Field:
        (found,) = [f for f in self.fields if f.attrs.get("name") == name]
        return found

    def with_autocomplete(self, token: str) -> list[Field]:
        return [f for f in self.fields if token in f.autocomplete]


#: Elements with no end tag (WHATWG HTML "void elements").
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.open: Form | None = None
        self.ids: dict[str, str] = {}
        self._id_stack: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.open = Form(a)
            self.forms.append(self.open)
        elif tag in ("input", "select", "textarea") and self.open is not None:
            self.open.fields.append(Field(tag, a))
        if "id" in a and tag not in _VOID:
            self._id_stack.append((tag, a["id"]))
            self.ids.setdefault(a["id"], "")

    def handle_data(self, data: str) -> None:
        for _, element_id in self._id_stack:
            self.ids[element_id] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.open = None
        if self._id_stack and self._id_stack[-1][0] == tag:
            self._id_stack.pop()


@dataclass
class Document:
    forms: list[Form]
    #: The text inside each element that has an ``id`` (what ``aria-describedby`` reads).
    text_of_id: dict[str, str]

    def form(self, **attrs: str) -> Form:
        (found,) = [f for f in self.forms if all(f.attrs.get(k) == v for k, v in attrs.items())]
        return found

    def described_by(self, element: Field) -> str:
        ids = element.attrs.get("aria-describedby", "").split()
        return " ".join(" ".join(self.text_of_id[i].split()) for i in ids)


def read(html: str) -> Document:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return Document(reader.forms, reader.ids)
