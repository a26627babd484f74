"""Which deal each order is for, as month-end reads it: the leakage check's global assignment for
live orders, and the order's own deal reference for cancelled ones (the assignment leaves those
out, but month-end must say that a deal's order was cancelled)."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd

from recon.checks.leakage import Frames, parse_deal_refs
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
) -> pd.DataFrame:
    """The leakage check's deal–order assignment (one order pays at most one deal), as links.

    Its cut-off is the last date in the data, so an order booked after the period of a month-end
    run still links to its deal and shows as a timing difference rather than a missing order.
    """
    from recon.checks.leakage import _params  # the assignment's parameters, as find_leakage uses
    from recon.checks.leakage.assign import assign
    from recon.checks.leakage.pairs import candidate_pairs
    from recon.checks.leakage.prepare import prepare

    last = max(
        (
            d
            for d in (frames.deals["close_date"].max(), frames.orders["order_date"].max())
            if not pd.isna(d)
        ),
        default=pd.Timestamp.today(),
    )
    prep = prepare(
        frames,
        rules,
        as_of=max(pd.Timestamp(last).date(), dt.date.today()),
        base=base,
        won_stages=won_stages,
        cancelled_statuses=cancelled_statuses,
    )
    pairs = candidate_pairs(prep, rules, frames.fx_rates)
    chosen = assign(pairs, len(prep.won), len(prep.orders), _params(prep.won, rules))
    paid = np.flatnonzero(chosen.deal_of_order >= 0)
    return pd.DataFrame(
        {
            "deal_id": prep.won["deal_id"].to_numpy()[chosen.deal_of_order[paid]],
            "order_id": prep.orders["order_id"].to_numpy()[paid],
        }
    ).astype("string")


def deal_order_links(
    frames: Frames,
    rules: LeakageRules,
    *,
    base: str,
    won_stages: tuple[str, ...],
    cancelled_statuses: tuple[str, ...],
) -> tuple[pd.DataFrame, str]:
    """Assigned live orders plus cancelled orders by their deal reference, and how they were
    linked. Should the assignment be unusable (its internals are not a public API yet), every
    order is linked by its own deal reference instead, and the returned note says so."""
    status = frames.orders.get("status", pd.Series(pd.NA, index=frames.orders.index))
    cancelled = is_in(status, (*rules.cancelled_statuses, *cancelled_statuses)).to_numpy()
    try:
        assigned = links_from_assignment(
            frames, rules, base=base, won_stages=won_stages, cancelled_statuses=cancelled_statuses
        )
    except (ImportError, AttributeError, TypeError) as exc:
        log.warning("leakage assignment unavailable (%s); linking orders by deal reference", exc)
        links = links_by_reference(frames.orders, frames.deals)
        return links, (
            f"orders linked to deals by their crm_deal_ref only ({len(links):,} links): the "
            f"leakage assignment could not be used ({type(exc).__name__}: {exc})"
        )
    by_ref = links_by_reference(frames.orders[cancelled], frames.deals)
    log.info("month-end links: %d assigned, %d by reference", len(assigned), len(by_ref))
    note = (
        f"orders linked to deals by the leakage assignment ({len(assigned):,}), cancelled "
        f"orders by their crm_deal_ref ({len(by_ref):,})"
    )
    return pd.concat([assigned, by_ref], ignore_index=True), note
