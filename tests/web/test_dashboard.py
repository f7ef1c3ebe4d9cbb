"""A phone-sized headless Chromium drives the dashboard of a live `rdv-monitor run` against local imitations."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from playwright.sync_api import Browser, Page, expect, sync_playwright

from monitor.browser import find_browser
from tests.conftest import write_watches
from tests.sites.ezbooking import EzBookingSite, EzState
from tests.sites.rdv_prefecture import PREFIX, RdvPrefectureSite
from tests.sites.server import LocalServer
from tests.sites.sinks import JsonSink

pytestmark = pytest.mark.browser
TOKEN = "phone-token-123"
PHONE = {"width": 390, "height": 844}
SOON = {"schedule": {"every": "1h", "jitter": "0s"}}  # the first check at once, the next one much later
LISTENING = re.compile(r"dashboard listening on (http://127\.0\.0\.1:\d+)")


def wait_for(condition: Callable[[], Any], seconds: float = 40.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)
    return found


class Live:
    """`rdv-monitor run` in a subprocess; its dashboard URL read from its log (RDV_MONITOR_PORT=0)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as sink:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "monitor.cli", "run"], env=env, stdout=sink, stderr=sink
            )
        self.base = wait_for(self._listening, what="the dashboard to listen")
        self.http = httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)

    def _listening(self) -> str | None:
        if self.proc.poll() is not None:
            raise AssertionError(f"the service exited:\n{self.log.read_text()}")
        match = LISTENING.search(self.log.read_text(errors="replace"))
        return match.group(1) if match else None

    def checks(self, watch: str) -> list[dict[str, Any]]:
        reply = self.http.get(f"/api/watches/{watch}/checks")
        return list(reply.json()) if reply.status_code == 200 else []

    def tasks(self) -> list[dict[str, Any]]:
        return list(self.http.get("/api/assist").json())

    def stop(self) -> None:
        self.http.close()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


@contextmanager
def live(env: dict[str, str], workdir: Path, **settings: str) -> Iterator[Live]:
    environ = {**os.environ, **env, "RDV_MONITOR_TOKEN": TOKEN, "RDV_MONITOR_LOG_LEVEL": "INFO"}
    environ.update({f"RDV_MONITOR_{k.upper()}": v for k, v in settings.items()})
    running = Live(environ, workdir / "service.log")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_browser())
        yield browser
        browser.close()


