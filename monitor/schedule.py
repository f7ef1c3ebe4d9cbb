"""Schedule maths: when a watch is checked next. Pure: the clock and the randomness are passed in.

The rhythm is start-to-start: the next check is due `every` (± jitter) after the start of the last one,
sooner when a release window (Europe/Paris wall time) begins or is running, later after a failure
(exponential back-off with a cap, or the server's `Retry-After`). Nothing here is ever shorter than the
floor (`RDV_MONITOR_MIN_INTERVAL_SECONDS`). A check that was due while the service was down is run
once, soon after start-up: missed runs coalesce into one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from monitor.catalog.schema import DAYS, Schedule, Window
from monitor.domain import PARIS, CheckResult, Status

DEFAULT_EVERY = 15 * 60.0
JITTER_FRACTION = 0.1  # the jitter when none is set: a tenth of the current interval
BACKOFF: frozenset[Status] = frozenset({Status.BLOCKED, Status.ERROR, Status.CAPTCHA, Status.MAINTENANCE})
BACKOFF_FACTOR = 2.0
MAX_RETRY_AFTER = 24 * 3600.0  # a Retry-After beyond a day is treated as a day
HISTORY_NEEDED = 16  # newest checks needed to count a failure streak (the back-off is capped long before)

Random = Callable[[], float]  # uniform in [0, 1), like random.random


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """A watch's schedule with every layer merged and the floor applied."""

    every: float
    jitter: float | None  # None: JITTER_FRACTION of the current interval
    windows: tuple[Window, ...] = ()
    floor: float = 60.0
    backoff_cap: float = 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Last:
    """What the schedule needs to know of a watch's history."""

    started_at: datetime
    failures: int = 0  # consecutive back-off statuses, ending with the last check
    retry_after: float | None = None  # seconds the server asked us to wait, from the last check


def make_plan(*layers: Schedule | None, floor: float, backoff_cap: float) -> Plan:
    """Merge schedule layers, most specific first (watch, prefecture, defaults): the first that sets a field wins."""
    present = [layer for layer in layers if layer is not None]
    every = next((s.every for s in present if s.every is not None), DEFAULT_EVERY)
    jitter = next((s.jitter for s in present if s.jitter is not None), None)
    windows = next((s.windows for s in present if s.windows is not None), ())
    return Plan(every=every, jitter=jitter, windows=windows, floor=floor, backoff_cap=backoff_cap)


def last_from(history: Sequence[CheckResult]) -> Last | None:
    """The schedule's view of a history given newest first (at least HISTORY_NEEDED items when there are)."""
    if not history:
        return None
    failures = 0
    for result in history:
        if result.status not in BACKOFF:
            break
        failures += 1
    value = history[0].details.get("retry_after")
    retry = float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else None
    return Last(started_at=history[0].started_at, failures=failures, retry_after=retry)


def next_run(plan: Plan, last: Last | None, *, now: datetime, rng: Random) -> datetime:
    """When the watch should be checked next (never before `now`)."""
    if last is None:
        return now + timedelta(seconds=spread(plan, interval_at(plan, now), rng))
    start = min(last.started_at, now)
    interval = interval_at(plan, start)
    if last.failures:
        due = start + timedelta(seconds=backoff_delay(plan, interval, last) + shake(plan, interval, rng))
    else:
        due = start + timedelta(seconds=max(plan.floor, interval + shake(plan, interval, rng)))
        due = min(due, window_opening(plan, start, due, rng) or due)
    if due < now:  # missed while the service was down: one run soon, no catch-up burst
        return now + timedelta(seconds=spread(plan, interval, rng))
    return due


def interval_at(plan: Plan, when: datetime) -> float:
    """The base interval, or the densest release window running at `when`; never below the floor."""
    windowed = [w.every for w in active_windows(plan, when)]
    return max(plan.floor, min([plan.every, *windowed]))


def active_windows(plan: Plan, when: datetime) -> list[Window]:
    local = when.astimezone(PARIS)
    day = DAYS[local.weekday()]
    wall = local.time().replace(tzinfo=None)
    return [w for w in plan.windows if day in w.days and w.start <= wall < w.end]


def window_opening(plan: Plan, after: datetime, before: datetime, rng: Random) -> datetime | None:
    """The first start of a denser window strictly between the two instants (plus a little jitter), if any."""
    base = interval_at(plan, after)
    opening: datetime | None = None
    for day, window in _window_days(plan, after, before):
        if window.every >= base:
            continue
        start = datetime.combine(day, window.start, tzinfo=PARIS)
        if after < start < before and (opening is None or start < opening):
            opening = start
    if opening is None:
        return None
    earliest = after + timedelta(seconds=plan.floor)
    return max(opening + timedelta(seconds=spread(plan, interval_at(plan, opening), rng)), earliest)


def _window_days(plan: Plan, after: datetime, before: datetime) -> list[tuple[date, Window]]:
    first = after.astimezone(PARIS).date()
    count = min((before.astimezone(PARIS).date() - first).days, 7) + 1
    days = [first + timedelta(days=n) for n in range(count)]
    return [(d, w) for d in days for w in plan.windows if DAYS[d.weekday()] in w.days]


def backoff_delay(plan: Plan, interval: float, last: Last) -> float:
    """After `failures` bad checks in a row: interval x 2^failures, capped; at least what the server asked."""
    cap = max(plan.backoff_cap, interval)
    delay = min(interval * BACKOFF_FACTOR ** min(last.failures, 32), cap)
    if last.retry_after is not None:
        delay = max(delay, min(last.retry_after, MAX_RETRY_AFTER))
    return max(delay, plan.floor)


def jitter_for(plan: Plan, interval: float) -> float:
    """The jitter's full width at this interval: at most half the interval, so the rhythm stays recognisable."""
    wanted = interval * JITTER_FRACTION if plan.jitter is None else plan.jitter
    return min(wanted, interval / 2)


def shake(plan: Plan, interval: float, rng: Random) -> float:
    """A symmetric random offset: ± half the jitter."""
    return (rng() - 0.5) * jitter_for(plan, interval)


def spread(plan: Plan, interval: float, rng: Random) -> float:
    """A random delay in [0, jitter), so watches that are all due at once do not start together."""
    return rng() * jitter_for(plan, interval)
