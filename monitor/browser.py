"""Playwright lifecycle: one warm Chromium per process, a fresh context (no cookies, no cache) per check."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser as PlaywrightBrowser
from playwright.async_api import BrowserContext, Error, Playwright, ViewportSize, async_playwright

from monitor.errors import ConfigError, first_line

log = logging.getLogger(__name__)

SYSTEM_CHROMIUMS = (
    "/usr/lib/chromium/chromium",  # Debian's real binary (the /usr/bin wrapper adds flags of its own)
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
)
# Chromium looks up a few Google hosts at start; map them away so a check makes no call but its own.
QUIET_ARGS = (
    "--host-resolver-rules=MAP accounts.google.com ~NOTFOUND, MAP update.googleapis.com ~NOTFOUND, "
    "MAP clients2.google.com ~NOTFOUND, MAP optimizationguide-pa.googleapis.com ~NOTFOUND",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
)
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}


def bundled_chromium(environ: Mapping[str, str] | None = None) -> Path | None:
    """Playwright's own Chromium build folder, when installed (Docker image, a laptop after `playwright install`)."""
    env = os.environ if environ is None else environ
    root = Path(env.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    for pattern in ("chromium_headless_shell-*", "chromium-*"):
        found = sorted(root.glob(pattern))
        if found:
            return found[-1]
    return None


def find_browser(environ: Mapping[str, str] | None = None) -> str | None:
    """Which browser a check would use: the forced path, Playwright's bundled one, or a system Chromium."""
    env = os.environ if environ is None else environ
    forced = env.get("RDV_MONITOR_BROWSER_PATH")
    if forced:
        return forced if Path(forced).is_file() else None
    found = bundled_chromium(env) or system_chromium()
    return str(found) if found else None


def system_chromium() -> Path | None:
    """The first system Chromium found, or None."""
    for candidate in SYSTEM_CHROMIUMS:
        if Path(candidate).is_file():
            return Path(candidate)
    found = shutil.which("chromium")
    return Path(found) if found else None


class Browser:
    """A warm headless Chromium shared by all checks of a process; relaunched when it dies."""

    def __init__(self, *, executable: Path | None = None, timeout_seconds: float = 30.0) -> None:
        self.forced = executable
        self.timeout_ms = timeout_seconds * 1000
        self._playwright: Playwright | None = None
        self._browser: PlaywrightBrowser | None = None
        self._lock = asyncio.Lock()
        self.version = ""
        self.executable = ""

    async def start(self) -> None:
        async with self._lock:
            await self._ensure()

    async def _ensure(self) -> PlaywrightBrowser:
        if self._browser is not None and self._browser.is_connected():
            return self._browser
        if self._playwright is None:
            self._playwright = await async_playwright().start()
        self._browser = await self._launch(self._playwright)
        self.version = self._browser.version
        log.info("browser ready: Chromium %s (%s)", self.version, self.executable)
        return self._browser

    async def _launch(self, playwright: Playwright) -> PlaywrightBrowser:
        if self.forced is not None:
            if not self.forced.is_file():
                raise ConfigError(f"RDV_MONITOR_BROWSER_PATH: no such file: {self.forced}")
            return await self._launch_at(playwright, self.forced)
        # handle_sigint=False: Ctrl-C reaches the whole process group, and the service closes the browser
        # itself once the running checks are done (the driver would otherwise kill it under them).
        try:
            browser = await playwright.chromium.launch(args=list(QUIET_ARGS), handle_sigint=False)
            self.executable = "playwright bundled chromium"
            return browser
        except Error as exc:
            if "Executable doesn't exist" not in str(exc):
                raise
        system = system_chromium()
        if system is None:
            raise ConfigError(
                "no browser: install Playwright's Chromium (playwright install chromium), "
                "Debian's chromium package, or set RDV_MONITOR_BROWSER_PATH"
            )
        return await self._launch_at(playwright, system)

    async def _launch_at(self, playwright: Playwright, path: Path) -> PlaywrightBrowser:
        self.executable = str(path)
        try:
            return await playwright.chromium.launch(
                executable_path=str(path), args=list(QUIET_ARGS), handle_sigint=False
            )
        except Error as exc:  # not a Chromium, not executable, missing libraries: one line, not a traceback
            where = "RDV_MONITOR_BROWSER_PATH: " if path == self.forced else ""
            raise ConfigError(f"{where}cannot launch {path} as Chromium: {first_line(exc)}") from None

    @asynccontextmanager
    async def context(self) -> AsyncIterator[BrowserContext]:
        """A fresh incognito context: French locale, Paris time zone, nothing kept from earlier checks."""
        async with self._lock:
            browser = await self._ensure()
        try:
            context = await browser.new_context(
                locale="fr-FR", timezone_id="Europe/Paris", viewport=VIEWPORT, accept_downloads=False
            )
        except Error:
            # A dead Playwright driver leaves the browser "connected": start afresh at the next check.
            async with self._lock:
                if self._browser is browser:
                    await self._drop()
            raise
        context.set_default_timeout(self.timeout_ms)
        context.set_default_navigation_timeout(self.timeout_ms)
        try:
            yield context
        finally:
            try:
                await context.close()
            except Error:
                log.debug("context already gone (browser crashed?)")

    async def close(self) -> None:
        async with self._lock:
            await self._drop()

    async def _drop(self) -> None:
        if self._browser is not None:
            try:
                await self._browser.close()
            except Error:
                log.debug("browser already closed")
            self._browser = None
        if self._playwright is not None:
            try:
                await self._playwright.stop()
            except Exception:
                log.debug("Playwright driver already gone")
            self._playwright = None
