"""A real SMTP server for the delivery tests: aiosmtpd in a thread, STARTTLS with a self-signed
certificate made by the ``openssl`` command for this test run, AUTH (PLAIN/LOGIN) required after
STARTTLS. Received messages and logins are kept for the test to inspect."""

from __future__ import annotations

import email
import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "recon-bot", "s3cret-Pa55"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (cert, key)."""
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Inbox:
    host: str
    port: int
    cert: Path
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)  # (user, accepted)
    tls: list[bool] = field(default_factory=list)  # per message: was the session encrypted


class _Handler:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=default)
        self.inbox.messages.append(message)  # type: ignore[arg-type]
        self.inbox.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.inbox.tls.append(session.ssl is not None)
        return "250 OK"


@contextmanager
def smtp_server(folder: Path) -> Iterator[Inbox]:
    cert, key = make_certificate(folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox("127.0.0.1", free_port(), cert)

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode()
        ok = user == USER and auth_data.password.decode() == PASSWORD
        inbox.logins.append((user, ok))
        return AuthResult(success=ok, handled=False)

    controller = Controller(
        _Handler(inbox),
        hostname=inbox.host,
        port=inbox.port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
        ready_timeout=10,
    )
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@contextmanager
def trusted_smtp_server(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """``smtp_server`` with its certificate trusted (SSL_CERT_FILE) and recon's SMTP credentials
    in the environment, as a scheduled job would have them."""
    from recon.report.deliver import PASSWORD_ENV, USER_ENV

    with smtp_server(folder) as server:
        monkeypatch.setenv("SSL_CERT_FILE", str(server.cert))
        monkeypatch.setenv(USER_ENV, USER)
        monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
        yield server
