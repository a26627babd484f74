"""Reading and writing the xref registry and its changes, inside the caller's transaction.

The registry keeps one row per record ever seen: its current xref_id, the first run that saw it,
and whether the latest run saw it (``active``). A run writes only the differences: records new to
the registry, records whose xref_id changed or that came back, and records that left (made
inactive, with ``last_seen_run`` set to the run before). An active record's ``last_seen_run`` is
the latest run (every run reads the whole registry), so it is not rewritten on every run:
``Store.registry`` fills it in. A second run over unchanged data writes nothing here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from recon.state import bulk, tables
from recon.state.store import check_fits, first_few, shown_id, writing

_REG = tables.xref_registry
_KEYS = ["system", "record_id"]


def load(conn: sa.Connection) -> pd.DataFrame:
    """Every registry row: system, record_id, xref_id, active."""
    statement = sa.select(_REG.c.system, _REG.c.record_id, _REG.c.xref_id, _REG.c.active)
    out = bulk.read(conn, statement)
    out["active"] = out["active"].astype(bool)
    return out


def next_number(conn: sa.Connection) -> int:
    value = conn.execute(
        sa.select(tables.counters.c.value).where(tables.counters.c.name == "next_xref")
    ).scalar_one()
    return int(value)


def previous_run(conn: sa.Connection, run_id: int) -> int | None:
    """The run recorded before ``run_id`` (the one an active record was last seen in)."""
    runs = tables.runs.c.run_id
    value = conn.execute(sa.select(sa.func.max(runs)).where(runs < run_id)).scalar()
    return None if value is None else int(value)


def write(
    conn: sa.Connection,
    run_id: int,
    stored: pd.DataFrame,
    current: pd.DataFrame,
    changes: pd.DataFrame,
) -> dict[str, int]:
    """Bring the registry from ``stored`` (``load``) to ``current`` (system, record_id, xref_id);
    the rows written, by what happened to them (new, moved, gone, changes)."""
    both = current[[*_KEYS, "xref_id"]].merge(
        stored, on=_KEYS, how="outer", suffixes=("", "_before"), indicator=True
    )
    seen = (both["_merge"] != "right_only").to_numpy()
    known = (both["_merge"] != "left_only").to_numpy()
    active = both["active"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    same = (both["xref_id"] == both["xref_id_before"]).fillna(False).to_numpy(dtype=bool)

    gone = both.loc[~seen & active, _KEYS]
    before = previous_run(conn, run_id)
    moved = both.loc[seen & known & (~active | ~same), [*_KEYS, "xref_id"]]
    new = both.loc[seen & ~known, [*_KEYS, "xref_id"]]
    written = {"new": len(new), "moved": len(moved), "gone": len(gone), "changes": len(changes)}
    if len(gone):
        rows = gone.assign(active=False, last_seen_run=before if before else run_id)
        with writing(conn, f"{len(gone)} record(s) that left the xref registry"):
            bulk.update(conn, _REG, _KEYS, rows)
    if len(moved):
        check_fits(_REG, moved, _record)
        rows = moved.assign(active=True, last_seen_run=run_id)
        with writing(
            conn, f"{len(moved)} record(s) of the xref registry, {first_few(moved, _record)}"
        ):
            bulk.update(conn, _REG, _KEYS, rows)
    if len(new):
        check_fits(_REG, new, _record)
        rows = new.sort_values(_KEYS).assign(
            first_seen_run=run_id, last_seen_run=run_id, active=True
        )
        with writing(
            conn, f"{len(new)} new record(s) to the xref registry, {first_few(new, _record)}"
        ):
            bulk.insert(conn, _REG, rows)
    if len(changes):
        rows = pd.DataFrame(
            {
                "run_id": run_id,
                "kind": changes["kind"].to_numpy(dtype=object),
                "from_xref": changes["from_xref"].to_numpy(dtype=object),
                "to_xref": changes["to_xref"].to_numpy(dtype=object),
                "records": changes["records"].astype("int64").to_numpy(),
                "record_ids": json_lists(changes["record_ids"]).to_numpy(dtype=object),
            }
        )
        with writing(conn, f"{len(rows)} xref change(s) of run {run_id}"):
            bulk.insert(conn, tables.xref_changes, rows)
    issued = pd.concat([current["xref_id"], stored["xref_id"]])
    top = int(issued.str.slice(3).astype("int64").max()) if len(issued) else 0
    greatest = sa.func.max if conn.dialect.name == "sqlite" else sa.func.greatest
    conn.execute(
        sa.update(tables.counters)
        .where(tables.counters.c.name == "next_xref")
        .values(value=greatest(tables.counters.c.value, top + 1))
    )
    return written


def json_lists(lists: pd.Series) -> pd.Series:
    """Each list of text as a JSON array (``["crm:1", "erp:C-9"]``), built for all lists at once:
    the items escaped column-wise, then one join split at the list ends."""
    items = lists.reset_index(drop=True).explode()
    if not len(items):
        return pd.Series([], dtype=object, index=lists.index)
    text = items.astype("string").fillna("")
    for raw, escaped in (("\\", "\\\\"), ('"', '\\"')):
        text = text.str.replace(raw, escaped, regex=False)
    control = text.str.contains(r"[\x00-\x1f]", regex=True).fillna(False).to_numpy(dtype=bool)
    if control.any():  # rare: json's own escapes (\u0001, \n ...), item by item
        import json

        fixed = [json.dumps(str(v), ensure_ascii=False)[1:-1] for v in items[control]]
        text = text.copy()
        text.iloc[np.flatnonzero(control)] = fixed
    position = pd.Series(np.arange(len(items)), index=items.index)
    first = ~position.index.duplicated(keep="first")
    last = ~position.index.duplicated(keep="last")
    empty = items.isna().to_numpy() & first & last  # an empty list explodes to one NaN
    opened = np.where(first, '["', '"')
    closed = np.where(last, '"]\x1e', '",')
    pieces = (opened + text.to_numpy(dtype=object) + closed).astype(object)
    pieces[empty] = "[]\x1e"
    joined = "".join(pieces.tolist()).split("\x1e")[:-1]
    return pd.Series(joined, index=lists.index, dtype=object)


def _record(row: pd.Series) -> str:
    return f"{row['system']} record {shown_id(row['record_id'])}"
