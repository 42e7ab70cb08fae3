"""Typed settings read from ``AUTHDEMO_*`` environment variables.

Every switch, timeout, limit and retention period lives here with a safe default, so the
privacy manifest and the compliance documents can be generated from what actually runs.
Production mode refuses to start on unsafe values (fail fast, never fall back to a
development secret).
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from authdemo import jurisdictions

ENV_PREFIX = "AUTHDEMO_"

#: COSE algorithm identifiers offered at registration (ES256, EdDSA, RS256).
DEFAULT_ALGORITHMS = (-7, -8, -257)

MIN_SECRET_BYTES = 32


class ConfigError(RuntimeError):
    """The configuration is unsafe or malformed; the message says which setting and why."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the app can be told. Field names are the env var names minus the prefix."""

    ENV: str = "development"  # "development" | "production" | "testing"
    SECRET_KEY: str = ""
    #: 32-byte key (base64url) for secrets at rest (TOTP seeds), keyed HMACs and the
    #: Ed25519 key that signs consent receipts (each derived with HKDF for its purpose).
    DATA_KEY: str = ""
    #: Older data keys still accepted for decryption during key rotation (comma-separated).
    DATA_KEY_PREVIOUS: str = ""
    DATABASE_URL: str = ""
    #: SQLite only: "FULL" makes every commit durable on power loss; "NORMAL" in WAL mode
    #: is durable on application crash only. See docs/decisions/0006-sqlite-durability.md.
    SQLITE_SYNCHRONOUS: str = "FULL"

    RP_ID: str = "localhost"
    RP_NAME: str = "authdemo"
    ORIGIN: str = "http://localhost:5000"
    #: Other origins allowed to use this RP ID (WebAuthn L3 §5.11, Related Origin
    #: Requests), comma-separated; served at /.well-known/webauthn.
    RELATED_ORIGINS: str = ""
    ALGORITHMS: tuple[int, ...] = DEFAULT_ALGORITHMS
    CEREMONY_TIMEOUT_SECONDS: int = 300
    MAX_REQUEST_BYTES: int = 64 * 1024

    #: NIST SP 800-63B-4 §2.2.3 (AAL2): re-authenticate at least every 24 h and after at
    #: most 1 h of inactivity. Our defaults are stricter.
    SESSION_IDLE_SECONDS: int = 30 * 60
    SESSION_ABSOLUTE_SECONDS: int = 12 * 60 * 60
    STEP_UP_SECONDS: int = 5 * 60

    # --- password + one-time code (NIST SP 800-63B-4 §3.1.1, OWASP Password Storage) ---
    PASSWORD_MIN_LENGTH: int = 8  # multi-factor use; 15 if a password were used alone
    PASSWORD_MAX_LENGTH: int = 256  # NIST: accept at least 64
    ARGON2_MEMORY_KIB: int = 19456  # OWASP minimum for argon2id: m=19 MiB, t=2, p=1
    ARGON2_TIME_COST: int = 2
    ARGON2_PARALLELISM: int = 1
    TOTP_VALID_WINDOW: int = 1  # accept the previous and next 30-second step too
    RECOVERY_CODE_COUNT: int = 10
    ENROLMENT_TIMEOUT_SECONDS: int = 15 * 60

    # --- consent (GDPR Art 7, EDPB Guidelines 05/2020) and rollout ---
    #: Kill switches: enrolment of new passkeys / sign-in with passkeys.
    PASSKEY_ENROLMENT_ENABLED: bool = True
    PASSKEY_SIGNIN_ENABLED: bool = True
    #: The deployment's jurisdiction (e.g. "EU", "US-IL") and where passkeys are offered
    #: (comma-separated; empty = everywhere this deployment runs).
    JURISDICTION: str = ""
    PASSKEY_JURISDICTIONS: str = ""
    #: Optional header set by a trusted proxy with the visitor's country (no IP geolocation).
    COUNTRY_HEADER: str = ""
    #: Someone who declined passkeys is not asked again for this many days.
    CONSENT_REASK_DAYS: int = 90
    #: 0 = off. Otherwise people declare they are at least this old at sign-up.
    MINIMUM_AGE: int = 0

    # --- runtime switches, pilot cohort and guardrails (docs/rollout.md, decision 0022) ---
    #: How long a worker trusts its copy of the runtime switches (``flask passkeys
    #: pause|resume``, the guardrail evaluator): a change reaches every worker and
    #: instance within this many seconds. The environment switches above stay the
    #: start-up defaults: passkeys are on only where both say on.
    PASSKEY_SWITCH_CACHE_SECONDS: int = 5
    #: Share (0-100) of accounts and pending sign-ups offered passkey enrolment, chosen
    #: by a keyed hash of the account id (or of the username being signed up), never by
    #: personal attributes. Widening keeps everyone already in; narrowing disables nothing.
    PASSKEY_PILOT_PERCENT: int = 100
    #: Guardrails (``flask guardrails check``, authdemo/pilot/guardrails.py): each is
    #: judged over the last GUARDRAIL_WINDOW_HOURS (never before the last time passkey
    #: enrolment was resumed), only once its denominator reaches the minimum sample, and a
    #: breach pauses passkey enrolment (never sign-in). docs/rollout.md gives the reason
    #: for each default; tune them to your own baseline.
    GUARDRAIL_WINDOW_HOURS: int = 24
    #: Passkey sign-in success rate floor, in percent of passkey sign-in attempts.
    GUARDRAIL_PASSKEY_SUCCESS_MIN_PERCENT: int = 90
    GUARDRAIL_PASSKEY_SUCCESS_MIN_SAMPLE: int = 50
    #: Ceiling on browser-reported ceremony problems, in percent of passkey ceremonies
    #: (problems + passkeys created or used).
    GUARDRAIL_CEREMONY_PROBLEMS_MAX_PERCENT: int = 30
    GUARDRAIL_CEREMONY_PROBLEMS_MIN_SAMPLE: int = 50
    #: Ceiling on complaints per 1,000 successful sign-ins (any method).
    GUARDRAIL_COMPLAINTS_MAX_PER_MILLE: int = 10
    GUARDRAIL_COMPLAINTS_MIN_SAMPLE: int = 200
    #: Ceiling on lockouts (recovery-code sign-ins, operator recoveries) per 1,000
    #: successful sign-ins.
    GUARDRAIL_LOCKOUTS_MAX_PER_MILLE: int = 20
    GUARDRAIL_LOCKOUTS_MIN_SAMPLE: int = 200
    #: Ceiling on passkey consent withdrawals, in percent of passkey sign-ins.
    GUARDRAIL_WITHDRAWALS_MAX_PERCENT: int = 5
    GUARDRAIL_WITHDRAWALS_MIN_SAMPLE: int = 100

    # --- who is responsible (GDPR Art 13(1)(a); EDPB Guidelines 05/2020 §3.3.1) ---
    #: The controller's name and how to contact them, shown beside every consent notice
    #: in its deployment-facts block (authdemo/consent/facts.py), not in the pinned text.
    CONTROLLER_NAME: str = "[controller name: set AUTHDEMO_CONTROLLER_NAME]"
    CONTROLLER_CONTACT: str = "[contact: set AUTHDEMO_CONTROLLER_CONTACT]"
    #: The data protection officer's contact (GDPR Art 13(1)(b), "where applicable"), or
    #: "none" where no DPO is designated (Art 37). Shown on the privacy notice.
    DPO_CONTACT: str = "[DPO contact, or none: set AUTHDEMO_DPO_CONTACT]"

    # --- languages (decision 0028, docs/translating.md) ---
    #: The languages people can choose, comma-separated codes ("en,de"). English is the
    #: source language; every other one needs its catalogue in authdemo/translations/.
    #: A language is offered only once every page is translated into it (German is).
    LANGUAGES: str = "en,de"

    # --- retention (GDPR Art 5(1)(e)) ---
    AUDIT_RETENTION_DAYS: int = 90
    #: Consent records are kept to demonstrate consent (Art 7(1)) for this long after the
    #: event, also after erasure (pseudonymised).
    CONSENT_RETENTION_DAYS: int = 3 * 365
    #: The longest the deployer keeps any backup of the database. A restored backup brings
    #: back accounts erased after it was taken; their erasure records (``account.deleted``)
    #: are kept at least this long, whatever AUDIT_RETENTION_DAYS says, so that
    #: ``flask dsar reapply-erasures`` can erase them again (docs/dsar.md).
    BACKUP_RETENTION_DAYS: int = 35
    #: An account with no way in left (no passkey, no password + code: after a withdrawal)
    #: and no live session is erased this many days after its last activity, by
    #: ``flask retention purge`` (authdemo/ways_in.py, docs/decisions/0013-ways-in.md).
    NO_WAY_IN_ERASE_DAYS: int = 30
    #: What people send with the "Report a problem" form is deleted this many days after
    #: it arrives (long enough to read it and see a trend over a pilot's weeks).
    COMPLAINT_RETENTION_DAYS: int = 90

    #: Redis for state shared by several instances (e.g. redis://127.0.0.1:6379/0).
    REDIS_URL: str = ""
    #: Number of reverse proxies in front of the app whose X-Forwarded-* to trust.
    PROXY_HOPS: int = 0
    #: Bearer token for /metrics; empty means /metrics answers loopback clients only.
    METRICS_TOKEN: str = ""
    #: Where to report a security problem with this deployment: "mailto:", "https://" or
    #: "tel:" URIs, comma-separated, most preferred first (RFC 9116 §2.5.3). Served as
    #: /.well-known/security.txt; when empty there is no such file (404).
    SECURITY_CONTACT: str = ""
    #: Until when the contact is vouched for (RFC 9116 §2.5.5 "Expires"), an RFC 3339
    #: date-time such as 2027-06-30T00:00:00Z; required with SECURITY_CONTACT, less than a
    #: year after start-up. After it the file is still served, and readers treat it as stale.
    SECURITY_TXT_EXPIRES: str = ""

    #: Where rate-limit counters live: in this process ("memory-lazy://", see
    #: authdemo.extensions.LazyMemoryStorage), or Redis ("redis://...") for several instances.
    RATELIMIT_STORAGE_URI: str = "memory-lazy://"
    RATELIMIT_KEY_PREFIX: str = "authdemo"
    #: Off only for tests: production refuses to start without limits.
    RATELIMIT_ENABLED: bool = True
    RATELIMIT_CEREMONY: str = "30 per minute; 300 per hour"
    RATELIMIT_SIGNUP: str = "10 per minute; 100 per hour"
    #: Password, code and recovery-code entry, per client address and per account (hashed).
    RATELIMIT_PASSWORD_IP: str = "20 per minute; 100 per hour; 500 per day"  # noqa: S105
    RATELIMIT_PASSWORD_ACCOUNT: str = "5 per minute; 20 per hour; 100 per day"  # noqa: S105
    RATELIMIT_EXPORT: str = "5 per hour"
    #: Username/display-name changes per account (a taken username is itself a signal).
    RATELIMIT_PROFILE: str = "5 per minute; 20 per day"
    #: "Report a problem" form posts and ceremony-problem reports, per client address.
    RATELIMIT_COMPLAINT: str = "3 per 10 minutes; 10 per hour"
    RATELIMIT_CEREMONY_PROBLEM: str = "30 per minute; 300 per hour"

    #: Serve the session cookie as ``__Host-authdemo`` with ``Secure``. On by default in
    #: production; a plain name on http://localhost in development.
    SECURE_COOKIES: bool = False

    @property
    def is_production(self) -> bool:
        return self.ENV == "production"

    @property
    def uses_redis(self) -> bool:
        """Redis holds shared state (REDIS_URL) or the rate-limit counters."""
        return bool(self.REDIS_URL) or self.RATELIMIT_STORAGE_URI.startswith(("redis", "rediss"))

    @property
    def security_contacts(self) -> list[str]:
        return [c.strip() for c in self.SECURITY_CONTACT.split(",") if c.strip()]

    @property
    def security_txt_expires(self) -> datetime | None:
        """SECURITY_TXT_EXPIRES as an aware datetime (None when unset)."""
        if not self.SECURITY_TXT_EXPIRES:
            return None
        try:
            parsed = datetime.fromisoformat(self.SECURITY_TXT_EXPIRES.strip())
        except ValueError as exc:
            raise ConfigError(
                f"{ENV_PREFIX}SECURITY_TXT_EXPIRES must be an RFC 3339 date-time, "
                "e.g. 2027-06-30T00:00:00Z"
            ) from exc
        if parsed.tzinfo is None:
            raise ConfigError(f"{ENV_PREFIX}SECURITY_TXT_EXPIRES needs a time zone, e.g. Z")
        return parsed

    @property
    def languages(self) -> tuple[str, ...]:
        """LANGUAGES as checked codes, in the order listed (authdemo.i18n)."""
        from authdemo.i18n import parse_languages

        return parse_languages(self.LANGUAGES)

    @property
    def related_origins(self) -> list[str]:
        return [o.strip() for o in self.RELATED_ORIGINS.split(",") if o.strip()]

    @property
    def data_key_bytes(self) -> bytes:
        return _decode_key(self.DATA_KEY, "DATA_KEY")

    @property
    def previous_data_keys(self) -> tuple[bytes, ...]:
        return tuple(
            _decode_key(k.strip(), "DATA_KEY_PREVIOUS")
            for k in self.DATA_KEY_PREVIOUS.split(",")
            if k.strip()
        )

    def public_view(self) -> dict[str, Any]:
        """The settings without secrets: safe to show in the privacy manifest."""
        hidden = {
            "SECRET_KEY",
            "DATA_KEY",
            "DATA_KEY_PREVIOUS",
            "DATABASE_URL",
            "REDIS_URL",
            "METRICS_TOKEN",
            "RATELIMIT_STORAGE_URI",
        }
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in hidden}


