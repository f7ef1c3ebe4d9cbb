"""What pages and the API show, computed from storage and the service: watch rows, the week x hour grid."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.domain import FAILURES, PARIS, CheckResult, Status, Watch
from monitor.storage import browse
from monitor.web.context import WebContext

DAYS_FR = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
STATUS_FR = {
    Status.NO_SLOT: "aucun créneau",
    Status.SLOTS_AVAILABLE: "créneaux disponibles",
    Status.CAPTCHA: "captcha",
    Status.BLOCKED: "bloqué",
    Status.MAINTENANCE: "maintenance",
    Status.ERROR: "erreur",
    Status.UNKNOWN: "page inconnue",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class WatchRow:
    """One watch at a glance."""

    watch: Watch
    last: CheckResult | None
    next_run: datetime | None
    running: bool
    unhealthy: bool
    pending_notifications: int

    @property
    def status(self) -> Status | None:
        return self.last.status if self.last else None

    def to_json(self) -> dict[str, Any]:
        last = self.last
        return {
            "id": self.watch.id,
            "label": self.watch.label,
            "title": self.watch.title,
            "platform": self.watch.platform,
            "url": self.watch.url,
            "assist": self.watch.assist,
            "status": str(last.status) if last else None,
            "reason": last.reason if last else None,
            "last_check": last.checked_at.isoformat() if last else None,
            "next_check": self.next_run.isoformat() if self.next_run else None,
            "running": self.running,
            "unhealthy": self.unhealthy,
            "slots": [s.isoformat() for s in last.slots] if last else [],
            "pending_notifications": self.pending_notifications,
        }


def watch_rows(ctx: WebContext) -> list[WatchRow]:
    """Every configured watch, unhealthy first, then those with slots, then by title."""
    pending = browse.undelivered_notifications(ctx.storage)
    running = set(ctx.service.running())
    rows = [
        WatchRow(
            watch=w,
            last=recent[0] if (recent := ctx.storage.history(w.id, limit=ctx.settings.unhealthy_after)) else None,
            next_run=ctx.service.next_run(w.id),
            running=w.id in running,
            unhealthy=is_unhealthy(recent, ctx.settings.unhealthy_after),
            pending_notifications=pending.get(w.id, 0),
        )
        for w in ctx.watches
    ]
    return sorted(rows, key=lambda r: (not r.unhealthy, r.status is not Status.SLOTS_AVAILABLE, r.watch.title))


def is_unhealthy(recent: list[CheckResult], threshold: int) -> bool:
    """The last `threshold` attempts all failed (error, unknown, blocked)."""
    return len(recent) >= threshold and all(r.status in FAILURES for r in recent[:threshold])


def week_hour_grid(times: Iterable[datetime]) -> list[list[int]]:
    """Attempts per weekday (Monday first) and hour, Europe/Paris wall time."""
    grid = [[0] * 24 for _ in range(7)]
    for moment in times:
        local = moment.astimezone(PARIS)
        grid[local.weekday()][local.hour] += 1
    return grid


def grid_levels(grid: list[list[int]]) -> list[list[int]]:
    """Each cell as a shade 0-4 relative to the busiest cell (0 = no attempt)."""
    peak = max((n for row in grid for n in row), default=0)
    if peak == 0:
        return [[0] * 24 for _ in grid]
    return [[0 if n == 0 else 1 + min(3, (n * 4 - 1) // peak) for n in row] for row in grid]


def paris(moment: datetime | None, pattern: str = "%d/%m/%Y %H:%M") -> str:
    return moment.astimezone(PARIS).strftime(pattern) if moment else "—"


def paris_day(moment: datetime) -> str:
    """'lun. 07/12 10:00': a slot as people scan a list of them."""
    local = moment.astimezone(PARIS)
    return f"{DAYS_FR[local.weekday()]} {local:%d/%m %H:%M}"


def status_words(status: Status | str | None) -> str:
    return STATUS_FR.get(Status(status), str(status)) if status else "jamais vérifié"
