"""The drift check behind ``flask compliance check``: it passes on the real pack and fails,
saying where, when a document and the app disagree.

Most tests change a copy of the real pack and look only at the problems the change added,
so each proves one kind of drift whatever the state of the rest of the pack.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Column, MetaData, String

from authdemo.compliance import check, notices, schema, testids
from authdemo.compliance.notices import NoticeView

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def test_ids() -> frozenset[str]:
    return testids.collect(REPO)


@functools.cache
def migrated_schema() -> MetaData:
    """The project's migrations applied to an empty database (built once: ~0.5 s)."""
    return schema.migrated()


_FRESH: dict[str, frozenset[check.Problem]] = {}


def fresh_copy_problems(pack: Pack) -> frozenset[check.Problem]:
    """What an untouched copy reports (paths are relative, so every copy reports the same);
    computed once per test session."""
    if "problems" not in _FRESH:
        _FRESH["problems"] = frozenset(pack.run().problems)
    return _FRESH["problems"]


class Pack:
    """A copy of compliance/ and docs/ in a tree that shares the repository's code and
    tests; ``tests`` is a folder of links, so a test can add a test file of its own."""

    def __init__(self, root: Path, test_ids: frozenset[str]) -> None:
        (root / "authdemo").symlink_to(REPO / "authdemo")
        (root / "tests").mkdir()
        for entry in (REPO / "tests").iterdir():
            (root / "tests" / entry.name).symlink_to(entry)
        shutil.copytree(REPO / "compliance", root / "compliance")
        # The documents only: the screenshots they link to are not needed for the check.
        shutil.copytree(REPO / "docs", root / "docs", ignore=shutil.ignore_patterns("*.png"))
        self.root = root
        self.folder = root / "compliance"
        self.test_ids = test_ids
        self.views: list[NoticeView] | None = None
        self.metadata: MetaData | None = None
        self.migrated = migrated_schema()
        self.junit: list[Path] = []
        self.every_service = True
        self.baseline = fresh_copy_problems(self)

    def run(self) -> check.Report:
        return check.run(
            self.folder,
            root=self.root,
            notice_views=self.views,
            test_ids=self.test_ids,
            metadata=self.metadata,
            migrated=self.migrated,
            junit=self.junit,
            every_service=self.every_service,
        )

    def new_problems(self) -> list[check.Problem]:
        """Problems the test's change added (the copy may have others of its own)."""
        return [p for p in self.run().problems if p not in self.baseline]

    def write(self, name: str, text: str) -> None:
        (self.folder / name).write_text(text, encoding="utf-8")

    def read(self, name: str) -> str:
        return (self.folder / name).read_text(encoding="utf-8")

    def add_test_file(self, name: str, source: str) -> None:
        """A test file of this tree only (``tests/extra/<name>``), and its test ids."""
        folder = self.root / "tests" / "extra"
        folder.mkdir(exist_ok=True)
        (folder / name).write_text(source, encoding="utf-8")
        self.test_ids = self.test_ids | testids.collect(self.root, "tests/extra")


@pytest.fixture
def pack(tmp_path: Path, test_ids: frozenset[str]) -> Pack:
    return Pack(tmp_path, test_ids)


def said(problems: list[check.Problem]) -> list[str]:
    return [str(p) for p in problems]


def notice(text: str = "Title\n\nBody.", declared: str | None = None) -> NoticeView:
    fields = {
        "purpose": "passkey_signin",
        "version": "1",
        "published": "2026-01-01",
        "material": True,
        "title": "Title",
        "text": text,
        "changes": "",
        "declared_sha256": "",
        "current": True,
    }
    view = NoticeView(**fields)  # type: ignore[arg-type]
    fields["declared_sha256"] = view.sha256 if declared is None else declared
    return NoticeView(**fields)  # type: ignore[arg-type]


def test_the_real_pack_has_no_drift() -> None:
    report = check.run(REPO / "compliance", root=REPO)
    assert report.ok, "\n".join(said(report.problems))
    assert report.counted["cited tests"] > 50
    assert report.counted["inventory columns"] > 50


def test_a_cited_test_that_does_not_exist_is_drift(pack: Pack) -> None:
    pack.write("extra.md", "- [x] Proven by `tests/unit/test_sessions.py::test_no_such_thing`.\n")
    assert said(pack.new_problems()) == [
        "compliance/extra.md:1: cites tests/unit/test_sessions.py::test_no_such_thing, "
        "which is not a test"
    ]


