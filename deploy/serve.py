"""The shipped HTTP server: granian's WSGI interface with the settings `make serve`, the
systemd unit and docs/deployment.md use (decision 0020, chosen by `make bench`).

    python deploy/serve.py            # serve
    python deploy/serve.py --check    # only check the settings (make serve does first)

Two worker processes with two threads each suit a 2-core machine: passkey verification is
CPU-bound but short, and a second thread works while the first waits for a commit's
fsync. Configure with AUTHDEMO_BIND (127.0.0.1:8000), AUTHDEMO_WORKERS (2) and
AUTHDEMO_THREADS (2); start it with MALLOC_ARENA_MAX=2 in its environment (make serve and
the unit do): fewer malloc arenas, a few MB less per worker.

What the earlier gunicorn configuration did, and where it lives now:

* Several workers need rate-limit counters they all share
  (AUTHDEMO_RATELIMIT_STORAGE_URI=redis://...): refused here, before any worker starts
  (docs/decisions/0015-limits-as-shipped.md).
* No access log: it would record addresses and user agents (compliance/retention.md).
* Forwarded headers: granian passes X-Forwarded-* through untouched and sets the scheme
  from its own socket; the app trusts exactly AUTHDEMO_PROXY_HOPS proxies (werkzeug
  ProxyFix in create_app), so a client cannot spoof them past the proxy.
* A body the app refuses unread (413) ends the connection: granian honours the app's
  ``Connection: close`` (gunicorn dropped it and needed a pre_request hook).
* Prometheus multiprocess mode: every worker writes its counters under
  PROMETHEUS_MULTIPROC_DIR and /metrics adds them up. gunicorn's child_exit hook called
  ``mark_process_dead``, which only removes the files of *live* gauges; this app has none
  (its gauges are read at scrape time, authdemo/operations/metrics.py), so nothing is lost
  without the hook (tests/unit/test_server_settings.py keeps it so). Unless the operator
  names a folder (then it is theirs, used and left alone), the launcher makes one in the
  temporary folder and removes it when the server stops, by SIGTERM or Ctrl-C
  (tests/production/test_launcher_leaves_nothing.py).

A setting the launcher cannot use (a worker count that is not a whole number, a bind
address without a port), or one the app refuses (production without its keys, a
placeholder controller), stops it with one line that names the setting, before anything
starts.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from granian import Granian
from granian.constants import Interfaces
from granian.log import LogLevels

from authdemo import instance_folder
from authdemo.config import ConfigError, load_settings
from authdemo.ratelimit import StorageNotShared, check_server_environment

#: How long a worker may finish its requests after SIGTERM/SIGINT before it is killed.
GRACEFUL_SECONDS = 10
#: Where prometheus_client's multiprocess mode keeps the workers' files.
METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"


class ServerSettingError(ValueError):
    """An ``AUTHDEMO_*`` server setting the launcher cannot use; the message names it."""


#: A whole number as an operator writes it (str.isdigit would take "²", which int refuses).
_WHOLE_NUMBER = re.compile(r"\s*[0-9]{1,9}\s*")


def _count(environ: Mapping[str, str], name: str, default: str, what: str) -> int:
    value = environ.get(name, default)
    if not _WHOLE_NUMBER.fullmatch(value) or int(value) < 1:
        raise ServerSettingError(f"{name} must be a whole number of {what}, at least 1: {value!r}")
    return int(value)


def _bind(environ: Mapping[str, str]) -> tuple[str, int]:
    """``AUTHDEMO_BIND`` as (address, port): ``HOST:PORT``, ``[IPv6]:PORT`` or ``:PORT``
    (loopback)."""
    name = "AUTHDEMO_BIND"
    value = environ.get(name, "127.0.0.1:8000")
    host, colon, port = value.strip().rpartition(":")
    if not colon or not _WHOLE_NUMBER.fullmatch(port) or not 0 < int(port) < 65536:
        raise ServerSettingError(
            f"{name} must be HOST:PORT with a port from 1 to 65535, "
            f"e.g. 127.0.0.1:8000 or [::1]:8000: {value!r}"
        )
    return host.strip("[]") or "127.0.0.1", int(port)


def server(environ: Mapping[str, str] = os.environ) -> Granian:
    """The server as shipped, from ``AUTHDEMO_*`` variables. Raises ServerSettingError for
    a setting it cannot use, and StorageNotShared when several workers would each count
    rate limits on their own."""
    host, port = _bind(environ)
    workers = _count(environ, "AUTHDEMO_WORKERS", "2", "worker processes")
    threads = _count(environ, "AUTHDEMO_THREADS", "2", "threads per worker")
    check_server_environment(environ, workers)
    return Granian(
        "authdemo:create_app",
        factory=True,
        interface=Interfaces.WSGI,
        address=host,
        port=port,
        workers=workers,
        blocking_threads=threads,
        websockets=False,
        log_access=False,
        log_level=LogLevels.warning,
        workers_kill_timeout=GRACEFUL_SECONDS,
        respawn_failed_workers=True,
    )


@contextmanager
def metrics_folder() -> Iterator[str]:
    """The folder the workers write their metric files to: the operator's
    PROMETHEUS_MULTIPROC_DIR, or one made for this run and removed when it ends. Set in
    the environment before the workers start, so each inherits it."""
    if os.environ.get(METRICS_DIR):
        yield os.environ[METRICS_DIR]
        return
    made = tempfile.mkdtemp(prefix="authdemo-metrics-")
    os.environ[METRICS_DIR] = made
    try:
        yield made
    finally:
        shutil.rmtree(made, ignore_errors=True)


def main(argv: list[str] = sys.argv[1:]) -> int:
    """Serve; with ``--check``, only check the settings (make serve does first, so a bad
    setting is one line before the migrations run, not a traceback from them)."""
    if argv not in ([], ["--check"]):
        print("usage: python deploy/serve.py [--check]", file=sys.stderr)
        return 2
    try:
        # The app's own settings, checked once here as each worker's create_app will: a
        # worker that fails them exits, is started again and fails again, each time with a
        # traceback, until granian gives up on the crash loop.
        load_settings(instance_path=instance_folder())
        shipped = server()
    except (ConfigError, ServerSettingError, StorageNotShared) as refused:
        print(f"authdemo: {refused}", file=sys.stderr)
        return 1
    if argv == ["--check"]:
        return 0
    # granian stops its workers on SIGTERM and SIGINT and then returns (or exits after a
    # worker crash loop): either way the folder goes with the server.
    with metrics_folder():
        shipped.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
