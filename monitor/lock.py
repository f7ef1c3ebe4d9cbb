"""One service per data directory: an exclusive lock file, released by the kernel if the process dies."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from monitor.errors import UserError

LOCK_NAME = "rdv-monitor.lock"


@contextmanager
def exclusive(data_dir: Path) -> Iterator[None]:
    """Hold the data directory's lock (with our pid in it), or fail with one line naming the holder."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise UserError(f"{data_dir / LOCK_NAME}: cannot open the lock file: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        holder = holder_pid(data_dir)
        who = f" (pid {holder})" if holder else ""
        raise UserError(f"{data_dir}: another rdv-monitor run{who} already uses this data directory") from None
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.ftruncate(fd, 0)
        os.close(fd)  # closing releases the lock


def holder_pid(data_dir: Path) -> int | None:
    """The pid written by the process holding the lock, when that process is alive (for `status`)."""
    try:
        text = (data_dir / LOCK_NAME).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not text.isdigit():
        return None
    pid = int(text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return pid if _is_ours(pid) else None


def _is_ours(pid: int) -> bool:
    """Whether pid still runs rdv-monitor (after a SIGKILL the file keeps a pid the system may reuse)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:
        return True  # no /proc to ask (not Linux): trust the live pid
    args = command.split(b"\0")
    return any(os.path.basename(arg) == b"rdv-monitor" for arg in args) or b"monitor.cli" in args
