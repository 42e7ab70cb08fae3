"""The privacy manifest: what this deployment collects, why, for how long, and which
features and kill switches are on, generated from the configuration that is running.

The public description therefore cannot disagree with what runs: the retention periods,
time limits and switches come from the live ``Settings``; what is collected and why comes
from compliance/data-inventory.yaml, which ``flask compliance check`` keeps equal to the
schema; the consent notices come from the module the consent pages render.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from authdemo.compliance import notices as notice_source
from authdemo.compliance.inventory import Inventory
from authdemo.compliance.notices import NoticeView
from authdemo.config import Settings
from authdemo.i18n import language_name
from authdemo.ratelimit import address_retention_seconds


@dataclass(frozen=True, slots=True)
class Setting:
    label: str
    value: str
    setting: str
    meaning: str = ""


@dataclass(frozen=True, slots=True)
class Item:
    name: str
    purpose: str
    exported: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Dataset:
    table: str
    title: str
    purpose: str
    lawful_basis: str
    retention: str
    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class Manifest:
    service: str
    origin: str
    environment: str
    switches: tuple[Setting, ...]
    limits: tuple[Setting, ...]
    rate_limits: tuple[Setting, ...]
    datasets: tuple[Dataset, ...]
    #: ``None`` while the consent module does not exist.
    notices: tuple[NoticeView, ...] | None
    never: tuple[str, ...]
    #: Every setting except secrets and connection strings (``Settings.public_view``).
    everything: tuple[tuple[str, str], ...]


def build(settings: Settings, inventory: Inventory, notices: list[NoticeView] | None) -> Manifest:
    s = settings
    return Manifest(
        service=s.RP_NAME,
        origin=s.ORIGIN,
        environment=s.ENV,
        switches=(
            Setting(
                "Creating new passkeys",
                _on_off(s.PASSKEY_ENROLMENT_ENABLED),
                "PASSKEY_ENROLMENT_ENABLED",
                "Kill switch, at start-up. Off: nobody can add a passkey; password and "
                "one-time code sign-up keeps working. An operator can also pause it while "
                "the service runs (flask passkeys pause).",
            ),
            Setting(
                "Signing in with a passkey",
                _on_off(s.PASSKEY_SIGNIN_ENABLED),
                "PASSKEY_SIGNIN_ENABLED",
                "Kill switch, at start-up. Off: passkeys are not accepted; password and "
                "one-time code sign-in keeps working. An operator can also pause it while "
                "the service runs (flask passkeys pause).",
            ),
            Setting(
                "Share of accounts and sign-ups offered passkeys (pilot)",
                f"{s.PASSKEY_PILOT_PERCENT} %",
                "PASSKEY_PILOT_PERCENT",
                "Chosen by a keyed hash of the account (or the username being signed up), "
                "never by who you are; outside the pilot, a password and one-time code.",
            ),
            Setting(
                "A pause or resume reaches every server within",
                humanise("PASSKEY_SWITCH_CACHE_SECONDS", s.PASSKEY_SWITCH_CACHE_SECONDS),
                "PASSKEY_SWITCH_CACHE_SECONDS",
            ),
            Setting(
                "Where passkeys are offered",
                s.PASSKEY_JURISDICTIONS or "everywhere this service runs",
                "PASSKEY_JURISDICTIONS",
            ),
            Setting(
                "Languages of the pages and the notices",
                ", ".join(f"{language_name(code)} ({code})" for code in s.languages),
                "LANGUAGES",
                "The selector on every page offers these; every current notice is "
                "published in each language the app ships (flask compliance check).",
            ),
            Setting("This deployment's jurisdiction", s.JURISDICTION or "not set", "JURISDICTION"),
            Setting(
                "Country taken from a header set by the operator's proxy",
                s.COUNTRY_HEADER or "not used",
                "COUNTRY_HEADER",
            ),
            Setting(
                "Minimum age, declared by the person at sign-up",
                f"{s.MINIMUM_AGE} years" if s.MINIMUM_AGE else "off",
                "MINIMUM_AGE",
            ),
            Setting("Rate limiting", _on_off(s.RATELIMIT_ENABLED), "RATELIMIT_ENABLED"),
            Setting(
                "Cookies only over HTTPS (__Host- prefix)",
                _on_off(s.SECURE_COOKIES),
                "SECURE_COOKIES",
            ),
        ),
        limits=tuple(
            Setting(label, humanise(name, getattr(s, name)), name)
            for label, name in (
                ("A passkey request must be answered within", "CEREMONY_TIMEOUT_SECONDS"),
                ("A password and code set-up must be finished within", "ENROLMENT_TIMEOUT_SECONDS"),
                ("You are signed out after this long without activity", "SESSION_IDLE_SECONDS"),
                ("You are signed out after this long in any case", "SESSION_ABSOLUTE_SECONDS"),
                ("Important changes need a sign-in no older than", "STEP_UP_SECONDS"),
                ("After you say no to passkeys, you are not asked again for", "CONSENT_REASK_DAYS"),
                ("Security events about your account are kept for", "AUDIT_RETENTION_DAYS"),
                ("Consent decisions no longer in force are kept for", "CONSENT_RETENTION_DAYS"),
                (
                    "An account left with no way to sign in is deleted, after its last use, in",
                    "NO_WAY_IN_ERASE_DAYS",
                ),
            )
        ),
        rate_limits=tuple(
            Setting(label, str(getattr(s, name)), name)
            for label, name in (
                ("Passkey requests, per address", "RATELIMIT_CEREMONY"),
                ("Sign-ups, per address", "RATELIMIT_SIGNUP"),
                ("Failed password or code entries, per address", "RATELIMIT_PASSWORD_IP"),
                ("Failed password or code entries, per account", "RATELIMIT_PASSWORD_ACCOUNT"),
                ("Exports of your data", "RATELIMIT_EXPORT"),
            )
        ),
        datasets=tuple(_dataset(s, inventory, table.name) for table in inventory.tables),
        notices=None if notices is None else tuple(notices),
        # From compliance/data-inventory.yaml, where the check holds it against the schema.
        never=tuple(
            entry.statement.format(address_hours=address_retention_seconds(s) // 3600)
            for entry in inventory.never_collected
        ),
        everything=tuple((name, _plain(value)) for name, value in s.public_view().items()),
    )


def _dataset(settings: Settings, inventory: Inventory, name: str) -> Dataset:
    table = inventory.table(name)
    retention = table.retention
    if table.retention_limit:
        value = humanise(table.retention_limit, getattr(settings, table.retention_limit))
        retention += f" Here: {value} (setting {table.retention_limit})."
    return Dataset(
        table=table.name,
        title=table.title,
        purpose=table.purpose,
        lawful_basis=inventory.lawful_bases[table.lawful_basis],
        retention=retention,
        items=tuple(
            Item(c.name, c.purpose, c.exported, c.reason) for c in table.columns if c.personal
        ),
    )


def _plain(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    return str(value) if value != "" else "(empty)"


def _on_off(value: bool) -> str:
    return "on" if value else "off"


def humanise(name: str, value: object) -> str:
    """A setting's value as people read it: ``1800`` seconds -> ``30 minutes``."""
    if isinstance(value, bool):
        return _on_off(value)
    if isinstance(value, int) and name.endswith("_DAYS"):
        return _plural(value, "day")
    if isinstance(value, int) and name.endswith("_SECONDS"):
        for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
            if value % size == 0:
                return _plural(value // size, unit)
        return _plural(value, "second")
    return str(value)


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


# --- rendering ---------------------------------------------------------------------------


def render_markdown(manifest: Manifest) -> str:
    m = manifest
    out = [
        f"# Privacy manifest: {m.service}",
        "",
        f"Generated from the configuration running at {m.origin} ({m.environment}). "
        "Every value below is read from that configuration, not typed by hand.",
        "",
        "## Features and kill switches",
        "",
        "| Feature | State | Setting | What it means |",
        "|---|---|---|---|",
        *(f"| {x.label} | {x.value} | `{x.setting}` | {x.meaning} |" for x in m.switches),
        "",
        "## Time limits and retention",
        "",
        "| | | Setting |",
        "|---|---|---|",
        *(f"| {x.label} | {x.value} | `{x.setting}` |" for x in m.limits),
        "",
        "## Rate limits",
        "",
        "| | | Setting |",
        "|---|---|---|",
        *(f"| {x.label} | {x.value} | `{x.setting}` |" for x in m.rate_limits),
        "",
        "## What is collected, why, and for how long",
        "",
    ]
    for d in m.datasets:
        out += [
            f"### {d.title} (`{d.table}`)",
            "",
            f"- Why: {d.purpose}",
            f"- Lawful basis: {d.lawful_basis}",
            f"- How long: {d.retention}",
            "",
            "| Field | What it is for | In your export |",
            "|---|---|---|",
            *(
                f"| `{i.name}` | {i.purpose} | {'yes' if i.exported else 'no: ' + i.reason} |"
                for i in d.items
            ),
            "",
        ]
    out += ["## Never collected", "", *(f"- {line}" for line in m.never), ""]
    out += ["## Consent notices", ""]
    if m.notices is None:
        out += ["The consent notices are not published by this version of the app yet.", ""]
    else:
        out += [
            "| Purpose | Version | Language | Published | Current | SHA-256 of the text |",
            "|---|---|---|---|---|---|",
            *(
                f"| `{n.purpose}` | {n.version} | {n.language} | {n.published} | "
                f"{'yes' if n.current else 'no'} | `{n.sha256}` |"
                for n in m.notices
            ),
            "",
        ]
    out += [
        "## Every setting",
        "",
        "All settings of this deployment except secrets and connection strings.",
        "",
        "| Setting | Value |",
        "|---|---|",
        *(f"| `{name}` | {value} |" for name, value in m.everything),
        "",
    ]
    return "\n".join(out)


_environment = Environment(
    loader=PackageLoader("authdemo.compliance", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"],
)
# The page in the app is translated (authdemo/i18n.py); the standalone file, made by the
# CLI for auditors, is in English, the language of the compliance pack it quotes.
_environment.policies["ext.i18n.trimmed"] = True
_environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]


def render_html(manifest: Manifest) -> str:
    """A self-contained HTML page (for publishing the manifest outside the app)."""
    return _environment.get_template("compliance/manifest_standalone.html").render(
        manifest=manifest
    )


def from_app_files(settings: Settings, pack: Path) -> Manifest:
    """Build the manifest from the running settings and the pack in ``pack``."""
    from authdemo.compliance import inventory

    return build(settings, inventory.load(pack), notice_source.load())
