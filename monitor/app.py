"""Wiring: settings + watch file -> the long-lived objects a command needs. Built once, passed down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from monitor.assist import Assistant
from monitor.browser import Browser
from monitor.catalog import Catalog, load_catalog
from monitor.config import Settings, build_settings, config_path, prefectures_path
from monitor.domain import utcnow
from monitor.evidence import EvidenceStore
from monitor.runner import Checker, CheckListener, HostGate
from monitor.storage import Storage


@dataclass(frozen=True, slots=True, kw_only=True)
class App:
    settings: Settings
    catalog: Catalog


def load_app(environ: Mapping[str, str]) -> App:
    """Read the watch file named by the environment and merge the settings (environment wins)."""
    path, prefectures = config_path(environ), prefectures_path(environ)
    catalog = load_catalog(path, prefectures=prefectures)
    fixed = {"config": str(path), "prefectures_dir": str(prefectures)}
    settings = build_settings(environ, {**catalog.settings, **fixed}, file=str(path))
    return App(settings=settings, catalog=catalog)


def open_storage(settings: Settings) -> Storage:
    """The database, created or upgraded to the newest schema."""
    return Storage(settings.database_path)


@asynccontextmanager
async def checker(
    settings: Settings,
    storage: Storage,
    *,
    listeners: Sequence[CheckListener] = (),
    assistant: Assistant | None = None,
) -> AsyncIterator[Checker]:
    """A Checker with a warm browser, closed on exit (with an assistant, `assist: true` watches can be unlocked)."""
    browser = Browser(executable=settings.browser_path, timeout_seconds=settings.page_timeout_seconds)
    gate = HostGate(settings.host_gap_seconds)
    gate.remember(await asyncio.to_thread(storage.last_starts_by_host), now=utcnow())
    try:
        await browser.start()
        yield Checker(
            storage=storage,
            browser=browser,
            evidence=EvidenceStore(settings.data_dir),
            gate=gate,
            timeout_seconds=settings.check_timeout_seconds,
            listeners=listeners,
            assistant=assistant,
        )
    finally:
        await browser.close()
