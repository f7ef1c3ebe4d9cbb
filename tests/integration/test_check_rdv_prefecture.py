"""rdv-prefecture end to end in real Chromium against the local imitation: every state, and a person's answer
to the captcha carrying the same browser session on to creneau/."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from monitor.browser import Browser
from monitor.classify import Document
from monitor.domain import Observation, Status, Watch
from monitor.errors import UserError
from monitor.platforms import get_platform
from monitor.platforms.base import DocumentTracker
from monitor.runner import classify
from tests.integration.checking import cli_check, run_check, warm_browser
from tests.sites.rdv_prefecture import PREFIX, PrefState, RdvPrefectureSite
from tests.sites.server import LocalServer

pytestmark = pytest.mark.browser
in_module_loop = pytest.mark.asyncio(loop_scope="module")
SLOTS_UTC = (
    datetime(2026, 12, 7, 8, 0, tzinfo=UTC),
    datetime(2026, 12, 7, 8, 15, tzinfo=UTC),
    datetime(2026, 12, 8, 13, 30, tzinfo=UTC),
)


@pytest.fixture
def serve() -> Iterator[Any]:
    """serve(state) -> (site, base URL of the local server)."""
    with ExitStack() as stack:

        def start(state: PrefState) -> tuple[RdvPrefectureSite, str]:
            site = RdvPrefectureSite(state)
            return site, stack.enter_context(LocalServer(site)).base

        yield start


def test_unattended_the_check_stops_at_the_captcha(serve: Any, workdir: Path, env: dict[str, str]) -> None:
    site, base = serve(PrefState(availability="slots"))
    data = cli_check(workdir, {"id": "moulins", "url": base + PREFIX + "/"})  # platform recognised from the URL
    assert data["status"] == "captcha"
    assert data["reason"] == "captcha (code de sécurité) before the slot page"
    assert data["final_url"] == base + PREFIX + "/cgu/"
    assert data["slots"] == []
    assert [r.method for r in site.hits(PREFIX)] == ["GET", "GET"]  # landing, cgu/: no answer, no creneau/
    html = Path(data["files"][2]["path"])
    assert "captchaFR_CaptchaImage" in (html if html.is_absolute() else workdir / "data" / html).read_text()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with warm_browser() as shared:
        yield shared


STATES = [
    ("challenge", PrefState(failure="challenge"), "/", Status.BLOCKED, "bot challenge"),
    ("429", PrefState(failure="429"), "/", Status.BLOCKED, "HTTP 429"),
    ("502", PrefState(failure="502"), "/", Status.ERROR, "HTTP 502"),
    ("changed", PrefState(failure="changed"), "/", Status.UNKNOWN, "no known marker"),
    ("recaptcha", PrefState(captcha="recaptcha"), "/", Status.CAPTCHA, "reCAPTCHA"),
    ("session expired", PrefState(), "/creneau/", Status.CAPTCHA, "errorSessionInvalide"),
    ("no captcha, no slot", PrefState(captcha="none"), "/", Status.NO_SLOT, "« Aucun créneau disponible »"),
    ("no captcha, slots", PrefState(captcha="none", availability="slots"), "/", Status.SLOTS_AVAILABLE, "3 slot"),
    ("no captcha, later", PrefState(captcha="none", availability="later"), "/", Status.SLOTS_AVAILABLE, "Prochaine"),
]


@in_module_loop
@pytest.mark.parametrize(("state", "path", "status", "reason"), [s[1:] for s in STATES], ids=[s[0] for s in STATES])
async def test_each_state(
    browser: Browser, serve: Any, workdir: Path, state: PrefState, path: str, status: Status, reason: str
) -> None:
    site, base = serve(state)
    watch = Watch(id="moulins", url=base + PREFIX + path, platform="rdv-prefecture", label="Titre de séjour")
    result = await run_check(browser, workdir / "data", watch)
    assert result.status is status
    assert reason in result.reason
    if status is Status.SLOTS_AVAILABLE and state.availability == "slots":
        assert result.slots == SLOTS_UTC
    if state.availability == "later":
        assert result.details["next_available_at"] == "2026-12-14T08:00:00+00:00"
    if status is Status.NO_SLOT:
        assert result.details["last_published"] == "Dernière mise en ligne : lundi 30 novembre 2026 à 08:00"
    if state.failure == "429":
        assert result.details["retry_after"] == 120
    assert not [r for r in site.hits(PREFIX) if r.form.get("trhId")]  # a slot is never chosen


# -- a person answers the captcha: the same session goes on ---------------------------------------------------------


async def reach_captcha(browser: Browser, context: Any, base: str) -> tuple[Any, Watch, DocumentTracker]:
    page = await context.new_page()
    tracker = DocumentTracker(page)
    watch = Watch(id="moulins", url=base + PREFIX + "/", platform="rdv-prefecture", assist=True)
    seen = await get_platform("rdv-prefecture").visit(page, watch, tracker)
    assert classify("rdv-prefecture", seen).status is Status.CAPTCHA
    return page, watch, tracker


def status_of(seen: Observation) -> Status:
    return classify("rdv-prefecture", seen).status


@in_module_loop
async def test_a_right_answer_reads_creneau_in_the_same_session(browser: Browser, serve: Any) -> None:
    site, base = serve(PrefState(availability="slots"))
    platform = get_platform("rdv-prefecture")
    assert platform.supports_assist
    async with browser.context() as context:
        page, watch, tracker = await reach_captcha(browser, context, base)
        image = await platform.captcha_image(page)
        assert isinstance(image, str)
        assert image.startswith("data:image/png;base64,")
        assert image == await page.get_attribute("#captchaFR_CaptchaImage", "src")
        seen = await platform.submit_captcha(page, watch, tracker, site.expected_answer().lower())
    verdict = classify("rdv-prefecture", seen)
    assert verdict.status is Status.SLOTS_AVAILABLE
    assert verdict.slots == SLOTS_UTC
    assert seen.final_url == base + PREFIX + "/creneau/"
    given = site.sessions_seen(PREFIX)
    assert given[0] is None  # a fresh profile: no cookie on the first request
    assert len(set(given[1:])) == 1  # cgu/, the answer and creneau/ all in the session the landing opened
    assert [r.path for r in site.hits(PREFIX)][-1] == PREFIX + "/creneau/"
    assert site.hits(PREFIX + "/creneau")[0].cookies["JSESSIONID"] == given[1]


@in_module_loop
async def test_a_wrong_answer_shows_a_new_captcha_and_a_right_one_then_goes_on(browser: Browser, serve: Any) -> None:
    site, base = serve(PrefState())
    platform = get_platform("rdv-prefecture")
    async with browser.context() as context:
        page, watch, tracker = await reach_captcha(browser, context, base)
        first_id = site.last_captcha_id
        wrong = await platform.submit_captcha(page, watch, tracker, "NOT-IT")
        assert status_of(wrong) is Status.CAPTCHA
        assert "invalidCaptcha" in classify("rdv-prefecture", wrong).reason
        assert wrong.final_url.endswith("/cgu/?error=invalidCaptcha")
        assert site.last_captcha_id != first_id  # a new captcha for the person to read
        assert await platform.captcha_image(page) == await page.get_attribute("#captchaFR_CaptchaImage", "src")
        again = await platform.submit_captcha(page, watch, tracker, "STILL-NOT")
        assert status_of(again) is Status.CAPTCHA  # the same URL again: still recognised
        right = await platform.submit_captcha(page, watch, tracker, site.expected_answer())
        found = classify("rdv-prefecture", right)
        assert found.status is Status.NO_SLOT
        assert found.details["last_published"].startswith("Dernière mise en ligne")
        with pytest.raises(UserError, match="no captcha on the page"):
            await platform.submit_captcha(page, watch, tracker, "ABC123")
    assert len({s for s in site.sessions_seen(PREFIX) if s}) == 1


@in_module_loop
async def test_an_empty_answer_is_refused_before_anything_is_sent(browser: Browser, serve: Any) -> None:
    site, base = serve(PrefState())
    async with browser.context() as context:
        page, watch, tracker = await reach_captcha(browser, context, base)
        with pytest.raises(UserError, match="empty"):
            await get_platform("rdv-prefecture").submit_captcha(page, watch, tracker, "  ")
    assert [r for r in site.hits(PREFIX) if r.method == "POST"] == []


@in_module_loop
async def test_captcha_image_is_none_without_a_captcha(browser: Browser, serve: Any) -> None:
    _, base = serve(PrefState(captcha="none"))
    async with browser.context() as context:
        page = await context.new_page()
        tracker = DocumentTracker(page)
        watch = Watch(id="moulins", url=base + PREFIX + "/", platform="rdv-prefecture")
        seen = await get_platform("rdv-prefecture").visit(page, watch, tracker)
        assert Document(seen).url.endswith("/creneau/")
        assert await get_platform("rdv-prefecture").captcha_image(page) is None
