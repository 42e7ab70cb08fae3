"""/.well-known/security.txt (RFC 9116), read the way a researcher's tool reads it: the
required fields, their formats, and no file at all without a configured contact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from authdemo.config import ConfigError, load_settings
from tests.conftest import ORIGIN, make_app

PATH = "/.well-known/security.txt"
CONTACTS = "mailto:security@example.org,https://example.org/report"


def _in(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fields(text: str) -> list[tuple[str, str]]:
    """RFC 9116 §4 (ABNF): one "Name: value" per line; "#" starts a comment line."""
    fields = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, separator, value = line.partition(": ")
        assert separator, f"not a field: {line!r}"
        fields.append((name.lower(), value))
    return fields


def test_without_a_contact_there_is_no_file(tmp_path: Path) -> None:
    response = make_app(tmp_path).test_client().get(PATH)
    assert response.status_code == 404


def test_the_file_has_the_fields_rfc_9116_requires(tmp_path: Path) -> None:
    expires = _in(180)
    app = make_app(tmp_path, SECURITY_CONTACT=CONTACTS, SECURITY_TXT_EXPIRES=expires)
    response = app.test_client().get(PATH)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"  # §3
    fields = _fields(response.get_data(as_text=True))
    known = {"acknowledgments", "canonical", "contact", "encryption", "expires", "hiring"}
    assert {name for name, _ in fields} <= known | {"policy", "preferred-languages"}
    contacts = [value for name, value in fields if name == "contact"]
    assert contacts == CONTACTS.split(",")  # §2.5.3: always present, most preferred first
    expiry = [value for name, value in fields if name == "expires"]
    assert expiry == [expires]  # §2.5.5: always present, exactly once
    assert datetime.fromisoformat(expiry[0]) > datetime.now(UTC)
    assert ("canonical", f"{ORIGIN}{PATH}") in fields  # §2.5.2


@pytest.mark.parametrize(
    "contact",
    [
        "http://example.org/report",  # §2.5.3: a web URI MUST begin with https://
        "security@example.org",  # not a URI
        "mailto:a@example.org\nContact: mailto:attacker@example.net",  # a second line
        "mailto:a@example.org Expires: 2099-01-01T00:00:00Z",
    ],
)
def test_a_contact_that_is_not_an_allowed_uri_is_refused_at_start(contact: str) -> None:
    with pytest.raises(ConfigError, match="SECURITY_CONTACT"):
        _settings(SECURITY_CONTACT=contact, SECURITY_TXT_EXPIRES=_in(30))


def test_a_contact_needs_an_expiry_and_an_expiry_a_contact() -> None:
    with pytest.raises(ConfigError, match="needs AUTHDEMO_SECURITY_TXT_EXPIRES"):
        _settings(SECURITY_CONTACT=CONTACTS)
    with pytest.raises(ConfigError, match="needs AUTHDEMO_SECURITY_CONTACT"):
        _settings(SECURITY_TXT_EXPIRES=_in(30))


# Fixed ids: pytest-xdist workers collect at different seconds, and must agree on names.
@pytest.mark.parametrize(
    "expires",
    [
        "next year",
        "2027-06-30",
        pytest.param(_in(366), id="in-366-days"),
        pytest.param(_in(400), id="in-400-days"),
    ],
)
def test_an_expiry_that_is_not_a_date_time_within_a_year_is_refused(expires: str) -> None:
    with pytest.raises(ConfigError, match="SECURITY_TXT_EXPIRES"):
        _settings(SECURITY_CONTACT=CONTACTS, SECURITY_TXT_EXPIRES=expires)


def test_a_deployment_past_its_expiry_still_starts_and_serves_the_stale_file(
    tmp_path: Path,
) -> None:
    # Restarting must never fail because time passed; readers know a past Expires is stale.
    expired = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    app = make_app(tmp_path, SECURITY_CONTACT=CONTACTS, SECURITY_TXT_EXPIRES=expired)
    fields = _fields(app.test_client().get(PATH).get_data(as_text=True))
    assert ("expires", expired) in fields


def _settings(**values: Any) -> object:
    base = {"DATABASE_URL": "sqlite:///unused.sqlite3", "ENV": "testing"}
    return load_settings({**base, **values}, environ={})


def test_metrics_show_when_the_file_expires_only_while_it_is_served(tmp_path: Path) -> None:
    gauge = "authdemo_security_txt_expiry_timestamp_seconds"
    expires = _in(180)
    served = make_app(tmp_path, SECURITY_CONTACT=CONTACTS, SECURITY_TXT_EXPIRES=expires)
    text = served.test_client().get("/metrics").get_data(as_text=True)
    samples = [line.split() for line in text.splitlines() if line.startswith(gauge + " ")]
    assert [float(value) for _, value in samples] == [datetime.fromisoformat(expires).timestamp()]
    unserved = make_app(tmp_path / "none").test_client().get("/metrics").get_data(as_text=True)
    assert gauge not in unserved
