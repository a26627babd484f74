"""Findings and acceptances in the store, inside the caller's transaction.

A finding is one row for its whole life (first seen, last seen, resolved), and a run writes only
what changed: findings new to the store or back after being resolved, findings whose status,
first run or kept row changed (``recon.state.rows``), and findings it resolved. A finding still
found leaves its row alone: while it is live, the runs that check its family see it, so its last
sighting is the latest of those runs (``Store.findings`` fills it in). A second run over
unchanged data writes nothing here.

The run reads back only what the lifecycle needs of the live findings (id, kind, status, first
run, where the row is kept), as numbers, straight into Arrow; the key and last sighting only of
those it resolves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from recon.errors import StateError
from recon.state import bulk, lifecycle, rows, tables
from recon.state.keys import VOLATILE
from recon.state.migrations import utc_now
from recon.state.store import (
    check_fits,
    first_few,
    frame,
    last_checked,
    seen_until,
    shown_id,
    writing,
)

_F = tables.findings
_A = tables.acceptances
_K = tables.finding_kinds
_STATUS = tables.STATUS
_STATUS_VALUES = list(_STATUS.values())
_LIVE_TYPES = {
    "finding_id": pa.int64(),
    "kind_id": pa.int64(),
    "status": pa.int64(),
    "first_seen_run": pa.int64(),
    "row_block": pa.int64(),
}


def update(
    conn: sa.Connection,
    run_id: int,
    as_of: dt.date,
    keyed: pd.DataFrame,
    families: Collection[str],
    kept: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Classify this run's findings against the live ones of the same families; store what
    changed. ``keyed``: ``recon.state.keys.keyed_findings`` of every family checked (ids as
    numbers); ``kept``: ``finding_id`` and the row of each finding of ``KEEPS_ROWS``. Returns
    the lifecycle frame (``lifecycle.RESULT_COLUMNS``, ids as text)."""
    keyed = keyed.reset_index(drop=True)
    kinds = _kinds(conn, keyed)
    checked = kinds.loc[kinds["family"].isin(list(families)), "kind_id"]
    live = _live(conn, [int(k) for k in checked])
    prev = _stored(live, kinds, last_checked(conn, before=run_id))
    accepted = frame(conn, sa.select(_A.c.finding_id, _A.c.until))
    accepted["finding_id"] = accepted["finding_id"].astype(np.int64)
    runs = frame(
        conn, sa.select(tables.runs.c.run_id, tables.runs.c.started_at, tables.runs.c.status)
    )
    result = lifecycle.classify(prev, keyed, accepted, run_id=run_id, as_of=as_of, runs=runs)
    del prev  # millions of rows: gone before the writes build theirs
    result = _with_resolved(conn, result, run_id)

    ids = result["finding_id"].to_numpy(dtype=np.int64)
    at_live = pd.Index(live["finding_id"]).get_indexer(ids)
    was_live = at_live >= 0
    found = (result["change"] != lifecycle.RESOLVED).to_numpy()
    status = _codes(result["status"])
    moved = was_live & (
        (status != _taken(live["status"], at_live))
        | (result["first_seen_run"].to_numpy() != _taken(live["first_seen_run"], at_live))
    )
    fresh = found & ~was_live
    back = fresh & np.isin(ids, _resolved_ids(conn, checked, ids[fresh]))
    block = _taken(live["row_block"], at_live, missing=-1)
    restored = _store_rows(conn, run_id, kept, ids, found, fresh, block)
    rewritten = restored >= 0
    block = np.where(rewritten, restored, block)
    new = np.flatnonzero(fresh & ~back)
    new = new[np.argsort(ids[new], kind="stable")]  # appended to the id's B-tree, in order
    full = np.flatnonzero(back | (found & was_live & (moved | rewritten)))
    gone = np.flatnonzero(~found)
    if len(new) + len(full) + len(gone):  # a second run over unchanged data writes none
        some = np.concatenate([new, full, gone])
        named = ["family", "kind", "key", "first_seen_run", "last_seen_run", "resolved_run"]
        part = result[[*named, "value"]].iloc[some].reset_index(drop=True)
        written = pd.DataFrame(
            {
                "finding_id": ids[some],
                "kind_id": _kind_ids(part, kinds),
                "status": status[some],
                **{c: part[c] for c in named[2:]},
                "value": part["value"],
                "row_block": pd.arrays.IntegerArray(block[some], block[some] < 0),
            }
        )
        _write(
            conn,
            run_id,
            written.assign(family=part["family"], kind=part["kind"]),
            len(new),
            len(full),
        )
    if rewritten.any():
        old = _taken(live["row_block"], at_live[rewritten & was_live], missing=-1)
        rows.drop_unused(conn, old[old >= 0].tolist())
    out = result.assign(finding_id=pd.array(lifecycle.id_text(ids), dtype="str"))
    # What was written, for RunRecord.written (taken off by record_run).
    out.attrs["written"] = {"new": len(new), "changed": len(full), "resolved": len(gone)}
    return out


