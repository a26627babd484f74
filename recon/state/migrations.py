"""Versioned migrations of the state store: plain functions, applied in order, each recorded.

``recon_schema_version`` holds one row per migration applied. Opening a store applies the missing
ones (under the store lock, so two first runs do not both create tables); a store whose version is
newer than ``CURRENT`` was written by a newer recon and is refused rather than misread.

To change the schema: add ``_v2(conn)`` that alters the tables, append it to MIGRATIONS, and
freeze a copy of today's table definitions inside ``_v1`` (it must keep creating version 1).
On MariaDB/MySQL each DDL statement commits by itself; every migration is therefore written to
be safe to run again (``checkfirst``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import sqlalchemy as sa

from recon import __version__
from recon.errors import StateError
from recon.state import tables

log = logging.getLogger(__name__)


def _v1(conn: sa.Connection) -> None:
    """Runs, xref registry and changes, decisions, findings, acceptances, counters."""
    tables.metadata.create_all(conn, checkfirst=True)
    conn.execute(sa.insert(tables.counters).values(name="next_xref", value=1))


MIGRATIONS: list[Callable[[sa.Connection], None]] = [_v1]
CURRENT = len(MIGRATIONS)


def stored_version(conn: sa.Connection) -> int:
    """The store's schema version; 0 for a database recon has not set up yet."""
    if not sa.inspect(conn).has_table(tables.schema_version.name):
        return 0
    version = conn.execute(sa.select(sa.func.max(tables.schema_version.c.version))).scalar()
    return int(version or 0)


def migrate(conn: sa.Connection, where: str) -> int:
    """Bring the store at ``where`` to CURRENT; the version found before. Refuses a newer one."""
    found = stored_version(conn)
    if found > CURRENT:
        raise StateError(
            f"the state store {where} has schema version {found}, but this recon ({__version__}) "
            f"understands versions up to {CURRENT}; upgrade recon, or use another --store"
        )
    for version in range(found + 1, CURRENT + 1):
        MIGRATIONS[version - 1](conn)
        conn.execute(
            sa.insert(tables.schema_version).values(
                version=version, applied_at=utc_now(), recon_version=__version__
            )
        )
        log.info("state store %s: migrated to schema version %d", where, version)
    return found


def utc_now() -> dt.datetime:
    """Now in UTC, without time zone and microseconds (what every backend stores alike)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
