"""The drift check behind ``flask compliance check``: it passes on the real pack and fails,
saying where, when a document and the app disagree.

Most tests change a copy of the real pack and look only at the problems the change added,
so each proves one kind of drift whatever the state of the rest of the pack.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from authdemo.compliance import check, notices, testids
from authdemo.compliance.notices import NoticeView

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def test_ids() -> frozenset[str]:
    return testids.collect(REPO)


class Pack:
    """A copy of compliance/ in a tree that shares the repository's code and tests."""

    def __init__(self, root: Path, test_ids: frozenset[str]) -> None:
        for name in ("authdemo", "docs", "tests"):
            if (REPO / name).exists():
                (root / name).symlink_to(REPO / name)
        shutil.copytree(REPO / "compliance", root / "compliance")
        self.folder = root / "compliance"
        self.test_ids = test_ids
        self.views: list[NoticeView] | None = None
        self.baseline = set(self.run().problems)

    def run(self) -> check.Report:
        return check.run(
            self.folder, root=self.folder.parent, notice_views=self.views, test_ids=self.test_ids
        )

    def new_problems(self) -> list[check.Problem]:
        """Problems the test's change added (the copy may have others of its own)."""
        return [p for p in self.run().problems if p not in self.baseline]

    def write(self, name: str, text: str) -> None:
        (self.folder / name).write_text(text, encoding="utf-8")

    def read(self, name: str) -> str:
        return (self.folder / name).read_text(encoding="utf-8")


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
        "but not in data-inventory.yaml"
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
    new = replace(views[-1], version="99", text="Signing in with a passkey\n\nNew words.")
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
    german = replace(views[-1], language="de", text="Mit einem Passkey anmelden\n\nText.")
    pack.views = [*views, german]
    notices.write_pins(pack.folder, pack.views)
    pins = notices.load_pins(pack.folder)
    assert pins[("passkey_signin", german.version, "de")] == german.sha256
    assert pins[("passkey_signin", german.version, "en")] == views[-1].sha256


def test_a_notice_whose_declared_hash_is_not_its_texts_is_drift(pack: Pack) -> None:
    pack.views = [notice(declared="0" * 64)]
    notices.write(pack.folder, pack.views)
    [problem] = [p for p in pack.run().problems if p.where == "authdemo.consent.notices"]
    assert "declares SHA-256 000" in problem.message


def test_notices_are_not_compared_while_the_consent_module_is_missing(pack: Pack) -> None:
    pack.views = None
    report = pack.run()
    assert "notice versions" not in report.counted
    assert any("does not exist yet" in note for note in report.notes)
