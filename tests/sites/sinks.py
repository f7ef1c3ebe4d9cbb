"""Local notification endpoints for real Apprise deliveries: an HTTP sink for json:// and an SMTP server for mailto://."""

from __future__ import annotations

import base64
import email
import email.policy
import json
import socket
import threading
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    """A port nobody listens on right now (aiosmtpd cannot take port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class JsonSink:
    """Receives Apprise json:// posts on 127.0.0.1. `status` is what it answers; stop()/start() keep the port."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []  # accepted posts only
        self.refused = 0  # posts answered with an error status
        self.status = 200
        self.port = 0
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def start(self) -> JsonSink:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = sink.record(json.loads(body or b"{}"))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def record(self, message: dict[str, Any]) -> int:
        with self.lock:
            if self.status >= 300:
                self.refused += 1
            else:
                self.messages.append(message)
            return self.status

    def titles(self) -> list[str]:
        with self.lock:
            return [str(m.get("title")) for m in self.messages]

    @staticmethod
    def attachments(message: dict[str, Any]) -> dict[str, bytes]:
        """The attached files of one message: name -> content."""
        return {a["filename"]: base64.b64decode(a["base64"]) for a in message.get("attachments") or ()}

    def __enter__(self) -> JsonSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8")
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


class SmtpSink:
    """A local SMTP server (aiosmtpd) on a free port; Apprise reaches it with mailto://...?mode=insecure."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = _Mailbox()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.mailbox.messages

    @property
    def url(self) -> str:
        return f"mailto://127.0.0.1:{self.port}?mode=insecure&from=rdv@example.org&to=alerte@example.org"

    @staticmethod
    def attachments(message: EmailMessage) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for part in message.iter_attachments():
            content = part.get_content()
            found[part.get_filename() or "?"] = content if isinstance(content, bytes) else content.encode()
        return found

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
