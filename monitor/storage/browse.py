"""Read-only queries for the dashboard and the JSON API: filtered timelines, the attempt grid, evidence lookup."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select

from monitor.domain import CheckResult, EvidenceFile, Status
from monitor.storage import Storage, to_result
from monitor.storage.models import CheckRow, FileRow, OutboxRow


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckFilter:
    """Which attempts of a watch to show: some statuses (none = all) between two instants (UTC, end exclusive)."""

    watch: str
    statuses: frozenset[Status] = frozenset()
    start: datetime | None = None
    end: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found = [CheckRow.watch_id == self.watch]
        if self.statuses:
            found.append(CheckRow.status.in_(sorted(str(s) for s in self.statuses)))
        if self.start is not None:
            found.append(CheckRow.checked_at >= self.start)
        if self.end is not None:
            found.append(CheckRow.checked_at < self.end)
        return found


def find_checks(storage: Storage, where: CheckFilter, *, limit: int = 50, offset: int = 0) -> list[CheckResult]:
    """Matching attempts, newest first."""
    query = select(CheckRow).where(*where.conditions()).order_by(CheckRow.seq.desc()).offset(offset).limit(limit)
    with storage.session() as session:
        return [to_result(row) for row in session.scalars(query)]


def status_counts(storage: Storage, where: CheckFilter) -> Counter[Status]:
    query = select(CheckRow.status, func.count()).where(*where.conditions()).group_by(CheckRow.status)
    with storage.session() as session:
        return Counter({Status(status): n for status, n in session.execute(query).all()})


def attempt_times(storage: Storage, where: CheckFilter, *, batch: int = 2000) -> Iterator[datetime]:
    """When each matching attempt was made (streamed: months of attempts stay cheap)."""
    query = (
        select(CheckRow.checked_at).where(*where.conditions()).order_by(CheckRow.id).execution_options(yield_per=batch)
    )
    with storage.session() as session:
        yield from session.scalars(query)


def evidence_file(storage: Storage, path: str) -> EvidenceFile | None:
    """The evidence file recorded under this relative path, if the database knows it."""
    with storage.session() as session:
        row = session.scalars(select(FileRow).where(FileRow.path == path)).first()
        return None if row is None else EvidenceFile(kind=row.kind, path=row.path, sha256=row.sha256, size=row.size)


def undelivered_notifications(storage: Storage) -> Counter[str]:
    """Notifications waiting in the outbox, per watch id ("" for events about no single watch)."""
    query = (
        select(OutboxRow.watch_id, func.count()).where(OutboxRow.delivered_at.is_(None)).group_by(OutboxRow.watch_id)
    )
    with storage.session() as session:
        return Counter({watch or "": n for watch, n in session.execute(query).all()})
