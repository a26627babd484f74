"""The state store's tables (schema version 4), as SQLAlchemy Core metadata.

Names start with ``recon_`` so the store can share a database with other tables. Times are UTC
without a time zone (MariaDB DATETIME and SQLite keep none). InnoDB and utf8mb4 on MariaDB/MySQL:
transactions and any text.

The store keeps whatever the loader lets through. Record ids are compared as the loader compares
them, by exact characters: ``ABC-1`` and ``abc-1`` are two records (``utf8mb4_bin`` on
MariaDB/MySQL, whose default collation ignores case). Ids are VARCHARs so MariaDB can index them:
up to ``RECORD_ID_LENGTH`` characters, as long as InnoDB's 3072-byte key allows next to the system
(4 bytes a character). Free text (names in a finding's key, comments) is LONGTEXT there, since
MariaDB's TEXT stops at 64 KB. ``migrations`` brings stores of earlier versions to this.

Rows hold ranges, not copies per run: a registry row or a finding is written when it appears and
when it changes, and while it is active (live) its ``last_seen_run`` is read as the latest run
(that checked its family); see ``recon.state.registry`` and ``recon.state.findings_io``.

A million companies make millions of rows, so the big tables are narrow: a finding is keyed by
the 64 bits of its id (``F-`` and 16 hex digits) as a BIGINT, names its family and kind by a
number (``recon_finding_kinds``) and its status by a code (``STATUS``); the registry keeps the
number of an xref id (``XR-000123`` is 123). On SQLite the finding id is the rowid and the
registry a WITHOUT ROWID table: one B-tree each, no second copy of the key in an index. The rows a
report reads back (leakage) are kept as Parquet blocks (``recon_finding_rows``), compressed, not
as JSON text per finding. The big tables have no foreign keys to the runs: PostgreSQL would check
each of millions of rows on insert, and MariaDB would index every run column.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

metadata = sa.MetaData()
RECORD_ID_LENGTH = 700  # (16 + 700) * 4 bytes = 2864 of InnoDB's 3072-byte key
_ID = 255  # names of people and hosts
_MYSQL: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
_MYSQL_DIALECTS = ("mysql", "mariadb")


def exact(length: int) -> sa.types.TypeEngine[str]:
    """A VARCHAR compared by exact characters on every backend (binary collation on MariaDB)."""
    binary = mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin")
    return sa.String(length).with_variant(binary, *_MYSQL_DIALECTS)


def long_text() -> sa.types.TypeEngine[str]:
    """Text of any length: TEXT, LONGTEXT on MariaDB/MySQL (whose TEXT holds 64 KB)."""
    return sa.Text().with_variant(mysql.LONGTEXT(), *_MYSQL_DIALECTS)


def id64() -> sa.types.TypeEngine[int]:
    """A 64-bit id: BIGINT; INTEGER on SQLite, whose INTEGER PRIMARY KEY is the rowid."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def blob() -> sa.types.TypeEngine[bytes]:
    """Bytes of any length: LONGBLOB on MariaDB/MySQL (whose BLOB holds 64 KB)."""
    return sa.LargeBinary().with_variant(mysql.LONGBLOB(), *_MYSQL_DIALECTS)


# A finding's status as stored.
STATUS = {"open": 0, "accepted": 1, "resolved": 2}

# The prefix of each id the decisions' lookup index keeps on MariaDB/MySQL (its whole key would
# exceed 3072 bytes); rows are still compared in full.
_PAIR_PREFIX = {"left_id": 191, "right_id": 191}


def _run_ref(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.Integer, sa.ForeignKey("recon_runs.run_id"), nullable=nullable)


schema_version = sa.Table(
    "recon_schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", sa.DateTime, nullable=False),
    sa.Column("recon_version", sa.String(40), nullable=False),
    **_MYSQL,
)

# Named counters: next_xref is the smallest xref number never issued (ids are never reused).
counters = sa.Table(
    "recon_counters",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
    **_MYSQL,
)

