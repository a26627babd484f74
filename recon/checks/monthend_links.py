"""Which deal each order is for, as month-end reads it: the leakage check's global assignment for
live orders, and the order's own deal reference for cancelled ones (the assignment leaves those
out, but month-end must say that a deal's order was cancelled).

The assignment is the leakage check's: ``recon run`` hands month-end the one its leakage check
made (``LeakageResult.links``); alone, month-end makes it once through the same function
(``assigned_links``), as of the same day, so both commands link alike."""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd

from recon.checks.leakage import Frames, linked_orders, parse_deal_refs
from recon.checks.leakage.taxes import TaxReadings
from recon.checks.monthend_prep import is_in, member
from recon.config.leakage import LeakageRules

log = logging.getLogger(__name__)

LINK_COLUMNS = ["deal_id", "order_id"]


def empty_links() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="string") for c in LINK_COLUMNS})


def links_by_reference(orders: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    """Orders whose ``crm_deal_ref`` names a deal of the export (``HS-123``, ``Deal #123``, ...)."""
    if "crm_deal_ref" not in orders or not len(orders) or not len(deals):
        return empty_links()  # no deal to name: the references need no reading
    named = parse_deal_refs(orders["crm_deal_ref"])
    known = member(named, deals["deal_id"])  # an Arrow hash join, not Series.isin
    return pd.DataFrame(
        {
            "deal_id": named[known].astype("string").to_numpy(),
            "order_id": orders.loc[known, "order_id"].astype("string").to_numpy(),
        }
    ).astype("string")


def assignment_day(
    deals: pd.DataFrame, orders: pd.DataFrame, day: dt.date, won_stages: tuple[str, ...]
) -> dt.date:
    """The day month-end's assignment counts from: the run's as-of ``day``, or the last won deal
    or order when later, so that an order booked after the period (or after ``--as-of``) still
    links to its deal and shows as a timing difference rather than a missing order."""
    won = deals.loc[is_in(deals["stage"], won_stages).to_numpy(), "close_date"]
    dates = [d for d in (won.max(), orders["order_date"].max()) if not pd.isna(d)]
    return max([day, *(pd.Timestamp(d).date() for d in dates)])


def assigned_links(
    frames: Frames,
    rules: LeakageRules,
    *,
    day: dt.date,
    base: str,
    won_stages: tuple[str, ...],
    cancelled_statuses: tuple[str, ...],
) -> tuple[pd.DataFrame, TaxReadings]:
    """The leakage check's deal–order assignment (one order pays at most one deal) as of ``day``
    (see ``assignment_day``), and the tax readings it allowed: what ``LeakageResult.links`` and
    ``LeakageResult.tax_readings`` hold when the leakage check ran as of that day."""
    return linked_orders(
        frames,
        rules,
        as_of=day,
        base_currency=base,
        won_stages=won_stages,
        cancelled_statuses=cancelled_statuses,
    )


def deal_order_links(
    deals: pd.DataFrame,
    orders: pd.DataFrame,
    assigned: pd.DataFrame,
    *,
    won_stages: tuple[str, ...],
    cancelled_statuses: tuple[str, ...],
) -> tuple[pd.DataFrame, str]:
    """The ``assigned`` live orders plus cancelled orders by their deal reference, and how they
    were linked."""
    status = orders.get("status", pd.Series(pd.NA, index=orders.index))
    cancelled = is_in(status, cancelled_statuses).to_numpy()
    assigned = assigned[LINK_COLUMNS].astype("string")
    by_ref = links_by_reference(orders[cancelled], deals)
    # The assignment leaves out won deals without an amount; an order naming one is still its.
    unknown = deals[
        deals["amount"].isna().to_numpy(dtype=bool) & is_in(deals["stage"], won_stages).to_numpy()
    ]
    by_ref = pd.concat([by_ref, links_by_reference(orders[~cancelled], unknown)], ignore_index=True)
    log.info("month-end links: %d assigned, %d by reference", len(assigned), len(by_ref))
    note = (
        f"orders linked to deals by the leakage assignment ({len(assigned):,}), cancelled "
        f"orders and orders of won deals without an amount by their crm_deal_ref ({len(by_ref):,})"
    )
    return pd.concat([assigned, by_ref], ignore_index=True), note
