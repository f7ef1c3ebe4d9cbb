"""The only module that reads and writes SQL. Attempts are appended, never edited."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.chain import GENESIS, record_hash, record_payload
from monitor.domain import CheckResult, EvidenceFile, Status
from monitor.storage import db
from monitor.storage.models import CheckRow, FileRow

__all__ = ["Storage"]


class Storage:
    """Typed access to the database. Thread-safe: each call opens its own session."""

    def __init__(self, database_path: Path, *, migrate: bool = True) -> None:
        if migrate:
            db.upgrade(database_path)
        self.engine: Engine = db.make_engine(f"sqlite:///{database_path}")
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(self.engine.execution_options(immediate=True), expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    def session(self) -> Session:
        """A read session (deferred transaction)."""
        return self._sessions()

    def writer(self) -> Session:
        """A write session: BEGIN IMMEDIATE, so chain links are computed under the write lock."""
        return self._writer()

    def append_check(self, result: CheckResult, *, platform: str, url: str, session: Session) -> CheckResult:
        """Add an attempt to its watch's chain within the caller's write session (not committed here)."""
        last = session.execute(
            select(CheckRow.seq, CheckRow.record_hash)
            .where(CheckRow.watch_id == result.watch)
            .order_by(CheckRow.seq.desc())
            .limit(1)
        ).first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        payload = record_payload(result, seq=seq, prev_hash=prev)
        digest = record_hash(payload)
        row = CheckRow(
            watch_id=result.watch,
            seq=seq,
            platform=platform,
            url=url,
            started_at=result.started_at,
            checked_at=result.checked_at,
            status=str(result.status),
            reason=result.reason,
            final_url=result.final_url,
            http_status=result.http_status,
            slots=payload["slots"],
            details=payload["details"],
            versions=payload["versions"],
            server_ip=result.details.get("server_ip"),
            server_date=result.details.get("server_date"),
            prev_hash=prev,
            record_hash=digest,
            files=[FileRow(kind=f.kind, path=f.path, sha256=f.sha256, size=f.size) for f in result.files],
        )
        session.add(row)
        session.flush()
        return to_result(row)

    def record_check(self, result: CheckResult, *, platform: str, url: str) -> CheckResult:
        """Append one attempt and commit."""
        with self.writer() as session, session.begin():
            return self.append_check(result, platform=platform, url=url, session=session)

    def history(self, watch_id: str, *, limit: int | None = None, offset: int = 0) -> list[CheckResult]:
        """Attempts of a watch, newest first."""
        query = select(CheckRow).where(CheckRow.watch_id == watch_id).order_by(CheckRow.seq.desc())
        query = query.offset(offset).limit(limit)
        with self.session() as session:
            return [to_result(row) for row in session.scalars(query)]

    def last_starts_by_host(self) -> dict[str, datetime]:
        """When the latest recorded check of each host started (host of the watch URL), for the host gap."""
        query = select(CheckRow.url, func.max(CheckRow.started_at)).group_by(CheckRow.url)
        latest: dict[str, datetime] = {}
        with self.session() as session:
            for url, started in session.execute(query):
                host = urlsplit(url).hostname or ""
                if started is not None and (host not in latest or started > latest[host]):
                    latest[host] = started
        return latest

    def count_checks(self, watch_id: str) -> int:
        with self.session() as session:
            return session.scalar(select(func.count()).where(CheckRow.watch_id == watch_id)) or 0


def to_result(row: CheckRow) -> CheckResult:
    """A stored attempt as a domain value."""
    return CheckResult(
        id=row.id,
        seq=row.seq,
        watch=row.watch_id,
        status=Status(row.status),
        reason=row.reason,
        started_at=row.started_at,
        checked_at=row.checked_at,
        final_url=row.final_url,
        http_status=row.http_status,
        slots=tuple(datetime.fromisoformat(s) for s in row.slots),
        files=tuple(EvidenceFile(kind=f.kind, path=f.path, sha256=f.sha256, size=f.size) for f in row.files),
        details=row.details,
        versions=row.versions,
        record_hash=row.record_hash,
        prev_hash=row.prev_hash,
    )
