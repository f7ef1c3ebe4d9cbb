"""The dashboard's HTTP server: uvicorn inside the service's event loop, started and stopped with it."""

from __future__ import annotations

import asyncio
import logging
import socket

import uvicorn
from fastapi import FastAPI

from monitor.config import Settings
from monitor.errors import ConfigError
from monitor.web.security import is_loopback

log = logging.getLogger(__name__)


def check_exposure(settings: Settings) -> None:
    """Refuse to serve beyond this machine without a token: the dashboard can answer captchas and add watches."""
    if not is_loopback(settings.host) and settings.token is None:
        raise ConfigError(
            f"RDV_MONITOR_HOST={settings.host} is reachable from other machines: set RDV_MONITOR_TOKEN "
            "(or listen on 127.0.0.1)"
        )


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: a free one), or a one-line error naming the setting."""
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        raise ConfigError(
            f"RDV_MONITOR_HOST/RDV_MONITOR_PORT: cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None
    sock.setblocking(False)
    return sock


class WebServer:
    """A service component (async start/stop). It does not take over the process's signals: the service does."""

    def __init__(self, app: FastAPI, settings: Settings) -> None:
        check_exposure(settings)
        self.app = app
        self.settings = settings
        self.port: int | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        host = self.settings.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    async def start(self) -> None:
        self._socket = bind(self.settings.host, self.settings.port)
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            lifespan="off",
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=3,
        )
        config.load()
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)
        await server.startup(sockets=[self._socket])
        self._server = server
        self._task = asyncio.create_task(server.main_loop(), name="web-server")
        log.info("dashboard listening on %s", self.url)

    async def stop(self) -> None:
        server, task = self._server, self._task
        if server is None or task is None:
            return
        server.should_exit = True
        await task
        await server.shutdown(sockets=[self._socket] if self._socket else None)
        self._server = self._task = None
        log.info("dashboard stopped")
