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

from recon.state import lifecycle
from recon.state.keys import keyed_findings
from recon.state.record import RunRecord
from recon.state.store import Store

LIFECYCLE_COLUMNS = ("finding_id", "change", "first_seen", "days_open", "accepted_until")
CHECKED_LEAKAGE = ("run", "leakage")  # commands whose runs record leakage findings
TREND_RUNS = 12


def accepted_ids(store: Store, as_of: dt.date) -> set[str]:
    """Finding ids whose acceptance holds on ``as_of`` (the rule ``lifecycle.classify`` applies)."""
    accepted = store.acceptances()
    if not len(accepted):
        return set()
    until = pd.to_datetime(accepted["until"])
    return set(accepted.loc[(until >= pd.Timestamp(as_of)).to_numpy(), "finding_id"].astype(str))


def leakage_ids(findings: pd.DataFrame) -> pd.Series:
    """The stable finding id of each row of a leakage findings frame (aligned with it)."""
    ids = keyed_findings("leakage", findings, payload=False)["finding_id"]
    return pd.Series(ids.to_numpy(), index=findings.index)


def with_lifecycle(findings: pd.DataFrame, record: RunRecord, store: Store) -> pd.DataFrame:
    """The leakage findings with LIFECYCLE_COLUMNS first, then the rows of the findings this run
    resolved (as last seen, ``change`` = resolved), read back from the store."""
    life = record.findings[record.findings["family"] == "leakage"].set_index("finding_id")
    day = _run_days(store)
    current = findings.reset_index(drop=True)
    ids = leakage_ids(current)
    found = life.reindex(ids.to_numpy())
    columns = {
        "finding_id": ids.to_numpy(),
        "change": found["change"].to_numpy(dtype=object),
        "first_seen": found["first_seen_run"].map(day).to_numpy(dtype=object),
        "days_open": found["age_days"].astype("Int64").to_numpy(),
        "accepted_until": found["accepted_until"].to_numpy(dtype=object),
    }
    out = pd.concat([pd.DataFrame(columns), current], axis=1)
    gone = life[life["change"] == lifecycle.RESOLVED]
    if not len(gone):
        return out
    stored = store.payloads(gone.index).set_index("finding_id").reindex(gone.index)
    rows = [json.loads(p) if isinstance(p, str) else {} for p in stored["payload"]]
    resolved = pd.DataFrame(rows, index=gone.index, columns=list(current.columns))
    if "age_days" in resolved.columns:  # as last seen, though the payload may be older
        later = _days_between(stored["payload_run"], gone["last_seen_run"], store)
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
