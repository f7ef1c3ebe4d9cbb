"""page: a generic watch of any URL, for sites no adapter knows.

The person says what "no slot" and "slot" look like (`no_slot_text`, `slot_text`, `slot_selector`) and, when
the answer is a few clicks away, which declarative `steps` lead there. Nothing configured matched -> unknown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from cssselect import SelectorError
from lxml.cssselect import CSSSelector
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.classify import Document, Findings, is_shown, normalise, shown_text
from monitor.domain import Observation, Watch
from monitor.errors import first_line
from monitor.platforms.base import DocumentTracker, Platform, wait_quietly
from monitor.platforms.dates import reference_day, slot_times

if TYPE_CHECKING:
    from playwright.async_api import Page as BrowserPage

Action = Literal["click", "check", "fill", "select", "wait_for"]
ACTIONS: tuple[Action, ...] = ("click", "check", "fill", "select", "wait_for")
WITH_VALUE: frozenset[str] = frozenset({"fill", "select"})
SETTLE_MS = 5_000


class Step(BaseModel):
    """One action on the page, written `{click: "<selector>"}` or `{fill: "<selector>", value: "…"}`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    click: str | None = None
    check: str | None = None
    fill: str | None = None
    select: str | None = None
    wait_for: str | None = None
    value: str | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        given = [a for a in ACTIONS if getattr(self, a) is not None]
        if len(given) != 1:
            raise ValueError(f"a step needs exactly one of {', '.join(ACTIONS)} (got {', '.join(given) or 'none'})")
        action = given[0]
        if not str(getattr(self, action)).strip():
            raise ValueError(f"{action}: the selector is empty")
        if action in WITH_VALUE and self.value is None:
            raise ValueError(f"value: required by {action}")
        if action not in WITH_VALUE and self.value is not None:
            raise ValueError(f"value: only fill and select take a value, not {action}")
        return self

    @property
    def action(self) -> Action:
        return next(a for a in ACTIONS if getattr(self, a) is not None)

    @property
    def selector(self) -> str:
        return str(getattr(self, self.action))

    def describe(self) -> str:
        return f"{self.action} {self.selector!r}"


class PageOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    no_slot_text: tuple[str, ...] = ()
    slot_text: tuple[str, ...] = ()
    slot_selector: str | None = None  # CSS, read from the page's HTML
    steps: tuple[Step, ...] = Field(default=())

    @field_validator("no_slot_text", "slot_text", mode="before")
    @classmethod
    def _as_list(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @field_validator("no_slot_text", "slot_text")
    @classmethod
    def _not_blank(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not normalise(text) for text in value):  # "&nbsp;" is blank once normalised, as pages are
            raise ValueError("an empty text would match every page")
        return value

    @field_validator("slot_selector")
    @classmethod
    def _css(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                CSSSelector(value)
            except (SelectorError, SyntaxError) as exc:
                raise ValueError(f"not a CSS selector: {value!r} ({exc})") from None
        return value

    @model_validator(mode="after")
    def _something_to_match(self) -> PageOptions:
        if not (self.no_slot_text or self.slot_text or self.slot_selector):
            raise ValueError("set at least one of no_slot_text, slot_text, slot_selector")
        return self


class Page(Platform):
    name: ClassVar[str] = "page"
    label: ClassVar[str] = "any page, with the texts or selector that tell its state"
    Options = PageOptions

    async def visit(self, page: BrowserPage, watch: Watch, tracker: DocumentTracker) -> Observation:
        options: PageOptions = self.options(watch)
        facts = {"options": options.model_dump(mode="json", exclude={"steps"})}
        await page.goto(watch.url, wait_until="domcontentloaded")
        for index, step in enumerate(options.steps):
            if not tracker.ok:
                break
            try:
                await _run(page, step)
            except Exception as exc:
                why = f"steps[{index}] {step.describe()}: {first_line(exc)}"
                return await tracker.observe(**facts, navigation_error=why)
        await wait_quietly(page, "networkidle", SETTLE_MS)
        return await tracker.observe(**facts)

    def findings(self, doc: Document) -> Findings:
        raw = doc.facts.get("options")
        if not raw:
            return Findings(unknown="no options recorded with the page (no_slot_text, slot_text, slot_selector)")
        options = PageOptions.model_validate(raw)
        return _slots(doc, options) or _no_slot(doc, options) or Findings(unknown=_nothing(options))


async def _run(page: BrowserPage, step: Step) -> None:
    target = page.locator(step.selector).first
    if step.action == "click":
        await target.click()
        await page.wait_for_load_state("domcontentloaded")
    elif step.action == "check":
        await target.check()
    elif step.action == "fill":
        await target.fill(step.value or "")
    elif step.action == "select":
        await target.select_option(step.value or "")
    else:
        await target.wait_for(state="visible")


def _slots(doc: Document, options: PageOptions) -> Findings | None:
    reference = reference_day(doc.headers)
    if options.slot_selector:
        found = [e for e in doc.select(options.slot_selector) if is_shown(e)]
        if found:
            slots = tuple(sorted({t for e in found for t in slot_times(shown_text(e), reference=reference)}))
            return Findings(
                slots_available=f"{len(found)} element(s) match slot_selector {options.slot_selector!r}", slots=slots
            )
    said = next((text for text in options.slot_text if doc.contains(text)), None)
    if said:
        return Findings(slots_available=f"the page says « {said} » (slot_text)")
    return None


def _no_slot(doc: Document, options: PageOptions) -> Findings | None:
    said = next((text for text in options.no_slot_text if doc.contains(text)), None)
    if said is None:
        return None
    return Findings(no_slot=f"the page says « {said} » (no_slot_text)", details={"no_slot_text": doc.verbatim(said)})


def _nothing(options: PageOptions) -> str:
    looked: list[Any] = [*options.no_slot_text, *options.slot_text]
    if options.slot_selector:
        looked.append(options.slot_selector)
    return "none of the configured markers is on the page: " + ", ".join(repr(x) for x in looked)
