"""Pure classification rules: page facts -> Status and reason, with one fixed precedence.

Precedence (first match wins), the same for every platform:

1. ``blocked``      HTTP 403/429, or a bot-challenge page
2. ``captcha``      a captcha stands between us and the availability page
3. ``maintenance``  the site says it is down for maintenance (or HTTP 503 with such wording)
4. ``error``        navigation failure, timeout, HTTP 5xx, proxy error pages
5. ``slots_available``  a positive slot marker of the platform
6. ``no_slot``      a positive no-slot marker of the platform
7. ``unknown``      nothing known matched: never ``no_slot``, never an alert

A platform only *reports findings*; this module alone turns findings into a Status.
"""

from __future__ import annotations

import html as htmllib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, cast

import lxml.html
from lxml.cssselect import CSSSelector

from monitor.domain import Observation, Status, Verdict

APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'", "′": "'"})
SPACES = re.compile(r"\s+")
HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
INVISIBLE_TAGS = ("script", "style", "noscript", "template", "head")

BOT_CHALLENGE = (
    "un instant",
    "vérifiez que vous êtes humain",
    "verify you are human",
    "checking your browser",
    "incapsula incident id",  # Imperva's block page (its incap_ses_* cookies were seen on rdv-prefecture)
)
BOT_CHALLENGE_SELECTORS = (
    "iframe[src*='challenges.cloudflare.com']",
    ".cf-turnstile",
    "#challenge-form",
    "iframe[src*='_Incapsula_Resource']",
)
PROXY_ERRORS = ("502 bad gateway", "504 gateway time-out", "504 gateway timeout", "503 service temporarily")


def normalise(text: str) -> str:
    """Text as compared: entities decoded, NFKC (nbsp -> space), one apostrophe, casefolded, spaces folded."""
    text = unicodedata.normalize("NFKC", htmllib.unescape(text)).translate(APOSTROPHES)
    return SPACES.sub(" ", text).strip().casefold()


