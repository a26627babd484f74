"""Findings that are not about a won deal's orders: orphan orders and deals on credit hold."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recon.checks.amounts import floats
from recon.checks.leakage.findings import day_text, money, typed
from recon.checks.leakage.prepare import Prepared
from recon.fx import to_base
from recon.schema import AMOUNT_DTYPE

SHOWN_ORDERS = 3  # order ids named in an orphan_order finding's reason


def orphan_orders(
    prep: Prepared, deal_of_order: np.ndarray, fx_rates: pd.DataFrame | None
) -> pd.DataFrame:
    """The orders of each ERP customer with no CRM company (paying no deal): one finding per
    customer, with how many orders, their total in the base currency and the first and last
    order date.

    One per customer, not per order: such a customer is normal business that wants one action
    (link it, or create it in the CRM), however many orders it placed. ``order_ids`` holds
    ``customer:<customer_id>``, the finding's key in the state store, so it keeps its id when
    another order arrives; the reason names the first orders.
    """
    orders = prep.orders
    keep = ~orders["has_crm"].to_numpy() & (deal_of_order < 0)
    out = orders.loc[keep]
    if not len(out):
        return typed(pd.DataFrame())
    base = to_base(out["amount"], out["currency"], out["order_date"], fx_rates, prep.base)
    flat = pd.DataFrame(
        {
            "customer_id": out["customer_id"].astype("string").to_numpy(),
            "order_date": out["order_date"].to_numpy(),
            "order_id": out["order_id"].astype("string").to_numpy(),
            "customer": out["customer"].astype("string").to_numpy(),
            "currency": out["currency"].astype("string").to_numpy(),
            "ent": out["ent"].to_numpy(),
            "amount_base": base["amount_base"].to_numpy(),
            "fx_missing": base["fx_missing"].to_numpy(dtype=bool),
        }
    ).sort_values(["customer_id", "order_date", "order_id"], kind="stable", ignore_index=True)
    flat["amount_base"] = flat["amount_base"].astype(AMOUNT_DTYPE)
    grouped = flat.groupby("customer_id", sort=True)
    first = grouped.head(1).set_index("customer_id")
    per = pd.DataFrame(
        {
            "orders": grouped.size(),
            "total": grouped["amount_base"].sum(min_count=1).astype(AMOUNT_DTYPE),
            "first_day": grouped["order_date"].min(),
            "last_day": grouped["order_date"].max(),
            "fx_missing": grouped["fx_missing"].sum(),
            "currencies": grouped["currency"].nunique(),
        }
    )
    per = per.join(first[["customer", "currency", "ent"]])
    # the first orders' ids joined, one rank at a time (a Python join per customer is seconds at
    # a million records)
    rank = grouped.cumcount().to_numpy()
    ids = flat["order_id"].astype("string")
    for k in range(SHOWN_ORDERS):
        at = flat.loc[rank == k, "customer_id"]
        part = pd.Series(ids[rank == k].to_numpy(), index=at.to_numpy()).reindex(per.index)
        per["shown"] = part if k == 0 else per["shown"] + (", " + part).fillna("")
    per = per.reset_index()
    return typed(_orphan_frame(prep, per))


def _orphan_frame(prep: Prepared, per: pd.DataFrame) -> pd.DataFrame:
    """The findings of ``per`` (one row per customer) with their reasons."""
    n = per["orders"].to_numpy()
    count = per["orders"].astype("string")
    more = (per["orders"] - SHOWN_ORDERS).astype("string")
    listed = per["shown"].astype("string") + (" and " + more + " more").where(n > SHOWN_ORDERS, "")
    what = (count + " orders (").where(n > 1, "order ")
    days = (" from " + day_text(per["first_day"]) + " to " + day_text(per["last_day"])).where(
        n > 1, " on " + day_text(per["first_day"])
    )
    total = floats(per["total"])
    base = pd.Series(prep.base, index=per.index)
    missing = per["fx_missing"].to_numpy()
    left_out = (" (" + per["fx_missing"].astype("string") + " without an fx rate left out)").where(
        missing > 0, ""
    )
    reason = (
        what
        + listed
        + pd.Series(np.where(n == 1, "", ")"), index=per.index)
        + " of ERP customer "
        + per["customer_id"]
        + " "
        + per["customer"].fillna("")
        + days
        + ", "
        + pd.Series(money(base, total), index=per.index)
        + pd.Series(np.where(n == 1, "", " in total"), index=per.index)
        + left_out
        + "; the customer has no CRM company, so no deal stands behind "
        + pd.Series(np.where(n == 1, "it", "them"), index=per.index)
        + pd.Series(per["ent"].map(prep.review_hint).to_numpy(), index=per.index, dtype="string")
        .fillna("")
    )  # fmt: skip
    one_currency = per["currencies"].to_numpy() == 1
    return pd.DataFrame(
        {
            "company": per["customer"],
            "xref_id": prep.xref_ids[per["ent"].to_numpy()],
            "currency": per["currency"].where(one_currency),
            "order_ids": "customer:" + per["customer_id"],
            "order_count": per["orders"],
            "first_order_date": per["first_day"],
            "last_order_date": per["last_day"],
            "order_total_base": per["total"],
            "age_days": (prep.as_of - per["first_day"]).dt.days,
            "kind": "orphan_order",
            "reason": reason,
            "fx_missing": missing > 0,
        },
        index=per.index,
    )


def credit_holds(prep: Prepared, window_days: int, fx_rates: pd.DataFrame | None) -> pd.DataFrame:
    """Open deals, and won deals still within the order window (``window_days`` after the close),
    whose ERP customer is on hold.

    The value at risk is the deal amount: the customer may not be supplied or billed.
    """
    recent = (prep.as_of - prep.won["close_date"]).dt.days <= window_days
    won = prep.won.loc[recent.to_numpy(dtype=bool)].assign(state="won")
    deals = pd.concat([won, prep.open_deals.assign(state="open")], ignore_index=True)
    hold = prep.hold_customer
    held = deals["ent"].isin(hold.index).to_numpy()
    deals = deals.loc[held].reset_index(drop=True)
    base = to_base(
        deals["deal_amount"], deals["currency"], deals["close_date"], fx_rates, prep.base
    )
    customer = deals["ent"].map(hold).astype("string")
    amount = floats(deals["deal_amount"])
    what = np.where(
        deals["state"] == "won", "won ", "open deal (" + deals["stage"].fillna("") + "), closing "
    )
    reason = (
        pd.Series(what, index=deals.index)
        + day_text(deals["close_date"])
        + ", "
        + pd.Series(money(deals["currency"], amount), index=deals.index)
        + "; ERP customer "
        + customer
        + " is on credit hold"
    )
    frame = deals.assign(
        xref_id=prep.xref_ids[deals["ent"].to_numpy()],
        deal_amount_base=base["amount_base"],
        gap_amount=base["amount_base"],
        age_days=(prep.as_of - deals["close_date"]).dt.days,
        kind="credit_hold",
        reason=reason,
        fx_missing=base["fx_missing"],
    )
    return typed(frame)
