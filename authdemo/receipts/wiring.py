"""The receipts feature's collaborators, built from the running app's settings.

Routes and CLI commands call these and hand the result to ``receipts.service``, which
takes them explicitly and knows nothing of Flask.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from authdemo import current
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
    )


def published_keys(session: Session, now: datetime) -> dict[str, Any]:
    """The JWK Set of the keys that verify receipts (``/.well-known/jwks.json``)."""
    signer = issuer()
    return service.published_keys(
        session, current=signer.signing_key, now=now, retention_days=signer.retention_days
    )
