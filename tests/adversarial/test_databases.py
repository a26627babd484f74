"""Databases that misbehave, one row per case: the bad setting or server, the command, the exit code,
what the one ``error:`` line must say, and that no secret shows.

Servers are real: PostgreSQL and MariaDB for queries that outlast their timeout, and sockets of
this test's own (a thread) that accept connections and never answer, or send a MariaDB greeting
and then stall. Each command must end within ``Case.seconds``, not hang a cron job.
"""

from __future__ import annotations

import datetime as dt
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from typer.testing import CliRunner

from recon.cli import app

runner = CliRunner()
SECRET_VAR = "RECON_ADV_SECRET"
SECRET = "p@ss:w/rd#secret"
# Pieces of the password a URL pasted together as text would show (as host, port or path).
SECRET_PIECES = (SECRET, "p@ss", "ss:w", "w/rd", "rd#secret", "secret", "p%40ss")
NEXT_YEAR = (dt.date.today() + dt.timedelta(days=365)).isoformat()
FILES = {
    "crm_companies": "company_id,name\n1,Acme Pty Ltd\n",
    "crm_deals": "deal_id,company_id,stage,amount,close_date\nD1,1,closedwon,100,2026-10-01\n",
    "erp_customers": "customer_id,name\n0042,ACME\n",
}
PG = "postgresql+psycopg"
MY = "mysql+pymysql"


@dataclass(frozen=True)
class Case:
    """In ``url``, ``{port}`` is the port of the case's server and ``{server}`` the real server's
    URL without its scheme; ``sql`` adds settings next to a source's url; ``{port}`` in ``expect``
    is the port too."""

    name: str
    target: str  # "source": recon load with recon.yaml; "store": recon accept --store
    server: str  # "stall", "greeting", "closed" (port 1), "postgresql", "mysql", "none"
    url: str
    expect: tuple[str, ...]
    sql: dict[str, object] = field(default_factory=lambda: {"table": "orders"})
    forbidden: tuple[str, ...] = SECRET_PIECES
    exit_code: int = 2
    seconds: float = 12.0
    env: dict[str, str] = field(default_factory=lambda: {SECRET_VAR: SECRET})


