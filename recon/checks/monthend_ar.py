"""Accounts receivable per entity as of a day: open balance, overdue amount and days, credit hold."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.checks import amounts as A
from recon.checks.monthend_prep import join_by, lookup

AR_COLUMNS = [
    "xref_id",
    "customer_ids",
    "name",
    "invoiced",
    "paid",
    "open_balance",
    "open_invoices",
    "overdue_amount",
    "overdue_invoices",
    "max_days_overdue",
    "credit_hold",
    "fx_missing",
]


def ar_overview(
    invoices: pd.DataFrame,
    customers: pd.DataFrame | None,
    erp_entity: pd.Series,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """One row per entity with invoices up to ``as_of`` or a customer on credit hold.

    ``invoices`` are the prepared invoices (base amounts, paid_base, due_date, fx_missing);
    ``erp_entity`` is ``entity_of(xref, "erp")``. The open balance is invoiced − paid in base
    currency; paid amounts are as the export states them, since exports carry no payment dates.
    Overdue: open and due before ``as_of``.
    """
    cols = ["xref_id", "customer_id", "base", "paid_base", "due_date", "fx_missing"]
    rows = invoices.loc[(invoices["date"] <= as_of).to_numpy(dtype=bool), cols]
    rows["key"] = rows["xref_id"].fillna("customer " + rows["customer_id"])
    rows["open"] = A.sub(A.filled(rows["base"]), A.filled(rows["paid_base"]))
    is_open = (rows["open"] > 0).to_numpy(dtype=bool)
    late = is_open & (rows["due_date"] < as_of).fillna(False).to_numpy(dtype=bool)
    rows["open_n"] = is_open.astype(int)
    rows["late_n"] = late.astype(int)
    rows["late"] = A.filled(rows["open"].where(late))  # 0 where not late
    rows["days"] = (as_of - rows["due_date"]).dt.days.where(late).astype("Int64")
    g = rows.groupby("key", sort=True)
    frame = pd.DataFrame(
        {
            "invoiced": A.filled(g["base"].sum()),
            "paid": A.filled(g["paid_base"].sum()),
            "open_balance": A.filled(g["open"].sum()),
            "open_invoices": g["open_n"].sum(),
            "overdue_amount": A.filled(g["late"].sum()),
            "overdue_invoices": g["late_n"].sum(),
            "max_days_overdue": g["days"].max(),
            "fx_missing": g["fx_missing"].sum(),
        }
    )
    cust = _customers(customers, erp_entity)
    holds = cust.loc[cust["credit_hold"], "key"].unique()
    keys = frame.index.union(pd.Index(holds, dtype=frame.index.dtype))
    frame = frame.reindex(keys)
    for col in ("invoiced", "paid", "open_balance", "overdue_amount"):
        frame[col] = A.filled(frame[col])
    for col in ("open_invoices", "overdue_invoices", "fx_missing"):
        frame[col] = frame[col].fillna(0).astype("int64")
    per_key = cust.groupby("key")
    frame["customer_ids"] = join_by(cust["key"], cust["customer_id"]).reindex(keys)
    frame["name"] = per_key["name"].first().reindex(keys).astype("string")
    frame["credit_hold"] = per_key["credit_hold"].any().reindex(keys).fillna(False).astype(bool)
    frame["max_days_overdue"] = frame["max_days_overdue"].astype("Int64")
    frame = frame.rename_axis("xref_id").reset_index()[AR_COLUMNS]
    # overdue first, then by entity; sorted in Arrow (pandas sorts Arrow decimals as objects)
    keys = pa.table(
        {
            "overdue": pa.chunked_array(frame["overdue_amount"].array.__arrow_array__()),
            "xref_id": pa.chunked_array(frame["xref_id"].astype("string").array.__arrow_array__()),
        }
    )
    order = pc.sort_indices(keys, sort_keys=[("overdue", "descending"), ("xref_id", "ascending")])
    return frame.take(order.to_numpy()).reset_index(drop=True)


def _customers(customers: pd.DataFrame | None, erp_entity: pd.Series) -> pd.DataFrame:
    if customers is None:
        return pd.DataFrame({"customer_id": [], "key": [], "name": [], "credit_hold": []}).astype(
            {"credit_hold": bool}
        )
    ids = customers["customer_id"].astype(str)
    xref_id = lookup(ids, erp_entity).astype("string")
    hold = (
        customers["credit_hold"]
        if "credit_hold" in customers
        else pd.Series(False, index=ids.index)
    )
    return pd.DataFrame(
        {
            "customer_id": ids,
            "key": xref_id.fillna("customer " + ids),
            "name": customers["name"].astype("string"),
            "credit_hold": hold.fillna(False).astype(bool),
        }
    ).sort_values("customer_id")
