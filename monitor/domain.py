"""Frozen values shared by every layer: statuses, watches, what a platform saw, what a check concluded."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

EMPTY: Mapping[str, Any] = MappingProxyType({})
#: The wall time of the prefectures: schedules, stamps on images, and every time shown to people.
PARIS = ZoneInfo("Europe/Paris")
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The default clock: aware UTC (tests inject their own)."""
    return datetime.now(UTC)


class Status(enum.StrEnum):
    """The outcome of one attempt. These exact strings are a public contract (JSON, database, API)."""

    NO_SLOT = "no_slot"
    SLOTS_AVAILABLE = "slots_available"
    CAPTCHA = "captcha"
    BLOCKED = "blocked"
    MAINTENANCE = "maintenance"
    ERROR = "error"
    UNKNOWN = "unknown"


#: Statuses that count as a failure of the site (for back-off and health), as opposed to a real answer.
FAILURES: frozenset[Status] = frozenset({Status.ERROR, Status.UNKNOWN, Status.BLOCKED})


@dataclass(frozen=True, slots=True, kw_only=True)
class Watch:
    """One booking page a person wants watched. Built only from a validated watch file."""

    id: str
    url: str
    platform: str
    label: str = ""
    options: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    assist: bool = False

    @property
    def title(self) -> str:
        """What people see: the label when given, else the id."""
        return self.label or self.id


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """What a platform adapter saw on the last page it reached. No I/O handle, only facts."""

    final_url: str
    http_status: int | None
    html: str
    title: str = ""
    headers: Mapping[str, str] = field(
        default_factory=lambda: EMPTY
    )  # response headers of the last document, lower-case names
    server_ip: str | None = None
    facts: Mapping[str, Any] = field(
        default_factory=lambda: EMPTY
    )  # adapter-specific facts (e.g. "choices", "navigation_error")


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """The classifier's answer for one observation."""

    status: Status
    reason: str
    slots: tuple[datetime, ...] = ()
    details: Mapping[str, Any] = field(
        default_factory=lambda: EMPTY
    )  # e.g. {"last_published": "...", "next_available": "...", "retry_after": 120}


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceFile:
    """One evidence file on disk, path relative to the data directory."""

    kind: str  # "screenshot", "stamped", "html"
    path: str
    sha256: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "sha256": self.sha256, "size": self.size}


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """One finished attempt, as stored and as printed."""

    watch: str
    status: Status
    reason: str
    started_at: datetime
    checked_at: datetime
    final_url: str
    http_status: int | None
    slots: tuple[datetime, ...] = ()
    files: tuple[EvidenceFile, ...] = ()
    details: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    id: int | None = None
    seq: int | None = None  # position in the watch's hash chain, from 1
    record_hash: str | None = None
    prev_hash: str | None = None
    versions: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The public JSON shape of a check (CLI `--json`, API)."""
        return {
            "id": self.id,
            "seq": self.seq,
            "watch": self.watch,
            "status": str(self.status),
            "reason": self.reason,
            "started_at": self.started_at.isoformat(),
            "checked_at": self.checked_at.isoformat(),
            "final_url": self.final_url,
            "http_status": self.http_status,
            "slots": [s.isoformat() for s in self.slots],
            "files": [f.to_json() for f in self.files],
            "details": dict(self.details),
            "versions": dict(self.versions),
            "record_hash": self.record_hash,
            "prev_hash": self.prev_hash,
        }
