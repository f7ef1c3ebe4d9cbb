"""The dashboard's pure and small parts: the captcha broker, the watch-file writer, tokens, limits, the grid."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from monitor.assist import AssistBroker, AssistError, as_data_uri
from monitor.catalog.writer import WatchFileWriter
from monitor.domain import Watch
from monitor.errors import ConfigError
from monitor.web.add import suggest_id, watch_entry
from monitor.web.security import Guard, RateLimiter, is_loopback
from monitor.web.views import grid_levels, week_hour_grid

WATCH = Watch(id="paris", url="https://example.org/booking/create/1", platform="ezbooking", label="Paris")
FILE = """# my watches
settings:
  host_gap_seconds: 20   # be polite
watches:
  - id: paris            # the first one
    url: https://example.org/booking/create/989
    options: {planning: "990"}
"""


async def test_an_answer_reaches_the_waiting_check() -> None:
    broker = AssistBroker(timeout_seconds=5)
    waiting = asyncio.create_task(broker.ask(WATCH, b"\x89PNG..."))
    await asyncio.sleep(0)
    [task] = broker.pending()
    assert task.watch == "paris"
    assert task.image.startswith("data:image/png;base64,")
    broker.answer(task.id, "  k7XQ ")
    assert await waiting == "k7XQ"
    assert broker.pending() == []
    with pytest.raises(AssistError):
        broker.answer(task.id, "again")


async def test_an_unanswered_task_expires() -> None:
    broker = AssistBroker(timeout_seconds=0.05)
    assert await broker.ask(WATCH, "data:image/png;base64,AAAA") is None
    assert broker.pending() == []


async def test_the_task_callback_is_told_and_cannot_break_the_check() -> None:
    seen: list[str] = []

    def announce(task: object) -> None:
        seen.append(getattr(task, "watch", ""))
        raise RuntimeError("notifier down")

    broker = AssistBroker(timeout_seconds=0.05, on_task=announce)
    assert await broker.ask(WATCH, b"GIF89a...") is None
    assert seen == ["paris"]


async def test_bad_answers_are_refused_and_the_task_stays() -> None:
    broker = AssistBroker(timeout_seconds=5)
    waiting = asyncio.create_task(broker.ask(WATCH, b"png"))
    await asyncio.sleep(0)
    [task] = broker.pending()
    for bad in ("", "   ", "x" * 65, "ab\ncd"):
        with pytest.raises(ValueError, match="answer"):
            broker.answer(task.id, bad)
    assert broker.pending() == [task]
    broker.answer(task.id, "ok")
    assert await waiting == "ok"


def test_images_become_data_uris() -> None:
    assert as_data_uri(b"\xff\xd8\xff\xe0").startswith("data:image/jpeg;base64,")
    assert as_data_uri("data:image/gif;base64,R0lG") == "data:image/gif;base64,R0lG"
    with pytest.raises(ValueError, match="data:image"):
        as_data_uri("https://example.org/captcha.png")


def writer(tmp_path: Path, text: str = FILE) -> WatchFileWriter:
    path = tmp_path / "rdv-monitor.yaml"
    path.write_text(text, encoding="utf-8")
    stamp = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    return WatchFileWriter(path, tmp_path / "backups", clock=lambda: stamp)


def test_adding_a_watch_keeps_comments_and_a_backup(tmp_path: Path) -> None:
    files = writer(tmp_path)
    entry = {"id": "lyon", "url": "https://example.org/booking/create/12", "options": {"planning": "7"}, "assist": True}
    catalog = files.add_watch(entry)
    assert [w.id for w in catalog.watches] == ["paris", "lyon"]
    text = files.path.read_text(encoding="utf-8")
    assert "# my watches" in text
    assert "# be polite" in text
    assert "# the first one" in text
    assert yaml.safe_load(text)["watches"][1] == entry
    [backup] = (tmp_path / "backups").iterdir()
    assert backup.name == "rdv-monitor.20261130T080000000000Z.yaml"
    assert backup.read_text(encoding="utf-8") == FILE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backups", "rdv-monitor.yaml"]  # no temp file left


def test_an_empty_flow_list_becomes_a_block_list(tmp_path: Path) -> None:
    files = writer(tmp_path, "# example\nwatches: []\n")
    files.add_watch({"id": "lyon", "url": "https://example.org/booking/create/12"})
    text = files.path.read_text(encoding="utf-8")
    assert "- id: lyon" in text
    assert [w["id"] for w in yaml.safe_load(text)["watches"]] == ["lyon"]


def test_a_private_watch_file_stays_private_and_so_do_its_backups(tmp_path: Path) -> None:
    """The watch file holds Apprise URLs with tokens: adding a watch must not make it world-readable."""
    files = writer(tmp_path)
    files.path.chmod(0o600)
    files.add_watch({"id": "lyon", "url": "https://example.org/booking/create/12"})
    assert files.path.stat().st_mode & 0o777 == 0o600
    [backup] = (tmp_path / "backups").iterdir()
    assert backup.stat().st_mode & 0o777 == 0o600


def test_a_symlinked_watch_file_is_written_through_the_link(tmp_path: Path) -> None:
    real = tmp_path / "conf" / "watches.yaml"
    real.parent.mkdir()
    real.write_text(FILE, encoding="utf-8")
    link = tmp_path / "rdv-monitor.yaml"
    link.symlink_to(real)
    WatchFileWriter(link, tmp_path / "backups").add_watch(
        {"id": "lyon", "url": "https://example.org/booking/create/12"}
    )
    assert link.is_symlink()
    assert "- id: lyon" in real.read_text(encoding="utf-8")
    assert sorted(p.name for p in real.parent.iterdir()) == ["watches.yaml"]  # no temp file left


def test_the_writer_reads_prefecture_entries_from_the_configured_folder(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "13-test.yaml").write_text(
        'department: "13"\nname: Test\ndemarches:\n  - id: guichet\n    label: Guichet\n'
        "    url: https://example.org/booking/create/5\n    platform: ezbooking\n"
        '    options: {planning: "6"}\n    source: a test\n',
        encoding="utf-8",
    )
    path = tmp_path / "rdv-monitor.yaml"
    path.write_text(FILE, encoding="utf-8")
    files = WatchFileWriter(path, tmp_path / "backups", prefectures=folder)
    catalog = files.add_watch({"id": "test", "prefecture": "13-test/guichet"})
    assert [w.url for w in catalog.watches][-1] == "https://example.org/booking/create/5"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"id": "paris", "url": "https://example.org/booking/create/1"}, "already in"),
        ({"id": "Bad Id", "url": "https://example.org/booking/create/1"}, "watches[1].id"),
        ({"id": "lyon", "url": "ftp://example.org/x"}, "watches[1].url"),
        ({"id": "lyon", "url": "https://example.org/booking/create/1", "options": {"nope": 1}}, "options"),
    ],
)
def test_a_bad_watch_never_reaches_the_file(tmp_path: Path, entry: dict[str, object], message: str) -> None:
    files = writer(tmp_path)
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        files.add_watch(entry)
    assert ".check-" not in str(caught.value)  # the error names the real file
    assert files.path.read_text(encoding="utf-8") == FILE
    assert not list((tmp_path / "backups").glob("*.yaml"))


def test_the_form_becomes_a_watch_entry() -> None:
    form = {"id": "lyon", "url": "https://x.org/booking/create/12", "platform": "ezbooking", "label": ""}
    form |= {"choice_option": "planning", "choice": "991", "assist": "on", "options": ""}
    assert watch_entry(form) == {
        "id": "lyon",
        "url": "https://x.org/booking/create/12",
        "platform": "ezbooking",
        "options": {"planning": "991"},
        "assist": True,
    }
    with pytest.raises(ConfigError, match="options"):
        watch_entry({**form, "options": "- a list"})
    assert suggest_id("https://www.seine-saint-denis.gouv.fr/booking/create/16105") == "seine-saint-denis-16105"


def test_sessions_and_csrf_tokens_are_signed() -> None:
    now = [1_000_000.0]
    guard = Guard("tok", clock=lambda: now[0])
    cookie = guard.new_session()
    session = guard.session(cookie)
    assert session is not None
    assert guard.csrf_ok(session, guard.csrf_token(session))
    token = guard.csrf_token(session)
    assert not guard.csrf_ok(session, token[:-1] + ("1" if token.endswith("0") else "0"))
    nonce, expires, signature = cookie.split(".")
    assert guard.session(f"{nonce}.{int(expires) + 999}.{signature}") is None  # extended by hand
    assert Guard("other").session(cookie) is None  # a new token ends every session
    now[0] += 8 * 24 * 3600
    assert guard.session(cookie) is None  # expired
    assert guard.bearer_ok("Bearer tok")
    assert not guard.bearer_ok("Bearer tok2")
    assert not Guard(None).bearer_ok("Bearer ")


def test_rate_limiter_refills() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=2, monotonic=lambda: now[0])
    assert [limiter.allow("a", "post") for _ in range(3)] == [True, True, False]
    assert limiter.allow("b", "post")
    now[0] += 1.0
    assert limiter.allow("a", "post")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_week_hour_grid_in_paris_time() -> None:
    monday = datetime(2026, 11, 30, 7, 30, tzinfo=UTC)  # 08:30 in Paris
    grid = week_hour_grid([monday, monday + timedelta(minutes=10), monday + timedelta(days=6, hours=15)])
    assert grid[0][8] == 2
    assert grid[6][23] == 1
    levels = grid_levels(grid)
    assert levels[0][8] == 4
    assert levels[6][23] == 2
    assert levels[3][3] == 0


def test_run_refuses_a_public_address_without_a_token(env: dict[str, str], workdir: Path) -> None:
    (workdir / "rdv-monitor.yaml").write_text("watches: []\n", encoding="utf-8")
    environ = {**os.environ, **env, "RDV_MONITOR_HOST": "0.0.0.0"}
    done = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "run"], env=environ, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "rdv-monitor: RDV_MONITOR_HOST=0.0.0.0 is reachable from other machines: set RDV_MONITOR_TOKEN "
        "(or listen on 127.0.0.1)"
    ]
