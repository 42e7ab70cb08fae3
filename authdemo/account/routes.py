"""Account management pages and endpoints."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("account", __name__)
