"""The apps a test made, for the suite to close their database engines afterwards.

Kept here, not in tests/conftest.py: pytest loads that file as the module ``conftest``
while test modules import it as ``tests.conftest``, two module objects with a list each.
An app made through one would never be closed by the fixture of the other, and on
PostgreSQL (100 connections) a long run would run out of connections."""

from __future__ import annotations

from flask import Flask

OPEN_APPS: list[Flask] = []
