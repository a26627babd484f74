"""The life of a finding across runs (pure: frames in, frames out, no database).

A finding is identified by its family (``leakage``, ``duplicate``, ``quality``) and its key, the
columns that say what it is about and never its amounts (see ``recon.state.keys``). Its stable id
is ``F-`` and the first 16 hex digits of sha256("<family>\\x1f<key>"): the same finding gets the
same id in every run and every store, and 64 bits keep a million findings free of collisions.

Each run classifies every finding it found, and every finding still live in the store:

``new``       found now, not live before (a finding that was resolved and comes back is new again)
``open``      found now and open before: still open, with its age in days and in runs
``accepted``  found now and covered by an acceptance whose ``until`` is today or later
``expired``   found now, accepted before, and its acceptance has expired: open again
``resolved``  live before and not found now: it disappeared, because it was fixed

Statuses stored: ``open``, ``accepted``, ``resolved``.

A run whose outputs were not written or not delivered (or that stopped before it could say) told
nobody: the open findings it first saw are ``new`` again in the next run, counted from that run,
until a delivered run reports them. Otherwise a disk that fills during the weekly run would turn
its new leakage into "still open" the week after, and the alert would never be sent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

OPEN, ACCEPTED, RESOLVED = "open", "accepted", "resolved"
NEW, EXPIRED = "new", "expired"
# A run's status in recon_runs: recorded with its findings before any output is written, then
# delivered (outputs in place, and the report sent where asked) or not.
PENDING, DELIVERED, NOT_WRITTEN, NOT_DELIVERED = "pending", "ok", "not written", "not delivered"
LIVE = (OPEN, ACCEPTED)
CURRENT_COLUMNS = ["finding_id", "family", "key", "kind", "value", "payload"]
STORED_COLUMNS = [
    "finding_id",
    "family",
    "key",
    "kind",
    "status",
    "first_seen_run",
    "last_seen_run",
    "resolved_run",
]
RESULT_COLUMNS = [
    "finding_id",
    "family",
    "key",
    "kind",
    "status",
    "change",
    "first_seen_run",
    "last_seen_run",
    "resolved_run",
    "age_days",
    "age_runs",
    "accepted_until",
    "value",
    "payload",
]


def finding_id(family: str, key: str) -> str:
    """``F-`` + 16 hex digits of sha256 of family and key: stable across runs and stores."""
    digest = hashlib.sha256(f"{family}\x1f{key}".encode()).hexdigest()
    return "F-" + digest[:16]


def finding_ids(family: str, keys: pd.Series) -> pd.Series:
    """``finding_id`` of every key, as text."""
    text = pd.array(id_text(finding_numbers(family, keys)), dtype="str")
    return pd.Series(text, index=keys.index)


def finding_numbers(family: str, keys: pd.Series) -> np.ndarray:
    """The 64 bits of each key's finding id as an int64: what the store keeps. One sha256 per
    key, the one loop over findings left (no vectorized sha256 exists)."""
    texts = pa.array(keys.astype("str").array)
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    texts = texts.cast(pa.large_string())
    prefix = pa.scalar(f"{family}\x1f", type=pa.large_string())
    joined = pc.binary_join_element_wise(prefix, texts, pa.scalar("", type=pa.large_string()))
    sha256 = hashlib.sha256
    digests = b"".join([sha256(k).digest()[:8] for k in joined.cast(pa.large_binary()).to_pylist()])
    return np.frombuffer(digests, dtype=">i8").astype(np.int64)


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_NIBBLE = np.full(256, 255, dtype=np.uint8)
_NIBBLE[_HEX] = np.arange(16, dtype=np.uint8)


def id_text(numbers: np.ndarray) -> pa.Array:
    """``F-`` and the 16 hex digits of each id number (Arrow text), written digit by digit
    for all ids at once."""
    raw = np.asarray(numbers, dtype=np.int64).astype(">i8").view(np.uint8).reshape(-1, 8)
    text = np.empty((len(raw), 18), dtype=np.uint8)
    text[:, 0], text[:, 1] = ord("F"), ord("-")
    text[:, 2::2], text[:, 3::2] = _HEX[raw >> 4], _HEX[raw & 15]
    return pa.array(text.view("S18").ravel(), type=pa.binary(18)).cast(pa.string())


def id_numbers(ids: Sequence[object]) -> np.ndarray:
    """The number of each ``F-…`` id (int64); ValueError names the first id of another form."""
    text = pd.Series(list(ids), dtype="str")
    ok = text.str.fullmatch(r"F-[0-9a-f]{16}").fillna(False).to_numpy(dtype=bool)
    if not ok.all():
        raise ValueError(f"{text[~ok].iloc[0]!r} is not a finding id such as F-3f9a1c2b7d4e5a6b")
    raw = np.frombuffer("".join(text.tolist()).encode("ascii"), dtype=np.uint8)
    nibbles = _NIBBLE[raw.reshape(-1, 18)[:, 2:]]
    packed = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]
    return packed.copy().view(">i8").ravel().astype(np.int64)


def classify(
    previous: pd.DataFrame,
    current: pd.DataFrame,
    acceptances: pd.DataFrame,
    *,
    run_id: int,
    as_of: dt.date,
    runs: pd.DataFrame,
) -> pd.DataFrame:
    """Every finding found now or live before, with its new status and what changed.

    ``previous``: STORED_COLUMNS of the stored findings (any status). ``current``: CURRENT_COLUMNS
    of this run's findings. ``acceptances``: finding_id, until (date) — the newest per finding.
    ``runs``: run_id, started_at of every run including this one (for the ages), and status
    (``DELIVERED`` or not; without it every earlier run counts as delivered). Finding ids may be
    the text ids or their numbers (``finding_numbers``), alike in all three frames.
    """
    previous, current = previous[STORED_COLUMNS], current[CURRENT_COLUMNS]
    # The first row of each id, as positions (a copy of millions of rows costs seconds).
    prev_rows, prev_ids = _first_rows(previous["finding_id"], lookup=True)
    cur_rows, cur_ids = _first_rows(current["finding_id"], lookup=False)
    # Every lookup by finding id goes through position arrays, computed once (-1: absent).
    stored = _codes(previous["status"], [OPEN, ACCEPTED, RESOLVED])[prev_rows]
    at_prev_of_cur = prev_ids.get_indexer(cur_ids)
    seen = np.zeros(len(prev_ids), dtype=bool)
    seen[at_prev_of_cur[at_prev_of_cur >= 0]] = True
    gone = np.flatnonzero((stored == 0) | (stored == 1))
    gone = gone[~seen[gone]]
    # Found now first (in current's order), then the live ones not found.
    ids = cur_ids.append(prev_ids[gone])
    at_prev = np.concatenate([at_prev_of_cur, gone])
    found = np.arange(len(ids)) < len(cur_ids)
    was = np.where(at_prev >= 0, stored[np.maximum(at_prev, 0)] if len(stored) else -1, -1)
    was_live = (was == 0) | (was == 1)
    before = np.where(at_prev >= 0, prev_rows[np.maximum(at_prev, 0)] if len(stored) else 0, -1)

    until = _until_of(acceptances, ids)
    covered = found & until.notna() & (until >= pd.Timestamp(as_of))
    first = _numbers_at(previous["first_seen_run"], before)
    untold = np.isin(first, _undelivered(runs, run_id)) & (was == 0)
    fresh = ~was_live | untold
    change = np.select([~found, covered, fresh, was == 1], [4, 2, 0, 3], default=1)
    status = np.where(found, np.where(covered, 1, 0), 2)
    first_seen = np.where(found & fresh, run_id, first).astype(np.int64)
    last_seen = np.where(found, run_id, _numbers_at(previous["last_seen_run"], before))
    ages = _ages(first_seen, run_id, as_of, runs)
    accepted_until = np.full(len(ids), None, dtype=object)
    dated = np.flatnonzero(until.notna())
    accepted_until[dated] = pd.Series(until[dated]).dt.date.to_numpy(dtype=object)
    # Each output row's position in the current rows followed by the gone ones.
    rows = np.concatenate([cur_rows, len(current) + np.arange(len(gone))])

    def stacked(column: str) -> pd.Series:
        now = current[column].reset_index(drop=True)
        if not len(gone):
            return now
        then = previous[column].iloc[prev_rows[gone]]
        if now.dtype != then.dtype:  # as the current text, else as objects
            text = isinstance(now.dtype, pd.StringDtype) and len(now)
            now, then = (
                (now, then.astype(now.dtype)) if text else (now.astype(object), then.astype(object))
            )
        return pd.concat([now, then], ignore_index=True)

    family, key = stacked("family"), stacked("key")
    order = rows[in_order(pd.DataFrame({"family": family.take(rows), "key": key.take(rows)}))]
    at = order - len(current)  # where each output row is, as a gone one
    was_found = at < 0
    where = np.where(was_found, np.searchsorted(cur_rows, order), len(cur_rows) + at)

    def objects(column: str) -> pd.Series:
        values = np.full(len(order), None, dtype=object)
        values[was_found] = current[column].to_numpy(dtype=object)[order[was_found]]
        return pd.Series(values, dtype=object)

    return pd.DataFrame(
        {
            "finding_id": pd.Series(ids.to_numpy()[where], dtype=ids.dtype),
            "family": family.take(order).reset_index(drop=True),
            "key": key.take(order).reset_index(drop=True),
            "kind": stacked("kind").take(order).reset_index(drop=True),
            "status": _labels(status[where], [OPEN, ACCEPTED, RESOLVED]),
            "change": _labels(change[where], [NEW, OPEN, ACCEPTED, EXPIRED, RESOLVED]),
            "first_seen_run": first_seen[where],
            "last_seen_run": last_seen[where].astype(np.int64),
            "resolved_run": pd.arrays.IntegerArray(np.full(len(where), run_id), was_found),
            "age_days": ages[0][where],
            "age_runs": ages[1][where],
            "accepted_until": accepted_until[where],
            "value": objects("value"),
            "payload": objects("payload"),
        }
    )


def in_order(findings: pd.DataFrame) -> np.ndarray:
    """Positions of ``findings`` sorted by family, then key (as text)."""
    table = pa.table({c: pa.array(findings[c].astype("str").array) for c in ("family", "key")})
    keys = [("family", "ascending"), ("key", "ascending")]
    return pc.sort_indices(table, sort_keys=keys).to_numpy()


def _first_rows(ids: pd.Series, lookup: bool) -> tuple[np.ndarray, pd.Index]:
    """The position of the first row of each finding id, and those ids as an index (``lookup``:
    one to look up in, whose hash table the uniqueness check builds once)."""
    index = _ids(ids)
    if lookup and index.is_unique:
        return np.arange(len(index)), index
    first = ~index.duplicated()
    if first.all():
        return np.arange(len(index)), index
    return np.flatnonzero(first), index[first]


def _codes(values: pd.Series, names: list[str]) -> np.ndarray:
    """The position of each value in ``names`` (-1: none of them)."""
    return np.asarray(pd.Categorical(values, categories=names).codes, dtype=np.int64)


def _numbers_at(values: pd.Series, at: np.ndarray) -> np.ndarray:
    """``values`` as floats at positions ``at`` (NaN where ``at`` is -1)."""
    numbers = pd.to_numeric(values).to_numpy(dtype=np.float64, na_value=np.nan)
    if not len(numbers):
        return np.full(len(at), np.nan)
    return np.where(at >= 0, numbers[np.maximum(at, 0)], np.nan)


def _ids(ids: pd.Series) -> pd.Index:
    """Finding ids as an index: int64 numbers stay numbers, anything else is text."""
    if pd.api.types.is_integer_dtype(ids.dtype):
        return pd.Index(ids.to_numpy(dtype=np.int64))
    return pd.Index(ids.astype("str").to_numpy(dtype=object), dtype=object)


def _labels(codes: np.ndarray, names: list[str]) -> pd.Series:
    """Text of small integer codes, without a Python string per row."""
    labels = pa.DictionaryArray.from_arrays(pa.array(codes, type=pa.int8()), pa.array(names))
    return pd.Series(pd.array(labels.cast(pa.string()), dtype="str"))


def _undelivered(runs: pd.DataFrame, run_id: int) -> np.ndarray:
    """Earlier runs whose outputs or delivery failed, or that never said (``recon.state.record``:
    any status but ``DELIVERED``)."""
    if "status" not in runs.columns:
        return np.array([], dtype=np.float64)
    failed = (runs["status"].astype(str) != DELIVERED).to_numpy() & (
        runs["run_id"] != run_id
    ).to_numpy()
    return runs.loc[failed, "run_id"].to_numpy(dtype=np.float64)


def _until_of(acceptances: pd.DataFrame, ids: pd.Index) -> pd.DatetimeIndex:
    """The newest acceptance's last day of each finding id (NaT: none)."""
    until = _until(acceptances)
    at = until.index.get_indexer(ids) if len(until) else np.full(len(ids), -1)
    days = until.to_numpy(dtype="datetime64[ns]")
    picked = days[np.maximum(at, 0)] if len(days) else np.full(len(ids), np.datetime64("NaT"))
    return pd.DatetimeIndex(np.where(at >= 0, picked, np.datetime64("NaT", "ns")))


def _until(acceptances: pd.DataFrame) -> pd.Series:
    if not len(acceptances):
        return pd.Series(dtype="datetime64[ns]")
    frame = acceptances.assign(until=pd.to_datetime(acceptances["until"]))
    return frame.groupby("finding_id")["until"].max()


def _ages(
    first_seen: np.ndarray, run_id: int, as_of: dt.date, runs: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Days since the run that first saw each finding, and runs since then (0 = first seen now)."""
    ids = np.sort(runs["run_id"].to_numpy(dtype=np.int64))
    started = pd.to_datetime(runs.set_index("run_id")["started_at"]).dt.normalize()
    first_day = started.reindex(first_seen).to_numpy()
    today = np.datetime64(as_of, "D")
    known = ~np.isnat(first_day)
    first_day = np.where(known, first_day, np.datetime64(as_of, "ns")).astype("datetime64[D]")
    days = (today - first_day).astype(np.int64)
    days = np.where(first_seen == run_id, 0, np.maximum(days, 0))
    age_runs = np.searchsorted(ids, run_id, side="right") - np.searchsorted(
        ids, first_seen, side="right"
    )
    return days, age_runs.astype(np.int64)
