"""rdv-service-public: RDV Service Public (rdv.anct.gouv.fr `prendre_rdv`), plain server-rendered pages.

The watched URL is a `prendre_rdv?…` search (motif, organisation, lieu). The page lists free slots as links
carrying `starts_at=…`, or a "Prochaine disponibilité le …" link to a later week, or the no-slot sentence.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import parse_qs, urlsplit

from monitor.classify import Document, Findings, is_shown, normalise, shown_text
from monitor.domain import PARIS, Observation, Watch
from monitor.platforms.base import DocumentTracker, Platform, wait_quietly
from monitor.platforms.dates import first_moment, paris_text, reference_day, slot_times

if TYPE_CHECKING:
    from lxml.html import HtmlElement
    from playwright.async_api import Page

#: The no-slot sentence: as in the field notes, and as the application also ends it (its own tests show both).
NO_SLOT = (
    "Malheureusement, aucun créneau correspondant à votre recherche n'a été trouvé. Veuillez réessayer ultérieurement.",
    "Malheureusement, aucun créneau correspondant à votre recherche n'a été trouvé.",
)
NEXT_AVAILABLE = "Prochaine disponibilité le"
SLOT_LINK = "a[href*='starts_at=']"
SEARCH_LINK = "a[href*='prendre_rdv']"
MAINTENANCE = ("Service indisponible", "maintenance")
UNEXPECTED = "Erreur inattendue"
SETTLE_MS = 3_000
OFFSET = re.compile(r"(?<=:\d\d)\s+([+-]?)(\d\d):?(\d\d)$")


class RdvServicePublic(Platform):
    name: ClassVar[str] = "rdv-service-public"
    label: ClassVar[str] = "RDV Service Public (rdv.anct.gouv.fr/prendre_rdv…)"
    url_shapes = (re.compile(r"/prendre_rdv(?:[/?#]|$)"),)

    async def visit(self, page: Page, watch: Watch, tracker: DocumentTracker) -> Observation:
        await page.goto(watch.url, wait_until="domcontentloaded")
        await wait_quietly(page, "load", SETTLE_MS)  # a slow image is no reason to lose the page
        return await tracker.observe()

    def findings(self, doc: Document) -> Findings:
        down = _maintenance(doc)
        if down:
            return Findings(maintenance=down)
        if doc.contains(UNEXPECTED):
            return Findings(error=f"« {UNEXPECTED} »" + (f" (HTTP {doc.http_status})" if doc.http_status else ""))
        return _availability(doc)


def _maintenance(doc: Document) -> str | None:
    """The static maintenance page ("Service indisponible", served as 503)."""
    heading = " ".join((doc.observation.title, doc.first_text("h1")))
    said = next((m for m in MAINTENANCE if m.casefold() in heading.casefold()), None)
    if said:
        return f"maintenance page: « {said} »" + (f" (HTTP {doc.http_status})" if doc.http_status else "")
    if doc.http_status == 503:
        return "HTTP 503: the service is down"
    return None


def _availability(doc: Document) -> Findings:
    reference = reference_day(doc.headers)
    links = [a for a in doc.select(SLOT_LINK) if is_shown(a)]
    if links:
        slots = tuple(sorted({t for a in links for t in _link_times(a, reference)}))
        first = f", first {paris_text(slots[0])}" if slots else ""
        return Findings(slots_available=f"{len(links)} slot button(s) on the page{first}", slots=slots)
    later = _next_available(doc)
    if later:
        details = {"next_available": later, "next_available_at": first_moment(later, reference=reference)}
        return Findings(slots_available=f"« {later} » (later slots exist)", details=details)
    said = next((sentence for sentence in NO_SLOT if doc.contains(sentence)), None)
    if said:
        return Findings(no_slot=f"« {said} »", details={"no_slot_text": doc.verbatim(said) or said})
    return Findings()


def _next_available(doc: Document) -> str | None:
    """The "Prochaine disponibilité le …" link to a later week or place (a link back to prendre_rdv)."""
    wanted = normalise(NEXT_AVAILABLE)
    shown = (shown_text(a) for a in doc.select(SEARCH_LINK) if is_shown(a))
    return next((text for text in shown if normalise(text).startswith(wanted)), None)


def _link_times(link: HtmlElement, reference: date | None) -> list[datetime]:
    """The slot time of a button: its `starts_at` parameter, else the date written in its label."""
    value = parse_qs(urlsplit(link.get("href") or "").query).get("starts_at", [""])[-1]
    moment = starts_at(value)
    if moment is not None:
        return [moment]
    return slot_times(" ".join((link.get("aria-label") or "", shown_text(link))), reference=reference)


def starts_at(value: str) -> datetime | None:
    """`2026-12-07T09:00:00+01:00` or Rails' `2026-12-07 09:00:00 +0100` (no offset: Paris) as aware UTC."""
    # parse_qs reads an unescaped "+" as a space: a bare offset after a space is a positive one.
    text = OFFSET.sub(lambda m: f"{m.group(1) or '+'}{m.group(2)}:{m.group(3)}", value.strip())
    text = text.replace(" ", "T", 1)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=PARIS)).astimezone(UTC)
