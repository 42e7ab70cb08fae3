"""The drift check behind ``flask compliance check``.

Each check reads compliance/ and docs/ and compares them with the thing they describe:

1. every cited test exists (pytest node id; parametrized ids match on their name), can
   fail (it asserts, and is not marked skip or xfail), and, given pytest's JUnit XML
   results (``--junit``), passed in a run and failed in none;
2. every checklist item and every row of a table with a ``Test`` column is backed: by a
   test, or by the document itself (``Recorded``), or is openly ``Pending:`` or the
   ``Deployer's task`` (GDPR Art 5(2): be able to demonstrate, not merely assert); and
   nothing says ``Pending:`` about a test that exists;
3. every link to a file of the repository points at a file that exists;
4. every cited setting has the value ``authdemo.config.Settings`` gives it by default, and
   every cited module constant the value the module gives it; a duration in words in the
   same sentence or table row as a duration setting's name is that setting's value;
5. the data inventory matches ``authdemo.models.Base.metadata`` and the schema the
   migrations build, table by table, column by column, including each column's
   personal/export mark; and no column is named for what it says is never collected;
6. the generated copy of the consent notices in notices.md is the text the app renders,
   every published notice text still hashes to its pin in notice-pins.json, and the
   current version of every purpose has a text in every shipped language; the DPIA and
   the record of processing list exactly the shipped languages.

``flask compliance check --ledger`` adds the configured database's consent ledger
(authdemo/compliance/ledger.py); this module reads files only.

The result is a list of problems (each with file and line where there is one) and a few
notes that do not fail the check (for example a cited test in a file git does not track
yet, which would fail the check in a clean checkout).
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData

from authdemo.compliance import (
    documents,
    durations,
    inventory,
    notices,
    results,
    testbodies,
    testids,
)
from authdemo.compliance.notices import NoticeView
from authdemo.config import Settings


@dataclass(frozen=True, slots=True)
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(slots=True)
class Report:
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: What was compared, for the summary line.
    counted: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class _Doc:
    path: Path
    name: str  # relative to the repository root, as reported
    text: str


class _Unset:
    pass


UNSET = _Unset()

#: Written for developers and operators, held to the same rules as compliance/.
DOCS_FOLDER = "docs"


def settings_defaults() -> dict[str, Any]:
    """The default of every setting: what a deployment gets unless it says otherwise."""
    values: dict[str, Any] = {}
    for f in fields(Settings):
        if f.default is not MISSING:
            values[f.name] = f.default
    return values


def run(
    pack: Path,
    *,
    root: Path,
    metadata: MetaData | None = None,
    defaults: Mapping[str, Any] | None = None,
    notice_views: list[NoticeView] | _Unset | None = UNSET,
    test_ids: frozenset[str] | None = None,
    junit: Sequence[Path] = (),
    every_service: bool = False,
    migrated: MetaData | None = None,
) -> Report:
    """Check the pack in ``pack`` (and the documents under ``root/docs``) against the code
    under ``root``; with ``junit``, also against what the cited tests did in those runs.
    Nothing is written."""
    if metadata is None:
        from authdemo.models import Base

        metadata = Base.metadata
    report = Report()
    docs = [
        _Doc(p, _relative(p, root), p.read_text(encoding="utf-8"))
        for p in [*documents.pack_files(pack), *documents.pack_files(root / DOCS_FOLDER)]
    ]
    ids = testids.collect(root) if test_ids is None else test_ids
    _check_cited_tests(report, docs, ids, root)
    _check_test_bodies(report, docs, ids, root)
    _check_results(report, docs, ids, junit, every_service=every_service)
    _check_claims(report, docs, ids)
    _check_links(report, docs)
    defaults = settings_defaults() if defaults is None else defaults
    _check_config(report, docs, defaults)
    _check_durations(report, docs, defaults)
    if migrated is None:
        from authdemo.compliance import schema

        migrated = schema.migrated()
    _check_inventory(report, pack, root, metadata, migrated)
    views = notices.load() if isinstance(notice_views, _Unset) else notice_views
    _check_notices(report, pack, root, views)
    _check_language_lists(report, pack, root, notices.shipped_languages(root))
    return report


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


# --- 1. cited tests ----------------------------------------------------------------


def _check_cited_tests(report: Report, docs: list[_Doc], ids: frozenset[str], root: Path) -> None:
    cited: set[str] = set()
    for doc in docs:
        for found in documents.cited_tests(doc.name, doc.text):
            base = testids.base_id(found.text)
            cited.add(base)
            if base not in ids:
                where = f"{found.path}:{found.line}"
                report.problems.append(Problem(where, f"cites {found.text}, which is not a test"))
    report.counted["cited tests"] = len(cited)
    untracked = _untracked({c.split("::", 1)[0] for c in cited & ids}, root)
    for name in sorted(untracked):
        report.notes.append(f"{name} is cited but not tracked by git yet (commit it with the pack)")


def _cited_ids(docs: list[_Doc], ids: frozenset[str]) -> dict[str, documents.Found]:
    """Each cited test that exists (parameters kept), with its first citation."""
    cited: dict[str, documents.Found] = {}
    for doc in docs:
        for found in documents.cited_tests(doc.name, doc.text):
            if testids.base_id(found.text) in ids:
                cited.setdefault(found.text, found)
    return cited


def _check_test_bodies(report: Report, docs: list[_Doc], ids: frozenset[str], root: Path) -> None:
    """A cited test must be able to fail: it asserts, and it is not marked skip/xfail."""
    for node_id, found in _cited_ids(docs, ids).items():
        body = testbodies.read(root, node_id)
        if body is None:
            continue
        where = f"{found.path}:{found.line}"
        if not body.asserts:
            report.problems.append(Problem(where, f"cites {node_id}, which asserts nothing"))
        if body.disabled == "skip":
            report.problems.append(Problem(where, f"cites {node_id}, which is marked skip"))
        elif body.disabled == "xfail":
            report.problems.append(
                Problem(where, f"cites {node_id}, which is marked as expected to fail")
            )


def _check_results(
    report: Report,
    docs: list[_Doc],
    ids: frozenset[str],
    junit: Sequence[Path],
    *,
    every_service: bool,
) -> None:
    if not junit:
        report.notes.append(
            "test results not compared (pass --junit with pytest's --junitxml output; "
            "`make test` does)"
        )
        return
    try:
        outcomes = results.load(junit)
    except results.ResultError as exc:
        report.problems.append(Problem("--junit", str(exc)))
        return
    cited = _cited_ids(docs, ids)
    for node_id, found in cited.items():
        verdict = results.judge(node_id, outcomes)
        if verdict is None:
            continue
        problem = Problem(f"{found.path}:{found.line}", f"cites {node_id}, which {verdict.message}")
        if verdict.kind == "skipped" and not every_service:
            report.notes.append(f"{problem} (a problem with --every-service, as in CI)")
        else:
            report.problems.append(problem)
    report.counted["cited test results"] = len(cited)


def _untracked(files: Iterable[str], root: Path) -> set[str]:
    """Cited test files git does not track; empty when git is unavailable."""
    try:
        result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            ["git", "-C", str(root), "ls-files", "tests"],  # noqa: S607 - git from PATH
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return set()
    tracked = set(result.stdout.splitlines())
    return {f for f in files if f not in tracked}


# --- 2. no claim without a test ----------------------------------------------------


def _check_claims(report: Report, docs: list[_Doc], ids: frozenset[str]) -> None:
    items = rows = 0
    names = {node_id.rsplit("::", 1)[-1]: node_id for node_id in sorted(ids)}
    for doc in docs:
        if doc.path.suffix != ".md":
            continue
        for item in documents.checklist_items(doc.name, doc.text):
            items += 1
            where = f"{item.path}:{item.line}"
            for message in _item_problems(item):
                report.problems.append(Problem(where, message))
            if not item.done and documents.PENDING in item.text:
                for message in _stale_pending(item.text, ids, names):
                    report.problems.append(Problem(where, message))
        for row in documents.proof_cells(doc.name, doc.text):
            rows += 1
            where = f"{row.path}:{row.line}"
            if not _row_backed(row.cell):
                report.problems.append(
                    Problem(
                        where,
                        f"the {row.column} column cites no test and does not say "
                        f"{documents.PENDING!r}, {documents.DEPLOYER!r}, "
                        f"{documents.RECORDED!r} or {documents.NOT_APPLICABLE!r}",
                    )
                )
            elif documents.PENDING in row.cell:
                for message in _stale_pending(row.cell, ids, names):
                    report.problems.append(Problem(where, message))
    report.counted["checklist items"] = items
    report.counted["table rows with a Test column"] = rows


def _stale_pending(text: str, ids: frozenset[str], names: Mapping[str, str]) -> Iterator[str]:
    """A "Pending:" claim whose test exists now: the status is stale (tick it, cite it).
    Only what follows "Pending:" counts: "`test_a` proves X; Pending: a test of Y" is fine."""
    text = text.split(documents.PENDING, 1)[-1]
    for match in documents.TEST_ID.finditer(text):
        if match.group("id") in ids:
            yield f"says {documents.PENDING!r} but its test {match.group('id')} exists"
    for name in documents.TEST_NAME.findall(text):
        if name in names and names[name] not in text:
            yield f"says {documents.PENDING!r} but its test {names[name]} exists"


def _item_problems(item: documents.ChecklistItem) -> Iterator[str]:
    open_marker = documents.PENDING in item.text or documents.DEPLOYER in item.text
    if item.done:
        if documents.PENDING in item.text:
            yield "a ticked item says 'Pending:'; untick it or remove the note"
        if not (documents.has_test(item.text) or documents.RECORDED in item.text):
            yield "a ticked item cites no test (or say 'Recorded' if the document completes it)"
    elif not open_marker:
        yield (
            "an open item must say 'Pending:' (not built yet) or \"Deployer's task\" "
            "(for the organisation running the app)"
        )


def _row_backed(cell: str) -> bool:
    if documents.has_test(cell):
        return True
    markers = (documents.PENDING, documents.DEPLOYER, documents.RECORDED, documents.NOT_APPLICABLE)
    return any(marker in cell for marker in markers)


# --- 3. links ------------------------------------------------------------------------


def _check_links(report: Report, docs: list[_Doc]) -> None:
    for doc in docs:
        for link in documents.local_links(doc.name, doc.text):
            if link.text and not (doc.path.parent / link.text).exists():
                where = f"{link.path}:{link.line}"
                report.problems.append(Problem(where, f"links to {link.text}, which is missing"))


# --- 4. cited settings and constants ---------------------------------------------


def _check_config(report: Report, docs: list[_Doc], defaults: Mapping[str, Any]) -> None:
    count = 0
    for doc in docs:
        for citation in documents.config_citations(doc.name, doc.text):
            count += 1
            where = f"{citation.path}:{citation.line}"
            try:
                expected = _cited_value(citation.name, defaults)
            except LookupError as exc:
                report.problems.append(Problem(where, str(exc)))
                continue
            if not _same(expected, citation.value):
                report.problems.append(
                    Problem(
                        where,
                        f"says {citation.name} = {citation.value}, but it is {expected!r}",
                    )
                )
    report.counted["cited values"] = count


def _cited_value(name: str, defaults: Mapping[str, Any]) -> Any:
    if "." not in name:
        if name not in defaults:
            raise LookupError(f"cites {name}, which is not a setting in authdemo.config")
        return defaults[name]
    # The longest importable prefix is the module; the rest are attributes (Class.MEMBER).
    parts = name.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            value: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            if not hasattr(value, attribute):
                raise LookupError(f"cites {name}, which does not exist")
            value = getattr(value, attribute)
        return value
    raise LookupError(f"cites {name}, but no module of that path exists")


def _same(expected: Any, written: str) -> bool:
    """Compare a cited value with the real one: Python literals, or bare text for strings."""
    try:
        value: Any = ast.literal_eval(written)
    except (ValueError, SyntaxError):
        value = written
    if isinstance(expected, bool) or isinstance(value, bool):
        return type(expected) is type(value) and expected == value
    if isinstance(expected, tuple) and isinstance(value, list | tuple):
        return tuple(value) == expected
    return bool(value == expected)


def _check_durations(report: Report, docs: list[_Doc], defaults: Mapping[str, Any]) -> None:
    """A duration in words beside a setting's name must be that setting's value."""
    count = 0
    for doc in docs:
        for passage in documents.passages(doc.name, doc.text):
            for mismatch in durations.mismatches(passage, defaults):
                count += 1
                report.problems.append(
                    Problem(
                        f"{passage.path}:{passage.line}",
                        f"says {mismatch.written!r} beside {', '.join(mismatch.settings)}, "
                        f"but {' and '.join(mismatch.values)}",
                    )
                )


# --- 5. data inventory ---------------------------------------------------------------


def _check_inventory(
    report: Report, pack: Path, root: Path, metadata: MetaData, migrated: MetaData
) -> None:
    where = _relative(pack / inventory.INVENTORY_FILE, root)
    try:
        loaded = inventory.load(pack)
    except inventory.InventoryError as exc:
        report.problems.append(Problem(where, str(exc)))
        return
    for message in inventory.drift(loaded, metadata):
        report.problems.append(Problem(where, f"{message} (models)"))
    for message in inventory.drift(loaded, migrated):
        report.problems.append(Problem(where, f"{message} (migrated schema, flask db upgrade)"))
    report.counted["inventory columns"] = sum(len(t.columns) for t in loaded.tables)
    _check_never_collected(report, where, loaded, metadata, migrated)
    _check_dataflow(report, pack, root)


def _check_dataflow(report: Report, pack: Path, root: Path) -> None:
    """Every store in the DPIA's data-flow diagrams is an inventory entry, and back."""
    from authdemo.compliance import dataflow

    dpia = pack / dataflow.DPIA_FILE
    if not dpia.exists():
        return
    where = _relative(dpia, root)
    for message in dataflow.drift(dpia.read_text(encoding="utf-8"), dataflow.entries(pack)):
        report.problems.append(Problem(where, message))


