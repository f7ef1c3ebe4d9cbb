"""The append-only hash chain of attempts: one canonical form, shared by storage, export and verify.

Each attempt record is hashed over a canonical JSON form that includes the hash of the previous record
of the same watch, so removing, editing or reordering any record breaks every later link.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC
from typing import Any

from monitor.domain import CheckResult

GENESIS = "0" * 64
CHAIN_VERSION = 1


def canonical(payload: Mapping[str, Any]) -> bytes:
    """Deterministic JSON bytes: sorted keys, no spaces, UTF-8."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def record_payload(result: CheckResult, *, seq: int, prev_hash: str) -> dict[str, Any]:
    """The fields of an attempt that the chain protects."""
    return {
        "v": CHAIN_VERSION,
        "watch": result.watch,
        "seq": seq,
        "status": str(result.status),
        "reason": result.reason,
        # In UTC, as the database gives them back, so a stored record re-hashes to the same value.
        "started_at": result.started_at.astimezone(UTC).isoformat(),
        "checked_at": result.checked_at.astimezone(UTC).isoformat(),
        "final_url": result.final_url,
        "http_status": result.http_status,
        "slots": [s.isoformat() for s in result.slots],
        "files": sorted((f.to_json() for f in result.files), key=lambda f: f["path"]),
        "details": dict(result.details),
        "versions": dict(result.versions),
        "prev_hash": prev_hash,
    }


def record_hash(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(payload)).hexdigest()
