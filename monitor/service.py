"""The long-running service: every watch checked on its schedule by one warm browser, until a signal.

The database is the source of truth: at start-up (and after every check) the next run of each watch is
computed from its last recorded check, so a restart keeps the rhythm and never fires a catch-up burst.
Concurrency is bounded three ways: one check per watch at a time, a gap between the starts of two checks
of one host (across watches), and `max_concurrent_checks` overall.
"""

from __future__ import annotations

import asyncio
import logging
import random
import signal
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol
from urllib.parse import urlsplit

from monitor.app import checker
from monitor.assist import Assistant
from monitor.catalog import Catalog
from monitor.config import Settings
from monitor.domain import CheckResult, Clock, Status, Watch, utcnow
from monitor.runner import Checker, CheckListener, HostGate
from monitor.schedule import HISTORY_NEEDED, Last, Plan, Random, last_from, make_plan, next_run
from monitor.scheduler import Scheduler
from monitor.storage import Storage

log = logging.getLogger(__name__)
RECONCILE = "_reconcile"  # the chore that re-creates a lost timer (timers are keyed by watch id)
RECONCILE_SECONDS = 300.0
CANCEL_WAIT_SECONDS = 5.0


class Component(Protocol):
    """Something that lives as long as the service (notification sender, web server)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class NotRunning(RuntimeError):
    """The service is not started, or is stopping: no new check can begin."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WatchStatus:
    """Where a watch stands: its last check and its next one."""

    watch: str
    title: str
    last_status: Status | None
    last_check: datetime | None
    next_check: datetime | None
    failures: int = 0  # consecutive checks that slowed the watch down (back-off)

    def to_json(self) -> dict[str, Any]:
        return {
            "watch": self.watch,
            "title": self.title,
            "last_status": str(self.last_status) if self.last_status else None,
            "last_check": self.last_check.isoformat() if self.last_check else None,
            "next_check": self.next_check.isoformat() if self.next_check else None,
            "failures": self.failures,
        }


def plan_for(settings: Settings, catalog: Catalog, watch_id: str) -> Plan:
    """The merged schedule of a watch: its own block, its prefecture's windows, the file's defaults, the built-ins."""
    return make_plan(
        catalog.schedules.get(watch_id),
        catalog.prefecture_schedules.get(watch_id),
        catalog.defaults.schedule,
        floor=settings.min_interval_seconds,
        backoff_cap=settings.backoff_max_seconds,
    )


def scheduled(catalog: Catalog) -> list[Watch]:
    """The watches the service checks on its own (`enabled: false` ones only on demand)."""
    return [w for w in catalog.watches if w.id not in catalog.disabled]


def last_known(storage: Storage, watch_id: str) -> Last | None:
    return last_from(storage.history(watch_id, limit=HISTORY_NEEDED))


def statuses(settings: Settings, catalog: Catalog, storage: Storage, *, now: datetime) -> list[WatchStatus]:
    """Every watch's status computed from the database alone (when no service runs in this process)."""
    return [_status(settings, catalog, storage, watch, now=now) for watch in catalog.watches]


def _status(settings: Settings, catalog: Catalog, storage: Storage, watch: Watch, *, now: datetime) -> WatchStatus:
    newest = storage.history(watch.id, limit=HISTORY_NEEDED)
    last = last_from(newest)
    plan = plan_for(settings, catalog, watch.id)
    due = None if watch.id in catalog.disabled else next_run(plan, last, now=now, rng=lambda: 0.5)
    return WatchStatus(
        watch=watch.id,
        title=watch.title,
        last_status=newest[0].status if newest else None,
        last_check=newest[0].checked_at if newest else None,
        next_check=due,
        failures=last.failures if last else 0,
    )


