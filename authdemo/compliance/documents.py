"""Reading the compliance documents: the conventions the drift check relies on.

The documents are written for people; these few conventions make them checkable too
(compliance/README.md explains them to writers):

* A test is cited by its pytest node id in backticks:
  ``tests/unit/test_sessions.py::test_only_the_sha256_of_the_token_is_stored``.
* A setting's value is cited as ``NAME = value`` in backticks (or in an HTML comment
  ``<!-- config: NAME = value -->``), where NAME is a field of ``authdemo.config.Settings``;
  a module constant (or a class attribute, such as an enum member) is cited by its dotted
  path, e.g. ``authdemo.models.passkey.CREDENTIAL_ID_MAX = 1023``.
* A checklist item ``- [x]`` is a claim: it cites a test, or says ``Recorded`` when the
  item is completed by the document itself. An open item ``- [ ]`` says ``Pending:`` (the
  app does not do it yet) or ``Deployer's task`` (the organisation running it must).
* In a table with a ``Test`` (or ``Tests``) column, every row cites a test or says
  ``Pending:``, ``Deployer's task``, ``Recorded`` or ``Not applicable``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: Text files of the pack that the check reads.
SUFFIXES = (".md", ".yaml", ".yml")

TEST_ID = re.compile(
    r"(?P<id>tests/[A-Za-z0-9_./-]+?\.py::[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)*)"
    r"(?P<params>\[[^\]`]*\])?"
)
#: ``NAME = value`` in backticks, or ``<!-- config: NAME = value -->``.
_NAME = r"(?:[A-Za-z_][A-Za-z0-9_]*\.)*[A-Z][A-Z0-9_]+"
CONFIG_CITATION = re.compile(
    rf"`(?P<name>{_NAME}) = (?P<value>[^`\n]+)`"
    rf"|<!--\s*config:\s*(?P<cname>{_NAME})\s*=\s*(?P<cvalue>.+?)\s*-->"
)
#: A test named by its function name alone, in backticks: `test_something`.
TEST_NAME = re.compile(r"`(test_[A-Za-z0-9_]+)`")
CHECKBOX = re.compile(r"^(?P<indent>\s*)[-*] \[(?P<mark>[ xX])\] ")
LINK = re.compile(r"(?<!!)\[[^\]\n]*\]\((?P<target>[^)\s]+)\)")

RECORDED = "Recorded"
PENDING = "Pending:"
DEPLOYER = "Deployer's task"
NOT_APPLICABLE = "Not applicable"


@dataclass(frozen=True, slots=True)
class Found:
    """Something found in a document, with where (for the drift report)."""

    path: str
    line: int
    text: str


@dataclass(frozen=True, slots=True)
class ConfigCitation:
    path: str
    line: int
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    path: str
    line: int
    done: bool
    text: str


@dataclass(frozen=True, slots=True)
class TableRow:
    path: str
    line: int
    column: str
    cell: str


def pack_files(folder: Path) -> list[Path]:
    """The documents of the pack, in a stable order."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in SUFFIXES)


def lines_of(text: str) -> list[tuple[int, str]]:
    return list(enumerate(text.splitlines(), start=1))


def cited_tests(path: str, text: str) -> Iterator[Found]:
    """Every cited test node id (brackets kept; the check compares the name before them)."""
    for number, line in lines_of(text):
        for match in TEST_ID.finditer(line):
            yield Found(path, number, match.group("id") + (match.group("params") or ""))


def config_citations(path: str, text: str) -> Iterator[ConfigCitation]:
    for number, line in lines_of(text):
        for match in CONFIG_CITATION.finditer(line):
            name = match.group("name") or match.group("cname")
            value = match.group("value") or match.group("cvalue")
            yield ConfigCitation(path, number, name, value.strip())


def checklist_items(path: str, text: str) -> Iterator[ChecklistItem]:
    """Each ``- [ ]`` / ``- [x]`` item with its continuation lines (indented, no blank)."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = CHECKBOX.match(line)
        if not match:
            continue
        indent = len(match.group("indent"))
        block = [line]
        for following in lines[index + 1 :]:
            if not following.strip() or CHECKBOX.match(following):
                break
            if len(following) - len(following.lstrip()) <= indent:
                break
            block.append(following)
        yield ChecklistItem(path, index + 1, match.group("mark") != " ", "\n".join(block))


def proof_cells(path: str, text: str) -> Iterator[TableRow]:
    """The cell of the ``Test``/``Tests`` column in every body row of every table."""
    lines = text.splitlines()
    index = 0
    while index < len(lines) - 1:
        header, rule = lines[index], lines[index + 1]
        if header.lstrip().startswith("|") and re.fullmatch(r"\s*\|?[\s:|-]+\|?\s*", rule):
            names = _cells(header)
            column = next((i for i, n in enumerate(names) if n in {"Test", "Tests"}), None)
            index += 2
            while index < len(lines) and lines[index].lstrip().startswith("|"):
                cells = _cells(lines[index])
                if column is not None:
                    cell = cells[column] if column < len(cells) else ""
                    yield TableRow(path, index + 1, names[column], cell)
                index += 1
            continue
        index += 1


def _cells(row: str) -> list[str]:
    # A pipe inside backticks (rare in this pack) would split a cell; none is used.
    inner = row.strip()
    inner = inner.removeprefix("|").removesuffix("|")
    return [cell.strip() for cell in inner.split("|")]


def local_links(path: str, text: str) -> Iterator[Found]:
    """Links to files of this repository (not web addresses, not in-page anchors)."""
    for number, line in lines_of(text):
        for match in LINK.finditer(line):
            target = match.group("target")
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue
            yield Found(path, number, target.split("#", 1)[0])


@dataclass(frozen=True, slots=True)
class Passage:
    """A sentence of a paragraph, or a whole table row: what a number is read beside."""

    path: str
    line: int
    text: str


def passages(path: str, text: str) -> Iterator[Passage]:
    """Sentences of prose paragraphs and list items, and table rows, with their line.
    Fenced code blocks are skipped (they quote output, not claims)."""
    paragraph: list[tuple[int, str]] = []
    fenced = False

    def flush() -> Iterator[Passage]:
        if paragraph:
            joined = " ".join(line.strip() for _, line in paragraph)
            for sentence in _SENTENCE_END.split(joined):
                yield Passage(path, paragraph[0][0], sentence)
            paragraph.clear()

    for number, line in lines_of(text):
        stripped = line.strip()
        if stripped.startswith("```"):
            yield from flush()
            fenced = not fenced
            continue
        if fenced:
            continue
        if stripped.startswith("|"):
            yield from flush()
            yield Passage(path, number, stripped)
        elif not stripped or CHECKBOX.match(line) or re.match(r"\s*(?:[-*]|\d+\.) ", line):
            yield from flush()
            if stripped:
                paragraph.append((number, line))
        else:
            paragraph.append((number, line))
    yield from flush()


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(\[])")


def has_test(text: str) -> bool:
    return TEST_ID.search(text) is not None
