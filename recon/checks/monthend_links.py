"""Which deal each order is for, as month-end reads it: the leakage check's global assignment for
live orders, and the order's own deal reference for cancelled ones (the assignment leaves those
out, but month-end must say that a deal's order was cancelled)."""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd

from recon.checks.leakage import Frames, linked_orders, parse_deal_refs
from recon.checks.leakage.taxes import TaxReadings
from recon.checks.monthend_prep import is_in
from recon.config.leakage import LeakageRules

log = logging.getLogger(__name__)

LINK_COLUMNS = ["deal_id", "order_id"]


def empty_links() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="string") for c in LINK_COLUMNS})


def links_by_reference(orders: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    """Orders whose ``crm_deal_ref`` names a deal of the export (``HS-123``, ``Deal #123``, ...)."""
    if "crm_deal_ref" not in orders or not len(orders):
        return empty_links()
    named = parse_deal_refs(orders["crm_deal_ref"])
    known = named.isin(deals["deal_id"].astype(str)).to_numpy(dtype=bool)
    return pd.DataFrame(
        {
            "deal_id": named[known].astype("string").to_numpy(),
            "order_id": orders.loc[known, "order_id"].astype("string").to_numpy(),
        }
    ).astype("string")


def links_from_assignment(
    frames: Frames,
    rules: LeakageRules,
    *,
    base: str,
    won_stages: tuple[str, ...],
    cancelled_statuses: tuple[str, ...],
) -> tuple[pd.DataFrame, TaxReadings]:
    """The leakage check's deal–order assignment (one order pays at most one deal), as links,
    and the tax readings it allowed.

    Its cut-off is the last date in the data, so an order booked after the period of a month-end
    run still links to its deal and shows as a timing difference rather than a missing order.
    """
    last = max(
        (
            d
            for d in (frames.deals["close_date"].max(), frames.orders["order_date"].max())
            if not pd.isna(d)
        ),
        default=pd.Timestamp.today(),
    )
    links, taxes = linked_orders(
        frames,
        rules,
        as_of=max(pd.Timestamp(last).date(), dt.date.today()),
        base_currency=base,
        won_stages=won_stages,
        cancelled_statuses=cancelled_statuses,
    )
    return links[LINK_COLUMNS].astype("string"), taxes


def deal_order_links(
    frames: Frames,
    rules: LeakageRules,
    *,
    base: str,
    won_stages: tuple[str, ...],
    cancelled_statuses: tuple[str, ...],
) -> tuple[pd.DataFrame, str, TaxReadings]:
    """Assigned live orders plus cancelled orders by their deal reference, how they were
    linked, and the tax readings the assignment allowed."""
    status = frames.orders.get("status", pd.Series(pd.NA, index=frames.orders.index))
    cancelled = is_in(status, (*rules.cancelled_statuses, *cancelled_statuses)).to_numpy()
    assigned, taxes = links_from_assignment(
        frames, rules, base=base, won_stages=won_stages, cancelled_statuses=cancelled_statuses
    )
    by_ref = links_by_reference(frames.orders[cancelled], frames.deals)
    # The assignment leaves out won deals without an amount; an order naming one is still its.
    deals = frames.deals
    unknown = deals[
        deals["amount"].isna().to_numpy(dtype=bool) & is_in(deals["stage"], won_stages).to_numpy()
    ]
    by_ref = pd.concat(
        [by_ref, links_by_reference(frames.orders[~cancelled], unknown)], ignore_index=True
    )
    log.info("month-end links: %d assigned, %d by reference", len(assigned), len(by_ref))
    note = (
        f"orders linked to deals by the leakage assignment ({len(assigned):,}), cancelled "
        f"orders and orders of won deals without an amount by their crm_deal_ref ({len(by_ref):,})"
    )
    return pd.concat([assigned, by_ref], ignore_index=True), note, taxes
