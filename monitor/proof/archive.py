"""Writing the ZIP: members streamed in, each hashed while written, the file published atomically."""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO

from monitor.domain import PARIS
from monitor.errors import UserError
from monitor.proof.manifest import FileEntry

BLOCK = 1 << 20


class HashingWriter:
    """A write-only binary stream that hashes and counts what passes through it."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.target.write(data)
        self.digest.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        self.target.flush()


class ArchiveWriter:
    """A ZIP being built; remembers the SHA-256 and size of every member for the manifest."""

    def __init__(self, path: Path, *, when: datetime) -> None:
        self.zip = zipfile.ZipFile(path, "w", allowZip64=True)
        self.when = when.astimezone(PARIS).timetuple()[:6]
        self.files: list[FileEntry] = []

    @contextmanager
    def member(self, name: str, *, compress: bool = False) -> Iterator[HashingWriter]:
        """A new member to stream into (only one at a time, as zipfile allows)."""
        info = zipfile.ZipInfo(name, date_time=self.when)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        with self.zip.open(info, "w") as raw:
            writer = HashingWriter(raw)
            yield writer
        self.files.append(FileEntry(name=name, sha256=writer.digest.hexdigest(), size=writer.size))

    def add_bytes(self, name: str, data: bytes, *, compress: bool = False) -> None:
        with self.member(name, compress=compress) as out:
            out.write(data)

    def add_file(self, name: str, path: Path, *, compress: bool = False) -> None:
        with self.member(name, compress=compress) as out, path.open("rb") as source:
            shutil.copyfileobj(source, out, BLOCK)

    def close(self) -> None:
        self.zip.close()


def publish(temp: Path, target: Path) -> None:
    """Make the finished archive appear at target in one step; never replace an existing file."""
    with temp.open("rb") as handle:
        os.fsync(handle.fileno())
    try:
        os.link(temp, target)
    except FileExistsError:
        raise UserError(f"{target}: already exists; an export never overwrites a file, choose another name") from None
    except OSError:  # a file system without hard links: rename, having checked first
        if target.exists():
            raise UserError(f"{target}: already exists; choose another name") from None
        os.rename(temp, target)
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