@dataclass(frozen=True, slots=True, kw_only=True)
class Findings:
    """What a platform recognised on a page. Each field is a reason (or None); decide() ranks them."""

    blocked: str | None = None
    captcha: str | None = None
    maintenance: str | None = None
    error: str | None = None
    slots_available: str | None = None
    no_slot: str | None = None
    unknown: str | None = None  # why nothing could be concluded (e.g. the guichet choices to pick from)
    slots: tuple[datetime, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    def merged(self, other: Findings) -> Findings:
        """Self's findings, completed by other's where self has none."""
        return Findings(
            blocked=self.blocked or other.blocked,
            captcha=self.captcha or other.captcha,
            maintenance=self.maintenance or other.maintenance,
            error=self.error or other.error,
            slots_available=self.slots_available or other.slots_available,
            no_slot=self.no_slot or other.no_slot,
            unknown=self.unknown or other.unknown,
            slots=self.slots or other.slots,
            details={**other.details, **self.details},
        )


PRECEDENCE: tuple[Status, ...] = (
    Status.BLOCKED,
    Status.CAPTCHA,
    Status.MAINTENANCE,
    Status.ERROR,
    Status.SLOTS_AVAILABLE,
    Status.NO_SLOT,
)


def decide(findings: Findings) -> Verdict:
    """The one place where findings become a Status, by PRECEDENCE; nothing matched means UNKNOWN."""
    for status in PRECEDENCE:
        reason = getattr(findings, status.value)
        if reason:
            slots = findings.slots if status is Status.SLOTS_AVAILABLE else ()
            return Verdict(status=status, reason=reason, slots=slots, details=findings.details)
    reason = findings.unknown or "no known marker on the page"
    return Verdict(status=Status.UNKNOWN, reason=reason, details=findings.details)


class Document:
    """A parsed page: its visible text (normalised) and CSS queries over its DOM. Pure, no browser."""

    def __init__(self, observation: Observation) -> None:
        self.observation = observation
        self.url = observation.final_url
        self.http_status = observation.http_status
        self.headers: Mapping[str, str] = observation.headers
        self.facts: Mapping[str, Any] = observation.facts

    @cached_property
    def tree(self) -> lxml.html.HtmlElement:
        source = self.observation.html.strip() or "<html></html>"
        return lxml.html.document_fromstring(source)

    @cached_property
    def strings(self) -> tuple[str, ...]:
        """The visible text chunks, as written (collected once per page)."""
        return tuple(visible_strings(self.tree))

    @cached_property
    def text(self) -> str:
        """Visible text, normalised: hidden elements, scripts and styles removed."""
        return normalise(" ".join(self.strings))

    def select(self, css: str) -> list[lxml.html.HtmlElement]:
        return cast(list[lxml.html.HtmlElement], CSSSelector(css)(self.tree))

    def has(self, css: str) -> bool:
        return bool(self.select(css))

    def contains(self, marker: str) -> bool:
        """Whether the visible text contains the marker, both normalised."""
        return normalise(marker) in self.text

    def first_text(self, css: str) -> str:
        """The normalised text of the first element matching css, or ''."""
        found = self.select(css)
        return normalise(found[0].text_content()) if found else ""

    def verbatim(self, marker: str) -> str | None:
        """The shortest visible element text containing marker, as the site wrote it (apostrophes, accents, case).

        Courts want the no-slot message as the platform wrote it; matching stays on normalised text.
        """
        wanted = normalise(marker)
        best: str | None = None
        for element in self.tree.iter():
            if not isinstance(element.tag, str) or not is_shown(element):
                continue
            said = SPACES.sub(" ", " ".join(_own_chunks(element))).strip()
            if wanted in normalise(said) and (best is None or len(said) < len(best)):
                best = said
        return best

    def block_starting(self, marker: str, *, limit: int = 300) -> str | None:
        """The visible text of the element that starts with marker, grown to its parent while that stays short.

        Catches 'Dernière mise en ligne : <b>lundi 7 décembre</b>' whole, not only the text before the tag.
        """
        wanted = normalise(marker)
        for element in self.tree.iter():
            starts = isinstance(element.tag, str) and normalise(element.text or "").startswith(wanted)
            if starts and is_shown(element):
                return _grown(element, limit)
        return None

    def shows_exactly(self, text: str) -> bool:
        """Whether some visible text node or element says exactly text (after normalisation)."""
        wanted = normalise(text)
        if any(normalise(chunk) == wanted for chunk in self.strings):
            return True
        return any(
            isinstance(e.tag, str) and normalise(shown_text(e)) == wanted and is_shown(e) for e in self.tree.iter()
        )


def shown_text(element: Any) -> str:
    """What a person reads inside element, original case, one space between pieces (hidden parts left out)."""
    return SPACES.sub(" ", unicodedata.normalize("NFKC", " ".join(_own_chunks(element))).translate(APOSTROPHES)).strip()


def _grown(element: Any, limit: int) -> str:
    text = shown_text(element)
    parent = element.getparent()
    while parent is not None and parent.tag != "body":
        bigger = shown_text(parent)
        if len(bigger) > limit or not bigger.startswith(text):
            break
        text, parent = bigger, parent.getparent()
    return text


def visible_strings(tree: lxml.html.HtmlElement) -> list[str]:
    """Text chunks of elements a person can see (no script/style/hidden subtrees)."""
    chunks: list[str] = []
    _collect(tree, chunks)
    return [c for c in chunks if c.strip()]


def _own_chunks(element: Any) -> list[str]:
    """The visible text chunks inside element (not its tail)."""
    chunks = [element.text or ""]
    for child in element:
        _collect(child, chunks)
    return chunks


def _collect(element: Any, chunks: list[str]) -> None:
    if not isinstance(element.tag, str) or _is_hidden(element):
        if element.tail:
            chunks.append(element.tail)
        return
    if element.text:
        chunks.append(element.text)
    for child in element:
        _collect(child, chunks)
    if element.tail:
        chunks.append(element.tail)


def _is_hidden(element: Any) -> bool:
    if element.tag in INVISIBLE_TAGS or element.get("hidden") is not None:
        return True
    if element.tag == "input" and element.get("type") == "hidden":
        return True
    return bool(HIDDEN_STYLE.search(element.get("style") or ""))


def is_shown(element: Any) -> bool:
    """Whether a person could see element: neither it nor an ancestor is hidden, a script or a template."""
    return not any(_is_hidden(e) for e in (element, *element.iterancestors()))


def visible_text(element: Any) -> str:
    """The normalised text a person can see inside element (not its tail): hidden parts and scripts left out."""
    return normalise(" ".join(_own_chunks(element))) if is_shown(element) else ""


def generic_findings(doc: Document) -> Findings:
    """Facts any site can show: HTTP blocks, bot challenges, proxy errors, navigation failures."""
    status = doc.http_status
    nav_error = doc.facts.get("navigation_error")
    if nav_error:
        return Findings(error=f"navigation failed: {nav_error}")
    if status in (403, 429):
        details = {"retry_after": retry_after(doc.headers)} if status == 429 else {}
        return Findings(blocked=f"HTTP {status} from the server", details=details)
    challenge = _bot_challenge(doc)
    if challenge:
        return Findings(blocked=challenge)
    proxy = next((p for p in PROXY_ERRORS if doc.contains(p)), None)
    if status is not None and status >= 500:
        return Findings(error=f"HTTP {status}" + (f" ({proxy})" if proxy else ""))
    if proxy:
        return Findings(error=f"proxy error page: {proxy}")
    return Findings()


def _bot_challenge(doc: Document) -> str | None:
    for css in BOT_CHALLENGE_SELECTORS:
        if doc.has(css):
            return f"bot challenge on the page ({css})"
    title = normalise(doc.observation.title)
    for marker in BOT_CHALLENGE:
        if marker in title or (len(doc.text) < 600 and doc.contains(marker)):
            return f"bot challenge page: {marker!r}"
    return None


def retry_after(headers: Mapping[str, str]) -> int | None:
    """Seconds from a Retry-After header given in seconds (HTTP-date form is ignored)."""
    value = headers.get("retry-after", "").strip()
    return int(value) if value.isdigit() else None