def _check_never_collected(
    report: Report, where: str, loaded: inventory.Inventory, *schemas: MetaData
) -> None:
    """Every "never collected" statement holds: no column of either schema and no key
    the audit trail accepts in ``details`` is named for what it says is never kept."""
    from authdemo.audit import ALLOWED_DETAIL_KEYS

    names = {key: f"audit detail key {key!r}" for key in ALLOWED_DETAIL_KEYS}
    for metadata in schemas:
        for table in metadata.tables.values():
            for column in table.columns:
                names[column.name] = f"column {table.name}.{column.name}"
    for message in inventory.never_collected_drift(loaded, names):
        report.problems.append(Problem(where, message))
    report.counted["never-collected statements"] = len(loaded.never_collected)


# --- 6. consent notices --------------------------------------------------------------


def _check_notices(report: Report, pack: Path, root: Path, views: list[NoticeView] | None) -> None:
    where = _relative(pack / notices.NOTICES_FILE, root)
    if views is None:
        report.notes.append(
            f"{notices.SOURCE_MODULE} does not exist yet: notice texts not compared"
        )
        return
    try:
        pins = notices.load_pins(pack)
    except notices.PinError as exc:
        report.problems.append(Problem(_relative(pack / notices.PINS_FILE, root), str(exc)))
    else:
        pins_where = _relative(pack / notices.PINS_FILE, root)
        for drift in notices.pin_drift(views, pins):
            report.problems.append(Problem(pins_where, drift.message))
    languages = notices.shipped_languages(root)
    for purpose, version, language in notices.missing_languages(views, languages):
        report.problems.append(
            Problem(
                notices.SOURCE_MODULE,
                f"notice {purpose} v{version} is the current version but has no text in "
                f"{language!r}, a shipped language (authdemo/translations/): publish every "
                "version in every shipped language (docs/decisions/0029)",
            )
        )
    for view in views:
        if view.declared_sha256 != view.sha256:
            report.problems.append(
                Problem(
                    notices.SOURCE_MODULE,
                    f"notice {view.purpose} v{view.version} declares SHA-256 "
                    f"{view.declared_sha256}, but its text hashes to {view.sha256}",
                )
            )
    try:
        document = (pack / notices.NOTICES_FILE).read_text(encoding="utf-8")
    except OSError:
        report.problems.append(Problem(where, "is missing"))
        return
    if notices.generated_part(document) != notices.render(views):
        report.problems.append(
            Problem(
                where,
                "the notice texts differ from authdemo/consent/notices.py; "
                "run `flask compliance notices --write` and review the change",
            )
        )
    report.counted["notice versions"] = len({(v.purpose, v.version) for v in views})
    report.counted["notice texts"] = len(views)
    report.counted["shipped languages"] = len(languages)


