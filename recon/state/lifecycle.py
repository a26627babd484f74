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

import numpy as np
import pandas as pd

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
    """``finding_id`` of every key (one sha256 each: the one loop over findings left)."""
    prefix = f"{family}\x1f".encode()
    sha256 = hashlib.sha256
    texts = keys.astype("str").to_numpy(dtype=object)
    ids = ["F-" + sha256(prefix + k.encode()).hexdigest()[:16] for k in texts]
    return pd.Series(ids, index=keys.index, dtype="str")


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
    (``DELIVERED`` or not; without it every earlier run counts as delivered).
    """
    prev = previous[STORED_COLUMNS].drop_duplicates("finding_id")
    cur = current[CURRENT_COLUMNS].drop_duplicates("finding_id")
    # Every lookup by finding id goes through two position arrays, computed once (-1: absent).
    prev_ids = pd.Index(prev["finding_id"].to_numpy(dtype=object), dtype="str")
    cur_ids = pd.Index(cur["finding_id"].to_numpy(dtype=object), dtype="str")
    live = prev_ids[prev["status"].isin(LIVE).to_numpy()]
    ids = cur_ids.append(live[cur_ids.get_indexer(live) < 0])
    at_cur, at_prev = cur_ids.get_indexer(ids), prev_ids.get_indexer(ids)
    found = at_cur >= 0

    def now(column: str) -> np.ndarray:
        return _take(cur[column], at_cur)

    def before(column: str) -> np.ndarray:
        return _take(prev[column], at_prev)

    out = pd.DataFrame({"finding_id": ids.to_numpy(dtype=object)})
    was = before("status")
    was_live = pd.Series(was, dtype=object).isin(LIVE).to_numpy()
    for column in ("family", "key", "kind"):
        out[column] = np.where(found, now(column), before(column))

    until = pd.to_datetime(_until(acceptances).reindex(ids.to_numpy(dtype=object)).to_numpy())
    covered = found & until.notna() & (until >= pd.Timestamp(as_of))
    status = np.where(found, np.where(covered, ACCEPTED, OPEN), RESOLVED)
    first = pd.to_numeric(pd.Series(before("first_seen_run"))).to_numpy(dtype=np.float64)
    untold = np.isin(first, _undelivered(runs, run_id)) & (was == OPEN)
    fresh = ~was_live | untold
    change = np.select(
        [~found, covered, fresh, was == ACCEPTED],
        [RESOLVED, ACCEPTED, NEW, EXPIRED],
        default=OPEN,
    )
    out["status"] = status
    out["change"] = change
    out["first_seen_run"] = np.where(found & fresh, run_id, first).astype(np.int64)
    last = pd.to_numeric(pd.Series(before("last_seen_run"))).to_numpy(dtype=np.float64)
    out["last_seen_run"] = np.where(found, run_id, last).astype(np.int64)
    out["resolved_run"] = pd.array(np.where(found, pd.NA, run_id), dtype="Int64")
    out["age_days"], out["age_runs"] = _ages(out["first_seen_run"].to_numpy(), run_id, as_of, runs)
    accepted_until = pd.Series(until).dt.date.astype(object).to_numpy()
    out["accepted_until"] = np.where(until.notna(), accepted_until, None)
    out["value"] = np.where(found, now("value"), None)
    out["payload"] = np.where(found, now("payload"), None)
    out = out[RESULT_COLUMNS]
    order = out[["family", "key"]].astype("str").sort_values(["family", "key"], kind="stable")
    return out.iloc[order.index.to_numpy()].reset_index(drop=True)


def _take(column: pd.Series, positions: np.ndarray) -> np.ndarray:
    """``column``'s values at ``positions`` as objects; None where the position is -1."""
    values = column.to_numpy(dtype=object)
    if not len(values):
        return np.full(len(positions), None, dtype=object)
    taken = values[np.maximum(positions, 0)]
    taken[positions < 0] = None
    return taken


def _undelivered(runs: pd.DataFrame, run_id: int) -> np.ndarray:
    """Earlier runs whose outputs or delivery failed, or that never said (``recon.state.record``:
    any status but ``DELIVERED``)."""
    if "status" not in runs.columns:
        return np.array([], dtype=np.float64)
    failed = (runs["status"].astype(str) != DELIVERED).to_numpy() & (
        runs["run_id"] != run_id
    ).to_numpy()
    return runs.loc[failed, "run_id"].to_numpy(dtype=np.float64)


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
