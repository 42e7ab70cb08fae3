"""Small request helpers shared by the JSON endpoints."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Response, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from authdemo import untrusted_json
from authdemo.errors import AuthDemoError, InvalidInput


class UnsupportedMediaType(AuthDemoError):
    status = 415
    slug = "unsupported-media-type"
    title = lazy_gettext("Please send JSON (Content-Type: application/json).")


def read_json_object() -> dict[str, Any]:
    """The request body as a JSON object, or a clear 4xx (never a 500), said in the
    request's language like every other refusal."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType()
    raw = request.get_data(cache=True)
    # An empty body is not JSON; our pages always send at least ``{}``.
    if not raw:
        raise InvalidInput(_("The request body must be a JSON object."))
    try:
        data = untrusted_json.loads(raw)
    except ValueError as exc:
        raise InvalidInput(_("The request body is not valid JSON.")) from exc
    if not isinstance(data, dict):
        raise InvalidInput(_("The request body must be a JSON object."))
    return data


def json_text(text: str, status: int = 200) -> Response:
    """Send already-serialised JSON (e.g. py_webauthn's options_to_json output)."""
    return Response(text, status=status, mimetype="application/json")


def safe_next(target: object, default: str) -> str:
    """Only local paths are allowed after sign-in (no open redirect; ASVS 5.0 V3.7)."""
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 0x20 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
