"""Value at risk by kind, owner and month, and which findings are new in a window."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from recon.checks.leakage.findings import LEAKAGE_KINDS
from recon.schema import AMOUNT_DTYPE, TEXT_DTYPE

TOTAL_COLUMNS = ["by", "key", "kind", "findings", "value_at_risk"]


def _month(findings: pd.DataFrame) -> pd.Series:
    """The close month of a deal (orphan orders have none)."""
    return findings["close_date"].dt.strftime("%Y-%m").astype(TEXT_DTYPE)


def value_at_risk(findings: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per ``kind``, ``owner`` and ``month`` (of the close date), and kind within each: the
    number of findings and the sum of their gap amounts (base currency; orphan orders have none).

    Every frame's value_at_risk adds up to the same total: the sum of all gap amounts.
    """
    keys = {
        "kind": findings["kind"].astype(TEXT_DTYPE),
        "owner": findings["owner"].astype(TEXT_DTYPE).fillna("(no owner)"),
        "month": _month(findings).fillna("(no date)"),
    }
    gap = findings["gap_amount"].astype(AMOUNT_DTYPE).fillna(0)
    out = {}
    for by, key in keys.items():
        frame = pd.DataFrame({"key": key, "kind": findings["kind"].astype(TEXT_DTYPE), "gap": gap})
        grouped = frame.groupby(["key", "kind"], sort=True, dropna=False)
        table = pd.DataFrame(
            {"findings": grouped.size(), "value_at_risk": grouped["gap"].sum()}
        ).reset_index()
        table.insert(0, "by", by)
        table["value_at_risk"] = table["value_at_risk"].astype(AMOUNT_DTYPE)
        out[by] = table[TOTAL_COLUMNS]
    return out


def totals_table(findings: pd.DataFrame) -> pd.DataFrame:
    """The three breakdowns of ``value_at_risk`` in one long table (leakage_totals.csv)."""
    parts = value_at_risk(findings)
    return pd.concat(parts.values(), ignore_index=True) if len(findings) else _empty()


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "by": pd.Series(dtype=TEXT_DTYPE),
            "key": pd.Series(dtype=TEXT_DTYPE),
            "kind": pd.Series(dtype=TEXT_DTYPE),
            "findings": pd.Series(dtype="int64"),
            "value_at_risk": pd.Series(dtype=AMOUNT_DTYPE),
        }
    )


def new_leakage(findings: pd.DataFrame, start: dt.date | None, end: dt.date) -> pd.Series:
    """True for leakage findings that became leakage in [start, end]: their grace period ended,
    or (for kinds without one) their deal closed, inside the window. Without ``start`` every
    leakage finding up to ``end`` counts. Pending, orphan, credit-hold and go-live findings never
    do. (A state store comparing with the previous run will replace this window rule.)
    """
    since = findings["leakage_since"]
    is_leak = findings["kind"].isin(LEAKAGE_KINDS).to_numpy(dtype=bool)
    inside = (since <= pd.Timestamp(end)).fillna(False).to_numpy(dtype=bool).copy()
    if start is not None:
        inside &= (since >= pd.Timestamp(start)).fillna(False).to_numpy(dtype=bool)
    return pd.Series(is_leak & inside, index=findings.index)
