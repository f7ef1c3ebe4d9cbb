"""The JSON API and the pages over HTTP (TestClient), with the real Storage: auth, traversal, bad bodies, CSRF."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from monitor.evidence import sha256_file
from tests.web.conftest import TOKEN, Web

BEARER = {"Authorization": f"Bearer {TOKEN}"}


def login(web: Web) -> str:
    """Log in through the form; returns the CSRF token of the session."""
    reply = web.client.post("/login", data={"token": TOKEN, "next": "/"}, follow_redirects=False)
    assert reply.status_code == 303
    page = web.client.get("/")
    match = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert match
    return match.group(1)


def test_healthz_needs_no_token(web: Web) -> None:
    reply = web.client.get("/healthz")
    assert reply.status_code == 200
    assert reply.json() == {"status": "ok"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}])
def test_api_refuses_without_the_token(web: Web, headers: dict[str, str]) -> None:
    reply = web.client.get("/api/watches", headers=headers)
    assert reply.status_code == 401
    assert reply.headers["www-authenticate"] == "Bearer"


def test_api_watches_with_bearer(web: Web) -> None:
    reply = web.client.get("/api/watches", headers=BEARER)
    assert reply.status_code == 200
    rows = {row["id"]: row for row in reply.json()}
    assert set(rows) == {"paris", "lyon"}
    assert rows["paris"]["status"] == "captcha"
    assert rows["paris"]["title"] == "Paris titre"
    assert rows["lyon"]["status"] is None
    assert rows["paris"]["next_check"].startswith("2026-11-02T09:00")


def test_checks_newest_first_with_file_urls(web: Web) -> None:
    reply = web.client.get("/api/watches/paris/checks", headers=BEARER)
    assert reply.status_code == 200
    found = reply.json()
    assert [c["status"] for c in found] == ["captcha", "slots_available", "error", "no_slot", "no_slot"]
    first = found[0]["files"][0]
    assert first["url"] == "/files/" + first["path"]
    assert found[0]["record_hash"] == web.checks[-1].record_hash


def test_checks_filters(web: Web) -> None:
    by_status = web.client.get("/api/watches/paris/checks?status=no_slot&status=error", headers=BEARER).json()
    assert [c["status"] for c in by_status] == ["error", "no_slot", "no_slot"]
    # Attempts at 08:00, 15:00, 22:00 UTC on 2 Nov (Paris is UTC+1), then 05:00 and 12:00 on 3 Nov.
    one_day = web.client.get("/api/watches/paris/checks?from=2026-11-02&to=2026-11-02", headers=BEARER).json()
    assert len(one_day) == 3
    later = web.client.get("/api/watches/paris/checks?from=2026-11-03", headers=BEARER).json()
    assert [c["status"] for c in later] == ["captcha", "slots_available"]
    page = web.client.get("/api/watches/paris/checks?limit=2&offset=1", headers=BEARER).json()
    assert [c["status"] for c in page] == ["slots_available", "error"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=nope", "status"),
        ("from=2026-13-01", "from"),
        ("from=2026-11-05&to=2026-11-01", "to"),
        ("limit=100000", "limit"),
        ("offset=-1", "offset"),
    ],
)
def test_checks_bad_parameters_are_clear_422(web: Web, query: str, field: str) -> None:
    reply = web.client.get(f"/api/watches/paris/checks?{query}", headers=BEARER)
    assert reply.status_code == 422
    assert reply.json()["detail"].startswith(f"{field}")


def test_unknown_watch_is_404(web: Web) -> None:
    reply = web.client.get("/api/watches/nope/checks", headers=BEARER)
    assert reply.status_code == 404
    assert "nope" in reply.json()["detail"]


def test_openapi_documents_the_contract(web: Web) -> None:
    assert web.client.get("/openapi.json").status_code == 401
    paths = web.client.get("/openapi.json", headers=BEARER).json()["paths"]
    for path in (
        "/healthz",
        "/api/watches",
        "/api/watches/{watch_id}/checks",
        "/api/watches/{watch_id}/export",
        "/api/assist",
        "/api/assist/{task_id}",
    ):
        assert path in paths, path
    assert "requestBody" in paths["/api/assist/{task_id}"]["post"]


def test_pages_send_people_to_the_login_form(web: Web) -> None:
    reply = web.client.get("/watches/paris?from=2026-11-01", follow_redirects=False)
    assert reply.status_code == 303
    assert reply.headers["location"] == "/login?next=/watches/paris%3Ffrom%3D2026-11-01"
    assert "rdvm_session" not in reply.headers.get("set-cookie", "")
    form = web.client.get("/login")
    assert form.status_code == 200
    assert "rdvm_session" not in form.headers.get("set-cookie", "")  # the login page itself grants nothing


def test_login_sets_a_locked_down_cookie(web: Web) -> None:
    wrong = web.client.post("/login", data={"token": "nope", "next": "/"}, follow_redirects=False)
    assert wrong.status_code == 401
    right = web.client.post("/login", data={"token": TOKEN, "next": "//evil.example/x"}, follow_redirects=False)
    assert right.status_code == 303
    assert right.headers["location"] == "/"  # never an open redirect
    cookie = right.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" in cookie  # loopback counts as a secure context for browsers
    assert web.client.get("/").status_code == 200


def test_login_attempts_are_rate_limited(web: Web) -> None:
    codes = [web.client.post("/login", data={"token": "x"}).status_code for _ in range(7)]
    assert codes[:5] == [401] * 5
    assert codes[-1] == 429


def test_forms_need_the_csrf_token(web: Web) -> None:
    csrf = login(web)
    forged = web.client.post("/watches/paris/check", data={}, follow_redirects=False)
    assert forged.status_code == 403
    wrong = web.client.post("/watches/paris/check", data={"csrf": "0" * 43}, follow_redirects=False)
    assert wrong.status_code == 403
    assert web.service.asked == []
    good = web.client.post("/watches/paris/check", data={"csrf": csrf}, follow_redirects=False)
    assert good.status_code == 303
    assert good.headers["location"] == "/watches/paris?msg=queued"


def test_cookie_api_writes_need_the_csrf_header(web: Web) -> None:
    csrf = login(web)
    bare = web.client.post("/api/watches/paris/check")
    assert bare.status_code == 403
    good = web.client.post("/api/watches/paris/check", headers={"X-CSRF-Token": csrf})
    assert good.status_code == 202


@pytest.mark.parametrize(
    "path",
    [
        "/files/evidence/../rdv-monitor.sqlite3",
        "/files/evidence/%2e%2e/rdv-monitor.sqlite3",
        "/files/evidence/paris/..%2F..%2Frdv-monitor.sqlite3",
        "/files/%2Fetc%2Fpasswd",
        "/files//etc/passwd",
        "/files/rdv-monitor.sqlite3",
        "/files/evidence/paris/.hidden.png",
        "/files/evidence/paris/unrecorded.png",
        "/thumbs/evidence/../rdv-monitor.sqlite3",
        "/files/evidence/paris/link.png",
    ],
)
def test_no_path_traversal(web: Web, path: str) -> None:
    data = web.ctx.settings.data_dir
    (data / "evidence" / "paris").mkdir(parents=True, exist_ok=True)
    (data / "evidence" / "paris" / "unrecorded.png").write_bytes(b"not recorded")
    (data / "evidence" / "paris" / "link.png").symlink_to(data / "rdv-monitor.sqlite3")
    reply = web.client.get(path, headers=BEARER)
    assert reply.status_code == 404
    assert b"SQLite" not in reply.content


def test_evidence_is_served_read_only_with_its_hash(web: Web) -> None:
    stamped = next(f for f in web.checks[0].files if f.kind == "stamped")
    full = web.ctx.settings.data_dir / stamped.path
    reply = web.client.get(f"/files/{stamped.path}", headers=BEARER)
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "image/png"
    assert reply.headers["x-evidence-sha256"] == stamped.sha256 == sha256_file(full)
    html = next(f for f in web.checks[0].files if f.kind == "html")
    page = web.client.get(f"/files/{html.path}", headers=BEARER)
    assert page.headers["content-type"].startswith("text/plain")  # someone else's HTML never renders here
    assert "sandbox" in page.headers["content-security-policy"]
    assert page.headers["content-disposition"].startswith("attachment")


def test_thumbnails_leave_evidence_untouched(web: Web) -> None:
    stamped = next(f for f in web.checks[0].files if f.kind == "stamped")
    evidence = web.ctx.settings.evidence_dir
    before = {p: sha256_file(p) for p in evidence.rglob("*") if p.is_file()}
    reply = web.client.get(f"/thumbs/{stamped.path}", headers=BEARER)
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "image/jpeg"
    assert reply.content[:3] == b"\xff\xd8\xff"
    assert {p: sha256_file(p) for p in evidence.rglob("*") if p.is_file()} == before
    assert list((web.ctx.settings.data_dir / "thumbs").glob(f"{stamped.sha256}-*.jpg"))
    html = next(f for f in web.checks[0].files if f.kind == "html")
    assert web.client.get(f"/thumbs/{html.path}", headers=BEARER).status_code == 404


def test_security_headers_everywhere(web: Web) -> None:
    for path in ("/healthz", "/login", "/static/style.css", "/api/watches", "/nope"):
        headers = web.client.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "no-referrer", path


def test_without_a_token_only_loopback_hosts_are_served(open_web: Web) -> None:
    assert open_web.client.get("/api/watches").status_code == 200
    rebound = open_web.client.get("/api/watches", headers={"Host": "attacker.example:8080"})
    assert rebound.status_code == 421


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://attacker.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}],
)
def test_without_a_token_another_site_cannot_trigger_a_check(open_web: Web, headers: dict[str, str]) -> None:
    """A bodiless POST needs no preflight: any page the person visits could queue checks on loopback."""
    reply = open_web.client.post("/api/watches/paris/check", headers=headers)
    assert reply.status_code == 403
    assert open_web.client.post("/api/watches/paris/check", headers={"Origin": "https://127.0.0.1"}).status_code == 202
    assert open_web.client.post("/api/watches/paris/check").status_code == 202  # curl, scripts


def test_without_a_token_json_is_required_on_assist(open_web: Web) -> None:
    # A cross-site page can post a form or text/plain without a preflight, never application/json.
    reply = open_web.client.post("/api/assist/abc", content='{"answer": "X"}', headers={"Content-Type": "text/plain"})
    assert reply.status_code == 415


def offer(web: Web, loop: asyncio.AbstractEventLoop) -> tuple[str, object]:
    watch = web.ctx.catalog.current.watch("paris")
    assert web.ctx.broker is not None
    waiting = asyncio.run_coroutine_threadsafe(web.ctx.broker.ask(watch, b"\x89PNG fake"), loop)
    for _ in range(100):
        tasks = web.client.get("/api/assist", headers=BEARER).json()
        if tasks:
            return tasks[0]["id"], waiting
        asyncio.run(asyncio.sleep(0.01))
    raise AssertionError("no task offered")


def test_assist_task_answered_through_the_api(web: Web, loop: asyncio.AbstractEventLoop) -> None:
    task_id, waiting = offer(web, loop)
    task = web.client.get("/api/assist", headers=BEARER).json()[0]
    assert task["watch"] == "paris"
    assert task["image"].startswith("data:image/png;base64,")
    assert task["expires_at"]
    reply = web.client.post(f"/api/assist/{task_id}", json={"answer": " AB12 "}, headers=BEARER)
    assert reply.status_code == 202
    assert waiting.result(5) == "AB12"  # type: ignore[attr-defined]
    assert web.client.get("/api/assist", headers=BEARER).json() == []
    again = web.client.post(f"/api/assist/{task_id}", json={"answer": "AB12"}, headers=BEARER)
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ('{"answer": "AB12"}', "text/plain", 415),
        ("answer=AB12", "application/x-www-form-urlencoded", 415),
        ("{not json", "application/json", 422),
        ("[]", "application/json", 422),
        ("{}", "application/json", 422),
        ('{"answer": ""}', "application/json", 422),
        ('{"answer": 12}', "application/json", 422),
        ('{"answer": "AB12", "extra": 1}', "application/json", 422),
        ('{"answer": "' + "A" * 65 + '"}', "application/json", 422),
        ('{"answer": "' + "A" * 70_000 + '"}', "application/json", 413),
    ],
)
def test_bad_answer_bodies_change_nothing(
    web: Web, loop: asyncio.AbstractEventLoop, body: str, content_type: str, status: int
) -> None:
    task_id, waiting = offer(web, loop)
    reply = web.client.post(f"/api/assist/{task_id}", content=body, headers={**BEARER, "Content-Type": content_type})
    assert reply.status_code == status
    assert reply.json()["detail"] if status != 413 else reply.text
    assert [t["id"] for t in web.client.get("/api/assist", headers=BEARER).json()] == [task_id]
    assert not waiting.done()  # type: ignore[attr-defined]
    web.client.post(f"/api/assist/{task_id}", json={"answer": "END"}, headers=BEARER)


def test_unknown_task_is_404(web: Web) -> None:
    reply = web.client.post("/api/assist/nope", json={"answer": "AB12"}, headers=BEARER)
    assert reply.status_code == 404


def test_export_streams_a_zip(web: Web) -> None:
    def fake_export(watch_id: str, target: Path, start: object, end: object) -> None:
        target.write_bytes(b"PK\x05\x06" + b"\0" * 18)

    web.ctx.exporter = fake_export
    reply = web.client.get("/api/watches/paris/export?from=2026-11-01", headers=BEARER)
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/zip"
    assert reply.headers["content-disposition"].startswith('attachment; filename="preuve-paris-')
    assert not list((web.ctx.settings.data_dir / "tmp").iterdir())  # the temporary file is gone once sent


def test_pages_render(web: Web) -> None:
    login(web)
    overview = web.client.get("/")
    assert "Paris titre" in overview.text
    assert "captcha" in overview.text
    page = web.client.get("/watches/paris")
    assert page.status_code == 200
    assert page.text.count('class="shot') == 5
    assert 'id="grid"' in page.text
    filtered = web.client.get("/watches/paris?status=no_slot")
    assert filtered.text.count('class="shot') == 2
    notifications = web.client.get("/notifications")
    assert "json://…" in notifications.text
    assert "127.0.0.1:9/hook" not in notifications.text  # target URLs hold secrets