def test_a_parametrized_citation_matches_its_test(pack: Pack) -> None:
    pack.write(
        "extra.md", "- [x] `tests/unit/test_totp.py::test_malformed_codes_are_refused[12345]`\n"
    )
    assert pack.new_problems() == []


def test_a_wrong_retention_number_is_drift(pack: Pack) -> None:
    text = pack.read("retention.md")
    assert "`AUDIT_RETENTION_DAYS = 90`" in text
    pack.write(
        "retention.md",
        text.replace("`AUDIT_RETENTION_DAYS = 90`", "`AUDIT_RETENTION_DAYS = 30`", 1),
    )
    [problem] = pack.new_problems()
    assert problem.where.startswith("compliance/retention.md:")
    assert problem.message == "says AUDIT_RETENTION_DAYS = 30, but it is 90"


def test_a_cited_setting_that_does_not_exist_is_drift(pack: Pack) -> None:
    pack.write("extra.md", "Kept for `AUDIT_KEEP_DAYS = 90` days.\n")
    assert said(pack.new_problems()) == [
        "compliance/extra.md:1: cites AUDIT_KEEP_DAYS, which is not a setting in authdemo.config"
    ]


def test_a_cited_module_constant_is_compared_with_the_module(pack: Pack) -> None:
    pack.write(
        "extra.md",
        "`authdemo.models.passkey.CREDENTIAL_ID_MAX = 1023` and "
        "<!-- config: authdemo.models.user.USER_HANDLE_BYTES = 32 -->\n",
    )
    assert said(pack.new_problems()) == [
        "compliance/extra.md:1: says authdemo.models.user.USER_HANDLE_BYTES = 32, but it is 64"
    ]


def test_a_ticked_item_without_a_test_is_drift(pack: Pack) -> None:
    pack.write("extra.md", "- [x] Sessions are safe.\n  Trust us.\n")
    [problem] = pack.new_problems()
    assert problem.where == "compliance/extra.md:1"
    assert "cites no test" in problem.message


def test_a_test_on_a_continuation_line_backs_the_item(pack: Pack) -> None:
    pack.write(
        "extra.md",
        "- [x] Only the token's hash is stored:\n"
        "  `tests/unit/test_sessions.py::test_only_the_sha256_of_the_token_is_stored`.\n",
    )
    assert pack.new_problems() == []


def test_an_open_item_must_say_pending_or_deployers_task(pack: Pack) -> None:
    pack.write(
        "extra.md",
        "- [ ] Export of your data.\n\n"
        "- [ ] Export. Pending: issue 7.\n\n"
        "- [ ] Deployer's task: appoint a DPO.\n",
    )
    assert [p.where for p in pack.new_problems()] == ["compliance/extra.md:1"]


def test_a_ticked_item_that_is_still_pending_is_drift(pack: Pack) -> None:
    pack.write(
        "extra.md",
        "- [x] `tests/unit/test_sessions.py::test_only_the_sha256_of_the_token_is_stored`"
        " Pending: more.\n",
    )
    [problem] = pack.new_problems()
    assert "says 'Pending:'" in problem.message


def test_a_table_row_without_a_test_is_drift(pack: Pack) -> None:
    replay = "`tests/unit/test_ceremonies.py::test_ceremony_can_be_consumed_only_once`"
    pack.write(
        "extra.md",
        "| Threat | Mitigation | Test |\n"
        "|---|---|---|\n"
        f"| Replay | single-use challenge | {replay} |\n"
        "| Phishing | origin check | |\n"
        "| Erasure | one transaction | Pending: issue 7 |\n",
    )
    assert [p.where for p in pack.new_problems()] == ["compliance/extra.md:4"]


def test_a_link_to_a_missing_file_is_drift(pack: Pack) -> None:
    pack.write("extra.md", "See [the plan](plan.md) and [the DPIA](dpia.md#step-5).\n")
    assert said(pack.new_problems()) == [
        "compliance/extra.md:1: links to plan.md, which is missing"
    ]


def test_a_column_missing_from_the_inventory_is_drift(pack: Pack) -> None:
    text = pack.read("data-inventory.yaml")
    start = text.index("      notices_seen_at:\n")
    end = text.index("\n\n", start)
    pack.write("data-inventory.yaml", text[:start] + text[end + 1 :])
    assert said(pack.new_problems()) == [
        "compliance/data-inventory.yaml: column users.notices_seen_at is in the schema "
        "but not in data-inventory.yaml (models)",
        "compliance/data-inventory.yaml: column users.notices_seen_at is in the schema "
        "but not in data-inventory.yaml (migrated schema, flask db upgrade)",
    ]


