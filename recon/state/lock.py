"""One writer at a time: the store lock, held for the whole of one transaction.

- **PostgreSQL**: a session advisory lock, ``pg_try_advisory_lock(hashtext('recon-state:' ||
  current_schema()))``, tried every 0.2 s until the timeout. One lock per schema.
- **MariaDB/MySQL**: a named lock, ``GET_LOCK('recon-state:' || sha1(database), wait)``, asked
  for at most one second at a time until the timeout (so no statement outlasts the store's
  statement timeout). One lock per database.
- **SQLite**: the database's own write lock: every transaction starts with ``BEGIN IMMEDIATE``,
  and SQLite's busy timeout (the lock timeout) makes a second writer wait.

Every one of these belongs to the connection: a run that is killed (even with SIGKILL) loses its
connection and with it the lock, so no stale lock is ever left to clean up. A run that cannot get
the lock within the timeout is refused with a StateError; runs are serialized up to that point.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from recon.errors import StateError

log = logging.getLogger(__name__)

_POLL_S = 0.2
_MYSQL_WAIT_S = 1.0
_PG_KEY = "hashtext('recon-state:' || current_schema())"
_MYSQL_NAME = "CONCAT('recon-state:', SHA1(COALESCE(DATABASE(), '')))"


def busy(where: str, timeout: float) -> StateError:
    return StateError(
        f"another recon run is writing to the state store {where}; waited {timeout:g} s for it "
        "to finish. Try again when it has finished (a run that was killed frees the store at once)"
    )


@contextmanager
def held(conn: sa.Connection, timeout: float, where: str) -> Iterator[None]:
    """Hold the store lock on ``conn`` (outside any transaction) for the ``with`` block."""
    backend = conn.dialect.name
    if backend == "postgresql":
        _wait_pg(conn, timeout, where)
        release = f"SELECT pg_advisory_unlock({_PG_KEY})"
    elif backend in ("mysql", "mariadb"):
        _wait_mysql(conn, timeout, where)
        release = f"SELECT RELEASE_LOCK({_MYSQL_NAME})"
    else:  # SQLite: BEGIN IMMEDIATE in the transaction itself
        yield
        return
    try:
        yield
    finally:
        if not conn.closed and not conn.invalidated:
            try:
                conn.exec_driver_sql(release)
                conn.commit()
            except sa.exc.DBAPIError:  # the connection is gone, and the lock with it
                log.debug("store lock: release failed", exc_info=True)


def _wait_mysql(conn: sa.Connection, timeout: float, where: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        wait = min(_MYSQL_WAIT_S, max(0.0, deadline - time.monotonic()))
        got = conn.exec_driver_sql(f"SELECT GET_LOCK({_MYSQL_NAME}, {wait:.3f})").scalar()
        conn.commit()
        if got == 1:
            return
        if time.monotonic() >= deadline:
            raise busy(where, timeout)


def _wait_pg(conn: sa.Connection, timeout: float, where: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        got = conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({_PG_KEY})").scalar()
        conn.commit()
        if got:
            return
        if time.monotonic() >= deadline:
            raise busy(where, timeout)
        time.sleep(_POLL_S)
