"""The HTTP servers ``make bench`` compares, and the baseline tree it measures beside them
(issue 18 items 3 and 5).

A *target* is one source tree (this checkout, or the baseline commit checked out in a
temporary git worktree with a venv of its own) served by one HTTP server on one database.
``compare`` starts every target of a sweep at once (each on its own fresh database) and
then, rate after rate, loads one target at a time: the targets are measured in the same
run, interleaved, so a machine that gets busier halfway through charges all of them alike.

Servers compared (all with two worker processes, as shipped for a 2-core machine):

* ``gunicorn-gthread``: ``bench/gunicorn.conf.py`` (``deploy/gunicorn.conf.py`` in a tree
  from before decision 0020, which shipped it), 2 threads per worker.
* ``gunicorn-sync``: the same file with ``--worker-class sync`` (one request at a time per
  worker; it closes every connection after its answer, so each request reconnects).
* ``granian``: the Rust HTTP server's WSGI interface, 2 blocking threads per worker
  (``deploy/serve.py`` where it is shipped).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The landed commit before issue 18's work: what ``--baseline`` measures by default.
DEFAULT_BASELINE = "0f31aa7"
#: Where the baseline's venv is kept between runs (keyed by its lock file's digest), so a
#: second run does not reinstall it; ``make clean`` does not touch it, ``rm -rf`` does.
BASELINE_CACHE = PROJECT_ROOT / "instance" / "bench-baseline"

SERVERS = ("gunicorn-gthread", "gunicorn-sync", "granian")


@dataclass(frozen=True, slots=True)
class Tree:
    """A source tree and the venv whose binaries serve it."""

    label: str
    root: Path
    bin: Path


def this_tree() -> Tree:
    return Tree("this tree", PROJECT_ROOT, Path(sys.executable).parent)


def server_command(server: str, tree: Tree, *, port: int, workers: int, threads: int) -> list[str]:
    """The command line that serves ``tree`` with ``server`` on 127.0.0.1:``port``."""
    if server.startswith("gunicorn-"):
        worker_class = server.removeprefix("gunicorn-")
        config = tree.root / "deploy" / "gunicorn.conf.py"  # shipped before decision 0020
        if not config.exists():
            config = tree.root / "bench" / "gunicorn.conf.py"
        command = [
            str(tree.bin / "gunicorn"),
            "--config",
            str(config),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            worker_class,
        ]
        if worker_class == "gthread":
            command += ["--threads", str(threads)]
        return [*command, "authdemo:create_app()"]
    if server == "granian":
        shipped = tree.root / "deploy" / "serve.py"
        if shipped.exists():  # the shipped settings (decision 0020)
            return [str(tree.bin / "python"), str(shipped)]
        return [
            str(tree.bin / "granian"),
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--blocking-threads",
            str(threads),
            "--no-ws",
            "--log-level",
            "warning",
            "--factory",
            "authdemo:create_app",
        ]
    raise ValueError(f"unknown server {server!r}; choose from {', '.join(SERVERS)}")


# --- the baseline -------------------------------------------------------------------------


def _git(*args: str, cwd: Path = PROJECT_ROOT) -> str:
    return subprocess.run(  # noqa: S603 - git with fixed arguments
        ["git", *args],  # noqa: S607
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.strip()


def resolve(ref: str) -> str:
    """The full commit id of ``ref`` (a tag, a branch, an abbreviated id)."""
    return _git("rev-parse", "--verify", f"{ref}^{{commit}}")


@contextmanager
def baseline_tree(ref: str) -> Iterator[Tree]:
    """``ref`` checked out in a temporary git worktree, served from a venv of its own
    installed from *its* hashed lock file (``--require-hashes``, as ``make serve`` does).

    The worktree is removed afterwards; the venv is kept under ``instance/bench-baseline``
    keyed by the lock file's SHA-256 (building it takes minutes on 2 cores)."""
    commit = resolve(ref)
    BASELINE_CACHE.mkdir(parents=True, exist_ok=True)
    worktree = Path(tempfile.mkdtemp(prefix=f"tree-{commit[:7]}-", dir=BASELINE_CACHE))
    worktree.rmdir()
    _git("worktree", "add", "--detach", str(worktree), commit)
    try:
        lock = worktree / "requirements" / "main.lock"
        digest = hashlib.sha256(lock.read_bytes()).hexdigest()[:16]
        venv = BASELINE_CACHE / f"venv-{digest}"
        if not (venv / ".installed").exists():
            print(f"Building the baseline's venv ({commit[:7]}, {lock.name}): a few minutes.")
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
            subprocess.run(  # noqa: S603 - pip from the venv just made, hashed lock file
                [
                    str(venv / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--require-hashes",
                    "-r",
                    str(lock),
                ],
                check=True,
            )
            (venv / ".installed").write_text(commit + "\n")
        yield Tree(f"baseline {commit[:7]}", worktree, venv / "bin")
    finally:
        _git("worktree", "remove", "--force", str(worktree))


def environment_for(tree: Tree) -> dict[str, str]:
    """What a server of ``tree`` needs to import its own package (the baseline's venv has
    the dependencies only, not the project installed)."""
    path = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": str(tree.root) + (os.pathsep + path if path else "")}


#: What ``make serve``, the systemd unit and docs/deployment.md run (decision 0020).
SHIPPED = "granian"
