"""The real service (`rdv-monitor run` in a subprocess, real Chromium) against local imitations.

Intervals are seconds long and the floor is lowered through the environment. Spacing is asserted from
the recorded start times (lower bounds the schedule guarantees whatever the machine's load).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.app import load_app
from monitor.catalog import load_catalog
from monitor.domain import CheckResult, Status, Watch
from monitor.service import NotRunning, Service
from monitor.storage import Storage
from tests.conftest import write_watches
from tests.processes import alive, command, descendants
from tests.sites.ezbooking import EzBookingSite, EzState
from tests.sites.server import LocalServer

pytestmark = pytest.mark.browser
CLI = (sys.executable, "-m", "monitor.cli")
TOLERANCE = 0.05  # seconds: clock reads around the scheduler's own


def watch(server: LocalServer, watch_id: str, *, host: str = "127.0.0.1", **schedule: Any) -> dict[str, Any]:
    url = f"{server.base.replace('127.0.0.1', host)}/booking/create/989"
    entry: dict[str, Any] = {"id": watch_id, "url": url, "options": {"planning": "990"}}
    if schedule:
        entry["schedule"] = schedule
    return entry


def wait_for(condition: Callable[[], bool], seconds: float = 40.0, what: str = "condition") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


class Running:
    """One `rdv-monitor run` process, its log in a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as sink:
            self.proc = subprocess.Popen([*CLI, "run"], env=env, stdout=sink, stderr=sink)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30.0) -> tuple[int, float]:
        """Signal the service; its exit code and how long it took to exit."""
        began = time.monotonic()
        self.proc.send_signal(signum)
        code = self.proc.wait(timeout=timeout)
        return code, time.monotonic() - began

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def service(env: dict[str, str], log: Path, **settings: str) -> Iterator[Running]:
    full = {**os.environ, **env, "RDV_MONITOR_LOG_LEVEL": "INFO"}
    full.update({f"RDV_MONITOR_{k.upper()}": v for k, v in settings.items()})
    running = Running(full, log)
    try:
        yield running
    finally:
        if running.proc.poll() is None:
            running.proc.kill()
            running.proc.wait()


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


@pytest.fixture
def db(env: dict[str, str], workdir: Path) -> Iterator[Callable[[str], list[CheckResult]]]:
    """A watch's recorded checks, oldest first, read from the service's own database (created here first)."""
    store = Storage(workdir / "data" / "rdv-monitor.sqlite3")

    def history(watch_id: str) -> list[CheckResult]:
        return list(reversed(store.history(watch_id)))

    yield history
    store.close()


def starts(rows: list[CheckResult]) -> list[float]:
    return [r.started_at.timestamp() for r in rows]


def gaps(rows: list[CheckResult]) -> list[float]:
    times = starts(rows)
    return [b - a for a, b in itertools.pairwise(times)]


def assert_complete(rows: list[CheckResult], data_dir: Path) -> None:
    """Every recorded attempt is whole: its evidence files exist with the hashes the row holds."""
    for row in rows:
        assert row.files, f"check {row.seq} of {row.watch} has no evidence files"
        for item in row.files:
            assert hashlib.sha256((data_dir / item.path).read_bytes()).hexdigest() == item.sha256


