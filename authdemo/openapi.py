"""The OpenAPI 3.1 description of the JSON endpoints, served at ``/openapi.json``.

The document is data (``authdemo/data/openapi.json``) so it can be read and reviewed as
it is; four things are filled in when it is served, so it always describes the running
app rather than a copy that could drift:

- the session cookie's name (``__Host-authdemo`` in production, ``authdemo`` otherwise);
- the current passkey notice (version and SHA-256 of its exact text): the only consent
  a client can send to start a passkey enrolment;
- the ceremonies and error names a page may report (``authdemo/pilot/signals.py``, the
  lists the server checks a report against);
- the JSON Schema of the personal data export (``authdemo/data/export.schema.json``),
  the same file the export tests validate against.

``tests/functional/test_openapi.py`` checks the document against ``app.url_map`` and
``tests/fuzz/test_schemathesis.py`` fuzzes the live app from it.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Sequence
from importlib.resources import files
from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from authdemo.consent.notices import PASSKEY_SIGNIN, Notice
from authdemo.consent.web import notice_book
from authdemo.extensions import limiter
from authdemo.pilot.signals import CEREMONIES, ERROR_NAMES

bp = Blueprint("openapi", __name__)

_DATA = files("authdemo") / "data"
_EXPORT_SCHEMA_NAME = "PersonalDataExport"


@functools.cache
def _load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((_DATA / name).read_text(encoding="utf-8"))
    return document


def export_schema() -> dict[str, Any]:
    """The export's JSON Schema, with its ``#/$defs/...`` references made to work from
    inside the OpenAPI document (where ``#`` is the document's root)."""
    schema = copy.deepcopy(_load("export.schema.json"))
    # The schema's own identity stays with the standalone file; embedded, it is a
    # component like any other.
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    prefix = f"#/components/schemas/{_EXPORT_SCHEMA_NAME}/$defs/"
    rewritten: dict[str, Any] = _rewrite_refs(schema, "#/$defs/", prefix)
    return rewritten


def _rewrite_refs(node: Any, old: str, new: str) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                new + value[len(old) :]
                if key == "$ref" and isinstance(value, str) and value.startswith(old)
                else _rewrite_refs(value, old, new)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item, old, new) for item in node]
    return node


def document(*, session_cookie: str, notices: Sequence[Notice]) -> dict[str, Any]:
    """The OpenAPI document for an app with this cookie name and current notice, given
    as its text in each language it was published in (English first)."""
    doc = copy.deepcopy(_load("openapi.json"))
    components = doc["components"]
    components["securitySchemes"]["session"]["name"] = session_cookie
    decision = components["schemas"]["ConsentDecision"]["properties"]
    decision["notice_version"] = {**decision["notice_version"], "const": notices[0].version}
    decision["notice_language"] = {
        **decision["notice_language"],
        "enum": [n.language for n in notices],
    }
    decision["notice_sha256"] = {**decision["notice_sha256"], "enum": [n.sha256 for n in notices]}
    # The data file's placeholders (a "$comment" each) say where these come from.
    problem = components["schemas"]["CeremonyProblem"]["properties"]
    problem["ceremony"] = {"enum": list(CEREMONIES)}
    problem["error"] = {"enum": list(ERROR_NAMES)}
    components["schemas"][_EXPORT_SCHEMA_NAME] = export_schema()
    return doc


def current_document() -> dict[str, Any]:
    """The document describing the running app (needs an app context)."""
    book = notice_book()
    current = book.current(PASSKEY_SIGNIN)
    return document(
        session_cookie=current_app.config["SESSION_COOKIE_NAME"],
        notices=[
            text
            for language in book.languages(PASSKEY_SIGNIN, current.version)
            if (text := book.get(PASSKEY_SIGNIN, current.version, language)) is not None
        ],
    )


@bp.get("/openapi.json")
@limiter.exempt
def openapi_json() -> Response:
    return jsonify(current_document())
