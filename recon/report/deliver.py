"""Deliver a run's report: by e-mail through SMTP, or copied into a folder. The e-mail's body is
the short summary the run wrote next to the report (``recon.report.email_body``: plain text and
HTML that mail clients show as they are, under 100 KB); report.html and report.xlsx are attached.
A failed attempt is retried with backoff; when every attempt failed a ``DeliveryError`` (exit
code 3) says why, and the outputs stay where the run wrote them.

SMTP credentials come only from the environment (``RECON_SMTP_USER``, ``RECON_SMTP_PASSWORD``),
never from options, so they appear in no shell history, process list or cron line. With
credentials recon insists on STARTTLS: they never cross the network in clear text. The server's
certificate is checked against the system's CAs (``SSL_CERT_FILE`` names another bundle).
"""

from __future__ import annotations

import logging
import mimetypes
import os
import shutil
import smtplib
import socket
import ssl
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from html import escape
from pathlib import Path

from recon.errors import ConfigError, ReconError
from recon.report.email_body import read_email_body

log = logging.getLogger(__name__)

USER_ENV = "RECON_SMTP_USER"
PASSWORD_ENV = "RECON_SMTP_PASSWORD"
DELIVERY_EXIT_CODE = 3
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class DeliveryError(ReconError):
    """The report could not be delivered after every attempt (exit code 3; outputs kept)."""

    exit_code = DELIVERY_EXIT_CODE


@dataclass(frozen=True)
class Retry:
    """``attempts`` tries in all; the wait before try n+1 is ``backoff_s`` * 2**(n-1)."""

    attempts: int = 3
    backoff_s: float = 5.0

    def waits(self) -> list[float]:
        return [self.backoff_s * 2**n for n in range(self.attempts - 1)]


@dataclass(frozen=True)
class EmailSettings:
    to: tuple[str, ...]
    sender: str
    host: str
    port: int = 587
    starttls: bool = True
    user: str | None = None
    password: str | None = None
    timeout_s: float = 30.0

    def __repr__(self) -> str:  # never show the password in a log or traceback
        return (
            f"EmailSettings(to={self.to}, sender={self.sender!r}, host={self.host!r}, "
            f"port={self.port}, starttls={self.starttls}, user={self.user!r})"
        )


def email_settings(
    to: str,
    sender: str | None,
    host: str | None,
    port: int,
    starttls: bool,
    env: Mapping[str, str] | None = None,
) -> EmailSettings:
    """Check the e-mail options and read the credentials from the environment (ConfigError: 2)."""
    env = os.environ if env is None else env
    recipients = tuple(a.strip() for a in to.split(",") if a.strip())
    bad = [a for a in recipients if not _address(a)]
    if not recipients or bad:
        raise ConfigError(
            f"--email-to is '{to}' — expected e-mail addresses separated by commas, "
            "such as finance@example.com,ana@example.com"
        )
    if not host:
        raise ConfigError("--email-to needs --smtp-host, the SMTP server to send through")
    if not sender or not _address(sender):
        raise ConfigError(
            f"--email-from is '{sender or ''}' — expected the sender's address, "
            "such as recon@example.com"
        )
    if not 0 < port < 65536:
        raise ConfigError(f"--smtp-port is {port} — expected a port such as 587 or 25")
    user, password = env.get(USER_ENV) or None, env.get(PASSWORD_ENV) or None
    if (user is None) != (password is None):
        missing = PASSWORD_ENV if password is None else USER_ENV
        raise ConfigError(
            f"{missing} is not set; set both {USER_ENV} and {PASSWORD_ENV}, or neither"
        )
    if user is not None and not starttls:
        raise ConfigError(
            f"{USER_ENV} is set but --no-starttls was given: recon does not send credentials "
            "unencrypted; use --starttls"
        )
    return EmailSettings(recipients, sender, host, port, starttls, user, password)


def _address(text: str) -> bool:
    _, address = parseaddr(text)
    return "@" in address and " " not in address and address.rsplit("@", 1)[1] != ""


