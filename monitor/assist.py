"""Human-assisted captcha: a check waiting on a captcha offers a task; a person's answer resolves it.

The broker only carries an image to a person and their answer back. It never looks at the image,
never guesses, never retries an answer on its own: solving is a person's act (field notes, hard rules).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from monitor.domain import Clock, Watch, utcnow

log = logging.getLogger(__name__)
MAX_ANSWER = 64  # a captcha code is a few characters; anything longer is a mistake or an attack


class AssistError(Exception):
    """The task is unknown, expired or already answered (the web layer turns this into a 404/409)."""


def as_data_uri(image: bytes | str) -> str:
    """A captcha image as a data URI: bytes are PNG (or sniffed JPEG/GIF), strings are taken as given."""
    if isinstance(image, str):
        if not image.startswith("data:image/"):
            raise ValueError("a captcha image string must be a data:image/ URI")
        return image
    mime = "image/jpeg" if image[:3] == b"\xff\xd8\xff" else "image/gif" if image[:4] == b"GIF8" else "image/png"
    return f"data:{mime};base64,{base64.b64encode(image).decode('ascii')}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AssistTask:
    """One captcha waiting for a person: which watch, the image, until when."""

    id: str
    watch: str
    watch_title: str
    image: str  # data URI
    created_at: datetime
    expires_at: datetime
    attempt: int = 1  # 2, 3... after wrong answers

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "watch": self.watch,
            "watch_title": self.watch_title,
            "image": self.image,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "attempt": self.attempt,
        }


class Assistant(Protocol):
    """What the runner needs: ask a person, get an answer or None when the time ran out."""

    async def ask(self, watch: Watch, image: bytes | str, *, attempt: int = 1) -> str | None: ...


@dataclass(slots=True)
class _Pending:
    task: AssistTask
    future: asyncio.Future[str]
    loop: asyncio.AbstractEventLoop = field(repr=False)


class AssistBroker:
    """In-memory tasks (they die with the browser page they belong to, so nothing is persisted)."""

    def __init__(
        self,
        *,
        timeout_seconds: float,
        on_task: Callable[[AssistTask], None] | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.timeout = timeout_seconds
        self.on_task = on_task
        self.clock = clock
        self._pending: dict[str, _Pending] = {}

    async def ask(self, watch: Watch, image: bytes | str, *, attempt: int = 1) -> str | None:
        """Offer a task and wait for the answer, at most the timeout; None when it expired."""
        pending = self._offer(watch, image, attempt)
        try:
            return await asyncio.wait_for(asyncio.shield(pending.future), self.timeout)
        except TimeoutError:
            log.info("assist %s: task for %s expired", pending.task.id[:6], watch.id)
            return None
        finally:
            self._pending.pop(pending.task.id, None)

    def _offer(self, watch: Watch, image: bytes | str, attempt: int) -> _Pending:
        now = self.clock()
        task = AssistTask(
            id=secrets.token_urlsafe(16),
            watch=watch.id,
            watch_title=watch.title,
            image=as_data_uri(image),
            created_at=now,
            expires_at=now + timedelta(seconds=self.timeout),
            attempt=attempt,
        )
        loop = asyncio.get_running_loop()
        pending = _Pending(task=task, future=loop.create_future(), loop=loop)
        self._pending[task.id] = pending
        log.info("assist %s: captcha of %s waits for a person (round %d)", task.id[:6], watch.id, attempt)
        self._announce(task)
        return pending

    def _announce(self, task: AssistTask) -> None:
        if self.on_task is None:
            return
        try:
            self.on_task(task)
        except Exception:
            log.exception("assist %s: the task callback failed", task.id[:6])

    def pending(self) -> list[AssistTask]:
        """Tasks still waiting, oldest first."""
        now = self.clock()
        tasks = [p.task for p in list(self._pending.values()) if not p.future.done() and p.task.expires_at > now]
        return sorted(tasks, key=lambda t: t.created_at)

    def get(self, task_id: str) -> AssistTask:
        return self._live(task_id).task

    def answer(self, task_id: str, answer: str) -> AssistTask:
        """Hand a person's answer to the waiting check (safe from any thread)."""
        text = answer.strip()
        if not text or len(text) > MAX_ANSWER or not text.isprintable():
            raise ValueError(f"answer: expected 1 to {MAX_ANSWER} printable characters")
        pending = self._live(task_id)
        self._pending.pop(task_id, None)
        pending.loop.call_soon_threadsafe(_resolve, pending.future, text)
        log.info("assist %s: answered", task_id[:6])
        return pending.task

    def _live(self, task_id: str) -> _Pending:
        pending = self._pending.get(task_id)
        if pending is None or pending.future.done() or pending.task.expires_at <= self.clock():
            raise AssistError("no pending captcha task with this id (expired or already answered)")
        return pending


def _resolve(future: asyncio.Future[str], answer: str) -> None:
    if not future.done():
        future.set_result(answer)
