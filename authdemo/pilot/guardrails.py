"""Guardrails: automatic rollback of passkey *enrolment* when the pilot goes wrong
(issue 20 item 4; docs/rollout.md "Guardrails"; docs/decisions/0022-pilot-and-guardrails.md).

``flask guardrails check`` (a systemd timer, or cron) counts, from the database, what
happened over a sliding window: the audit trail (sign-in successes and failures by method,
recovery-code sign-ins, operator recoveries, consent withdrawals, passkeys added, ceremony
problems the pages reported) and the ``complaints`` table. Not from Prometheus: a process
cannot read the counters of the others, and the database is what every instance shares.

Each guardrail is judged only once its denominator reaches its minimum sample (a handful
of sign-ins proves nothing), over the window ``GUARDRAIL_WINDOW_HOURS`` long that never
reaches back before passkey enrolment was last resumed (what a person resumed after is not
held against it again). A breach pauses passkey enrolment through the runtime switch,
audited with the figures. It never pauses sign-in (that would strand people whose only way
in is a passkey) and never resumes anything: resuming is a person's decision, ``flask
passkeys resume enrolment``. A second run while paused changes and records nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from authdemo.audit import Event
from authdemo.config import Settings
from authdemo.models import AuditEvent, Complaint, RuntimeSwitch
from authdemo.pilot import switches
from authdemo.pilot.report import NOT_AN_ATTEMPT
from authdemo.pilot.switches import Switch


class Name(enum.StrEnum):
    PASSKEY_SUCCESS = "passkey_success"
    CEREMONY_PROBLEMS = "ceremony_problems"
    COMPLAINTS = "complaints"
    LOCKOUTS = "lockouts"
    WITHDRAWALS = "withdrawals"


@dataclass(frozen=True, slots=True)
class Guardrail:
    name: Name
    #: What is counted over what, in words (the CLI and the audit reason say it).
    measures: str
    #: True: breached below ``limit`` (a floor); False: above it (a ceiling).
    floor: bool
    #: The limit as a fraction (0.9 for 90 %, 0.01 for 10 per 1,000).
    limit: float
    min_sample: int
    #: How the rate is shown: "%" or "per 1,000".
    unit: str


def configured(settings: Settings) -> tuple[Guardrail, ...]:
    """The guardrails with this deployment's thresholds, in the order they are judged."""
    s = settings
    return (
        Guardrail(
            Name.PASSKEY_SUCCESS,
            "passkey sign-ins that succeeded, of passkey sign-in attempts",
            floor=True,
            limit=s.GUARDRAIL_PASSKEY_SUCCESS_MIN_PERCENT / 100,
            min_sample=s.GUARDRAIL_PASSKEY_SUCCESS_MIN_SAMPLE,
            unit="%",
        ),
        Guardrail(
            Name.CEREMONY_PROBLEMS,
            "passkey ceremonies the browser cancelled or failed, of passkey ceremonies",
            floor=False,
            limit=s.GUARDRAIL_CEREMONY_PROBLEMS_MAX_PERCENT / 100,
            min_sample=s.GUARDRAIL_CEREMONY_PROBLEMS_MIN_SAMPLE,
            unit="%",
        ),
        Guardrail(
            Name.COMPLAINTS,
            "problem reports per successful sign-in",
            floor=False,
            limit=s.GUARDRAIL_COMPLAINTS_MAX_PER_MILLE / 1000,
            min_sample=s.GUARDRAIL_COMPLAINTS_MIN_SAMPLE,
            unit="per 1,000",
        ),
        Guardrail(
            Name.LOCKOUTS,
            "recovery-code sign-ins and operator recoveries per successful sign-in",
            floor=False,
            limit=s.GUARDRAIL_LOCKOUTS_MAX_PER_MILLE / 1000,
            min_sample=s.GUARDRAIL_LOCKOUTS_MIN_SAMPLE,
            unit="per 1,000",
        ),
        Guardrail(
            Name.WITHDRAWALS,
            "passkey consent withdrawals per successful passkey sign-in",
            floor=False,
            limit=s.GUARDRAIL_WITHDRAWALS_MAX_PERCENT / 100,
            min_sample=s.GUARDRAIL_WITHDRAWALS_MIN_SAMPLE,
            unit="%",
        ),
    )


@dataclass(frozen=True, slots=True)
class Reading:
    guardrail: Guardrail
    numerator: int
    denominator: int

    @property
    def judged(self) -> bool:
        return self.denominator >= self.guardrail.min_sample

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def breached(self) -> bool:
        if not self.judged or self.rate is None:
            return False
        g = self.guardrail
        return self.rate < g.limit if g.floor else self.rate > g.limit

    def shown(self, value: float | None) -> str:
        if value is None:
            return "-"
        scale = 100 if self.guardrail.unit == "%" else 1000
        text = f"{value * scale:.1f}".removesuffix(".0")
        return f"{text} %" if self.guardrail.unit == "%" else f"{text} per 1,000"

    def figures(self) -> dict[str, Any]:
        """For the audit trail: counts and rates only, nothing about anyone."""
        return {
            "numerator": self.numerator,
            "denominator": self.denominator,
            "rate": None if self.rate is None else round(self.rate, 6),
            "limit": self.guardrail.limit,
            "floor": self.guardrail.floor,
            "min_sample": self.guardrail.min_sample,
        }

    def line(self) -> str:
        g = self.guardrail
        bound = "floor" if g.floor else "ceiling"
        state = (
            "BREACHED"
            if self.breached
            else ("ok" if self.judged else f"not judged (fewer than {g.min_sample})")
        )
        return (
            f"{g.name}: {self.shown(self.rate)} ({self.numerator} of {self.denominator}; "
            f"{bound} {self.shown(g.limit)}): {state}"
        )


