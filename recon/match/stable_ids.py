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

PREFIX = "XR-"
DIGITS = 6
CHANGE_COLUMNS = ["kind", "from_xref", "to_xref", "records", "record_ids"]
NEW, MERGE, SPLIT, RETIRED = "new", "merge", "split", "retired"


def xref_text(numbers: np.ndarray) -> pd.Series:
    """``XR-000123`` for each number (zero-padded to at least six digits)."""
    text = pd.Series(np.asarray(numbers, dtype=np.int64)).astype("str")
    return (PREFIX + text.str.zfill(DIGITS)).astype(object)


def xref_number(ids: pd.Series) -> np.ndarray:
    """The number of each ``XR-…`` id; an id of another form is an error."""
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

    ``previous``: system, record_id, xref_id of the records of the previous run.
    ``current``: system, record_id, entity (any integer label) of this run's records.
    ``next_number``: the smallest number never issued (1 for an empty store).

    Returns the xref_id of each current record (aligned with ``current``) and a changes frame
    (kind, from_xref, to_xref, records, record_ids: sorted ``system:record_id`` keys).
    """
    n = len(current)
    keys = _keys(current)
    if keys.duplicated().any():
        raise ValueError(f"current records repeat {keys[keys.duplicated()].iloc[0]}")
    ent = pd.factorize(current["entity"].to_numpy(), sort=True)[0].astype(np.int64)
    n_ent = int(ent.max()) + 1 if n else 0
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(keys.to_numpy(dtype=str), kind="stable")] = np.arange(n, dtype=np.int64)
    ent_rank = np.full(n_ent, n, dtype=np.int64)
    np.minimum.at(ent_rank, ent, rank)

    prev_keys = _keys(previous)
    prev_num = xref_number(previous["xref_id"]) if len(previous) else np.empty(0, np.int64)
    held = pd.Series(prev_num, index=prev_keys.to_numpy())
    held = held[~held.index.duplicated()]
    old = held.reindex(keys.to_numpy()).to_numpy(dtype=np.float64)
    had = ~np.isnan(old)
    old_num = np.where(had, old, -1).astype(np.int64)
    if len(prev_num) and next_number <= int(prev_num.max()):
        raise ValueError(f"next_number {next_number} is not above the highest id {prev_num.max()}")

    number = _assign(ent[had], old_num[had], ent_rank, n_ent)
    fresh = np.flatnonzero(number < 0)
    fresh = fresh[np.argsort(ent_rank[fresh], kind="stable")]
    number[fresh] = next_number + np.arange(len(fresh), dtype=np.int64)
    record_num = number[ent]
    ids = xref_text(record_num)
    ids.index = current.index
    changes = _changes(keys, had, old_num, record_num, ent, number, prev_keys, prev_num)
    return ids, changes


def _keys(frame: pd.DataFrame) -> pd.Series:
    return (frame["system"].astype("str") + ":" + frame["record_id"].astype("str")).reset_index(
        drop=True
    )


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
    keys: pd.Series,
    had: np.ndarray,
    old_num: np.ndarray,
    record_num: np.ndarray,
    ent: np.ndarray,
    number: np.ndarray,
    prev_keys: pd.Series,
    prev_num: np.ndarray,
) -> pd.DataFrame:
    kept = np.unique(number)
    moved = had & (old_num != record_num)
    frame = pd.DataFrame(
        {"key": keys[moved].to_numpy(), "from": old_num[moved], "to": record_num[moved]}
    )
    frame["kind"] = np.where(np.isin(frame["from"].to_numpy(), kept), SPLIT, MERGE)
    parts = [frame]

    ent_had = np.zeros(len(number), dtype=bool)
    ent_had[ent[had]] = True
    brand_new = ~ent_had[ent]
    parts.append(
        pd.DataFrame(
            {
                "key": keys[brand_new].to_numpy(),
                "from": -1,
                "to": record_num[brand_new],
                "kind": NEW,
            }
        )
    )
    gone = ~np.isin(prev_num, np.unique(old_num[had]))
    parts.append(
        pd.DataFrame(
            {"key": prev_keys[gone].to_numpy(), "from": prev_num[gone], "to": -1, "kind": RETIRED}
        )
    )
    rows = pd.concat(parts, ignore_index=True).sort_values(["kind", "from", "to", "key"])
    if not len(rows):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CHANGE_COLUMNS}).astype(
            {"records": np.int64}
        )
    grouped = rows.groupby(["kind", "from", "to"], sort=False)["key"].agg(list).reset_index()
    out = pd.DataFrame(
        {
            "kind": grouped["kind"].to_numpy(dtype=object),
            "from_xref": _optional_ids(grouped["from"].to_numpy()),
            "to_xref": _optional_ids(grouped["to"].to_numpy()),
            "records": grouped["key"].str.len().to_numpy(dtype=np.int64),
            "record_ids": grouped["key"].to_numpy(dtype=object),
        }
    )
    order = {NEW: 0, MERGE: 1, SPLIT: 2, RETIRED: 3}
    out = out.sort_values(
        ["kind", "from_xref", "to_xref"], key=lambda s: s.map(order) if s.name == "kind" else s
    )
    out = out.reset_index(drop=True)
    for column in ("from_xref", "to_xref"):
        out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out


def _optional_ids(numbers: np.ndarray) -> np.ndarray:
    text = xref_text(numbers).to_numpy(dtype=object, copy=True)
    text[numbers < 0] = None
    return text
