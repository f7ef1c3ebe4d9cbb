"""Crash safety and tamper evidence: a process killed at any moment leaves no row pointing to a missing or
partial file; the database refuses edits of attempts; each watch's attempts form an intact hash chain.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import delete, update
from sqlalchemy.exc import DatabaseError

from monitor.chain import GENESIS, record_hash, record_payload
from monitor.domain import CheckResult, EvidenceFile, Observation, Status, Verdict, Watch
from monitor.evidence import Capture, EvidenceStore
from monitor.storage import Storage
from monitor.storage.models import CheckRow, FileRow
from tests.conftest import write_watches
from tests.sites.ezbooking import FORM_ID, EzBookingSite, EzState
from tests.sites.server import LocalServer

REPO = Path(__file__).resolve().parents[2]
DATABASE = "rdv-monitor.sqlite3"
WATCH = Watch(id="paris-titre", url="http://127.0.0.1:1/booking/create/989", platform="ezbooking")


# -- what every test below checks ------------------------------------------------------------------------------


def evidence_rows(data_dir: Path) -> list[tuple[int, str, str, int]]:
    """(check id, path, sha256, size) of every committed evidence row, read with plain sqlite3."""
    with contextlib.closing(sqlite3.connect(data_dir / DATABASE)) as connection:
        return connection.execute("SELECT check_id, path, sha256, size FROM evidence_files ORDER BY id").fetchall()


def assert_no_dangling_rows(data_dir: Path) -> int:
    """Every evidence row points to a complete file with its hash; every attempt has its files. Returns rows."""
    rows = evidence_rows(data_dir)
    for _, path, digest, size in rows:
        data = (data_dir / path).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (size, digest), path
    with contextlib.closing(sqlite3.connect(data_dir / DATABASE)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        bare = connection.execute(
            "SELECT count(*) FROM checks WHERE id NOT IN (SELECT check_id FROM evidence_files)"
        ).fetchone()
    assert bare == (0,)
    return len(rows)


def assert_chain(storage: Storage, watch_id: str) -> list[CheckResult]:
    """seq 1..n, the first links to GENESIS, each links to the previous, and each hash recomputes."""
    chain = storage.history(watch_id)[::-1]
    assert [r.seq for r in chain] == list(range(1, len(chain) + 1))
    previous = GENESIS
    for result in chain:
        assert result.prev_hash == previous
        assert result.seq is not None
        assert record_hash(record_payload(result, seq=result.seq, prev_hash=previous)) == result.record_hash
        previous = result.record_hash or ""
    return chain


def draft(watch_id: str, n: int, *, tz: Any = UTC) -> CheckResult:
    moment = datetime(2026, 11, 30, 8, 0, tzinfo=UTC) + timedelta(minutes=n)
    return CheckResult(
        watch=watch_id,
        status=Status.SLOTS_AVAILABLE if n % 3 == 0 else Status.NO_SLOT,
        reason=f"attempt {n}",
        started_at=moment.astimezone(tz),
        checked_at=(moment + timedelta(seconds=2)).astimezone(tz),
        final_url="https://pprdv.interieur.gouv.fr/booking/create/989/2",
        http_status=200,
        slots=(moment + timedelta(days=7),) if n % 3 == 0 else (),
        files=(EvidenceFile(kind="html", path=f"evidence/{watch_id}/{n}.html", sha256="0" * 64, size=0),),
        details={"server_ip": "127.0.0.1", "n": n},
        versions={"rdv_monitor": "test"},
    )


# -- the database refuses edits; the chain links -----------------------------------------------------------------


@pytest.fixture
def storage(tmp_path: Path) -> Any:
    opened = Storage(tmp_path / DATABASE)
    yield opened
    opened.close()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE checks SET status = 'no_slot'",
        "UPDATE checks SET record_hash = 'x' WHERE seq = 1",
        "DELETE FROM checks",
        "UPDATE evidence_files SET sha256 = 'forged'",
        "DELETE FROM evidence_files WHERE kind = 'html'",
    ],
)
def test_the_database_refuses_to_edit_or_delete_attempts(storage: Storage, tmp_path: Path, statement: str) -> None:
    storage.record_check(draft("a", 1), platform="ezbooking", url=WATCH.url)
    before = evidence_rows(tmp_path)
    with sqlite3.connect(tmp_path / DATABASE) as connection, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        connection.execute(statement)
    assert evidence_rows(tmp_path) == before
    assert (storage.history("a")[0].status, storage.count_checks("a")) == (Status.NO_SLOT, 1)


def test_the_orm_cannot_edit_attempts_either(storage: Storage) -> None:
    storage.record_check(draft("a", 1), platform="ezbooking", url=WATCH.url)
    for statement in (update(CheckRow).values(reason="rewritten"), delete(FileRow)):
        with storage.writer() as session, pytest.raises(DatabaseError, match="append-only"), session.begin():
            session.execute(statement)
    assert storage.history("a")[0].reason == "attempt 1"


def test_each_watch_has_its_own_intact_hash_chain(storage: Storage) -> None:
    for n in range(1, 8):
        storage.record_check(draft("a" if n % 2 else "b", n), platform="ezbooking", url=WATCH.url)
    assert [r.reason for r in assert_chain(storage, "a")] == ["attempt 1", "attempt 3", "attempt 5", "attempt 7"]
    assert len(assert_chain(storage, "b")) == 3
    assert storage.history("a")[0].seq == 4  # newest first


def test_the_chain_recomputes_from_stored_rows_whatever_the_time_zone_given(storage: Storage) -> None:
    paris = ZoneInfo("Europe/Paris")
    for n in range(1, 4):
        storage.record_check(draft("a", n, tz=paris), platform="ezbooking", url=WATCH.url)
    assert len(assert_chain(storage, "a")) == 3


def test_a_changed_field_no_longer_matches_its_hash(storage: Storage) -> None:
    stored = storage.record_check(draft("a", 1), platform="ezbooking", url=WATCH.url)
    assert stored.seq == 1
    payload = record_payload(stored, seq=1, prev_hash=GENESIS)
    assert record_hash(payload) == stored.record_hash
    assert record_hash({**payload, "status": "slots_available"}) != stored.record_hash
    assert record_hash({**payload, "files": []}) != stored.record_hash


# -- crashes ---------------------------------------------------------------------------------------------------


def child(code: str, *args: str) -> subprocess.Popen[bytes]:
    """A Python process running code from this module, in the repository, with its own process group."""
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the child and everything in its process group, if anything is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def noisy_png(width: int = 640, height: int = 480) -> bytes:
    """A screenshot-sized PNG that does not compress away, so writing it takes a while."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(buffer, format="PNG")
    return buffer.getvalue()


