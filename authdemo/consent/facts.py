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

from authdemo.config import Settings
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


def from_settings(settings: Settings) -> DeploymentFacts:
    """The block for this deployment (from configuration, never from the request)."""
    kept = human_duration(settings.CONSENT_RETENTION_DAYS)
    declined = human_duration(settings.CONSENT_REASK_DAYS)
    # The periods flask retention purge applies (authdemo.privacy.service.
    # purge_consent_events): a "No thanks" only serves not asking again.
    return DeploymentFacts(
        (
            Fact("Who is responsible for your data", settings.CONTROLLER_NAME),
            Fact("How to contact them", settings.CONTROLLER_CONTACT),
            Fact(
                "How long we keep the record of your choice",
                f"If you agree or withdraw: {kept} after you do, and longer only while it "
                f"is still your latest choice and you have an account. If you say no: "
                f"{declined}, the time we don't ask you again. If you delete your account, "
                f"a record is kept for the rest of its time under a code instead of your "
                f"account, which only we can link back to you.",
            ),
        )
    )