def _decode_key(value: str, name: str) -> bytes:
    from authdemo import base64url

    # A garbled or standard-base64 key is refused, not half-read (authdemo.base64url).
    try:
        raw = base64url.decode(value)
    except ValueError as exc:
        raise ConfigError(f"{ENV_PREFIX}{name} must be base64url") from exc
    if len(raw) != 32:
        raise ConfigError(f"{ENV_PREFIX}{name} must decode to exactly 32 bytes")
    return raw


def _coerce(name: str, raw: object, target: Any) -> Any:
    """Convert an env string (or a test override) to the field's declared type."""
    if not isinstance(raw, str):
        return raw
    try:
        if target == "bool":
            lowered = raw.strip().lower()
            if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                raise ValueError(raw)
            return lowered in {"1", "true", "yes", "on"}
        if target == "int":
            return int(raw)
        if target == "tuple[int, ...]":
            return tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise ConfigError(f"{ENV_PREFIX}{name} has an invalid value {raw!r}") from exc
    return raw


#: Settings that were removed, and why. Starting with one of them set fails, so that an
#: operator who relied on it learns what replaced it instead of it being silently ignored.
RETIRED: dict[str, str] = {
    "CEREMONY_STORE": (
        "passkey challenges now travel sealed in the browser's cookie, and their single use "
        "is recorded in the database with the sign-in, on every deployment "
        "(docs/decisions/0019-sealed-challenges.md). Remove it; Redis is still used for "
        "rate limits."
    ),
}


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    instance_path: str | os.PathLike[str] | None = None,
) -> Settings:
    """Build settings from the environment, then ``overrides`` (used by tests), then validate."""
    environ = os.environ if environ is None else environ
    for name, why in RETIRED.items():
        if ENV_PREFIX + name in environ or name in (overrides or {}):
            raise ConfigError(f"{ENV_PREFIX}{name} is no longer a setting: {why}")
    values: dict[str, Any] = {}
    known = {f.name: f.type for f in fields(Settings)}
    for name, type_name in known.items():
        if ENV_PREFIX + name in environ:
            values[name] = _coerce(name, environ[ENV_PREFIX + name], type_name)
    for name, value in (overrides or {}).items():
        if name not in known:
            raise ConfigError(f"unknown setting {name!r}")
        values[name] = _coerce(name, value, known[name])

    settings = Settings(**values)
    if settings.ENV not in {"development", "production", "testing"}:
        raise ConfigError(f"{ENV_PREFIX}ENV must be development, production or testing")
    if settings.is_production:
        settings = dataclasses.replace(settings, SECURE_COOKIES=True)
        validate_production(settings)
    else:
        settings = _fill_development_defaults(settings, instance_path)
    validate_common(settings)
    return settings


