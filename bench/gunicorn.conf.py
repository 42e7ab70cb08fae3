"""gunicorn settings as shipped before decision 0020 (deploy/serve.py, granian, is shipped
now), kept so that `make bench` can measure gunicorn's gthread and sync workers beside it.

Two workers with two threads each suit a 2-core machine: passkey verification is
CPU-bound but short, and a second thread works while the first waits for a commit's
fsync. Start gunicorn with MALLOC_ARENA_MAX=2 in its environment: fewer malloc arenas, a
few MB less per worker. More than one worker needs rate-limit counters they all share:
AUTHDEMO_RATELIMIT_STORAGE_URI=redis://... (gunicorn refuses to start otherwise).
"""

import os
import sys
import tempfile

bind = os.environ.get("AUTHDEMO_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("AUTHDEMO_WORKERS", "2"))
threads = int(os.environ.get("AUTHDEMO_THREADS", "2"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 10
keepalive = 5
# The heartbeat is an fchmod on a file in this directory from every worker loop; on a
# disk-backed /tmp it can block (gunicorn FAQ, "Blocking os.fchmod"), so keep it in memory.
_SHM = "/dev/shm"  # noqa: S108 - gunicorn creates its file there with mkstemp, unlinked
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None
# No access log by default: it would record addresses and user agents (see
# compliance/retention.md). Enable it in your proxy with your own retention if needed.
accesslog = None
errorlog = "-"
# Let a TLS-terminating proxy on the same host set X-Forwarded-*; the app trusts exactly
# AUTHDEMO_PROXY_HOPS of them (werkzeug ProxyFix).
forwarded_allow_ips = os.environ.get("AUTHDEMO_FORWARDED_ALLOW_IPS", "127.0.0.1")

# Prometheus multiprocess mode: every worker writes its counters to this directory and
# /metrics aggregates them.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="authdemo-metrics-"))


def on_starting(server):  # type: ignore[no-untyped-def]
    """Refuse several workers that would each keep their own rate-limit counters: every
    stated limit would then hold only per worker (docs/decisions/0015-limits-as-shipped.md)."""
    from authdemo.ratelimit import StorageNotShared, check_server_environment

    try:
        check_server_environment(os.environ, server.cfg.workers)
    except StorageNotShared as refused:
        server.log.error("authdemo: %s", refused)
        sys.exit(1)


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def pre_request(worker, req):  # type: ignore[no-untyped-def]
    """A body the app refuses unread (413, over ``AUTHDEMO_MAX_REQUEST_BYTES``) ends the
    connection with the answer (RFC 9110 §15.5.14): what follows on the connection is the
    rest of that body, not a next request. The app's own ``Connection: close`` is a
    hop-by-hop header gunicorn drops (PEP 3333), so the worker is told here, from the
    declared length; a chunked body (size unknown until read) closes too."""
    limit = getattr(worker.wsgi, "config", {}).get("MAX_CONTENT_LENGTH")
    if limit is None:
        return
    for name, value in req.headers:
        if name == "TRANSFER-ENCODING" or (
            name == "CONTENT-LENGTH" and (not value.isdigit() or int(value) > limit)
        ):
            req.must_close = True
