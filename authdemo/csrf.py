"""Cross-site request forgery: the session's token, and where the request came from.

Two checks on every state-changing request (POST, PUT, PATCH, DELETE), both of which must
pass (docs/decisions/0014-referrer-policy-and-origin-check.md):

1. Flask-WTF's synchronizer token, bound to the session, in the form field or the
   ``X-CSRFToken`` header (OWASP CSRF Prevention Cheat Sheet, "Synchronizer Token
   Pattern"; ASVS 5.0 V3.5).
2. The request's origin, from the headers a browser sets itself and a page cannot forge
   (the Fetch standard's "forbidden request-headers"): ``Origin`` must be one of this
   site's configured origins; without ``Origin``, ``Sec-Fetch-Site`` must not say another
   site. A request with neither comes from something that is not a browser, which holds
   no victim's cookie; the token alone decides (OWASP cheat sheet, "Verifying Origin With
   Standard Headers" and "Fetch Metadata headers").

It replaces Flask-WTF's own ``WTF_CSRF_SSL_STRICT`` check, which demands a ``Referer``:
privacy settings and extensions remove that header, and the ``Referrer-Policy`` a site
chooses decides whether browsers send it at all.
"""

from __future__ import annotations

from collections.abc import Collection

from flask import Flask, Response, current_app, g, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_wtf.csrf import CSRFProtect

#: ``Sec-Fetch-Site`` values that say the request did not come from another site's page:
#: this origin, or the person themselves (address bar, bookmark).
_OWN_FETCH_SITES = frozenset({"same-origin", "none"})


def foreign_origin(
    *, origin: str | None, fetch_site: str | None, allowed: Collection[str]
) -> str | None:
    """Why a state-changing request with these ``Origin`` and ``Sec-Fetch-Site`` headers
    (None when absent) comes from another site, or None.

    ``allowed`` holds the exact origins browsers send for this site (``ORIGIN`` and
    ``RELATED_ORIGINS``, written as browsers serialise them: config.validate_origin).
    ``Origin: null`` is refused: browsers send it from sandboxed frames, ``data:`` and
    ``file:`` pages and after cross-origin redirects, all of which another site can
    arrange.
    """
    if origin is not None:
        return None if origin in allowed else "The request's origin is not this site."
    if fetch_site is not None and fetch_site not in _OWN_FETCH_SITES:
        return "The request was sent by another site."
    return None


class OriginCheckingCSRFProtect(CSRFProtect):  # type: ignore[misc]  # flask_wtf is untyped
    """Flask-WTF's token check followed by :func:`foreign_origin` on the same requests.

    Exemptions (``csrf.exempt``) and the methods checked are Flask-WTF's, so both checks
    always cover exactly the same routes."""

    def protect(self, apply_exemptions: bool = False) -> None:
        g.pop("csrf_valid", None)  # set by the check below, for this request only
        settings = current_app.extensions["authdemo.settings"]
        refusal = foreign_origin(
            origin=request.headers.get("Origin"),
            fetch_site=request.headers.get("Sec-Fetch-Site"),
            allowed={settings.ORIGIN, *settings.related_origins},
        )
        if refusal is not None:
            # Whatever the token check says, the answer must leave the browser's cookie
            # alone: a SameSite=Lax cookie is not sent on another site's POST, so a fresh
            # cookie set by the refusal page would replace (sign out) the person's own.
            g.foreign_request = True
        super().protect(apply_exemptions=apply_exemptions)
        if not g.get("csrf_valid"):
            return  # a safe method or an exempt view: Flask-WTF checked nothing either
        if refusal is not None:
            g.csrf_valid = False
            self._error_response(refusal)


class ForeignRequestsKeepTheCookie(SecureCookieSessionInterface):
    """Flask's signed-cookie session, except that an answer to a state-changing request
    from another site (:func:`foreign_origin`) neither sets nor deletes the cookie: the
    browser did not send the person's cookie with it, so anything written would replace
    theirs, letting any site sign people out (a "forced logout")."""

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if g.get("foreign_request"):
            return
        super().save_session(app, session, response)