CASES = [
    # --- A server that accepts and never answers: the connect timeout ends the wait.
    Case(
        "source_pg_silent_server",
        "source",
        "stall",
        PG + "://app:${RECON_ADV_SECRET}@127.0.0.1:{port}/erp",
        ("cannot connect to database 'erp' on 127.0.0.1:{port}", "app:***@127.0.0.1:{port}"),
        sql={"table": "orders", "connect_timeout": 2},
    ),
    Case(
        "source_mysql_silent_server",
        "source",
        "stall",
        MY + "://app:${RECON_ADV_SECRET}@127.0.0.1:{port}/erp",
        ("cannot connect to database 'erp' on 127.0.0.1:{port}", "timed out"),
        sql={"table": "orders", "connect_timeout": 1, "read_timeout": 1},
    ),
    Case(
        "source_mysql_greets_then_stalls",
        "source",
        "greeting",
        MY + "://app:${RECON_ADV_SECRET}@127.0.0.1:{port}/erp",
        ("cannot connect to database 'erp' on 127.0.0.1:{port}", "read_timeout 1 s"),
        sql={"table": "orders", "read_timeout": 1},
    ),
    Case(
        "store_pg_silent_server",
        "store",
        "stall",
        PG + "://app:${RECON_ADV_SECRET}@127.0.0.1:{port}/recon?connect_timeout=2",
        ("cannot open the state store", "app:***@127.0.0.1:{port}/recon", "127.0.0.1:{port}"),
    ),
    Case(
        "store_mysql_silent_server",
        "store",
        "stall",
        MY + "://app:${RECON_ADV_SECRET}@127.0.0.1:{port}/recon?connect_timeout=1&read_timeout=1",
        ("cannot open the state store", "database 'recon' on 127.0.0.1:{port}", "timed out"),
    ),
    Case(
        "store_mysql_greets_then_stalls",
        "store",
        "greeting",
        MY + "://app:${RECON_ADV_SECRET}@127.0.0.1:{port}/recon?read_timeout=1",
        ("cannot open the state store", "database 'recon' on 127.0.0.1:{port}"),
    ),
    # --- A password with @ : / from the environment stays the password; the host stays the host.
    Case(
        "source_pg_secret_nobody_listening",
        "source",
        "closed",
        PG + "://app:${RECON_ADV_SECRET}@127.0.0.1:{port}/erp",
        ("cannot connect to database 'erp' on 127.0.0.1:1 ", "app:***@127.0.0.1:1/erp"),
    ),
    Case(
        "source_mysql_secret_nobody_listening",
        "source",
        "closed",
        MY + "://app:${RECON_ADV_SECRET}@127.0.0.1:{port}/erp",
        ("cannot connect to database 'erp' on 127.0.0.1:1 ", "app:***@127.0.0.1:1/erp"),
    ),
    Case(
        "store_pg_secret_nobody_listening",
        "store",
        "closed",
        PG + "://app:${RECON_ADV_SECRET}@127.0.0.1:{port}/recon",
        ("cannot open the state store", "(database 'recon' on 127.0.0.1:1)"),
    ),
    Case(
        "store_mysql_secret_nobody_listening",
        "store",
        "closed",
        MY + "://app:${RECON_ADV_SECRET}@127.0.0.1:{port}/recon",
        ("cannot open the state store", "(database 'recon' on 127.0.0.1:1)"),
    ),
    # --- Settings that are wrong: named, with the password masked.
    Case(
        "source_port_not_a_number",
        "source",
        "none",
        PG + "://app:hunter2@db.example.com:abc/erp",
        ("tables.erp_orders.sql.url: the port 'abc' in the URL is not a number",),
        forbidden=("hunter2", "Traceback"),
    ),
    Case(
        "store_port_not_a_number",
        "store",
        "none",
        PG + "://app:hunter2@db.example.com:abc/recon",
        ("--store: the port 'abc' in ", "app:***@db.example.com:abc/recon is not a number"),
        forbidden=("hunter2", "Traceback"),
    ),
    Case(
        "store_statement_timeout_not_a_number",
        "store",
        "none",
        PG + "://app:${RECON_ADV_SECRET}@db.example.com/recon?statement_timeout=soon",
        ("--store: statement_timeout=soon in ", "is not a number of seconds"),
    ),
    Case(
        "source_read_timeout_not_a_number",
        "source",
        "none",
        PG + "://app:${RECON_ADV_SECRET}@db.example.com/erp",
        ('tables.erp_orders.sql.read_timeout is "five" — expected a number',),
        sql={"table": "orders", "read_timeout": "five"},
    ),
    Case(
        "source_unset_password_variable",
        "source",
        "none",
        PG + "://app:${RECON_ADV_UNSET}@db.example.com/erp",
        ("environment variable RECON_ADV_UNSET is not set",),
    ),
    # --- A real server whose query outlasts read_timeout: stopped, and where is named.
    Case(
        "source_mysql_query_outlasts_read_timeout",
        "source",
        "mysql",
        MY + "://{server}",
        ("the query failed", "timed out", "no answer from database", "sql.read_timeout is 1 s"),
        sql={"query": "SELECT SLEEP(20) AS x", "read_timeout": 1},
    ),
    Case(
        "source_pg_query_outlasts_read_timeout",
        "source",
        "postgresql",
        PG + "://{server}",
        (
            "the query failed",
            "statement timeout",
            "no answer from database",
            "sql.read_timeout is 1 s",
        ),
        sql={"query": "SELECT pg_sleep(20) AS x", "read_timeout": 1},
    ),
]


def _greeting() -> bytes:
    """A MariaDB protocol-10 handshake packet: enough for a client to answer it and wait."""
    payload = (
        b"\x0a"
        + b"5.5.5-10.11.0-MariaDB\x00"
        + struct.pack("<I", 7)  # connection id
        + b"abcdefgh\x00"  # scramble, part 1
        + struct.pack("<H", 0xF7FF)  # capabilities (protocol 4.1, secure connection; no SSL)
        + b"\x21"  # utf8 collation
        + struct.pack("<H", 2)  # status: autocommit
        + struct.pack("<H", 0x81BF)  # capabilities, upper half (plugin auth)
        + b"\x15"
        + b"\x00" * 10
        + b"ijklmnopqrst\x00"  # scramble, part 2
        + b"mysql_native_password\x00"
    )
    return struct.pack("<I", len(payload))[:3] + b"\x00" + payload


