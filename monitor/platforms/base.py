"""What a booking platform adapter implements: how to walk its pages and what its markers mean.

An adapter has two halves:
- ``visit`` drives a browser page up to the availability page (or as far as it can) and returns an
  Observation. It never books, never holds a slot, never solves a captcha.
- ``findings`` is pure: it reads a parsed Document and reports which known markers are there.

Playwright is imported for type checking only, so the pure half can be used (and tested) without a browser.
"""

from __future__ import annotations

import contextlib
import re
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from monitor.classify import Document, Findings
from monitor.domain import Observation, Watch

if TYPE_CHECKING:
    from playwright.async_api import Page, Response


class AssistNotSupported(Exception):
    """A captcha answer was offered to a platform that cannot take one."""


class NoOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Platform(ABC):
    """One booking platform. Subclasses are registered explicitly in ``monitor.platforms``."""

    name: ClassVar[str]
    label: ClassVar[str]
    #: URL shapes (matched on path + query, whatever the host) that identify this platform.
    url_shapes: ClassVar[tuple[re.Pattern[str], ...]] = ()
    #: The watch's `options:` model; it must forbid unknown keys.
    Options: ClassVar[type[BaseModel]] = NoOptions
    #: Whether a person can answer this platform's captcha so the same session goes on (captcha_image/submit_captcha).
    supports_assist: ClassVar[bool] = False

    @abstractmethod
    async def visit(self, page: Page, watch: Watch, tracker: DocumentTracker) -> Observation:
        """Walk from watch.url to the page that tells availability; return what is there."""

    @abstractmethod
    def findings(self, doc: Document) -> Findings:
        """The platform's known markers on this page. Pure."""

    def options(self, watch: Watch) -> Any:
        """The watch's validated options (validated once already when the file was loaded)."""
        return self.Options.model_validate(dict(watch.options))

    async def captcha_image(self, page: Page) -> bytes | str | None:
        """The captcha shown on page, as PNG bytes or a `data:` URI, for a person to read; None when there is none.

        Read from the page as it is (never reloaded, never solved). Not supported by default.
        """
        return None

    async def submit_captcha(self, page: Page, watch: Watch, tracker: DocumentTracker, answer: str) -> Observation:
        """Type a person's answer into the captcha on page, submit, and go on in the same session.

        Returns what the session reached: the availability page when the answer was right, else the new
        captcha page (e.g. with `error=invalidCaptcha`). Only platforms with supports_assist implement it.
        """
        raise AssistNotSupported(f"platform {self.name!r} does not support answering a captcha")


class DocumentTracker:
    """Remembers the last main-frame document response, so an Observation carries its status and headers."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.response: Response | None = None
        page.on("response", self._on_response)

    def _on_response(self, response: Response) -> None:
        request = response.request
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self.response = response

    @property
    def ok(self) -> bool:
        """Whether the last document answered below 400 (or none answered yet): the walk may go on."""
        return self.response is None or self.response.status < 400

    async def observe(self, **facts: Any) -> Observation:
        """Snapshot the page as it is now."""
        page, response = self.page, self.response
        headers: dict[str, str] = {}
        server_ip = None
        if response is not None:
            headers = {k.lower(): v for k, v in (await response.all_headers()).items()}
            addr = await response.server_addr()
            server_ip = addr["ipAddress"] if addr else None
        return Observation(
            final_url=page.url,
            http_status=response.status if response is not None else None,
            html=await page.content(),
            title=await page.title(),
            headers=headers,
            server_ip=server_ip,
            facts=facts,
        )


async def wait_quietly(page: Page, state: Literal["load", "networkidle"], timeout_ms: float) -> None:
    """Wait for the page to reach state, but a page that never does is no error: it is observed as it is."""
    with contextlib.suppress(Exception):
        await page.wait_for_load_state(state, timeout=timeout_ms)
