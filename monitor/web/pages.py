"""Server-rendered pages: overview, a watch, captcha tasks, notification settings, login."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from monitor.domain import Status
from monitor.storage import browse
from monitor.web import views
from monitor.web.api import answer_task, find_watch
from monitor.web.auth import client_of, ensure_session, form_post, page_auth, safe_next, set_session_cookie
from monitor.web.context import WebContext
from monitor.web.files import context
from monitor.web.schemas import period

TEMPLATES = Path(__file__).parent / "templates"
PAGE_SIZE = 50
GALLERY_SIZE = 24
FLASH = {
    "queued": "Vérification demandée : elle partira dès que le site peut être sollicité poliment.",
    "answered": "Réponse transmise. Le résultat apparaîtra dans la chronologie de la démarche.",
    "added": "Démarche ajoutée au fichier de suivi ; la surveillance commence.",
    "expired": "Ce captcha n'attend plus de réponse (expiré ou déjà résolu).",
}
Ctx = Annotated[WebContext, Depends(context)]


def templates() -> Jinja2Templates:
    found = Jinja2Templates(directory=str(TEMPLATES))
    found.env.filters["paris"] = views.paris
    found.env.filters["words"] = views.status_words
    found.env.filters["day"] = views.paris_day
    found.env.globals["days"] = views.DAYS_FR
    return found


def render(
    request: Request, ctx: WebContext, name: str, values: Mapping[str, Any], status: int = 200, *, authed: bool = True
) -> Response:
    """A page with what every page needs: its CSRF token, the nav counts, a flash message.

    Only pages behind page_auth (authed) may start a session: a session cookie is a login.
    """
    response = HTMLResponse("")
    csrf = ctx.guard.csrf_token(ensure_session(request, response, ctx)) if authed else ""
    page = request.app.state.templates.TemplateResponse(
        request,
        name,
        {
            "csrf": csrf,
            "pending_tasks": len(ctx.broker.pending()) if ctx.broker else 0,
            "token_required": ctx.guard.required,
            "flash": FLASH.get(request.query_params.get("msg", "")),
            **values,
        },
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )
    for key, value in response.headers.items():
        if key == "set-cookie":
            page.headers.append(key, value)
    result: Response = page
    return result


def back(path: str, msg: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?msg={msg}", status_code=303)


def router() -> APIRouter:
    pages = APIRouter(dependencies=[Depends(page_auth)], include_in_schema=False)

    @pages.get("/")
    async def overview(request: Request, ctx: Ctx) -> Response:
        rows = await asyncio.to_thread(views.watch_rows, ctx)
        return render(request, ctx, "overview.html", {"rows": rows})

    @pages.get("/watches/{watch_id}")
    async def watch_page(
        request: Request,
        watch_id: str,
        ctx: Ctx,
        status: Annotated[list[Status], Query()] = [],  # noqa: B006 (FastAPI copies defaults)
        start: Annotated[date | None, Query(alias="from")] = None,
        end: Annotated[date | None, Query(alias="to")] = None,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    ) -> Response:
        watch = find_watch(ctx, watch_id)
        low, high = period(start, end)
        where = browse.CheckFilter(watch=watch_id, statuses=frozenset(status), start=low, end=high)
        values = await asyncio.to_thread(watch_values, ctx, where, page)
        filters = {"status": [str(s) for s in status], "from": start, "to": end}
        return render(request, ctx, "watch.html", {"watch": watch, "filters": filters, "page": page, **values})

    @pages.post("/watches/{watch_id}/check", dependencies=[Depends(form_post)])
    async def check_now(watch_id: str, ctx: Ctx) -> Response:
        find_watch(ctx, watch_id)
        ctx.check_soon(watch_id)
        return back(f"/watches/{watch_id}", "queued")

    @pages.get("/assist")
    async def assist(request: Request, ctx: Ctx) -> Response:
        return render(request, ctx, "assist.html", {"tasks": ctx.broker.pending() if ctx.broker else []})

    @pages.get("/assist/{task_id}")
    async def assist_one(request: Request, task_id: str, ctx: Ctx) -> Response:
        tasks = [t for t in (ctx.broker.pending() if ctx.broker else []) if t.id == task_id]
        return render(request, ctx, "assist.html", {"tasks": tasks, "single": True})

    @pages.post("/assist/{task_id}", dependencies=[Depends(form_post)])
    async def assist_answer(task_id: str, ctx: Ctx, answer: Annotated[str, Form(max_length=200)]) -> Response:
        try:
            answer_task(ctx, task_id, answer)
        except HTTPException as exc:
            if exc.status_code == 404:
                return back("/assist", "expired")
            raise
        return back("/assist", "answered")

    @pages.get("/notifications")
    async def notifications(request: Request, ctx: Ctx) -> Response:
        pending = await asyncio.to_thread(browse.undelivered_notifications, ctx.storage)
        targets = [target_view(i, spec) for i, spec in enumerate(ctx.catalog.current.notify)]
        values = {"targets": targets, "pending": sum(pending.values()), "can_test": ctx.notify_tester is not None}
        return render(request, ctx, "notifications.html", {**values, "result": None})

    @pages.post("/notifications/{index}/test", dependencies=[Depends(form_post)])
    async def send_test(request: Request, index: int, ctx: Ctx) -> Response:
        specs = ctx.catalog.current.notify
        if not 0 <= index < len(specs) or ctx.notify_tester is None:
            raise HTTPException(404, "no such notification target")
        result = await ctx.notify_tester(index)
        targets = [target_view(i, spec) for i, spec in enumerate(specs)]
        values = {"targets": targets, "pending": 0, "can_test": True, "result": (index, result)}
        return render(request, ctx, "notifications.html", values)

    return pages


def watch_values(ctx: WebContext, where: browse.CheckFilter, page: int) -> dict[str, Any]:
    checks = browse.find_checks(ctx.storage, where, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    grid = views.week_hour_grid(browse.attempt_times(ctx.storage, where))
    counts = browse.status_counts(ctx.storage, where)
    total = sum(counts.values())
    gallery = [(c, f) for c in checks for f in c.files if f.kind == "stamped"][:GALLERY_SIZE]
    return {
        "checks": checks,
        "total": total,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "counts": counts,
        "grid": grid,
        "levels": views.grid_levels(grid),
        "gallery": gallery,
        "next_run": ctx.service.next_run(where.watch),
        "running": where.watch in set(ctx.service.running()),
        "statuses": list(Status),
    }


def target_view(index: int, spec: Any) -> dict[str, Any]:
    """A notification target without its secrets: the scheme only, and what it receives."""
    scheme = str(spec.url).split("://", 1)[0] if "://" in str(spec.url) else "?"
    return {"index": index, "scheme": scheme, "events": list(spec.events), "watches": spec.watches}


def login_router() -> APIRouter:
    login = APIRouter(include_in_schema=False)

    @login.get("/login")
    async def login_form(request: Request, ctx: Ctx, next: str = "/") -> Response:
        return render(request, ctx, "login.html", {"next": safe_next(next), "error": None}, authed=False)

    @login.post("/login")
    async def login_submit(
        request: Request,
        ctx: Ctx,
        token: Annotated[str, Form(max_length=500)],
        next: Annotated[str, Form(max_length=500)] = "/",
    ) -> Response:
        if not ctx.logins.allow(client_of(request), "login"):
            raise HTTPException(429, "too many login attempts, wait a minute", {"Retry-After": "60"})
        if not ctx.guard.token_matches(token):
            values = {"next": safe_next(next), "error": "Jeton incorrect."}
            return render(request, ctx, "login.html", values, 401, authed=False)
        response = RedirectResponse(safe_next(next), status_code=303)
        set_session_cookie(request, response, ctx.guard.new_session(), ctx)
        return response

    @login.post("/logout", dependencies=[Depends(form_post)])
    async def logout() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie("rdvm_session", path="/")
        return response

    return login
