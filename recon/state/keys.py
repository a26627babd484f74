"""The key of each finding, per family, and the frame the lifecycle reads (pure).

Keys name what a finding is about, never its amounts or dates, so that an amount corrected in
the ERP leaves the finding the same finding:

``leakage``    kind|deal_id, or kind|order:<order_ids> for a finding with no deal (orphan order)
``quality``    system|record_id|rule|field
``duplicate``  system|record_id (a record sharing its entity with one of its own system)

The value kept per finding is the leakage gap (base currency, exact decimal text). Leakage
findings keep their whole row as JSON text (the payload), because a later run's report shows the
rows of the findings it resolved as they were last seen; the other families' rows are never read
back, so they keep none. ``digest`` is a 64-bit hash of the payload without its ``VOLATILE``
columns, which move with the day alone (``age_days``): a run rewrites a stored payload only when
its digest changed, not because a week went by.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from recon.state.lifecycle import CURRENT_COLUMNS, finding_ids

FAMILIES = ("leakage", "duplicate", "quality")
KEEPS_PAYLOAD = ("leakage",)
VOLATILE = ("age_days",)
_KEY_COLUMNS = {
    "quality": ("system", "record_id", "rule", "field"),
    "duplicate": ("system", "record_id"),
}


def keyed_findings(family: str, frame: pd.DataFrame, *, payload: bool = True) -> pd.DataFrame:
    """CURRENT_COLUMNS (finding_id, family, key, kind, value, payload) and ``digest`` of one
    family's frame. ``payload=False`` leaves payload and digest empty (ids are all it needs)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown finding family '{family}'; expected one of {FAMILIES}")
    frame = frame.reset_index(drop=True)
    if family == "leakage":
        _require(frame, ("kind", "deal_id", "order_ids"), family)
        deal = frame["deal_id"].astype("string")
        order = "order:" + frame["order_ids"].astype("string").fillna("")
        key = frame["kind"].astype("string") + "|" + deal.fillna(order)
        kind = frame["kind"].astype("string")
        value = _decimals(frame["gap_amount"]) if "gap_amount" in frame else None
    else:
        columns = _KEY_COLUMNS[family]
        _require(frame, columns, family)
        key = _joined(frame, columns)
        kind = frame["rule"].astype("string") if family == "quality" else "duplicate"
        value = None
    empty = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    kept = payload and family in KEEPS_PAYLOAD
    texts, digest = payloads(frame) if kept else (empty, empty)
    out = pd.DataFrame(
        {
            "family": family,
            "key": key.astype(object),
            "kind": pd.Series(kind, index=frame.index).astype(object),
            "value": value if value is not None else empty,
            "payload": texts,
            "digest": digest,
        },
        index=frame.index,
    )
    out.insert(0, "finding_id", finding_ids(family, out["key"]))
    return out[[*CURRENT_COLUMNS, "digest"]]


def payloads(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each row as JSON text (NA as null, dates as ISO text, decimals as exact text), and the
    digest of each row without its VOLATILE columns (int64). Built column by column by pandas'
    JSON writer, not row by row."""
    steady = frame.drop(columns=[c for c in VOLATILE if c in frame.columns])
    text = _json_lines(steady)
    digest = pd.Series(
        pd.util.hash_array(text.to_numpy(dtype=object)).view(np.int64), index=frame.index
    )
    for column in VOLATILE:
        if column in frame.columns:
            tail = _json_lines(frame[[column]]).str.slice(1)  # '"age_days":12}'
            text = text.str.slice(0, -1) + ("," if len(steady.columns) else "") + tail
    return text.astype(object), digest


def _json_lines(frame: pd.DataFrame) -> pd.Series:
    """One JSON object per row, in the form ``json.dumps`` gave them before (dates as
    ``2026-10-31``, or with the time when there is one; anything else unknown as its text)."""
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


def _decimals(values: pd.Series) -> pd.Series:
    """Exact decimal text of each amount (None where there is none or it is not a number)."""
    text = values.astype("string")
    number = pd.to_numeric(text, errors="coerce")
    ok = number.notna() & np.isfinite(number.astype("float64").fillna(0)).to_numpy()
    return text.astype(object).where(ok.to_numpy(), None)


def _joined(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    key = frame[columns[0]].astype("string").fillna("")
    for c in columns[1:]:
        key = key + "|" + frame[c].astype("string").fillna("")
    return key


def _require(frame: pd.DataFrame, columns: Sequence[str], family: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{family} findings lack the column(s) {', '.join(missing)}")
