"""The key of each finding, per family, and the frame the lifecycle reads (pure).

Keys name what a finding is about, never its amounts or dates, so that an amount corrected in
the ERP leaves the finding the same finding:

``leakage``    kind|deal_id, or kind|order:<order_ids> for a finding with no deal (orphan order)
``quality``    system|record_id|rule|field
``duplicate``  system|record_id (a record sharing its entity with one of its own system)

The value kept per finding is the leakage gap (base currency, exact decimal text). Leakage
findings keep their whole row (``KEEPS_ROWS``), because a later run's report shows the rows of the
findings it resolved as they were last seen; the other families' rows are never read back, so
they keep none. A kept row is rewritten only when it changed, not counting its ``VOLATILE``
columns, which move with the day alone (``age_days``): not because a week went by.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.state.lifecycle import CURRENT_COLUMNS, finding_numbers

FAMILIES = ("leakage", "duplicate", "quality")
KEEPS_ROWS = ("leakage",)
VOLATILE = ("age_days",)
_KEY_COLUMNS = {
    "quality": ("system", "record_id", "rule", "field"),
    "duplicate": ("system", "record_id"),
}


def keyed_findings(family: str, frame: pd.DataFrame) -> pd.DataFrame:
    """CURRENT_COLUMNS of one family's frame, row by row: finding_id (the id's number, as the
    store keeps it; ``lifecycle.id_text`` writes it as text), family, key, kind, value; no
    payload (the store keeps the rows of ``KEEPS_ROWS`` itself)."""
    frame = frame.reset_index(drop=True)
    key = finding_keys(family, frame)
    if family == "leakage":
        kind = frame["kind"].astype("str")
        value = _decimals(frame["gap_amount"]) if "gap_amount" in frame else None
    else:
        kind = frame["rule"].astype("str") if family == "quality" else "duplicate"
        value = None
    empty = pd.Series(np.full(len(frame), None, dtype=object), index=frame.index)
    out = pd.DataFrame(
        {
            "finding_id": finding_numbers(family, key),
            "family": pd.Series(family, index=frame.index, dtype="str"),
            "key": key,
            "kind": pd.Series(kind, index=frame.index, dtype="str"),
            "value": value if value is not None else empty,
            "payload": empty,
        },
        index=frame.index,
    )
    return out[CURRENT_COLUMNS]


def finding_keys(family: str, frame: pd.DataFrame) -> pd.Series:
    """The key of each row of one family's frame (aligned with it)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown finding family '{family}'; expected one of {FAMILIES}")
    if family == "leakage":
        _require(frame, ("kind", "deal_id", "order_ids"), family)
        deal = frame["deal_id"].astype("str")
        order = "order:" + frame["order_ids"].astype("str").fillna("")
        return frame["kind"].astype("str") + "|" + deal.fillna(order)
    columns = _KEY_COLUMNS[family]
    _require(frame, columns, family)
    return _joined(frame, columns)


def _decimals(values: pd.Series) -> pd.Series:
    """Exact decimal text of each amount (None where there is none or it is not a number)."""
    text = values.astype("string")
    number = pd.to_numeric(text, errors="coerce")
    ok = number.notna() & np.isfinite(number.astype("float64").fillna(0)).to_numpy()
    return text.astype(object).where(ok.to_numpy(), None)


def _joined(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """The columns as text joined by ``|`` (a missing value as empty text), by Arrow."""
    parts = []
    for c in columns:
        part = pa.array(frame[c].astype("str").array)
        parts.append(part.combine_chunks() if isinstance(part, pa.ChunkedArray) else part)
    parts = [p.cast(pa.large_string()) for p in parts]
    joined = pc.binary_join_element_wise(
        *parts, pa.scalar("|", pa.large_string()), null_handling="replace"
    )
    return pd.Series(pd.array(joined, dtype="str"), index=frame.index)


def _require(frame: pd.DataFrame, columns: Sequence[str], family: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{family} findings lack the column(s) {', '.join(missing)}")
