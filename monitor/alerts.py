"""Pure alert policy: which events an attempt fires, given the watch's recent past, and who hears of them."""

from __future__ import annotations

import enum
import hashlib
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from monitor.catalog.schema import NotifySpec
from monitor.domain import FAILURES, Status


class Event(enum.StrEnum):
    """What people can be told. These strings are the `events:` of the watch file and the outbox."""

    SLOTS = "slots"
    SLOTS_GONE = "slots_gone"
    UNHEALTHY = "unhealthy"
    RECOVERED = "recovered"
    CAPTCHA = "captcha"
    DIGEST = "digest"


HOSTNAME = re.compile(r"^(?:[a-z0-9-]{1,63}\.)+[a-z]{2,63}$")  # lower case only: tokens are mixed-case
#: The statuses that answer the question "are there slots?"; the others say nothing about it.
ANSWERS: frozenset[Status] = frozenset({Status.NO_SLOT, Status.SLOTS_AVAILABLE})


@dataclass(frozen=True, slots=True, kw_only=True)
class WatchState:
    """What the alert rules need to know of a watch's past attempts."""

    last: Status | None = None  # the previous attempt's status
    last_answer: Status | None = None  # the newest no_slot / slots_available, errors in between skipped
    failures: int = 0  # consecutive error/unknown/blocked attempts ending with the previous one

    def after(self, status: Status) -> WatchState:
        """The state once an attempt with this status is added."""
        return WatchState(
            last=status,
            last_answer=status if status in ANSWERS else self.last_answer,
            failures=self.failures + 1 if status in FAILURES else 0,
        )


def state_from(recent: Sequence[Status], last_answer: Status | None) -> WatchState:
    """The state from the newest attempts (oldest first; N of them suffice) and the newest answer."""
    failures = 0
    for status in reversed(recent):
        if status not in FAILURES:
            break
        failures += 1
    return WatchState(last=recent[-1] if recent else None, last_answer=last_answer, failures=failures)


def events_for(state: WatchState, status: Status, *, unhealthy_after: int) -> tuple[Event, ...]:
    """The events a new attempt fires. Each fires on a transition only, so nothing repeats while nothing changes.

    Slots are compared with the last *answer*: an error between two slot pages is not a new release.
    """
    fired: list[Event] = []
    if status is Status.SLOTS_AVAILABLE and state.last_answer is not Status.SLOTS_AVAILABLE:
        fired.append(Event.SLOTS)
    if status is Status.NO_SLOT and state.last_answer is Status.SLOTS_AVAILABLE:
        fired.append(Event.SLOTS_GONE)
    if status is Status.CAPTCHA and state.last is not Status.CAPTCHA:
        fired.append(Event.CAPTCHA)
    if status in FAILURES and state.failures + 1 == unhealthy_after:
        fired.append(Event.UNHEALTHY)
    if status not in FAILURES and state.failures >= unhealthy_after:
        fired.append(Event.RECOVERED)
    return tuple(fired)


def transitions(statuses: Iterable[Status], *, unhealthy_after: int) -> list[tuple[Event, ...]]:
    """The events each attempt of a whole history fires, from an empty past (tests, replays)."""
    state = WatchState()
    fired = []
    for status in statuses:
        fired.append(events_for(state, status, unhealthy_after=unhealthy_after))
        state = state.after(status)
    return fired


def wants(spec: NotifySpec, event: Event, watch_id: str | None) -> bool:
    """Whether a notify target subscribed to this event for this watch (None: an event of no single watch)."""
    if str(event) not in spec.events:
        return False
    return watch_id is None or spec.watches is None or watch_id in spec.watches


def fingerprint(url: str) -> str:
    """A stable name for a notify target that reveals nothing of its URL (the outbox keeps this, not the URL)."""
    return hashlib.sha256(url.strip().encode("utf-8")).hexdigest()[:16]


def redact(url: str) -> str:
    """A loggable form of an Apprise URL: the scheme, the host when it looks like one, and the fingerprint.

    Apprise puts tokens anywhere (ntfy topics and Pushover keys sit where a host would), so a host is shown
    only when it has a dot or is an address; everything else is masked.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme or "?"
    try:
        host = parts.hostname or ""
    except ValueError:
        host = ""
    shown = host if _looks_like_host(host) else ""
    return f"{scheme}://{shown}/… #{fingerprint(url)[:8]}"


def _looks_like_host(host: str) -> bool:
    if host == "localhost" or HOSTNAME.match(host):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def scrub(text: str, url: str) -> str:
    """Text (e.g. an Apprise error) with every long piece of the URL masked, so no token is stored or logged."""
    pieces = {url.strip()}
    for piece in _url_pieces(url):
        if len(piece) >= 6 and not _looks_like_host(piece):
            pieces.add(piece)
    for piece in sorted(pieces, key=len, reverse=True):
        text = text.replace(piece, "…")
    return text


def _url_pieces(url: str) -> list[str]:
    rest = url.strip().split("://", 1)[-1]
    for separator in "/:@?&=#":
        rest = rest.replace(separator, " ")
    return rest.split()