def test_schedule_host_gap_lock_status_and_clean_stop(
    env: dict[str, str], workdir: Path, db: Callable[[str], list[CheckResult]]
) -> None:
    fast, slow = EzBookingSite(), EzBookingSite(EzState(failure="hang", hang_seconds=90))
    with LocalServer(fast) as server, LocalServer(slow) as hanging:
        write_watches(
            Path(env["RDV_MONITOR_CONFIG"]),
            {
                "defaults": {"schedule": {"every": "2s", "jitter": 0}},
                "watches": [
                    watch(server, "a"),
                    watch(server, "b", every="3s"),
                    watch(hanging, "stuck", host="localhost"),  # another host: not held up by the gap
                ],
            },
        )
        settings = {
            "host_gap_seconds": "1",
            "page_timeout_seconds": "80",
            "check_timeout_seconds": "80",
            "stop_grace_seconds": "2",
        }
        with service(env, workdir / "run.log", **settings) as run:
            wait_for(lambda: len(db("a")) >= 3 and len(db("b")) >= 2, what="checks of a and b")
            wait_for(lambda: bool(slow.hits()), what="the stuck watch's request")

            second = cli(env, "run")
            assert second.returncode == 2
            assert second.stderr.strip().endswith(
                f"another rdv-monitor run (pid {run.pid}) already uses this data directory"
            )
            assert len(second.stderr.strip().splitlines()) == 1

            status = json.loads(cli(env, "status", "--json").stdout)
            assert status["service"] == {"running": True, "pid": run.pid}
            by_id = {w["watch"]: w for w in status["watches"]}
            assert by_id["a"]["last_status"] == "no_slot"
            assert by_id["stuck"]["last_status"] is None

            family = descendants(run.pid)
            assert any("chromium" in command(p) for p in family), "no browser under the service"
            signalled = datetime.now(UTC)
            code, took = run.stop(signal.SIGTERM)
        log = run.text()
    assert code == 0, log
    assert took < 2 + 8, f"stop took {took:.1f} s"
    wait_for(lambda: not any(alive(p) for p in family), seconds=5, what="the browser processes to go")
    assert "check stuck abandoned" in log
    assert db("stuck") == []  # abandoned mid-check: nothing half-recorded

    a, b = db("a"), db("b")
    assert min(gaps(a)) >= 2 - TOLERANCE
    assert min(gaps(b)) >= 3 - TOLERANCE
    for rows in (a, b):
        for before, after in itertools.pairwise(rows):
            assert after.started_at >= before.checked_at, "two checks of one watch at once"
    same_host = sorted(a + b, key=lambda r: r.started_at)
    for before, after in itertools.pairwise(same_host):
        assert (after.started_at - before.started_at).total_seconds() >= 1 - TOLERANCE, "host gap not kept"
    assert_complete(a + b, workdir / "data")
    assert all(r.started_at < signalled for r in a + b), "a check began after SIGTERM"


def test_backoff_after_block_and_error_retry_after_and_recovery(
    env: dict[str, str], workdir: Path, db: Callable[[str], list[CheckResult]]
) -> None:
    flaky_state, limited_state = EzState(failure="403"), EzState(failure="429")  # 429 says Retry-After: 120
    with LocalServer(EzBookingSite(flaky_state)) as flaky, LocalServer(EzBookingSite(limited_state)) as limited:
        write_watches(
            Path(env["RDV_MONITOR_CONFIG"]),
            {
                "defaults": {"schedule": {"every": "0.5s", "jitter": 0}},
                "watches": [watch(flaky, "flaky"), watch(limited, "limited")],
            },
        )
        with service(env, workdir / "run.log", backoff_max_seconds="4") as run:
            wait_for(lambda: len(db("flaky")) >= 2, what="two blocked checks")
            flaky_state.failure = "502"
            wait_for(lambda: len(db("flaky")) >= 4, what="two failed checks")
            flaky_state.failure = None
            wait_for(lambda: [r.status for r in db("flaky")][-3:] == [Status.NO_SLOT] * 3, what="recovery")
            status = json.loads(cli(env, "status", "--json").stdout)
            code, _ = run.stop()
    assert code == 0, run.text()

    rows = db("flaky")
    statuses = [r.status for r in rows]
    assert statuses[:4] == [Status.BLOCKED, Status.BLOCKED, Status.ERROR, Status.ERROR]
    expected = [1.0, 2.0, 4.0, 4.0]  # 0.5 s doubled per failure in a row, capped at 4 s
    assert [g >= e - TOLERANCE for g, e in zip(gaps(rows), expected, strict=False)] == [True] * 4
    recovered = gaps(rows)[statuses.index(Status.NO_SLOT) :]
    assert recovered
    assert max(recovered) < 4, f"back on schedule after a success: {recovered}"

    limited_rows = db("limited")
    assert [r.status for r in limited_rows] == [Status.BLOCKED], "Retry-After: 120 was not honoured"
    assert limited_rows[0].details["retry_after"] == 120
    entry = next(w for w in status["watches"] if w["watch"] == "limited")
    waited = (datetime.fromisoformat(entry["next_check"]) - limited_rows[0].started_at).total_seconds()
    assert waited >= 120 - TOLERANCE


