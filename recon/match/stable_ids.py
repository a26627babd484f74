"""Carry cross-reference ids from the previous run to this run's entities (pure).

The matcher numbers entities afresh on every run; this stage gives each entity the id its records
held before, so an id means the same customer run after run. The rule:

1. **Votes.** Every record that held an id in the previous run votes for it. An entity keeps the
   id most of its records held (ties: the oldest id, i.e. the smallest number).
2. **Merge.** When records of several old ids are one entity now, the id the rule picks survives;
   the other ids are recorded as ``merge`` into it and are never issued again.
3. **Split.** When records of one old id fall into several entities, the part with most records
   that held it keeps it (ties: the part whose smallest (system, record_id) sorts first). A part
   that loses takes its next best old id that no other entity claims, else a new id; its records
   are recorded as ``split`` from the old id.
4. **New.** An entity none of whose records held an id gets a new number above the highest ever
   issued (``next_number``): numbers are never reused. New numbers go to entities in the order of
   their smallest (system, record_id), so the same data always gives the same ids.
5. **Retired.** An old id none of whose records is left is recorded as ``retired``.

A record that was absent from the previous run votes for nothing (it is treated like a new record).
Only rounds of conflict resolution loop in Python, never records.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

PREFIX = "XR-"
DIGITS = 6
CHANGE_COLUMNS = ["kind", "from_xref", "to_xref", "records", "record_ids"]
NEW, MERGE, SPLIT, RETIRED = "new", "merge", "split", "retired"


def xref_text(numbers: np.ndarray) -> pd.Series:
    """``XR-000123`` for each number (zero-padded to at least six digits)."""
    text = pd.Series(np.asarray(numbers, dtype=np.int64)).astype("str")
    return (PREFIX + text.str.zfill(DIGITS)).astype(object)


def xref_number(ids: pd.Series) -> np.ndarray:
    """The number of each ``XR-…`` id (numbers as they are); an id of another form is an error."""
    if pd.api.types.is_integer_dtype(ids.dtype):
        return ids.to_numpy(dtype=np.int64)
    text = ids.astype("str")
    ok = text.str.fullmatch(r"XR-\d+")
    if not ok.all():
        bad = text[~ok].iloc[0]
        raise ValueError(f"'{bad}' is not a cross-reference id such as XR-000123")
    return text.str.slice(len(PREFIX)).astype(np.int64).to_numpy()


def carry_xref_ids(
    previous: pd.DataFrame, current: pd.DataFrame, next_number: int
) -> tuple[pd.Series, pd.DataFrame]:
    """Stable xref ids for ``current`` and the changes against ``previous``.

    ``previous``: system, record_id, xref_id (or its number) of the records of the previous run.
    ``current``: system, record_id, entity (any integer label) of this run's records.
    ``next_number``: the smallest number never issued (1 for an empty store).

    Returns the xref_id of each current record (aligned with ``current``) and a changes frame
    (kind, from_xref, to_xref, records, record_ids: sorted ``system:record_id`` keys, a list
    column held by Arrow).
    """
    n = len(current)
    keys = _keys(current)
    # Arrow sorts UTF-8 bytes, which is code point order: the order of Python's str.
    order = pc.sort_indices(keys)
    in_order = keys.take(order)
    if keys.null_count > 1 or (n > 1 and pc.any(pc.equal(in_order[1:], in_order[:-1])).as_py()):
        repeated = pd.Series(keys.to_numpy(zero_copy_only=False))
        raise ValueError(f"current records repeat {repeated[repeated.duplicated()].iloc[0]}")
    ent = pd.factorize(current["entity"].to_numpy(), sort=True)[0].astype(np.int64)
    n_ent = int(ent.max()) + 1 if n else 0
    rank = np.empty(n, dtype=np.int64)
    rank[order.to_numpy()] = np.arange(n, dtype=np.int64)
    ent_rank = np.full(n_ent, n, dtype=np.int64)
    np.minimum.at(ent_rank, ent, rank)

    prev_keys = _keys(previous)
    prev_num = xref_number(previous["xref_id"]) if len(previous) else np.empty(0, np.int64)
    # The first row of a key repeated in ``previous`` holds it.
    at = pc.index_in(keys, value_set=prev_keys).to_numpy(zero_copy_only=False)
    had = ~np.isnan(at.astype(np.float64))
    old_num = np.full(n, -1, dtype=np.int64)
    old_num[had] = prev_num[at[had].astype(np.int64)]
    if len(prev_num) and next_number <= int(prev_num.max()):
        raise ValueError(f"next_number {next_number} is not above the highest id {prev_num.max()}")

    number = _assign(ent[had], old_num[had], ent_rank, n_ent)
    fresh = np.flatnonzero(number < 0)
    fresh = fresh[np.argsort(ent_rank[fresh], kind="stable")]
    number[fresh] = next_number + np.arange(len(fresh), dtype=np.int64)
    record_num = number[ent]
    ids = xref_text(record_num)
    ids.index = current.index
    changes = _changes(keys, rank, had, old_num, record_num, ent, number, prev_keys, prev_num)
    return ids, changes


def _keys(frame: pd.DataFrame) -> pa.Array:
    """``system:record_id`` of every row, as Arrow text."""
    text = frame["system"].astype("str") + ":" + frame["record_id"].astype("str")
    keys = pa.array(text.array)
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks()
    return keys.cast(pa.large_string())


def _assign(ent: np.ndarray, old: np.ndarray, ent_rank: np.ndarray, n_ent: int) -> np.ndarray:
    """Old number kept by each entity (-1: none) from the votes (entity, old number) of records.

    Each round every entity without an id proposes its best free old id (most votes, then the
    smallest number); each id goes to its proposer with most votes, ties to the smallest rank.
    """
    number = np.full(n_ent, -1, dtype=np.int64)
    if not len(ent):
        return number
    votes = pd.DataFrame({"ent": ent, "old": old}).value_counts().reset_index(name="votes")
    votes["rank"] = ent_rank[votes["ent"].to_numpy()]
    # Best proposal first: per entity by votes then number; per id by votes then entity rank.
    votes = votes.sort_values(["votes", "old", "rank"], ascending=[False, True, True])
    taken: set[int] = set()
    while len(votes):
        proposal = votes.drop_duplicates("ent")
        winner = proposal.drop_duplicates("old")
        number[winner["ent"].to_numpy()] = winner["old"].to_numpy()
        taken.update(winner["old"].tolist())
        decided = number[votes["ent"].to_numpy()] >= 0
        votes = votes[~decided & ~votes["old"].isin(taken)]
    return number


def _changes(
    keys: pa.Array,
    rank: np.ndarray,
    had: np.ndarray,
    old_num: np.ndarray,
    record_num: np.ndarray,
    ent: np.ndarray,
    number: np.ndarray,
    prev_keys: pa.Array,
    prev_num: np.ndarray,
) -> pd.DataFrame:
    """One row per (kind, from, to) with its records, in the order new, merge, split, retired,
    then from_xref and to_xref as text; the records of a row sorted. Sorted and split with
    numpy, never grouped row by row."""
    kept = pd.unique(number)
    moved = np.flatnonzero(had & (old_num != record_num))
    ent_had = np.zeros(len(number), dtype=bool)
    ent_had[ent[had]] = True
    brand_new = np.flatnonzero(~ent_had[ent])
    gone = np.flatnonzero(~np.isin(prev_num, pd.unique(old_num[had])))
    if not len(moved) + len(brand_new) + len(gone):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CHANGE_COLUMNS}).astype(
            {"records": np.int64}
        )
    order = {NEW: 0, MERGE: 1, SPLIT: 2, RETIRED: 3}
    kind = np.concatenate(
        [
            np.where(np.isin(old_num[moved], kept), order[SPLIT], order[MERGE]),
            np.full(len(brand_new), order[NEW]),
            np.full(len(gone), order[RETIRED]),
        ]
    )
    none = np.full(len(brand_new) + len(gone), -1, dtype=np.int64)
    origin = np.concatenate([old_num[moved], none[: len(brand_new)], prev_num[gone]])
    target = np.concatenate([record_num[moved], record_num[brand_new], none[: len(gone)]])
    # A row's records are all current keys or all previous ones: each kind ranks its own.
    retired_rank = np.empty(len(gone), dtype=np.int64)
    retired_rank[pc.sort_indices(prev_keys.take(gone)).to_numpy()] = np.arange(len(gone))
    key_rank = np.concatenate([rank[moved], rank[brand_new], retired_rank])
    origin_rank, target_rank = _text_ranks(origin, target)
    rows = np.lexsort((key_rank, target_rank, origin_rank, kind))
    kind, origin, target = kind[rows], origin[rows], target[rows]
    starts = np.flatnonzero(
        np.concatenate(
            [[True], (np.diff(kind) != 0) | (np.diff(origin) != 0) | (np.diff(target) != 0)]
        )
    )
    current_keys = np.concatenate([moved, brand_new])
    texts = pa.concat_arrays([keys.take(current_keys), prev_keys.take(gone)]).take(rows)
    offsets = np.append(starts, len(rows)).astype(np.int32)
    names = np.array([NEW, MERGE, SPLIT, RETIRED], dtype=object)
    return pd.DataFrame(
        {
            "kind": names[kind[starts]],
            "from_xref": pd.Series(_optional_ids(origin[starts]), dtype=object),
            "to_xref": pd.Series(_optional_ids(target[starts]), dtype=object),
            "records": np.diff(offsets).astype(np.int64),
            "record_ids": pd.arrays.ArrowExtensionArray(
                pa.ListArray.from_arrays(pa.array(offsets), texts.cast(pa.string()))
            ),
        }
    )


def _text_ranks(origin: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rank of each number's ``XR-…`` text among all (``XR-1000000`` sorts before
    ``XR-999999``, as the ids sort); -1 (none) after every id."""
    both = np.concatenate([origin, target])
    numbers = pd.unique(both[both >= 0])
    ranks = np.empty(len(numbers), dtype=np.int64)
    texts = pa.array(xref_text(numbers).to_numpy(), type=pa.string())
    ranks[pc.sort_indices(texts).to_numpy()] = np.arange(len(numbers))
    at = pd.Index(numbers).get_indexer(both)
    ranked = np.where(at >= 0, ranks[np.maximum(at, 0)], len(numbers))
    return ranked[: len(origin)], ranked[len(origin) :]


def _optional_ids(numbers: np.ndarray) -> np.ndarray:
    text = xref_text(numbers).to_numpy(dtype=object, copy=True)
    text[numbers < 0] = None
    return text
