"""A typed wrapper around APScheduler 3.x's AsyncIOScheduler: named one-shot runs and periodic chores.

Only this module imports APScheduler. Jobs live in memory: the database is the source of truth and the
service rebuilds every job from it at start-up (APScheduler 3.x cannot share a job store between
processes anyway). Actions are short coroutines that start work and return; the service owns the
work itself, so pausing and shutting down here never cancels a running check.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)
Action = Callable[[], Awaitable[None]]


class Scheduler:
    """Timers by key. `at` replaces any earlier timer of the same key; times are aware datetimes."""

    def __init__(self) -> None:
        quiet = logging.getLogger("apscheduler")
        if quiet.level == logging.NOTSET:  # it logs every run at INFO; our own log says what matters
            quiet.setLevel(logging.WARNING)
        self._aps = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    def start(self) -> None:
        """Start firing timers; must be called from within the running event loop."""
        self._aps.start()

    def at(self, key: str, when: datetime, action: Action) -> None:
        """Run `action` once at `when` (or as soon as possible if that is past)."""
        self._add(key, action, trigger="date", run_date=when)

    def every(self, key: str, seconds: float, action: Action) -> None:
        """Run `action` every `seconds`, the first time one period from now."""
        self._add(key, action, trigger="interval", seconds=seconds)

    def _add(self, key: str, action: Action, **trigger: Any) -> None:
        self._aps.add_job(_call, args=(key, action), id=key, replace_existing=True, **trigger)

    def cancel(self, key: str) -> None:
        if self._aps.get_job(key) is not None:
            self._aps.remove_job(key)

    def when(self, key: str) -> datetime | None:
        """The next time `key` fires, or None when nothing is scheduled under it."""
        job: Job | None = self._aps.get_job(key)
        fire: datetime | None = getattr(job, "next_run_time", None) if job is not None else None
        return fire.astimezone(UTC) if fire is not None else None

    def keys(self) -> frozenset[str]:
        return frozenset(job.id for job in self._aps.get_jobs())

    def pause(self) -> None:
        """Stop firing timers (they stay known)."""
        if self._aps.running:
            self._aps.pause()

    def shutdown(self) -> None:
        """Forget every timer. Actions have returned long before (they only start work)."""
        if self._aps.running:
            self._aps.shutdown(wait=False)


async def _call(key: str, action: Action) -> None:
    try:
        await action()
    except Exception:
        log.exception("scheduled action %s failed", key)
