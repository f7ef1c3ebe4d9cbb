"""Who may do what: the token, signed session cookies, CSRF tokens, rate limits, body limits, headers."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "rdvm_session"
SESSION_SECONDS = 7 * 24 * 3600
MAX_BODY_BYTES = 64 * 1024
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Session:
    nonce: str
    expires: int


class Guard:
    """Checks the token, signs sessions and CSRF tokens. Without a token every request is trusted (loopback only)."""

    def __init__(self, token: str | None, *, clock: Callable[[], float] = time.time) -> None:
        self.token = token or None
        seed = token.encode() if token else secrets.token_bytes(32)
        self.key = hashlib.sha256(b"rdv-monitor web session|" + seed).digest()
        self.clock = clock

    @property
    def required(self) -> bool:
        return self.token is not None

    def token_matches(self, given: str) -> bool:
        return self.token is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def bearer_ok(self, authorization: str | None) -> bool:
        scheme, _, value = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and self.token_matches(value.strip())

    def new_session(self) -> str:
        nonce = secrets.token_urlsafe(18)
        expires = int(self.clock()) + SESSION_SECONDS
        return f"{nonce}.{expires}.{self._sign(f'session|{nonce}|{expires}')}"

    def session(self, cookie: str | None) -> Session | None:
        """The session a cookie stands for, when its signature holds and it has not expired."""
        parts = (cookie or "").split(".")
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        nonce, expires, signature = parts[0], int(parts[1]), parts[2]
        if not hmac.compare_digest(signature, self._sign(f"session|{nonce}|{expires}")) or expires < self.clock():
            return None
        return Session(nonce=nonce, expires=expires)

    def csrf_token(self, session: Session) -> str:
        return self._sign(f"csrf|{session.nonce}")

    def csrf_ok(self, session: Session | None, given: str | None) -> bool:
        return session is not None and bool(given) and hmac.compare_digest(str(given), self.csrf_token(session))

    def _sign(self, text: str) -> str:
        return hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()[:43]


@dataclass
class RateLimiter:
    """A token bucket per (client, bucket): `per_minute` sustained, `burst` at once."""

    per_minute: float
    burst: int
    monotonic: Callable[[], float] = time.monotonic
    _buckets: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)

    def allow(self, client: str, bucket: str) -> bool:
        now = self.monotonic()
        tokens, last = self._buckets.get((client, bucket), (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.per_minute / 60)
        if len(self._buckets) > 10_000:
            self._buckets.clear()  # bounded memory under a flood of addresses
        if tokens < 1:
            self._buckets[(client, bucket)] = (tokens, now)
            return False
        self._buckets[(client, bucket)] = (tokens - 1, now)
        return True


class SecurityHeaders:
    """Adds the security headers to every response (pages, API, static files, errors)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS:
                    headers.setdefault(name.decode(), value.decode())
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyLimit:
    """Refuses request bodies over a size (by Content-Length, and while streaming for chunked bodies)."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.max_bytes:
            await _plain(send, 413, f"request body too large (at most {self.max_bytes} bytes)")
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except BodyTooLarge:
            await _plain(send, 413, f"request body too large (at most {self.max_bytes} bytes)")


class BodyTooLarge(Exception):
    pass


class HostCheck:
    """Without a token, only loopback Host headers are served: a DNS-rebinding page cannot reach the dashboard."""

    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = frozenset(h.lower() for h in allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = dict(scope["headers"]).get(b"host", b"").decode("latin-1").lower()
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if not (is_loopback(name) or name.strip("[]") in self.allowed):
                await _plain(send, 421, "unexpected Host header (set RDV_MONITOR_TOKEN to serve other names)")
                return
        await self.app(scope, receive, send)


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + list(HEADERS)})
    await send({"type": "http.response.body", "body": body})
