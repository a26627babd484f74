"""The rows the store keeps of some findings (leakage), inside the caller's transaction.

A later run's report shows the rows of the findings it resolved as they were last seen, so the
store keeps each such finding's row, rewritten only when it changed (``changed``). Rows are kept
as Parquet blocks of up to ``BLOCK_ROWS`` rows (zstd), one table row per block in
``recon_finding_rows``, each block holding the ``finding_id`` of its rows; a finding names its
block (``row_block``). Half a million rows take some 40 MB so, where JSON text took 300 MB, and
they come back with their types. A block no finding names any more is deleted (``drop_unused``);
a rewritten row leaves its old copy in a block that others still name, so the blocks grow with
the changes, not with the runs.
"""

from __future__ import annotations

import io
from collections.abc import Collection

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa

from recon.state import tables

BLOCK_ROWS = 50_000  # a block stays a few MB: well inside MariaDB's max_allowed_packet
_B = tables.finding_rows


def write(conn: sa.Connection, run_id: int, rows: pd.DataFrame) -> np.ndarray:
    """Store ``rows`` (``finding_id`` first, then the finding's row) as new blocks of run
    ``run_id``; the block id of each row."""
    block = np.empty(len(rows), dtype=np.int64)
    table = _arrow(rows.reset_index(drop=True))
    for start in range(0, len(rows), BLOCK_ROWS):
        part = table.slice(start, BLOCK_ROWS)
        sink = io.BytesIO()
        pq.write_table(part, sink, compression="zstd")
        result = conn.execute(
            sa.insert(_B).values(run_id=run_id, row_count=part.num_rows, data=sink.getvalue())
        )
        assert result.inserted_primary_key is not None
        block[start : start + part.num_rows] = int(result.inserted_primary_key[0])
    return block


def read(conn: sa.Connection, finding_ids: np.ndarray, blocks: np.ndarray) -> pa.Table:
    """The kept row of each finding (``finding_id`` as numbers, ``blocks`` the block that
    holds each one's row), with ``row_run``: the run that wrote it. One row per finding found
    (a finding without a kept row is left out)."""
    named = pd.unique(blocks[~pd.isna(blocks)].astype(np.int64))
    if not len(named):
        return pa.table(
            {"finding_id": pa.array([], pa.int64()), "row_run": pa.array([], pa.int64())}
        )
    found = conn.execute(
        sa.select(_B.c.block_id, _B.c.run_id, _B.c.data).where(
            _B.c.block_id.in_([int(b) for b in named])
        )
    )
    parts = []
    for block_id, run_id, data in found:
        part = pq.read_table(io.BytesIO(bytes(data)))
        n = part.num_rows
        part = part.append_column("row_block", pa.array(np.full(n, block_id, dtype=np.int64)))
        parts.append(part.append_column("row_run", pa.array(np.full(n, run_id, dtype=np.int64))))
    stored = pa.concat_tables(parts, promote_options="permissive")
    # A block may also hold older rows of findings rewritten since: keep each one's own.
    expected = pd.Series(np.asarray(blocks, dtype=np.float64), index=finding_ids)
    expected = expected[~expected.index.duplicated()]
    ids = stored.column("finding_id").to_numpy()
    own = expected.reindex(ids).to_numpy() == stored.column("row_block").to_numpy()
    return stored.filter(pa.array(own)).drop_columns(["row_block"])


def changed(stored: pa.Table, current: pd.DataFrame, volatile: Collection[str]) -> np.ndarray:
    """Which rows of ``current`` (``finding_id`` and the row) differ from their row in
    ``stored`` (``read``), the ``volatile`` columns aside; a row not stored has changed."""
    ids = pa.array(current["finding_id"].to_numpy(dtype=np.int64))
    at = pc.index_in(ids, value_set=stored.column("finding_id").combine_chunks())
    differs = np.asarray(at.is_null().to_numpy(zero_copy_only=False), dtype=bool).copy()
    kept = [c for c in current.columns if c not in volatile and c != "finding_id"]
    columns = set(stored.column_names) - {"finding_id", "row_run", *volatile}
    if columns != set(kept):  # the check's columns changed: every row is another row now
        return np.ones(len(current), dtype=bool)
    aligned = None
    if len(stored):
        positions = pc.fill_null(at, 0).to_numpy()
        in_order = len(stored) == len(current) and np.array_equal(positions, np.arange(len(stored)))
        aligned = stored if in_order else stored.take(pa.array(positions))
    for name in kept:
        if aligned is None:
            break
        now = _column(current[name])
        before = aligned.column(name).combine_chunks()
        if pa.types.is_null(now.type):  # no value now: the same where none was kept
            differs |= before.is_valid().to_numpy(zero_copy_only=False)
            continue
        if not before.type.equals(now.type):
            try:
                before = before.cast(now.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                return np.ones(len(current), dtype=bool)
        same = pc.fill_null(pc.equal(now, before), False)
        both_null = pc.and_(now.is_null(), before.is_null())
        differs |= ~pc.or_(same, both_null).to_numpy(zero_copy_only=False)
    return differs


def drop_unused(conn: sa.Connection, blocks: Collection[int]) -> int:
    """Delete those of ``blocks`` that no finding names any more; how many."""
    candidates = sorted({int(b) for b in blocks})
    if not candidates:
        return 0
    f = tables.findings
    named = conn.execute(
        sa.select(f.c.row_block).distinct().where(f.c.row_block.in_(candidates))
    ).scalars()
    unused = sorted(set(candidates) - {int(b) for b in named})
    if unused:
        conn.execute(sa.delete(_B).where(_B.c.block_id.in_(unused)))
    return len(unused)


def as_frame(stored: pa.Table) -> pd.DataFrame:
    """Kept rows as a frame with the types they were written with."""
    return stored.to_pandas()


def as_json(frame: pd.DataFrame) -> pd.Series:
    """One JSON object per row, as the store's earlier versions kept a payload (NA as null,
    dates as ``2026-10-31``, or with the time when there is one; decimals as exact text)."""
    plain = frame.copy()
    plain.columns = list(map(str, plain.columns))
    for column in plain.columns:
        values = plain[column]
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            day = values.dt.strftime("%Y-%m-%d")
            timed = values.notna() & (values != values.dt.normalize())
            if timed.any():
                day = day.where(~timed, values.dt.strftime("%Y-%m-%dT%H:%M:%S"))
            plain[column] = day.astype(object).where(values.notna(), None)
    if not len(plain):
        return pd.Series([], dtype=object, index=frame.index)
    lines = plain.to_json(
        orient="records", lines=True, force_ascii=False, default_handler=str
    ).splitlines()
    return pd.Series(lines, index=frame.index, dtype="string").str.replace("\\/", "/", regex=False)


def _column(values: pd.Series) -> pa.Array:
    array = pa.array(values, from_pandas=True)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _arrow(rows: pd.DataFrame) -> pa.Table:
    """The rows as Arrow; a column of mixed Python objects goes as text."""
    try:
        return pa.Table.from_pandas(rows, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        mixed = {c: rows[c].astype("str") for c in rows.columns if rows[c].dtype == object}
        return pa.Table.from_pandas(rows.assign(**mixed), preserve_index=False)