def test_notice_text_that_differs_from_the_source_is_drift(pack: Pack) -> None:
    pack.views = [notice()]
    notices.write(pack.folder, pack.views)
    assert pack.run().counted["notice versions"] == 1
    pack.baseline = set(pack.run().problems)
    pack.views = [notice("Title\n\nBody, reworded.")]
    assert (
        "compliance/notices.md: the notice texts differ from authdemo/consent/notices.py; "
        "run `flask compliance notices --write` and review the change" in said(pack.new_problems())
    )


# --- pinned notices (issue 16 item 2) ----------------------------------------------------


def edited(views: list[NoticeView], version: str, text: str) -> list[NoticeView]:
    """The views as they load after someone edited a published version in place."""
    return [replace(v, text=text) if v.version == version else v for v in views]


def real_views() -> list[NoticeView]:
    views = notices.load()
    assert views is not None
    return views


def test_every_published_notice_is_pinned_in_the_committed_file() -> None:
    pins = notices.load_pins(REPO / "compliance")
    views = real_views()
    assert {v.key for v in views} == set(pins)
    for view in views:
        # The pin is compared with a hash computed here from the text pages render.
        assert pins[view.key] == hashlib.sha256(view.text.encode("utf-8")).hexdigest()


def test_an_in_place_edit_of_a_published_notice_is_drift(pack: Pack) -> None:
    views = real_views()
    pack.views = edited(views, "1", views[0].text.replace("just as well", "equally well"))
    problems = [p for p in pack.new_problems() if p.where == "compliance/notice-pins.json"]
    assert [p.message.split(":")[0] for p in problems] == [
        "notice passkey_signin v1 (en) was edited after publication"
    ]


def test_write_refuses_to_repin_an_edited_notice_and_the_check_still_fails(pack: Pack) -> None:
    views = real_views()
    pins_before = pack.read(notices.PINS_FILE)
    pack.views = edited(views, "1", views[0].text + " One more sentence.")
    with pytest.raises(notices.PinError, match=r"v1 .* edited after publication"):
        notices.write_pins(pack.folder, pack.views)
    assert pack.read(notices.PINS_FILE) == pins_before
    notices.write(pack.folder, pack.views)  # notices.md regenerated by hand anyway
    assert any("edited after publication" in p.message for p in pack.run().problems)


def test_write_pins_a_newly_published_version_and_never_drops_one(pack: Pack) -> None:
    views = real_views()
    latest = [v for v in views if v.language == "en"][-1]
    new = replace(latest, version="99", text="Signing in with a passkey\n\nNew words.")
    pack.views = [*views, new]
    assert "notice passkey_signin v99 (en) is not pinned" in " ".join(said(pack.new_problems()))
    assert notices.write_pins(pack.folder, pack.views) is True
    assert notices.load_pins(pack.folder)[new.key] == new.sha256
    assert notices.write_pins(pack.folder, pack.views) is False
    pack.views = views  # version 99 withdrawn from the source
    with pytest.raises(notices.PinError, match=r"v99 .* no longer published"):
        notices.write_pins(pack.folder, pack.views)


def test_a_pin_for_each_language_is_a_separate_pin(pack: Pack) -> None:
    views = real_views()
    latest = [v for v in views if v.language == "en"][-1]
    french = replace(latest, language="fr", text="Se connecter avec une clé d'accès\n\nTexte.")
    pack.views = [*views, french]
    notices.write_pins(pack.folder, pack.views)
    pins = notices.load_pins(pack.folder)
    assert pins[("passkey_signin", french.version, "fr")] == french.sha256
    assert pins[("passkey_signin", french.version, "en")] == latest.sha256


def catalogue(root: Path, language: str) -> None:
    folder = root / notices.TRANSLATIONS / language / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / notices.CATALOGUE).write_text('msgid ""\nmsgstr ""\n', encoding="utf-8")


def test_the_shipped_languages_are_english_and_every_catalogue(tmp_path: Path) -> None:
    assert notices.shipped_languages(tmp_path) == ("en",)
    catalogue(tmp_path, "fr")
    catalogue(tmp_path, "de")
    assert notices.shipped_languages(tmp_path) == ("en", "de", "fr")


