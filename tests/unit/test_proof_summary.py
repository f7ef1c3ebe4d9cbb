"""The journal's counts: distinct Paris days and ISO weeks, outcomes, the server clock, the no-slot wording."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from monitor.proof.manifest import Entry
from monitor.proof.summary import Tally, no_slot_text

REASON = "« Il n'existe plus de plage horaire libre pour votre demande de rendez-vous. »"


def entry(n: int, at: datetime, status: str = "no_slot", **details: Any) -> Entry:
    payload = {
        "seq": n,
        "status": status,
        "reason": REASON if status == "no_slot" else "HTTP 502",
        "started_at": (at - timedelta(seconds=3)).isoformat(),
        "checked_at": at.isoformat(),
        "details": {"fresh_profile": True, **details},
        "versions": {"chromium": "156.0", "rdv_monitor": "0.1.0"},
        "files": [{"kind": "stamped", "path": f"e/{n}.png", "sha256": "ab" * 32, "size": 1}],
    }
    return Entry(n=n, record_hash=f"{n:064x}", payload=payload, capture=f"captures/{n:04d}.png")


def tally(*entries: Entry) -> Tally:
    found = Tally()
    for item in entries:
        found.add(item)
    return found


def test_days_are_paris_calendar_days_and_weeks_iso_weeks() -> None:
    found = tally(
        entry(1, datetime(2026, 11, 29, 22, 30, tzinfo=UTC)),  # Sunday 23:30 in Paris: week 48
        entry(2, datetime(2026, 11, 29, 23, 30, tzinfo=UTC)),  # Monday 00:30 in Paris: week 49
        entry(3, datetime(2026, 11, 30, 8, 0, tzinfo=UTC)),
        entry(4, datetime(2026, 12, 14, 8, 0, tzinfo=UTC), "error"),
    )
    assert found.count == 4
    assert found.days == 3
    assert sorted(found.weeks) == [(2026, 48), (2026, 49), (2026, 51)]
    assert found.statuses == {"no_slot": 3, "error": 1}
    assert found.hours[date(2026, 11, 30)][0] == 1
    assert found.hours[date(2026, 11, 30)][9] == 1
    rows = found.week_rows()
    assert rows[1][:4] == ((2026, 49), date(2026, 11, 30), date(2026, 11, 30), 1)
    assert rows[1][4] == {"no_slot": 2}
    assert found.head == f"{4:064x}"


def test_the_server_clock_agrees_when_its_date_falls_within_the_visit() -> None:
    at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    found = tally(
        entry(1, at, server_date=format_datetime(at - timedelta(seconds=1), usegmt=True), server_ip="192.0.2.7"),
        entry(2, at, server_date=format_datetime(at + timedelta(seconds=40), usegmt=True), server_ip="192.0.2.7"),
        entry(3, at, server_date="not a date"),
        entry(4, at),
    )
    assert found.server_dates == 2
    assert found.clock_agrees == 1
    assert found.max_skew == 40
    assert found.server_ips == {"192.0.2.7": 2}
    assert found.fresh_profile == 4


def test_the_no_slot_message_is_the_sites_wording_without_quote_marks() -> None:
    at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    found = tally(entry(1, at), entry(2, at + timedelta(hours=1), "error"))
    assert found.no_slot_message == "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous."
    assert found.no_slot_at == at
    exact = entry(3, at, no_slot_text="Il n’existe plus de plage horaire libre")
    assert no_slot_text(exact) == "Il n’existe plus de plage horaire libre"


def test_no_no_slot_attempt_means_no_message() -> None:
    assert tally(entry(1, datetime(2026, 11, 30, tzinfo=UTC), "error")).no_slot_message is None
