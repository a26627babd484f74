"""Findings and acceptances in the store, inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import pandas as pd
import sqlalchemy as sa

from recon.errors import StateError
from recon.state import lifecycle, tables
from recon.state.migrations import utc_now
from recon.state.store import check_fits, first_few, frame, shown_id, writing

_F = tables.findings
_A = tables.acceptances


def update(
    conn: sa.Connection,
    run_id: int,
    as_of: dt.date,
    keyed: pd.DataFrame,
    families: Collection[str],
) -> pd.DataFrame:
    """Classify this run's findings against the stored ones of the same families; store the result."""
    stored = frame(conn, sa.select(*(_F.c[c] for c in lifecycle.STORED_COLUMNS)))
    stored = stored[stored["family"].isin(list(families))]
    accepted = frame(conn, sa.select(_A.c.finding_id, _A.c.until))
    runs = frame(
        conn, sa.select(tables.runs.c.run_id, tables.runs.c.started_at, tables.runs.c.status)
    )
    result = lifecycle.classify(stored, keyed, accepted, run_id=run_id, as_of=as_of, runs=runs)

    exists = result["finding_id"].isin(stored["finding_id"])
    found = result["change"] != lifecycle.RESOLVED
    columns = ["family", "key", "kind", "status", "first_seen_run", "last_seen_run"]
    check_fits(_F, result[found], _finding)
    new = result[~exists]
    rows = _rows(new, [*columns, "resolved_run", "payload", "value"])
    if rows:
        with writing(conn, f"{len(rows)} new finding(s), {first_few(new, _finding)}"):
            conn.execute(sa.insert(_F), [{"finding_id": i, **r} for i, r in rows])
    _update(conn, result[exists & found], [*columns, "resolved_run", "payload", "value"])
    _update(conn, result[exists & ~found], ["status", "resolved_run"])
    return result


def _rows(result: pd.DataFrame, columns: list[str]) -> list[tuple[str, dict[str, object]]]:
    plain = result[["finding_id", *columns]].astype(object)
    plain = plain.where(plain.notna(), None)
    return [
        (row[0], dict(zip(columns, row[1:], strict=True)))
        for row in plain.itertuples(index=False, name=None)
    ]


def _update(conn: sa.Connection, result: pd.DataFrame, columns: list[str]) -> None:
    rows = _rows(result, columns)
    if not rows:
        return
    statement = (
        sa.update(_F)
        .where(_F.c.finding_id == sa.bindparam("k_id"))
        .values({c: sa.bindparam(f"v_{c}") for c in columns})
    )
    params = [{"k_id": i, **{f"v_{c}": v for c, v in r.items()}} for i, r in rows]
    with writing(conn, f"{len(rows)} finding(s), {first_few(result, _finding)}"):
        conn.execute(statement, params)


def _finding(row: pd.Series) -> str:
    return f"finding {row['finding_id']} ({row['family']} {row['kind']}: {shown_id(row['key'])})"


def accept(
    conn: sa.Connection,
    finding_id: str,
    *,
    reason: str,
    owner: str,
    until: dt.date,
    today: dt.date,
) -> dict[str, object]:
    """Store an acceptance of a known finding and take it out of the open list until ``until``."""
    if until < today:
        raise StateError(f"--until {until.isoformat()} is in the past; give today or a later date")
    if not reason.strip():
        raise StateError("--reason is empty; say why the finding is accepted")
    row = conn.execute(
        sa.select(_F.c.finding_id, _F.c.family, _F.c.kind, _F.c.key, _F.c.status).where(
            _F.c.finding_id == finding_id
        )
    ).first()
    if row is None:
        raise StateError(
            f"unknown finding id {finding_id}; the finding ids are in the findings of a run "
            "recorded in this store"
        )
    conn.execute(
        sa.insert(_A).values(
            finding_id=finding_id,
            reason=reason.strip(),
            owner=owner,
            until=until,
            created_at=utc_now(),
        )
    )
    if row.status == lifecycle.OPEN:
        conn.execute(
            sa.update(_F).where(_F.c.finding_id == finding_id).values(status=lifecycle.ACCEPTED)
        )
    return {"finding_id": finding_id, "family": row.family, "kind": row.kind, "key": row.key}
