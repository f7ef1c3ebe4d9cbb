"""Pure digest arithmetic: which period just closed (Europe/Paris calendar) and what the attempts cover."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Literal

from monitor.domain import PARIS

PeriodKind = Literal["weekly", "daily"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Period:
    """A closed stretch of Paris calendar days, [first, last] inclusive, as UTC bounds [start, end)."""

    kind: PeriodKind
    key: str  # "2026-W48" or "2026-11-29": names the digest once and for all (dedup)
    first: date
    last: date

    @property
    def start(self) -> datetime:
        return paris_midnight(self.first)

    @property
    def end(self) -> datetime:
        return paris_midnight(self.last + timedelta(days=1))


@dataclass(frozen=True, slots=True, kw_only=True)
class Coverage:
    """How much proof a set of attempts is: how many, on how many distinct days and ISO weeks, which outcomes."""

    attempts: int = 0
    days: int = 0
    weeks: int = 0
    first: date | None = None  # Paris day of the oldest attempt
    outcomes: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))


def paris_midnight(day: date) -> datetime:
    """The start of a Paris day, in UTC (aware arithmetic on one tzinfo ignores clock changes; UTC does not)."""
    return datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC)


def last_closed(now: datetime, kind: PeriodKind) -> Period:
    """The newest period that ended before `now` (last ISO week, Monday to Sunday, or yesterday)."""
    today = now.astimezone(PARIS).date()
    if kind == "daily":
        day = today - timedelta(days=1)
        return Period(kind=kind, key=day.isoformat(), first=day, last=day)
    monday = today - timedelta(days=today.weekday() + 7)
    year, week, _ = monday.isocalendar()
    return Period(kind=kind, key=f"{year}-W{week:02d}", first=monday, last=monday + timedelta(days=6))


def next_boundary(now: datetime, kind: PeriodKind) -> datetime:
    """When the current period closes (the next digest becomes due)."""
    length = 1 if kind == "daily" else 7
    return paris_midnight(last_closed(now, kind).last + timedelta(days=1 + length))


def coverage(buckets: Iterable[tuple[datetime, str, int]]) -> Coverage:
    """Aggregate (UTC hour, status, count) buckets. Paris is a whole number of hours from UTC, so an hour
    bucket falls on exactly one Paris day."""
    outcomes: Counter[str] = Counter()
    days: set[date] = set()
    for hour, status, count in buckets:
        outcomes[status] += count
        days.add(hour.astimezone(PARIS).date())
    weeks = {day.isocalendar()[:2] for day in days}
    return Coverage(
        attempts=sum(outcomes.values()),
        days=len(days),
        weeks=len(weeks),
        first=min(days) if days else None,
        outcomes=MappingProxyType(dict(outcomes.most_common())),
    )
