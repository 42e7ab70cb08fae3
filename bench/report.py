"""The machine a run happened on, plain-text tables, and ``bench/results.json``."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

#: Libraries whose versions move the figures.
LIBRARIES = (
    "flask",
    "werkzeug",
    "flask-limiter",
    "limits",
    "flask-wtf",
    "flask-login",
    "sqlalchemy",
    "webauthn",
    "cryptography",
    "gunicorn",
    "granian",
    "psycopg",
)


def machine(db_dir: Path) -> dict[str, Any]:
    """What a reader needs to compare figures across machines."""
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        # A tmpfs turns fsync into a no-op and makes SYNCHRONOUS=FULL look free. The
        # folder itself is not recorded: results.json names no path of the machine.
        "database_filesystem": _filesystem_type(db_dir),
        "libraries": versions,
        "load_average_at_start": load_average(),
    }


def load_average() -> list[float] | None:
    """1, 5 and 15-minute load averages: other work on the machine skews every figure."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def busy_warning(cpus: int | None) -> str | None:
    """A warning to print when other processes were already using the CPUs."""
    load = load_average()
    if load is None or not cpus or load[0] < cpus / 2:
        return None
    return (
        f"WARNING: 1-minute load average {load[0]:.1f} on {cpus} CPUs: other processes are "
        "busy, so the figures are slower and noisier than this machine can do."
    )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _filesystem_type(path: Path) -> str:
    """The type of the mount holding ``path`` (Linux only; "unknown" elsewhere)."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return "unknown"
    target = str(path.resolve())
    best, kind = "", "unknown"
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        mount_point = fields[1]
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) > len(best):
            best, kind = mount_point, fields[2]
    return kind


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-align the first column, right-align the rest."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        first = row[0].ljust(widths[0])
        rest = [value.rjust(width) for value, width in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join([first, *rest]).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value >= 100:
            return f"{value:.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.3f}" if value < 1 else f"{value:.2f}"
    return str(value)


def write_results(path: Path, machine_info: dict[str, Any], benchmarks: dict[str, Any]) -> None:
    document = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {**machine_info, "load_average_at_end": load_average()},
        "benchmarks": benchmarks,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
