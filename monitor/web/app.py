"""The FastAPI application: routes, middleware and error pages, built from a WebContext."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from monitor.web import add, api, files, pages
from monitor.web.auth import LoginRequired, api_auth, login_url, page_auth
from monitor.web.context import WebContext
from monitor.web.security import BodyLimit, HostCheck, SecurityHeaders

STATIC = Path(__file__).parent / "static"
DESCRIPTION = (
    "Watches, attempts, proof archives and captcha tasks of an rdv-monitor service. "
    "Every route but /healthz needs `Authorization: Bearer <RDV_MONITOR_TOKEN>` when a token is set."
)


def create_app(ctx: WebContext) -> FastAPI:
    """The dashboard and the JSON API over one context (storage, service, broker...)."""
    app = FastAPI(
        title="rdv-monitor", version="1", description=DESCRIPTION, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.ctx = ctx
    app.state.templates = pages.templates()

    @app.get("/healthz", tags=["api"], summary="Liveness (no token needed)")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(api_auth)])
    async def openapi() -> dict[str, Any]:
        return app.openapi()  # served behind the token like the rest (the docs UI would need a CDN: none)

    app.include_router(api.router())
    app.include_router(pages.login_router())
    app.include_router(add.router())
    app.include_router(pages.router())
    app.include_router(files.router(), dependencies=[Depends(page_auth)])
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(LoginRequired, _to_login)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.add_middleware(BodyLimit)
    if not ctx.guard.required:
        app.add_middleware(HostCheck, allowed=_allowed_hosts(ctx))
    app.add_middleware(SecurityHeaders)
    return app


def _allowed_hosts(ctx: WebContext) -> list[str]:
    hosts = [ctx.settings.host]
    if ctx.settings.public_url:
        hosts.append(urlsplit(ctx.settings.public_url).hostname or "")
    return [h for h in hosts if h]


async def _to_login(request: Request, exc: LoginRequired) -> Response:
    return RedirectResponse(login_url(exc.next_path), status_code=303)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


async def _http_error(request: Request, exc: HTTPException) -> Response:
    if _wants_html(request):
        values = {"status": exc.status_code, "detail": exc.detail}
        return pages.render(request, request.app.state.ctx, "error.html", values, exc.status_code, authed=False)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _invalid(request: Request, exc: RequestValidationError) -> Response:
    """A bad parameter or body: 422 naming the field, one line, no echo of the input."""
    err = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")) or "request"
    return await _http_error(request, HTTPException(422, f"{where}: {err.get('msg', 'invalid')}"))
