"""JSON that someone else wrote (a request body, a browser's clientDataJSON): the one
place that knows every way ``json.loads`` can fail on hostile bytes, so each can be
answered as bad input (4xx), never as a server error.
"""

from __future__ import annotations

import json


def loads(raw: bytes) -> object:
    """``raw`` (UTF-8) as JSON; ``ValueError`` for anything that is not.

    ``json.loads`` raises ValueError for JSONDecodeError, UnicodeDecodeError and Python's
    limit on integer literals (over 4300 digits), but RecursionError for very deep nesting
    (3 KB of "[" is enough): both are the sender's fault, so both are a ValueError here."""
    try:
        return json.loads(raw.decode("utf-8"))
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc
