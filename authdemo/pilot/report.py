"""``flask pilot report``: how the passkey pilot is going, per method and per cohort
(issue 20 item 5; docs/rollout.md "Reading the report").

Counted from the database (the audit trail and the complaints table), like the guardrails:
sign-in success rates with 95 % Wilson intervals, the gap between passkeys and password +
code with Newcombe's interval, lockouts, withdrawals, "No thanks" and problem reports per
1,000 sign-ins, and passkey sign-ins by passkey provider (AAGUID), the only "group" this
app can see (compliance/fairness-accessibility.md says why, and what measuring a
demographic gap would take instead).

The cohort of an event is where the *current* ``PASSKEY_PILOT_PERCENT`` places its
account: after widening, earlier events of accounts now inside count as pilot. A sign-in
that names no known account (and an erased one) is "unknown". Latency is not in the
database: it is on /metrics (``authdemo_pilot_sign_in_seconds``), the report says how to
read it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from authdemo.audit import Event
from authdemo.models import AuditEvent, Complaint, Passkey
from authdemo.passkeys.providers import ZERO_AAGUID, provider_name
from authdemo.pilot.stats import Interval, newcombe, wilson

METHODS = ("passkey", "password_totp", "recovery_code")
COHORTS = ("pilot", "outside", "unknown")
#: Prefix of an erased account's pseudonym (authdemo.privacy.service.ERASED_PREFIX).
_ERASED = "erased:"

#: Refusals that are not a person failing to sign in: an answer to another ceremony than
#: the browser's latest (a tab opened before another one; authdemo.passkeys.service).
NOT_AN_ATTEMPT = frozenset({"challenge_mismatch"})

_EVENTS = (
    Event.SIGN_IN_SUCCEEDED,
    Event.SIGN_IN_FAILED,
    Event.RECOVERY_CODE_USED,
    Event.OPERATOR_RECOVERY,
    Event.CONSENT_WITHDRAWN,
    Event.CONSENT_DECLINED,
)


@dataclass(slots=True)
class Tally:
    successes: int = 0
    failures: int = 0

    @property
    def attempts(self) -> int:
        return self.successes + self.failures

    def interval(self) -> Interval | None:
        return wilson(self.successes, self.attempts)


@dataclass(slots=True)
class Figures:
    """Everything the report prints, counted once."""

    since: datetime
    until: datetime
    #: (method, cohort) -> sign-in outcomes.
    sign_ins: dict[tuple[str, str], Tally] = field(default_factory=lambda: defaultdict(Tally))
    #: provider name -> passkey sign-in outcomes.
    providers: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    #: cohort -> count.
    lockouts: Counter[str] = field(default_factory=Counter)
    withdrawals: Counter[str] = field(default_factory=Counter)
    declines: Counter[str] = field(default_factory=Counter)
    #: (method or "signed out", cohort) -> problem reports.
    complaints: Counter[tuple[str, str]] = field(default_factory=Counter)

    def method_total(self, method: str) -> Tally:
        total = Tally()
        for (m, _cohort), tally in self.sign_ins.items():
            if m == method:
                total.successes += tally.successes
                total.failures += tally.failures
        return total

    def successes_in(self, cohort: str | None = None, method: str | None = None) -> int:
        return sum(
            t.successes
            for (m, c), t in self.sign_ins.items()
            if (cohort is None or c == cohort) and (method is None or m == method)
        )


def _provider(aaguid: str | None) -> str:
    if aaguid is None:
        return "passkey no longer stored"
    if aaguid == ZERO_AAGUID:
        return "provider not disclosed (zero AAGUID)"
    return provider_name(aaguid) or f"unlisted provider ({aaguid})"


def gather(
    session: Session, *, since: datetime, until: datetime, place: Callable[[str], str]
) -> Figures:
    """Count the window's events. ``place`` gives an account id's cohort."""
    figures = Figures(since, until)
    cohorts: dict[str, str] = {}

    def cohort_of(user_ref: str | None) -> str:
        if user_ref is None or user_ref.startswith(_ERASED):
            return "unknown"
        if user_ref not in cohorts:
            cohorts[user_ref] = place(user_ref)
        return cohorts[user_ref]

    aaguids = {row.id: row.aaguid for row in session.execute(select(Passkey.id, Passkey.aaguid))}
    query = (
        select(AuditEvent.event, AuditEvent.user_ref, AuditEvent.details)
        .where(
            AuditEvent.occurred_at >= since,
            AuditEvent.occurred_at <= until,
            AuditEvent.event.in_([str(e) for e in _EVENTS]),
        )
        .execution_options(yield_per=1000)
    )
    for event, user_ref, details in session.execute(query):
        cohort = cohort_of(user_ref)
        method = details.get("method")
        if event == Event.RECOVERY_CODE_USED:
            figures.sign_ins["recovery_code", cohort].successes += 1
            figures.lockouts[cohort] += 1
        elif event == Event.OPERATOR_RECOVERY:
            figures.lockouts[cohort] += 1
        elif event == Event.CONSENT_WITHDRAWN:
            figures.withdrawals[cohort] += 1
        elif event == Event.CONSENT_DECLINED:
            figures.declines[cohort] += 1
        elif details.get("reason") in NOT_AN_ATTEMPT:
            continue
        elif method in METHODS:
            succeeded = event == Event.SIGN_IN_SUCCEEDED
            tally = figures.sign_ins[method, cohort]
            if succeeded:
                tally.successes += 1
            else:
                tally.failures += 1
            if method == "passkey":
                passkey_id = details.get("passkey_id")
                provider = (
                    _provider(aaguids.get(passkey_id))
                    if isinstance(passkey_id, int)
                    else "not recorded (no passkey matched, or an older event)"
                )
                by_provider = figures.providers[provider]
                if succeeded:
                    by_provider.successes += 1
                else:
                    by_provider.failures += 1
    reports = select(Complaint.method, Complaint.cohort).where(
        Complaint.received_at >= since, Complaint.received_at <= until
    )
    for method, cohort in session.execute(reports):
        figures.complaints[method or "signed out", cohort] += 1
    return figures


# --- printing ---------------------------------------------------------------------------


def _percent(value: float) -> str:
    return f"{value * 100:.1f} %"


def _rate(tally: Tally) -> str:
    interval = tally.interval()
    if interval is None:
        return "no attempts"
    return (
        f"{_percent(interval.estimate)} of {tally.attempts} "
        f"(95 % CI {_percent(interval.low)} to {_percent(interval.high)})"
    )


def _gap(passkey: Tally, password: Tally) -> str:
    interval = newcombe(passkey.successes, passkey.attempts, password.successes, password.attempts)
    if interval is None:
        return "not enough data (no attempts with one of the methods)"
    points = f"{interval.estimate * 100:+.1f} points"
    return (
        f"{points} (95 % CI {interval.low * 100:+.1f} to {interval.high * 100:+.1f}; "
        + (
            "no difference shown"
            if interval.low <= 0 <= interval.high
            else "a real difference at this sample size"
        )
        + ")"
    )


def _per_mille(count: int, sign_ins: int) -> str:
    if sign_ins == 0:
        return f"{count} (no sign-ins to compare with)"
    return f"{count} ({count * 1000 / sign_ins:.1f} per 1,000 sign-ins)"


def lines(figures: Figures) -> Iterator[str]:
    f = figures
    yield f"Passkey pilot report, {f.since:%Y-%m-%d %H:%M} to {f.until:%Y-%m-%d %H:%M} UTC"
    yield ""
    yield "Sign-in success rate, by method and cohort"
    for method in METHODS:
        yield f"  {method}: {_rate(f.method_total(method))}"
        for cohort in COHORTS:
            tally = f.sign_ins.get((method, cohort))
            if tally is not None and tally.attempts:
                yield f"    {cohort}: {_rate(tally)}"
    yield ""
    yield "Gap, passkey minus password + code (Newcombe's 95 % interval)"
    yield f"  all: {_gap(f.method_total('passkey'), f.method_total('password_totp'))}"
    for cohort in COHORTS:
        passkey, password = (
            f.sign_ins.get(("passkey", cohort)),
            f.sign_ins.get(("password_totp", cohort)),
        )
        if passkey is not None or password is not None:
            yield f"  {cohort}: {_gap(passkey or Tally(), password or Tally())}"
    yield ""
    yield "Per cohort (per 1,000 successful sign-ins of the cohort)"
    for cohort in COHORTS:
        total = f.successes_in(cohort)
        if not total and not (f.lockouts[cohort] or f.withdrawals[cohort] or f.declines[cohort]):
            continue
        yield f"  {cohort}: {total} successful sign-ins"
        lockouts = _per_mille(f.lockouts[cohort], total)
        yield f"    lockouts (recovery codes, operator recoveries): {lockouts}"
        yield f"    passkey consent withdrawals: {_per_mille(f.withdrawals[cohort], total)}"
        yield f'    "No thanks" to passkeys: {_per_mille(f.declines[cohort], total)}'
    yield ""
    yield "Problem reports (per 1,000 successful sign-ins of the same method and cohort)"
    if not f.complaints:
        yield "  none"
    for (method, cohort), count in sorted(f.complaints.items()):
        base = f.successes_in(cohort, method) if method in METHODS else f.successes_in()
        yield f"  {method}, {cohort}: {_per_mille(count, base)}"
    yield ""
    yield "Passkey sign-ins by passkey provider (AAGUID)"
    if not f.providers:
        yield "  none"
    for provider, tally in sorted(f.providers.items(), key=lambda item: -item[1].attempts):
        yield f"  {provider}: {_rate(tally)}"
    yield ""
    yield "Latency is not kept in the database. Read it from Prometheus, e.g. the median:"
    yield (
        "  histogram_quantile(0.5, sum by (le, method, cohort) "
        "(increase(authdemo_pilot_sign_in_seconds_bucket[7d])))"
    )
    yield "  and p95 with 0.95 in place of 0.5 (successful sign-ins, server time)."
