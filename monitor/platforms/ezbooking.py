"""ezbooking: the booking module of the prefectures' eZ Publish sites (`/booking/create/<formId>`).

Flow: conditions (/0) -> guichet choice (/1, skipped for one desk) -> no slot (/2) or Descriptif (/3)
-> week calendar (/4, free slots are links to /5/<unix-ts>). We stop at /4: reading, never choosing.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, field_validator

from monitor.classify import Document, Findings, is_shown, normalise, visible_text
from monitor.domain import Observation, Watch
from monitor.platforms.base import DocumentTracker, Platform, wait_quietly
from monitor.platforms.dates import paris_text

if TYPE_CHECKING:
    from playwright.async_api import Page

NO_SLOT = (
    "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous. Veuillez recommencer ultérieurement."
)
FIRST_FREE = "Première plage horaire libre"
SLOT_LINK = re.compile(r"/booking/create/[^/]+/5/(\d{9,11})(?:[/?#]|$)")
STEP = re.compile(r"/booking/create/[^/?#]+/(\d+)")
COOKIE_ACCEPT = "#cookies-banner a:has-text('Accepter'), #cookies-banner button:has-text('Accepter')"
CALENDAR_MS = 10_000
MAX_STEPS = 6  # /0 -> /1 -> /3 -> /4 plus slack; a loop beyond that is a changed site


class EzBookingOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    planning: str | None = None  # the guichet (desk) id offered on the choice page

    @field_validator("planning", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value


class EzBooking(Platform):
    name: ClassVar[str] = "ezbooking"
    label: ClassVar[str] = "ezbooking (sites des préfectures, /booking/create/…)"
    url_shapes = (re.compile(r"/booking/create/\d+"),)
    Options = EzBookingOptions

    async def visit(self, page: Page, watch: Watch, tracker: DocumentTracker) -> Observation:
        options: EzBookingOptions = self.options(watch)
        await page.goto(watch.url, wait_until="domcontentloaded")
        for _ in range(MAX_STEPS):
            if not tracker.ok:
                break
            await _accept_cookies(page)
            step = _step(page.url)
            if await page.locator("input#condition").count():
                await page.locator("input#condition").check()
                await _next(page)
            elif await page.locator("input[name=planning]").count():
                choices = await _choices(page)
                chosen = _choose(choices, options.planning)
                if chosen is None:
                    return await tracker.observe(choices=choices, planning=options.planning)
                await page.locator(f"input[name=planning][value={json.dumps(chosen)}]").check()
                await _next(page)
            elif step == 3 and await _has_plain_next(page):
                await _next(page)
            else:
                break
        if _step(page.url) == 4:  # the week calendar arrives by AJAX
            await wait_quietly(page, "networkidle", CALENDAR_MS)
        return await tracker.observe()

    def findings(self, doc: Document) -> Findings:
        choices = doc.facts.get("choices")
        if choices:
            return _choice_findings(choices, doc.facts.get("planning"))
        if doc.has("div.g-recaptcha, iframe[src*='recaptcha']"):
            return Findings(captcha="reCAPTCHA on the page (Contrôle de sécurité)")
        found = Findings()
        if _form_says_no_slot(doc):
            found = Findings(no_slot="« " + NO_SLOT + " »", details={"no_slot_text": doc.verbatim(NO_SLOT)})
        slots = slot_times(doc)
        if slots:
            first = paris_text(min(slots))
            return Findings(slots_available=f"{len(slots)} free slot(s) in the calendar, first {first}", slots=slots)
        if _offers_first_free(doc):
            return Findings(slots_available=f"the calendar offers « {FIRST_FREE} »")
        return found


def _step(url: str) -> int:
    match = STEP.search(url)
    return int(match.group(1)) if match else 0


async def _accept_cookies(page: Page) -> None:
    accept = page.locator(COOKIE_ACCEPT)
    if await accept.count() and await accept.first.is_visible():
        await accept.first.click()


async def _next(page: Page) -> None:
    async with page.expect_navigation(wait_until="domcontentloaded"):
        await page.locator("input[name=nextButton]").first.click()


async def _has_plain_next(page: Page) -> bool:
    button = page.locator("input[name=nextButton]")
    value = await button.first.get_attribute("value") if await button.count() else None
    return value is not None and normalise(value) != normalise(FIRST_FREE)


async def _choices(page: Page) -> list[dict[str, str]]:
    found: list[dict[str, str]] = await page.eval_on_selector_all(
        "input[name=planning]",
        """els => els.map(e => {
            const label = document.querySelector(`label[for="${e.id}"]`);
            return {id: e.value, label: (label ? label.innerText : e.value).trim()};
        })""",
    )
    return found


def _choose(choices: list[dict[str, str]], wanted: str | None) -> str | None:
    """The desk to pick: the configured one if offered, the only one if there is one, else None."""
    ids = [c["id"] for c in choices]
    if wanted is not None:
        return wanted if wanted in ids else None
    return ids[0] if len(ids) == 1 else None


def _choice_findings(choices: list[dict[str, str]], planning: str | None) -> Findings:
    listed = "; ".join(f"{c['id']} = {c['label']}" for c in choices)
    if planning is not None:
        why = f"configured guichet {planning!r} is not offered; choices: {listed}"
    else:
        why = f"several guichets, set options.planning to one of: {listed}"
    return Findings(unknown=why, details={"choices": choices})


def _form_says_no_slot(doc: Document) -> bool:
    """The exact no-slot sentence, visible in the booking form (a hidden or scripted copy does not count)."""
    marker = normalise(NO_SLOT)
    return any(marker in visible_text(form) for form in doc.select("form#FormBookingCreate"))


def _offers_first_free(doc: Document) -> bool:
    buttons = doc.select("input[name=nextButton]")
    return any(normalise(b.get("value") or "") == normalise(FIRST_FREE) and is_shown(b) for b in buttons)


def slot_times(doc: Document) -> tuple[datetime, ...]:
    """Free slots from the visible calendar links /5/<unix-ts>, sorted, as aware UTC datetimes."""
    links = (a for a in doc.select("a[href]") if is_shown(a))
    stamps = {int(m.group(1)) for a in links if (m := SLOT_LINK.search(a.get("href") or ""))}
    return tuple(datetime.fromtimestamp(ts, UTC) for ts in sorted(stamps))
