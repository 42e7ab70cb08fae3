"""The shipped HTTP server as ``make serve`` and the systemd unit start it (granian from
deploy/serve.py, decision 0020), met over a raw socket as a client would meet it: what the test
client cannot show, because the server, not the app, decides about the connection."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import shipped_server as shipped

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
#: AUTHDEMO_MAX_REQUEST_BYTES as shipped (authdemo/config.py).
CAP = 64 * 1024


@pytest.fixture
def shipped_server(tmp_path: Path) -> Iterator[int]:
    port = shipped.free_port()
    env = {
        **os.environ,
        "AUTHDEMO_ENV": "testing",
        "AUTHDEMO_DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}",
        "AUTHDEMO_SECRET_KEY": secrets.token_urlsafe(48),
        "AUTHDEMO_ORIGIN": f"http://localhost:{port}",
        "AUTHDEMO_RATELIMIT_STORAGE_URI": "memory-lazy://",
        "AUTHDEMO_BIND": f"127.0.0.1:{port}",
        "AUTHDEMO_WORKERS": "1",
        "FLASK_APP": "authdemo",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    subprocess.run([VENV_BIN / "flask", "db", "upgrade"], env=env, check=True, timeout=60, cwd=ROOT)
    # The command of deploy/authdemo.service.
    server = shipped.start(env)
    try:
        shipped.wait_until_up(f"http://127.0.0.1:{port}")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=15)


def _exchange(port: int, head: bytes, body: bytes) -> tuple[bytes, bool]:
    """Send ``head`` and ``body``; read the whole answer. Returns the answer's head and
    whether the server then closed the connection (rather than wait for another request)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        # The server may stop reading a refused body: that is allowed.
        with contextlib.suppress(OSError):
            sock.sendall(body)
        # The answer, however slowly a busy machine sends it: its head, then its body.
        data = b""
        while b"\r\n\r\n" not in data and (chunk := sock.recv(65536)):
            data += chunk
        answer_head, _, rest = data.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in answer_head.split(b"\r\n")[1:]
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        while len(rest) < length and (chunk := sock.recv(65536)):
            rest += chunk
        # Then: closed at once, or still open after 2 s (a server may close an idle
        # connection after a while anyway; 2 s is well inside any keep-alive).
        sock.settimeout(2)
        try:
            closed = sock.recv(65536) == b""
        except TimeoutError:
            closed = False
    return answer_head, closed


def _post(length: int, sent: int) -> tuple[bytes, bytes]:
    head = (
        "POST /api/passkeys/sign-in/options HTTP/1.1\r\nHost: localhost\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()
    return head, b"x" * sent


def test_a_413_answer_closes_the_connection_on_the_shipped_server(shipped_server: int) -> None:
    """Issue 14 item 7: the refused body was not read, so the answer says
    ``Connection: close`` and the server closes (RFC 9110 §15.5.14): the rest of the
    body can never be taken for a next request."""
    head, closed = _exchange(shipped_server, *_post(length=4 * CAP, sent=CAP))
    lines = head.decode("latin-1").lower().split("\r\n")
    assert lines[0].startswith("http/1.1 413")
    assert "connection: close" in lines
    assert closed


def test_a_request_within_the_cap_keeps_the_connection_open(shipped_server: int) -> None:
    """The check above can fail: an ordinary answer keeps the keep-alive connection."""
    head, closed = _exchange(shipped_server, *_post(length=2, sent=2))
    lines = head.decode("latin-1").lower().split("\r\n")
    assert not lines[0].startswith("http/1.1 413")
    assert "connection: close" not in lines
    assert not closed