runs = sa.Table(
    "recon_runs",
    metadata,
    sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("user", sa.String(_ID), nullable=False),
    sa.Column("host", sa.String(_ID), nullable=False),
    sa.Column("recon_version", sa.String(40), nullable=False),
    sa.Column("command", sa.String(_ID), nullable=False),
    sa.Column("as_of", sa.Date),
    sa.Column("inputs", sa.JSON, nullable=False),  # [{table, path or sql, sha256, rows...}]
    sa.Column("rules_hash", sa.String(64), nullable=False),
    sa.Column("rules", sa.JSON, nullable=False),  # [{path, sha256}]
    sa.Column("counts", sa.JSON, nullable=False),
    sa.Column("timings", sa.JSON, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    # The finding families the run checked, comma-separated ("duplicate,leakage,quality").
    sa.Column("families", sa.String(64)),
    **_MYSQL,
)

xref_registry = sa.Table(
    "recon_xref_registry",
    metadata,
    sa.Column("system", exact(16), primary_key=True),
    sa.Column("record_id", exact(RECORD_ID_LENGTH), primary_key=True),
    sa.Column("xref_number", sa.BigInteger, nullable=False),  # 123 for XR-000123
    sa.Column("first_seen_run", sa.Integer, nullable=False),
    sa.Column("last_seen_run", sa.Integer, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sqlite_with_rowid=False,
    **_MYSQL,
)

xref_changes = sa.Table(
    "recon_xref_changes",
    metadata,
    sa.Column("change_id", sa.Integer, primary_key=True, autoincrement=True),
    _run_ref("run_id"),
    sa.Column("kind", sa.String(16), nullable=False),  # new, merge, split, retired
    sa.Column("from_xref", sa.String(32)),
    sa.Column("to_xref", sa.String(32)),
    sa.Column("records", sa.Integer, nullable=False),
    sa.Column("record_ids", sa.JSON, nullable=False),  # ["crm:123", "erp:C-9", ...]
    **_MYSQL,
)

decisions = sa.Table(
    "recon_decisions",
    metadata,
    sa.Column("decision_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("left_system", exact(16), nullable=False),
    sa.Column("left_id", exact(RECORD_ID_LENGTH), nullable=False),
    sa.Column("right_system", exact(16), nullable=False),
    sa.Column("right_id", exact(RECORD_ID_LENGTH), nullable=False),
    sa.Column("decision", sa.String(20), nullable=False),
    sa.Column("reviewer", sa.String(_ID), nullable=False),
    sa.Column("reviewed_on", sa.Date),
    sa.Column("comment", long_text(), nullable=False),
    sa.Column("source", long_text(), nullable=False),
    sa.Column("applied_at", sa.DateTime),
    _run_ref("applied_run", nullable=True),
    sa.Index(
        "ix_recon_decisions_pair",
        "left_system",
        "left_id",
        "right_system",
        "right_id",
        mysql_length=_PAIR_PREFIX,
        mariadb_length=_PAIR_PREFIX,
    ),
    **_MYSQL,
)

finding_kinds = sa.Table(
    "recon_finding_kinds",
    metadata,
    sa.Column("kind_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("family", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.UniqueConstraint("family", "kind", name="uq_recon_finding_kinds"),
    **_MYSQL,
)

# Parquet blocks of finding rows (leakage: the check's row as last seen), each holding the
# finding_id of its rows; a finding names the block that holds its row.
finding_rows = sa.Table(
    "recon_finding_rows",
    metadata,
    sa.Column("block_id", sa.Integer, primary_key=True, autoincrement=True),
    _run_ref("run_id"),
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.Column("data", blob(), nullable=False),
    **_MYSQL,
)

findings = sa.Table(
    "recon_findings",
    metadata,
    sa.Column("finding_id", id64(), primary_key=True, autoincrement=False),
    sa.Column("kind_id", sa.Integer, nullable=False),
    sa.Column("key", long_text(), nullable=False),
    sa.Column("status", sa.SmallInteger, nullable=False),  # STATUS
    sa.Column("first_seen_run", sa.Integer, nullable=False),
    sa.Column("last_seen_run", sa.Integer, nullable=False),
    sa.Column("resolved_run", sa.Integer),
    sa.Column("value", sa.Numeric(38, 4, asdecimal=True)),  # leakage: the gap
    sa.Column("row_block", sa.Integer),  # recon_finding_rows.block_id, where a row is kept
    **_MYSQL,
)

acceptances = sa.Table(
    "recon_acceptances",
    metadata,
    sa.Column("acceptance_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "finding_id",
        id64(),
        sa.ForeignKey("recon_findings.finding_id"),
        nullable=False,
        index=True,
    ),
    sa.Column("reason", long_text(), nullable=False),
    sa.Column("owner", sa.String(_ID), nullable=False),
    sa.Column("until", sa.Date, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    **_MYSQL,
)
