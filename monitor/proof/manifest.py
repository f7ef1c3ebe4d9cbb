"""The archive's manifest: every file with its SHA-256, every attempt record with its canonical chain payload.

`manifest.json` is the authority `verify` reads; `manifest.csv` is the same attempts for a spreadsheet;
`empreintes-sha256.txt` lists file hashes in the `sha256sum -c` format for checking by hand.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from monitor.domain import PARIS

FORMAT = "rdv-monitor-proof"
FORMAT_VERSION = 1
CSV_COLUMNS = (
    "numero",
    "seq",
    "date_heure_paris",
    "statut",
    "http",
    "url_finale",
    "fichier_capture",
    "sha256_capture",
    "sha256_enregistrement",
    "sha256_precedent",
    "remarque",
)


class TextSink(Protocol):
    def write(self, text: str, /) -> int: ...


class ManifestError(ValueError):
    """The manifest is missing, unreadable or not shaped as this tool writes it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FileEntry:
    name: str
    sha256: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "size": self.size}


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One attempt as exported: its number in the archive, its chain record, its capture image (if any)."""

    n: int
    record_hash: str
    payload: Mapping[str, Any]  # monitor.chain.record_payload, exactly as hashed
    capture: str | None  # archive name of the stamped image, None when it could not be exported
    note: str | None = None  # why the capture is missing, when it is

    @property
    def seq(self) -> int:
        return int(self.payload["seq"])

    @property
    def status(self) -> str:
        return str(self.payload["status"])

    @property
    def checked_at(self) -> datetime:
        return datetime.fromisoformat(str(self.payload["checked_at"]))

    @property
    def details(self) -> Mapping[str, Any]:
        found = self.payload.get("details")
        return found if isinstance(found, Mapping) else {}

    def file_hash(self, kind: str) -> str | None:
        """The SHA-256 recorded at capture time for the attempt's file of that kind."""
        for item in self.payload.get("files") or ():
            if isinstance(item, Mapping) and item.get("kind") == kind:
                return str(item.get("sha256"))
        return None

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"n": self.n, "capture": self.capture, "record_hash": self.record_hash}
        if self.note:
            found["note"] = self.note
        found["payload"] = dict(self.payload)
        return found


def entry_from_json(raw: Any) -> Entry:
    if not isinstance(raw, dict) or not isinstance(raw.get("payload"), dict):
        raise ManifestError("a record is not an object with a payload")
    _check_payload(raw["payload"], str(raw.get("n", "?"))[:20])
    try:
        return Entry(
            n=int(raw["n"]),
            record_hash=str(raw["record_hash"]),
            payload=raw["payload"],
            capture=None if raw.get("capture") is None else str(raw["capture"]),
            note=raw.get("note"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ManifestError(f"record {str(raw.get('n', '?'))[:20]}: missing or bad field {str(exc)[:80]}") from None


def _check_payload(payload: Mapping[str, Any], n: str) -> None:
    """The payload fields verify reads must have the shape the chain gives them (a tampered one may not)."""
    seq = payload.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise ManifestError(f"record {n}: payload seq is not a whole number")
    if not isinstance(payload.get("files", []), list):
        raise ManifestError(f"record {n}: payload files is not a list")


def dump_line(entry: Entry) -> str:
    return json.dumps(entry.to_json(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def read_spool(path: Path) -> Iterator[Entry]:
    """Entries written one per line by the export, read back one at a time."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            yield entry_from_json(json.loads(line))


def write_json(out: TextSink, header: Mapping[str, Any], files: Iterable[FileEntry], entries: Iterable[Entry]) -> None:
    """manifest.json, streamed: the header, the files, then one record per line."""
    body = json.dumps(dict(header), ensure_ascii=False, indent=1, sort_keys=True)
    out.write(body[:-2] + ',\n "files": [\n')
    out.write(",\n".join("  " + json.dumps(f.to_json(), ensure_ascii=False) for f in files))
    out.write('\n ],\n "records": [\n')
    first = True
    for entry in entries:
        out.write(("" if first else ",\n") + "  " + dump_line(entry))
        first = False
    out.write("\n ]\n}\n")


def write_csv(out: TextSink, entries: Iterable[Entry]) -> None:
    """manifest.csv: one row per attempt (opens in a spreadsheet; `;` as French spreadsheets expect)."""
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow(csv_row(entry))


def csv_row(entry: Entry) -> list[str]:
    payload = entry.payload
    return [
        str(entry.n),
        str(entry.seq),
        entry.checked_at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S%z"),
        entry.status,
        "" if payload.get("http_status") is None else str(payload["http_status"]),
        str(payload.get("final_url", "")),
        entry.capture or "",
        entry.file_hash("stamped") or "",
        entry.record_hash,
        str(payload.get("prev_hash", "")),
        entry.note or "",
    ]


def write_sums(out: TextSink, files: Iterable[FileEntry]) -> None:
    """The `sha256sum -c` format: hash, two spaces, name."""
    for item in files:
        out.write(f"{item.sha256}  {item.name}\n")


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    header: Mapping[str, Any]
    files: tuple[FileEntry, ...]
    records: tuple[Entry, ...]


def load(data: bytes) -> Manifest:
    """Parse manifest.json as written by `write_json`; ManifestError names what is wrong."""
    try:
        raw = json.load(io.BytesIO(data))
    except RecursionError:
        raise ManifestError("manifest.json is nested too deeply to be one this tool wrote") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ManifestError(f"manifest.json is not valid JSON ({exc})") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ManifestError("manifest.json is not an rdv-monitor proof manifest")
    if raw.get("format_version") != FORMAT_VERSION:
        raise ManifestError(f"manifest.json has format version {raw.get('format_version')!r}, expected 1")
    files, records = raw.pop("files", None), raw.pop("records", None)
    if not isinstance(files, list) or not isinstance(records, list):
        raise ManifestError("manifest.json lacks its files or records list")
    return Manifest(header=raw, files=tuple(_file(f) for f in files), records=tuple(map(entry_from_json, records)))


def _file(raw: Any) -> FileEntry:
    try:
        return FileEntry(name=str(raw["name"]), sha256=str(raw["sha256"]).lower(), size=int(raw["size"]))
    except (KeyError, TypeError, ValueError):
        raise ManifestError(f"a file entry is malformed: {str(raw)[:80]}") from None
