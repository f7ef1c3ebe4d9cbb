"""Notifications through the outbox with real Apprise deliveries to local endpoints (HTTP sink, SMTP server)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.app import checker
from monitor.catalog.schema import NotifySpec
from monitor.cli import main
from monitor.config import Settings
from monitor.domain import CheckResult, Status, Watch
from monitor.errors import ConfigError
from monitor.evidence import Capture, EvidenceStore
from monitor.notify import Notifier, retry_delay
from monitor.storage import Storage
from monitor.storage.models import OutboxRow
from monitor.storage.outbox import LEASE, pending_notifications
from tests.conftest import write_watches
from tests.sites.ezbooking import EzBookingSite, EzState
from tests.sites.server import LocalServer
from tests.sites.sinks import JsonSink, SmtpSink

WATCH = Watch(id="paris", url="https://pprdv.example.test/booking/create/989", platform="ezbooking", label="Remise")
OTHER = Watch(id="lyon", url="https://lyon.example.test/booking/create/12", platform="ezbooking", label="Lyon")


async def until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    """Wait (without blocking the loop) until the condition holds; TimeoutError if it never does."""
    async with asyncio.timeout(seconds):
        while True:
            if condition():
                return
            await asyncio.sleep(0.05)  # the sinks are threads: poll them


@pytest.fixture
def settings(workdir: Path) -> Settings:
    return Settings(
        config=workdir / "rdv-monitor.yaml",
        data_dir=workdir / "data",
        notify_retry_seconds=0.2,
        notify_retry_max_seconds=0.6,
        unhealthy_after=2,
        public_url="https://rdv.example.test",
    )


@pytest.fixture
def storage(settings: Settings) -> Iterator[Storage]:
    store = Storage(settings.database_path)
    yield store
    store.close()


@pytest.fixture
def sink() -> Iterator[JsonSink]:
    with JsonSink() as running:
        yield running


@asynccontextmanager
async def running(notifier: Notifier) -> AsyncIterator[Notifier]:
    await notifier.start()
    try:
        yield notifier
    finally:
        await notifier.stop()


def record(
    storage: Storage,
    notifier: Notifier,
    watch: Watch,
    status: Status,
    *,
    at: datetime | None = None,
    slots: Sequence[datetime] = (),
) -> CheckResult:
    """Store an attempt exactly as the runner does: files, then the row and the listener in one transaction."""
    checked = at or datetime.now(UTC)
    files = EvidenceStore(notifier.settings.data_dir).write(
        watch, checked, watch.url, status, Capture(screenshot=None, html="")
    )
    draft = CheckResult(
        watch=watch.id,
        status=status,
        reason="test",
        started_at=checked,
        checked_at=checked,
        final_url=watch.url,
        http_status=200,
        slots=tuple(slots),
        files=files,
    )
    with storage.writer() as session, session.begin():
        stored = storage.append_check(draft, platform=watch.platform, url=watch.url, session=session)
        notifier.in_transaction(session, watch, stored)
    notifier.committed(watch, stored)
    return stored


def outbox_rows(storage: Storage) -> int:
    with storage.session() as session:
        return session.scalar(select(func.count()).select_from(OutboxRow)) or 0


def notifier_for(storage: Storage, settings: Settings, *specs: NotifySpec, **kwargs: object) -> Notifier:
    return Notifier(storage=storage, settings=settings, notify=specs, watches=(WATCH, OTHER), **kwargs)  # type: ignore[arg-type]


def stamped_bytes(settings: Settings, result: CheckResult) -> bytes:
    (stamped,) = [f for f in result.files if f.kind == "stamped"]
    return (settings.data_dir / stamped.path).read_bytes()


async def test_slots_arrive_once_with_the_screenshot_and_the_link(
    storage: Storage, settings: Settings, sink: JsonSink
) -> None:
    notifier = notifier_for(storage, settings, NotifySpec(url=sink.url))
    async with running(notifier):
        record(storage, notifier, WATCH, Status.NO_SLOT)
        slots = record(storage, notifier, WATCH, Status.SLOTS_AVAILABLE, slots=[datetime(2026, 12, 7, 9, tzinfo=UTC)])
        await until(lambda: len(sink.messages) == 1)
        record(storage, notifier, WATCH, Status.SLOTS_AVAILABLE)
        await until(lambda: not pending_notifications(storage))
    (message,) = sink.messages
    assert message["title"] == "Créneaux disponibles : Remise"
    assert WATCH.url in message["message"]
    assert "lundi 7 décembre 2026 à 10:00" in message["message"]
    assert list(JsonSink.attachments(message).values()) == [stamped_bytes(settings, slots)]
    assert outbox_rows(storage) == 1  # the second slot page queued nothing


async def test_mail_carries_the_stamped_screenshot(storage: Storage, settings: Settings) -> None:
    with SmtpSink() as smtp:
        notifier = notifier_for(storage, settings, NotifySpec(url=smtp.url))
        async with running(notifier):
            result = record(storage, notifier, WATCH, Status.SLOTS_AVAILABLE)
            await until(lambda: len(smtp.messages) == 1)
    (mail,) = smtp.messages
    assert mail["Subject"] == "Créneaux disponibles : Remise"
    attachments = SmtpSink.attachments(mail)
    assert list(attachments.values()) == [stamped_bytes(settings, result)]
    assert next(iter(attachments)).endswith("-stamped.png")


async def test_a_failing_endpoint_keeps_the_event_pending_until_it_accepts(
    storage: Storage, settings: Settings, sink: JsonSink
) -> None:
    sink.status = 500
    notifier = notifier_for(storage, settings, NotifySpec(url=sink.url))
    async with running(notifier):
        record(storage, notifier, WATCH, Status.SLOTS_AVAILABLE)
        await until(lambda: sink.refused >= 3)
        (pending,) = pending_notifications(storage)
        assert pending.event == "slots"
        assert pending.attempts >= 2
        assert "500" in (pending.last_error or "")
        assert pending.target == notifier.targets[0].key
        sink.status = 200
        await until(lambda: not pending_notifications(storage))
    assert sink.titles() == ["Créneaux disponibles : Remise"]


async def test_an_endpoint_that_is_down_then_back_gets_the_event(
    storage: Storage, settings: Settings, sink: JsonSink
) -> None:
    notifier = notifier_for(storage, settings, NotifySpec(url=sink.url))
    sink.stop()
    async with running(notifier):
        record(storage, notifier, WATCH, Status.SLOTS_AVAILABLE)
        await until(lambda: any(p.attempts >= 2 for p in pending_notifications(storage)))
        assert "127.0.0.1" in (pending_notifications(storage)[0].last_error or "")
        sink.start()  # same port
        await until(lambda: len(sink.messages) == 1)
        await until(lambda: not pending_notifications(storage))


def test_retries_back_off_doubling_up_to_the_cap() -> None:
    assert [retry_delay(n, first=10, cap=600) for n in range(1, 9)] == [10, 20, 40, 80, 160, 320, 600, 600]


async def test_a_restart_delivers_what_was_pending_and_never_resends(
    storage: Storage, settings: Settings, sink: JsonSink
) -> None:
    first = notifier_for(storage, settings, NotifySpec(url=sink.url))
    async with running(first):
        record(storage, first, WATCH, Status.SLOTS_AVAILABLE)
        await until(lambda: len(sink.messages) == 1)
        sink.status = 503
        record(storage, first, OTHER, Status.SLOTS_AVAILABLE)
        await until(lambda: sink.refused >= 1)
    assert [p.watch_id for p in pending_notifications(storage)] == ["lyon"]
    storage.close()

    sink.status = 200
    reopened = Storage(settings.database_path)
    try:
        second = notifier_for(reopened, settings, NotifySpec(url=sink.url))
        async with running(second):
            await until(lambda: not pending_notifications(reopened))
            await second.tick()  # one more pass: nothing left to send
    finally:
        reopened.close()
    assert sink.titles() == ["Créneaux disponibles : Remise", "Créneaux disponibles : Lyon"]


async def test_events_follow_the_targets_choices(storage: Storage, settings: Settings) -> None:
    with JsonSink() as everything, JsonSink() as paris_slots:
        notifier = notifier_for(
            storage,
            settings,
            NotifySpec(url=everything.url, events=("slots", "slots_gone", "unhealthy", "recovered", "captcha")),
            NotifySpec(url=paris_slots.url, watches=("paris",), events=("slots",)),
        )
        async with running(notifier):
            for status in (Status.NO_SLOT, Status.ERROR, Status.ERROR, Status.ERROR, Status.CAPTCHA):
                record(storage, notifier, WATCH, status)
            record(storage, notifier, WATCH, Status.SLOTS_AVAILABLE)
            record(storage, notifier, WATCH, Status.NO_SLOT)
            record(storage, notifier, OTHER, Status.SLOTS_AVAILABLE)
            await until(lambda: not pending_notifications(storage) and outbox_rows(storage) == 7)
    assert everything.titles() == [
        "Surveillance en échec : Remise",
        "Captcha à résoudre : Remise",
        "Surveillance rétablie : Remise",
        "Créneaux disponibles : Remise",
        "Plus de créneaux : Remise",
        "Créneaux disponibles : Lyon",
    ]
    assert paris_slots.titles() == ["Créneaux disponibles : Remise"]
    captcha = everything.messages[1]["message"]
    assert "https://rdv.example.test/assist" in captcha


async def test_weekly_digest_is_queued_once_per_week(storage: Storage, settings: Settings, sink: JsonSink) -> None:
    monday = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    notifier = notifier_for(storage, settings, NotifySpec(url=sink.url, events=("digest",)), clock=lambda: monday)
    for days_ago, status in ((1, Status.NO_SLOT), (1, Status.ERROR), (3, Status.NO_SLOT), (9, Status.NO_SLOT)):
        record(storage, notifier, WATCH, status, at=monday - timedelta(days=days_ago))
    assert await notifier.tick() == 1
    assert await notifier.tick() == 0
    (digest,) = sink.messages
    assert digest["title"] == "Bilan hebdomadaire rdv-monitor"
    body = digest["message"]
    assert "du 23/11/2026 au 29/11/2026" in body
    assert "« Remise »\n- sur la période : 3 tentatives sur 2 jours (aucun créneau 2, erreur 1)" in body
    assert "depuis le 21/11/2026 : 4 tentatives sur 3 jours et 2 semaines" in body
    assert "« Lyon »\n- sur la période : aucune tentative" in body


async def test_a_watch_added_while_running_joins_the_digest(
    storage: Storage, settings: Settings, sink: JsonSink
) -> None:
    monday = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    notifier = notifier_for(storage, settings, NotifySpec(url=sink.url, events=("digest",)), clock=lambda: monday)
    added = Watch(id="nice", url="https://nice.example.test/booking/create/7", platform="ezbooking", label="Nice")
    record(storage, notifier, added, Status.NO_SLOT, at=monday - timedelta(days=2))
    assert await notifier.tick() == 1
    (digest,) = sink.messages
    assert "« Nice »\n- sur la période : 1 tentative" in digest["message"]


async def test_no_digest_before_any_attempt(storage: Storage, settings: Settings, sink: JsonSink) -> None:
    notifier = notifier_for(storage, settings, NotifySpec(url=sink.url, events=("digest",)))
    assert await notifier.tick() == 0
    assert outbox_rows(storage) == 0


def test_a_bad_apprise_url_is_a_config_error_naming_the_field(storage: Storage, settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"notify\[1\]\.url: not a URL Apprise can use") as caught:
        notifier_for(storage, settings, NotifySpec(url="json://127.0.0.1/x"), NotifySpec(url="nope://s3cr3tvalue"))
    assert "s3cr3tvalue" not in str(caught.value)


def test_validate_rejects_a_bad_notify_url_in_one_line(
    env: dict[str, str], workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = {"watches": [{"id": "paris", "url": WATCH.url}], "notify": [{"url": "tgram://bad-token-only"}]}
    write_watches(workdir / "rdv-monitor.yaml", document)
    assert main(["validate"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "notify[0].url" in err
    assert "bad-token-only" not in err


@pytest.mark.parametrize("url", ["garbage-s3cr3tvalue", "jsn://bob:pw@hooks.example.org/abc/S3CR3TPATH"])
def test_validate_does_not_let_apprise_log_a_bad_url(
    env: dict[str, str],
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    url: str,
) -> None:
    document = {"watches": [{"id": "paris", "url": WATCH.url}], "notify": [{"url": url}]}
    write_watches(workdir / "rdv-monitor.yaml", document)
    assert main(["validate"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "notify[0].url" in err
    assert "S3CR3T" not in err.upper()
    assert [r.getMessage() for r in caplog.records if r.name.startswith("apprise")] == []


def test_notify_test_command_reports_each_target(
    env: dict[str, str], workdir: Path, sink: JsonSink, capsys: pytest.CaptureFixture[str]
) -> None:
    document = {"watches": [{"id": "paris", "url": WATCH.url}], "notify": [{"url": sink.url}]}
    write_watches(workdir / "rdv-monitor.yaml", document)
    assert main(["notify", "test"]) == 0
    assert "notify[0] json://127.0.0.1/" in capsys.readouterr().out
    assert sink.titles() == ["rdv-monitor : message de test"]
    sink.status = 500
    assert main(["notify", "test", sink.url]) == 1
    assert "URL json://127.0.0.1/" in capsys.readouterr().out
    assert main(["notify", "test", "nope://x"]) == 2


def test_notify_test_at_debug_level_logs_no_token(
    env: dict[str, str], workdir: Path, sink: JsonSink, caplog: pytest.LogCaptureFixture
) -> None:
    write_watches(workdir / "rdv-monitor.yaml", {"watches": [{"id": "paris", "url": WATCH.url}]})
    os.environ["RDV_MONITOR_LOG_LEVEL"] = "DEBUG"
    caplog.set_level(logging.DEBUG)
    loggers = [logging.getLogger(name) for name in ("apprise", "urllib3")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.NOTSET)  # as in a fresh `rdv-monitor` process
    try:
        secret = sink.url.replace("json://", "json://user:T0KENxyz@").replace("/hook", "/hook/PATHs3cret")
        assert main(["notify", "test", secret]) == 0
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
    assert "T0KENxyz" not in caplog.text
    assert "PATHs3cret" not in caplog.text


@pytest.mark.browser
async def test_a_real_slot_release_notifies_once(env: dict[str, str], storage: Storage, settings: Settings) -> None:
    """End to end: Chromium checks the ezbooking imitation showing slots; one message, screenshot and link."""
    site = EzBookingSite(EzState(availability="slots"))
    with LocalServer(site) as server, JsonSink() as sink:
        watch = Watch(id="ez", url=f"{server.base}/booking/create/989", platform="ezbooking", label="Préfecture test")
        notifier = Notifier(storage=storage, settings=settings, notify=[NotifySpec(url=sink.url)], watches=[watch])
        real = settings.model_copy(update={"page_timeout_seconds": 4.0, "host_gap_seconds": 0.0})
        async with running(notifier), checker(real, storage, listeners=[notifier]) as check:
            first = await check.check(watch)
            assert first.status is Status.SLOTS_AVAILABLE
            await until(lambda: len(sink.messages) == 1)
            second = await check.check(watch)
            assert second.status is Status.SLOTS_AVAILABLE
            await until(lambda: not pending_notifications(storage))
    (message,) = sink.messages
    assert watch.url in message["message"]
    (shot,) = JsonSink.attachments(message).values()
    (stamped,) = [f for f in first.files if f.kind == "stamped"]
    assert hashlib.sha256(shot).hexdigest() == stamped.sha256
    assert outbox_rows(storage) == 1


async def test_a_sender_whose_lease_ran_out_never_sends_a_second_time(
    storage: Storage, settings: Settings, sink: JsonSink
) -> None:
    """A slow target can outlast the lease on rows a sender holds; another sender then owns them, and the
    first must skip them rather than send the same notification again."""
    start = datetime.now(UTC)
    clock = [start]
    first = notifier_for(storage, settings, NotifySpec(url=sink.url), clock=lambda: clock[0])
    record(storage, first, WATCH, Status.SLOTS_AVAILABLE, at=start)
    stale = first._claim()
    assert len(stale) == 1
    clock[0] = start + LEASE + timedelta(seconds=1)  # the first sender got stuck past its lease
    second = notifier_for(storage, settings, NotifySpec(url=sink.url), clock=lambda: clock[0])
    assert await second.deliver_due() == 1
    assert await first._deliver(first.targets[0], stale) == 0
    assert sink.titles() == ["Créneaux disponibles : Remise"]
    assert not pending_notifications(storage)
