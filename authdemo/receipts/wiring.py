"""The receipts feature's collaborators, built from the running app's settings.

Routes and CLI commands call these and hand the result to ``receipts.service``, which
takes them explicitly and knows nothing of Flask.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from authdemo import current, i18n
from authdemo.receipts import service


def issuer() -> service.Issuer:
    """Who signs consent receipts, from configuration: the key derived from ``DATA_KEY``
    (required in production, so rotated with it), the keyed hashes for receipt ids and
    for the subject's pseudonym."""
    settings = current.settings()
    return service.Issuer(
        signing_key=service.SigningKey.from_master(settings.data_key_bytes),
        receipt_ids=current.keyed_hash(service.ID_PURPOSE),
        pseudonyms=current.keyed_hash(service.PSEUDONYM_PURPOSE),
        origin=settings.ORIGIN,
        service_name=settings.RP_NAME,
        controller_name=settings.CONTROLLER_NAME,
        controller_contact=settings.CONTROLLER_CONTACT,
        retention_days=settings.CONSENT_RETENTION_DAYS,
        decline_days=settings.CONSENT_REASK_DAYS,
        words_in=words_in,
    )


def words_in(language: str) -> service.Words:
    """A receipt's words in ``language`` (the notice's), from the app's catalogue for it,
    whatever language the request asks for; English when the app ships no catalogue for
    it (and then the receipt says it is in English). Needs the app context."""
    if language == i18n.SOURCE_LANGUAGE or not i18n.catalogue(language).is_file():
        return service.in_english(language)

    def say(message: str) -> str:
        with force_locale(language):
            return str(_(message))

    return service.Words(language, say)


def published_keys(session: Session, now: datetime) -> dict[str, Any]:
    """The JWK Set of the keys that verify receipts (``/.well-known/jwks.json``)."""
    signer = issuer()
    return service.published_keys(
        session, current=signer.signing_key, now=now, retention_days=signer.retention_days
    )
