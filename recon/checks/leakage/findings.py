"""The findings frame: one row per finding, with the amounts and a reason a finance user can read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.schema import AMOUNT_DTYPE, DATE_DTYPE, TEXT_DTYPE

KINDS = (
    "no_order",
    "under_billed",
    "over_billed",
    "pending",
    "no_erp_customer",
    "orphan_order",
    "credit_hold",
    "before_erp_go_live",
)
# Kinds that are revenue leakage: a scheduled run alerts on new ones (exit code 1).
LEAKAGE_KINDS = ("no_order", "under_billed", "over_billed", "no_erp_customer")

FINDING_COLUMNS = {
    "deal_id": TEXT_DTYPE,
    "company_id": TEXT_DTYPE,
    "company": TEXT_DTYPE,
    "xref_id": TEXT_DTYPE,
    "owner": TEXT_DTYPE,
    "close_date": DATE_DTYPE,
    "currency": TEXT_DTYPE,
    "deal_amount": AMOUNT_DTYPE,
    "deal_amount_base": AMOUNT_DTYPE,
    "order_ids": TEXT_DTYPE,  # orphan_order: customer:<customer_id> (the finding's key)
    "order_count": "Int64",
    "first_order_date": DATE_DTYPE,  # orphan_order only: the customer's first and last order
    "last_order_date": DATE_DTYPE,
    "order_total_base": AMOUNT_DTYPE,
    "gap_amount": AMOUNT_DTYPE,
    "age_days": "Int64",
    "kind": TEXT_DTYPE,
    "reason": TEXT_DTYPE,
    "ambiguous": "bool",
    "fx_missing": "bool",
    "leakage_since": DATE_DTYPE,
}


def empty_findings() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in FINDING_COLUMNS.items()})


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with exactly FINDING_COLUMNS in order and type (missing ones empty)."""
    out = {}
    for column, dtype in FINDING_COLUMNS.items():
        if column in frame.columns:
            out[column] = frame[column].astype(dtype)
        else:
            fill = False if dtype == "bool" else pd.NA
            out[column] = pd.Series(fill, index=frame.index).astype(dtype)
    return pd.DataFrame(out, index=frame.index)


def order_counts(findings: pd.DataFrame) -> pd.Series:
    """``order_count`` where the check left it empty: the orders named in ``order_ids`` (", "
    between them); credit-hold findings are not about orders and keep it empty."""
    ids = findings["order_ids"].astype("string")
    named = (ids.str.count(", ") + 1).fillna(0).astype("Int64")
    fill = named.where(findings["kind"] != "credit_hold")
    return findings["order_count"].astype("Int64").fillna(fill)


def money(currency: pd.Series, amount: np.ndarray) -> list[str]:
    """ "USD 12,000.00" for each amount; IDR and other currencies alike, two decimals."""
    return [
        f"{c} {a:,.2f}" if a == a else f"{c} ?"  # a != a: NaN
        for c, a in zip(currency.fillna("").to_numpy(), amount, strict=True)
    ]


def day_text(values: pd.Series) -> pd.Series:
    return pd.Series(values).dt.strftime("%Y-%m-%d").fillna("?").astype("string")


_NARROW = pa.decimal128(37, 4)  # a - b of two of these fits the 38 digits of AMOUNT_DTYPE


def minus(a: pd.Series, b: pd.Series) -> pd.Series:
    """Exact ``a - b`` of two amount columns (NA where either is NA)."""
    left = pa.array(a.astype(AMOUNT_DTYPE).array).cast(_NARROW)
    right = pa.array(b.astype(AMOUNT_DTYPE).array).cast(_NARROW)
    diff = pc.subtract(left, right).cast(AMOUNT_DTYPE.pyarrow_dtype)
    return pd.Series(pd.array(diff, dtype=AMOUNT_DTYPE), index=a.index)
