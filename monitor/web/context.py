"""What the web layer consumes, as small Protocols, and the one object that carries it to the routes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from monitor.assist import AssistBroker
from monitor.catalog import Catalog
from monitor.catalog.writer import WatchFileWriter
from monitor.config import Settings
from monitor.domain import CheckResult, Observation, Watch
from monitor.storage import Storage
from monitor.web.security import Guard, RateLimiter

log = logging.getLogger(__name__)

#: Writes the proof archive of a watch (dates inclusive, None = unbounded) to a ZIP at the given path.
Exporter = Callable[[str, Path, date | None, date | None], None]
#: Sends a test notification to one configured target (by its index in `notify:`); returns what happened.
NotifyTester = Callable[[int], Awaitable[str]]
#: Visits a watch's URL without keeping anything (to list a site's choices while adding a watch).
Previewer = Callable[[Watch], Awaitable[Observation]]


class ServiceControl(Protocol):
    """The running service as the dashboard sees it (monitor.service.Service implements it)."""

    async def check_now(self, watch_id: str) -> CheckResult:
        """Check this watch now (or wait for the check already running) and return the attempt."""
        ...

    def next_run(self, watch_id: str) -> datetime | None: ...

    def running(self) -> Collection[str]:
        """Ids of the watches being checked right now."""
        ...

    def reload(self, catalog: Catalog) -> None:
        """Take a new watch file into account (new, changed and removed watches)."""


@dataclass
class CatalogHolder:
    """The watch file as last loaded; replaced, never mutated, when a watch is added."""

    current: Catalog


@dataclass(kw_only=True)
class WebContext:
    settings: Settings
    storage: Storage
    catalog: CatalogHolder
    service: ServiceControl
    broker: AssistBroker | None = None
    writer: WatchFileWriter | None = None
    previewer: Previewer | None = None
    exporter: Exporter | None = None
    notify_tester: NotifyTester | None = None
    guard: Guard = field(default_factory=lambda: Guard(None))
    posts: RateLimiter = field(default_factory=lambda: RateLimiter(per_minute=30, burst=20))
    logins: RateLimiter = field(default_factory=lambda: RateLimiter(per_minute=5, burst=5))
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)  # checks started from the dashboard

    def check_soon(self, watch_id: str) -> None:
        """Start a check without waiting for it (the page returns at once; the timeline shows the result)."""
        task = asyncio.create_task(self._check(watch_id), name=f"web check {watch_id}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _check(self, watch_id: str) -> None:
        try:
            await self.service.check_now(watch_id)
        except Exception as exc:
            log.warning("check of %s asked from the dashboard failed: %s", watch_id, exc)

    @property
    def watches(self) -> tuple[Watch, ...]:
        return self.catalog.current.watches

    @property
    def thumbs_dir(self) -> Path:
        return self.settings.data_dir / "thumbs"