def keep_forever(data_dir: str, ready: str) -> None:
    """Child process: store attempts (evidence files, then the row) in a loop until killed; touch ready after one."""
    from monitor.browser import Browser
    from monitor.runner import Checker, HostGate

    root = Path(data_dir)
    checker = Checker(
        storage=Storage(root / DATABASE), browser=Browser(), evidence=EvidenceStore(root), gate=HostGate(0)
    )
    observation = Observation(final_url=WATCH.url + "/2", http_status=200, html="<html>no slot</html>")
    verdict = Verdict(status=Status.NO_SLOT, reason="marker")
    capture = Capture(screenshot=noisy_png(), html=observation.html * 2000)
    while True:
        now = datetime.now(UTC)
        checker._keep(WATCH, now, now, observation, verdict, capture)
        Path(ready).touch()


def wait_for(path: Path, process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()[1].decode()
        assert time.monotonic() < deadline, "the child never stored an attempt"
        time.sleep(0.02)


def test_random_kills_while_storing_leave_no_dangling_rows(tmp_path: Path) -> None:
    """SIGKILL at random moments of the storing loop (stamping, file writes and fsyncs, the transaction),
    once the child is in its loop, whatever the machine's load."""
    code = "import sys; from tests.integration.test_crash_safety import keep_forever; keep_forever(*sys.argv[1:])"
    rng = random.Random(20261130)
    data, ready = tmp_path / "data", tmp_path / "ready"
    committed = []
    for _ in range(5):
        ready.unlink(missing_ok=True)
        process = child(code, str(data), str(ready))
        wait_for(ready, process)
        time.sleep(rng.uniform(0.0, 0.8))
        kill_group(process)
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == -signal.SIGKILL, stderr.decode()
        committed.append(assert_no_dangling_rows(data))
    assert committed == sorted(committed)
    assert committed[0] >= 3
    written = [p for p in (data / "evidence").rglob("*") if p.is_file()]
    assert len(written) >= committed[-1]  # killed attempts may leave files, never rows
    storage = Storage(data / DATABASE)
    try:
        assert len(assert_chain(storage, WATCH.id)) * 3 == committed[-1]
    finally:
        storage.close()


def crash_in_transaction(data_dir: str, url: str) -> None:
    """Child process: one real check, killed after its files are on disk and its row is flushed, before commit."""
    from sqlalchemy.orm import Session

    from monitor.browser import Browser
    from monitor.runner import Checker, HostGate

    class Crash:
        def in_transaction(self, session: Session, watch: Watch, result: CheckResult) -> None:
            assert all((Path(data_dir) / f.path).is_file() for f in result.files)
            os.kill(os.getpid(), signal.SIGKILL)

        def committed(self, watch: Watch, result: CheckResult) -> None:
            raise AssertionError("never reached")

    async def run() -> None:
        browser = Browser(timeout_seconds=10)
        await browser.start()
        root = Path(data_dir)
        checker = Checker(
            storage=Storage(root / DATABASE),
            browser=browser,
            evidence=EvidenceStore(root),
            gate=HostGate(0),
            listeners=[Crash()],
        )
        await checker.check(Watch(id="paris-titre", url=url, platform="ezbooking"))

    asyncio.run(run())


@pytest.mark.browser
def test_a_crash_between_files_and_commit_leaves_files_and_no_row(tmp_path: Path) -> None:
    code = (
        "import sys; from tests.integration.test_crash_safety import crash_in_transaction; "
        "crash_in_transaction(sys.argv[1], sys.argv[2])"
    )
    with LocalServer(EzBookingSite(EzState())) as server:
        process = child(code, str(tmp_path), f"{server.base}/booking/create/{FORM_ID}")
        _, stderr = process.communicate(timeout=120)
        kill_group(process)  # whatever the child left behind
    assert process.returncode == -signal.SIGKILL, stderr.decode()
    files = sorted(p.name.split("-", 2)[-1] for p in (tmp_path / "evidence").rglob("*") if p.is_file())
    assert files == ["page.html", "screenshot.png", "stamped.png"]
    assert assert_no_dangling_rows(tmp_path) == 0
    storage = Storage(tmp_path / DATABASE)
    try:
        assert storage.history("paris-titre") == []
        storage.record_check(draft("paris-titre", 1), platform="ezbooking", url=WATCH.url)
        assert assert_chain(storage, "paris-titre")[0].seq == 1  # the next attempt starts the chain cleanly
    finally:
        storage.close()


@pytest.mark.browser
def test_killed_cli_checks_leave_no_dangling_rows(tmp_path: Path) -> None:
    """The real `rdv-monitor check`, killed at random moments (browsing, classifying, storing) or let finish."""
    site = EzBookingSite(EzState(availability="slots"))
    rng = random.Random(7)
    with LocalServer(site) as server:
        config = write_watches(
            tmp_path / "w.yaml",
            {"watches": [{"id": "paris-titre", "url": f"{server.base}/booking/create/{FORM_ID}"}]},
        )
        environ = {k: v for k, v in os.environ.items() if not k.startswith("RDV_MONITOR_")}
        environ |= {"RDV_MONITOR_CONFIG": str(config), "RDV_MONITOR_DATA_DIR": str(tmp_path / "data")}
        environ |= {"RDV_MONITOR_HOST_GAP_SECONDS": "0", "RDV_MONITOR_LOG_LEVEL": "ERROR"}
        script = Path(sys.executable).parent / "rdv-monitor"
        for delay in [rng.uniform(0.5, 3.5) for _ in range(3)] + [None]:
            process = subprocess.Popen(
                [script, "check", "paris-titre", "--json"],
                env=environ,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=delay if delay is not None else 120)
            kill_group(process)
            process.wait(timeout=30)
            if (tmp_path / "data" / DATABASE).exists():
                assert_no_dangling_rows(tmp_path / "data")
    assert process.returncode == 0  # the last one ran to the end
    assert assert_no_dangling_rows(tmp_path / "data") >= 3
