"""Consent receipts on the web: the download, the offer after a decision, and the keys.

- ``POST /account/consent/receipts/<id>``: the person's receipt for one ledger row, as a
  file (``application/jose``). A POST because issuing one records which key signed it,
  and because the person chooses whether to include their username (unticked by default).
- After any consent decision the next page offers the receipt (``consent_receipt_offer``,
  called by templates/base.html), once; the privacy dashboard lists one per ledger row.
- ``GET /.well-known/jwks.json``: the public keys that verify receipts (RFC 7517 JWK Set).

See authdemo/receipts/service.py and docs/decisions/0027-consent-receipts.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, jsonify, request
from flask import session as cookie
from flask_login import current_user
from werkzeug.wrappers import Response

from authdemo import clock, current
from authdemo.consent import service as consent
from authdemo.extensions import db
from authdemo.models import User
from authdemo.receipts import service as receipts
from authdemo.receipts import wiring
from authdemo.sessions.auth import current_session, login_required

bp = Blueprint("receipts", __name__)

DOWNLOAD_FIELDS = frozenset({"csrf_token", "include_username"})
#: Cookie-session key: the receipt id (never the ledger row's number) of the last decision
#: a page offered. Flask's session cookie is signed, not encrypted: anyone holding it can
#: read it, and a row number would tell how many decisions the service has recorded
#: (docs/decisions/0027-consent-receipts.md, "Receipt id").
OFFERED_KEY = "receipt_offered"
#: A decision is offered on the next page only while it is this recent.
OFFER_WINDOW = timedelta(minutes=30)
#: https://www.iana.org/assignments/media-types: RFC 7515 §9.2.1, RFC 7517 §8.5.
JOSE_MEDIA_TYPE = "application/jose"
JWK_SET_MEDIA_TYPE = "application/jwk-set+json"


@bp.post("/account/consent/receipts/<receipt_id>")
@login_required
def download(receipt_id: str) -> Response:
    """Parse, issue (one use case: find the person's row, sign, note the key), commit."""
    consent.reject_unexpected(request.form.keys(), DOWNLOAD_FIELDS)
    user: User = current_user
    include = request.form.get("include_username")
    if include not in (None, "yes"):
        raise consent.UnexpectedField()
    receipt = receipts.issue(
        db.session,
        wiring.issuer(),
        user_id=user.id,
        wanted=receipt_id,
        username=user.username if include == "yes" else None,
        now=clock.now(),
    )
    db.session.commit()
    response = Response(receipt.token + "\n", mimetype=JOSE_MEDIA_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{receipt.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    """Public keys only; the current one and those that signed within the consent
    retention period (authdemo.receipts.service.published_keys)."""
    response = jsonify(wiring.published_keys(db.session, clock.now()))
    response.mimetype = JWK_SET_MEDIA_TYPE
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@dataclass(frozen=True, slots=True)
class Offer:
    receipt_id: str
    action: str


def consent_receipt_offer() -> Offer | None:
    """The person's latest consent decision, if it is recent and no page has offered its
    receipt yet in this browser session: the page that follows a decision offers it,
    whichever flow recorded it (sign-up, account page, renewal, withdrawal)."""
    active = current_session() if current_user.is_authenticated else None
    if active is None or active.restricted:
        return None
    latest = receipts.latest_of(db.session, active.user_id)
    if latest is None:
        return None
    if latest.occurred_at < clock.now() - OFFER_WINDOW:
        return None
    receipt_id = _receipt_id_of(latest.id)
    if cookie.get(OFFERED_KEY) == receipt_id:
        return None
    cookie[OFFERED_KEY] = receipt_id
    return Offer(receipt_id, latest.action)


@bp.app_context_processor
def _template_helpers() -> dict[str, object]:
    return {"consent_receipt_offer": consent_receipt_offer, "receipt_id_of": _receipt_id_of}


def _receipt_id_of(ledger_id: int) -> str:
    return receipts.receipt_id(current.keyed_hash(receipts.ID_PURPOSE), ledger_id)
