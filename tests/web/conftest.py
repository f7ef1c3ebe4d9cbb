"""Fixtures for the dashboard tests: a real Storage on a temp SQLite, real evidence files, a small service."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from monitor.assist import AssistBroker
from monitor.catalog import Catalog, load_catalog
from monitor.catalog.writer import WatchFileWriter
from monitor.config import Settings
from monitor.domain import CheckResult, Status, Watch
from monitor.evidence import Capture, EvidenceStore, blank_png
from monitor.storage import Storage
from monitor.web import CatalogHolder, WebContext, create_app
from monitor.web.security import Guard
from tests.conftest import write_watches

TOKEN = "s3cret-token-for-tests"
START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # a Monday


@dataclass
class LightService:
    """Stands in for the scheduler where only its answers matter; the `rdv-monitor run` tests use the real one."""

    catalog: Catalog
    asked: list[str] = field(default_factory=list)
    reloaded: list[Catalog] = field(default_factory=list)

    async def check_now(self, watch_id: str) -> CheckResult:
        self.asked.append(watch_id)
        raise RuntimeError("not a real service")

    def next_run(self, watch_id: str) -> datetime | None:
        return START + timedelta(hours=1)

    def running(self) -> Collection[str]:
        return ()

    def reload(self, catalog: Catalog) -> None:
        self.reloaded.append(catalog)


def record(storage: Storage, evidence: EvidenceStore, watch: Watch, when: datetime, status: Status) -> CheckResult:
    files = evidence.write(watch, when, watch.url, status, Capture(screenshot=blank_png(400, 300), html="<p>x</p>"))
    draft = CheckResult(
        watch=watch.id,
        status=status,
        reason=f"recorded {status}",
        started_at=when,
        checked_at=when,
        final_url=watch.url,
        http_status=200,
        files=files,
    )
    return storage.record_check(draft, platform=watch.platform, url=watch.url)


@dataclass
class Web:
    ctx: WebContext
    client: TestClient
    service: LightService
    storage: Storage
    checks: list[CheckResult]
    watch_file: Path


def make_web(workdir: Path, *, token: str | None) -> Iterator[Web]:
    path = write_watches(
        workdir / "rdv-monitor.yaml",
        {
            "watches": [
                {"id": "paris", "url": "http://127.0.0.1:9/booking/create/989", "label": "Paris titre"},
                {"id": "lyon", "url": "http://127.0.0.1:9/booking/create/12"},
            ],
            "notify": [{"url": "json://127.0.0.1:9/hook"}],
        },
    )
    catalog = load_catalog(path)
    settings = Settings(config=path, data_dir=workdir / "data", token=token)
    storage = Storage(settings.database_path)
    evidence = EvidenceStore(settings.data_dir)
    watch = catalog.watch("paris")
    statuses = [Status.NO_SLOT, Status.NO_SLOT, Status.ERROR, Status.SLOTS_AVAILABLE, Status.CAPTCHA]
    checks = [record(storage, evidence, watch, START + timedelta(hours=i * 7), s) for i, s in enumerate(statuses)]
    service = LightService(catalog)
    ctx = WebContext(
        settings=settings,
        storage=storage,
        catalog=CatalogHolder(current=catalog),
        service=service,
        broker=AssistBroker(timeout_seconds=30),
        writer=WatchFileWriter(path, settings.data_dir / "backups"),
        guard=Guard(token),
    )
    # https: httpx sends Secure cookies over https only (browsers also on http://127.0.0.1).
    with TestClient(create_app(ctx), base_url="https://127.0.0.1") as client:
        yield Web(ctx=ctx, client=client, service=service, storage=storage, checks=checks, watch_file=path)
    storage.close()


@pytest.fixture
def web(workdir: Path) -> Iterator[Web]:
    """The dashboard with a token set."""
    yield from make_web(workdir, token=TOKEN)


@pytest.fixture
def open_web(workdir: Path) -> Iterator[Web]:
    """The dashboard without a token (loopback use)."""
    yield from make_web(workdir, token=None)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop in a thread, standing for the service's loop where checks wait for answers."""
    running = asyncio.new_event_loop()
    thread = threading.Thread(target=running.run_forever, daemon=True)
    thread.start()
    yield running
    running.call_soon_threadsafe(running.stop)
    thread.join(5)
    running.close()
