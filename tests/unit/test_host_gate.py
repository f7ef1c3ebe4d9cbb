"""The per-host gap: remembered from the database, so a restart or a second process keeps it too."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.domain import CheckResult, Status
from monitor.runner import HostGate
from monitor.storage import Storage


def attempt(watch: str, started: datetime) -> CheckResult:
    return CheckResult(
        watch=watch,
        status=Status.NO_SLOT,
        reason="test",
        started_at=started,
        checked_at=started,
        final_url="https://x.test/",
        http_status=200,
    )


def test_the_latest_start_of_each_host_comes_from_every_watch_of_that_host(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "db.sqlite3")
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    try:
        storage.record_check(
            attempt("a", now - timedelta(minutes=5)),
            platform="ezbooking",
            url="https://www.val-de-marne.gouv.fr/booking/create/1",
        )
        storage.record_check(
            attempt("b", now - timedelta(minutes=1)),
            platform="ezbooking",
            url="https://www.val-de-marne.gouv.fr:443/booking/create/2",
        )
        storage.record_check(attempt("c", now - timedelta(minutes=3)), platform="page", url="http://other.test/x")
        assert storage.last_starts_by_host() == {
            "www.val-de-marne.gouv.fr": now - timedelta(minutes=1),
            "other.test": now - timedelta(minutes=3),
        }
    finally:
        storage.close()


async def test_a_remembered_start_delays_the_next_turn_by_the_rest_of_the_gap() -> None:
    gate = HostGate(0.4)
    now = datetime.now(UTC)
    gate.remember({"slow.test": now - timedelta(seconds=0.1), "old.test": now - timedelta(hours=1)}, now=now)
    assert gate.waiting("old.test") == 0  # long ago: no wait
    began = time.monotonic()
    async with gate.turn("slow.test"):
        pass
    assert time.monotonic() - began >= 0.25  # the rest of the gap (0.3 s) was kept