def build_message(
    settings: EmailSettings,
    subject: str,
    html: Path,
    attachments: Sequence[Path],
    body: tuple[str, str] | None = None,
) -> EmailMessage:
    """The body (plain text and HTML, ``multipart/alternative``), then ``html`` (report.html) and
    the ``attachments`` attached.

    ``body`` is (text, html); by default the one the run wrote next to ``html``
    (``email_body.txt``, ``email_body.html``), else a line naming the attachments."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.to)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=settings.sender.rsplit("@", 1)[-1].strip("> "))
    files = list(dict.fromkeys([html, *attachments]))
    text, page = body or read_email_body(html.parent) or _plain_body(subject, files)
    message.set_content(text)
    message.add_alternative(page, subtype="html")
    for path in files:
        kind = XLSX_TYPE if path.suffix == ".xlsx" else mimetypes.guess_type(path.name)[0]
        maintype, subtype = (kind or "application/octet-stream").split("/", 1)
        message.add_attachment(
            path.read_bytes(),
            maintype=maintype,
            subtype=subtype,
            filename=path.name,
            params={"charset": "utf-8"} if maintype == "text" else None,  # recon writes UTF-8
        )
    return message


def _plain_body(subject: str, files: Sequence[Path]) -> tuple[str, str]:
    """A body for an outputs folder without a written one: the subject and what is attached."""
    names = " and ".join(p.name for p in files)
    text = f"{subject}\n\nThe report is attached: {names}.\n"
    page = f"<p>{escape(subject)}</p>\n<p>The report is attached: {escape(names)}.</p>\n"
    return text, page


def send_email(
    settings: EmailSettings,
    message: EmailMessage,
    retry: Retry = Retry(),
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Send with retries; the number of attempts it took, or DeliveryError naming the last error."""

    def once() -> None:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s) as smtp:
            smtp.ehlo()
            if settings.starttls:
                if not smtp.has_extn("starttls"):
                    raise _Permanent(f"{settings.host} does not offer STARTTLS")
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.user is not None and settings.password is not None:
                smtp.login(settings.user, settings.password)
            refused = smtp.send_message(message)
            if refused:
                raise _Permanent(f"recipients refused: {', '.join(sorted(refused))}")

    where = f"SMTP {settings.host}:{settings.port}"
    return _with_retries(once, f"e-mail to {', '.join(settings.to)} via {where}", retry, sleep)


def copy_to_folder(
    files: Sequence[Path],
    folder: Path,
    retry: Retry = Retry(),
    sleep: Callable[[float], None] = time.sleep,
) -> list[Path]:
    """Copy ``files`` into ``folder`` (created), each through a temporary file: a reader never
    sees half a report. Returns the copies."""
    copies = [folder / f.name for f in files]

    def once() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for source, target in zip(files, copies, strict=True):
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}-", dir=folder)
            os.close(fd)
            try:
                shutil.copyfile(source, tmp)
                os.replace(tmp, target)
            finally:
                Path(tmp).unlink(missing_ok=True)

    _with_retries(once, f"copy to {folder}", retry, sleep)
    return copies


class _Permanent(Exception):
    """A failure that trying again cannot fix."""


def _with_retries(
    action: Callable[[], None], what: str, retry: Retry, sleep: Callable[[float], None]
) -> int:
    waits = retry.waits()
    for attempt in range(1, retry.attempts + 1):
        try:
            action()
            log.info("%s: delivered (attempt %d)", what, attempt)
            return attempt
        except (_Permanent, smtplib.SMTPException, OSError) as exc:
            reason = _reason(exc)
            permanent = isinstance(exc, _Permanent) or _permanent_smtp(exc)
            if permanent or attempt == retry.attempts:
                tried = "1 attempt" if attempt == 1 else f"{attempt} attempts"
                why = " (a permanent error: not retried)" if permanent and attempt == 1 else ""
                raise DeliveryError(
                    f"delivery failed: {what}: {reason} after {tried}{why}; "
                    "the outputs are kept on disk"
                ) from exc
            wait = waits[attempt - 1]
            log.warning(
                "%s: attempt %d failed (%s); retrying in %.0f s", what, attempt, reason, wait
            )
            sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def _permanent_smtp(exc: BaseException) -> bool:
    """5xx replies (bad credentials, a refused sender or recipient) do not heal by waiting."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return True
    return isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        return f"the server answered {exc.smtp_code} {text}".strip()
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"recipients refused: {', '.join(sorted(exc.recipients))}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc})"
    return str(exc) or type(exc).__name__
