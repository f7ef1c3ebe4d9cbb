"""Apprise delivery through the persisted outbox: queued with the check, sent soon after, retried until delivered.

The Notifier is a CheckListener (it queues events inside the check's transaction and wakes its sender after
the commit) and a component (`start()`/`stop()` run the sender loop, which also queues the periodic digest).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import apprise

from monitor import messages
from monitor.alerts import ANSWERS, Event, events_for, redact, scrub, state_from, wants
from monitor.alerts import fingerprint as url_fingerprint
from monitor.catalog.schema import NotifySpec
from monitor.digest import Coverage, Period, coverage, last_closed, next_boundary
from monitor.domain import CheckResult, Clock, Watch, utcnow
from monitor.errors import ConfigError
from monitor.messages import Message
from monitor.runner import assisted
from monitor.storage import outbox
from monitor.storage.outbox import Notification

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.app import App
    from monitor.config import Settings
    from monitor.storage import Storage

log = logging.getLogger(__name__)
IDLE_SECONDS = 30.0  # the sender looks at the outbox at least this often, even when nobody wakes it
SEND_TIMEOUT_SECONDS = 60.0  # one Apprise call, whatever the service's own timeouts
STOP_GRACE_SECONDS = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """A validated notify destination. `key` (the fingerprint) is all the database ever holds of the URL."""

    name: str  # where it comes from: "notify[0]", or "URL" for one given on the command line
    url: str
    key: str
    label: str  # redacted, safe to log
    spec: NotifySpec


def make_target(url: str, *, name: str, field: str, spec: NotifySpec | None = None, source: str = "") -> Target:
    """A Target, once Apprise accepts the URL; else a one-line ConfigError naming the field."""
    if not _accepted(url):
        where = f"{source}: {field}" if source else field
        raise ConfigError(f"{where}: not a URL Apprise can use ({redact(url)}); see the Apprise URL syntax")
    return Target(name=name, url=url, key=url_fingerprint(url), label=redact(url), spec=spec or NotifySpec(url=url))


def _accepted(url: str) -> bool:
    """Whether Apprise can use the URL, without its own log line (it quotes the URL, path tokens included)."""
    logger = logging.getLogger("apprise")
    was, logger.disabled = logger.disabled, True
    try:
        return bool(apprise.Apprise().add(url))
    finally:
        logger.disabled = was


def targets_from(specs: Sequence[NotifySpec], *, source: str) -> tuple[Target, ...]:
    """Validate every `notify[i].url` of the watch file (called at start-up)."""
    return tuple(
        make_target(spec.url, name=f"notify[{index}]", field=f"notify[{index}].url", spec=spec, source=source)
        for index, spec in enumerate(specs)
    )


def retry_delay(attempts: int, *, first: float, cap: float) -> float:
    """Seconds before the next try after `attempts` failed ones: doubling from `first`, at most `cap`."""
    return float(min(cap, first * 2 ** max(0, attempts - 1)))


def dashboard_url(settings: Settings) -> str:
    return (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")


def quiet_apprise() -> None:
    """Apprise's DEBUG lines, and urllib3's under it, print service URLs and paths, tokens included."""
    for name in ("apprise", "urllib3"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)


async def send(target: Target, message: Message, *, data_dir: Path) -> str | None:
    """Deliver one message now. None when the service accepted it, else why not (tokens masked)."""
    quiet_apprise()
    asset = apprise.AppriseAsset(app_id="rdv-monitor", app_desc="rdv-monitor")
    service = apprise.Apprise(asset=asset)
    service.add(target.url)
    attach = apprise.AppriseAttachment(asset=asset)
    for relative in message.attach:
        path = data_dir / relative
        if path.is_file():
            attach.add(str(path))
    try:
        result = await service.async_notify(
            body=message.body,
            title=message.title,
            notify_type=message.kind,
            attach=attach if len(attach) else None,
            timeout=SEND_TIMEOUT_SECONDS,
        )
    except Exception as exc:
        return scrub(f"{type(exc).__name__}: {exc}", target.url)
    if result:
        return None
    reasons = [entry.message for entry in result.logs()] or [f"status {result.status.name}"]
    return scrub("; ".join(reasons), target.url)


async def send_test(targets: Sequence[Target], *, now: datetime) -> list[str | None]:
    """Send the test message to each target; the error of each (None: sent)."""
    message = messages.test_message(now)
    return list(await asyncio.gather(*(send(t, message, data_dir=Path()) for t in targets)))


class Notifier:
    """Queues alert events in the check's transaction and delivers the outbox with retries."""

    def __init__(
        self,
        *,
        storage: Storage,
        settings: Settings,
        notify: Sequence[NotifySpec],
        watches: Sequence[Watch] = (),
        clock: Clock = utcnow,
    ) -> None:
        self.storage = storage
        self.settings = settings
        self.targets = targets_from(notify, source=str(settings.config))
        self.watches = {w.id: w for w in watches}
        self.clock = clock
        self.dashboard = dashboard_url(settings)
        self._by_key = {t.key: t for t in self.targets}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        quiet_apprise()

    @classmethod
    def from_app(cls, app: App, storage: Storage) -> Notifier:
        return cls(storage=storage, settings=app.settings, notify=app.catalog.notify, watches=app.catalog.watches)

    # -- CheckListener -----------------------------------------------------------------------------------------

    def in_transaction(self, session: Session, watch: Watch, result: CheckResult) -> None:
        """Queue the events this attempt fires. A failure here is logged, never allowed to lose the attempt."""
        self.watches[watch.id] = watch  # a watch added from the dashboard joins the digest once checked
        if not self.targets or result.seq is None:
            return
        try:
            with session.begin_nested():
                self._queue_events(session, watch, result, result.seq)
        except Exception:
            log.exception("check %s: could not queue notifications", watch.id)

    def committed(self, watch: Watch, result: CheckResult) -> None:
        """Wake the sender (from any thread) so queued events go out within moments of the commit."""
        if self._loop is not None and self._wake is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    def _queue_events(self, session: Session, watch: Watch, result: CheckResult, seq: int) -> None:
        limit = self.settings.unhealthy_after
        recent = outbox.recent_statuses(session, watch.id, before_seq=seq, limit=limit)
        answer = outbox.last_status_among(session, watch.id, ANSWERS, before_seq=seq)
        state = state_from(recent, answer)
        now = self.clock()
        for event in events_for(state, result.status, unhealthy_after=limit):
            if event is Event.CAPTCHA and assisted(watch):
                continue  # the assist broker already announced the live task, with its link and expiry
            message = messages.for_event(event, watch, result, dashboard=self.dashboard, failures=state.failures + 1)
            for target in self.targets:
                if wants(target.spec, event, watch.id):
                    key = f"{event}:{watch.id}:{seq}:{target.key}"
                    outbox.enqueue(
                        session,
                        event=event,
                        target=target.key,
                        dedup_key=key,
                        payload=message.to_payload(),
                        now=now,
                        watch_id=watch.id,
                        check_id=result.id,
                    )
                    log.info("check %s: queued %s for %s", watch.id, event, target.label)

    # -- component lifecycle ------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Run the sender loop in the background (pending events of earlier runs go out first)."""
        if self._task is not None or not self.targets:
            return
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="notifier")
        log.info("notifier started: %d target(s)", len(self.targets))

    async def stop(self) -> None:
        """Let the current delivery finish (bounded), then end the loop. Undelivered rows stay queued."""
        if self._task is None:
            return
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), STOP_GRACE_SECONDS)
        except TimeoutError:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        self._loop = None

    async def _run(self) -> None:
        while not self._stopping:
            assert self._wake is not None
            self._wake.clear()
            try:
                await self.tick()
            except Exception:
                log.exception("notifier: a delivery pass failed; trying again later")
            await self._pause()

    async def _pause(self) -> None:
        assert self._wake is not None
        delay = await asyncio.to_thread(self._seconds_to_next_work)
        if delay > 0 and not self._stopping:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    def _seconds_to_next_work(self) -> float:
        now = self.clock()
        moments = [now + timedelta(seconds=IDLE_SECONDS)]
        if any(str(Event.DIGEST) in t.spec.events for t in self.targets):
            moments.append(next_boundary(now, self.settings.digest_period))
        with self.storage.session() as session:
            due = outbox.next_due(session, targets=self._by_key)
        if due is not None:
            moments.append(due)
        return max(0.0, (min(moments) - now).total_seconds())

    # -- one pass -----------------------------------------------------------------------------------------------

    async def tick(self) -> int:
        """Queue a digest if one is due, then deliver everything due. Returns how many were delivered."""
        await asyncio.to_thread(self.queue_digests)
        return await self.deliver_due()

    async def deliver_due(self) -> int:
        """Send the due rows: targets in parallel, each target's rows in order. Returns how many were delivered."""
        due = await asyncio.to_thread(self._claim)
        by_target: dict[str, list[Notification]] = defaultdict(list)
        for row in due:
            by_target[row.target].append(row)
        counts = await asyncio.gather(*(self._deliver(self._by_key[k], rows) for k, rows in by_target.items()))
        return sum(counts)

    def _claim(self) -> list[Notification]:
        now = self.clock()
        with self.storage.session() as session:
            due = outbox.next_due(session, targets=self._by_key)
        if due is None or due > now:
            return []
        with self.storage.writer() as session, session.begin():
            return outbox.claim_due(session, now=now, targets=self._by_key)

    async def _deliver(self, target: Target, rows: Sequence[Notification]) -> int:
        delivered = 0
        for row in rows:
            if not await asyncio.to_thread(self._still_ours, row):
                log.info("notification %d: taken over by another sender, skipped", row.id)
                continue
            error = await send(target, Message.from_payload(row.payload), data_dir=self.settings.data_dir)
            await asyncio.to_thread(self._settle, target, row, error)
            delivered += error is None
        return delivered

    def _still_ours(self, row: Notification) -> bool:
        with self.storage.writer() as session, session.begin():
            return outbox.renew_lease(session, row.id, held_until=row.next_attempt_at, now=self.clock()) is not None

    def _settle(self, target: Target, row: Notification, error: str | None) -> None:
        now = self.clock()
        delay = retry_delay(
            row.attempts + 1, first=self.settings.notify_retry_seconds, cap=self.settings.notify_retry_max_seconds
        )
        with self.storage.writer() as session, session.begin():
            if error is None:
                outbox.mark_delivered(session, row.id, now=now)
            else:
                outbox.mark_failed(session, row.id, error=error, retry_at=now + timedelta(seconds=delay))
        if error is None:
            log.info("notification %d (%s) delivered to %s", row.id, row.event, target.label)
        else:
            log.warning(
                "notification %d (%s) to %s failed (attempt %d), retry in %.0f s: %s",
                *(row.id, row.event, target.label, row.attempts + 1, delay, error),
            )

    # -- digest -------------------------------------------------------------------------------------------------

    def queue_digests(self) -> int:
        """Queue the digest of the period that just closed, once per target (the dedup key says which period)."""
        period = last_closed(self.clock(), self.settings.digest_period)
        wanting = [t for t in self.targets if wants(t.spec, Event.DIGEST, None)]
        with self.storage.session() as session:
            missing = [t for t in wanting if not outbox.exists(session, f"digest:{period.key}:{t.key}")]
            if not missing or not outbox.any_check_before(session, period.end):
                return 0
            cache: dict[str, tuple[Coverage, Coverage]] = {}
            bodies = {t.key: self._digest(session, t, period, cache) for t in missing}
        now = self.clock()
        with self.storage.writer() as session, session.begin():
            queued = sum(
                outbox.enqueue(
                    session, event=Event.DIGEST, target=key, dedup_key=f"digest:{period.key}:{key}", payload=p, now=now
                )
                for key, p in bodies.items()
            )
        log.info("queued %d digest(s) for %s", queued, period.key)
        return queued

    def _digest(
        self, session: Session, target: Target, period: Period, cache: dict[str, tuple[Coverage, Coverage]]
    ) -> dict[str, Any]:
        ids = target.spec.watches or tuple(self.watches)
        rows = []
        for watch_id in ids:
            if watch_id not in cache:
                recent = outbox.hourly_outcomes(session, watch_id, start=period.start, end=period.end)
                total = outbox.hourly_outcomes(session, watch_id, end=period.end)
                cache[watch_id] = (coverage(recent), coverage(total))
            watch = self.watches.get(watch_id) or Watch(id=watch_id, url="", platform="")
            rows.append((watch, *cache[watch_id]))
        return messages.digest(period, rows).to_payload()
