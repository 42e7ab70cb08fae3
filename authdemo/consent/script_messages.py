"""What the consent pages' scripts may say, in the page's language.

The opt-in forms (static/js/consent-notice.js with account-passkeys.js, consent-add.js and
consent-signup.js) and the page after a withdrawal (consent-withdrawn.js) hold no words of
their own: each page sends its module's messages in its data block (``"messages"``,
docs/translating.md), next to the passkey ceremony's own
(authdemo/passkeys/script_messages.py). Templates take them with the template global
``consent_script_messages(module)``; a view that builds ``page_data`` itself calls
:func:`of`.
"""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_babel.speaklater import LazyString

#: What the opt-in box says when it was not ticked.
_TICK_FIRST = lazy_gettext("Please tick the box to agree to passkey sign-in first.")
#: Shown while the server checks the passkey the device just made.
_CHECKING = lazy_gettext("Checking your new passkey…")
_ADDED = lazy_gettext("Your new passkey is ready.")

#: By module (the file name in static/js/), then by the key the module asks for.
MODULE_MESSAGES: dict[str, dict[str, LazyString]] = {
    # The account's passkeys page: add another passkey.
    "account-passkeys": {
        "consentTickFirst": _TICK_FIRST,
        "passkeyChecking": _CHECKING,
        "passkeyAdded": _ADDED,
        "passkeysCannotCreateHere": lazy_gettext(
            "This browser can't create passkeys. You can add one from another device."
        ),
    },
    # The consent page (turn on passkey sign-in from a signed-in account) and the
    # recovery page (a new passkey after signing in with a recovery code).
    "consent-add": {
        "consentTickFirst": _TICK_FIRST,
        "passkeyAdded": _ADDED,
        "passkeysCannotBeUsed": lazy_gettext(
            "This browser can't use passkeys. Your password and one-time code still work."
        ),
    },
    # Sign-up, step 2: create the account's passkey.
    "consent-signup": {
        "consentTickFirstOrPassword": lazy_gettext(
            "Please tick the box to agree to passkey sign-in first, or choose the password option."
        ),
        "passkeyChecking": _CHECKING,
        "passkeyReadySigningIn": lazy_gettext("Your passkey is ready. Signing you in…"),
        "passkeysUsePasswordInstead": lazy_gettext(
            "This browser can't use passkeys. Please use a password and a one-time code instead."
        ),
    },
    # After a withdrawal: the browser is asked to stop offering the deleted passkeys.
    "consent-withdrawn": {
        "passkeysStillListed": lazy_gettext(
            "Your passkeys no longer work here. Your device may still list them: you can "
            "delete them in its passkey settings."
        ),
        "passkeysSignalSent": lazy_gettext(
            "Your browser was asked to stop offering your passkeys for this site."
        ),
    },
}


def of(*modules: str) -> dict[str, LazyString]:
    """The messages of these modules, in one mapping (a key means the same everywhere)."""
    return {key: text for module in modules for key, text in MODULE_MESSAGES[module].items()}
