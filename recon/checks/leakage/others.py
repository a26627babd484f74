"""Findings that are not about a won deal's orders: orphan orders and deals on credit hold."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recon.checks.amounts import floats
from recon.checks.leakage.findings import day_text, money, typed
from recon.checks.leakage.prepare import Prepared
from recon.fx import to_base


def orphan_orders(
    prep: Prepared, deal_of_order: np.ndarray, fx_rates: pd.DataFrame | None
) -> pd.DataFrame:
    """Orders on a customer with no CRM company (and paying no deal): reported separately."""
    orders = prep.orders
    keep = ~orders["has_crm"].to_numpy() & (deal_of_order < 0)
    out = orders.loc[keep]
    base = to_base(out["amount"], out["currency"], out["order_date"], fx_rates, prep.base)
    amount = floats(out["amount"])
    reason = (
        "order "
        + out["order_id"]
        + " of ERP customer "
        + out["customer_id"]
        + " "
        + out["customer"].fillna("")
        + ", "
        + pd.Series(money(out["currency"], amount), index=out.index)
        + " on "
        + day_text(out["order_date"])
        + "; the customer has no CRM company, so no deal stands behind it"
        + pd.Series(out["ent"].map(prep.review_hint).to_numpy(), index=out.index, dtype="string")
        .fillna("")
    )  # fmt: skip
    frame = pd.DataFrame(
        {
            "company": out["customer"],
            "xref_id": prep.xref_ids[out["ent"].to_numpy()],
            "currency": out["currency"],
            "order_ids": out["order_id"],
            "order_total_base": base["amount_base"],
            "age_days": (prep.as_of - out["order_date"]).dt.days,
            "kind": "orphan_order",
            "reason": reason,
            "fx_missing": base["fx_missing"],
        },
        index=out.index,
    )
    return typed(frame)


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
