"""The deployed stack, built the way docs/deployment.md tells an operator to build it.

The app server as shipped (deploy/serve.py: granian, decision 0020) in production mode with
freshly generated secrets, on a PostgreSQL database and a Redis database of its own;
Debian's nginx in front, configured from deploy/nginx.conf.template rendered with
envsubst and exactly the variables the deployment doc lists, terminating TLS with a
certificate from a CA made here; Chromium trusting that CA through an NSS database, as
it trusts a real one. Nothing is started as a system service.
"""

from __future__ import annotations

import configparser
import datetime
import http.client
import os
import pwd
import re
import secrets
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENT_DOC = ROOT / "docs" / "deployment.md"
NGINX_TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
SERVER_UNIT = ROOT / "deploy" / "authdemo.service"
RETENTION_SERVICE = ROOT / "deploy" / "authdemo-retention.service"
RETENTION_TIMER = ROOT / "deploy" / "authdemo-retention.timer"
GUARDRAILS_SERVICE = ROOT / "deploy" / "authdemo-guardrails.service"
GUARDRAILS_TIMER = ROOT / "deploy" / "authdemo-guardrails.timer"
#: Where the systemd units expect the checkout (with its .venv) to be installed.
INSTALL_DIR = "/opt/authdemo"
VENV_BIN = Path(sys.executable).parent

#: Not ``localhost``, which browsers treat as a secure context even over http and so
#: would hide a scheme mistake. Chromium maps it to 127.0.0.1 (--host-resolver-rules).
HOST = "login.authdemo.test"
RP_ID = "authdemo.test"
#: The stage's own Redis database (the suite empties 14 and 15) and PostgreSQL database.
REDIS_DB = 12
PG_DATABASE = "authdemo_deployed"

_ENVSUBST = re.compile(r"envsubst '([^']+)'")
_PLACEHOLDER = re.compile(r"\$\{(AUTHDEMO_[A-Z0-9_]+)\}")
_DOC_EXPORT = re.compile(r"^export (AUTHDEMO_[A-Z0-9_]+)=", re.MULTILINE)


# --- what the deployment doc says -----------------------------------------------------


def documented_nginx_variables() -> list[str]:
    """The variables of the doc's envsubst command, in its order."""
    match = _ENVSUBST.search(DEPLOYMENT_DOC.read_text())
    assert match, "docs/deployment.md has no `envsubst '...'` command for the nginx template"
    return [name.strip("${}") for name in match.group(1).split()]


def documented_variable_table() -> list[str]:
    """The variables in the table of the doc's reverse-proxy section."""
    text = DEPLOYMENT_DOC.read_text()
    start = text.index("### The reverse proxy")
    end = re.compile(r"^#{1,3} ", re.MULTILINE).search(text, start + 1)
    section = text[start : end.start() if end else len(text)]
    return re.findall(r"^\| `(AUTHDEMO_[A-Z0-9_]+)` \|", section, re.MULTILINE)


def template_placeholders() -> set[str]:
    return set(_PLACEHOLDER.findall(NGINX_TEMPLATE.read_text()))


def documented_exports() -> set[str]:
    """Every ``export AUTHDEMO_...=`` in the doc's shell blocks."""
    return set(_DOC_EXPORT.findall(DEPLOYMENT_DOC.read_text()))


def app_environment(*, origin: str, bind: str, database_url: str, redis_url: str) -> dict[str, str]:
    """The app's settings, as the doc's sections export them, with the stage's values and
    secrets generated as the doc generates them."""
    return {
        "AUTHDEMO_ORIGIN": origin,
        "AUTHDEMO_RP_ID": RP_ID,
        "AUTHDEMO_ENV": "production",
        "AUTHDEMO_SECRET_KEY": secrets.token_urlsafe(48),
        "AUTHDEMO_DATA_KEY": secrets.token_urlsafe(32),
        "AUTHDEMO_CONTROLLER_NAME": "Authdemo Test Ltd",
        "AUTHDEMO_CONTROLLER_CONTACT": f"privacy@{RP_ID}",
        "AUTHDEMO_DPO_CONTACT": f"dpo@{RP_ID}",
        "AUTHDEMO_DATABASE_URL": database_url,
        "AUTHDEMO_REDIS_URL": redis_url,
        "AUTHDEMO_RATELIMIT_STORAGE_URI": redis_url,
        "AUTHDEMO_BIND": bind,
        "AUTHDEMO_PROXY_HOPS": "1",
        "AUTHDEMO_SECURITY_CONTACT": f"mailto:security@{RP_ID}",
        "AUTHDEMO_SECURITY_TXT_EXPIRES": (
            datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=180)
        ).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def render_nginx_template(values: dict[str, str], destination: Path) -> None:
    """``envsubst '<the doc's variables>' < deploy/nginx.conf.template > destination``."""
    names = documented_nginx_variables()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **values}
    with NGINX_TEMPLATE.open("rb") as source, destination.open("wb") as target:
        subprocess.run(
            ["envsubst", " ".join(f"${{{name}}}" for name in names)],
            stdin=source,
            stdout=target,
            env=env,
            check=True,
            timeout=10,
        )