@dataclass
class SilentServer:
    """Accepts every connection, optionally sends ``hello``, then never says anything else."""

    hello: bytes = b""
    port: int = 0
    accepted: int = 0
    _sockets: list[socket.socket] = field(default_factory=list)

    def __enter__(self) -> SilentServer:
        listener = socket.create_server(("127.0.0.1", 0))
        self.port = listener.getsockname()[1]
        self._sockets.append(listener)
        threading.Thread(target=self._serve, args=(listener,), daemon=True).start()
        return self

    def _serve(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:  # closed by __exit__
                return
            self.accepted += 1
            self._sockets.append(conn)
            if self.hello:
                conn.sendall(self.hello)

    def __exit__(self, *exc: object) -> None:
        for s in self._sockets:
            s.close()


@pytest.fixture
def server_port(request: pytest.FixtureRequest, case: Case) -> Iterator[tuple[int, str]]:
    """(port, the real server's URL without its scheme) for the case's kind of server."""
    if case.server in ("stall", "greeting"):
        with SilentServer(_greeting() if case.server == "greeting" else b"") as server:
            yield server.port, ""
            assert server.accepted, "the command reached the test's server"
        return
    if case.server in ("postgresql", "mysql"):
        url = request.getfixturevalue("pg_url" if case.server == "postgresql" else "mysql_url")
        yield 0, url.split("://", 1)[1]
        return
    yield 1, ""  # "closed": nobody listens on port 1; "none": no server is reached


def _command(case: Case, url: str, tmp_path: Path) -> list[str]:
    if case.target == "store":
        return ["accept", "F-0000000000000000", "--reason", "test", "--until", NEXT_YEAR,
                "--store", url]  # fmt: skip
    for name, text in FILES.items():
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
    tables = {name: {"file": f"{name}.csv"} for name in FILES}
    config = {"tables": {**tables, "erp_orders": {"sql": {"url": url, **case.sql}}}}
    (tmp_path / "recon.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return ["load", "--config", str(tmp_path / "recon.yaml"), "--out", str(tmp_path / "out")]


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            c, id=c.name, marks=[pytest.mark.db] if c.server in ("mysql", "postgresql") else []
        )
        for c in CASES
    ],
)
def test_a_misbehaving_database_is_one_clear_error(
    case: Case, server_port: tuple[int, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, server = server_port
    url = case.url.replace("{port}", str(port)).replace("{server}", server)
    monkeypatch.delenv("RECON_ADV_UNSET", raising=False)
    started = time.monotonic()
    result = runner.invoke(app, _command(case, url, tmp_path), env=case.env)
    elapsed = time.monotonic() - started

    output = result.output
    assert result.exit_code == case.exit_code, output
    assert elapsed < case.seconds, f"took {elapsed:.1f} s: {output}"
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, output
    for part in case.expect:
        assert part.replace("{port}", str(port)) in errors[0], errors[0]
    for secret in case.forbidden:
        assert secret not in output, f"{secret!r} shows in: {output}"


def test_every_kind_of_server_has_a_case() -> None:
    """The guard of the table: each server kind and each target is exercised."""
    kinds = {(c.target, c.server) for c in CASES}
    for target in ("source", "store"):
        for server in ("stall", "greeting", "closed", "none"):
            assert (target, server) in kinds
    assert len({c.name for c in CASES}) == len(CASES)


def test_a_password_pasted_into_the_url_text_is_misread() -> None:
    """The guard of the secret cases: pasted into the text, the password is split at its ``@`` and
    ``:`` (``ss`` read as the host, ``w`` as the port), which is how pieces of it reached messages."""
    with pytest.raises(ValueError, match="'w'"):
        sa.make_url(f"{PG}://app:{SECRET}@127.0.0.1:1/erp")