def test_a_current_version_without_a_shipped_language_is_drift_and_an_old_one_is_not(
    tmp_path: Path,
) -> None:
    """Issue 19 item 6: a person reading a shipped language must be able to read the
    version they are asked to agree to; versions superseded before a language shipped
    are never made up in it."""
    views = real_views()
    catalogue(tmp_path, "de")
    catalogue(tmp_path, "fr")
    shipped = notices.shipped_languages(tmp_path)
    current = {v.version for v in views if v.current}
    assert list(notices.missing_languages(views, shipped)) == [
        ("passkey_signin", version, "fr") for version in sorted(current)
    ]
    without_german = [v for v in views if v.language != "de"]
    assert ("passkey_signin", min(current), "de") in list(
        notices.missing_languages(without_german, shipped)
    )
    superseded = {v.version for v in views if not v.current}
    assert not any(
        version in superseded for _, version, _ in notices.missing_languages(views, shipped)
    )


def test_a_notice_whose_declared_hash_is_not_its_texts_is_drift(pack: Pack) -> None:
    pack.views = [notice(declared="0" * 64)]
    notices.write(pack.folder, pack.views)
    [problem] = [
        p
        for p in pack.run().problems
        if p.where == "authdemo.consent.notices" and "declares" in p.message
    ]
    assert "declares SHA-256 000" in problem.message


def test_notices_are_not_compared_while_the_consent_module_is_missing(pack: Pack) -> None:
    pack.views = None
    report = pack.run()
    assert "notice versions" not in report.counted
    assert any("does not exist yet" in note for note in report.notes)


# --- a drift check that can fail where it matters (issue 16 item 16) ---------------------

FAKE_TESTS = """\
import os

import pytest


def _check(value):
    assert value


def test_passes():
    assert 1 + 1 == 2


def test_asserts_through_a_helper():
    _check(True)


def test_asserts_nothing():
    print("looks busy")


@pytest.mark.skip(reason="not today")
def test_marked_skip():
    assert False


@pytest.mark.xfail(reason="known bug")
def test_marked_xfail():
    assert False


def test_needs_a_service():
    if not os.environ.get("FAKE_SERVICE"):
        pytest.skip("the service is not up")
    assert True
"""
EXTRA = "tests/extra/test_fake.py"


def run_fake_suite(root: Path, name: str, **env: str) -> Path:
    """Run the fake tests with pytest for real, writing its JUnit XML result."""
    result = root / f"{name}.xml"
    subprocess.run(
        [
            sys.executable, "-m", "pytest", EXTRA, "-q", "-p", "no:cacheprovider",
            "--noconftest", "-c", "/dev/null", "--rootdir", str(root),
            f"--junitxml={result}",
        ],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        check=False,
        timeout=120,
    )  # fmt: skip
    assert result.exists()
    return result


