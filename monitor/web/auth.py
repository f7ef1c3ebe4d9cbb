"""Request-level checks as FastAPI dependencies: the token (Bearer or session cookie), CSRF, rate limits."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, HTTPException, Request, Response

from monitor.web.context import WebContext
from monitor.web.files import context
from monitor.web.security import SESSION_COOKIE, SESSION_SECONDS, Session, is_loopback

Ctx = Annotated[WebContext, Depends(context)]
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class LoginRequired(Exception):
    """A page was asked for without a session: the handler sends the person to the login form."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


def client_of(request: Request) -> str:
    return request.client.host if request.client else "?"


def cookie_session(request: Request, ctx: WebContext) -> Session | None:
    return ctx.guard.session(request.cookies.get(SESSION_COOKIE))


async def api_auth(request: Request, ctx: Ctx) -> None:
    """API: a Bearer token, or the dashboard's session cookie plus its CSRF header on writes."""
    if ctx.guard.bearer_ok(request.headers.get("authorization")):
        return
    session = cookie_session(request, ctx)
    if request.method in UNSAFE and session is not None:
        if not ctx.guard.csrf_ok(session, request.headers.get("x-csrf-token")):
            raise HTTPException(403, "missing or wrong X-CSRF-Token header")
        return
    if request.method in UNSAFE and session is None and cross_site(request, ctx):
        raise HTTPException(403, "a write from another site needs Authorization: Bearer <RDV_MONITOR_TOKEN>")
    if not ctx.guard.required or session is not None:
        return
    raise HTTPException(
        401, "a token is required: Authorization: Bearer <RDV_MONITOR_TOKEN>", {"WWW-Authenticate": "Bearer"}
    )


def cross_site(request: Request, ctx: WebContext) -> bool:
    """What the browser says of where a request comes from (without a token, any web page could POST here)."""
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False  # not sent by a browser page: curl, scripts
    ours = {request.headers.get("host", "").lower(), urlsplit(ctx.settings.public_url or "").netloc.lower()}
    return urlsplit(origin).netloc.lower() not in ours - {""}


async def page_auth(request: Request, ctx: Ctx) -> None:
    if not ctx.guard.required or ctx.guard.bearer_ok(request.headers.get("authorization")):
        return
    if cookie_session(request, ctx) is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)


async def form_post(request: Request, ctx: Ctx) -> None:
    """Every form POST: a rate limit per client, then the CSRF token of the session."""
    if not ctx.posts.allow(client_of(request), "post"):
        raise HTTPException(429, "too many requests, wait a minute", {"Retry-After": "60"})
    form = await request.form()
    if not ctx.guard.csrf_ok(cookie_session(request, ctx), _text(form.get("csrf"))):
        raise HTTPException(403, "the form expired or did not come from this dashboard: reload the page")


async def api_post_limit(request: Request, ctx: Ctx) -> None:
    if not ctx.posts.allow(client_of(request), "post"):
        raise HTTPException(429, "too many requests, wait a minute", {"Retry-After": "60"})


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def ensure_session(request: Request, response: Response, ctx: WebContext) -> Session:
    """The page's session (for its CSRF token); a new cookie is set when there is none yet."""
    session = cookie_session(request, ctx)
    if session is not None:
        return session
    value = ctx.guard.new_session()
    set_session_cookie(request, response, value, ctx)
    found = ctx.guard.session(value)
    assert found is not None
    return found


def set_session_cookie(request: Request, response: Response, value: str, ctx: WebContext) -> None:
    """HttpOnly, SameSite=Lax (a link from a notification still opens logged in), Secure where browsers allow.

    Secure needs HTTPS, which browsers grant loopback too; behind a TLS proxy, RDV_MONITOR_PUBLIC_URL says so.
    """
    behind_tls = (ctx.settings.public_url or "").startswith("https://")
    secure = behind_tls or request.url.scheme == "https" or is_loopback(request.url.hostname or "")
    response.set_cookie(
        SESSION_COOKIE, value, max_age=SESSION_SECONDS, httponly=True, samesite="lax", secure=secure, path="/"
    )


def login_url(next_path: str) -> str:
    return "/login?next=" + quote(safe_next(next_path), safe="/")


def safe_next(next_path: str | None) -> str:
    """Only local paths: a login link can never send a person to another site."""
    if not next_path or not next_path.startswith("/") or next_path.startswith("//") or "\\" in next_path:
        return "/"
    return next_path
