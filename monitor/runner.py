"""One check: browser -> platform -> classify -> evidence -> store. The one place where exceptions become `error`."""

from __future__ import annotations

import asyncio
import logging
import platform as pyplatform
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from importlib.metadata import version
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from monitor.classify import Document, decide, generic_findings
from monitor.domain import EMPTY, CheckResult, Clock, Observation, Status, Verdict, Watch, utcnow
from monitor.errors import first_line
from monitor.evidence import Capture, EvidenceStore
from monitor.platforms import get_platform
from monitor.platforms.base import DocumentTracker, Platform

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from playwright.async_api import Page
    from sqlalchemy.orm import Session

    from monitor.assist import Assistant
    from monitor.browser import Browser
    from monitor.storage import Storage

log = logging.getLogger(__name__)
SCREENSHOT_TIMEOUT_MS = 15_000
MAX_ASSIST_ROUNDS = 5  # wrong answers in a row before the attempt is recorded as captcha


class CheckListener(Protocol):
    """Told of every attempt: first inside the transaction that stores it, then after the commit."""

    def in_transaction(self, session: Session, watch: Watch, result: CheckResult) -> None: ...

    def committed(self, watch: Watch, result: CheckResult) -> None: ...


class HostGate:
    """A minimum gap between the starts of two checks on the same host, across all watches."""

    def __init__(self, gap_seconds: float, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.gap = gap_seconds
        self.monotonic = monotonic
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}

    def remember(self, starts: Mapping[str, datetime], *, now: datetime) -> None:
        """Count checks recorded before this process (a restart, another `rdv-monitor check`) in the gap."""
        for host, started in starts.items():
            ago = max(0.0, (now - started).total_seconds())
            if ago < self.gap:
                self._last[host] = self.monotonic() - ago

    def waiting(self, host: str) -> float:
        """Seconds before a check of host may start."""
        last = self._last.get(host)
        return 0.0 if last is None else max(0.0, last + self.gap - self.monotonic())

    @asynccontextmanager
    async def turn(self, host: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(host, asyncio.Lock())
        async with lock:
            wait = self.waiting(host)
            if wait > 0:
                await asyncio.sleep(wait)
            self._last[host] = self.monotonic()
        yield


def assisted(watch: Watch) -> bool:
    """Whether a captcha on this watch is offered to a person live (and announced by the assist broker)."""
    return watch.assist and get_platform(watch.platform).supports_assist


def classify(platform_name: str, observation: Observation) -> Verdict:
    """Generic findings (blocks, proxy errors) merged with the platform's, decided by the fixed precedence."""
    doc = Document(observation)
    findings = generic_findings(doc).merged(get_platform(platform_name).findings(doc))
    return decide(findings)


def versions(browser_version: str) -> dict[str, str]:
    return {
        "rdv_monitor": version("rdv-monitor"),
        "playwright": version("playwright"),
        "chromium": browser_version,
        "python": pyplatform.python_version(),
    }


class Checker:
    """Runs checks and records every one of them, whatever happens."""

    def __init__(
        self,
        *,
        storage: Storage,
        browser: Browser,
        evidence: EvidenceStore,
        gate: HostGate,
        timeout_seconds: float = 90.0,
        listeners: Sequence[CheckListener] = (),
        clock: Clock = utcnow,
        assistant: Assistant | None = None,
    ) -> None:
        self.storage = storage
        self.browser = browser
        self.evidence = evidence
        self.gate = gate
        self.timeout = timeout_seconds
        self.listeners = tuple(listeners)
        self.clock = clock
        self.assistant = assistant

    async def check(self, watch: Watch) -> CheckResult:
        """Visit, classify, keep the evidence, store the attempt; return it as stored."""
        async with self.gate.turn(urlsplit(watch.url).hostname or ""):
            started = self.clock()
            observation, capture = await self._observe(watch)
        verdict = await asyncio.to_thread(classify, watch.platform, observation)  # lxml on a big page: ~0.2 s of CPU
        checked = self.clock()
        result = await asyncio.to_thread(self._keep, watch, started, checked, observation, verdict, capture)
        log.info("check %s: %s (%s)", watch.id, result.status, result.reason)
        for listener in self.listeners:
            listener.committed(watch, result)
        return result

    async def preview(self, watch: Watch) -> Observation:
        """Visit like a check, keep nothing: what a site offers (e.g. its guichets) while a watch is being added."""
        async with self.gate.turn(urlsplit(watch.url).hostname or ""):
            pass
        observation, _ = await self._observe(watch)
        return observation

    async def _observe(self, watch: Watch) -> tuple[Observation, Capture]:
        try:
            async with self.browser.context() as context:
                page = await context.new_page()
                tracker = DocumentTracker(page)
                observation = await self._visit(page, watch, tracker)
                observation, captcha = await self._assisted(page, watch, tracker, observation)
                shot = await _screenshot(page)
                return observation, Capture(screenshot=shot, html=observation.html, captcha=captcha)
        except Exception as exc:
            log.warning("check %s: browser failure: %s", watch.id, _describe(exc))
            observation = Observation(
                final_url=watch.url, http_status=None, html="", facts={"navigation_error": _describe(exc)}
            )
            return observation, Capture(screenshot=None, html="")

    async def _visit(self, page: Page, watch: Watch, tracker: DocumentTracker) -> Observation:
        platform = get_platform(watch.platform)
        try:
            return await asyncio.wait_for(platform.visit(page, watch, tracker), self.timeout)
        except Exception as exc:
            log.info("check %s: navigation failed: %s", watch.id, _describe(exc))
            return await _observe_after_failure(page, tracker, _describe(exc), watch.url)

    async def _assisted(
        self, page: Page, watch: Watch, tracker: DocumentTracker, observation: Observation
    ) -> tuple[Observation, bytes | None]:
        """While a captcha stands in the way of an `assist: true` watch, a person may answer it in this session.

        Returns the page finally reached and the screenshot of the first captcha a person answered.
        """
        if self.assistant is None or not assisted(watch):
            return observation, None
        platform = get_platform(watch.platform)
        captcha_shot: bytes | None = None
        for attempt in range(1, MAX_ASSIST_ROUNDS + 1):
            image = await _captcha_image(platform, page, observation, watch.platform)
            if image is None:
                break
            shot = await _screenshot(page)
            answer = await self.assistant.ask(watch, image, attempt=attempt)
            if answer is None:
                break
            captcha_shot = captcha_shot or shot
            observation = await self._submit(page, watch, tracker, answer)
        return observation, captcha_shot

    async def _submit(self, page: Page, watch: Watch, tracker: DocumentTracker, answer: str) -> Observation:
        platform = get_platform(watch.platform)
        try:
            return await asyncio.wait_for(platform.submit_captcha(page, watch, tracker, answer), self.timeout)
        except Exception as exc:
            log.info("check %s: going on after the captcha failed: %s", watch.id, _describe(exc))
            return await _observe_after_failure(page, tracker, _describe(exc), watch.url)

    def _keep(
        self,
        watch: Watch,
        started: datetime,
        checked: datetime,
        obs: Observation,
        verdict: Verdict,
        capture: Capture,
    ) -> CheckResult:
        """Files first (fsynced), then the row: a crash in between leaves files, never a dangling row."""
        files = self.evidence.write(watch, checked, obs.final_url or watch.url, verdict.status, capture)
        draft = CheckResult(
            watch=watch.id,
            status=verdict.status,
            reason=verdict.reason,
            started_at=started,
            checked_at=checked,
            final_url=obs.final_url or watch.url,
            http_status=obs.http_status,
            slots=verdict.slots,
            files=files,
            details={**_context_details(obs), **_watch_details(watch), **_json_safe(verdict.details)},
            versions=versions(self.browser.version),
        )
        with self.storage.writer() as session, session.begin():
            stored = self.storage.append_check(draft, platform=watch.platform, url=watch.url, session=session)
            for listener in self.listeners:
                listener.in_transaction(session, watch, stored)
        return stored


async def _captcha_image(platform: Platform, page: Page, obs: Observation, name: str) -> bytes | str | None:
    """The captcha a person could answer, when the page is classified captcha and the platform can show it."""
    if (await asyncio.to_thread(classify, name, obs)).status is not Status.CAPTCHA:  # lxml: off the event loop
        return None
    try:
        return await platform.captcha_image(page)
    except Exception as exc:
        log.info("captcha image unreadable: %s", _describe(exc))
        return None


async def _screenshot(page: Page) -> bytes | None:
    try:
        return await page.screenshot(full_page=True, timeout=SCREENSHOT_TIMEOUT_MS, animations="disabled")
    except Exception as exc:
        log.info("screenshot failed: %s", _describe(exc))
        return None


async def _observe_after_failure(page: Page, tracker: DocumentTracker, why: str, url: str) -> Observation:
    await _stop_loading(page)
    try:
        return await asyncio.wait_for(tracker.observe(navigation_error=why), 10)
    except Exception:
        return Observation(
            final_url=page.url if page.url != "about:blank" else url,
            http_status=None,
            html="",
            facts={"navigation_error": why},
        )


async def _stop_loading(page: Page) -> None:
    """Stop a navigation that timed out: while it is pending, reading the page and screenshots hang (Chromium)."""
    try:
        session = await page.context.new_cdp_session(page)
        await asyncio.wait_for(session.send("Page.stopLoading"), 5)
        await session.detach()
    except Exception as exc:
        log.debug("could not stop loading: %s", _describe(exc))


def _watch_details(watch: Watch) -> dict[str, str]:
    """Which démarche the attempt was for, inside the chained record: the watch file may change or lose it later."""
    return {"watch_label": watch.title, "watch_url": watch.url}


def _context_details(obs: Observation) -> dict[str, Any]:
    """What gives an attempt weight: the server's own clock and address, and a fresh profile."""
    details: dict[str, Any] = {"fresh_profile": True}
    if obs.headers.get("date"):
        details["server_date"] = obs.headers["date"]
    if obs.server_ip:
        details["server_ip"] = obs.server_ip
    return details


def _json_safe(details: Any) -> dict[str, Any]:
    if not details:
        return dict(EMPTY)
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(details).items()}


def _describe(exc: BaseException) -> str:
    return "timed out" if isinstance(exc, TimeoutError) else first_line(exc, 300)