#: Documents that must list the languages the app ships (issue 19 item 6), on a line
#: "Languages offered: English (`en`), German (`de`)".
LANGUAGE_LISTS = ("dpia.md", "record-of-processing.md")
_LANGUAGES_OFFERED = re.compile(r"Languages offered:(.*)$", re.MULTILINE)
_LANGUAGE_CODE = re.compile(r"`([a-z]{2,3})`")


def listed_languages(text: str) -> tuple[str, ...] | None:
    """The language codes on a document's "Languages offered:" line, or None without one."""
    line = _LANGUAGES_OFFERED.search(text)
    return None if line is None else tuple(_LANGUAGE_CODE.findall(line.group(1)))


def _check_language_lists(
    report: Report, pack: Path, root: Path, languages: tuple[str, ...]
) -> None:
    for name in LANGUAGE_LISTS:
        where = _relative(pack / name, root)
        try:
            listed = listed_languages((pack / name).read_text(encoding="utf-8"))
        except OSError:
            continue  # a missing document is reported where the pack's files are read
        if listed is None:
            report.problems.append(
                Problem(where, 'has no line "Languages offered:" naming the shipped languages')
            )
        elif sorted(listed) != sorted(languages):
            report.problems.append(
                Problem(
                    where,
                    f"lists the languages {', '.join(listed) or 'none'}, but the app ships "
                    f"{', '.join(languages)} (English and authdemo/translations/)",
                )
            )
