"""The generic `page` platform end to end in real Chromium: declarative steps lead to the answer, which counts
only when it is one of the configured markers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import pytest_asyncio

from monitor.browser import Browser
from monitor.domain import Status, Watch
from tests.integration.checking import cli_check, run_check, warm_browser
from tests.sites.generic import NO_SLOT_TEXT, SLOT_TEXT, GenericSite, GenericState
from tests.sites.server import LocalServer

pytestmark = pytest.mark.browser
in_module_loop = pytest.mark.asyncio(loop_scope="module")
STEPS = [
    {"select": "#dept", "value": "94"},
    {"fill": "#cp", "value": "94000"},
    {"check": "#consent"},
    {"click": "#go"},
    {"wait_for": ".result"},
]
OPTIONS: dict[str, Any] = {"no_slot_text": [NO_SLOT_TEXT], "slot_text": [SLOT_TEXT], "slot_selector": "li.slot"}


@pytest.fixture
def serve() -> Iterator[Any]:
    """serve(state) -> (site, the form page URL)."""
    with ExitStack() as stack:

        def start(state: GenericState) -> tuple[GenericSite, str]:
            site = GenericSite(state)
            return site, stack.enter_context(LocalServer(site)).base + "/rendez-vous"

        yield start


def test_steps_lead_to_the_no_slot_text_through_the_command(serve: Any, workdir: Path, env: dict[str, str]) -> None:
    site, url = serve(GenericState())
    data = cli_check(workdir, {"id": "mairie", "url": url, "platform": "page", "options": {**OPTIONS, "steps": STEPS}})
    assert data["status"] == "no_slot"
    assert data["reason"] == f"the page says « {NO_SLOT_TEXT} » (no_slot_text)"
    (asked,) = site.hits("/rendez-vous/resultat")
    assert asked.query == {"dept": "94", "cp": "94000"}  # select, fill, check and click all happened


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with warm_browser() as shared:
        yield shared


async def check(browser: Browser, workdir: Path, url: str, **options: Any) -> Any:
    watch = Watch(id="mairie", url=url, platform="page", options=MappingProxyType({**OPTIONS, **options}))
    return await run_check(browser, workdir / "data", watch)


@in_module_loop
async def test_slot_elements_give_their_dates(browser: Browser, serve: Any, workdir: Path) -> None:
    _, url = serve(GenericState(availability="slots"))
    result = await check(browser, workdir, url, steps=STEPS)
    assert result.status is Status.SLOTS_AVAILABLE
    assert result.slots == (datetime(2026, 12, 7, 9, 30, tzinfo=UTC), datetime(2026, 12, 8, 10, 0, tzinfo=UTC))


@in_module_loop
async def test_an_answer_nobody_configured_is_unknown(browser: Browser, serve: Any, workdir: Path) -> None:
    _, url = serve(GenericState(availability="other"))
    result = await check(browser, workdir, url, steps=STEPS)
    assert result.status is Status.UNKNOWN
    assert result.reason.startswith("none of the configured markers is on the page")


@in_module_loop
async def test_without_the_steps_the_answer_never_shows_and_it_is_unknown(
    browser: Browser, serve: Any, workdir: Path
) -> None:
    site, url = serve(GenericState())
    result = await check(browser, workdir, url)
    assert result.status is Status.UNKNOWN
    assert site.hits("/rendez-vous/resultat") == []


@in_module_loop
async def test_a_step_that_cannot_be_done_is_an_error_naming_it(browser: Browser, serve: Any, workdir: Path) -> None:
    _, url = serve(GenericState())
    result = await check(browser, workdir, url, steps=[STEPS[0], {"click": "#no-such-button"}])
    assert result.status is Status.ERROR
    assert "steps[1] click '#no-such-button'" in result.reason


@in_module_loop
async def test_too_many_requests_is_blocked_before_any_step(browser: Browser, serve: Any, workdir: Path) -> None:
    site, url = serve(GenericState(failure="429"))
    result = await check(browser, workdir, url, steps=STEPS)
    assert result.status is Status.BLOCKED
    assert result.details["retry_after"] == 30
    assert [r.path for r in site.hits("/rendez-vous")] == ["/rendez-vous"]  # no step ran
