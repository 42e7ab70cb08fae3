"""Operator commands for data-subject requests and retention."""

from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    """Add this package's commands to ``flask``."""