def _write(conn: sa.Connection, run_id: int, written: pd.DataFrame, new: int, full: int) -> None:
    """Insert the first ``new`` rows of ``written`` (in id order), rewrite the ``full`` next
    ones, resolve the rest."""
    columns = ["finding_id", "kind_id", "key", "status", "first_seen_run", "value", "row_block"]
    if new:
        added = written.iloc[:new]
        with writing(conn, f"{new} new finding(s), {first_few(added, _finding)}"):
            bulk.insert(conn, _F, added[columns], constants={"last_seen_run": run_id})
    if full:
        changed = written.iloc[new : new + full]
        columns += ["last_seen_run", "resolved_run"]
        with writing(conn, f"{full} finding(s), {first_few(changed, _finding)}"):
            bulk.update(conn, _F, ["finding_id"], changed[columns])
    gone = written.iloc[new + full :]
    if len(gone):
        columns = ["finding_id", "status", "resolved_run", "last_seen_run"]
        with writing(conn, f"{len(gone)} resolved finding(s), {first_few(gone, _finding)}"):
            bulk.update(conn, _F, ["finding_id"], gone[columns])


def _kinds(conn: sa.Connection, keyed: pd.DataFrame) -> pd.DataFrame:
    """Every stored kind (kind_id, family, kind), the kinds of ``keyed`` added."""
    stored = frame(conn, sa.select(_K.c.kind_id, _K.c.family, _K.c.kind))
    stored = stored.astype({"kind_id": np.int64, "family": "str", "kind": "str"})
    pairs = _pairs(keyed)[1]
    known = pairs.merge(stored, on=["family", "kind"], how="left")
    added = known.loc[known["kind_id"].isna(), ["family", "kind"]].reset_index(drop=True)
    if len(added):
        check_fits(_K, added, lambda row: f"finding kind {shown_id(row['kind'])}")
        top = int(stored["kind_id"].max()) if len(stored) else 0
        added.insert(0, "kind_id", np.arange(top + 1, top + 1 + len(added), dtype=np.int64))
        with writing(conn, f"{len(added)} finding kind(s)"):
            bulk.insert(conn, _K, added)
        stored = pd.concat([stored, added], ignore_index=True)
    return stored.astype({"kind_id": np.int64, "family": "str", "kind": "str"})


def _kind_ids(findings: pd.DataFrame, kinds: pd.DataFrame) -> np.ndarray:
    """The kind_id of each finding (family and kind), from ``_kinds``."""
    codes, pairs = _pairs(findings)
    at = pd.MultiIndex.from_frame(kinds[["family", "kind"]]).get_indexer(
        pd.MultiIndex.from_frame(pairs)
    )
    return kinds["kind_id"].to_numpy()[at][codes]


