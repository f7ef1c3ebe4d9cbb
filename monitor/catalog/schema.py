"""The watch file's shape: strict pydantic models that reject unknown keys."""

from __future__ import annotations

import math
import re
from datetime import time
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WATCH_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
MAX_DURATION_DAYS = 366  # longer is a typo, and would overflow date arithmetic
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Event = Literal["slots", "slots_gone", "unhealthy", "recovered", "captcha", "digest"]
DEFAULT_EVENTS: tuple[Event, ...] = ("slots", "unhealthy", "recovered", "captcha")


def parse_duration(value: Any) -> float:
    """`90`, `"90s"`, `"10m"`, `"1h"` -> seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 10m or 1h")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = DURATION.match(str(value))
        if not match:
            raise ValueError(f"expected a duration such as 30s, 10m or 1h, got {value!r}")
        seconds = float(match.group(1)) * UNITS[match.group(2)]
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    if not math.isfinite(seconds) or seconds > MAX_DURATION_DAYS * UNITS["d"]:
        raise ValueError(f"a duration must be at most {MAX_DURATION_DAYS}d, got {value!r}")
    return seconds


def check_id(value: str) -> str:
    """An id made of lowercase letters, digits and single dashes (it ends up in paths and URLs)."""
    if not WATCH_ID.match(value):
        raise ValueError(f"{value!r} is not lowercase letters, digits and single dashes")
    return value


def check_url(value: str) -> str:
    """An absolute http(s) URL with a host, or a ValueError naming what is wrong."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {value!r}")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError:
        raise ValueError(f"not a valid port in URL: {value!r}") from None
    return value.strip()


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Window(Strict):
    """A stretch of wall time (Europe/Paris) when slots are released: check more often then."""

    days: tuple[Day, ...] = DAYS
    start: time
    end: time
    every: float

    _every = field_validator("every", mode="before")(parse_duration)

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end <= self.start:
            raise ValueError("end must be after start (windows cannot cross midnight)")
        if self.every <= 0:
            raise ValueError("every must be positive")
        return self


class Schedule(Strict):
    """When a watch is checked. Omitted fields come from the defaults, then the built-in values."""

    every: float | None = None
    jitter: float | None = None
    windows: tuple[Window, ...] | None = None

    @field_validator("every", "jitter", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float | None:
        return None if value is None else parse_duration(value)

    @field_validator("every")
    @classmethod
    def _positive(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise ValueError("every must be positive")
        return value


class WatchSpec(Strict):
    id: str
    url: str | None = None  # may come from the prefecture entry
    platform: str | None = None
    label: str = ""
    prefecture: str | None = None  # "<prefectures/ file>/<démarche id>": its URL, platform, label, options, windows
    options: dict[str, Any] = Field(default_factory=dict)
    schedule: Schedule = Field(default_factory=Schedule)
    assist: bool = False
    enabled: bool = True

    _id = field_validator("id")(check_id)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)


class NotifySpec(Strict):
    url: str = Field(min_length=1)
    watches: tuple[str, ...] | None = None  # None: every watch
    events: tuple[Event, ...] = DEFAULT_EVENTS


class Defaults(Strict):
    schedule: Schedule = Field(default_factory=Schedule)


class WatchFile(Strict):
    settings: dict[str, Any] = Field(default_factory=dict)
    defaults: Defaults = Field(default_factory=Defaults)
    watches: tuple[WatchSpec, ...] = ()
    notify: tuple[NotifySpec, ...] = ()
