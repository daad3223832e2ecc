"""Real receivers for the notification tests, on 127.0.0.1: an SMTP server (aiosmtpd, with STARTTLS
or implicit TLS and AUTH) and an HTTP(S) server (http.server in a thread) that records every
request. Certificates come from a throwaway trustme CA; the product is given its file as
``notify.ca_bundle``, as a deployment with an internal CA would."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

SMTP_USER = "alerts@contoso.com"
SMTP_PASSWORD = "smtp-pw-for-tests"
QUEUE_ANSWER = "250 2.0.0 Ok: queued as LD-TEST-1"


def free_port() -> int:
    """A port nobody listens on (a dead channel's, or a server's before it binds)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    authenticated_as: str | None

    def text(self) -> str:
        body = self.message.get_body(("plain",))
        assert body is not None
        return str(body.get_content()).replace("\r\n", "\n")

    def attachments(self) -> list[tuple[str, str, bytes]]:
        """(file name, content type, bytes) of each attachment."""
        found = []
        for part in self.message.iter_attachments():
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes), part.get_content_type()
            found.append((str(part.get_filename()), part.get_content_type(), payload))
        return found


class _Handler:
    def __init__(self, inbox: list[Mail]) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data if session.authenticated else None
        self.inbox.append(Mail(str(envelope.mail_from), list(envelope.rcpt_tos), message, login))
        return QUEUE_ANSWER


class _Authenticator:
    def __init__(self, password: str) -> None:
        self.password = password

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == SMTP_USER.encode()
            and auth_data.password == self.password.encode()
        )
        return AuthResult(success=ok, handled=False, auth_data=SMTP_USER if ok else None)


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: list[Mail] = field(default_factory=list)


@contextmanager
def smtp_server(
    ca: trustme.CA, *, security: str = "starttls", auth: bool = True, password: str = SMTP_PASSWORD
) -> Iterator[SmtpServer]:
    """An SMTP server: ``starttls`` (STARTTLS required), ``tls`` (implicit TLS) or ``none``; with
    ``auth``, AUTH for ``SMTP_USER`` / ``SMTP_PASSWORD`` (required after STARTTLS, offered on TLS)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    server = SmtpServer("127.0.0.1", free_port())
    params: dict[str, Any] = {}
    if security == "starttls":
        params.update(tls_context=context, require_starttls=True)
    if auth and security == "tls":
        # aiosmtpd counts only STARTTLS as TLS for AUTH; the connection is TLS from the start here.
        params.update(authenticator=_Authenticator(password), auth_required=False, auth_require_tls=False)
    elif auth:
        params.update(authenticator=_Authenticator(password), auth_required=True, auth_require_tls=True)
    controller = Controller(
        _Handler(server.inbox),
        hostname=server.host,
        port=server.port,
        ssl_context=context if security == "tls" else None,
        server_hostname="127.0.0.1",
        **params,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """An HTTP(S) server that records each request and answers ``status`` (202 by default),
    ``delay`` seconds after the request arrived (a slow flow)."""

    def __init__(self, ca: trustme.CA | None = None, status: int = 202, delay: float = 0.0) -> None:
        self.requests: list[Request] = []
        self.status = status
        self.delay = delay
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                receiver.requests.append(
                    Request(
                        "POST",
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        self.rfile.read(length),
                    )
                )
                time.sleep(receiver.delay)
                body = (
                    b""
                    if receiver.status < 400
                    else b'{"error":{"code":"Broken","message":"the flow failed"}}'
                )
                self.send_response(receiver.status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.scheme = "http"
        if ca is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
