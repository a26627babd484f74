"""Schema version 4: the findings, acceptances and registry rebuilt narrow (``recon.state.tables``).

Finding ids become numbers, family and kind a kind_id, statuses codes, leakage payloads Parquet
blocks of typed rows (``recon.state.rows``), xref ids their numbers; the status and xref_id
indexes and the run foreign keys of the big tables go. The rows are read, converted in frames and
written to the new tables.

SQLite and PostgreSQL change their schema inside the migration's transaction: the old tables are
dropped and the new ones created there, all or nothing. MariaDB/MySQL commits each DDL statement
by itself, so there the old tables are first renamed ``…_v3`` and dropped only once the new ones
hold their rows; a migration stopped half-way starts again from the ``…_v3`` tables.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from recon.errors import StateError
from recon.match.stable_ids import xref_number
from recon.state import bulk, lifecycle, rows, tables

OLD = ("recon_acceptances", "recon_findings", "recon_xref_registry")  # drop in this order
_SET_ASIDE = "_v3"
_FINDINGS = ["finding_id", "family", "key", "kind", "first_seen_run", "last_seen_run"]
_FINDINGS += ["resolved_run", "status", "payload", "value", "payload_run"]
_ACCEPTANCES = ["acceptance_id", "finding_id", "reason", "owner", "until", "created_at"]
_REGISTRY = ["system", "record_id", "xref_id", "first_seen_run", "last_seen_run", "active"]


def migrate(conn: sa.Connection) -> None:
    """Rebuild the three tables of schema version 3 as version 4 has them."""
    transactional = conn.dialect.name not in ("mysql", "mariadb")
    source = {name: name if transactional else _set_aside(conn, name) for name in OLD}
    findings = _read(conn, source["recon_findings"], _FINDINGS)
    acceptances = _read(conn, source["recon_acceptances"], _ACCEPTANCES)
    registry = _read(conn, source["recon_xref_registry"], _REGISTRY)
    if transactional:
        for name in OLD:
            conn.exec_driver_sql(f"DROP TABLE {_quoted(conn, name)}")
    for table in (tables.finding_kinds, tables.finding_rows, tables.findings):
        table.create(conn, checkfirst=True)
    tables.acceptances.create(conn, checkfirst=True)
    tables.xref_registry.create(conn, checkfirst=True)
    _write_findings(conn, findings)
    acceptances["finding_id"] = _numbers(acceptances["finding_id"])
    bulk.insert(conn, tables.acceptances, acceptances)
    if len(acceptances) and conn.dialect.name == "postgresql":  # its sequence starts after them
        conn.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('recon_acceptances', 'acceptance_id'), "
            "(SELECT max(acceptance_id) FROM recon_acceptances))"
        )
    registry["xref_number"] = _xref_numbers(registry.pop("xref_id"))
    registry["active"] = registry["active"].astype(bool)
    bulk.insert(conn, tables.xref_registry, registry.sort_values(["system", "record_id"]))
    if not transactional:
        for name in OLD:
            conn.exec_driver_sql(f"DROP TABLE {_quoted(conn, source[name])}")


def _set_aside(conn: sa.Connection, name: str) -> str:
    """MariaDB/MySQL: ``name`` renamed ``name_v3`` (once), and no half-made new table left."""
    old = name + _SET_ASIDE
    inspector = sa.inspect(conn)
    if inspector.has_table(old):  # a migration stopped half-way: start again from the old rows
        if inspector.has_table(name):
            conn.exec_driver_sql(f"DROP TABLE {_quoted(conn, name)}")
        return old
    for key in inspector.get_foreign_keys(name):  # names of foreign keys are the database's
        constraint = key.get("name")
        if constraint and key["referred_table"] == "recon_findings":
            conn.exec_driver_sql(
                f"ALTER TABLE {_quoted(conn, name)} DROP FOREIGN KEY {_quoted(conn, constraint)}"
            )
    conn.exec_driver_sql(f"RENAME TABLE {_quoted(conn, name)} TO {_quoted(conn, old)}")
    return old


def _read(conn: sa.Connection, name: str, columns: list[str]) -> pd.DataFrame:
    statement: Any = sa.select(*(sa.column(c) for c in columns)).select_from(sa.table(name))
    return bulk.read(conn, statement)


def _write_findings(conn: sa.Connection, findings: pd.DataFrame) -> None:
    """The findings with kind ids, status codes and their payloads as kept rows."""
    if not len(findings):
        return
    findings = findings.assign(finding_id=_numbers(findings["finding_id"]))
    pairs = findings[["family", "kind"]].astype(str).drop_duplicates().reset_index(drop=True)
    pairs.insert(0, "kind_id", np.arange(1, len(pairs) + 1, dtype=np.int64))
    bulk.insert(conn, tables.finding_kinds, pairs)
    kind_id = findings[["family", "kind"]].astype(str).merge(pairs, how="left")["kind_id"]
    block = pd.array([pd.NA] * len(findings), dtype="Int64")
    kept = np.flatnonzero(findings["payload"].notna().to_numpy())
    run = pd.to_numeric(findings["payload_run"]).fillna(pd.to_numeric(findings["last_seen_run"]))
    for written_by in pd.unique(run.to_numpy()[kept]):
        these = kept[run.to_numpy()[kept] == written_by]
        text = "\n".join(findings["payload"].to_numpy()[these])
        frame = pd.read_json(io.StringIO(text), lines=True, dtype=False)
        frame.insert(0, "finding_id", findings["finding_id"].to_numpy()[these])
        block[these] = rows.write(conn, int(written_by), frame)
    out = pd.DataFrame(
        {
            "finding_id": findings["finding_id"].to_numpy(),
            "kind_id": kind_id.to_numpy(dtype=np.int64),
            "key": findings["key"].to_numpy(dtype=object),
            "status": findings["status"].map(tables.STATUS).to_numpy(dtype=np.int64),
            "first_seen_run": pd.array(findings["first_seen_run"], dtype="Int64"),
            "last_seen_run": pd.array(findings["last_seen_run"], dtype="Int64"),
            "resolved_run": pd.array(findings["resolved_run"], dtype="Int64"),
            "value": findings["value"].map(_decimal_text).to_numpy(dtype=object),
            "row_block": block,
        }
    )
    bulk.insert(conn, tables.findings, out.sort_values("finding_id"))


def _numbers(ids: pd.Series) -> np.ndarray:
    try:
        return lifecycle.id_numbers(ids.tolist())
    except ValueError as exc:
        raise StateError(f"cannot migrate the state store to schema version 4: {exc}") from exc


def _xref_numbers(ids: pd.Series) -> np.ndarray:
    try:
        return xref_number(ids.astype("str"))
    except ValueError as exc:
        raise StateError(f"cannot migrate the state store to schema version 4: {exc}") from exc


def _decimal_text(value: object) -> str | None:
    """A stored value as exact text (SQLite may hand back a float, MariaDB a Decimal)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return json.dumps(value) if isinstance(value, float) else str(value)


def _quoted(conn: sa.Connection, name: str) -> str:
    return str(conn.dialect.identifier_preparer.quote(name))
