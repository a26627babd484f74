"""Delivery against a real SMTP server (aiosmtpd, STARTTLS with a certificate made for the test,
AUTH required): the message arrives with the run's short body (plain text and HTML) and report.html
and the workbook attached, AUTH used the credentials from the environment; a refused or
unreachable server is retried, then exit code 3 with the outputs kept; a folder delivery copies
the report files."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from report.smtp_server import PASSWORD, USER, Inbox, free_port, trusted_smtp_server
from typer.testing import CliRunner

from recon.cli import app
from recon.errors import ConfigError
from recon.report.deliver import (
    DELIVERY_EXIT_CODE,
    PASSWORD_ENV,
    USER_ENV,
    DeliveryError,
    Retry,
    build_message,
    copy_to_folder,
    email_settings,
    send_email,
)
from recon.report.email_body import BODY_HTML_NAME, BODY_TEXT_NAME, MAX_BODY_BYTES
from recon.sampledata import generate, write

runner = CliRunner()
HTML = "<html><body><h1>Weekly leakage</h1><p>3 new</p></body></html>"
XLSX = b"PK\x03\x04 not really a workbook, but bytes that must arrive unchanged \x00\xff"
NO_WAIT = Retry(attempts=3, backoff_s=0)


@pytest.fixture
def inbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """The server, its certificate trusted (SSL_CERT_FILE) and the credentials in the environment."""
    with trusted_smtp_server(tmp_path, monkeypatch) as server:
        yield server


@pytest.fixture
def report(tmp_path: Path) -> tuple[Path, Path]:
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text(HTML, encoding="utf-8")
    (out / "report.xlsx").write_bytes(XLSX)
    return out / "report.html", out / "report.xlsx"


def settings(inbox: Inbox, port: int | None = None, **env: str):
    return email_settings(
        "finance@example.com, ana@example.com",
        "recon@example.com",
        inbox.host,
        port or inbox.port,
        True,
        env={USER_ENV: USER, PASSWORD_ENV: PASSWORD, **env},
    )


def test_the_report_arrives_with_the_workbook_over_starttls_and_auth(
    inbox: Inbox, report: tuple[Path, Path]
) -> None:
    html, xlsx = report
    chosen = settings(inbox)
    attempts = send_email(chosen, build_message(chosen, "recon weekly", html, [xlsx]), NO_WAIT)
    assert attempts == 1
    assert inbox.logins == [(USER, True)]
    assert inbox.tls == [True]
    assert inbox.envelopes == [("recon@example.com", ["finance@example.com", "ana@example.com"])]
    message = inbox.messages[0]
    assert message["Subject"] == "recon weekly"
    # no body written next to this report: one line naming the attachments
    body = message.get_body(preferencelist=("html",))
    assert body is not None
    assert "The report is attached: report.html and report.xlsx." in body.get_content()
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["report.html", "report.xlsx"]
    assert attachments[0].get_content_type() == "text/html"
    assert attachments[0].get_payload(decode=True) == HTML.encode()
    assert attachments[1].get_content_type() == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert attachments[1].get_content() == XLSX


def test_a_wrong_password_is_a_permanent_failure_not_retried(
    inbox: Inbox, report: tuple[Path, Path]
) -> None:
    html, xlsx = report
    chosen = settings(inbox, **{PASSWORD_ENV: "wrong"})
    waits: list[float] = []
    with pytest.raises(DeliveryError, match="535") as caught:
        send_email(chosen, build_message(chosen, "s", html, [xlsx]), NO_WAIT, waits.append)
    assert caught.value.exit_code == DELIVERY_EXIT_CODE
    assert "after 1 attempt" in str(caught.value) and "wrong" not in str(caught.value)
    # smtplib tries each mechanism the server offers (PLAIN, LOGIN) in its one session
    assert set(inbox.logins) == {(USER, False)} and not inbox.messages and waits == []


def test_an_unreachable_server_is_retried_with_backoff_then_fails(
    inbox: Inbox, report: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    html, xlsx = report
    chosen = settings(inbox, port=free_port())  # nothing listens there: connection refused
    waits: list[float] = []
    with (
        caplog.at_level(logging.WARNING, logger="recon"),
        pytest.raises(DeliveryError, match="connection refused after 3 attempts"),
    ):
        send_email(chosen, build_message(chosen, "s", html, [xlsx]), Retry(3, 2.0), waits.append)
    assert waits == [2.0, 4.0]
    assert sum("retrying" in r.getMessage() for r in caplog.records) == 2


def test_credentials_come_from_the_environment_only_and_never_in_clear() -> None:
    with pytest.raises(ConfigError, match=f"{PASSWORD_ENV} is not set"):
        email_settings("a@x.org", "r@x.org", "smtp.x.org", 587, True, env={USER_ENV: "u"})
    with pytest.raises(ConfigError, match="does not send credentials unencrypted"):
        email_settings(
            "a@x.org", "r@x.org", "smtp.x.org", 587, False, env={USER_ENV: "u", PASSWORD_ENV: "p"}
        )
    with pytest.raises(ConfigError, match="--email-to is 'not-an-address'"):
        email_settings("not-an-address", "r@x.org", "smtp.x.org", 587, True, env={})
    chosen = email_settings("a@x.org", "r@x.org", "h", 25, True, env={})
    assert chosen.user is None and chosen.password is None
    hidden = email_settings(
        "a@x.org", "r@x.org", "h", 25, True, {USER_ENV: "u", PASSWORD_ENV: "pw"}
    )
    assert "pw" not in repr(hidden)


def test_folder_delivery_copies_the_report_and_a_failure_is_retried(
    report: tuple[Path, Path], tmp_path: Path
) -> None:
    html, xlsx = report
    copies = copy_to_folder([html, xlsx], tmp_path / "share" / "weekly", NO_WAIT)
    assert [c.read_bytes() for c in copies] == [html.read_bytes(), xlsx.read_bytes()]
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    waits: list[float] = []
    with pytest.raises(DeliveryError, match="after 3 attempts"):
        copy_to_folder([html], blocked / "weekly", Retry(3, 0.5), waits.append)
    assert waits == [0.5, 1.0]


# --- end to end: `recon leakage ... --email-to` -------------------------------------------------


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("deliver") / "data"
    write(generate(60, seed=5), folder)
    return folder


def leakage(data: Path, out: Path, *args: str):
    return runner.invoke(
        app,
        ["leakage", str(data), "--as-of", "2026-10-31", "--out", str(out),
         "--store", f"sqlite:///{out.parent / 'state.sqlite'}", *args],
    )  # fmt: skip


def test_recon_leakage_emails_the_report_it_wrote(inbox: Inbox, data: Path, tmp_path: Path) -> None:
    """The body is the short summary the run wrote (plain text and HTML alternatives, static,
    under 100 KB); report.html and report.xlsx are attached as the run wrote them."""
    out = tmp_path / "out"
    result = leakage(
        data, out, "--email-to", "finance@example.com", "--email-from", "recon@example.com",
        "--smtp-host", inbox.host, "--smtp-port", str(inbox.port),
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    assert "report e-mailed to finance@example.com" in result.output
    assert inbox.logins == [(USER, True)]
    message = inbox.messages[0]
    assert message["Subject"].startswith("recon leakage as of 2026-10-31")
    assert message.get_content_type() == "multipart/mixed"
    alternative = next(iter(message.iter_parts()))
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    text, html = (
        part.get_content().replace("\r\n", "\n")  # SMTP lines end in CRLF
        for part in alternative.iter_parts()
    )
    assert text == (out / BODY_TEXT_NAME).read_text(encoding="utf-8")
    assert html == (out / BODY_HTML_NAME).read_text(encoding="utf-8")
    assert len(text.encode()) + len(html.encode()) <= MAX_BODY_BYTES
    assert "As of 2026-10-31" in text and "As of 2026-10-31" in html
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html, re.IGNORECASE)
    assert "recon leakage, run 1" in text  # the run, as the state store numbered it
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["report.html", "report.xlsx"]
    assert attachments[0].get_content_type() == "text/html"
    assert attachments[0].get_payload(decode=True) == (out / "report.html").read_bytes()
    assert attachments[0].get_content_charset() == "utf-8"
    assert attachments[1].get_content() == (out / "report.xlsx").read_bytes()


def test_a_failed_delivery_is_exit_code_3_with_the_outputs_kept(
    inbox: Inbox, data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = leakage(
        data, out, "--email-to", "finance@example.com", "--email-from", "recon@example.com",
        "--smtp-host", "127.0.0.1", "--smtp-port", str(free_port()),
        "--delivery-attempts", "2", "--delivery-backoff", "0",
    )  # fmt: skip
    assert result.exit_code == DELIVERY_EXIT_CODE, result.output
    assert "error: delivery failed: e-mail to finance@example.com via SMTP 127.0.0.1:" in (
        result.output
    )
    assert "connection refused after 2 attempts" in result.output
    assert PASSWORD not in result.output
    assert (out / "report.html").is_file() and (out / "report.xlsx").is_file()
    assert (out / "leakage.csv").is_file()


def test_bad_delivery_options_stop_before_any_work_with_exit_2(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(USER_ENV, raising=False)
    monkeypatch.setenv(PASSWORD_ENV, "x")
    out = tmp_path / "out"
    result = leakage(
        data, out, "--email-to", "a@example.com", "--email-from", "r@example.com",
        "--smtp-host", "localhost",
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {USER_ENV} is not set")
    assert not out.exists()


def test_deliver_to_copies_the_report_files(data: Path, tmp_path: Path) -> None:
    out, share = tmp_path / "out", tmp_path / "share"
    result = leakage(data, out, "--deliver-to", str(share))
    assert result.exit_code in (0, 1), result.output
    assert f"report copied to {share}" in result.output
    assert sorted(p.name for p in share.iterdir()) == ["report.html", "report.xlsx"]
    for name in ("report.html", "report.xlsx"):
        assert (share / name).read_bytes() == (out / name).read_bytes()
