"""The runner's captcha hook with the real broker, real Chromium and the RDV-Préfecture imitation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from monitor.app import checker
from monitor.assist import AssistBroker, AssistTask
from monitor.config import Settings
from monitor.domain import Status, Watch
from monitor.storage import Storage
from tests.sites.rdv_prefecture import PREFIX, RdvPrefectureSite
from tests.sites.server import LocalServer

pytestmark = pytest.mark.browser


async def next_task(broker: AssistBroker, seen: set[str]) -> AssistTask:
    for _ in range(300):
        fresh = [t for t in broker.pending() if t.id not in seen]
        if fresh:
            seen.add(fresh[0].id)
            return fresh[0]
        await asyncio.sleep(0.05)
    raise AssertionError("no captcha task offered")


async def test_wrong_then_right_answer_in_one_session_then_expiry(workdir: Path) -> None:
    site = RdvPrefectureSite()
    settings = Settings(data_dir=workdir / "data", host_gap_seconds=0, page_timeout_seconds=5)
    storage = Storage(settings.database_path)
    broker = AssistBroker(timeout_seconds=20)
    offered: list[AssistTask] = []
    broker.on_task = offered.append
    seen: set[str] = set()
    with LocalServer(site) as server:
        watch = Watch(id="nanterre", url=f"{server.base}{PREFIX}/", platform="rdv-prefecture", assist=True)
        async with checker(settings, storage, assistant=broker) as check:
            running = asyncio.create_task(check.check(watch))
            first = await next_task(broker, seen)
            broker.answer(first.id, "WRONG")
            second = await next_task(broker, seen)
            assert (first.attempt, second.attempt) == (1, 2)
            broker.answer(second.id, site.expected_answer())
            result = await running

            broker.timeout = 0.5
            expired = await check.check(watch)
            unassisted = await check.check(Watch(id="plain", url=watch.url, platform="rdv-prefecture"))
    storage.close()
    assert result.status is Status.NO_SLOT
    assert "/creneau" in result.final_url
    assert {f.kind for f in result.files} == {"screenshot", "stamped", "html", "captcha"}
    assert len({s for s in site.sessions_seen(PREFIX) if s}) == 3  # one browser session per check
    assert [t.watch for t in offered] == ["nanterre"] * 3
    assert expired.status is Status.CAPTCHA
    assert "captcha" not in {f.kind for f in expired.files}  # nobody answered: the page itself is the evidence
    assert unassisted.status is Status.CAPTCHA
    assert len(offered) == 3  # a watch without `assist: true` never asks anyone
