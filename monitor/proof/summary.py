"""What the journal's first pages say, counted in one pass over the attempts: pure, bounded memory.

Courts count distinct days and distinct weeks, not captures; the tally keeps per-day hour counts and
per-week outcome counts (a few hundred small entries for a year), never the attempts themselves.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from monitor.domain import PARIS
from monitor.proof.manifest import Entry

CLOCK_TOLERANCE = timedelta(seconds=2)  # the Date header has one-second resolution
MAX_IPS = 20

Week = tuple[int, int]  # ISO year, ISO week


@dataclass
class Tally:
    """Counts over the exported attempts, fed one Entry at a time."""

    count: int = 0
    first: datetime | None = None
    last: datetime | None = None
    statuses: Counter[str] = field(default_factory=Counter)
    hours: dict[date, list[int]] = field(default_factory=dict)  # Paris day -> attempts per hour
    weeks: dict[Week, Counter[str]] = field(default_factory=dict)
    versions: Counter[tuple[tuple[str, str], ...]] = field(default_factory=Counter)
    fresh_profile: int = 0
    server_dates: int = 0
    clock_agrees: int = 0
    max_skew: float = 0.0
    server_ips: Counter[str] = field(default_factory=Counter)
    no_slot_message: str | None = None
    no_slot_at: datetime | None = None
    head: str | None = None

    def add(self, entry: Entry) -> None:
        at = entry.checked_at
        local = at.astimezone(PARIS)
        self.count += 1
        self.first = self.first or at
        self.last = at
        self.head = entry.record_hash
        self.statuses[entry.status] += 1
        self.hours.setdefault(local.date(), [0] * 24)[local.hour] += 1
        self.weeks.setdefault(week_of(local.date()), Counter())[entry.status] += 1
        self._context(entry)

    def _context(self, entry: Entry) -> None:
        details, payload = entry.details, entry.payload
        self.versions[tuple(sorted((str(k), str(v)) for k, v in dict(payload.get("versions") or {}).items()))] += 1
        self.fresh_profile += details.get("fresh_profile") is True
        if details.get("server_ip") and (details["server_ip"] in self.server_ips or len(self.server_ips) < MAX_IPS):
            self.server_ips[str(details["server_ip"])] += 1
        self._clock(details.get("server_date"), payload)
        if entry.status == "no_slot":
            self.no_slot_message = no_slot_text(entry)
            self.no_slot_at = entry.checked_at

    def _clock(self, header: Any, payload: Any) -> None:
        """Compare the server's own Date header with the local clock readings around the visit."""
        server = parse_http_date(header)
        if server is None:
            return
        self.server_dates += 1
        started = datetime.fromisoformat(str(payload["started_at"]))
        checked = datetime.fromisoformat(str(payload["checked_at"]))
        skew = max(started - server, server - checked, timedelta(0))
        self.clock_agrees += skew <= CLOCK_TOLERANCE
        self.max_skew = max(self.max_skew, skew.total_seconds())

    @property
    def days(self) -> int:
        return len(self.hours)

    def week_rows(self) -> list[tuple[Week, date, date, int, Counter[str]]]:
        """Per ISO week: first and last day with attempts, number of such days, outcomes."""
        rows = []
        for week in sorted(self.weeks):
            days = sorted(d for d in self.hours if week_of(d) == week)
            rows.append((week, days[0], days[-1], len(days), self.weeks[week]))
        return rows


def week_of(day: date) -> Week:
    iso = day.isocalendar()
    return iso.year, iso.week


def parse_http_date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else None


def no_slot_text(entry: Entry) -> str:
    """The site's own no-slot wording: the platform's exact text when it recorded one, else the matched marker."""
    exact = entry.details.get("no_slot_text")
    text = str(exact) if exact else str(entry.payload.get("reason", ""))
    return text.strip().removeprefix("«").removesuffix("»").strip()
