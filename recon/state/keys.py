"""The key of each finding, per family, and the frame the lifecycle reads (pure).

Keys name what a finding is about, never its amounts or dates, so that an amount corrected in
the ERP leaves the finding the same finding:

``leakage``    kind|deal_id, or kind|order:<order_ids> for a finding with no deal (orphan order)
``quality``    system|record_id|rule|field
``duplicate``  system|record_id (a record sharing its entity with one of its own system)

The value kept per finding is the leakage gap (base currency); the payload is the whole row as
JSON text, for the report of a later run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

import pandas as pd

from recon.state.lifecycle import CURRENT_COLUMNS, finding_ids

FAMILIES = ("leakage", "duplicate", "quality")
_KEY_COLUMNS = {
    "quality": ("system", "record_id", "rule", "field"),
    "duplicate": ("system", "record_id"),
}


def keyed_findings(family: str, frame: pd.DataFrame) -> pd.DataFrame:
    """CURRENT_COLUMNS (finding_id, family, key, kind, value, payload) of one family's frame."""
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
    out = pd.DataFrame(
        {
            "family": family,
            "key": key.astype(object),
            "kind": pd.Series(kind, index=frame.index).astype(object),
            "value": value if value is not None else [None] * len(frame),
            "payload": payloads(frame),
        },
        index=frame.index,
    )
    out.insert(0, "finding_id", finding_ids(family, out["key"]))
    return out[CURRENT_COLUMNS]


def payloads(frame: pd.DataFrame) -> list[str]:
    """Each row as JSON text: NA as null, dates as ISO text, decimals as exact text."""
    plain = frame.astype(object).where(frame.notna(), None)
    columns = list(map(str, plain.columns))
    return [
        json.dumps(dict(zip(columns, row, strict=True)), default=_text, ensure_ascii=False)
        for row in plain.itertuples(index=False, name=None)
    ]


def _text(value: object) -> str:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _decimals(values: pd.Series) -> list[Decimal | None]:
    out: list[Decimal | None] = []
    for v in values.astype(object):
        try:
            out.append(None if v is None or v is pd.NA or v != v else Decimal(str(v)))
        except InvalidOperation:
            out.append(None)
    return out


def _joined(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    key = frame[columns[0]].astype("string").fillna("")
    for c in columns[1:]:
        key = key + "|" + frame[c].astype("string").fillna("")
    return key


def _require(frame: pd.DataFrame, columns: Sequence[str], family: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{family} findings lack the column(s) {', '.join(missing)}")
