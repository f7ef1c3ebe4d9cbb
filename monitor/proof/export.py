"""`rdv-monitor export`: stream a watch's attempts into a proof ZIP a lawyer can file and anyone can verify.

One pass over the database (in batches) copies each stamped capture into the ZIP, appends its page to the
current capture PDF part, counts it, and spools its record to a temporary file; the journal, the CSV and
the manifest are then written from the spool. Memory holds one image and the counters, never the history.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

from monitor.chain import CHAIN_VERSION, record_hash, record_payload
from monitor.digest import paris_midnight
from monitor.domain import PARIS, CheckResult, Watch
from monitor.errors import UserError
from monitor.evidence import sha256, sha256_file
from monitor.proof import manifest, names, wording
from monitor.proof.archive import ArchiveWriter, HashingWriter, publish
from monitor.proof.captures import CaptureSeries, caption
from monitor.proof.journal import Cover, write_journal
from monitor.proof.manifest import Entry
from monitor.proof.summary import Tally
from monitor.storage import Storage
from monitor.storage.span import ChainSpan, chain_span, iter_span

log = logging.getLogger(__name__)
MAX_LISTED_ANOMALIES = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportRequest:
    watch_id: str
    output: Path
    first_day: date | None = None  # Paris calendar days, inclusive
    last_day: date | None = None
    watch: Watch | None = None  # from the watch file; None when the watch was removed from it


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportReport:
    path: Path
    attempts: int
    first_seq: int
    last_seq: int
    parts: int
    size: int
    head: str
    archive_sha256: str
    manifest_sha256: str
    anomalies: int


def day_bounds(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """[start, end) in UTC for inclusive Paris calendar days."""
    if first is not None and last is not None and first > last:
        raise UserError(f"--from {first} is after --to {last}")
    start = paris_midnight(first) if first else None
    end = paris_midnight(last + timedelta(days=1)) if last else None
    return start, end


def export_archive(
    storage: Storage, data_dir: Path, request: ExportRequest, *, clock: Callable[[], datetime] | None = None
) -> ExportReport:
    """Write the proof archive for request; UserError when there is nothing to export or the file exists."""
    output = request.output
    if output.exists():
        raise UserError(f"{output}: already exists; an export never overwrites a file, choose another name")
    if not output.parent.is_dir():
        raise UserError(f"{output}: no such directory: {output.parent}")
    start, end = day_bounds(request.first_day, request.last_day)
    span = chain_span(storage, request.watch_id, start=start, end=end)
    if span is None:
        raise UserError(f"no attempt recorded for watch {request.watch_id!r} in the requested period")
    now = (clock or (lambda: datetime.now(UTC)))()
    try:
        with tempfile.TemporaryDirectory(prefix=".rdv-export-", dir=output.parent) as tmp:
            return Export(storage, data_dir, request, span, Path(tmp), now).run()
    except OSError as exc:  # the output folder: read-only, full disk
        raise UserError(f"{output}: cannot write the archive ({exc.strerror or exc})") from None


class Export:
    """One export job in its temporary folder (removed afterwards, whatever happens)."""

    def __init__(
        self, storage: Storage, data_dir: Path, request: ExportRequest, span: ChainSpan, tmp: Path, now: datetime
    ) -> None:
        self.storage, self.data_dir, self.request, self.span, self.tmp = storage, data_dir, request, span, tmp
        self.now = now
        self.archive = ArchiveWriter(tmp / "archive.zip", when=now)
        self.series = CaptureSeries(tmp)
        self.tally = Tally()
        self.spool = tmp / "entries.jsonl"
        self.anomalies: list[str] = []
        self.anomaly_count = 0
        self.last_label: str | None = None
        self.previous: str | None = None
        self.previous_seq = 0

    def run(self) -> ExportReport:
        with self.spool.open("w", encoding="utf-8") as spool:
            for n, result in enumerate(iter_span(self.storage, self.span), start=1):
                entry = self._take(n, result)
                spool.write(manifest.dump_line(entry) + "\n")
                self.tally.add(entry)
                if n % 1000 == 0:
                    log.info("export %s: %d/%d attempts", self.span.watch, n, self.span.count)
        if self.tally.count != self.span.count:
            self._anomaly(f"{self.span.count - self.tally.count} enregistrement(s) de la plage n’ont pas été lus")
        parts = tuple(path.name for path in self.series.close())
        for name in parts:
            self.archive.add_file(name, self.tmp / name)
        cover = self._cover(parts)
        with self.archive.member(names.JOURNAL) as out:
            write_journal(out, cover, self.tally, manifest.read_spool(self.spool), self._listed_anomalies())
        return self._finish(cover)

    def _take(self, n: int, result: CheckResult) -> Entry:
        """One attempt: check its record against the chain, copy its stamped capture, add its page."""
        seq, prev = result.seq or 0, result.prev_hash or ""
        payload = record_payload(result, seq=seq, prev_hash=prev)
        stored = result.record_hash or ""
        if record_hash(payload) != stored:
            self._anomaly(f"enregistrement n° {seq} : son empreinte ne correspond plus à son contenu")
        if self.previous is not None and (prev != self.previous or seq != self.previous_seq + 1):
            self._anomaly(f"enregistrement n° {seq} : le lien vers l’enregistrement précédent est rompu")
        self.previous, self.previous_seq = stored, seq
        self.last_label = str(result.details.get("watch_label") or "") or self.last_label
        name = names.capture_image(n, self.span.count, result.checked_at, str(result.status))
        png, note = self._capture(result)
        entry = Entry(n=n, record_hash=stored, payload=payload, capture=name if png else None, note=note)
        if png is not None:
            self.archive.add_bytes(name, png)
        else:
            self._anomaly(f"tentative {n} (n° {seq}) : {note}")
        self.series.add(png, caption(entry, self.span.count))
        return entry

    def _capture(self, result: CheckResult) -> tuple[bytes | None, str | None]:
        """The stamped image's bytes when they still match the hash recorded at capture time."""
        stamped = next((f for f in result.files if f.kind == "stamped"), None)
        if stamped is None:
            return None, "aucune capture n’a été enregistrée pour cette tentative"
        path = (self.data_dir / stamped.path).resolve()
        if not path.is_relative_to(self.data_dir.resolve()):
            return None, f"chemin de capture invalide : {stamped.path}"
        try:
            data = path.read_bytes()
        except OSError:
            return None, "fichier de capture absent du dossier de données lors de l’export"
        if sha256(data) != stamped.sha256:
            return None, "fichier de capture modifié depuis la capture (empreinte différente) : non joint"
        return data, None

    def _anomaly(self, text: str) -> None:
        self.anomaly_count += 1
        if len(self.anomalies) < MAX_LISTED_ANOMALIES:
            self.anomalies.append(text)
        log.warning("export %s: %s", self.span.watch, text)

    def _listed_anomalies(self) -> list[str]:
        hidden = self.anomaly_count - len(self.anomalies)
        return self.anomalies + ([f"… et {hidden} autre(s), voir manifest.json"] if hidden else [])

    def _cover(self, parts: tuple[str, ...]) -> Cover:
        watch, span, tally = self.request.watch, self.span, self.tally
        assert tally.first is not None
        assert tally.last is not None
        first = self.request.first_day or tally.first.astimezone(PARIS).date()
        last = self.request.last_day or tally.last.astimezone(PARIS).date()
        return Cover(
            watch=span.watch,
            label=watch.title if watch else (self.last_label or span.watch),
            url=watch.url if watch else span.url,
            platform=watch.platform if watch else span.platform,
            period=(first, last),
            first_seq=span.first_seq,
            last_seq=span.last_seq,
            first_prev_hash=self._first_prev_hash(),
            generated_at=self.now,
            parts=parts,
        )

    def _first_prev_hash(self) -> str:
        first = next(manifest.read_spool(self.spool), None)
        return str(first.payload["prev_hash"]) if first else ""

    def _finish(self, cover: Cover) -> ExportReport:
        head = self.tally.head or ""
        with self.archive.member(names.MANIFEST_CSV, compress=True) as out:
            manifest.write_csv(_Text(out), manifest.read_spool(self.spool))
        self.archive.add_bytes(
            names.README, wording.readme(cover.label, head, cover.parts).encode("utf-8"), compress=True
        )
        with self.archive.member(names.SUMS, compress=True) as out:
            manifest.write_sums(_Text(out), list(self.archive.files))
        with self.archive.member(names.MANIFEST_JSON, compress=True) as out:
            manifest.write_json(_Text(out), self._header(cover), self.archive.files[:], manifest.read_spool(self.spool))
        manifest_sha = self.archive.files[-1].sha256
        self.archive.close()
        publish(self.tmp / "archive.zip", self.request.output)
        return ExportReport(
            path=self.request.output,
            attempts=self.tally.count,
            first_seq=cover.first_seq,
            last_seq=cover.last_seq,
            parts=len(cover.parts),
            size=self.request.output.stat().st_size,
            head=head,
            archive_sha256=sha256_file(self.request.output),
            manifest_sha256=manifest_sha,
            anomalies=self.anomaly_count,
        )

    def _header(self, cover: Cover) -> dict[str, Any]:
        return {
            "format": manifest.FORMAT,
            "format_version": manifest.FORMAT_VERSION,
            "generated_at": self.now.isoformat(),
            "generator": {"rdv_monitor": version("rdv-monitor")},
            "watch": {"id": cover.watch, "label": cover.label, "url": cover.url, "platform": cover.platform},
            "period": {"from": cover.period[0].isoformat(), "to": cover.period[1].isoformat(), "tz": "Europe/Paris"},
            "chain": {
                "version": CHAIN_VERSION,
                "first_seq": cover.first_seq,
                "last_seq": cover.last_seq,
                "first_prev_hash": cover.first_prev_hash,
                "head": self.tally.head,
                "records": self.tally.count,
            },
            "pieces": [names.JOURNAL, *cover.parts],
            "anomalies": self.anomalies,
            "anomaly_count": self.anomaly_count,
        }


class _Text:
    """A text view over a binary member stream (UTF-8), for csv and json writers."""

    def __init__(self, out: HashingWriter) -> None:
        self.out = out

    def write(self, text: str) -> int:
        self.out.write(text.encode("utf-8"))
        return len(text)
