"""Versioned migrations of the state store: plain functions, applied in order, each recorded.

``recon_schema_version`` holds one row per migration applied. Opening a store applies the missing
ones (under the store lock, so two first runs do not both create tables); a store whose version is
newer than ``CURRENT`` was written by a newer recon and is refused rather than misread.

To change the schema: add ``_vN(conn)`` that alters the tables, append it to MIGRATIONS, and
keep a frozen copy of the old definitions where a migration needs them (``_v1`` creates version
1 from its own copy, so a new store is built by the same steps an old one went through). On
MariaDB/MySQL each DDL statement commits by itself; every migration is therefore written to be
safe to run again (``checkfirst``, and ALTERs that set a column to its final type).

- **1**: runs, xref registry and changes, decisions, findings, acceptances, counters.
- **2**: record ids compared by exact characters and up to 700 characters long (MariaDB/MySQL:
  ``utf8mb4_bin``, which no longer merges ``ABC-1`` and ``abc-1``); LONGTEXT for finding keys,
  payloads, comments and reasons on MariaDB/MySQL (TEXT stops at 64 KB). PostgreSQL widens the
  id columns; SQLite needs nothing (it checks no lengths).
- **3**: differences, not copies: the runs record which finding families they checked
  (``families``); findings keep a payload only for leakage (the one family whose rows a later
  run reads back), with its ``digest`` and the run that wrote it (``payload_run``). Live
  findings and active records are no longer rewritten by every run: their last sighting is the
  latest run (that checked their family). The migration drops the payloads nobody reads.
- **4**: narrow tables for millions of rows (``recon.state.migration_v4``): finding ids as
  64-bit numbers, kinds by number (``recon_finding_kinds``), statuses as codes, leakage payloads
  as Parquet blocks of typed rows (``recon_finding_rows``), xref ids in the registry as numbers;
  no status or xref_id index, no run foreign keys on the big tables; on SQLite the findings keyed
  by their rowid and the registry WITHOUT ROWID.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from recon import __version__
from recon.errors import StateError
from recon.state import tables

log = logging.getLogger(__name__)


def _v1(conn: sa.Connection) -> None:
    """Runs, xref registry and changes, decisions, findings, acceptances, counters."""
    _v1_metadata().create_all(conn, checkfirst=True)
    conn.execute(sa.insert(tables.counters).values(name="next_xref", value=1))


def _v2(conn: sa.Connection) -> None:
    """Exact, longer record ids; text of any length on MariaDB/MySQL."""
    backend = conn.dialect.name
    if backend in ("mysql", "mariadb"):
        for statement in _V2_MYSQL:
            conn.exec_driver_sql(statement)
    elif backend == "postgresql":
        for table, column in _V2_IDS:
            conn.exec_driver_sql(
                f"ALTER TABLE {table} ALTER COLUMN {column} TYPE VARCHAR({_V2_ID_LENGTH})"
            )


def _v3(conn: sa.Connection) -> None:
    """Runs name the families they checked; findings keep a payload digest and its run."""
    columns = {
        "recon_runs": [("families", "VARCHAR(64)")],
        "recon_findings": [("digest", "BIGINT"), ("payload_run", "INTEGER")],
    }
    inspector = sa.inspect(conn)
    for table, added in columns.items():
        present = {c["name"] for c in inspector.get_columns(table)}
        for name, kind in added:
            if name not in present:  # safe to run again (MariaDB commits each ALTER)
                conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
    conn.exec_driver_sql(
        "UPDATE recon_findings SET payload = NULL WHERE family <> 'leakage' AND payload IS NOT NULL"
    )


def _v4(conn: sa.Connection) -> None:
    """Narrow findings, acceptances and registry (``recon.state.migration_v4``)."""
    from recon.state import migration_v4

    migration_v4.migrate(conn)


_V2_ID_LENGTH = 700
_V2_IDS = [
    ("recon_xref_registry", "record_id"),
    ("recon_decisions", "left_id"),
    ("recon_decisions", "right_id"),
]
_BIN = "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL"
_V2_MYSQL = [
    "ALTER TABLE recon_xref_registry "
    f"MODIFY `system` VARCHAR(16) {_BIN}, MODIFY record_id VARCHAR({_V2_ID_LENGTH}) {_BIN}",
    # The pair index keeps a 191-character prefix of each id: the whole would exceed 3072 bytes.
    "ALTER TABLE recon_decisions DROP INDEX ix_recon_decisions_pair, "
    f"MODIFY left_system VARCHAR(16) {_BIN}, MODIFY left_id VARCHAR({_V2_ID_LENGTH}) {_BIN}, "
    f"MODIFY right_system VARCHAR(16) {_BIN}, MODIFY right_id VARCHAR({_V2_ID_LENGTH}) {_BIN}, "
    "MODIFY comment LONGTEXT NOT NULL, MODIFY source LONGTEXT NOT NULL, "
    "ADD INDEX ix_recon_decisions_pair (left_system, left_id(191), right_system, right_id(191))",
    "ALTER TABLE recon_findings MODIFY `key` LONGTEXT NOT NULL, MODIFY payload LONGTEXT NULL",
    "ALTER TABLE recon_acceptances MODIFY reason LONGTEXT NOT NULL",
]

MIGRATIONS: list[Callable[[sa.Connection], None]] = [_v1, _v2, _v3, _v4]
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


_V1_MYSQL: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def _ref(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.Integer, sa.ForeignKey("recon_runs.run_id"), nullable=nullable)


def _v1_metadata() -> sa.MetaData:
    """The tables as schema version 1 created them (frozen: later versions alter these)."""
    m = sa.MetaData()
    sa.Table(
        "recon_schema_version",
        m,
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("applied_at", sa.DateTime, nullable=False),
        sa.Column("recon_version", sa.String(40), nullable=False),
        **_V1_MYSQL,
    )

    # Named counters: next_xref is the smallest xref number never issued (ids are never reused).
    sa.Table(
        "recon_counters",
        m,
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
        **_V1_MYSQL,
    )

    sa.Table(
        "recon_runs",
        m,
        sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("recon_version", sa.String(40), nullable=False),
        sa.Column("command", sa.String(255), nullable=False),
        sa.Column("as_of", sa.Date),
        sa.Column("inputs", sa.JSON, nullable=False),  # [{table, path or sql, sha256, rows...}]
        sa.Column("rules_hash", sa.String(64), nullable=False),
        sa.Column("rules", sa.JSON, nullable=False),  # [{path, sha256}]
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("timings", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        **_V1_MYSQL,
    )

    sa.Table(
        "recon_xref_registry",
        m,
        sa.Column("system", sa.String(16), primary_key=True),
        sa.Column("record_id", sa.String(255), primary_key=True),
        sa.Column("xref_id", sa.String(32), nullable=False, index=True),
        _ref("first_seen_run"),
        _ref("last_seen_run"),
        sa.Column("active", sa.Boolean, nullable=False),
        **_V1_MYSQL,
    )

    sa.Table(
        "recon_xref_changes",
        m,
        sa.Column("change_id", sa.Integer, primary_key=True, autoincrement=True),
        _ref("run_id"),
        sa.Column("kind", sa.String(16), nullable=False),  # new, merge, split, retired
        sa.Column("from_xref", sa.String(32)),
        sa.Column("to_xref", sa.String(32)),
        sa.Column("records", sa.Integer, nullable=False),
        sa.Column("record_ids", sa.JSON, nullable=False),  # ["crm:123", "erp:C-9", ...]
        **_V1_MYSQL,
    )

    sa.Table(
        "recon_decisions",
        m,
        sa.Column("decision_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("left_system", sa.String(16), nullable=False),
        sa.Column("left_id", sa.String(255), nullable=False),
        sa.Column("right_system", sa.String(16), nullable=False),
        sa.Column("right_id", sa.String(255), nullable=False),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("reviewer", sa.String(255), nullable=False),
        sa.Column("reviewed_on", sa.Date),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("applied_at", sa.DateTime),
        _ref("applied_run", nullable=True),
        sa.Index("ix_recon_decisions_pair", "left_system", "left_id", "right_system", "right_id"),
        **_V1_MYSQL,
    )

    sa.Table(
        "recon_findings",
        m,
        sa.Column("finding_id", sa.String(32), primary_key=True),
        sa.Column("family", sa.String(16), nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        _ref("first_seen_run"),
        _ref("last_seen_run"),
        _ref("resolved_run", nullable=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("payload", sa.Text),  # the finding's row as JSON text, as last seen
        sa.Column("value", sa.Numeric(38, 4, asdecimal=True)),
        **_V1_MYSQL,
    )

    sa.Table(
        "recon_acceptances",
        m,
        sa.Column("acceptance_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "finding_id",
            sa.String(32),
            sa.ForeignKey("recon_findings.finding_id"),
            nullable=False,
            index=True,
        ),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("until", sa.Date, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        **_V1_MYSQL,
    )
    return m


def utc_now() -> dt.datetime:
    """Now in UTC, without time zone and microseconds (what every backend stores alike)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