@pytest.fixture(scope="module")
def fake_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two real runs of the fake tests: one with the service down, one with it up. The
    results name tests by their path from the root, so every copy of the pack can use them."""
    root = tmp_path_factory.mktemp("fake-suite")
    (root / EXTRA).parent.mkdir(parents=True)
    (root / EXTRA).write_text(FAKE_TESTS, encoding="utf-8")
    return {
        "down": run_fake_suite(root, "services-down"),
        "up": run_fake_suite(root, "services-up", FAKE_SERVICE="1"),
    }


def cite(pack: Pack, *names: str) -> None:
    pack.write("extra.md", "".join(f"- [x] Proven by `{EXTRA}::{n}`.\n" for n in names))


def test_documents_in_docs_are_checked_too(pack: Pack) -> None:
    (pack.root / "docs" / "extra.md").write_text(
        "- [x] Proven by `tests/unit/test_sessions.py::test_no_such_thing`.\n", encoding="utf-8"
    )
    assert said(pack.new_problems()) == [
        "docs/extra.md:1: cites tests/unit/test_sessions.py::test_no_such_thing, "
        "which is not a test"
    ]


def test_a_cited_test_that_asserts_nothing_is_drift(pack: Pack) -> None:
    pack.add_test_file("test_fake.py", FAKE_TESTS)
    pack.baseline = set(pack.run().problems)
    cite(pack, "test_passes", "test_asserts_through_a_helper", "test_asserts_nothing")
    assert said(pack.new_problems()) == [
        f"compliance/extra.md:3: cites {EXTRA}::test_asserts_nothing, which asserts nothing"
    ]


def test_a_cited_test_marked_skip_or_xfail_is_drift(pack: Pack) -> None:
    pack.add_test_file("test_fake.py", FAKE_TESTS)
    pack.baseline = set(pack.run().problems)
    cite(pack, "test_marked_skip", "test_marked_xfail")
    assert said(pack.new_problems()) == [
        f"compliance/extra.md:1: cites {EXTRA}::test_marked_skip, which is marked skip",
        f"compliance/extra.md:2: cites {EXTRA}::test_marked_xfail, "
        "which is marked as expected to fail",
    ]


def test_a_cited_test_skipped_in_the_run_or_xfailed_is_drift(
    pack: Pack, fake_runs: dict[str, Path]
) -> None:
    pack.add_test_file("test_fake.py", FAKE_TESTS)
    pack.junit = [fake_runs["down"]]
    pack.baseline = set(pack.run().problems)
    cite(pack, "test_passes", "test_needs_a_service", "test_marked_xfail")
    messages = [p.message for p in pack.new_problems() if "which is marked" not in p.message]
    assert messages == [
        f"cites {EXTRA}::test_needs_a_service, which was skipped in every run "
        "(the service is not up)",
        f"cites {EXTRA}::test_marked_xfail, which is expected to fail (xfail: known bug)",
    ]


def test_a_skip_is_only_a_note_where_not_every_service_is_up(
    pack: Pack, fake_runs: dict[str, Path]
) -> None:
    pack.add_test_file("test_fake.py", FAKE_TESTS)
    pack.junit = [fake_runs["down"]]
    pack.every_service = False
    pack.baseline = set(pack.run().problems)
    cite(pack, "test_needs_a_service")
    assert pack.new_problems() == []
    assert any("test_needs_a_service, which was skipped" in n for n in pack.run().notes)


def test_a_test_skipped_in_one_run_but_passed_in_another_backs_its_claim(
    pack: Pack, fake_runs: dict[str, Path]
) -> None:
    pack.add_test_file("test_fake.py", FAKE_TESTS)
    pack.junit = [fake_runs["down"], fake_runs["up"]]
    pack.baseline = set(pack.run().problems)
    cite(pack, "test_passes", "test_needs_a_service")
    assert pack.new_problems() == []


def test_a_cited_test_missing_from_the_results_is_drift(
    pack: Pack, fake_runs: dict[str, Path]
) -> None:
    pack.add_test_file("test_fake.py", FAKE_TESTS)
    pack.add_test_file("test_not_run.py", "def test_elsewhere():\n    assert True\n")
    pack.junit = [fake_runs["down"]]  # runs test_fake.py only
    pack.baseline = set(pack.run().problems)
    pack.write("extra.md", "- [x] `tests/extra/test_not_run.py::test_elsewhere`\n")
    assert said(pack.new_problems()) == [
        "compliance/extra.md:1: cites tests/extra/test_not_run.py::test_elsewhere, "
        "which was not run in the test results given"
    ]


@pytest.mark.parametrize(
    ("text", "drift"),
    [
        ("Security events are kept for 30 days (`AUDIT_RETENTION_DAYS`).", "'30 days'"),
        ("| Security events | AUDIT_RETENTION_DAYS | one month |", "'one month'"),
        ("Kept for three years (AUTHDEMO_CONSENT_RETENTION_DAYS), then deleted.", None),
        ("Security events are kept for 90 days (`AUDIT_RETENTION_DAYS`).", None),
        ("NIST allows at most 24 hours; `SESSION_ABSOLUTE_SECONDS` is 12 hours.", None),
    ],
)
def test_a_duration_beside_a_setting_name_must_be_its_value(
    pack: Pack, text: str, drift: str | None
) -> None:
    pack.write("extra.md", text + "\n")
    problems = said(pack.new_problems())
    if drift is None:
        assert problems == []
    else:
        [problem] = problems
        assert problem.startswith(f"compliance/extra.md:1: says {drift} beside ")


def migrations_plus(tmp_path: Path, upgrade: str) -> Path:
    """A copy of the project's migrations with one more revision on top of the head."""
    migrations = tmp_path / "migrations"
    shutil.copytree(REPO / "authdemo" / "migrations", migrations)
    script = ScriptDirectory(str(migrations))
    head = script.get_current_head()
    (migrations / "versions" / "9999_drift.py").write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f'revision = "9999"\ndown_revision = "{head}"\nbranch_labels = None\n'
        f"depends_on = None\n\n\ndef upgrade():\n{upgrade}",
        encoding="utf-8",
    )
    return migrations