def _fill_development_defaults(settings: Settings, instance_path: Any) -> Settings:
    """Development gets secrets generated once into ``instance/`` (never a shared constant)."""
    updates: dict[str, Any] = {}
    if instance_path is not None:
        folder = Path(instance_path)
        if not settings.DATABASE_URL:
            updates["DATABASE_URL"] = f"sqlite:///{folder / 'authdemo.sqlite3'}"
        if not settings.SECRET_KEY or not settings.DATA_KEY:
            stored = _development_secrets(folder)
            updates.setdefault("SECRET_KEY", settings.SECRET_KEY or stored["SECRET_KEY"])
            updates.setdefault("DATA_KEY", settings.DATA_KEY or stored["DATA_KEY"])
    return dataclasses.replace(settings, **updates)


def _development_secrets(folder: Path) -> dict[str, str]:
    """Read the development secrets, or create them once, readable by the owner only.

    The file is created with mode 0600 by ``os.open`` (no moment when another user could
    open it) under a temporary name, then linked into place: two processes starting at
    once both end up with the first one's secrets, never a half-written file."""
    path = folder / "dev-secrets.json"
    if not path.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fresh = {"SECRET_KEY": secrets.token_urlsafe(48), "DATA_KEY": secrets.token_urlsafe(32)}
        draft = folder / f".dev-secrets-{secrets.token_hex(8)}.json"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as file:
                json.dump(fresh, file)
            with contextlib.suppress(FileExistsError):  # another process was first
                os.link(draft, path)
        finally:
            draft.unlink()
    stored: dict[str, str] = json.loads(path.read_text())
    return stored


