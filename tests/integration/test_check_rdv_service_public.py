"""rdv-service-public end to end in real Chromium against the local imitation of `prendre_rdv`, every state."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from monitor.browser import Browser
from monitor.domain import Status, Watch
from tests.integration.checking import cli_check, run_check, warm_browser
from tests.sites.rdv_service_public import SEARCH, RdvServicePublicSite, RspState
from tests.sites.server import LocalServer

pytestmark = pytest.mark.browser
in_module_loop = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture
def serve() -> Iterator[Any]:
    """serve(state) -> the watched search URL on a local server."""
    with ExitStack() as stack:

        def start(state: RspState) -> str:
            server = stack.enter_context(LocalServer(RdvServicePublicSite(state)))
            return f"{server.base}/prendre_rdv?{SEARCH}"

        yield start


def test_no_slot_through_the_command(serve: Any, workdir: Path, env: dict[str, str]) -> None:
    url = serve(RspState())
    data = cli_check(workdir, {"id": "recepisse", "url": url})  # platform recognised from /prendre_rdv
    assert data["status"] == "no_slot"
    assert data["reason"] == "« Malheureusement, aucun créneau correspondant à votre recherche n'a été trouvé. »"
    assert (data["final_url"], data["http_status"], data["slots"]) == (url, 200, [])


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with warm_browser() as shared:
        yield shared


STATES = [
    ("retry wording", RspState(retry_wording=True), Status.NO_SLOT, "Veuillez réessayer ultérieurement."),
    ("slots", RspState(availability="slots"), Status.SLOTS_AVAILABLE, "3 slot button(s)"),
    ("later", RspState(availability="later"), Status.SLOTS_AVAILABLE, "Prochaine disponibilité le lundi 21"),
    ("429", RspState(failure="429"), Status.BLOCKED, "HTTP 429"),
    ("maintenance", RspState(failure="maintenance"), Status.MAINTENANCE, "Service indisponible"),
    ("500", RspState(failure="500"), Status.ERROR, "HTTP 500"),
]


@in_module_loop
@pytest.mark.parametrize(("state", "status", "reason"), [s[1:] for s in STATES], ids=[s[0] for s in STATES])
async def test_each_state(
    browser: Browser, serve: Any, workdir: Path, state: RspState, status: Status, reason: str
) -> None:
    watch = Watch(id="recepisse", url=serve(state), platform="rdv-service-public")
    result = await run_check(browser, workdir / "data", watch)
    assert result.status is status
    assert reason in result.reason
    if state.availability == "slots":
        assert result.slots == (
            datetime(2026, 12, 7, 8, 0, tzinfo=UTC),
            datetime(2026, 12, 7, 8, 30, tzinfo=UTC),
            datetime(2026, 12, 9, 13, 0, tzinfo=UTC),
        )
    if state.availability == "later":
        assert result.details["next_available_at"] == "2026-12-21T09:00:00+00:00"
    if state.failure == "429":
        assert result.details["retry_after"] == 90
