"""What the scripts of the password + code pages may say, by module of static/js/.

The words are the page's, translated on the server: a template sends a module's messages
in its data block with the template global ``fallback_messages(module, ...)``
(docs/translating.md).
"""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_babel.speaklater import LazyString

#: By module, then by key as the module asks for it.
MODULE_MESSAGES: dict[str, dict[str, LazyString]] = {
    "password-fields": {
        "showPassword": lazy_gettext("Show password"),
        "hidePassword": lazy_gettext("Hide password"),
    },
    "copy-key": {
        "keyCopied": lazy_gettext("Key copied. Paste it into your authenticator app."),
        "keyNotCopied": lazy_gettext(
            "Your browser didn't allow copying. Please select the key and copy it."
        ),
    },
    "recovery-codes": {
        # Translators: the first lines of the recovery codes' text file; %(account)s is
        # "alice at authdemo" (or the site's name alone), %(host)s its address.
        "codesFileTitle": lazy_gettext(
            "Recovery codes for %(account)s (%(host)s)\nEach code works once."
        ),
        # Translators: whose codes they are, in the text file: "alice at authdemo".
        "codesAccount": lazy_gettext("%(username)s at %(site)s"),
        "codesCopied": lazy_gettext(
            "Copied. Paste them somewhere safe, such as your password manager."
        ),
        "codesNotCopied": lazy_gettext(
            "Your browser didn't allow copying. Please select the codes and copy them."
        ),
        "codesDownloaded": lazy_gettext("Downloaded. Keep the file somewhere safe."),
    },
}


def of(*modules: str) -> dict[str, LazyString]:
    """The messages of these modules, in one mapping (their keys never overlap)."""
    return {key: text for module in modules for key, text in MODULE_MESSAGES[module].items()}
