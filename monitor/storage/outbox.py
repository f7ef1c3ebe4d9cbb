"""Outbox SQL: notifications queued with the check that caused them, claimed, delivered once, retried.

Functions take the caller's Session (so queuing joins the check's transaction); `pending_notifications`
takes the Storage, for `status` and the dashboard.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session

from monitor.domain import Status
from monitor.storage.models import CheckRow, OutboxRow

if TYPE_CHECKING:
    from monitor.storage import Storage

#: A claimed row is not due again before this, so a crash mid-send retries it and two senders never share it.
LEASE = timedelta(minutes=2)


@dataclass(frozen=True, slots=True, kw_only=True)
class Notification:
    """One outbox row as a value."""

    id: int
    event: str
    watch_id: str | None
    check_id: int | None
    target: str  # the fingerprint of the Apprise URL
    payload: Mapping[str, Any]
    created_at: datetime
    next_attempt_at: datetime
    attempts: int
    last_error: str | None
    delivered_at: datetime | None


def _value(row: OutboxRow) -> Notification:
    return Notification(
        id=row.id,
        event=row.event,
        watch_id=row.watch_id,
        check_id=row.check_id,
        target=row.target,
        payload=row.payload,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        attempts=row.attempts,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
    )


def recent_statuses(session: Session, watch_id: str, *, before_seq: int, limit: int) -> list[Status]:
    """The statuses of the `limit` attempts before `before_seq`, oldest first."""
    query = (
        select(CheckRow.status)
        .where(CheckRow.watch_id == watch_id, CheckRow.seq < before_seq)
        .order_by(CheckRow.seq.desc())
        .limit(limit)
    )
    return [Status(s) for s in reversed(session.scalars(query).all())]


def last_status_among(
    session: Session, watch_id: str, statuses: Collection[Status], *, before_seq: int
) -> Status | None:
    """The newest status among `statuses` before `before_seq` (e.g. the last real answer, errors skipped)."""
    query = (
        select(CheckRow.status)
        .where(
            CheckRow.watch_id == watch_id, CheckRow.seq < before_seq, CheckRow.status.in_([str(s) for s in statuses])
        )
        .order_by(CheckRow.seq.desc())
        .limit(1)
    )
    found = session.scalar(query)
    return None if found is None else Status(found)


def enqueue(
    session: Session,
    *,
    event: str,
    target: str,
    dedup_key: str,
    payload: Mapping[str, Any],
    now: datetime,
    watch_id: str | None = None,
    check_id: int | None = None,
) -> bool:
    """Queue a notification unless one with this dedup key exists (then nothing changes). True if queued."""
    statement = (
        insert(OutboxRow)
        .values(
            event=event,
            watch_id=watch_id,
            check_id=check_id,
            target=target,
            dedup_key=dedup_key,
            payload=dict(payload),
            created_at=now,
            next_attempt_at=now,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["dedup_key"])
    )
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def exists(session: Session, dedup_key: str) -> bool:
    return session.scalar(select(OutboxRow.id).where(OutboxRow.dedup_key == dedup_key)) is not None


def claim_due(session: Session, *, now: datetime, targets: Collection[str], limit: int = 50) -> list[Notification]:
    """Take the undelivered rows due now for these targets, oldest first, and lease them (see LEASE)."""
    query = (
        select(OutboxRow)
        .where(OutboxRow.delivered_at.is_(None), OutboxRow.next_attempt_at <= now, OutboxRow.target.in_(targets))
        .order_by(OutboxRow.id)
        .limit(limit)
    )
    rows = list(session.scalars(query))
    for row in rows:
        row.next_attempt_at = now + LEASE
    session.flush()
    return [_value(row) for row in rows]


def renew_lease(session: Session, row_id: int, *, held_until: datetime, now: datetime) -> datetime | None:
    """Extend our lease on a row just before sending it, if it is still ours (compare-and-set on the lease).

    A sender whose lease ran out while earlier rows were slow to send finds the row taken or delivered by
    another sender and must skip it: this is what keeps a notification from going out twice.
    """
    until = now + LEASE
    taken = session.execute(
        update(OutboxRow)
        .where(OutboxRow.id == row_id, OutboxRow.delivered_at.is_(None), OutboxRow.next_attempt_at == held_until)
        .values(next_attempt_at=until)
    )
    return until if taken.rowcount == 1 else None  # type: ignore[attr-defined]


def mark_delivered(session: Session, row_id: int, *, now: datetime) -> None:
    session.execute(
        update(OutboxRow)
        .where(OutboxRow.id == row_id)
        .values(delivered_at=now, attempts=OutboxRow.attempts + 1, last_error=None)
    )


def mark_failed(session: Session, row_id: int, *, error: str, retry_at: datetime) -> None:
    session.execute(
        update(OutboxRow)
        .where(OutboxRow.id == row_id)
        .values(next_attempt_at=retry_at, attempts=OutboxRow.attempts + 1, last_error=error[:1000])
    )


def next_due(session: Session, *, targets: Collection[str]) -> datetime | None:
    """When the next undelivered row for these targets is due."""
    query = select(func.min(OutboxRow.next_attempt_at)).where(
        OutboxRow.delivered_at.is_(None), OutboxRow.target.in_(targets)
    )
    return session.scalar(query)


def undelivered(session: Session) -> list[Notification]:
    query = select(OutboxRow).where(OutboxRow.delivered_at.is_(None)).order_by(OutboxRow.id)
    return [_value(row) for row in session.scalars(query)]


def hourly_outcomes(
    session: Session, watch_id: str, *, end: datetime, start: datetime | None = None
) -> list[tuple[datetime, str, int]]:
    """Attempts of a watch counted per UTC hour and status, in [start, end): the digest's raw material."""
    hour = func.strftime("%Y-%m-%d %H:00:00", CheckRow.checked_at)
    query = select(hour, CheckRow.status, func.count()).where(CheckRow.watch_id == watch_id, CheckRow.checked_at < end)
    if start is not None:
        query = query.where(CheckRow.checked_at >= start)
    rows = session.execute(query.group_by(hour, CheckRow.status)).all()
    return [(_utc_hour(h), str(status), int(count)) for h, status, count in rows]


def _utc_hour(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def any_check_before(session: Session, end: datetime) -> bool:
    return session.scalar(select(CheckRow.id).where(CheckRow.checked_at < end).limit(1)) is not None


def pending_notifications(storage: Storage) -> list[Notification]:
    """Notifications not delivered yet, oldest first (queued, or failing and waiting for a retry)."""
    with storage.session() as session:
        return undelivered(session)
