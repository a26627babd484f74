"""Reading and writing the xref registry and its changes, inside the caller's transaction.

The registry keeps one row per record ever seen: the number of its current xref id, the first run
that saw it, and whether the latest run saw it (``active``). A run writes only the differences:
records new to the registry, records whose xref id changed or that came back, and records that
left (made inactive, with ``last_seen_run`` set to the run before). An active record's
``last_seen_run`` is the latest run (every run reads the whole registry), so it is not rewritten
on every run: ``Store.registry`` fills it in. A second run over unchanged data writes nothing here.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from recon.state import bulk, tables
from recon.state.store import check_fits, first_few, shown_id, writing

_REG = tables.xref_registry
_KEYS = ["system", "record_id"]
_TYPES = {
    "system": pa.large_string(),
    "record_id": pa.large_string(),
    "xref_number": pa.int64(),
    "active": pa.bool_(),
}


def load(conn: sa.Connection) -> pd.DataFrame:
    """Every registry row: system, record_id, xref_number, active."""
    statement = sa.select(*(_REG.c[c] for c in _TYPES))
    table = bulk.read_arrow(conn, statement, _TYPES)
    return pd.DataFrame(
        {
            "system": pd.array(table.column("system"), dtype="str"),
            "record_id": pd.array(table.column("record_id"), dtype="str"),
            "xref_number": table.column("xref_number").to_numpy(),
            "active": table.column("active").to_numpy(zero_copy_only=False).astype(bool),
        }
    )


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
    """Bring the registry from ``stored`` (``load``) to ``current`` (system, record_id,
    xref_number); the rows written, by what happened to them (new, moved, gone, changes)."""
    at = pc.index_in(keys(current), value_set=keys(stored)).to_numpy(zero_copy_only=False)
    known = ~np.isnan(at.astype(np.float64))
    where = np.where(known, at, 0).astype(np.int64)
    stored_active = stored["active"].to_numpy(dtype=bool)
    stored_number = stored["xref_number"].to_numpy(dtype=np.int64)
    number = current["xref_number"].to_numpy(dtype=np.int64)
    seen = np.zeros(len(stored), dtype=bool)
    seen[where[known]] = True
    if len(stored):
        same = known & stored_active[where] & (stored_number[where] == number)
    else:
        same = np.zeros(len(current), dtype=bool)

    gone = stored.loc[~seen & stored_active, _KEYS]
    moved = current.loc[known & ~same, [*_KEYS, "xref_number"]]
    new = current.loc[~known, [*_KEYS, "xref_number"]]
    written = {"new": len(new), "moved": len(moved), "gone": len(gone), "changes": len(changes)}
    before = previous_run(conn, run_id)
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
        # In key order: appended to the registry's B-tree, not scattered through it.
        order = pc.sort_indices(
            pa.table({c: _text(new[c]) for c in _KEYS}),
            sort_keys=[("system", "ascending"), ("record_id", "ascending")],
        )
        rows = new.iloc[order.to_numpy()].assign(active=True)
        with writing(
            conn, f"{len(new)} new record(s) to the xref registry, {first_few(new, _record)}"
        ):
            bulk.insert(
                conn, _REG, rows, constants={"first_seen_run": run_id, "last_seen_run": run_id}
            )
    if len(changes):
        rows = pd.DataFrame(
            {
                "kind": changes["kind"].to_numpy(dtype=object),
                "from_xref": changes["from_xref"].to_numpy(dtype=object),
                "to_xref": changes["to_xref"].to_numpy(dtype=object),
                "records": changes["records"].astype("int64").to_numpy(),
                "record_ids": json_lists(changes["record_ids"]),
            }
        )
        with writing(conn, f"{len(rows)} xref change(s) of run {run_id}"):
            bulk.insert(conn, tables.xref_changes, rows, constants={"run_id": run_id})
    top = max(int(number.max()) if len(number) else 0, int(stored_number.max(initial=0)))
    greatest = sa.func.max if conn.dialect.name == "sqlite" else sa.func.greatest
    conn.execute(
        sa.update(tables.counters)
        .where(tables.counters.c.name == "next_xref")
        .values(value=greatest(tables.counters.c.value, top + 1))
    )
    return written


def keys(frame: pd.DataFrame) -> pa.Array:
    """``system`` and ``record_id`` of each row joined by a character no system name holds."""
    return pc.binary_join_element_wise(
        _text(frame["system"]), _text(frame["record_id"]), _scalar("\x1f")
    )


def json_lists(lists: pd.Series) -> pd.Series:
    """Each list of text as a JSON array (``["crm:1", "erp:C-9"]``), built for all lists at once
    by Arrow: the items escaped, then joined per list."""
    if not len(lists):
        return pd.Series([], dtype=object, index=lists.index)
    array = pa.array(lists.array if isinstance(lists.dtype, pd.ArrowDtype) else lists.tolist())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    array = array.cast(pa.list_(pa.large_string()))
    items = pc.list_flatten(array)
    for raw, escaped in (("\\", "\\\\"), ('"', '\\"')):
        items = pc.replace_substring(items, raw, escaped)
    control = pc.match_substring_regex(items, r"[\x00-\x1f]").to_numpy(zero_copy_only=False)
    if np.nan_to_num(control.astype(float)).any():  # rare: json's own escapes (\u0001, \n ...)
        texts = items.to_pylist()
        for i in np.flatnonzero(np.nan_to_num(control.astype(float))):
            texts[i] = json.dumps(str(texts[i]), ensure_ascii=False)[1:-1]
        items = pa.array(texts, type=pa.large_string())
    items = pc.fill_null(items, "")
    counts = pc.fill_null(pc.list_value_length(array), 0).to_numpy(zero_copy_only=False)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    lists_ = pa.ListArray.from_arrays(pa.array(offsets), items)
    joined = pc.binary_join(lists_, _scalar('","'))
    text = pc.binary_join_element_wise(_scalar('["'), joined, _scalar('"]'), _scalar(""))
    text = pc.if_else(pa.array(counts == 0), _scalar("[]"), text)
    return pd.Series(pd.array(text, dtype="str"), index=lists.index)


def _scalar(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())


def _text(values: pd.Series) -> pa.Array:
    array = pa.array(values.astype("str").array)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(pa.large_string())


def _record(row: pd.Series) -> str:
    return f"{row['system']} record {shown_id(row['record_id'])}"