def validate_common(settings: Settings) -> None:
    if not settings.DATABASE_URL:
        raise ConfigError(f"{ENV_PREFIX}DATABASE_URL is required")
    if settings.CEREMONY_TIMEOUT_SECONDS <= 0 or settings.CEREMONY_TIMEOUT_SECONDS > 600:
        raise ConfigError(f"{ENV_PREFIX}CEREMONY_TIMEOUT_SECONDS must be between 1 and 600")
    for name in (
        "SESSION_IDLE_SECONDS",
        "SESSION_ABSOLUTE_SECONDS",
        "STEP_UP_SECONDS",
        "ENROLMENT_TIMEOUT_SECONDS",
        "AUDIT_RETENTION_DAYS",
        "CONSENT_RETENTION_DAYS",
        "BACKUP_RETENTION_DAYS",
        "NO_WAY_IN_ERASE_DAYS",
        "RECOVERY_CODE_COUNT",
        "PASSKEY_SWITCH_CACHE_SECONDS",
        "COMPLAINT_RETENTION_DAYS",
        "GUARDRAIL_WINDOW_HOURS",
        "GUARDRAIL_PASSKEY_SUCCESS_MIN_SAMPLE",
        "GUARDRAIL_CEREMONY_PROBLEMS_MIN_SAMPLE",
        "GUARDRAIL_COMPLAINTS_MIN_SAMPLE",
        "GUARDRAIL_LOCKOUTS_MIN_SAMPLE",
        "GUARDRAIL_WITHDRAWALS_MIN_SAMPLE",
    ):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{ENV_PREFIX}{name} must be positive")
    if not 0 <= settings.PASSKEY_PILOT_PERCENT <= 100:
        raise ConfigError(f"{ENV_PREFIX}PASSKEY_PILOT_PERCENT must be between 0 and 100")
    for name in (
        "GUARDRAIL_PASSKEY_SUCCESS_MIN_PERCENT",
        "GUARDRAIL_CEREMONY_PROBLEMS_MAX_PERCENT",
        "GUARDRAIL_WITHDRAWALS_MAX_PERCENT",
    ):
        if not 0 <= getattr(settings, name) <= 100:
            raise ConfigError(f"{ENV_PREFIX}{name} must be between 0 and 100")
    for name in ("GUARDRAIL_COMPLAINTS_MAX_PER_MILLE", "GUARDRAIL_LOCKOUTS_MAX_PER_MILLE"):
        if not 0 <= getattr(settings, name) <= 1000:
            raise ConfigError(f"{ENV_PREFIX}{name} must be between 0 and 1000")
    if settings.PASSKEY_SWITCH_CACHE_SECONDS > 60:
        # A pause must reach every worker within a minute (docs/rollout.md).
        raise ConfigError(f"{ENV_PREFIX}PASSKEY_SWITCH_CACHE_SECONDS must be at most 60")
    if settings.NO_WAY_IN_ERASE_DAYS > settings.AUDIT_RETENTION_DAYS:
        # The purge dates an account's last activity from its audit trail.
        raise ConfigError(f"{ENV_PREFIX}NO_WAY_IN_ERASE_DAYS must not exceed AUDIT_RETENTION_DAYS")
    if settings.CONSENT_REASK_DAYS > settings.CONSENT_RETENTION_DAYS:
        # A "No thanks" is kept for the re-ask period and every other choice at least for
        # the retention period: the notice, the facts block and each receipt say so, and the
        # purge keeps a superseded or erased decline no longer than the retention period.
        raise ConfigError(
            f"{ENV_PREFIX}CONSENT_REASK_DAYS must not exceed {ENV_PREFIX}CONSENT_RETENTION_DAYS"
        )
    if settings.SESSION_IDLE_SECONDS > settings.SESSION_ABSOLUTE_SECONDS:
        raise ConfigError(
            f"{ENV_PREFIX}SESSION_IDLE_SECONDS must not exceed SESSION_ABSOLUTE_SECONDS"
        )
    if settings.PASSWORD_MIN_LENGTH < 8 or settings.PASSWORD_MAX_LENGTH < 64:
        raise ConfigError(
            f"{ENV_PREFIX}PASSWORD_MIN_LENGTH must be at least 8 and "
            "PASSWORD_MAX_LENGTH at least 64 (NIST SP 800-63B-4)"
        )
    if settings.ARGON2_MEMORY_KIB < 19456 and settings.ENV != "testing":
        raise ConfigError(f"{ENV_PREFIX}ARGON2_MEMORY_KIB must be at least 19456 (OWASP)")
    if settings.SQLITE_SYNCHRONOUS not in {"FULL", "NORMAL", "EXTRA"}:
        raise ConfigError(f"{ENV_PREFIX}SQLITE_SYNCHRONOUS must be FULL, NORMAL or EXTRA")
    if not settings.ALGORITHMS or set(settings.ALGORITHMS) - set(DEFAULT_ALGORITHMS):
        raise ConfigError(f"{ENV_PREFIX}ALGORITHMS must be a subset of -7, -8, -257")
    if settings.DATA_KEY:
        settings.data_key_bytes  # noqa: B018 - validates the encoding and length
        settings.previous_data_keys  # noqa: B018
    settings.languages  # noqa: B018 - fails fast on an unknown language code
    validate_rp(settings.RP_ID, settings.ORIGIN, require_https=settings.is_production)
    for related in settings.related_origins:
        validate_origin(related, require_https=settings.is_production, name="RELATED_ORIGINS")
    if settings.PROXY_HOPS < 0 or settings.PROXY_HOPS > 5:
        raise ConfigError(f"{ENV_PREFIX}PROXY_HOPS must be between 0 and 5")
    validate_security_contact(settings, now=datetime.now(UTC))


