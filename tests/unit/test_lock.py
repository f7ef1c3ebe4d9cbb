"""One service per data directory, and `status` naming the process that holds it (never a stranger)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.errors import UserError
from monitor.lock import LOCK_NAME, exclusive, holder_pid


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A live process that is not rdv-monitor."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


def test_the_holder_is_named_while_it_holds_the_lock(tmp_path: Path) -> None:
    with exclusive(tmp_path), pytest.raises(UserError, match="another rdv-monitor run"), exclusive(tmp_path):
        pass
    assert holder_pid(tmp_path) is None  # released: the file is emptied


def test_a_pid_left_by_a_killed_service_and_reused_by_another_program_is_not_a_holder(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    (tmp_path / LOCK_NAME).write_text(f"{sleeper.pid}\n", encoding="ascii")
    assert holder_pid(tmp_path) is None


def test_a_live_rdv_monitor_process_is_the_holder(tmp_path: Path) -> None:
    code = "import time; print('ready', flush=True); time.sleep(60)"
    process = subprocess.Popen([sys.executable, "-c", code, "rdv-monitor", "run"], stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == b"ready\n"  # exec'd: /proc shows its own command line now
        (tmp_path / LOCK_NAME).write_text(f"{process.pid}\n", encoding="ascii")
        assert holder_pid(tmp_path) == process.pid
    finally:
        process.kill()
        process.wait()
