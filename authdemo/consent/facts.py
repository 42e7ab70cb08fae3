"""What a consent notice says that varies per deployment: the deployment-facts block.

A published notice text is pinned by its SHA-256 (compliance/notice-pins.json), so it
cannot name the organisation running this copy of the app or its retention periods,
which each deployment sets in configuration. Those facts are rendered beside the notice
as their own short block, hashed on their own, and the ledger records that hash beside
the notice's (``consent_events.facts_sha256``), so a record shows both what the notice
said and what the deployment said next to it (GDPR Art 7(1), Art 13(1)(a) and 13(2)(a);
EDPB Guidelines 05/2020 §3.3.1; docs/decisions/0017-pinned-notices-and-deployment-facts.md).

``flask compliance facts`` prints the block and its hash, so an operator can keep the
text each hash stands for with the configuration history.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import has_app_context
from flask_babel import force_locale

from authdemo.config import Settings
from authdemo.consent.notices import DEFAULT_LANGUAGE
from authdemo.human_units import human_duration


@dataclass(frozen=True, slots=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class DeploymentFacts:
    """The facts shown beside the notice, in the order a page shows them."""

    facts: tuple[Fact, ...]

    @property
    def text(self) -> str:
        """``label: value`` lines, as the hash covers them."""
        return "\n".join(f"{fact.label}: {fact.value}" for fact in self.facts)

    @property
    def sha256(self) -> str:
        """SHA-256 (lower-case hex) of :attr:`text` as UTF-8: what the ledger records."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class _Wording:
    """The block's words in one language: its labels, and the retention sentence with
    ``{kept}`` and ``{declined}`` for the periods."""

    controller: str
    contact: str
    retention: str
    kept: str


#: The block in every language a notice text is published in (authdemo/consent/notices.py):
#: it stands beside the notice, in the notice's language. Part of the consent wording, so
#: it lives here, not in the message catalogues; a change to it changes the facts hash that
#: later decisions record (``flask compliance facts --language``). Its periods are the one
#: thing said through the catalogues: by :func:`period`, in the words every page uses for
#: a period ("%(num)d year" -> "3 Jahre"), so a change to those words changes the hash too.
#: The German is a careful translation awaiting a native legal review (compliance/dpia.md,
#: open items).
WORDING = {
    "en": _Wording(
        controller="Who is responsible for your data",
        contact="How to contact them",
        retention="How long we keep the record of your choice",
        kept=(
            "If you agree or withdraw: {kept} after you do, and longer only while it is "
            "still your latest choice and you have an account. If you say no: {declined}, "
            "the time we don't ask you again. If you delete your account, a record is kept "
            "for the rest of its time under a code instead of your account, which only we "
            "can link back to you."
        ),
    ),
    "de": _Wording(
        controller="Verantwortlich für Ihre Daten",
        contact="So erreichen Sie den Verantwortlichen",
        retention="Wie lange wir den Nachweis Ihrer Entscheidung speichern",
        kept=(
            "Wenn Sie einwilligen oder widerrufen: {kept} danach, länger nur, solange dies "
            "Ihre letzte Entscheidung ist und Sie ein Konto haben. Wenn Sie ablehnen: "
            "{declined}, die Zeit, in der wir Sie nicht erneut fragen. Wenn Sie Ihr Konto "
            "löschen, wird ein Nachweis für den Rest dieser Zeit unter einem Code statt "
            "unter Ihrem Konto aufbewahrt, den nur wir Ihnen wieder zuordnen können."
        ),
    ),
}


def from_settings(settings: Settings, language: str = DEFAULT_LANGUAGE) -> DeploymentFacts:
    """The block for this deployment (from configuration, never from the request), in
    ``language``: the language of the notice text it stands beside."""
    words = WORDING[language]
    kept = period(settings.CONSENT_RETENTION_DAYS, language)
    declined = period(settings.CONSENT_REASK_DAYS, language)
    # The periods flask retention purge applies (authdemo.privacy.service.
    # purge_consent_events): a "No thanks" only serves not asking again.
    return DeploymentFacts(
        (
            Fact(words.controller, settings.CONTROLLER_NAME),
            Fact(words.contact, settings.CONTROLLER_CONTACT),
            Fact(words.retention, words.kept.format(kept=kept, declined=declined)),
        )
    )


def period(days: int, language: str) -> str:
    """A period in days as :mod:`authdemo.human_units` says it in ``language`` (the
    notice's, which need not be the request's): "3 years", "3 Jahre", "90 Tage".

    The words come from the app's message catalogues, so this needs an app context (the
    pages and ``flask compliance facts`` have one): outside one, Flask-Babel would say
    every period in English without a word, and a German block would hash differently."""
    if not has_app_context():
        raise RuntimeError("the facts block's periods are said through the app's catalogues")
    with force_locale(language):
        return human_duration(days)
