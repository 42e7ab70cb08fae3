"""Hypothesis properties of the code that reads what people and browsers send.

Issue 9 item 3. Whatever arrives, these functions answer with their typed error (or
``None`` / the default, where that is their contract) and never with any other
exception, which would be a 500:

- ``authdemo.passkeys.responses``: the strict WebAuthn JSON checks, fed arbitrary JSON
  and real authenticator responses with one member replaced by arbitrary JSON;
- ``authdemo.usernames``: usernames and display names;
- ``authdemo.fallback.totp.normalise_code`` and ``authdemo.fallback.recovery.normalise``;
- ``authdemo.http.safe_next``: never an absolute or scheme-relative URL, however a
  browser would read it.

Normalisers are also idempotent, and their output is in the alphabet they promise.
Each test is bounded (``settings`` below) and derandomised, so a run is repeatable.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import string
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authdemo import base64url, openapi
from authdemo.errors import CeremonyFailed, InvalidInput
from authdemo.fallback import recovery, totp
from authdemo.http import safe_next
from authdemo.models.passkey import CREDENTIAL_ID_MAX
from authdemo.models.user import USERNAME_MAX
from authdemo.passkeys import responses
from authdemo.usernames import normalise_display_name, normalise_username
from tests.support.authenticator import SoftwareAuthenticator

ORIGIN = "http://localhost:5000"
bounded = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

#: Any value ``json.loads`` can return (Python's parser accepts NaN and Infinity too).
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
base64url_text = st.binary(max_size=80).map(base64url.encode)


# --- WebAuthn JSON (authdemo/passkeys/responses.py) ----------------------------------------


def _options() -> tuple[dict[str, Any], dict[str, Any]]:
    challenge = base64url.encode(secrets.token_bytes(32))
    creation = {
        "rp": {"id": "localhost", "name": "authdemo"},
        "user": {"id": base64url.encode(secrets.token_bytes(64)), "name": "a"},
        "challenge": challenge,
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
    }
    request = {"challenge": challenge, "rpId": "localhost", "allowCredentials": []}
    return creation, request


def _real_responses() -> tuple[dict[str, Any], dict[str, Any]]:
    """A registration and an assertion exactly as a browser would send them."""
    authenticator = SoftwareAuthenticator(rp_id="localhost", origin=ORIGIN)
    creation, request = _options()
    return authenticator.create(creation), authenticator.get(request)


REGISTRATION, ASSERTION = _real_responses()
PARSERS: dict[str, tuple[Callable[[object], object], dict[str, Any]]] = {
    "registration": (responses.parse_registration, REGISTRATION),
    "assertion": (responses.parse_assertion, ASSERTION),
}


def parses_or_refuses(parse: Callable[[object], object], payload: object) -> object | None:
    """The parse result, or None when refused with CeremonyFailed. Anything else raises."""
    try:
        return parse(payload)
    except CeremonyFailed:
        return None


@st.composite
def mutated(draw: st.DrawFn, original: dict[str, Any]) -> dict[str, Any]:
    """``original`` with one member (top level or in ``response``) replaced, removed or
    added, so most of the payload stays valid and the checks behind the first are reached."""
    payload = json.loads(json.dumps(original))
    target = draw(st.sampled_from(["top", "response"]))
    container = payload if target == "top" else payload["response"]
    name = draw(st.sampled_from([*sorted(container), draw(st.text(max_size=12))]))
    action = draw(st.sampled_from(["replace", "remove"]))
    if action == "remove":
        container.pop(name, None)
    else:
        container[name] = draw(json_values | base64url_text)
    return payload


@pytest.mark.parametrize("kind", sorted(PARSERS))
@bounded
@given(payload=json_values)
def test_any_json_is_parsed_or_refused_with_ceremony_failed(kind: str, payload: object) -> None:
    parse, _ = PARSERS[kind]
    parses_or_refuses(parse, payload)


@pytest.mark.parametrize("kind", sorted(PARSERS))
@bounded
@given(data=st.data())
def test_a_real_response_with_one_member_changed_is_parsed_or_refused(
    kind: str, data: st.DataObject
) -> None:
    parse, original = PARSERS[kind]
    parses_or_refuses(parse, data.draw(mutated(original)))


@pytest.mark.parametrize("kind", sorted(PARSERS))
def test_a_real_response_parses(kind: str) -> None:
    # The baseline the mutation properties start from is itself accepted.
    parse, original = PARSERS[kind]
    assert parse(original) is not None


@pytest.mark.parametrize("kind", sorted(PARSERS))
@bounded
@given(data=st.data())
def test_whatever_parses_has_a_canonical_credential_id_within_the_limit(
    kind: str, data: st.DataObject
) -> None:
    parse, original = PARSERS[kind]
    payload = data.draw(mutated(original))
    parsed = parses_or_refuses(parse, payload)
    if isinstance(parsed, responses.ParsedRegistration | responses.ParsedAssertion):
        assert 1 <= len(parsed.credential_id) <= CREDENTIAL_ID_MAX
        assert base64url.encode(parsed.credential_id) == payload["id"] == payload["rawId"]


@pytest.mark.parametrize("kind", sorted(PARSERS))
@pytest.mark.parametrize("attachment", [[], {}, ["platform"], {"platform": True}])
def test_authenticator_attachment_that_is_not_text_is_refused(kind: str, attachment: Any) -> None:
    parse, original = PARSERS[kind]
    with pytest.raises(CeremonyFailed):
        parse({**original, "authenticatorAttachment": attachment})


@bounded
@given(client_data=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_client_data_is_checked_or_refused_with_ceremony_failed(client_data: bytes) -> None:
    with contextlib.suppress(CeremonyFailed):
        responses.check_client_data(client_data)


@pytest.mark.parametrize("depth", [10, 1_000, 2_000])
def test_deeply_nested_client_data_is_refused(depth: int) -> None:
    # Within the 4096-byte cap, the deepest nesting JSON can have.
    with pytest.raises(CeremonyFailed):
        responses.check_client_data(b"[" * depth + b"]" * depth)


@bounded
@given(data=st.binary(max_size=200))
def test_base64url_round_trips(data: bytes) -> None:
    encoded = base64url.encode(data)
    assert responses.b64url_decode(encoded, field="x", max_bytes=200) == data


BASE64_ALPHABETS = string.ascii_letters + string.digits + "-_" + "+/=" + " ."


@bounded
@given(text=st.text(alphabet=BASE64_ALPHABETS, max_size=12) | st.text(max_size=12))
def test_base64url_accepts_exactly_the_canonical_encoding_the_api_documents(text: str) -> None:
    pattern = openapi._load("openapi.json")["components"]["schemas"]["Base64URLString"]["pattern"]
    try:
        decoded = responses.b64url_decode(text, field="x", max_bytes=100)
    except CeremonyFailed:
        assert not re.search(pattern, text)
    else:
        assert re.search(pattern, text)
        assert base64url.encode(decoded) == text


# --- usernames (authdemo/usernames.py) --------------------------------------------

#: Text with what makes usernames hard: look-alikes, width and case variants, combining
#: marks, invisible and bidirectional controls, and very long input.
tricky_text = st.text(
    st.characters(codec="utf-8")
    | st.sampled_from(
        [
            "\u0430",  # Cyrillic a
            "\u0131",  # dotless i
            "\u017f",  # long s (casefolds to s)
            "\ufb01",  # fi ligature (NFKC: "fi")
            "\uff41",  # full-width a
            "\u212a",  # Kelvin sign (NFKC: K)
            "\u0301",  # combining acute
            "\u200b",  # zero-width space
            "\u200d",  # zero-width joiner
            "\u202e",  # right-to-left override
            "\u0000",
            "\u00a0",
            "\u3000",
            "ß",
            "İ",
        ]
    ),
    max_size=40,
) | st.text(max_size=400)


def normalised_or_refused(
    normalise: Callable[[object], str | None], raw: object
) -> tuple[str | None, InvalidInput | None]:
    """What ``normalise`` returns, or the InvalidInput it raises. Anything else raises."""
    try:
        return normalise(raw), None
    except InvalidInput as refusal:
        return None, refusal


@bounded
@given(raw=tricky_text | json_values)
def test_username_is_normalised_or_refused_with_invalid_input(raw: object) -> None:
    name, refusal = normalised_or_refused(normalise_username, raw)
    if refusal is not None:
        assert refusal.field == "username"
        return
    assert isinstance(name, str)
    assert re.fullmatch(r"[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?", name)
    assert 3 <= len(name) <= USERNAME_MAX
    assert normalise_username(name) == name


@bounded
@given(name=st.from_regex(r"[a-z0-9][a-z0-9._-]{1,20}[a-z0-9]", fullmatch=True))
def test_case_and_width_variants_of_a_username_are_one_username(name: str) -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name)
    assert normalise_username(name.upper()) == normalise_username(name)
    assert normalise_username(full_width) == normalise_username(name)


@bounded
@given(raw=tricky_text | json_values)
def test_display_name_is_normalised_or_refused_with_invalid_input(raw: object) -> None:
    name, refusal = normalised_or_refused(normalise_display_name, raw)
    if refusal is not None:
        assert refusal.field == "display_name"
    elif name is not None:
        assert name
        assert name == name.strip()
        assert normalise_display_name(name) == name


# --- one-time and recovery codes (authdemo/fallback) ---------------------------------------


@bounded
@given(raw=tricky_text | json_values)
def test_one_time_code_is_six_ascii_digits_or_none(raw: object) -> None:
    code = totp.normalise_code(raw)
    if code is not None:
        assert re.fullmatch(r"[0-9]{6}", code)
        assert totp.normalise_code(code) == code


@bounded
@given(
    digits=st.from_regex(r"[0-9]{6}", fullmatch=True),
    separators=st.lists(st.sampled_from([" ", "-", "\t"]), min_size=7, max_size=7),
)
def test_spaces_and_dashes_people_type_in_a_code_do_not_matter(
    digits: str, separators: list[str]
) -> None:
    typed = "".join(sep + digit for sep, digit in zip(separators, digits, strict=False))
    assert totp.normalise_code(typed + separators[-1]) == digits


@bounded
@given(raw=tricky_text | json_values)
def test_recovery_code_is_sixteen_base32_characters_or_none(raw: object) -> None:
    code = recovery.normalise(raw)
    if code is not None:
        assert re.fullmatch(r"[A-Z2-7]{16}", code)
        assert recovery.normalise(code) == code


@bounded
@given(code=st.from_regex(r"[A-Z2-7]{16}", fullmatch=True))
def test_recovery_code_is_read_whatever_the_case_and_grouping(code: str) -> None:
    grouped = "-".join(code[i : i + 4] for i in range(0, 16, 4))
    assert recovery.normalise(grouped.lower()) == code
    assert recovery.normalise(" ".join(grouped.split("-"))) == code


# --- next= (authdemo/http.py safe_next) -----------------------------------------------------

DEFAULT = "/account"

#: Text built from what open redirects are made of.
redirect_text = st.lists(
    st.sampled_from(
        [
            "/",
            "//",
            "\\",
            "/\\",
            "\\/",
            ":",
            "http:",
            "https:",
            "javascript:",
            "@",
            "evil.example",
            "%2f",
            "%5c",
            ".",
            "..",
            "?",
            "#",
            "\t",
            "\n",
            "\r",
            " ",
            "\x00",
            "\x7f",
            "\u3000",
            "\uff0f",
            "a",
            "account",
        ]
    ),
    max_size=8,
).map("".join)


def read_by_a_browser(location: str) -> tuple[str, str]:
    """(scheme, host) a browser would take a Location header to mean, relative to this
    site (WHATWG URL: C0 controls and spaces stripped at the ends, tabs and newlines
    removed anywhere, backslash read as slash). ("", "") means "this site"."""
    cleaned = location.strip("".join(chr(c) for c in range(0x21)))
    cleaned = re.sub(r"[\t\n\r]", "", cleaned).replace("\\", "/")
    parts = urlsplit(cleaned)
    if parts.scheme:
        return parts.scheme, parts.netloc
    if cleaned.startswith("//"):
        return "", cleaned[2:].split("/")[0]
    return "", ""


@bounded
@given(target=redirect_text | st.text(max_size=40) | json_values)
def test_next_is_never_another_site(target: object) -> None:
    result = safe_next(target, DEFAULT)
    assert result in (DEFAULT, target)
    assert result.startswith("/")
    assert read_by_a_browser(result) == ("", "")


@bounded
@given(target=redirect_text | st.text(max_size=40))
def test_next_is_idempotent(target: str) -> None:
    once = safe_next(target, DEFAULT)
    assert safe_next(once, DEFAULT) == once


@bounded
@given(path=st.from_regex(r"(/[a-z0-9_-]{1,10}){1,4}(\?[a-z]{1,5}=[a-z0-9]{0,5})?", fullmatch=True))
def test_next_keeps_a_local_path(path: str) -> None:
    assert safe_next(path, DEFAULT) == path


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/\t/evil.example",
        " //evil.example",
        "\x00//evil.example",
    ],
)
def test_well_known_open_redirects_are_refused(target: str) -> None:
    assert safe_next(target, DEFAULT) == DEFAULT
