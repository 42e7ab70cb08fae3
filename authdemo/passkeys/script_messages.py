"""What a page that runs a passkey ceremony may say from its scripts.

static/js/webauthn.js explains a ceremony that ended with an error
(``explainCeremonyError``) and the page says what to do while the device asks. The words
are the page's, translated on the server: each page that runs a ceremony sends these in its
data block (``"messages"``, docs/translating.md); templates take them with the template
global ``ceremony_messages()``, a view that builds ``page_data`` itself imports them.
"""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_babel.speaklater import LazyString

#: By key, as static/js/webauthn.js, signin.js and reauth.js ask for them.
CEREMONY_MESSAGES: dict[str, LazyString] = {
    "followPrompt": lazy_gettext("Follow the prompt on your device…"),
    "ceremonyTimedOut": lazy_gettext("That took too long and timed out. Please try again."),
    "ceremonyNotCreated": lazy_gettext(
        "No passkey was created: the request was cancelled, or your device could not check "
        "that it's you. You can try again."
    ),
    "ceremonyNotFound": lazy_gettext(
        "The passkey request was cancelled, or no passkey for this site was found on this "
        "device. You can try again."
    ),
    "ceremonyStopped": lazy_gettext("The passkey request was stopped. You can try again."),
    "ceremonyAlreadyOnDevice": lazy_gettext(
        "This device already has a passkey for your account. You can use that one."
    ),
    "ceremonyWrongAddress": lazy_gettext(
        "Passkeys can't be used on this address. Please open the site at its usual address."
    ),
    "ceremonyUnsupported": lazy_gettext(
        "This browser or device can't create that kind of passkey."
    ),
    "ceremonyFailed": lazy_gettext("Something went wrong with the passkey. Please try again."),
}
