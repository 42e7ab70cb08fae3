"""The WebAuthn Signal API options this app sends to the browser (WebAuthn L3 §5.1.10).

The server tells the device (and the password manager holding the passkeys) what it
accepts now, so stale passkeys stop being offered and names stay current:

- ``signalAllAcceptedCredentials`` (§5.1.10.2): every credential the account accepts; the
  device may hide the others (an empty list after a withdrawal or an erasure).
- ``signalUnknownCredential`` (§5.1.10.1): this one credential is not known here.
- ``signalCurrentUserDetails`` (§5.1.10.3): the names the passkey picker shows.

The pages' script (static/js) passes these options unchanged to the browser.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from authdemo import base64url

ALL_ACCEPTED = "signalAllAcceptedCredentials"
UNKNOWN = "signalUnknownCredential"
USER_DETAILS = "signalCurrentUserDetails"


def all_accepted_credentials(
    *, rp_id: str, user_handle: bytes, credential_ids: Iterable[bytes]
) -> dict[str, Any]:
    return {
        "rpId": rp_id,
        "userId": base64url.encode(user_handle),
        "allAcceptedCredentialIds": [base64url.encode(c) for c in credential_ids],
    }


def unknown_credential(*, rp_id: str, credential_id: bytes) -> dict[str, Any]:
    return {"rpId": rp_id, "credentialId": base64url.encode(credential_id)}


def current_user_details(
    *, rp_id: str, user_handle: bytes, name: str, display_name: str
) -> dict[str, Any]:
    return {
        "rpId": rp_id,
        "userId": base64url.encode(user_handle),
        "name": name,
        "displayName": display_name,
    }


def call(method: str, options: dict[str, Any]) -> dict[str, Any]:
    """One call for a page's ``signals`` list: ``{"method": ..., "options": ...}``."""
    return {"method": method, "options": options}
