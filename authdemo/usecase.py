"""One use case, one transaction: what a refusal keeps (decision 0012).

A use case is one service function that performs every write of one user action. When it
refuses, it does not raise past writes it means to keep (a used challenge, the refusal's
audit row): it returns ``Refused`` and the caller (a route or a CLI command) commits, then
answers with the refusal's error. Its person-data writes run in ``refusable``, a savepoint,
so a refusal or a lost race there undoes them all and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from authdemo.errors import AuthDemoError


@dataclass(frozen=True, slots=True)
class Refused:
    """The use case said no. The session holds only what the refusal keeps: commit it,
    then answer with ``error`` (mapped once, in authdemo/errors.py)."""

    error: AuthDemoError
    #: The ceremony in the browser's cookie was not used up (the answer was to another
    #: ceremony: a stale tab): the route puts its token back, so the current one can finish.
    ceremony_kept: bool = False


@contextmanager
def refusable(session: Session) -> Iterator[None]:
    """The writes of a use case that a refusal must undo, in a savepoint.

    Any exception inside (a typed refusal, an ``IntegrityError`` from a lost race) rolls
    back to the savepoint, leaving what the use case wrote before it (the used
    challenge), and propagates."""
    with session.begin_nested():
        yield