# --- counting, from the database --------------------------------------------------------


def _method_is(method: str) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = AuditEvent.details["method"].as_string() == method
    return condition


def _count_events(
    session: Session, start: datetime, end: datetime, *conditions: ColumnElement[bool]
) -> int:
    query = (
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.occurred_at >= start, AuditEvent.occurred_at <= end, *conditions)
    )
    return int(session.execute(query).scalar_one())


@dataclass(frozen=True, slots=True)
class Counts:
    """What happened in one window, from the audit trail and the complaints table."""

    passkey_sign_ins: int
    passkey_failures: int
    sign_ins: int
    passkeys_added: int
    passkey_step_ups: int
    ceremony_problems: int
    recovery_code_sign_ins: int
    operator_recoveries: int
    withdrawals: int
    complaints: int


def count(session: Session, *, start: datetime, end: datetime) -> Counts:
    def events(event: Event, *more: ColumnElement[bool]) -> int:
        return _count_events(session, start, end, AuditEvent.event == str(event), *more)

    complaints = session.execute(
        select(func.count())
        .select_from(Complaint)
        .where(Complaint.received_at >= start, Complaint.received_at <= end)
    ).scalar_one()
    return Counts(
        passkey_sign_ins=events(Event.SIGN_IN_SUCCEEDED, _method_is("passkey")),
        passkey_failures=events(
            Event.SIGN_IN_FAILED,
            _method_is("passkey"),
            or_(
                AuditEvent.details["reason"].as_string().is_(None),
                AuditEvent.details["reason"].as_string().not_in(sorted(NOT_AN_ATTEMPT)),
            ),
        ),
        sign_ins=events(Event.SIGN_IN_SUCCEEDED),
        passkeys_added=events(Event.PASSKEY_ADDED),
        passkey_step_ups=events(Event.STEP_UP_SUCCEEDED, _method_is("passkey")),
        ceremony_problems=events(Event.PASSKEY_CEREMONY_PROBLEM),
        recovery_code_sign_ins=events(Event.RECOVERY_CODE_USED),
        operator_recoveries=events(Event.OPERATOR_RECOVERY),
        withdrawals=events(Event.CONSENT_WITHDRAWN),
        complaints=int(complaints),
    )


def read_all(guardrails: tuple[Guardrail, ...], counts: Counts) -> list[Reading]:
    c = counts
    sign_ins = c.sign_ins + c.recovery_code_sign_ins
    finished = c.passkey_sign_ins + c.passkeys_added + c.passkey_step_ups
    pairs: Mapping[Name, tuple[int, int]] = {
        Name.PASSKEY_SUCCESS: (c.passkey_sign_ins, c.passkey_sign_ins + c.passkey_failures),
        Name.CEREMONY_PROBLEMS: (c.ceremony_problems, c.ceremony_problems + finished),
        Name.COMPLAINTS: (c.complaints, sign_ins),
        Name.LOCKOUTS: (c.recovery_code_sign_ins + c.operator_recoveries, sign_ins),
        Name.WITHDRAWALS: (c.withdrawals, c.passkey_sign_ins),
    }
    return [Reading(g, *pairs[g.name]) for g in guardrails]


# --- the check: one use case ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    window_start: datetime
    readings: list[Reading]
    #: The guardrail that paused enrolment in this run, if one did.
    paused_by: Name | None
    #: Enrolment was already off (paused earlier, or switched off at start-up).
    already_off: bool

    @property
    def breached(self) -> list[Reading]:
        return [r for r in self.readings if r.breached]


def window_start(session: Session, settings: Settings, *, now: datetime) -> datetime:
    """``GUARDRAIL_WINDOW_HOURS`` back, but never before enrolment was last resumed."""
    start = now - timedelta(hours=settings.GUARDRAIL_WINDOW_HOURS)
    row = session.get(RuntimeSwitch, str(Switch.ENROLMENT))
    if row is not None and row.enabled and row.changed_at > start:
        return row.changed_at
    return start


def check(session: Session, settings: Settings, *, now: datetime) -> Outcome:
    """Judge every guardrail; on a breach pause passkey enrolment (once), audited with
    every breached guardrail's figures. The caller commits, then drops its switch cache."""
    start = window_start(session, settings, now=now)
    readings = read_all(configured(settings), count(session, start=start, end=now))
    breached = [r for r in readings if r.breached]
    enrolment_on, _signin = switches.read(session).effective(settings)
    if not breached or not enrolment_on:
        return Outcome(start, readings, None, already_off=not enrolment_on)
    first = breached[0]
    g = first.guardrail
    reason = (
        f"guardrail {g.name}: {first.shown(first.rate)} "
        f"{'below' if g.floor else 'above'} {first.shown(g.limit)} "
        f"({first.numerator} of {first.denominator} since {start:%Y-%m-%d %H:%M} UTC)"
    )
    switches.change(
        session,
        Switch.ENROLMENT,
        enabled=False,
        reason=reason,
        by=f"guardrail:{g.name}",
        now=now,
        figures={
            "window_start": start.isoformat(),
            **{str(r.guardrail.name): r.figures() for r in breached},
        },
    )
    return Outcome(start, readings, g.name, already_off=False)


def paused_by(session: Session) -> Name | None:
    """The guardrail that paused passkey enrolment, while it stays paused (for /metrics)."""
    row = session.get(RuntimeSwitch, str(Switch.ENROLMENT))
    if row is None or row.enabled or not row.changed_by.startswith("guardrail:"):
        return None
    name = row.changed_by.removeprefix("guardrail:")
    return Name(name) if name in {str(n) for n in Name} else None
