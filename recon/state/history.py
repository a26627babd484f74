"""What the weekly report reads back from the store: each leakage finding's lifecycle next to its
row, the rows of findings resolved since the previous run, and value at risk run by run.

``record_run`` classifies; this module joins its verdicts to the check's frame for the outputs:

``finding_id``      the stable finding id (``recon accept`` takes it)
``change``          new, open, accepted, expired (open again) or resolved
``first_seen``      the day of the run that first saw it
``days_open``       days since then (``age_days`` stays the check's own: days since the close)
``accepted_until``  the last day of its acceptance, if any
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.state import lifecycle
from recon.state.keys import finding_keys, keyed_findings
from recon.state.record import RunRecord
from recon.state.store import Store

LIFECYCLE_COLUMNS = ("finding_id", "change", "first_seen", "days_open", "accepted_until")
CHECKED_LEAKAGE = ("run", "leakage")  # commands whose runs record leakage findings
TREND_RUNS = 12


def accepted_rows(findings: pd.DataFrame, store: Store, as_of: dt.date) -> np.ndarray:
    """Which rows of a leakage findings frame are accepted on ``as_of`` (the rule
    ``lifecycle.classify`` applies): their keys against the keys of the accepted findings, so
    no finding id is hashed."""
    keys = store.accepted_keys("leakage", as_of)
    if not keys:
        return np.zeros(len(findings), dtype=bool)
    return finding_keys("leakage", findings).isin(keys).to_numpy(dtype=bool)


def leakage_ids(findings: pd.DataFrame) -> pd.Series:
    """The stable finding id of each row of a leakage findings frame (aligned with it)."""
    numbers = keyed_findings("leakage", findings)["finding_id"].to_numpy()
    return pd.Series(pd.array(lifecycle.id_text(numbers), dtype="str"), index=findings.index)


def with_lifecycle(findings: pd.DataFrame, record: RunRecord, store: Store) -> pd.DataFrame:
    """The leakage findings with LIFECYCLE_COLUMNS first, then the rows of the findings this run
    resolved (as last seen, ``change`` = resolved), read back from the store."""
    life = record.findings[(record.findings["family"] == "leakage").to_numpy()]
    life = life.set_index(pd.Index(life["finding_id"].to_numpy(dtype=object), dtype=object))
    day = _run_days(store)
    current = findings.reset_index(drop=True)
    found = _found(current, life)
    columns = {
        "finding_id": found.index.to_numpy(),
        "change": found["change"].to_numpy(dtype=object),
        "first_seen": found["first_seen_run"].map(day).to_numpy(dtype=object),
        "days_open": found["age_days"].astype("Int64").to_numpy(),
        "accepted_until": found["accepted_until"].to_numpy(dtype=object),
    }
    out = pd.concat([pd.DataFrame(columns), current], axis=1)
    gone = life[life["change"] == lifecycle.RESOLVED]
    if not len(gone):
        return out
    stored = store.kept_rows(gone.index).set_index("finding_id").reindex(gone.index)
    resolved = stored.reindex(columns=list(current.columns))
    if "age_days" in resolved.columns:  # as last seen, though the kept row may be older
        later = _days_between(stored["row_run"], gone["last_seen_run"], store)
        resolved["age_days"] = pd.to_numeric(resolved["age_days"], errors="coerce") + later
    resolved.insert(0, "accepted_until", gone["accepted_until"].to_numpy(dtype=object))
    resolved.insert(0, "days_open", gone["age_days"].astype("Int64").to_numpy())
    resolved.insert(0, "first_seen", gone["first_seen_run"].map(day).to_numpy(dtype=object))
    resolved.insert(0, "change", lifecycle.RESOLVED)
    resolved = resolved.reset_index(names="finding_id")
    for column in current.columns:  # the check's own types, where the stored text allows
        with contextlib.suppress(TypeError, ValueError):
            resolved[column] = resolved[column].astype(current[column].dtype)
    return pd.concat([out, resolved[out.columns]], ignore_index=True)


def _found(current: pd.DataFrame, life: pd.DataFrame) -> pd.DataFrame:
    """The lifecycle row of each current finding, indexed by its id: looked up by key (the run
    classified every current finding), hashed only for a row the lifecycle lacks."""
    keys = pa.array(finding_keys("leakage", current).array)
    at = pc.index_in(keys, value_set=pa.array(life["key"].astype("str").array))
    at = at.to_numpy(zero_copy_only=False)
    known = ~np.isnan(at.astype(np.float64))
    ids = np.empty(len(current), dtype=object)
    ids[known] = life.index.to_numpy()[at[known].astype(np.int64)]
    if not known.all():
        ids[~known] = leakage_ids(current[~known]).to_numpy(dtype=object)
    return life.reindex(pd.Index(ids, dtype=object))


def leakage_runs(
    store: Store, upto: int, commands: Collection[str] = CHECKED_LEAKAGE
) -> pd.DataFrame:
    """Runs up to ``upto`` that checked leakage and were delivered (and ``upto`` itself): run_id,
    as_of, value_at_risk (NaN when the run recorded none), oldest first. A run whose report
    reached nobody is no "previous run" to count new findings from."""
    runs = store.runs()
    run_id = runs["run_id"].astype(int)
    told = runs["status"].eq(lifecycle.DELIVERED) | run_id.eq(upto)
    runs = runs[(run_id <= upto) & told & runs["command"].isin(list(commands))]
    values = [_value(c) for c in runs["counts"]]
    return pd.DataFrame(
        {
            "run_id": runs["run_id"].astype(int).to_numpy(),
            "as_of": [_date(d) for d in runs["as_of"]],
            "value_at_risk": pd.array(values, dtype="Float64"),
        }
    )


def _value(counts: Any) -> float | None:
    if isinstance(counts, str):
        counts = json.loads(counts)
    leakage = counts.get("leakage") if isinstance(counts, Mapping) else None
    value = leakage.get("value_at_risk") if isinstance(leakage, Mapping) else None
    return float(value) if value is not None else None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10]) if value else None


def _days_between(first: pd.Series, last: pd.Series, store: Store) -> np.ndarray:
    """Days from the as-of day of run ``first`` to that of run ``last``, per row (0 unknown)."""
    runs = store.runs()
    day = pd.Series(
        pd.to_datetime([_date(d) for d in runs["as_of"]]), index=runs["run_id"].astype(int)
    )
    start = day.reindex(pd.to_numeric(first, errors="coerce").astype("Int64")).to_numpy()
    end = day.reindex(pd.to_numeric(last, errors="coerce").astype("Int64")).to_numpy()
    days = (end - start).astype("timedelta64[D]").astype("float64")
    return np.nan_to_num(days, nan=0.0)


def _run_days(store: Store) -> dict[int, dt.date | None]:
    runs = store.runs()
    return {int(r): _date(s) for r, s in zip(runs["run_id"], runs["started_at"], strict=True)}