def test_a_migration_that_adds_a_column_the_inventory_lacks_is_drift(
    pack: Pack, tmp_path: Path
) -> None:
    pack.migrated = schema.migrated(
        migrations_plus(
            tmp_path,
            '    with op.batch_alter_table("users") as batch:\n'
            '        batch.add_column(sa.Column("shoe_size", sa.Integer(), nullable=True))\n',
        )
    )
    assert said(pack.new_problems()) == [
        "compliance/data-inventory.yaml: column users.shoe_size is in the schema but not in "
        "data-inventory.yaml (migrated schema, flask db upgrade)"
    ]


def test_a_column_the_models_have_but_the_migrations_drop_is_drift(
    pack: Pack, tmp_path: Path
) -> None:
    pack.migrated = schema.migrated(
        migrations_plus(
            tmp_path,
            '    with op.batch_alter_table("users") as batch:\n'
            '        batch.drop_column("notices_seen_at")\n',
        )
    )
    assert said(pack.new_problems()) == [
        "compliance/data-inventory.yaml: column users.notices_seen_at is in "
        "data-inventory.yaml but not in the schema (migrated schema, flask db upgrade)"
    ]


def test_a_pending_item_whose_test_exists_is_drift(pack: Pack) -> None:
    existing = "tests/unit/test_sessions.py::test_revoked_session_no_longer_resolves"
    pack.write(
        "extra.md",
        f"- [ ] Pending: a test, `{existing}`.\n"
        "- [ ] Pending: `test_revoked_session_no_longer_resolves` once it exists.\n"
        f"- [ ] `{existing}` proves one half. Pending: a test of the other.\n",
    )
    assert said(pack.new_problems()) == [
        f"compliance/extra.md:1: says 'Pending:' but its test {existing} exists",
        f"compliance/extra.md:2: says 'Pending:' but its test {existing} exists",
    ]


def test_a_column_named_for_what_is_never_collected_is_drift(pack: Pack) -> None:
    from authdemo.models import Base

    models = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(models)
    models.tables["users"].append_column(Column("email", String(254), info={"personal": True}))
    pack.metadata = models
    problems = said(pack.new_problems())
    assert (
        "compliance/data-inventory.yaml: column users.email contradicts "
        "never_collected.contact_details (its name contains 'email')"
    ) in problems


def test_the_never_collected_list_is_the_inventorys() -> None:
    from authdemo.compliance import inventory, manifest
    from authdemo.config import Settings

    documented = inventory.load(REPO / "compliance")
    settings = Settings()
    built = manifest.build(settings, documented, None)
    hours = manifest.address_retention_seconds(settings) // 3600
    assert built.never == tuple(
        e.statement.format(address_hours=hours) for e in documented.never_collected
    )
    assert len(built.never) >= 4
    assert f"at most {hours} hours" in " ".join(built.never)


def test_a_store_in_the_dpia_diagrams_that_is_not_in_the_inventory_is_drift(pack: Pack) -> None:
    # Issue 16 item 13: each store of a data-flow diagram is tied to an inventory entry.
    pack.write("dpia.md", pack.read("dpia.md").replace("backups[(backups)]", "archive[(archive)]"))
    messages = said(pack.new_problems())
    assert any("store 'archive' is not in the inventory" in m for m in messages), messages
    assert any("'backups' is in no data-flow diagram" in m for m in messages), messages


def test_the_check_fails_when_the_current_notice_lacks_a_shipped_language(pack: Pack) -> None:
    pack.views = [v for v in real_views() if v.language != "de"]
    assert any(
        "is the current version but has no text in 'de', a shipped language" in p
        for p in said(pack.new_problems())
    )


@pytest.mark.parametrize("document", check.LANGUAGE_LISTS)
def test_a_document_that_does_not_list_every_shipped_language_is_drift(
    pack: Pack, document: str
) -> None:
    """Issue 19 item 6: the DPIA and the record of processing name the languages the app
    ships (English and every catalogue), on their "Languages offered:" line; the real pack
    does (the fresh copy has no such problem), and each way of getting it wrong is found."""
    text = pack.read(document)
    assert check.listed_languages(text) == notices.shipped_languages(REPO)
    line = next(line for line in text.splitlines() if "Languages offered:" in line)

    pack.write(document, text.replace(line, line.replace(", German (`de`)", "")))
    assert any(
        f"{document}: lists the languages en, but the app ships en, de" in m
        for m in said(pack.new_problems())
    ), said(pack.new_problems())
    pack.write(document, text.replace(line, line + " French (`fr`)."))
    assert any("lists the languages en, de, fr" in m for m in said(pack.new_problems()))
    pack.write(document, text.replace("Languages offered:", "Languages:"))
    assert any('has no line "Languages offered:"' in m for m in said(pack.new_problems()))