#: RFC 9116 §2.5.3: a Contact is a URI; a web URI MUST begin with "https://". No space or
#: control character, so a value can never start another line (another field) of the file.
_SECURITY_CONTACT = re.compile(r"(?:mailto:|https://|tel:)[^\s,]+")


def validate_security_contact(settings: Settings, *, now: datetime) -> None:
    contacts = settings.security_contacts
    expires = settings.security_txt_expires
    for contact in contacts:
        if not _SECURITY_CONTACT.fullmatch(contact):
            raise ConfigError(
                f"{ENV_PREFIX}SECURITY_CONTACT must be mailto:, https:// or tel: URIs "
                "(RFC 9116 §2.5.3), comma-separated"
            )
    if contacts and expires is None:
        raise ConfigError(f"{ENV_PREFIX}SECURITY_CONTACT needs {ENV_PREFIX}SECURITY_TXT_EXPIRES")
    if expires is not None and not contacts:
        raise ConfigError(f"{ENV_PREFIX}SECURITY_TXT_EXPIRES needs {ENV_PREFIX}SECURITY_CONTACT")
    if expires is not None and expires - now >= timedelta(days=365):
        # RFC 9116 §2.5.5 recommends less than a year, so a forgotten file goes stale.
        raise ConfigError(
            f"{ENV_PREFIX}SECURITY_TXT_EXPIRES must be less than a year from now (RFC 9116 §2.5.5)"
        )
    _validate_places(settings)


