"""French dates and times as booking pages write them ("lundi 7 décembre 2026 09:00", "1er déc. à 9h30").

Pure. Times on the pages are Paris wall time; results are aware datetimes in UTC, like every other time here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime

from monitor.domain import PARIS

#: Month names by their accent-free beginnings (enough to tell mars from mai and juin from juillet).
MONTHS = (
    ("jan", 1),
    ("fe", 2),
    ("mar", 3),
    ("av", 4),
    ("mai", 5),
    ("juin", 6),
    ("juil", 7),
    ("ao", 8),
    ("se", 9),
    ("oc", 10),
    ("no", 11),
    ("de", 12),
)
_MONTH = (
    r"(?P<month>janv(?:ier)?|fevr?(?:ier)?|mars|avr(?:il)?|mai|juin|juil(?:let)?|aout?"
    r"|sept?(?:embre)?|oct(?:obre)?|nov(?:embre)?|dec(?:embre)?)\b\.?"
)
_YEAR = r"(?:\s+(?P<year>20\d\d)(?!\d))?"
_TIME = r"(?:\s*(?:,|a|-|de|des)?\s*(?P<hour>[01]?\d|2[0-3])\s*(?:h|:)\s*(?P<minute>[0-5]\d)?)?"
WORDY = re.compile(r"\b(?P<day>[0-3]?\d)(?:er)?\s+" + _MONTH + _YEAR + _TIME)
NUMERIC = re.compile(r"\b(?P<day>[0-3]?\d)/(?P<mon>[01]?\d)/(?P<year>20\d\d)(?!\d)" + _TIME)
#: How far in the past a date without a year may be before it is read as next year's.
YEAR_ROLLOVER = timedelta(days=60)


def fold(text: str) -> str:
    """Lower case, no accents, non-breaking spaces as spaces: the form the patterns are written for."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def month_number(name: str) -> int:
    return next(number for prefix, number in MONTHS if name.startswith(prefix))


def found_moments(text: str, *, reference: date | None = None) -> list[tuple[date, tuple[int, int] | None]]:
    """Every (day, (hour, minute) or None) written in text, in order; a missing year comes from reference."""
    folded = fold(text)
    found: list[tuple[int, tuple[date, tuple[int, int] | None]]] = []
    for match in WORDY.finditer(folded):
        day = _day(match, month_number(match.group("month")), reference)
        if day is not None:
            found.append((match.start(), (day, _clock(match))))
    for match in NUMERIC.finditer(folded):
        day = _day(match, int(match.group("mon")), reference)
        if day is not None:
            found.append((match.start(), (day, _clock(match))))
    return [moment for _, moment in sorted(found, key=lambda item: item[0])]


def _day(match: re.Match[str], month: int, reference: date | None) -> date | None:
    year = match.group("year")
    try:
        if year:
            return date(int(year), month, int(match.group("day")))
        if reference is None:
            return None
        return _with_year(reference, month, int(match.group("day")))
    except ValueError:
        return None


def _with_year(reference: date, month: int, day: int) -> date:
    """The date with the reference's year, or the next year's when that would be well in the past."""
    candidate = date(reference.year, month, day)
    if candidate < reference - YEAR_ROLLOVER:
        candidate = date(reference.year + 1, month, day)
    return candidate


def _clock(match: re.Match[str]) -> tuple[int, int] | None:
    hour = match.group("hour")
    if hour is None:
        return None
    return int(hour), int(match.group("minute") or 0)


def paris_moment(day: date, clock: tuple[int, int]) -> datetime:
    """Paris wall time on day, as an aware UTC datetime."""
    return datetime(day.year, day.month, day.day, clock[0], clock[1], tzinfo=PARIS).astimezone(UTC)


def slot_times(text: str, *, reference: date | None = None) -> list[datetime]:
    """The dated times written in text (a date alone is not a slot)."""
    return [paris_moment(day, clock) for day, clock in found_moments(text, reference=reference) if clock]


def first_moment(text: str, *, reference: date | None = None) -> str | None:
    """The first date (with its time when written) in text, as ISO 8601: UTC for a time, plain for a day."""
    for day, clock in found_moments(text, reference=reference):
        return paris_moment(day, clock).isoformat() if clock else day.isoformat()
    return None


def reference_day(headers: Mapping[str, str] | None) -> date | None:
    """The server's own date (its Date header), to complete dates written without a year."""
    value = (headers or {}).get("date")
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).astimezone(PARIS).date()
    except (TypeError, ValueError):
        return None


def paris_text(moment: datetime) -> str:
    """A slot time as people read it in a reason: Paris wall time with its offset."""
    return moment.astimezone(PARIS).isoformat(timespec="minutes")
