"""``flask compliance check``, ``flask compliance manifest`` and ``flask compliance notices``.

flask compliance check [--junit FILE ...] [--ledger]   # non-zero exit and a list of drift
flask compliance manifest [--format md|html] [--out FILE]
flask compliance notices [--write]          # regenerate notices.md's copy, pin new versions
flask compliance facts                      # this deployment's facts block and its hash
flask compliance ledger                     # the ledger's hashes against the pinned ones
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import Flask
from flask.cli import AppGroup

from authdemo import PROJECT_ROOT, current

if TYPE_CHECKING:
    from authdemo.compliance.ledger import LedgerReport

# The modules behind each command (YAML, the pack's parsers) are imported when the command
# runs, not with the app: every server worker builds the app and would carry them.

PACK = PROJECT_ROOT / "compliance"

compliance_cli = AppGroup("compliance", help="The accountability pack in compliance/.")


@compliance_cli.command("check")
@click.option(
    "--junit",
    "junit",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="pytest --junitxml output; repeat for several runs (e.g. SQLite and PostgreSQL). "
    "Every cited test must pass in one and fail in none.",
)
@click.option(
    "--every-service",
    is_flag=True,
    help="Every service was up for the runs (CI): a cited test skipped in every run fails.",
)
@click.option(
    "--ledger",
    "with_ledger",
    is_flag=True,
    help="Also check the consent ledger of the configured database against the pins "
    "(what `flask compliance ledger` does): a record whose hash is not the pinned hash of "
    "its version and language fails the check.",
)
def check_command(junit: tuple[Path, ...], every_service: bool, with_ledger: bool) -> None:
    """Fail if compliance/ and docs/ no longer describe the app (tests, schema, settings,
    notices), or, with --junit, if a cited test was skipped, expected to fail or failed,
    or, with --ledger, if a consent record names a text that is not the pinned one."""
    from authdemo.compliance import check

    report = check.run(PACK, root=PROJECT_ROOT, junit=junit, every_service=every_service)
    problems = [str(problem) for problem in report.problems]
    counted = dict(report.counted)
    if with_ledger:
        result = _ledger_report()
        problems += [f"consent ledger: {problem}" for problem in result.problems]
        counted["consent records"] = result.rows
    for note in report.notes:
        click.echo(f"note: {note}")
    summary = ", ".join(f"{n} {what}" for what, n in counted.items())
    if not problems:
        click.echo(f"compliance check: no drift ({summary})")
        return
    for problem in problems:
        click.echo(problem, err=True)
    click.echo(f"compliance check: {len(problems)} problem(s) ({summary})", err=True)
    raise SystemExit(1)


@compliance_cli.command("manifest")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def manifest_command(fmt: str, out: Path | None) -> None:
    """Print (or write) the privacy manifest of the running configuration."""
    from authdemo.compliance import manifest

    built = manifest.from_app_files(current.settings(), PACK)
    text = manifest.render_html(built) if fmt == "html" else manifest.render_markdown(built)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"privacy manifest written to {out}")


@compliance_cli.command("notices")
@click.option(
    "--write",
    is_flag=True,
    help="Pin newly published versions and rewrite the generated part of notices.md.",
)
def notices_command(write: bool) -> None:
    """Print the consent notices as notices.md shows them (from authdemo/consent/notices.py).

    With --write, a newly published version is pinned in compliance/notice-pins.json; a
    published text that changed, or a published version that is gone, is refused and
    nothing is written."""
    from authdemo.compliance import notices

    views = notices.load()
    if views is None:
        raise click.ClickException(f"{notices.SOURCE_MODULE} does not exist yet")
    if not write:
        click.echo(notices.render(views))
        return
    try:
        pinned = notices.write_pins(PACK, views)
    except notices.PinError as exc:
        raise click.ClickException(f"refused, nothing written: {exc}") from exc
    if pinned:
        click.echo(f"compliance/{notices.PINS_FILE}: pinned the newly published version(s)")
    changed = notices.write(PACK, views)
    state = "updated" if changed else "already up to date"
    click.echo(f"compliance/{notices.NOTICES_FILE} {state}")


@compliance_cli.command("facts")
@click.option(
    "--language",
    "languages",
    multiple=True,
    help="Only this language (repeat for several); default: every language a notice is in.",
)
def facts_command(languages: tuple[str, ...]) -> None:
    """Print this deployment's facts block (shown beside every notice, in the notice's
    language) and its SHA-256, the value the ledger records in
    consent_events.facts_sha256. Keep the output with your configuration history, so each
    recorded hash can be read back as text."""
    from authdemo.consent import facts

    unknown = sorted(set(languages) - set(facts.WORDING))
    if unknown:
        raise click.ClickException(f"no facts block in {', '.join(unknown)}")
    for index, language in enumerate(languages or tuple(facts.WORDING)):
        block = facts.from_settings(current.settings(), language)
        if index:
            click.echo("")
        click.echo(f"[{language}]")
        click.echo(block.text)
        click.echo(f"SHA-256: {block.sha256}")


@compliance_cli.command("ledger")
def ledger_command() -> None:
    """Fail if a consent record names a notice text that is not a pinned, published one."""
    result = _ledger_report()
    for problem in result.problems:
        click.echo(problem, err=True)
    if result.problems:
        click.echo(
            f"consent ledger: {len(result.problems)} problem(s) in {result.rows} record(s)",
            err=True,
        )
        raise SystemExit(1)
    for (purpose, version, language, sha256), count in result.texts.items():
        click.echo(f"{purpose} v{version} ({language}) {sha256}: {count} record(s)")
    click.echo(
        f"consent ledger: {result.rows} record(s), every notice hash is a pinned one "
        f"({len(result.facts)} deployment-facts hash(es): {', '.join(result.facts) or 'none'})"
    )


def _ledger_report() -> LedgerReport:
    """The configured database's consent ledger against compliance/notice-pins.json."""
    from authdemo.compliance import ledger, notices
    from authdemo.extensions import db

    try:
        pins = notices.load_pins(PACK)
    except notices.PinError as exc:
        raise click.ClickException(str(exc)) from exc
    return ledger.compare(db.session, pins)


def register_commands(app: Flask) -> None:
    app.cli.add_command(compliance_cli)