def _validate_places(settings: Settings) -> None:
    """ISO 3166-1 codes only: a place no proxy sends would never match (e.g. UK for GB)."""
    for name in ("JURISDICTION", "PASSKEY_JURISDICTIONS"):
        for place in jurisdictions.parse_places(getattr(settings, name)):
            problem = jurisdictions.problem_with(place)
            if problem is not None:
                raise ConfigError(f"{ENV_PREFIX}{name}: {problem}")


#: Settings a person reads on the privacy notice; their defaults are placeholders.
PUBLISHED_CONTACTS = ("CONTROLLER_NAME", "CONTROLLER_CONTACT", "DPO_CONTACT")


def is_placeholder(value: str) -> bool:
    """A default such as "[contact: set AUTHDEMO_CONTROLLER_CONTACT]", or nothing."""
    text = value.strip()
    return not text or (text.startswith("[") and f"set {ENV_PREFIX}" in text)


def validate_production(settings: Settings) -> None:
    """Fail fast on anything that would make a production deployment unsafe."""
    for name in PUBLISHED_CONTACTS:
        # GDPR Art 13(1)(a) and (b): the notice at collection names who is responsible
        # and how to reach them; a placeholder would be a false notice.
        if is_placeholder(getattr(settings, name)):
            raise ConfigError(
                f"{ENV_PREFIX}{name} is still a placeholder: the privacy notice must name "
                "the controller and how to reach them (and the DPO, or say none)"
            )
    if len(settings.SECRET_KEY.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"{ENV_PREFIX}SECRET_KEY is missing or shorter than {MIN_SECRET_BYTES} bytes; "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    if not settings.DATA_KEY:
        raise ConfigError(
            f"{ENV_PREFIX}DATA_KEY is missing (it encrypts secrets at rest and signs consent "
            "receipts); generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    if settings.DATA_KEY == settings.SECRET_KEY:
        raise ConfigError(f"{ENV_PREFIX}DATA_KEY must differ from SECRET_KEY")
    if not settings.RATELIMIT_ENABLED:
        # The limits are what stop password, code and recovery-code guessing (NIST SP
        # 800-63B-4 §3.2.2, authdemo/fallback/throttle.py) and sign-up floods.
        raise ConfigError(
            f"{ENV_PREFIX}RATELIMIT_ENABLED is off: nothing would stop password, code and "
            "recovery-code guessing. It is for tests only; remove it in production"
        )


def validate_origin(origin: str, *, require_https: bool, name: str = "ORIGIN") -> str:
    """Check one origin setting; return its host."""
    parts = urlsplit(origin)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"{ENV_PREFIX}{name} must be an absolute http(s) origin, got {origin!r}")
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise ConfigError(f"{ENV_PREFIX}{name} must be an origin (no path, query or fragment)")
    # clientDataJSON.origin is compared byte for byte (WebAuthn L3 §7.1 step 9, §7.2 step
    # 13), so the setting must be the browser's serialisation of the origin (HTML "ASCII
    # serialization of an origin"): lower case, no trailing slash, no default port.
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{ENV_PREFIX}{name} has an invalid port") from exc
    canonical = f"{parts.scheme}://{parts.hostname}"
    if port is not None and port != {"http": 80, "https": 443}[parts.scheme]:
        canonical += f":{port}"
    if origin != canonical:
        raise ConfigError(
            f"{ENV_PREFIX}{name} must be written as browsers send it: {canonical!r}, not {origin!r}"
        )
    if require_https and parts.scheme != "https":
        raise ConfigError(f"{ENV_PREFIX}{name} must use https in production")
    if parts.scheme == "http" and parts.hostname != "localhost":
        raise ConfigError(f"{ENV_PREFIX}{name} may use http only on localhost")
    assert parts.hostname is not None
    return parts.hostname


def validate_rp(rp_id: str, origin: str, *, require_https: bool) -> None:
    """The RP ID must be the origin's host or a registrable suffix of it (WebAuthn L3 §5.1.3).

    "Registrable suffix" is judged without the Public Suffix List: we refuse a bare
    single-label RP ID other than ``localhost`` (e.g. ``com``), which is the common mistake.
    """
    host = validate_origin(origin, require_https=require_https)
    # An RP ID is a domain (§5.1.3 "valid domain string"); browsers refuse WebAuthn on an
    # IP address, so such a deployment would fail every ceremony.
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        raise ConfigError(f"{ENV_PREFIX}ORIGIN must use a domain name, not an IP address")
    rp = rp_id.lower()
    if not rp or rp != rp_id.strip() or rp.startswith(".") or rp.endswith("."):
        raise ConfigError(f"{ENV_PREFIX}RP_ID {rp_id!r} is not a valid domain")
    if rp != host and not host.endswith("." + rp):
        raise ConfigError(
            f"{ENV_PREFIX}RP_ID {rp_id!r} is neither the origin's host {host!r} "
            "nor a registrable suffix of it"
        )
    if "." not in rp and rp != "localhost":
        raise ConfigError(f"{ENV_PREFIX}RP_ID {rp_id!r} is a public suffix, not a site")


def flask_config(settings: Settings) -> dict[str, Any]:
    """The subset of Flask's own config keys derived from our settings."""
    cookie_name = "__Host-authdemo" if settings.SECURE_COOKIES else "authdemo"
    return {
        "SECRET_KEY": settings.SECRET_KEY,
        "MAX_CONTENT_LENGTH": settings.MAX_REQUEST_BYTES,
        "SESSION_COOKIE_NAME": cookie_name,
        "SESSION_COOKIE_SECURE": settings.SECURE_COOKIES,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_PATH": "/",
        "SESSION_COOKIE_DOMAIN": None,
        "PERMANENT_SESSION_LIFETIME": settings.SESSION_ABSOLUTE_SECONDS,
        "TESTING": settings.ENV == "testing",
        # Errors become responses in tests too, through the same handlers as production.
        "PROPAGATE_EXCEPTIONS": False,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        # Flask-WTF's Referer check is replaced by an Origin check that works whatever the
        # Referrer-Policy (authdemo/csrf.py, docs/decisions/0014).
        "WTF_CSRF_SSL_STRICT": False,
        "RATELIMIT_ENABLED": settings.RATELIMIT_ENABLED,
        "RATELIMIT_STORAGE_URI": settings.RATELIMIT_STORAGE_URI,
        "RATELIMIT_KEY_PREFIX": settings.RATELIMIT_KEY_PREFIX,
        # Retry-After on 429 only (set by the error handler), not on every response.
        "RATELIMIT_HEADERS_ENABLED": False,
        "RATELIMIT_STRATEGY": "moving-window",
    }