class Service:
    """Scheduled checks of every watch in the catalog, plus the components that live alongside."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        storage: Storage,
        *,
        listeners: Sequence[CheckListener] = (),
        components: Sequence[Component] = (),
        clock: Clock = utcnow,
        rng: Random = random.random,
        assistant: Assistant | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.storage = storage
        self.listeners = tuple(listeners)
        self.components = list(components)
        self.clock = clock
        self.rng = rng
        self.assistant = assistant  # a person may answer captchas of `assist: true` watches (the dashboard)
        self.checker: Checker | None = None
        self._scheduler = Scheduler()
        self._slots = asyncio.Semaphore(settings.max_concurrent_checks)
        self._pregate = HostGate(settings.host_gap_seconds)
        self._inflight: dict[str, asyncio.Task[CheckResult]] = {}
        self._stack = AsyncExitStack()
        self._started: list[Component] = []
        self._state = "new"  # new -> running -> stopping -> stopped
        self._hurry = asyncio.Event()

    # ----- public API -----

    def add_component(self, component: Component) -> None:
        """Register a component before start (for components that need the service itself)."""
        self.components.append(component)

    async def start(self) -> None:
        """Launch the browser, rebuild every timer from the database, start the components."""
        if self._state != "new":
            raise NotRunning(f"the service cannot start twice (it is {self._state})")
        self.checker = await self._stack.enter_async_context(
            checker(self.settings, self.storage, listeners=self.listeners, assistant=self.assistant)
        )
        self._scheduler.start()
        self._state = "running"
        self._sync(replan=True)
        self._scheduler.every(RECONCILE, RECONCILE_SECONDS, self._reconcile)
        for component in self.components:
            await component.start()
            self._started.append(component)
        limit = self.settings.max_concurrent_checks
        log.info("service started: %d watch(es), up to %d check(s) at once", len(self.catalog.watches), limit)

    async def stop(self) -> None:
        """Take no new check, let running ones finish (or abandon them after the grace), close everything."""
        if self._state in ("stopping", "stopped"):
            return
        self._state = "stopping"
        self._scheduler.pause()
        await self._drain(self.settings.stop_grace_seconds)
        for component in reversed(self._started):
            await _quietly(component.stop(), f"stopping {type(component).__name__}")
        self._started.clear()
        self._scheduler.shutdown()
        await self._stack.aclose()
        self._state = "stopped"
        log.info("service stopped")

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Start, wait for SIGTERM/SIGINT (or `stop`), stop. A second signal abandons running checks at once."""
        stop = stop or asyncio.Event()
        async with _signals(partial(self._signalled, stop)):
            try:
                await self.start()
                await stop.wait()
            finally:
                await self.stop()

    async def check_now(self, watch_id: str) -> CheckResult:
        """Check a watch now; if it is being checked already, wait for that check instead of starting another."""
        watch = self.catalog.watch(watch_id)
        if self._state != "running":
            raise NotRunning(f"the service is {self._state}: no new check")
        task = self._inflight.get(watch.id) or self._launch(watch)
        return await asyncio.shield(task)

    def next_run(self, watch_id: str) -> datetime | None:
        """When the watch is checked next; None while it is being checked or when nothing is scheduled."""
        return None if watch_id in self._inflight else self._scheduler.when(watch_id)

    def running(self) -> set[str]:
        """Ids of the watches being checked (or waiting for their turn) right now."""
        return set(self._inflight)

    def reload(self, catalog: Catalog) -> None:
        """Adopt a new catalog: new watches get a timer, removed ones lose theirs, schedules are recomputed."""
        self.catalog = catalog
        if self._state == "running":
            self._sync(replan=True)

    # ----- scheduling -----

    def _sync(self, *, replan: bool) -> None:
        """Make the timers match the catalog: one per watch that is not being checked."""
        wanted = [w.id for w in scheduled(self.catalog)]
        for key in self._scheduler.keys() - set(wanted) - {RECONCILE}:
            self._scheduler.cancel(key)
        for watch_id in wanted:
            if watch_id not in self._inflight and (replan or self._scheduler.when(watch_id) is None):
                self._plan(watch_id)

    async def _reconcile(self) -> None:
        self._sync(replan=False)

    def _plan(self, watch_id: str) -> None:
        """Set the watch's timer from its last recorded check (a failure here falls back to the base interval)."""
        now = self.clock()
        plan = plan_for(self.settings, self.catalog, watch_id)
        try:
            when = next_run(plan, last_known(self.storage, watch_id), now=now, rng=self.rng)
        except Exception:
            log.exception("cannot plan %s from the database; trying again in %.0f s", watch_id, plan.every)
            when = now + timedelta(seconds=max(plan.every, plan.floor))
        self._scheduler.at(watch_id, when, partial(self._fire, watch_id))
        log.debug("next check of %s at %s", watch_id, when.isoformat())

    async def _fire(self, watch_id: str) -> None:
        if self._state != "running" or watch_id in self._inflight:
            return  # a running check re-plans the watch when it ends
        try:
            watch = self.catalog.watch(watch_id)
        except Exception:
            return  # removed from the catalog meanwhile
        self._launch(watch)

    # ----- checks -----

    def _launch(self, watch: Watch) -> asyncio.Task[CheckResult]:
        self._scheduler.cancel(watch.id)
        task = asyncio.create_task(self._check(watch), name=f"check {watch.id}")
        self._inflight[watch.id] = task
        task.add_done_callback(partial(self._finished, watch.id))
        return task

    async def _check(self, watch: Watch) -> CheckResult:
        if self.checker is None:
            raise NotRunning("the service is not started")
        # The host's gap is waited out before taking a shared slot, so a busy host does not hold up the others
        # (the Checker's own gate then enforces it exactly).
        async with self._pregate.turn(urlsplit(watch.url).hostname or ""):
            pass
        async with self._slots:
            if self._state != "running":
                raise NotRunning("the service is stopping")  # queued before the signal: never begun
            return await self.checker.check(watch)

    def _finished(self, watch_id: str, task: asyncio.Task[CheckResult]) -> None:
        if self._inflight.get(watch_id) is task:
            del self._inflight[watch_id]
        if task.cancelled():
            log.warning("check %s abandoned (service stopping): nothing recorded", watch_id)
            return
        error = task.exception()
        if isinstance(error, NotRunning):
            log.info("check %s not begun: %s", watch_id, error)
            return
        if error is not None:
            log.error("check %s could not be recorded: %s", watch_id, error, exc_info=error)
        if self._state == "running" and any(w.id == watch_id for w in scheduled(self.catalog)):
            self._plan(watch_id)

    # ----- stopping -----

    def _signalled(self, stop: asyncio.Event, signum: int) -> None:
        if stop.is_set():
            log.warning("second %s: abandoning running checks now", signal.Signals(signum).name)
            self._hurry.set()
            return
        grace = self.settings.stop_grace_seconds
        log.info("%s received: stopping (running checks get %.0f s)", signal.Signals(signum).name, grace)
        stop.set()

    async def _drain(self, grace: float) -> None:
        """Wait up to `grace` seconds for running checks, then cancel what is left (nothing of it is stored)."""
        pending = [t for t in self._inflight.values() if not t.done()]
        if pending:
            log.info("waiting for %d running check(s)", len(pending))
            finished = asyncio.ensure_future(asyncio.wait(pending))
            hurry = asyncio.ensure_future(self._hurry.wait())
            await asyncio.wait([finished, hurry], timeout=grace, return_when=asyncio.FIRST_COMPLETED)
            finished.cancel()
            hurry.cancel()
        left = [t for t in self._inflight.values() if not t.done()]
        for task in left:
            task.cancel()
        if left:
            await asyncio.wait(left, timeout=CANCEL_WAIT_SECONDS)


@asynccontextmanager
async def _signals(handler: Callable[[int], None]) -> AsyncIterator[None]:
    loop = asyncio.get_running_loop()
    wanted = (signal.SIGTERM, signal.SIGINT)
    for signum in wanted:
        loop.add_signal_handler(signum, handler, signum)
    try:
        yield
    finally:
        for signum in wanted:
            loop.remove_signal_handler(signum)


async def _quietly(step: Any, what: str) -> None:
    try:
        await step
    except Exception:
        log.exception("%s failed", what)