def test_restart_keeps_the_rhythm_and_missed_runs_coalesce(
    env: dict[str, str], workdir: Path, db: Callable[[str], list[CheckResult]]
) -> None:
    config = Path(env["RDV_MONITOR_CONFIG"])
    with LocalServer(EzBookingSite()) as server:
        write_watches(config, {"watches": [watch(server, "w", every="6s", jitter=0)]})
        with service(env, workdir / "run1.log") as first:
            wait_for(lambda: len(db("w")) == 1, what="the first check")
            assert first.stop()[0] == 0
        last = db("w")[-1]
        with service(env, workdir / "run2.log") as second:
            wait_for(lambda: len(db("w")) == 2, what="the first check after a restart")
            assert second.stop()[0] == 0
        resumed = db("w")[-1]
        assert (resumed.started_at - last.started_at).total_seconds() >= 6 - TOLERANCE, "burst after restart"

        write_watches(config, {"watches": [watch(server, "w", every="1s", jitter=0)]})
        time.sleep(3)  # a few runs are missed while nothing runs
        restarted = time.time()
        with service(env, workdir / "run3.log") as third:
            wait_for(lambda: len(db("w")) >= 5, what="checks after a long stop")
            assert third.stop()[0] == 0
    after = [r for r in db("w") if r.started_at.timestamp() > restarted]
    assert min(gaps(after)) >= 1 - TOLERANCE, "missed runs fired as a burst"


async def test_service_api_check_now_running_next_run_reload_and_components(env: dict[str, str], workdir: Path) -> None:
    with LocalServer(EzBookingSite()) as server:
        config = Path(env["RDV_MONITOR_CONFIG"])
        off = {**watch(server, "off", every="1s"), "enabled": False}
        write_watches(config, {"watches": [watch(server, "a", every="1h"), off]})
        app = load_app(os.environ)
        storage = Storage(app.settings.database_path)
        events: list[str] = []
        service = Service(
            app.settings, app.catalog, storage, listeners=[Listener(events)], rng=lambda: 0.99
        )  # rng: the first scheduled check lands minutes away, so only check_now runs here
        service.add_component(Component(events, service))
        try:
            await service.start()
            assert events == ["start"]
            assert service.next_run("off") is None  # enabled: false is never scheduled
            assert service.next_run("a") is not None
            first = asyncio.create_task(service.check_now("a"))
            await asyncio.sleep(0.05)
            assert service.running() == {"a"}
            assert service.next_run("a") is None
            second = await service.check_now("a")  # joins the running check instead of starting another
            assert (await first).id == second.id
            assert storage.count_checks("a") == 1
            assert events == ["start", "committed a"]
            assert service.running() == set()
            due = service.next_run("a")
            assert due is not None
            assert abs((due - second.started_at).total_seconds() - 3600) <= 180  # 1 h ± half its jitter

            write_watches(config, {"watches": [watch(server, "b", every="1h")]})
            service.reload(load_catalog(config))
            assert service.next_run("a") is None
            assert service.next_run("b") is not None
        finally:
            await service.stop()
            storage.close()
    assert events[-1] == "stop (browser open: True)"
    with pytest.raises(NotRunning):
        await service.check_now("b")


class Listener:
    def __init__(self, events: list[str]) -> None:
        self.events = events

    def in_transaction(self, session: object, watch: Watch, result: CheckResult) -> None:
        assert result.id is not None

    def committed(self, watch: Watch, result: CheckResult) -> None:
        self.events.append(f"committed {watch.id}")


class Component:
    def __init__(self, events: list[str], service: Service) -> None:
        self.events = events
        self.service = service

    async def start(self) -> None:
        self.events.append("start")

    async def stop(self) -> None:
        checker = self.service.checker
        is_open = checker is not None and checker.browser._browser is not None  # peeking: no public flag
        self.events.append(f"stop (browser open: {is_open})")
