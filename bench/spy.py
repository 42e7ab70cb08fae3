"""Where the server's workers spend their time under load, sampled with py-spy (issue 10,
item 7: where a target is missed, profile).

``python -m bench --spy`` samples every worker while the open-loop client sends passkey
sign-ins at ``SPY_RATE`` (below capacity, so the samples show work rather than queueing).
Each sample is charged to the layer of its innermost frame that belongs to a known
package; the standard library is charged to whoever called it, as in the in-process
cProfile breakdown (``bench/profiling.py``). py-spy means to count only running threads,
but it takes some waits for work (an idle pool thread, the epoll loop, fsync): those are
shown as their own rows rather than charged to a layer.

py-spy reads the workers' memory from outside (ptrace): it needs root or CAP_SYS_PTRACE.
Without them the step says why it was skipped.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import http_load
from bench.profiling import categorize
from bench.report import table

SPY_RATE = 200
SPY_SECONDS = 5.0
SAMPLES_PER_SECOND = 250
PY_SPY = Path(sys.executable).parent / "py-spy"
_FRAME = re.compile(r"^(?P<name>.*) \((?P<file>[^()]*):(?P<line>\d+)\)$")
# Innermost frames that are really waits in C (py-spy's idle detection misses them) or a
# call into SQLite's C code, which py-spy shows as the Python frame that made it.
_INNERMOST = {
    ("_worker", "thread.py"): "waiting: idle pool thread (a queue get)",
    ("select", "selectors.py"): "waiting: idle main loop (epoll)",
    ("do_commit", "default.py"): "sqlite3 C: commit (WAL write, fsync)",
    ("do_execute", "default.py"): "sqlite3 C: execute, fetch",
}
# Layers the in-process profile never sees: the HTTP server and the metrics it feeds.
_SERVER_CATEGORIES = (
    ("/gunicorn/", "gunicorn (HTTP parsing, sockets, thread hand-off)"),
    ("/granian/", "granian's Python side (the Rust server itself is native code)"),
    ("/prometheus_client/", "Prometheus metrics"),
)


def run(
    server: http_load.Server, *, rate: int = SPY_RATE, seconds: float = SPY_SECONDS
) -> dict[str, Any]:
    """Sign-ins at ``rate`` for ``seconds`` while py-spy samples every worker."""
    if not PY_SPY.exists():
        return {"skipped": f"{PY_SPY} is not installed (make bench installs the dev extras)"}
    people = [http_load.sign_up(server, f"spy{n}") for n in range(http_load.CONNECTIONS)]
    pids = server.worker_pids()
    with tempfile.TemporaryDirectory(prefix="bench-spy-") as tmp:
        outputs = [Path(tmp) / f"worker-{pid}.txt" for pid in pids]
        spies = [
            subprocess.Popen(  # noqa: S603 - our own venv's py-spy, fixed arguments
                [
                    str(PY_SPY),
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(int(seconds) + 1),
                    "--rate",
                    str(SAMPLES_PER_SECOND),
                    "--format",
                    "raw",
                    "--nonblocking",
                    "--output",
                    str(output),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for pid, output in zip(pids, outputs, strict=True)
        ]
        try:
            time.sleep(0.5)  # let py-spy attach before the load starts
            load = http_load.open_loop(people, rate, seconds, http_load.DRAIN_SECONDS, pids)
            errors = [spy.communicate(timeout=seconds + 30)[1] for spy in spies]
        finally:
            for spy in spies:
                spy.kill()
            for person in people:
                person.client.close()
        failed = [e for spy, e in zip(spies, errors, strict=True) if spy.returncode != 0]
        if failed or not all(o.exists() for o in outputs):
            reason = (
                (failed[0].strip().splitlines() or ["no output"])[-1] if failed else "no output"
            )
            return {"skipped": f"py-spy could not sample the workers: {reason}"}
        stacks = Counter[str]()
        for output in outputs:
            for line in output.read_text().splitlines():
                stack, _, count = line.rpartition(" ")
                if stack and count.isdigit():
                    stacks[stack] += int(count)
    return summarise(stacks, rate=rate, seconds=seconds, ok=load.ok, errors=load.errors)


def summarise(
    stacks: Counter[str], *, rate: int, seconds: float, ok: int, errors: int
) -> dict[str, Any]:
    """Shares of samples per layer and per innermost function, from collapsed stacks."""
    layers = Counter[str]()
    leaves = Counter[str]()
    total = sum(stacks.values())
    for stack, count in stacks.items():
        frames = [_parse(frame) for frame in stack.split(";")]
        layers[_layer(frames)] += count
        name, file, _line = frames[-1]
        leaves[f"{name} ({_short(file)})"] += count
    share = {name: round(n / total * 100, 1) for name, n in layers.most_common()} if total else {}
    return {
        "rate_per_second": rate,
        "seconds": seconds,
        "sign_ins_ok": ok,
        "errors": errors,
        "samples": total,
        "share_percent_by_layer": share,
        "top_innermost_functions_percent": {
            name: round(n / total * 100, 1) for name, n in leaves.most_common(12)
        }
        if total
        else {},
    }


def print_summary(result: dict[str, Any]) -> None:
    if "skipped" in result:
        print(f"Skipped: {result['skipped']}")
        return
    print(
        f"py-spy, {result['samples']} samples of running worker threads at "
        f"{result['rate_per_second']}/s for {result['seconds']:g} s "
        f"({result['sign_ins_ok']} sign-ins, {result['errors']} errors):\n"
    )
    rows = [[name, share] for name, share in result["share_percent_by_layer"].items()]
    print(table(("layer (innermost known frame)", "share %"), rows))
    print()
    rows = [[name, share] for name, share in result["top_innermost_functions_percent"].items()]
    print(table(("innermost function", "share %"), rows))


def _parse(frame: str) -> tuple[str, str, int]:
    match = _FRAME.match(frame)
    if match is None:
        return frame, "", 0
    return match["name"], match["file"], int(match["line"])


def _layer(frames: list[tuple[str, str, int]]) -> str:
    name, file, _line = frames[-1]
    innermost = _INNERMOST.get((name.rpartition(".")[2], file.rpartition("/")[2]))
    if innermost is not None:
        return innermost
    for name, file, line in reversed(frames):
        path = "/" + file.lstrip("/")
        server = next((c for fragment, c in _SERVER_CATEGORIES if fragment in path), None)
        known = server or categorize((path, line, name))
        if known is not None:
            return known
    return "standard library (unattributed)"


def _short(file: str) -> str:
    parts = file.split("/")
    return "/".join(parts[-2:])
