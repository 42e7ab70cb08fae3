"""``flask compliance ...`` and ``/privacy/manifest`` in a running app."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask

from authdemo.clock import FrozenClock
from authdemo.compliance import cli
from authdemo.compliance.routes import bp
from tests.conftest import make_app

REPO = Path(__file__).resolve().parents[2]


def with_compliance(app: Flask) -> Flask:
    # create_app registers both once authdemo/__init__.py wires them; until then, here.
    if "compliance" not in app.blueprints:
        app.register_blueprint(bp)
    if "compliance" not in app.cli.commands:
        cli.register_commands(app)
    return app


@pytest.fixture
def compliance_app(app: Flask) -> Flask:
    return with_compliance(app)


def test_manifest_page_is_public_and_shows_the_running_configuration(
    tmp_path: Path, clock: FrozenClock
) -> None:
    app = with_compliance(make_app(tmp_path, clock, PASSKEY_ENROLMENT_ENABLED=False))
    response = app.test_client().get("/privacy/manifest")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Privacy manifest</h1>" in page
    assert '<th scope="row">Creating new passkeys</th><td>off</td>' in page
    assert "Security events about your account" in page


@pytest.mark.parametrize(
    ("offered", "shown"), [("en,de", "English (en), Deutsch (de)"), ("en", "English (en)")]
)
def test_the_manifest_names_the_languages_offered(
    tmp_path: Path, clock: FrozenClock, offered: str, shown: str
) -> None:
    """Issue 19 item 6: what this deployment offers (``AUTHDEMO_LANGUAGES``), as the public
    page and the operator's Markdown say it."""
    app = with_compliance(make_app(tmp_path, clock, LANGUAGES=offered))
    page = app.test_client().get("/privacy/manifest").get_data(as_text=True)
    assert f'<th scope="row">Languages of the pages and the notices</th><td>{shown}</td>' in page
    markdown = app.test_client().get("/privacy/manifest.md").get_data(as_text=True)
    assert f"| Languages of the pages and the notices | {shown} | `LANGUAGES` |" in markdown


def test_manifest_is_also_served_as_markdown(compliance_app: Flask) -> None:
    response = compliance_app.test_client().get("/privacy/manifest.md")
    assert response.status_code == 200
    assert response.mimetype == "text/markdown"
    assert response.get_data(as_text=True).startswith("# Privacy manifest: authdemo")


def test_check_command_passes_on_the_real_pack(compliance_app: Flask) -> None:
    result = compliance_app.test_cli_runner().invoke(args=["compliance", "check"])
    assert result.exit_code == 0, result.output
    assert "compliance check: no drift" in result.output


def test_check_command_lists_drift_and_exits_non_zero(
    compliance_app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("authdemo", "docs", "tests"):
        (tmp_path / name).symlink_to(REPO / name)
    shutil.copytree(REPO / "compliance", tmp_path / "compliance")
    (tmp_path / "compliance" / "extra.md").write_text(
        "- [x] Proven by `tests/unit/test_sessions.py::test_that_was_renamed`.\n"
    )
    monkeypatch.setattr(cli, "PACK", tmp_path / "compliance")
    result = compliance_app.test_cli_runner().invoke(args=["compliance", "check"])
    assert result.exit_code == 1
    assert (
        "compliance/extra.md:1: cites tests/unit/test_sessions.py::test_that_was_renamed, "
        "which is not a test"
    ) in result.output
    assert "compliance check: 1 problem(s)" in result.output


def test_manifest_command_writes_html(compliance_app: Flask, tmp_path: Path) -> None:
    out = tmp_path / "manifest.html"
    result = compliance_app.test_cli_runner().invoke(
        args=["compliance", "manifest", "--format", "html", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert html.startswith("<!doctype html>")
    assert "<h1>Privacy manifest: authdemo</h1>" in html


def test_notices_command_prints_what_notices_md_holds(compliance_app: Flask) -> None:
    result = compliance_app.test_cli_runner().invoke(args=["compliance", "notices"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() in (REPO / "compliance" / "notices.md").read_text()
