"""Reading and writing the xref registry and its changes, inside the caller's transaction.

The registry keeps one row per record ever seen: its current xref_id, the first and last run that
saw it, and whether the latest run saw it (``active``). Writes touch only what changed, plus one
bulk UPDATE of ``last_seen_run``, so a weekly run over a million records stays cheap.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from recon.state import tables
from recon.state.store import check_fits, first_few, frame, shown_id, writing

_REG = tables.xref_registry
_KEYS = ["system", "record_id"]


def load(conn: sa.Connection) -> pd.DataFrame:
    """Every registry row: system, record_id, xref_id, active."""
    statement = sa.select(_REG.c.system, _REG.c.record_id, _REG.c.xref_id, _REG.c.active)
    out = frame(conn, statement)
    out["active"] = out["active"].astype(bool)
    return out


def next_number(conn: sa.Connection) -> int:
    value = conn.execute(
        sa.select(tables.counters.c.value).where(tables.counters.c.name == "next_xref")
    ).scalar_one()
    return int(value)


def write(
    conn: sa.Connection,
    run_id: int,
    stored: pd.DataFrame,
    current: pd.DataFrame,
    changes: pd.DataFrame,
) -> None:
    """Bring the registry from ``stored`` (``load``) to ``current`` (system, record_id, xref_id)."""
    both = current[[*_KEYS, "xref_id"]].merge(
        stored, on=_KEYS, how="outer", suffixes=("", "_before"), indicator=True
    )
    seen = both["_merge"] != "right_only"
    known = both["_merge"] != "left_only"
    active = both["active"].astype("boolean").fillna(False).to_numpy(dtype=bool)

    gone = both[~seen & active]
    _update(conn, gone, {"active": False})
    moved = both[seen & known & (~active | (both["xref_id"] != both["xref_id_before"]))]
    _update(conn, moved, {"xref_id": None, "active": True})
    with writing(conn, f"the xref registry's last_seen_run (run {run_id})"):
        conn.execute(sa.update(_REG).where(_REG.c.active.is_(True)).values(last_seen_run=run_id))
    new = both[seen & ~known]
    if len(new):
        check_fits(_REG, new, _record)
        with writing(
            conn, f"{len(new)} new record(s) to the xref registry, {first_few(new, _record)}"
        ):
            conn.execute(
                sa.insert(_REG),
                [
                    {
                        "system": s,
                        "record_id": r,
                        "xref_id": x,
                        "first_seen_run": run_id,
                        "last_seen_run": run_id,
                        "active": True,
                    }
                    for s, r, x in new[[*_KEYS, "xref_id"]].itertuples(index=False, name=None)
                ],
            )
    if len(changes):
        rows = changes.assign(run_id=run_id)
        rows["record_ids"] = rows["record_ids"].map(list)
        with writing(conn, f"{len(rows)} xref change(s) of run {run_id}"):
            conn.execute(sa.insert(tables.xref_changes), rows.to_dict(orient="records"))
    issued = pd.concat([current["xref_id"], stored["xref_id"]])
    top = int(issued.str.slice(3).astype("int64").max()) if len(issued) else 0
    conn.execute(
        sa.update(tables.counters)
        .where(tables.counters.c.name == "next_xref")
        .values(value=sa.func.greatest(tables.counters.c.value, top + 1))
        if conn.dialect.name != "sqlite"
        else sa.update(tables.counters)
        .where(tables.counters.c.name == "next_xref")
        .values(value=sa.func.max(tables.counters.c.value, top + 1))
    )


def _update(conn: sa.Connection, rows: pd.DataFrame, values: dict[str, object]) -> None:
    """UPDATE the registry rows ``rows`` names; a None in ``values`` takes the row's own value."""
    if not len(rows):
        return
    statement = (
        sa.update(_REG)
        .where(_REG.c.system == sa.bindparam("k_system"))
        .where(_REG.c.record_id == sa.bindparam("k_record_id"))
        .values({c: sa.bindparam(f"v_{c}") if v is None else v for c, v in values.items()})
    )
    params = [
        {"k_system": s, "k_record_id": r, **{f"v_{c}": x for c in values if values[c] is None}}
        for s, r, x in rows[[*_KEYS, "xref_id"]].itertuples(index=False, name=None)
    ]
    with writing(conn, f"{len(rows)} record(s) of the xref registry, {first_few(rows, _record)}"):
        conn.execute(statement, params)


def _record(row: pd.Series) -> str:
    return f"{row['system']} record {shown_id(row['record_id'])}"
