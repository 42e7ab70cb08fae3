"""Settings: safe development defaults, and a production mode that refuses unsafe values.

Issue 3 item 3. Every test passes ``environ`` explicitly, so the machine's own
``AUTHDEMO_*`` variables never leak in.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from authdemo.config import ConfigError, Settings, flask_config, load_settings

DATA_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"  # 32 bytes, base64url
SECRET_KEY = "s" * 48

PRODUCTION: dict[str, Any] = {
    "ENV": "production",
    "SECRET_KEY": SECRET_KEY,
    "DATA_KEY": DATA_KEY,
    "DATABASE_URL": "sqlite:///unused.sqlite3",
    "ORIGIN": "https://login.example.com",
    "RP_ID": "login.example.com",
    "CONTROLLER_NAME": "Example Ltd",
    "CONTROLLER_CONTACT": "privacy@example.com",
    "DPO_CONTACT": "dpo@example.com",
}


def production(**changes: Any) -> Settings:
    values = {**PRODUCTION, **changes}
    return load_settings({k: v for k, v in values.items() if v is not None}, environ={})


# --- production refuses to start on unsafe values ----------------------------------------


def test_production_accepts_a_safe_configuration() -> None:
    settings = production()
    assert settings.is_production
    assert settings.SECURE_COOKIES is True


def test_production_cookie_is_host_prefixed_and_secure() -> None:
    config = flask_config(production())
    assert config["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_PATH"] == "/"
    assert config["SESSION_COOKIE_DOMAIN"] is None


def test_production_refuses_a_missing_secret_key() -> None:
    with pytest.raises(ConfigError, match="AUTHDEMO_SECRET_KEY"):
        production(SECRET_KEY=None)


def test_production_refuses_a_short_secret_key() -> None:
    with pytest.raises(ConfigError, match="AUTHDEMO_SECRET_KEY"):
        production(SECRET_KEY="s" * 31)


def test_production_accepts_a_secret_key_of_exactly_32_bytes() -> None:
    assert production(SECRET_KEY="s" * 32).SECRET_KEY == "s" * 32


def test_production_refuses_a_missing_data_key() -> None:
    with pytest.raises(ConfigError, match="AUTHDEMO_DATA_KEY"):
        production(DATA_KEY=None)


def test_production_refuses_to_start_without_the_consent_receipt_signing_key() -> None:
    """The receipts' Ed25519 key is derived from DATA_KEY (decision 0027): production
    without it fails at start-up, saying so, instead of signing with a made-up key."""
    with pytest.raises(ConfigError, match="signs consent receipts"):
        production(DATA_KEY=None)


def test_production_refuses_a_data_key_equal_to_the_secret_key() -> None:
    with pytest.raises(ConfigError, match="AUTHDEMO_DATA_KEY must differ"):
        production(SECRET_KEY=DATA_KEY)


@pytest.mark.parametrize(
    "data_key",
    [
        "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlh",  # 27 bytes
        DATA_KEY + "AAAA",  # 35 bytes
        "!!!!" + DATA_KEY,  # decodes to 32 bytes only if junk is silently skipped
        DATA_KEY[:-1] + "+",  # standard base64 alphabet, not base64url
    ],
)
def test_production_refuses_a_malformed_data_key(data_key: str) -> None:
    with pytest.raises(ConfigError, match="AUTHDEMO_DATA_KEY"):
        production(DATA_KEY=data_key)


@pytest.mark.parametrize("off", ["false", "0", "no", "off"])
def test_production_refuses_rate_limiting_switched_off(off: str) -> None:
    """Without limits nothing stops password, code and recovery-code guessing (NIST SP
    800-63B-4 §3.2.2): the switch is for tests. Set as an operator sets it, in the
    environment."""
    environ = {f"AUTHDEMO_{name}": value for name, value in PRODUCTION.items()}
    with pytest.raises(ConfigError, match="AUTHDEMO_RATELIMIT_ENABLED") as refused:
        load_settings(environ={**environ, "AUTHDEMO_RATELIMIT_ENABLED": off})
    assert "guessing" in str(refused.value)
    assert load_settings(environ=environ).RATELIMIT_ENABLED is True


def test_production_refuses_an_http_origin() -> None:
    with pytest.raises(ConfigError, match="https"):
        production(ORIGIN="http://login.example.com")


def test_production_refuses_http_even_on_localhost() -> None:
    with pytest.raises(ConfigError, match="https"):
        production(ORIGIN="http://localhost:5000", RP_ID="localhost")


def test_rp_id_of_another_site_is_refused() -> None:
    with pytest.raises(ConfigError, match="neither the origin's host"):
        production(RP_ID="example.org")


def test_rp_id_that_merely_ends_like_the_host_is_refused() -> None:
    # "ample.com" is a string suffix of "login.example.com" but not a domain suffix.
    with pytest.raises(ConfigError, match="neither the origin's host"):
        production(RP_ID="ample.com")


def test_rp_id_that_is_a_public_suffix_is_refused() -> None:
    with pytest.raises(ConfigError, match="public suffix"):
        production(RP_ID="com")


def test_rp_id_that_is_a_registrable_suffix_of_the_host_is_accepted() -> None:
    assert production(RP_ID="example.com").RP_ID == "example.com"


@pytest.mark.parametrize("rp_id", ["EXAMPLE.com", ".example.com", "example.com.", " example.com"])
def test_rp_id_that_is_not_a_plain_lowercase_domain_is_refused(rp_id: str) -> None:
    with pytest.raises(ConfigError, match="AUTHDEMO_RP_ID"):
        production(RP_ID=rp_id)


@pytest.mark.parametrize(
    "origin",
    [
        "https://login.example.com/",  # browsers never send the trailing slash
        "https://login.example.com/path",
        "https://login.example.com?x=1",
        "https://LOGIN.example.com",  # browsers send the host in lower case
        "HTTPS://login.example.com",
        "https://login.example.com:443",  # browsers omit the default port
        "login.example.com",
        "ftp://login.example.com",
    ],
)
def test_origin_that_no_browser_would_send_is_refused(origin: str) -> None:
    # The origin is compared byte for byte with clientDataJSON.origin (WebAuthn L3 §7.2
    # step 13); anything but the browser's serialisation would make every ceremony fail.
    with pytest.raises(ConfigError, match="AUTHDEMO_ORIGIN"):
        production(ORIGIN=origin)


@pytest.mark.parametrize(
    ("origin", "rp_id"),
    [
        ("https://192.0.2.10", "192.0.2.10"),
        ("https://192.0.2.10", "2.10"),  # "suffix" of an address, not of a domain
        ("https://[2001:db8::1]", "2001:db8::1"),
    ],
)
def test_origin_on_an_ip_address_is_refused(origin: str, rp_id: str) -> None:
    # WebAuthn needs a domain: browsers refuse ceremonies on an IP address.
    with pytest.raises(ConfigError, match="AUTHDEMO_ORIGIN"):
        production(ORIGIN=origin, RP_ID=rp_id)


def test_origin_with_a_non_default_port_is_accepted() -> None:
    assert production(ORIGIN="https://login.example.com:8443").ORIGIN.endswith(":8443")


# --- malformed values name the variable ---------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AUTHDEMO_SESSION_IDLE_SECONDS", "thirty minutes"),
        ("AUTHDEMO_MAX_REQUEST_BYTES", "64k"),
        ("AUTHDEMO_RATELIMIT_ENABLED", "maybe"),
        ("AUTHDEMO_SECURE_COOKIES", ""),
        ("AUTHDEMO_ALGORITHMS", "-7,ES256"),
    ],
)
def test_malformed_environment_value_is_refused_with_the_variable_name(
    variable: str, value: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings(environ={variable: value}, instance_path=tmp_path)


def test_environment_values_are_converted_to_their_types(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "AUTHDEMO_SESSION_IDLE_SECONDS": "600",
            "AUTHDEMO_RATELIMIT_ENABLED": "off",
            "AUTHDEMO_ALGORITHMS": "-7,-257",
        },
        instance_path=tmp_path,
    )
    assert settings.SESSION_IDLE_SECONDS == 600
    assert settings.RATELIMIT_ENABLED is False
    assert settings.ALGORITHMS == (-7, -257)


def test_overrides_win_over_the_environment(tmp_path: Path) -> None:
    settings = load_settings(
        {"RP_NAME": "from overrides"},
        environ={"AUTHDEMO_RP_NAME": "from environment"},
        instance_path=tmp_path,
    )
    assert settings.RP_NAME == "from overrides"


def test_unknown_override_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SECRET_KYE"):
        load_settings({"SECRET_KYE": "typo"}, environ={}, instance_path=tmp_path)


def test_unknown_env_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="AUTHDEMO_ENV"):
        load_settings(environ={"AUTHDEMO_ENV": "prod"}, instance_path=tmp_path)


@pytest.mark.parametrize("value", ["redis", "database"])
def test_retired_ceremony_store_setting_fails_fast(tmp_path: Path, value: str) -> None:
    # Decision 0019: challenges are sealed in the cookie and their single use is recorded
    # in the database on every deployment. A deployment still setting the store is told
    # so, instead of the setting being silently ignored.
    with pytest.raises(ConfigError, match="AUTHDEMO_CEREMONY_STORE is no longer a setting"):
        load_settings(environ={"AUTHDEMO_CEREMONY_STORE": value}, instance_path=tmp_path)
    with pytest.raises(ConfigError, match="0019"):
        load_settings({"CEREMONY_STORE": value}, environ={}, instance_path=tmp_path)


def test_algorithm_outside_es256_eddsa_rs256_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="AUTHDEMO_ALGORITHMS"):
        load_settings(environ={"AUTHDEMO_ALGORITHMS": "-7,-35"}, instance_path=tmp_path)


def test_idle_timeout_longer_than_absolute_timeout_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="AUTHDEMO_SESSION_IDLE_SECONDS"):
        load_settings(
            {"SESSION_IDLE_SECONDS": 7200, "SESSION_ABSOLUTE_SECONDS": 3600},
            environ={},
            instance_path=tmp_path,
        )


def test_a_re_ask_period_longer_than_the_consent_retention_is_refused(tmp_path: Path) -> None:
    """A receipt for a "No thanks" promises the record for the re-ask period, which the
    purge honours only within the consent retention (issue 19 review)."""
    with pytest.raises(ConfigError, match="AUTHDEMO_CONSENT_REASK_DAYS must not exceed"):
        load_settings(
            {"CONSENT_REASK_DAYS": 400, "CONSENT_RETENTION_DAYS": 365},
            environ={},
            instance_path=tmp_path,
        )
    equal = {"CONSENT_REASK_DAYS": 365, "CONSENT_RETENTION_DAYS": 365}
    assert load_settings(equal, environ={}, instance_path=tmp_path).CONSENT_REASK_DAYS == 365


# --- development defaults -----------------------------------------------------------------


def test_development_defaults_are_localhost(tmp_path: Path) -> None:
    settings = load_settings(environ={}, instance_path=tmp_path)
    assert settings.ENV == "development"
    assert settings.RP_ID == "localhost"
    assert settings.ORIGIN == "http://localhost:5000"
    database_url = settings.DATABASE_URL
    assert database_url == f"sqlite:///{tmp_path / 'authdemo.sqlite3'}"
    assert settings.SECURE_COOKIES is False


def test_development_secrets_are_generated_into_the_instance_folder(tmp_path: Path) -> None:
    settings = load_settings(environ={}, instance_path=tmp_path)
    stored = json.loads((tmp_path / "dev-secrets.json").read_text())
    assert stored == {"SECRET_KEY": settings.SECRET_KEY, "DATA_KEY": settings.DATA_KEY}
    assert len(settings.SECRET_KEY.encode()) >= 32
    assert len(settings.data_key_bytes) == 32


def test_development_secrets_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    load_settings(environ={}, instance_path=tmp_path)
    mode = stat.S_IMODE((tmp_path / "dev-secrets.json").stat().st_mode)
    assert mode == 0o600


def test_development_secrets_are_reused_across_restarts(tmp_path: Path) -> None:
    first = load_settings(environ={}, instance_path=tmp_path)
    second = load_settings(environ={}, instance_path=tmp_path)
    assert (first.SECRET_KEY, first.DATA_KEY) == (second.SECRET_KEY, second.DATA_KEY)


def test_development_secrets_differ_between_installations(tmp_path: Path) -> None:
    first = load_settings(environ={}, instance_path=tmp_path / "one")
    second = load_settings(environ={}, instance_path=tmp_path / "two")
    assert first.SECRET_KEY != second.SECRET_KEY
    assert first.DATA_KEY != second.DATA_KEY


def test_development_refuses_http_origin_other_than_localhost(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="only on localhost"):
        load_settings(
            {"ORIGIN": "http://example.com", "RP_ID": "example.com"},
            environ={},
            instance_path=tmp_path,
        )


def test_public_view_hides_every_secret(tmp_path: Path) -> None:
    settings = load_settings(environ={}, instance_path=tmp_path)
    view = settings.public_view()
    for name in ("SECRET_KEY", "DATA_KEY", "DATA_KEY_PREVIOUS", "DATABASE_URL"):
        assert name not in view
    assert settings.SECRET_KEY not in json.dumps(view, default=str)


# --- the privacy notice's contacts (GDPR Art 13(1)(a), (b)) ------------------------------


@pytest.mark.parametrize("name", ["CONTROLLER_NAME", "CONTROLLER_CONTACT", "DPO_CONTACT"])
def test_production_refuses_a_placeholder_contact_on_the_privacy_notice(name: str) -> None:
    with pytest.raises(ConfigError, match=f"AUTHDEMO_{name} is still a placeholder"):
        production(**{name: None})  # the default: a placeholder
    with pytest.raises(ConfigError, match=f"AUTHDEMO_{name} is still a placeholder"):
        production(**{name: "  "})


def test_production_accepts_none_for_a_dpo_that_is_not_designated() -> None:
    assert production(DPO_CONTACT="none").DPO_CONTACT == "none"


def test_development_shows_the_placeholders_instead_of_refusing(tmp_path: Path) -> None:
    settings = load_settings({"DATABASE_URL": "sqlite://"}, environ={}, instance_path=tmp_path)
    assert "set AUTHDEMO_CONTROLLER_NAME" in settings.CONTROLLER_NAME
    assert "set AUTHDEMO_DPO_CONTACT" in settings.DPO_CONTACT
