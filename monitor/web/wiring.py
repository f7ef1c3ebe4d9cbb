"""Plugging the dashboard into `rdv-monitor run`: the context from the service's parts, the captcha announcer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from monitor.alerts import Event, wants
from monitor.assist import AssistBroker, AssistTask
from monitor.catalog import Catalog
from monitor.catalog.writer import WatchFileWriter
from monitor.config import Settings
from monitor.domain import Observation, Watch, utcnow
from monitor.errors import UserError
from monitor.messages import Message
from monitor.notify import Target, send, send_test, targets_from
from monitor.proof.export import ExportRequest, export_archive
from monitor.service import Service
from monitor.storage import Storage
from monitor.web.app import create_app
from monitor.web.context import CatalogHolder, Exporter, WebContext
from monitor.web.security import Guard
from monitor.web.server import WebServer, check_exposure
from monitor.web.views import paris

log = logging.getLogger(__name__)


def web_server(settings: Settings, storage: Storage, service: Service, broker: AssistBroker | None) -> WebServer:
    """The dashboard as a service component. Refuses (ConfigError) to listen beyond loopback without a token."""
    check_exposure(settings)
    holder = CatalogHolder(current=service.catalog)
    ctx = WebContext(
        settings=settings,
        storage=storage,
        catalog=holder,
        service=service,
        broker=broker,
        writer=WatchFileWriter(settings.config, settings.data_dir / "backups", prefectures=settings.prefectures_dir),
        previewer=_previewer(service),
        exporter=proof_exporter(settings, storage, holder),
        notify_tester=_tester(holder),
        guard=Guard(settings.token.get_secret_value() if settings.token else None),
    )
    server = WebServer(create_app(ctx), settings)
    if broker is not None:
        broker.on_task = captcha_announcer(settings, lambda: holder.current, lambda: _public(settings, server))
    return server


def _public(settings: Settings, server: WebServer) -> str:
    """Where people reach the dashboard: the configured public URL, else the address really listened on."""
    return (settings.public_url or server.url).rstrip("/")


def _previewer(service: Service) -> Callable[[Watch], Any]:
    async def preview(watch: Watch) -> Observation:
        if service.checker is None:
            raise UserError("the service is not running")
        return await service.checker.preview(watch)

    return preview


def _tester(holder: CatalogHolder) -> Callable[[int], Any]:
    async def test(index: int) -> str:
        catalog = holder.current
        target = targets_from(catalog.notify, source=str(catalog.path))[index]
        error = (await send_test((target,), now=utcnow()))[0]
        return f"Test envoyé à {target.label}." if error is None else f"Échec de l'envoi à {target.label} : {error}"

    return test


def proof_exporter(settings: Settings, storage: Storage, holder: CatalogHolder) -> Exporter:
    """The proof archive of a watch, written by the proof package (the same as `rdv-monitor export`)."""

    def export(watch_id: str, target: Path, start: date | None, end: date | None) -> None:
        # A watch removed from the watch file is still exportable: the export then uses the recorded label and URL.
        watch = next((w for w in holder.current.watches if w.id == watch_id), None)
        request = ExportRequest(watch_id=watch_id, output=target, first_day=start, last_day=end, watch=watch)
        export_archive(storage, settings.data_dir, request)

    return export


def captcha_announcer(
    settings: Settings, holder: Callable[[], Catalog], dashboard: Callable[[], str]
) -> Callable[[AssistTask], None]:
    """Tell the `captcha` subscribers that a person is needed now, with the link to the task.

    Sent directly, not through the outbox: a task lives a few minutes and dies with the service, so a
    message delivered after a restart would point to nothing.
    """
    pending: set[asyncio.Task[Any]] = set()

    def announce(task: AssistTask) -> None:
        catalog = holder()
        targets = [
            t
            for t in targets_from(catalog.notify, source=str(catalog.path))
            if wants(t.spec, Event.CAPTCHA, task.watch)
        ]
        if not targets:
            return
        message = assist_message(task, dashboard())
        job = asyncio.get_running_loop().create_task(_send_all(targets, message, settings.data_dir))
        pending.add(job)
        job.add_done_callback(pending.discard)

    return announce


def assist_message(task: AssistTask, dashboard: str) -> Message:
    body = (
        f"Le site demande un captcha pour « {task.watch_title} ». La session reste ouverte jusqu'à "
        f"{paris(task.expires_at, '%H:%M')} (heure de Paris) : recopiez les caractères de l'image et la "
        f"vérification continue.\n{dashboard}/assist/{task.id}"
    )
    return Message(title=f"Captcha à résoudre : {task.watch_title}", body=body, kind="warning")


async def _send_all(targets: list[Target], message: Message, data_dir: Path) -> None:
    for target in targets:
        error = await send(target, message, data_dir=data_dir)
        if error:
            log.warning("captcha notice to %s not sent: %s", target.label, error)
