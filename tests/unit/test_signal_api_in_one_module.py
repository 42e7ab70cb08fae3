"""The browser's Signal API is called from one module, static/js/signal.js (issue 14
item 5): its helpers feature-detect, cap the wait and never throw, so every page that
signals gets the same behaviour."""

from __future__ import annotations

import re
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[2] / "static" / "js"
# A call, not a mention in a comment: PublicKeyCredential.signalX( or PublicKeyCredential[...]
DIRECT_CALL = re.compile(r"PublicKeyCredential(\.signal\w+\s*\(|\s*\[)")


def test_only_signal_js_calls_the_signal_api() -> None:
    callers = [
        path.name
        for path in sorted(SCRIPTS.glob("*.js"))
        if path.name != "signal.js" and DIRECT_CALL.search(path.read_text())
    ]
    assert callers == []
    assert DIRECT_CALL.search((SCRIPTS / "signal.js").read_text())
