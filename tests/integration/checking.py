"""Steps shared by the platform integration tests: a warm browser, one check through the real Checker (evidence
and database included), and `rdv-monitor check --json` through the real console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from hashlib import sha256
from pathlib import Path
from typing import Any

from monitor.browser import Browser
from monitor.domain import CheckResult, Watch
from monitor.evidence import EvidenceStore
from monitor.runner import Checker, HostGate
from monitor.storage import Storage
from tests.conftest import write_watches

SCRIPT = Path(sys.executable).parent / "rdv-monitor"


@asynccontextmanager
async def warm_browser() -> AsyncIterator[Browser]:
    shared = Browser(timeout_seconds=5)
    await shared.start()
    try:
        yield shared
    finally:
        await shared.close()


async def run_check(browser: Browser, data_dir: Path, watch: Watch) -> CheckResult:
    """One check as the service runs it; the evidence files exist with their hashes, the row is stored."""
    storage = Storage(data_dir / "rdv-monitor.sqlite3")
    try:
        checker = Checker(
            storage=storage, browser=browser, evidence=EvidenceStore(data_dir), gate=HostGate(0), timeout_seconds=20
        )
        result = await checker.check(watch)
        stored = storage.history(watch.id, limit=1)[0]
    finally:
        storage.close()
    assert (stored.status, stored.record_hash, stored.slots) == (result.status, result.record_hash, result.slots)
    assert_files(result.to_json()["files"], data_dir)
    return result


def assert_files(files: list[dict[str, Any]], data_dir: Path) -> None:
    assert [f["kind"] for f in files] == ["screenshot", "stamped", "html"]
    for f in files:
        content = (data_dir / f["path"]).read_bytes()
        assert (sha256(content).hexdigest(), len(content)) == (f["sha256"], f["size"])


def cli_check(workdir: Path, watch: dict[str, Any]) -> dict[str, Any]:
    """`rdv-monitor check <id> --json` in its own process: exit 0 whatever the status, one JSON object."""
    config = write_watches(workdir / "rdv-monitor.yaml", {"watches": [watch]})
    environ = {**os.environ, "RDV_MONITOR_CONFIG": str(config), "RDV_MONITOR_DATA_DIR": str(workdir / "data")}
    done = subprocess.run(
        [SCRIPT, "check", watch["id"], "--json"], env=environ, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    assert_files(data["files"], workdir / "data")
    return data
