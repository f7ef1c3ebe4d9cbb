"""`rdv-monitor check` end to end: real headless Chromium against the local ezbooking imitation, every state.

A few states go through the real console script (one browser launch each); the others run in-process through
one warm Browser and the real Checker, the path the service uses. Each asserts the status, the reason, and
that the evidence files exist with the hashes given in the JSON and kept in the database.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import pytest_asyncio
from PIL import Image

from monitor.browser import Browser
from monitor.domain import CheckResult, Status, Watch
from monitor.evidence import EvidenceStore
from monitor.runner import Checker, HostGate
from monitor.storage import Storage
from tests.conftest import write_watches
from tests.sites.ezbooking import FORM_ID, EzBookingSite, EzState
from tests.sites.server import LocalServer

pytestmark = pytest.mark.browser
in_module_loop = pytest.mark.asyncio(loop_scope="module")
SCRIPT = Path(sys.executable).parent / "rdv-monitor"
WATCH_ID = "paris-remise-titre"
LABEL = "Remise de titre de séjour, Paris"
PREFIX = f"/booking/create/{FORM_ID}"


@pytest.fixture
def serve() -> Iterator[Any]:
    """Start imitation sites for this test: serve(state) -> (site, booking URL)."""
    with ExitStack() as stack:

        def start(state: EzState) -> tuple[EzBookingSite, str]:
            site = EzBookingSite(state)
            server = stack.enter_context(LocalServer(site))
            return site, f"{server.base}/booking/create/{FORM_ID}"

        yield start


# -- evidence checks shared by every state ---------------------------------------------------------------------


def png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG"
    return image


def assert_evidence(files: list[dict[str, Any]], data_dir: Path, stored: CheckResult, page_marker: str | None) -> None:
    """Files listed exist with these hashes, match the database row; stamped is taller; the HTML is the page."""
    assert [f["kind"] for f in files] == ["screenshot", "stamped", "html"]
    content = {}
    for f in files:
        path = Path(f["path"]) if Path(f["path"]).is_absolute() else data_dir / f["path"]
        content[f["kind"]] = path.read_bytes()
        assert sha256(content[f["kind"]]).hexdigest() == f["sha256"]
        assert len(content[f["kind"]]) == f["size"]
    assert [(f.kind, f.path, f.sha256, f.size) for f in stored.files] == [
        (f["kind"], f["path"], f["sha256"], f["size"]) for f in files
    ]
    raw, stamped = png(content["screenshot"]), png(content["stamped"])
    assert stamped.width == raw.width
    assert stamped.height > raw.height
    if page_marker is not None:
        assert page_marker in content["html"].decode("utf-8")


def assert_result_shape(data: dict[str, Any]) -> None:
    checked = datetime.fromisoformat(data["checked_at"])
    assert checked.utcoffset() is not None
    assert abs((datetime.now(UTC) - checked).total_seconds()) < 600
    assert data["watch"] == WATCH_ID
    assert data["status"] in {s.value for s in Status}
    assert isinstance(data["slots"], list)
    assert {"rdv_monitor", "playwright", "chromium", "python"} <= set(data["versions"])
    assert data["versions"]["chromium"]


# -- through the real console script ----------------------------------------------------------------------------


def cli_check(workdir: Path, url: str, *, options: dict[str, str] | None = None, **env: str) -> dict[str, Any]:
    """`rdv-monitor check WATCH --json` in its own process; exit code 0 whatever the status; one JSON object."""
    config = write_watches(
        workdir / "rdv-monitor.yaml", {"watches": [{"id": WATCH_ID, "label": LABEL, "url": url, **(options or {})}]}
    )
    environ = {**os.environ, "RDV_MONITOR_CONFIG": str(config), "RDV_MONITOR_DATA_DIR": str(workdir / "data"), **env}
    done = subprocess.run(
        [SCRIPT, "check", WATCH_ID, "--json"], env=environ, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    assert_result_shape(data)
    return data


def cli_history(run_cli: Any) -> list[dict[str, Any]]:
    result = run_cli("history", WATCH_ID, "--json")
    assert result.code == 0
    history: list[dict[str, Any]] = json.loads(result.out)
    return history


def stored(workdir: Path) -> CheckResult:
    storage = Storage(workdir / "data" / "rdv-monitor.sqlite3")
    try:
        (only,) = storage.history(WATCH_ID)
        return only
    finally:
        storage.close()


def test_two_separate_check_commands_keep_the_host_gap(serve: Any, env: dict[str, str], workdir: Path) -> None:
    """The gap between two checks of one host holds across processes (a manual check beside the service)."""
    site, url = serve(EzState())
    first = cli_check(workdir, url, RDV_MONITOR_HOST_GAP_SECONDS="3")
    second = cli_check(workdir, url, RDV_MONITOR_HOST_GAP_SECONDS="3")
    gap = datetime.fromisoformat(second["started_at"]) - datetime.fromisoformat(first["started_at"])
    assert gap.total_seconds() >= 3
    assert len(site.hits(PREFIX)) >= 2


def test_no_slot_behind_a_cookie_banner(serve: Any, env: dict[str, str], workdir: Path, run_cli: Any) -> None:
    site, url = serve(EzState(availability="none", cookie_banner=True))
    data = cli_check(workdir, url)
    assert data["status"] == "no_slot"
    assert "Il n'existe plus de plage horaire libre" in data["reason"]
    assert data["final_url"] == url + "/2"
    assert (data["http_status"], data["slots"]) == (200, [])
    assert_evidence(data["files"], workdir / "data", stored(workdir), "Vérification de disponibilité")
    (history,) = cli_history(run_cli)
    assert {k: history[k] for k in ("status", "reason", "checked_at", "files", "record_hash")} == {
        k: data[k] for k in ("status", "reason", "checked_at", "files", "record_hash")
    }
    posted = [r for r in site.hits(PREFIX) if r.method == "POST"]
    assert posted[0].form == {"condition": "on", "nextButton": "Effectuer une demande de rendez-vous"}
    assert site.hits(PREFIX + "/1") == []  # a single guichet: no choice page
    assert site.state.chosen == ["990"]


def test_slots_are_read_never_taken(serve: Any, env: dict[str, str], workdir: Path, run_cli: Any) -> None:
    site, url = serve(EzState(availability="slots"))
    data = cli_check(workdir, url)
    assert data["status"] == "slots_available"
    assert data["final_url"] == url + "/4"
    assert [datetime.fromisoformat(s).timestamp() for s in data["slots"]] == sorted(site.state.slots)
    assert site.hits(PREFIX + "/5") == []  # never a click on a slot
    assert site.hits(PREFIX + "/6") == []
    assert site.hits(PREFIX + "/3")  # went through "Descriptif"
    assert_evidence(data["files"], workdir / "data", stored(workdir), f"/booking/create/{FORM_ID}/5/")
    assert cli_history(run_cli)[0]["slots"] == data["slots"]


def test_a_server_that_never_answers_is_an_error_within_the_timeouts(
    serve: Any, env: dict[str, str], workdir: Path
) -> None:
    _, url = serve(EzState(failure="hang", hang_seconds=60))
    data = cli_check(workdir, url, RDV_MONITOR_PAGE_TIMEOUT_SECONDS="2", RDV_MONITOR_CHECK_TIMEOUT_SECONDS="10")
    assert data["status"] == "error"
    assert "navigation failed" in data["reason"]
    assert data["http_status"] is None
    started, checked = (datetime.fromisoformat(data[k]) for k in ("started_at", "checked_at"))
    assert (checked - started).total_seconds() < 30  # bounded by the timeouts, not by the server
    assert_evidence(data["files"], workdir / "data", stored(workdir), None)


# -- in-process, one warm browser -------------------------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser() -> AsyncIterator[Browser]:
    shared = Browser(timeout_seconds=5)
    await shared.start()
    yield shared
    await shared.close()


@pytest.fixture
def storage(workdir: Path) -> Iterator[Storage]:
    opened = Storage(workdir / "data" / "rdv-monitor.sqlite3")
    yield opened
    opened.close()


def checker(browser: Browser, storage: Storage, workdir: Path) -> Checker:
    return Checker(
        storage=storage,
        browser=browser,
        evidence=EvidenceStore(workdir / "data"),
        gate=HostGate(0),
        timeout_seconds=20,
    )


async def check(
    browser: Browser, storage: Storage, workdir: Path, url: str, page_marker: str | None, **options: str
) -> CheckResult:
    watch = Watch(id=WATCH_ID, url=url, platform="ezbooking", label=LABEL, options=MappingProxyType(options))
    result = await checker(browser, storage, workdir).check(watch)
    files = [{"kind": f.kind, "path": f.path, "sha256": f.sha256, "size": f.size} for f in result.files]
    assert_result_shape(result.to_json())
    assert_evidence(files, workdir / "data", storage.history(WATCH_ID)[0], page_marker)
    return result


GUICHETS = {"990": "Remise de titre de séjour", "991": "Première demande", "992": "Duplicata"}


@in_module_loop
async def test_several_guichets_without_planning_list_the_choices(
    browser: Browser, storage: Storage, workdir: Path, serve: Any
) -> None:
    site, url = serve(EzState(guichets=GUICHETS))
    result = await check(browser, storage, workdir, url, None)
    assert result.status is Status.UNKNOWN
    assert result.final_url == url + "/1"
    for planning, label in GUICHETS.items():
        assert f"{planning} = {label}" in result.reason
    assert result.details["choices"] == [{"id": k, "label": v} for k, v in GUICHETS.items()]
    assert site.state.chosen == []


@in_module_loop
async def test_the_configured_planning_is_chosen(browser: Browser, storage: Storage, workdir: Path, serve: Any) -> None:
    site, url = serve(EzState(guichets=GUICHETS, availability="slots"))
    result = await check(browser, storage, workdir, url, "libre", planning="991")
    assert result.status is Status.SLOTS_AVAILABLE
    assert site.state.chosen == ["991"]
    assert [r.path for r in site.hits("/ezjscore/")] == [
        f"/ezjscore/call/bookingserver::planning::assign::{FORM_ID}::991::0"
    ]
    assert [s.timestamp() for s in result.slots] == sorted(site.state.slots)
    assert site.hits(PREFIX + "/5") == []


@in_module_loop
async def test_a_guichet_id_with_quotes_is_chosen_like_any_other(
    browser: Browser, storage: Storage, workdir: Path, serve: Any
) -> None:
    odd = {"99'1": "Guichet d'accueil", "990": "Autre"}
    site, url = serve(EzState(guichets=odd))
    result = await check(browser, storage, workdir, url, None, planning="99'1")
    assert result.status is Status.NO_SLOT
    assert site.state.chosen == ["99'1"]


@in_module_loop
async def test_a_configured_planning_that_is_not_offered_is_unknown(
    browser: Browser, storage: Storage, workdir: Path, serve: Any
) -> None:
    site, url = serve(EzState(guichets=GUICHETS))
    result = await check(browser, storage, workdir, url, "Choix de la nature du rendez-vous", planning="999")
    assert result.status is Status.UNKNOWN
    assert result.reason.startswith("configured guichet '999' is not offered; choices: 990 = Remise de titre")
    assert site.state.chosen == []


@in_module_loop
async def test_the_configured_planning_also_works_with_no_slot(
    browser: Browser, storage: Storage, workdir: Path, serve: Any
) -> None:
    site, url = serve(EzState(guichets=GUICHETS, cookie_banner=False))
    result = await check(browser, storage, workdir, url, "Vérification de disponibilité", planning="992")
    assert (result.status, result.final_url) == (Status.NO_SLOT, url + "/2")
    assert site.state.chosen == ["992"]


@in_module_loop
async def test_a_403_is_blocked(browser: Browser, storage: Storage, workdir: Path, serve: Any) -> None:
    _, url = serve(EzState(failure="403"))
    result = await check(browser, storage, workdir, url, "403 Forbidden")
    assert (result.status, result.http_status) == (Status.BLOCKED, 403)
    assert result.reason == "HTTP 403 from the server"


@in_module_loop
async def test_a_429_is_blocked_with_retry_after(browser: Browser, storage: Storage, workdir: Path, serve: Any) -> None:
    _, url = serve(EzState(failure="429"))
    result = await check(browser, storage, workdir, url, "Too Many Requests")
    assert (result.status, result.http_status) == (Status.BLOCKED, 429)
    assert result.details["retry_after"] == 120
    assert storage.history(WATCH_ID)[0].details["retry_after"] == 120


@in_module_loop
async def test_a_502_is_an_error(browser: Browser, storage: Storage, workdir: Path, serve: Any) -> None:
    _, url = serve(EzState(failure="502"))
    result = await check(browser, storage, workdir, url, "502 Bad Gateway")
    assert (result.status, result.http_status) == (Status.ERROR, 502)
    assert result.reason == "HTTP 502 (502 bad gateway)"


@in_module_loop
async def test_a_502_after_the_conditions_is_an_error(
    browser: Browser, storage: Storage, workdir: Path, serve: Any
) -> None:
    site, url = serve(EzState(failure="502", failure_from=2))
    result = await check(browser, storage, workdir, url, "502 Bad Gateway")
    assert (result.status, result.http_status, result.final_url) == (Status.ERROR, 502, url + "/2")
    assert site.hits(PREFIX)[0].method == "GET"


@in_module_loop
async def test_a_changed_layout_is_unknown(browser: Browser, storage: Storage, workdir: Path, serve: Any) -> None:
    _, url = serve(EzState(failure="changed"))
    result = await check(browser, storage, workdir, url, "Le service de prise de rendez-vous évolue")
    assert (result.status, result.http_status) == (Status.UNKNOWN, 200)
    assert result.reason == "no known marker on the page"


@in_module_loop
async def test_an_unreachable_server_is_an_error(browser: Browser, storage: Storage, workdir: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    result = await check(browser, storage, workdir, f"http://127.0.0.1:{port}{PREFIX}", None)
    assert result.status is Status.ERROR
    assert "ERR_CONNECTION_REFUSED" in result.reason


@in_module_loop
async def test_a_context_is_french_in_paris_time(browser: Browser) -> None:
    async with browser.context() as context:
        page = await context.new_page()
        found = await page.evaluate("[Intl.DateTimeFormat().resolvedOptions().timeZone, navigator.language]")
        assert found == ["Europe/Paris", "fr-FR"]
        assert await context.cookies() == []


@in_module_loop
async def test_each_check_gets_a_fresh_profile_and_history_is_newest_first(
    browser: Browser, storage: Storage, workdir: Path, serve: Any, env: dict[str, str], run_cli: Any
) -> None:
    site, url = serve(EzState())
    first = await check(browser, storage, workdir, url, None)
    site.state.failure, site.state.failure_from = "502", 2
    second = await check(browser, storage, workdir, url, "502 Bad Gateway")
    assert (first.status, second.status) == (Status.NO_SLOT, Status.ERROR)
    starts = [r for r in site.hits(PREFIX) if r.path == PREFIX and r.method == "GET"]
    assert [r.cookies for r in starts] == [{}, {}]  # no eZSESSID carried over from the first check
    assert starts[0].headers["accept-language"].startswith("fr-FR")
    assert (second.seq, second.prev_hash) == (2, first.record_hash)
    write_watches(Path(env["RDV_MONITOR_CONFIG"]), {"watches": [{"id": WATCH_ID, "url": url}]})
    history = cli_history(run_cli)
    assert [(h["seq"], h["status"], h["record_hash"]) for h in history] == [
        (2, "error", second.record_hash),
        (1, "no_slot", first.record_hash),
    ]
    text = run_cli("history", WATCH_ID)
    assert [line.split()[2] for line in text.out.splitlines()] == ["error", "no_slot"]


def test_a_missing_forced_browser_is_one_line(
    serve: Any, env: dict[str, str], workdir: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    site, url = serve(EzState())
    write_watches(Path(env["RDV_MONITOR_CONFIG"]), {"watches": [{"id": WATCH_ID, "url": url}]})
    monkeypatch.setenv("RDV_MONITOR_BROWSER_PATH", str(workdir / "no-chromium"))
    result = run_cli("check", WATCH_ID, "--json")
    assert result.code == 2
    assert result.err_lines == [f"rdv-monitor: RDV_MONITOR_BROWSER_PATH: no such file: {workdir / 'no-chromium'}"]
    assert site.hits() == []


def test_a_forced_browser_that_is_not_chromium_is_one_line(
    serve: Any, env: dict[str, str], workdir: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    site, url = serve(EzState())
    write_watches(Path(env["RDV_MONITOR_CONFIG"]), {"watches": [{"id": WATCH_ID, "url": url}]})
    fake = workdir / "not-chromium"
    fake.write_text("not a program\n", encoding="utf-8")  # a file, but no browser: it was a Playwright traceback
    monkeypatch.setenv("RDV_MONITOR_BROWSER_PATH", str(fake))
    result = run_cli("check", WATCH_ID, "--json")
    assert result.code == 2
    assert len(result.err_lines) == 1
    assert result.err_lines[0].startswith(f"rdv-monitor: RDV_MONITOR_BROWSER_PATH: cannot launch {fake} as Chromium: ")
    assert site.hits() == []
