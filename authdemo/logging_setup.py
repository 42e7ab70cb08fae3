"""Structured logs: one JSON object per line in production, with a request id.

What is logged is decided at each call site, and none of them logs personal data or
secrets: no usernames, passwords, codes, keys, challenges, session ids, addresses or
user agents (test: tests/functional/test_logs.py). SQLAlchemy is told to hide statement
parameters, so even a database error message carries no values.
"""

from __future__ import annotations

import json
import logging
import secrets
import sys
from datetime import UTC, datetime

from flask import Flask, Response, g, has_request_context

from authdemo.config import Settings

REQUEST_ID_HEADER = "X-Request-ID"
HANDLER_NAME = "authdemo"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id") if has_request_context() else None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(app: Flask, settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if settings.is_production:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    handler.set_name(HANDLER_NAME)
    logger = logging.getLogger("authdemo")
    for old in [h for h in logger.handlers if h.get_name() == HANDLER_NAME]:
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    @app.before_request
    def _assign_request_id() -> None:
        g.request_id = secrets.token_hex(8)

    @app.after_request
    def _expose_request_id(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
        return response
