"""Read-only queries for the proof export: the contiguous span of a watch's chain that covers a period."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from monitor.domain import CheckResult
from monitor.storage import Storage, to_result
from monitor.storage.models import CheckRow


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainSpan:
    """Chain positions first..last (inclusive) of a watch, and where its newest attempt pointed."""

    watch: str
    first_seq: int
    last_seq: int
    platform: str
    url: str

    @property
    def count(self) -> int:
        return self.last_seq - self.first_seq + 1


def chain_span(
    storage: Storage, watch_id: str, *, start: datetime | None = None, end: datetime | None = None
) -> ChainSpan | None:
    """The chain span from the first to the last attempt made in [start, end): None when there is none.

    Bounded by chain positions, not by filtering each row, so an attempt inside the span whose clock
    reading strayed is still exported and the links stay checkable.
    """
    where = [CheckRow.watch_id == watch_id]
    if start is not None:
        where.append(CheckRow.checked_at >= start)
    if end is not None:
        where.append(CheckRow.checked_at < end)
    with storage.session() as session:
        low, high = session.execute(select(func.min(CheckRow.seq), func.max(CheckRow.seq)).where(*where)).one()
        if low is None or high is None:
            return None
        newest = session.execute(
            select(CheckRow.platform, CheckRow.url).where(CheckRow.watch_id == watch_id, CheckRow.seq == high)
        ).one()
    return ChainSpan(watch=watch_id, first_seq=low, last_seq=high, platform=newest[0], url=newest[1])


def iter_span(storage: Storage, span: ChainSpan, *, batch: int = 500) -> Iterator[CheckResult]:
    """Every attempt of the span in chain order, streamed in batches (one short read session per batch)."""
    after = span.first_seq - 1
    while after < span.last_seq:
        query = (
            select(CheckRow)
            .where(CheckRow.watch_id == span.watch, CheckRow.seq > after, CheckRow.seq <= span.last_seq)
            .order_by(CheckRow.seq)
            .limit(batch)
        )
        with storage.session() as session:
            rows = [to_result(row) for row in session.scalars(query)]
        if not rows:
            return
        yield from rows
        after = rows[-1].seq or span.last_seq
