"""The privacy notice a person reads where their data is collected (GDPR Art 13; CCPA
Cal. Civ. Code §1798.100(a) notice at collection), built from the running configuration.

Plain words for people: no table names, no setting names, periods in human units. The
technical manifest (``/privacy/manifest``) stays the auditors' view of the same facts.

In the request's language (``gettext`` when built, so a page and an export made in German
say the same thing in the same words); outside a request, English.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext

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
            _("Your account: username, display name, passkeys, password and authenticator app"),
            _("until you delete your account (or remove a passkey, password or app yourself)"),
        ),
        Period(
            _("Your sign-ins (sessions)"),
            _(
                "until you sign out, after %(idle)s without use, and at most %(absolute)s",
                idle=human_seconds(settings.SESSION_IDLE_SECONDS),
                absolute=human_seconds(settings.SESSION_ABSOLUTE_SECONDS),
            ),
        ),
        Period(
            _("An unfinished sign-up"),
            human_seconds(settings.ENROLMENT_TIMEOUT_SECONDS),
        ),
        Period(
            _("Security events (sign-ins, failed attempts, changes to your account)"),
            _(
                "%(audit)s; the record that an account was deleted, %(tombstone)s, so a "
                "deletion is not undone if we ever restore a backup",
                audit=human_duration(settings.AUDIT_RETENTION_DAYS),
                tombstone=human_duration(tombstone_days),
            ),
        ),
        Period(
            _("Your choices about passkeys"),
            _(
                "%(kept)s after you make them, and longer only while a yes or a withdrawal "
                'is still your latest choice and you have an account; a "No thanks" only '
                "%(declined)s",
                kept=human_duration(settings.CONSENT_RETENTION_DAYS),
                declined=human_duration(settings.CONSENT_REASK_DAYS),
            ),
        ),
        Period(
            _('Problems you report with "Report a problem"'),
            _(
                "%(kept)s after you send them, or until you delete your account if you were "
                "signed in",
                kept=human_duration(settings.COMPLAINT_RETENTION_DAYS),
            ),
        ),
        Period(
            _("Counters that slow down repeated attempts"),
            _("at most a day, outside the database; they hold a code, not your name"),
        ),
        Period(
            # The selector's choice (authdemo/i18n.py): users.language when chosen signed
            # in, and a code in the session cookie, permanent only while signed in.
            _("The language you chose for the pages"),
            _(
                "on your account, if you chose it while signed in, until you change it or "
                "delete your account; in the cookie in your browser until you close the "
                "browser or, while you are signed in, up to %(absolute)s after your last visit",
                absolute=human_seconds(settings.SESSION_ABSOLUTE_SECONDS),
            ),
        ),
        Period(
            _("Backups"),
            _(
                "up to %(kept)s: what you delete leaves our backups when they expire",
                kept=human_duration(settings.BACKUP_RETENTION_DAYS),
            ),
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
    (
        lazy_gettext("Creating your account and signing you in"),
        lazy_gettext("contract, GDPR Art 6(1)(b)"),
    ),
    (
        lazy_gettext("Signing you in with a passkey, if you chose to"),
        lazy_gettext("your consent, GDPR Art 6(1)(a)"),
    ),
    (
        lazy_gettext("Showing the pages in the language you chose"),
        lazy_gettext("contract, GDPR Art 6(1)(b)"),
    ),
    (
        lazy_gettext("Keeping accounts safe: security events and counters that slow down guessing"),
        lazy_gettext("legitimate interests, GDPR Art 6(1)(f)"),
    ),
    (
        lazy_gettext("Showing what you agreed to: the record of your choices about passkeys"),
        lazy_gettext("legal obligation, GDPR Art 6(1)(c) with Art 7(1)"),
    ),
    (
        lazy_gettext(
            "Introducing passkeys step by step and fixing what goes wrong: the problems you "
            "report, counted with everyone's sign-ins (never by person)"
        ),
        lazy_gettext("legitimate interests, GDPR Art 6(1)(f)"),
    ),
)


def supplementary_information(settings: Settings, *, rights_url: str) -> dict[str, object]:
    """What GDPR Art 15(1)(a) to (h) and 15(2) add to a copy of the data, for the export.

    The same facts, in the same words, as the privacy notice (one source)."""
    notice = build(settings)
    return {
        "controller": {"name": notice.controller, "contact": notice.contact, "dpo": notice.dpo},
        "purposes": [{"purpose": str(p), "lawful_basis": str(basis)} for p, basis in PURPOSES],
        "categories": [
            _("account identifiers: username, optional display name, random ids"),
            _("the language you chose for the pages, if you chose one"),
            _(
                "how you sign in: passkey public keys and their facts, a password hash, an "
                "encrypted authenticator-app key, recovery-code hashes"
            ),
            _("sessions, security events, and your choices about passkeys"),
            _("problems you reported while signed in: the kind of problem and what you wrote"),
        ],
        "recipients": _(
            "Nobody receives your data from us. Companies that host the service process it "
            "on our instructions. A synced passkey is stored by your passkey provider with "
            "your username and display name; your device sends it to them, not us."
        ),
        "transfers": _("None by the application itself; see the privacy notice for our hosting."),
        "retention": [{"data": p.what, "kept": p.how_long} for p in notice.retention],
        "rights": _(
            "You may ask us to correct, delete or restrict your data, and object to the "
            "security record; most of it you can do yourself at %(url)s. You may "
            "withdraw your consent to passkeys at any time.",
            url=rights_url,
        ),
        "complaint": _(
            "You may complain to a data protection authority, in particular where you live "
            "or work or where you think the problem happened (GDPR Art 77)."
        ),
        "source": _("You and your own device. We receive nothing about you from anyone else."),
        "automated_decisions": _(
            "None with legal or similarly significant effects (GDPR Art 22). Repeated "
            "failed attempts are slowed down for a while, never locked out for good."
        ),
    }
