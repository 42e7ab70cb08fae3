"""The privacy notice a person reads where their data is collected (GDPR Art 13; CCPA
Cal. Civ. Code §1798.100(a) notice at collection), built from the running configuration.

Plain words for people: no table names, no setting names, periods in human units. The
technical manifest (``/privacy/manifest``) stays the auditors' view of the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass

from authdemo.config import Settings, is_placeholder
from authdemo.human_units import human_duration, human_seconds


@dataclass(frozen=True, slots=True)
class Period:
    what: str
    how_long: str


@dataclass(frozen=True, slots=True)
class PrivacyNotice:
    controller: str
    contact: str
    #: None when the deployment has no data protection officer ("none").
    dpo: str | None
    #: True while a contact is still the development placeholder (production refuses).
    unconfigured: bool
    retention: tuple[Period, ...]
    signed_in_for: str
    audit_for: str
    asked_again_after: str


def build(settings: Settings) -> PrivacyNotice:
    dpo = settings.DPO_CONTACT.strip()
    contacts = (settings.CONTROLLER_NAME, settings.CONTROLLER_CONTACT, settings.DPO_CONTACT)
    tombstone_days = max(settings.AUDIT_RETENTION_DAYS, settings.BACKUP_RETENTION_DAYS)
    retention = (
        Period(
            "Your account: username, display name, passkeys, password and authenticator app",
            "until you delete your account (or remove a passkey, password or app yourself)",
        ),
        Period(
            "Your sign-ins (sessions)",
            f"until you sign out, after {human_seconds(settings.SESSION_IDLE_SECONDS)} "
            f"without use, and at most {human_seconds(settings.SESSION_ABSOLUTE_SECONDS)}",
        ),
        Period(
            "An unfinished sign-up",
            human_seconds(settings.ENROLMENT_TIMEOUT_SECONDS),
        ),
        Period(
            "Security events (sign-ins, failed attempts, changes to your account)",
            f"{human_duration(settings.AUDIT_RETENTION_DAYS)}; the record that an account "
            f"was deleted, {human_duration(tombstone_days)}, so a deletion is not undone "
            "if we ever restore a backup",
        ),
        Period(
            "Your choices about passkeys",
            f"{human_duration(settings.CONSENT_RETENTION_DAYS)} after you make them, and "
            "longer only while a yes or a withdrawal is still your latest choice; a "
            f'"No thanks" only {human_duration(settings.CONSENT_REASK_DAYS)}',
        ),
        Period(
            'Problems you report with "Report a problem"',
            f"{human_duration(settings.COMPLAINT_RETENTION_DAYS)} after you send them, or "
            "until you delete your account if you were signed in",
        ),
        Period(
            "Counters that slow down repeated attempts",
            "at most a day, outside the database; they hold a code, not your name",
        ),
        Period(
            "Backups",
            f"up to {human_duration(settings.BACKUP_RETENTION_DAYS)}: what you delete "
            "leaves our backups when they expire",
        ),
    )
    return PrivacyNotice(
        controller=settings.CONTROLLER_NAME,
        contact=settings.CONTROLLER_CONTACT,
        dpo=None if dpo.lower() == "none" else dpo,
        unconfigured=any(is_placeholder(value) for value in contacts),
        retention=retention,
        signed_in_for=human_seconds(settings.SESSION_ABSOLUTE_SECONDS),
        audit_for=human_duration(settings.AUDIT_RETENTION_DAYS),
        asked_again_after=human_duration(settings.CONSENT_REASK_DAYS),
    )


#: Purposes and their lawful bases, as the notice states them (GDPR Art 13(1)(c), 15(1)(a)).
PURPOSES = (
    ("Creating your account and signing you in", "contract, GDPR Art 6(1)(b)"),
    ("Signing you in with a passkey, if you chose to", "your consent, GDPR Art 6(1)(a)"),
    (
        "Keeping accounts safe: security events and counters that slow down guessing",
        "legitimate interests, GDPR Art 6(1)(f)",
    ),
    (
        "Showing what you agreed to: the record of your choices about passkeys",
        "legal obligation, GDPR Art 6(1)(c) with Art 7(1)",
    ),
    (
        "Introducing passkeys step by step and fixing what goes wrong: the problems you "
        "report, counted with everyone's sign-ins (never by person)",
        "legitimate interests, GDPR Art 6(1)(f)",
    ),
)


def supplementary_information(settings: Settings, *, rights_url: str) -> dict[str, object]:
    """What GDPR Art 15(1)(a) to (h) and 15(2) add to a copy of the data, for the export.

    The same facts, in the same words, as the privacy notice (one source)."""
    notice = build(settings)
    return {
        "controller": {"name": notice.controller, "contact": notice.contact, "dpo": notice.dpo},
        "purposes": [{"purpose": p, "lawful_basis": basis} for p, basis in PURPOSES],
        "categories": [
            "account identifiers: username, optional display name, random ids",
            "how you sign in: passkey public keys and their facts, a password hash, an "
            "encrypted authenticator-app key, recovery-code hashes",
            "sessions, security events, and your choices about passkeys",
            "problems you reported while signed in: the kind of problem and what you wrote",
        ],
        "recipients": (
            "Nobody receives your data from us. Companies that host the service process it "
            "on our instructions. A synced passkey is stored by your passkey provider with "
            "your username and display name; your device sends it to them, not us."
        ),
        "transfers": "None by the application itself; see the privacy notice for our hosting.",
        "retention": [{"data": p.what, "kept": p.how_long} for p in notice.retention],
        "rights": (
            "You may ask us to correct, delete or restrict your data, and object to the "
            f"security record; most of it you can do yourself at {rights_url}. You may "
            "withdraw your consent to passkeys at any time."
        ),
        "complaint": (
            "You may complain to a data protection authority, in particular where you live "
            "or work or where you think the problem happened (GDPR Art 77)."
        ),
        "source": "You and your own device. We receive nothing about you from anyone else.",
        "automated_decisions": (
            "None with legal or similarly significant effects (GDPR Art 22). Repeated "
            "failed attempts are slowed down for a while, never locked out for good."
        ),
    }
