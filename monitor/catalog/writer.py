"""Adding a watch to the watch file (the source of truth): validated, backed up, replaced atomically.

The file is edited as a YAML round trip (ruamel), so the person's comments and layout survive.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import secrets
import stat
import threading
from collections.abc import Mapping
from datetime import UTC
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from monitor.catalog import DEFAULT_PREFECTURES, Catalog, load_catalog
from monitor.domain import Clock, utcnow
from monitor.errors import ConfigError

log = logging.getLogger(__name__)
PRIVATE = 0o600  # the watch file holds Apprise URLs (tokens): backups and probes are the owner's only


def _round_trip() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 120
    return yaml


class WatchFileWriter:
    """Appends watches to one watch file; one writer at a time, a timestamped backup before each change."""

    def __init__(
        self, path: Path, backup_dir: Path, *, clock: Clock = utcnow, prefectures: Path = DEFAULT_PREFECTURES
    ) -> None:
        self.path = path
        self.backup_dir = backup_dir
        self.clock = clock
        self.prefectures = prefectures
        self._lock = threading.Lock()

    def add_watch(self, entry: Mapping[str, Any]) -> Catalog:
        """Append entry to `watches:`, check the whole file still loads, then replace it. Returns the new catalog."""
        with self._lock:
            original = self._read()
            text = self._with_watch(original, entry)
            self._validate(text)
            self._backup(original)
            self._replace(text)
            log.info("watch file %s: added watch %s", self.path, entry.get("id"))
            return load_catalog(self.path, prefectures=self.prefectures)

    def _read(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{self.path}: cannot read: {exc}") from None

    def _with_watch(self, original: str, entry: Mapping[str, Any]) -> str:
        yaml = _round_trip()
        try:
            document = yaml.load(original) if original.strip() else None
        except YAMLError as exc:
            raise ConfigError(f"{self.path}: invalid YAML, fix it by hand first: {exc}") from None
        if document is None:
            document = CommentedMap()
        if not isinstance(document, CommentedMap):
            raise ConfigError(f"{self.path}: expected a mapping with a 'watches:' list at the top")
        watches = document.get("watches")
        if watches is None:
            watches = document["watches"] = CommentedSeq()
        if not isinstance(watches, CommentedSeq):
            raise ConfigError(f"{self.path}: watches: expected a list")
        if any(isinstance(w, Mapping) and w.get("id") == entry.get("id") for w in watches):
            raise ConfigError(f"watch id {entry.get('id')!r} is already in {self.path}")
        watches.fa.set_block_style()
        watches.append(_block(entry))
        out = io.StringIO()
        yaml.dump(document, out)
        return out.getvalue()

    def _validate(self, text: str) -> None:
        """Load the new text exactly as the service will; a bad entry never reaches the real file."""
        self.backup_dir.mkdir(parents=True, exist_ok=True)
        probe = self.backup_dir / f".check-{secrets.token_hex(4)}.yaml"
        try:
            _write_synced(probe, text, PRIVATE)
            load_catalog(probe, prefectures=self.prefectures)
        except ConfigError as exc:
            raise ConfigError(str(exc).replace(str(probe), str(self.path))) from None
        finally:
            probe.unlink(missing_ok=True)

    def _backup(self, original: str) -> None:
        if not original:
            return
        self.backup_dir.mkdir(parents=True, exist_ok=True)
        stamp = self.clock().astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        backup = self.backup_dir / f"{self.path.stem}.{stamp}{self.path.suffix or '.yaml'}"
        _write_synced(backup, original, PRIVATE)

    def _replace(self, text: str) -> None:
        """Through a symlink to the real file, keeping its permissions (0600 stays 0600)."""
        real = self.path.resolve()
        try:
            mode = stat.S_IMODE(real.stat().st_mode)
        except FileNotFoundError:
            mode = PRIVATE
        temp = real.with_name(f".{real.name}.{secrets.token_hex(4)}.tmp")
        try:
            _write_synced(temp, text, mode)
            os.replace(temp, real)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            if exc.errno not in (errno.EBUSY, errno.EXDEV, errno.EACCES, errno.EPERM, errno.EROFS):
                raise ConfigError(f"{self.path}: cannot write: {exc}") from None
            self._overwrite(text)  # a bind-mounted single file cannot be renamed over: write in place

    def _overwrite(self, text: str) -> None:
        try:
            _write_synced(self.path, text)
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot write: {exc}") from None


def _block(entry: Mapping[str, Any]) -> CommentedMap:
    """The entry as a block mapping; small nested mappings (options) stay on one line."""
    block = CommentedMap()
    for key, value in entry.items():
        if isinstance(value, Mapping):
            inner = CommentedMap(value)
            inner.fa.set_flow_style()
            block[key] = inner
        else:
            block[key] = value
    return block


def _write_synced(path: Path, text: str, mode: int | None = None) -> None:
    with path.open("w", encoding="utf-8") as handle:
        if mode is not None:
            os.fchmod(handle.fileno(), mode)  # before any byte is written
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