@pytest.fixture
def phone(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="fr-FR", accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def log_in(page: Page, base: str, path: str = "/") -> None:
    page.goto(base + path)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("input[name=token]", TOKEN)
    page.click("button[type=submit]")
    expect(page).to_have_url(base + path)


def fits_the_phone(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def ezbooking_watch(server: LocalServer, watch_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": watch_id, "url": f"{server.base}/booking/create/989", "options": {"planning": "990"}, **extra}


def test_overview_watch_page_screenshots_and_archive(env: dict[str, str], workdir: Path, phone: Page) -> None:
    with LocalServer(EzBookingSite(EzState())) as server, JsonSink() as sink:
        watches = [ezbooking_watch(server, "paris", label="Paris titre")]
        notify = [{"url": sink.url, "events": ["slots"]}]
        write_watches(workdir / "rdv-monitor.yaml", {"defaults": SOON, "watches": watches, "notify": notify})
        with live(env, workdir) as service:
            wait_for(lambda: service.checks("paris"), what="the first check")
            log_in(phone, service.base)
            card = phone.locator("article.card[data-watch=paris]")
            expect(card).to_contain_text("Paris titre")
            expect(card).to_contain_text("aucun créneau")
            expect(card).to_have_class(re.compile("status-no_slot"))
            assert fits_the_phone(phone)

            card.get_by_role("link", name="Paris titre").click()
            expect(phone.locator("#timeline li")).to_have_count(1)
            thumb = phone.locator("#gallery img").first
            expect(thumb).to_be_visible()
            wait_for(lambda: thumb.evaluate("img => img.complete && img.naturalWidth > 0"), what="the thumbnail")
            assert phone.locator("#grid td.l4").count() == 1  # one attempt: one cell, the busiest
            assert fits_the_phone(phone)

            phone.click("#check-now")
            expect(phone.locator(".flash")).to_contain_text("Vérification demandée")
            wait_for(lambda: len(service.checks("paris")) == 2, what="the check asked from the dashboard")
            phone.reload()
            expect(phone.locator("#timeline li")).to_have_count(2)

            with phone.expect_download() as download:
                phone.click("#export")
            saved = workdir / "archive.zip"
            download.value.save_as(saved)
            with zipfile.ZipFile(saved) as archive:
                names = archive.namelist()
            assert any(n.lower().endswith(".pdf") for n in names)
            assert any(n.lower().endswith(".png") for n in names)

            phone.get_by_role("link", name="Notifications").click()
            phone.get_by_role("button", name="Envoyer un test").click()
            expect(phone.locator(".test-result")).to_contain_text("Test envoyé")
            assert len(sink.messages) == 1


def test_add_a_watch_by_pasting_its_url(env: dict[str, str], workdir: Path, phone: Page) -> None:
    desks = {"990": "Remise de titre de séjour", "991": "Première demande de titre"}
    with LocalServer(EzBookingSite(EzState(guichets=desks))) as server:
        path = write_watches(workdir / "rdv-monitor.yaml", {"defaults": SOON, "watches": []})
        path.write_text("# my watches, written by hand\n" + path.read_text(), encoding="utf-8")
        with live(env, workdir) as service:
            log_in(phone, service.base, "/watches/new")
            phone.fill("input[name=url]", f"{server.base}/booking/create/989")
            phone.click("#inspect")
            expect(phone.get_by_label("Première demande de titre")).to_be_visible()
            expect(phone.locator("input[name=id]")).to_have_value("127-989")
            phone.fill("input[name=id]", "lyon-premiere")
            phone.fill("input[name=label]", "Première demande, Lyon")
            phone.get_by_label("Première demande de titre").check()
            assert fits_the_phone(phone)
            phone.click("#save")
            expect(phone).to_have_url(f"{service.base}/watches/lyon-premiere?msg=added")
            expect(phone.locator(".flash")).to_contain_text("Démarche ajoutée")

            text = path.read_text(encoding="utf-8")
            assert text.startswith("# my watches, written by hand")  # the person's comments survive
            entry = yaml.safe_load(text)["watches"][0]
            assert entry["id"] == "lyon-premiere"
            assert entry["options"] == {"planning": "991"}
            assert entry["platform"] == "ezbooking"
            assert list((workdir / "data" / "backups").glob("rdv-monitor.*.yaml"))
            found = wait_for(lambda: service.checks("lyon-premiere"), what="the new watch's first check")
            assert found[0]["status"] == "no_slot"
            assert not server.site.hits(f"{server.site.prefix}/5/")  # listing the desks never chose a slot


def answer_on_phone(page: Page, answer: str) -> None:
    field = page.locator("input[name=answer]").first
    expect(field).to_be_visible()
    field.fill(answer)
    page.click(".task button[type=submit]")


def test_assisted_captcha_wrong_then_right_then_expired(env: dict[str, str], workdir: Path, phone: Page) -> None:
    site = RdvPrefectureSite()
    with LocalServer(site) as server, JsonSink() as sink:
        entry = {"id": "nanterre", "url": f"{server.base}{PREFIX}/", "assist": True}
        notify = [{"url": sink.url, "events": ["captcha"]}]
        write_watches(workdir / "rdv-monitor.yaml", {"defaults": SOON, "watches": [entry], "notify": notify})
        with live(env, workdir, assist_timeout_seconds="12") as service:
            first = wait_for(service.tasks, what="a captcha task")[0]
            assert first["watch"] == "nanterre"
            assert first["image"].startswith("data:image/png;base64,")
            notice = wait_for(lambda: sink.messages, what="the captcha notification")[0]
            assert notice["title"] == "Captcha à résoudre : nanterre"
            link = f"{service.base}/assist/{first['id']}"
            assert link in notice["message"]
            log_in(phone, service.base, f"/assist/{first['id']}")  # the link in the notification
            expect(phone.locator("img.captcha")).to_have_attribute("src", first["image"])
            assert fits_the_phone(phone)

            answer_on_phone(phone, "WRONG")
            expect(phone.locator(".task")).to_contain_text("Nouvel essai", timeout=20_000)
            second = service.tasks()[0]
            assert second["id"] != first["id"]
            assert second["attempt"] == 2

            answer_on_phone(phone, site.expected_answer())
            expect(phone.locator(".flash")).to_contain_text("Réponse transmise")
            checks = wait_for(lambda: service.checks("nanterre"), what="the assisted attempt")
            assert checks[0]["status"] == "no_slot"
            assert "creneau" in checks[0]["final_url"]
            assert {f["kind"] for f in checks[0]["files"]} >= {"stamped", "captcha"}
            assert len(set(site.sessions_seen(PREFIX))) <= 2  # one browser session (first hit has no cookie yet)

            service.http.post("/api/watches/nanterre/check")
            expiring = wait_for(service.tasks, what="a new captcha task")[0]
            wait_for(lambda: len(service.checks("nanterre")) == 2, seconds=40, what="the expired task's attempt")
            assert service.checks("nanterre")[0]["status"] == "captcha"
            assert expiring["id"] not in [t["id"] for t in service.tasks()]
