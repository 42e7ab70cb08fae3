"""The OpenAPI document describes exactly the JSON endpoints the app serves.

Issue 9 item 3. The document is checked against ``app.url_map`` both ways (every
``/api/`` route with its methods; nothing that does not exist), against the OpenAPI 3.1
meta-schema, and against real answers of a complete passkey sign-up, sign-in, step-up
and export, which fuzzing cannot reach (it cannot sign). The fuzzing itself is in
``tests/fuzz/test_schemathesis.py``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from flask import Flask
from schemathesis.specs.openapi.definitions import OPENAPI_31
from werkzeug.test import TestResponse

from authdemo import openapi
from authdemo.consent.web import current_notice
from tests.conftest import Browser, make_app
from tests.support.authenticator import SoftwareAuthenticator

#: Besides everything under /api/, the document covers these JSON endpoints.
DOCUMENTED_OUTSIDE_API = {"/healthz", "/.well-known/webauthn"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
PROBLEM = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"

#: Which WebAuthn L3 §5.1 shape each ceremony's verify endpoint takes.
CEREMONY_BODIES = {
    "/api/passkeys/sign-up/verify": "RegistrationResponseJSON",
    "/api/passkeys/add/verify": "RegistrationResponseJSON",
    "/api/passkeys/sign-in/verify": "AuthenticationResponseJSON",
    "/api/reauth/verify": "StepUpResponseJSON",
}


@pytest.fixture
def doc(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    return body


def openapi_path(rule: str) -> str:
    """Flask's ``/a/<int:id>`` is OpenAPI's ``/a/{id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def served_operations(app: Flask) -> set[tuple[str, str]]:
    """(path, METHOD) of every route the document must describe."""
    operations = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.rule in DOCUMENTED_OUTSIDE_API:
            for method in (rule.methods or set()) - IGNORED_METHODS:
                operations.add((openapi_path(rule.rule), method))
    return operations


def served_paths(app: Flask) -> set[str]:
    return {openapi_path(rule.rule) for rule in app.url_map.iter_rules()}


def documented_operations(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, item in doc["paths"].items() for method in item}


def resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        assert node["$ref"].startswith("#/"), node["$ref"]
        target: Any = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def validator(doc: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A validator for ``schema`` whose ``#/components/...`` references reach the document."""
    return jsonschema.Draft202012Validator({**schema, "components": doc["components"]})


def response_schema(doc: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    response = resolve(doc, doc["paths"][path][method.lower()]["responses"][str(status)])
    (media,) = response["content"].values()
    schema: dict[str, Any] = media["schema"]
    return schema


def assert_documented(doc: dict[str, Any], response: TestResponse, method: str = "POST") -> None:
    """The answer's status is documented for its operation, and its body fits the schema."""
    path = response.request.path
    responses = doc["paths"][path][method.lower()]["responses"]
    assert str(response.status_code) in responses, (path, response.status_code)
    documented = resolve(doc, responses[str(response.status_code)])
    assert response.mimetype in documented["content"], (path, response.mimetype)
    schema = documented["content"][response.mimetype]["schema"]
    validator(doc, schema).validate(response.get_json(force=True))


# --- the document itself ---------------------------------------------------------------


def test_the_app_factory_serves_the_document(app: Flask) -> None:
    assert app.blueprints.get("openapi") is openapi.bp
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    with app.app_context():
        assert response.get_json() == openapi.current_document()


def test_document_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    assert doc["openapi"].startswith("3.1.")
    jsonschema.Draft202012Validator(OPENAPI_31).validate(doc)


def test_every_component_schema_is_a_valid_json_schema(doc: dict[str, Any]) -> None:
    for name, schema in doc["components"]["schemas"].items():
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as error:  # pragma: no cover - the message is the point
            pytest.fail(f"components/schemas/{name}: {error.message}")


def test_every_reference_in_the_document_resolves(doc: dict[str, Any]) -> None:
    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                resolve(doc, {"$ref": node["$ref"]})
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)


# --- the document and the routes ---------------------------------------------------------


def test_every_api_route_is_documented_with_its_methods(app: Flask, doc: dict[str, Any]) -> None:
    missing = served_operations(app) - documented_operations(doc)
    assert not missing, f"routes the OpenAPI document does not describe: {sorted(missing)}"


def test_nothing_is_documented_that_the_app_does_not_serve(app: Flask, doc: dict[str, Any]) -> None:
    extra = documented_operations(doc) - served_operations(app)
    assert not extra, f"documented but not served: {sorted(extra)}"
    assert set(doc["paths"]) <= served_paths(app)


def test_only_api_routes_health_and_related_origins_are_documented(doc: dict[str, Any]) -> None:
    outside = {path for path in doc["paths"] if not path.startswith("/api/")}
    assert outside == DOCUMENTED_OUTSIDE_API


def test_operation_ids_are_unique(doc: dict[str, Any]) -> None:
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


# --- what the document promises -----------------------------------------------------------


@pytest.mark.parametrize(("path", "shape"), sorted(CEREMONY_BODIES.items()))
def test_ceremony_request_bodies_are_the_webauthn_json_shapes(
    doc: dict[str, Any], path: str, shape: str
) -> None:
    body = resolve(doc, doc["paths"][path]["post"]["requestBody"])
    assert body["required"] is True
    schema = body["content"]["application/json"]["schema"]
    assert schema == {"$ref": f"#/components/schemas/{shape}"}


def test_step_up_body_is_an_authentication_response_and_a_next_path(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assertion, step_up = schemas["AuthenticationResponseJSON"], schemas["StepUpResponseJSON"]
    extra = {"next": step_up["properties"]["next"]}
    assert step_up["properties"] == {**assertion["properties"], **extra}
    assert step_up["required"] == assertion["required"]


def test_webauthn_shapes_refuse_members_they_do_not_describe(doc: dict[str, Any]) -> None:
    # As the server does (authdemo/passkeys/responses.py): unknown members are refused.
    schemas = doc["components"]["schemas"]
    for name in (
        "RegistrationResponseJSON",
        "AuthenticationResponseJSON",
        "AuthenticatorAttestationResponseJSON",
        "AuthenticatorAssertionResponseJSON",
        "ConsentDecision",
    ):
        assert schemas[name]["additionalProperties"] is False, name


def test_every_api_4xx_and_5xx_response_is_a_problem_document(doc: dict[str, Any]) -> None:
    for path, item in doc["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                content = resolve(doc, response)["content"]
                assert list(content) == [PROBLEM], (method, path, status)
                assert content[PROBLEM]["schema"] == {"$ref": PROBLEM_REF}, (method, path, status)


def test_every_api_operation_documents_rate_limiting_and_unavailability(
    doc: dict[str, Any],
) -> None:
    for path, item in doc["paths"].items():
        if path.startswith("/api/"):
            for method, operation in item.items():
                assert {"429", "503"} <= set(operation["responses"]), (method, path)


def test_every_json_body_operation_documents_bad_size_and_type_refusals(
    doc: dict[str, Any],
) -> None:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                assert {"400", "413", "415"} <= set(operation["responses"]), (method, path)


def test_rate_limited_answers_document_retry_after(doc: dict[str, Any]) -> None:
    too_many = doc["components"]["responses"]["TooManyRequests"]
    assert resolve(doc, too_many["headers"]["Retry-After"])["required"] is True


def test_every_state_changing_operation_requires_the_csrf_token(doc: dict[str, Any]) -> None:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method.upper() in STATE_CHANGING:
                assert operation["security"] == [{"session": [], "csrfToken": []}], (method, path)
    scheme = doc["components"]["securitySchemes"]["csrfToken"]
    assert (scheme["in"], scheme["name"]) == ("header", "X-CSRFToken")


def test_problem_documents_may_say_nothing_more(doc: dict[str, Any]) -> None:
    problem = doc["components"]["schemas"]["Problem"]
    assert problem["additionalProperties"] is False
    leaky = {"type": "https://x/", "title": "t", "status": 400, "detail": "d", "username": "ada"}
    assert not validator(doc, {"$ref": PROBLEM_REF}).is_valid(leaky)


def test_session_cookie_scheme_names_the_development_cookie(doc: dict[str, Any]) -> None:
    assert doc["components"]["securitySchemes"]["session"]["name"] == "authdemo"


def test_session_cookie_scheme_names_the_production_cookie(tmp_path: Path) -> None:
    app = make_app(tmp_path, ENV="production", ORIGIN="https://localhost", RP_ID="localhost")
    response = app.test_client().get("/openapi.json", base_url="https://localhost")
    assert response.get_json()["components"]["securitySchemes"]["session"]["name"] == (
        "__Host-authdemo"
    )


def test_consent_decision_names_the_current_notice(app: Flask, doc: dict[str, Any]) -> None:
    with app.app_context():
        notice = current_notice()
    decision = doc["components"]["schemas"]["ConsentDecision"]
    valid = validator(doc, decision)
    given = {"consent": True, "notice_version": notice.version, "notice_sha256": notice.sha256}
    assert valid.is_valid(given)
    assert not valid.is_valid({**given, "notice_sha256": "0" * 64})
    assert not valid.is_valid({**given, "consent": False})


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("", True),
        ("AAAA", True),
        ("AQ", True),
        ("AR", False),  # stray bits in the last character
        ("AAE", True),
        ("AAF", False),
        ("A", False),  # no length is 1 modulo 4
        ("AA==", False),  # padding
        ("AA+/", False),  # standard base64, not base64url
    ],
)
def test_base64url_strings_are_documented_as_canonical(
    doc: dict[str, Any], value: str, canonical: bool
) -> None:
    # As the server checks (authdemo/passkeys/responses.py b64url_decode).
    schema = {"$ref": "#/components/schemas/Base64URLString"}
    assert validator(doc, schema).is_valid(value) is canonical


def test_export_schema_is_the_shipped_export_schema(doc: dict[str, Any]) -> None:
    embedded = doc["components"]["schemas"]["PersonalDataExport"]
    assert embedded == openapi.export_schema()
    assert embedded["required"] == openapi._load("export.schema.json")["required"]


# --- real answers fit the document ---------------------------------------------------------


def test_a_complete_passkey_journey_is_answered_as_documented(
    app: Flask, browser: Browser, authenticator: SoftwareAuthenticator
) -> None:
    doc = app.test_client().get("/openapi.json").get_json()
    assert browser.choose_username("ada").status_code == 302

    options = browser.post_json("/api/passkeys/sign-up/options", browser.consent())
    assert_documented(doc, options)
    credential = authenticator.create(options.get_json())
    validator(doc, {"$ref": "#/components/schemas/RegistrationResponseJSON"}).validate(credential)
    assert_documented(doc, browser.post_json("/api/passkeys/sign-up/verify", credential))

    options = browser.post_json("/api/passkeys/sign-in/options")
    assert_documented(doc, options)
    assertion = authenticator.get(options.get_json())
    validator(doc, {"$ref": "#/components/schemas/AuthenticationResponseJSON"}).validate(assertion)
    signed_in = browser.post_json("/api/passkeys/sign-in/verify", assertion)
    assert signed_in.status_code == 200
    assert_documented(doc, signed_in)

    options = browser.post_json("/api/reauth/options")
    assert_documented(doc, options)
    stepped_up = browser.post_json("/api/reauth/verify", authenticator.get(options.get_json()))
    assert stepped_up.status_code == 200
    assert_documented(doc, stepped_up)

    export = browser.client.get("/api/privacy/export")
    assert export.status_code == 200
    assert_documented(doc, export, "GET")

    options = browser.post_json("/api/passkeys/add/options", browser.consent())
    assert_documented(doc, options)
    second = SoftwareAuthenticator(rp_id="localhost", origin=authenticator.origin)
    added = browser.post_json("/api/passkeys/add/verify", second.create(options.get_json()))
    assert added.status_code == 200
    assert_documented(doc, added)


def test_refusals_are_answered_as_documented(
    app: Flask, browser: Browser, new_browser: Any
) -> None:
    doc = app.test_client().get("/openapi.json").get_json()
    anonymous = new_browser()
    answers = [
        browser.post_json("/api/passkeys/sign-up/options", browser.consent()),  # no username
        browser.post_json("/api/passkeys/sign-in/verify", {"id": "x"}),
        browser.client.post("/api/passkeys/sign-in/options", json={}),  # no CSRF token
        browser.client.post("/api/passkeys/sign-in/options", data="{}"),
        anonymous.post_json("/api/passkeys/add/options", anonymous.consent()),
        anonymous.post_json("/api/reauth/options"),
    ]
    for answer in answers:
        assert 400 <= answer.status_code < 500
        assert_documented(doc, answer)
    export = anonymous.client.get("/api/privacy/export")
    assert export.status_code == 401
    assert_documented(doc, export, "GET")


def test_health_and_related_origins_are_answered_as_documented(app: Flask, tmp_path: Path) -> None:
    doc = app.test_client().get("/openapi.json").get_json()
    client = app.test_client()
    assert_documented(doc, client.get("/healthz"), "GET")
    assert_documented(doc, client.get("/.well-known/webauthn"), "GET")
    (tmp_path / "related").mkdir()
    related = make_app(tmp_path / "related", RELATED_ORIGINS="https://example.com")
    answer = related.test_client().get("/.well-known/webauthn")
    assert answer.status_code == 200
    assert_documented(doc, answer, "GET")
