"""The shipped HTTP server: granian's WSGI interface with the settings `make serve`, the
systemd unit and docs/deployment.md use (decision 0020, chosen by `make bench`).

    python deploy/serve.py

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
  without the hook (tests/unit/test_server_settings.py keeps it so).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping

from granian import Granian
from granian.constants import Interfaces
from granian.log import LogLevels

from authdemo.ratelimit import StorageNotShared, check_server_environment

#: How long a worker may finish its requests after SIGTERM/SIGINT before it is killed.
GRACEFUL_SECONDS = 10


def server(environ: Mapping[str, str] = os.environ) -> Granian:
    """The server as shipped, from ``AUTHDEMO_*`` variables (raises StorageNotShared when
    several workers would each count rate limits on their own)."""
    host, _, port = environ.get("AUTHDEMO_BIND", "127.0.0.1:8000").rpartition(":")
    workers = int(environ.get("AUTHDEMO_WORKERS", "2"))
    threads = int(environ.get("AUTHDEMO_THREADS", "2"))
    check_server_environment(environ, workers)
    return Granian(
        "authdemo:create_app",
        factory=True,
        interface=Interfaces.WSGI,
        address=host.strip("[]") or "127.0.0.1",
        port=int(port),
        workers=workers,
        blocking_threads=threads,
        websockets=False,
        log_access=False,
        log_level=LogLevels.warning,
        workers_kill_timeout=GRACEFUL_SECONDS,
        respawn_failed_workers=True,
    )


def main() -> int:
    # Set before the workers start, so each writes its counters there (and inherits it).
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="authdemo-metrics-"))
    try:
        shipped = server()
    except StorageNotShared as refused:
        print(f"authdemo: {refused}", file=sys.stderr)
        return 1
    shipped.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
