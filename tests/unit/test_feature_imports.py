"""Features do not import each other through ``authdemo.current`` (issue 14 item 8).

``current`` holds only what every feature shares; each feature builds its collaborators
in its own ``wiring.py``. Checked from the outside too: the service modules are imported in a
fresh interpreter, without a Flask app, and load no route module, no ``current`` and no
wiring. (What a set of modules loads is the union of what each loads, so one
interpreter answers for each of them.)
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "authdemo"
SERVICES = [
    "authdemo.passkeys.service",
    "authdemo.fallback.service",
    "authdemo.account.service",
    "authdemo.consent.service",
    "authdemo.privacy.service",
    "authdemo.sessions.service",
]
PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
from flask import has_app_context
assert not has_app_context()
print(json.dumps(sorted(m for m in sys.modules if m.startswith("authdemo."))))
"""


def test_current_imports_no_feature_package() -> None:
    tree = ast.parse((PACKAGE / "current.py").read_text())
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("authdemo")
    }
    assert imported <= {"authdemo.config", "authdemo.secrets_at_rest"}, imported


def test_services_import_without_routes_or_request_wiring() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *SERVICES],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    request_layer = [
        name
        for name in loaded
        if name.endswith((".routes", ".wiring", ".web", ".auth")) or name == "authdemo.current"
    ]
    assert set(SERVICES) <= set(loaded)
    assert request_layer == [], f"importing the services loaded {request_layer}"
