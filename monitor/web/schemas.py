"""The JSON API's shapes (a public contract, documented in /openapi.json). Inputs reject unknown keys."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field

from monitor.assist import MAX_ANSWER
from monitor.digest import paris_midnight
from monitor.domain import CheckResult, Status


class WatchOut(BaseModel):
    id: str
    label: str
    title: str
    platform: str
    url: str
    assist: bool
    status: Status | None = Field(description="status of the last attempt; null when never checked")
    reason: str | None
    last_check: datetime | None
    next_check: datetime | None
    running: bool
    unhealthy: bool = Field(description="the last attempts all failed (error, unknown, blocked)")
    slots: list[datetime]
    pending_notifications: int


class FileOut(BaseModel):
    kind: str = Field(description="screenshot, stamped, html or captcha")
    path: str
    sha256: str
    size: int
    url: str = Field(description="where the dashboard serves the file (read-only)")


class CheckOut(BaseModel):
    id: int | None
    seq: int | None
    watch: str
    status: Status
    reason: str
    started_at: datetime
    checked_at: datetime
    final_url: str
    http_status: int | None
    slots: list[datetime]
    files: list[FileOut]
    details: dict[str, Any]
    versions: dict[str, str]
    record_hash: str | None
    prev_hash: str | None


class AssistTaskOut(BaseModel):
    id: str
    watch: str
    watch_title: str
    image: str = Field(description="the captcha image as a data: URI")
    created_at: datetime
    expires_at: datetime
    attempt: int = Field(description="1 for the first captcha of a check, 2... after a wrong answer")


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str = Field(min_length=1, max_length=MAX_ANSWER, description="the characters the person read")


class Accepted(BaseModel):
    status: str = "accepted"
    detail: str = ""


def check_out(result: CheckResult) -> dict[str, Any]:
    """A stored attempt in the API's shape: the CLI's JSON plus where each file is served."""
    data = result.to_json()
    for item in data["files"]:
        item["url"] = "/files/" + item["path"]
    return data


def period(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """Inclusive Paris dates as a UTC-comparable half-open interval."""
    if start is not None and end is not None and end < start:
        raise HTTPException(422, "to: must not be before from")
    low = paris_midnight(start) if start else None
    high = paris_midnight(end + timedelta(days=1)) if end else None
    return low, high
