"""rdv-prefecture: the Ministry's platform (`/rdvpref/reservation/demarche/<ID>/`), most departments since 2024.

Flow: landing -> "Prendre un rendez-vous" -> cgu/ (a captcha, "code de sécurité") -> creneau/. Unattended, the
visit stops at the captcha: that page is the observation (status `captcha`, it is evidence too). A person may
read the captcha (captcha_image) and answer it (submit_captcha): the same browser session then goes on to
creneau/, which is read, never chosen from.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from monitor.classify import Document, Findings, is_shown, shown_text
from monitor.domain import Observation, Watch
from monitor.errors import UserError
from monitor.platforms.base import DocumentTracker, Platform
from monitor.platforms.dates import first_moment, paris_text, reference_day, slot_times

if TYPE_CHECKING:
    from lxml.html import HtmlElement
    from playwright.async_api import Locator, Page

START = "Prendre un rendez-vous"
NEXT = "button:has-text('Suivant'), input[type=submit][value='Suivant']"
START_LINK = f"a:has-text('{START}'), button:has-text('{START}')"
ANSWER = "#captchaFormulaireExtInput"
CAPTCHA_IMAGE = ".captcha img, img[id^='captchaFR_']"
CAPTCHA = f"{ANSWER}, {CAPTCHA_IMAGE}, input[name=captchaId]"
RECAPTCHA = "div.g-recaptcha, iframe[src*='recaptcha']"
SLOT_CARD = "input[id^='trhId_']"
NO_SLOT = ("Aucun créneau disponible", "Veuillez réessayer ultérieurement.")
NEXT_AVAILABLE = "Prochaine disponibilité"
LAST_PUBLISHED = "Dernière mise en ligne"
CHALLENGE = ".cf-turnstile, #challenge-form, iframe[src*='challenges.cloudflare.com']"
#: Anything that says the page has rendered (the front end is a Vue app): wait for one of these.
SETTLED = ", ".join(
    (
        CAPTCHA,
        RECAPTCHA,
        SLOT_CARD,
        CHALLENGE,
        START_LINK,
        f":text('{NO_SLOT[0]}')",
        f":text('{NEXT_AVAILABLE}')",
        ":text('Vérifiez que vous êtes humain')",
    )
)
SETTLE_MS = 5_000
CAPTCHA_ERRORS = {
    "invalidCaptcha": "the captcha answer was refused (error=invalidCaptcha); a new captcha is shown",
    "errorSessionInvalide": "the session expired (error=errorSessionInvalide); the flow restarts at the captcha",
}
CRITERE = re.compile(r'"critere"\s*:\s*\{(?P<body>[^{}]*)\}')
CRITERE_KEYS = (("datePremiereDispo", "date_premiere_dispo"), ("dateMin", "date_min"), ("dateMax", "date_max"))
MAX_STEPS = 4  # landing -> cgu/ -> creneau/ plus slack


class RdvPrefecture(Platform):
    name: ClassVar[str] = "rdv-prefecture"
    label: ClassVar[str] = "RDV-Préfecture (www.rdv-prefecture.interieur.gouv.fr/rdvpref/…)"
    url_shapes = (re.compile(r"/rdvpref/reservation/demarche/\d+"),)
    supports_assist: ClassVar[bool] = True

    async def visit(self, page: Page, watch: Watch, tracker: DocumentTracker) -> Observation:
        await page.goto(watch.url, wait_until="domcontentloaded")
        for _ in range(MAX_STEPS):
            if not tracker.ok:
                break
            await _settle(page)
            forward = await _way_forward(page)
            if forward is None:
                break
            await _follow(page, forward)
        return await tracker.observe()

    def findings(self, doc: Document) -> Findings:
        details = published(doc)
        captcha = captcha_reason(doc)
        if captcha:
            return Findings(captcha=captcha, details=details)
        return availability(doc, details)

    async def captcha_image(self, page: Page) -> bytes | str | None:
        image = page.locator(CAPTCHA_IMAGE).first
        if not await image.count():
            return None
        source = await image.get_attribute("src") or ""
        if source.startswith("data:image/"):
            return source
        return await image.screenshot(type="png")  # fetching the src again would draw a new captcha

    async def submit_captcha(self, page: Page, watch: Watch, tracker: DocumentTracker, answer: str) -> Observation:
        code = answer.strip()
        if not code:
            raise UserError("answer: the captcha answer is empty")
        field = page.locator(ANSWER).first
        if not await field.count():
            raise UserError("answer: there is no captcha on the page any more")
        await field.fill(code)
        await _follow(page, page.locator(NEXT).first)
        await _settle(page)
        return await tracker.observe()


async def _settle(page: Page) -> None:
    """The front end renders after load: wait for a known marker, but a page without one is not an error here."""
    markers = f"{SETTLED}, {NEXT}" if "/cgu" in urlsplit(page.url).path else SETTLED
    try:
        await page.locator(markers).first.wait_for(state="attached", timeout=SETTLE_MS)
    except Exception:
        return


async def _way_forward(page: Page) -> Locator | None:
    """What moves us on without answering anything: the start link, or "Suivant" on a cgu/ without captcha."""
    if await page.locator(f"{CAPTCHA}, {RECAPTCHA}, {CHALLENGE}").count():
        return None
    path = urlsplit(page.url).path
    if "/cgu" in path:
        button = page.locator(NEXT)
        return button.first if await button.count() else None
    if "/creneau" in path:
        return None
    start = page.locator(START_LINK)
    return start.first if await start.count() else None


async def _follow(page: Page, control: Locator) -> None:
    """Click and wait for the main frame to move (a full load or the front end's own routing)."""
    async with page.expect_event("framenavigated", predicate=lambda frame: frame == page.main_frame):
        await control.click()
    await page.wait_for_load_state("domcontentloaded")


def captcha_reason(doc: Document) -> str | None:
    """Why the page is a captcha wall (naming a refused answer or an expired session), or None."""
    error = parse_qs(urlsplit(doc.url).query).get("error", [""])[-1]
    if error in CAPTCHA_ERRORS:
        return CAPTCHA_ERRORS[error]
    if doc.has(CAPTCHA):
        return "captcha (code de sécurité) before the slot page"
    if doc.has(RECAPTCHA):
        return "reCAPTCHA before the slot page"
    return None


def availability(doc: Document, details: dict[str, Any]) -> Findings:
    """Radio cards (anywhere), or on creneau/ a later availability or the two no-slot sentences."""
    reference = reference_day(doc.headers)
    cards = [card for card in doc.select(SLOT_CARD) if is_shown(card)]
    if cards:
        slots = tuple(sorted(t for card in cards for t in slot_times(_card_text(card), reference=reference)))
        first = f", first {paris_text(slots[0])}" if slots else ""
        return Findings(slots_available=f"{len(cards)} slot card(s) on the page{first}", slots=slots, details=details)
    if "/creneau" not in urlsplit(doc.url).path:
        return Findings(details=details)  # the sentences below are too common to count on any other page
    later = doc.block_starting(NEXT_AVAILABLE)
    if later:
        found = {**details, "next_available": later, "next_available_at": first_moment(later, reference=reference)}
        return Findings(slots_available=f"« {later} » (later slots exist)", details=found)
    if all(doc.shows_exactly(text) for text in NO_SLOT):
        if details.get("date_premiere_dispo"):
            why = f"the page says no slot but its data names a first date {details['date_premiere_dispo']!r}"
            return Findings(unknown=why, details=details)
        said = " ".join(doc.verbatim(text) or text for text in NO_SLOT)
        return Findings(no_slot=" ".join(f"« {text} »" for text in NO_SLOT), details={**details, "no_slot_text": said})
    return Findings(details=details)


def _card_text(card: HtmlElement) -> str:
    """The text of the radio card around an input (its label or `.radio-card`)."""
    for ancestor in card.iterancestors():
        if ancestor.tag == "label" or "radio-card" in (ancestor.get("class") or "").split():
            return shown_text(ancestor)
    return ""


def published(doc: Document) -> dict[str, Any]:
    """Supporting facts: the "Dernière mise en ligne …" line and the page data's first available date."""
    details: dict[str, Any] = {}
    line = doc.block_starting(LAST_PUBLISHED)
    if line:
        details["last_published"] = line
    critere = CRITERE.search(doc.observation.html)
    if critere:
        for key, name in CRITERE_KEYS:
            details[name] = _json_text(critere.group("body"), key)
    return details


def _json_text(body: str, key: str) -> str | None:
    """A string value in a flat JSON object body; empty or null is None."""
    match = re.search(rf'"{key}"\s*:\s*(?:"(?P<value>[^"]*)"|null)', body)
    return (match.group("value") or None) if match else None