def _pairs(findings: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Each finding's (family, kind) pair as a code, and the pairs (family, kind) coded."""
    family = _encoded(findings["family"])
    kind = _encoded(findings["kind"])
    n = max(len(kind.dictionary), 1)
    combined = family.indices.to_numpy().astype(np.int64) * n + kind.indices.to_numpy()
    codes, uniques = pd.factorize(combined)
    pairs = pd.DataFrame(
        {
            "family": family.dictionary.take(pa.array(uniques // n)).to_pandas(),
            "kind": kind.dictionary.take(pa.array(uniques % n)).to_pandas(),
        }
    ).astype("str")
    return codes, pairs


def _encoded(values: pd.Series) -> pa.DictionaryArray:
    array = pa.array(values.astype("str").array)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.dictionary_encode()


def _live(conn: sa.Connection, kind_ids: list[int]) -> pd.DataFrame:
    """The live findings of these kinds: _LIVE_TYPES' columns (row_block -1 where none)."""
    if not kind_ids:
        return pd.DataFrame({c: np.empty(0, dtype=np.int64) for c in _LIVE_TYPES})
    statement = sa.select(*(_F.c[c] for c in _LIVE_TYPES)).where(
        # "not resolved", not "open or accepted": most rows are live, and a scan reads them
        # faster than an index would.
        _F.c.status != _STATUS[lifecycle.RESOLVED],
        _F.c.kind_id.in_(kind_ids),
    )
    table = bulk.read_arrow(conn, statement, _LIVE_TYPES)
    out = {c: table.column(c).to_numpy(zero_copy_only=False) for c in _LIVE_TYPES}
    block = table.column("row_block").fill_null(-1).to_numpy(zero_copy_only=False)
    return pd.DataFrame({**out, "row_block": block}).astype(np.int64)


def _stored(live: pd.DataFrame, kinds: pd.DataFrame, checked: dict[str, int]) -> pd.DataFrame:
    """The live findings as ``lifecycle.STORED_COLUMNS``: family and kind from their kind_id,
    without keys (read below for those resolved now), last seen by their family's latest run."""
    at = pd.Index(kinds["kind_id"]).get_indexer(live["kind_id"].to_numpy())
    seen = kinds["family"].map(checked).fillna(0).to_numpy(dtype=np.int64)
    names = [name for name, _ in sorted(_STATUS.items(), key=lambda item: item[1])]
    families = sorted(set(kinds["family"]))
    named = pd.Categorical(kinds["kind"])
    return pd.DataFrame(
        {
            "finding_id": live["finding_id"].to_numpy(),
            # Codes, not text per row: only the findings resolved now take these.
            "family": pd.Categorical(kinds["family"], categories=families).take(at),
            "key": pd.array(pa.nulls(len(live), pa.large_string()), dtype="str"),
            "kind": named.take(at),
            "status": pd.Categorical.from_codes(live["status"].to_numpy(), categories=names),
            "first_seen_run": live["first_seen_run"].to_numpy(),
            "last_seen_run": seen[at] if len(at) else np.empty(0, dtype=np.int64),
            "resolved_run": np.full(len(live), None, dtype=object),
        }
    )


def _with_resolved(conn: sa.Connection, result: pd.DataFrame, run_id: int) -> pd.DataFrame:
    """The findings resolved now with their key and last sighting as stored, in order."""
    gone = (result["change"] == lifecycle.RESOLVED).to_numpy()
    if not gone.any():
        return result
    ids = result.loc[gone, "finding_id"].to_numpy(dtype=np.int64)
    stored = bulk.read_ids(conn, _F.c.finding_id, ids.tolist(), _F.c.key, _F.c.last_seen_run)
    stored = stored.astype({"finding_id": np.int64}).set_index("finding_id").reindex(ids)
    last = pd.DataFrame(
        {
            "family": result.loc[gone, "family"].to_numpy(),
            "status": lifecycle.OPEN,
            "last_seen_run": stored["last_seen_run"].to_numpy(),
        }
    )
    checked = last_checked(conn, before=run_id)
    result = result.copy()
    result.loc[gone, "key"] = stored["key"].to_numpy(dtype=object)
    result.loc[gone, "last_seen_run"] = seen_until(last, checked).to_numpy(dtype=np.int64)
    return result.take(lifecycle.in_order(result)).reset_index(drop=True)


def _store_rows(
    conn: sa.Connection,
    run_id: int,
    kept: pd.DataFrame | None,
    ids: np.ndarray,
    found: np.ndarray,
    fresh: np.ndarray,
    stored_block: np.ndarray,
) -> np.ndarray:
    """Keep the rows of ``kept`` new to the store or changed since kept: the block of each
    finding (aligned with ``ids``) whose row was written now, -1 for the others.
    ``stored_block``: the block holding each finding's row before (-1: none)."""
    block = np.full(len(ids), -1, dtype=np.int64)
    if kept is None or not len(kept):
        return block
    kept = kept.drop_duplicates("finding_id").reset_index(drop=True)
    at = pd.Index(kept["finding_id"].to_numpy(dtype=np.int64)).get_indexer(ids)
    mine = found & (at >= 0)
    # Rows are compared and kept in the check's order: the next run reads them back aligned.
    was = np.flatnonzero(mine & ~fresh)
    was = was[np.argsort(at[was], kind="stable")]
    before = np.where(stored_block[was] >= 0, stored_block[was], np.nan)
    stored = rows.read(conn, ids[was], before)
    differs = np.zeros(len(ids), dtype=bool)
    differs[was] = rows.changed(stored, _rows_at(kept, at[was]), VOLATILE)
    write = np.flatnonzero((mine & fresh) | differs)
    write = write[np.argsort(at[write], kind="stable")]
    if len(write):
        block[write] = rows.write(conn, run_id, _rows_at(kept, at[write]))
    return block


def _rows_at(frame: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """``frame``'s rows at ``positions``; the frame itself when that is all of it, in order."""
    if len(positions) == len(frame) and np.array_equal(positions, np.arange(len(frame))):
        return frame
    return frame.iloc[positions]


def _resolved_ids(conn: sa.Connection, kind_ids: pd.Series, fresh: np.ndarray) -> np.ndarray:
    """Which of the ``fresh`` finding ids are stored, resolved (they come back: an UPDATE)."""
    if not len(fresh) or not len(kind_ids):
        return np.empty(0, dtype=np.int64)
    statement = sa.select(_F.c.finding_id).where(
        _F.c.kind_id.in_([int(k) for k in kind_ids]),
        _F.c.status == _STATUS[lifecycle.RESOLVED],
    )
    return bulk.read_arrow(conn, statement, {"finding_id": pa.int64()}).column(0).to_numpy()


def _taken(values: pd.Series, at: np.ndarray, missing: int = 0) -> np.ndarray:
    """``values`` at positions ``at`` (int64), ``missing`` where ``at`` is -1."""
    array = values.to_numpy(dtype=np.int64)
    if not len(array):
        return np.full(len(at), missing, dtype=np.int64)
    return np.where(at >= 0, array[np.maximum(at, 0)], missing)


def _codes(status: pd.Series) -> np.ndarray:
    """The stored code of each status."""
    names = pa.array(list(_STATUS))
    at = pc.index_in(pa.array(status.astype("str").array), value_set=names)
    return np.asarray(_STATUS_VALUES)[at.to_numpy(zero_copy_only=False).astype(np.int64)]


def _finding(row: pd.Series) -> str:
    number = row["finding_id"]
    finding = number
    if isinstance(number, int | np.integer):
        finding = lifecycle.id_text(np.array([number]))[0].as_py()
    family = row.get("family", "")
    return f"finding {finding} ({family} {row.get('kind', '')}: {shown_id(row.get('key', ''))})"


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
    try:
        (number,) = lifecycle.id_numbers([finding_id])
    except ValueError:
        number = None
    row = None
    if number is not None:
        row = conn.execute(
            sa.select(_K.c.family, _K.c.kind, _F.c.key, _F.c.status)
            .join(_K, _K.c.kind_id == _F.c.kind_id)
            .where(_F.c.finding_id == int(number))
        ).first()
    if row is None:
        raise StateError(
            f"unknown finding id {finding_id}; the finding ids are in the findings of a run "
            "recorded in this store"
        )
    conn.execute(
        sa.insert(_A).values(
            finding_id=int(number),
            reason=reason.strip(),
            owner=owner,
            until=until,
            created_at=utc_now(),
        )
    )
    if row.status == _STATUS[lifecycle.OPEN]:
        conn.execute(
            sa.update(_F)
            .where(_F.c.finding_id == int(number))
            .values(status=_STATUS[lifecycle.ACCEPTED])
        )
    return {"finding_id": finding_id, "family": row.family, "kind": row.kind, "key": row.key}