# --- the systemd units ------------------------------------------------------------------


def read_unit(path: Path) -> configparser.ConfigParser:
    """A systemd unit file read as the INI-style file it is (systemd.syntax(7))."""
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(path)
    return parser


def unit_command(unit: Path, key: str = "ExecStart") -> tuple[list[str], dict[str, str]]:
    """A service unit's ``ExecStart`` (or ``key``, e.g. ``ExecStartPost``) and
    ``Environment``, for this checkout instead of /opt/authdemo: the stage runs them
    exactly as systemd would."""
    service = read_unit(unit)["Service"]
    argv = [part.replace(INSTALL_DIR, str(ROOT)) for part in shlex.split(service[key])]
    env = dict(item.split("=", 1) for item in shlex.split(service.get("Environment", "")))
    return argv, env


def server_command() -> tuple[list[str], dict[str, str]]:
    return unit_command(SERVER_UNIT)


# --- TLS --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificates:
    ca: Path
    certificate: Path
    key: Path


def make_certificates(directory: Path, host: str) -> Certificates:
    """A CA of this test run, and a server certificate for ``host`` signed by it."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "authdemo deployed-stage CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = Certificates(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    paths.key.chmod(0o600)
    return paths


def trust_in_nss(home: Path, ca: Path) -> None:
    """Chromium on Linux trusts the CAs of the NSS database at ``$HOME/.pki/nssdb``
    (one inside the --user-data-dir profile is not read)."""
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    database = f"sql:{nssdb}"
    for arguments in (
        ["-N", "--empty-password"],
        ["-A", "-t", "C,,", "-n", "authdemo-test-ca", "-i", str(ca)],
    ):
        subprocess.run(
            ["certutil", "-d", database, *arguments], check=True, timeout=30, capture_output=True
        )


# --- processes ------------------------------------------------------------------------


@dataclass
class Process:
    """A server started by the test, its output in a file, stopped by the test."""

    name: str
    log: Path
    popen: subprocess.Popen[bytes] = field(repr=False)

    @classmethod
    def start(
        cls,
        name: str,
        command: list[str],
        log: Path,
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Process:
        with log.open("wb") as output:
            popen = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=cwd
            )
        return cls(name, log, popen)

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_until(self, ready: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited ({self.popen.returncode}):\n{self.tail()}"
                )
            if ready():
                return
            time.sleep(0.1)
        raise AssertionError(f"{self.name} not ready after {timeout} s:\n{self.tail()}")

    def stop(self, stop_signal: int = signal.SIGTERM) -> None:
        """Stop it (nginx: SIGTERM is its fast shutdown; the app server: SIGTERM is graceful)."""
        if self.popen.poll() is None:
            self.popen.send_signal(stop_signal)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback http
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def nginx_main_config(directory: Path, site: Path) -> str:
    """Stands in for Debian's /etc/nginx/nginx.conf, with every path in ``directory``.

    Like Debian's, it turns on an access log and gzip for the whole ``http`` block, so the
    test shows that the rendered template switches both off for authdemo."""
    temp = directory / "temp"
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (temp / name).mkdir(parents=True, exist_ok=True)
    # Workers run as this user (as root nginx would switch to `nobody`, who cannot enter
    # the test's private temporary folder).
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    return f"""{user}worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log error;
events {{
    worker_connections 256;
}}
http {{
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    access_log {directory}/access.log;
    gzip on;
    include {site};
}}
"""


# --- a program talking to the proxy ---------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def cookie(self, name: str) -> str | None:
        """The value this answer sets for cookie ``name``, if it sets it."""
        for header in self.headers.get_all("Set-Cookie") or []:
            key, _, rest = header.partition("=")
            if key == name:
                return rest.split(";", 1)[0]
        return None


class ProxyClient:
    """HTTPS to the proxy as a program (curl, a script) would talk to it: the certificate
    checked against the stage's CA for ``HOST``, and exactly the headers given, including
    ones a browser would never let a page set."""

    def __init__(self, port: int, ca: Path) -> None:
        self._port = port
        self._context = ssl.create_default_context(cafile=str(ca))

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Answer:
        connection = _LoopbackHTTPS(HOST, self._port, context=self._context, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Answer(response.status, response.headers, response.read())
        finally:
            connection.close()


class _LoopbackHTTPS(http.client.HTTPSConnection):
    """Connects to 127.0.0.1, with ``HOST`` in SNI, certificate check and Host header."""

    def connect(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]
