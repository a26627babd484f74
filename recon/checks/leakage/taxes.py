"""Which readings of an order total this data shows: do ERP orders include VAT, do CRM deals,
are deals over-billed?

Set to ``auto`` in rules/leakage.yaml, a reading is allowed when the deals whose orders name
them show it: their named orders total the deal only with the order's tax added (or only with the
deal's tax taken off, or only as an over-billing) for at least ``SEEN_SHARE`` of them. A reading
the data never shows would only explain chance totals: a repeat order that happens to bring an
under-billed deal to 83% of it would read as "the deal included 20% VAT", and one in the window of
a deal with no order as its over-billing. With too few named orders to tell, ``auto`` allows the
reading, as ``true`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SEEN_SHARE = 0.01  # of the deals whose named orders match them in some reading
MIN_DEALS = 200  # fewer matched deals with named orders: too few to tell


@dataclass(frozen=True)
class TaxReadings:
    orders_with_tax: bool
    deals_with_tax: bool
    note: str  # how each reading was decided, for leakage_summary.json


def tax_variants(
    vat: np.ndarray, orders_with_tax: bool = True, deals_with_tax: bool = True
) -> list[np.ndarray]:
    """The totals, as shares of the deal, that count as the deal: ex tax, with tax, tax removed
    (always three, in that order; one turned off never matches: inf)."""
    off = np.full_like(vat, np.inf)
    return [
        np.ones_like(vat),
        1 + vat if orders_with_tax else off,
        1 / (1 + vat) if deals_with_tax else off,
    ]


def _decide(
    setting: bool | str, only: int, of: int, what: str, shown: str = "match them fit only this way"
) -> tuple[bool, str]:
    if setting is not True and setting is not False:  # "auto"
        if of < MIN_DEALS:
            return True, f"{what}: allowed (auto; only {of} deals with named orders to tell)"
        seen = only >= SEEN_SHARE * of
        share = f"{only} of {of:,} deals whose named orders {shown}"
        return seen, f"{what}: {'allowed' if seen else 'not allowed'} (auto; {share})"
    return setting, f"{what}: {'allowed' if setting else 'not allowed'} (rules/leakage.yaml)"


def _named_totals(pairs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(deal, share total of its named orders) for each deal with named orders."""
    named = pairs.loc[pairs["ref"].to_numpy() & np.isfinite(pairs["share"].to_numpy())]
    total = named.groupby("d")["share"].sum()
    return total.index.to_numpy(), total.to_numpy()


def tax_readings(
    pairs: pd.DataFrame, tol: np.ndarray, vat: np.ndarray, orders: bool | str, deals: bool | str
) -> TaxReadings:
    """Decide ``auto`` readings from the named (referenced) pairs; ``tol`` and ``vat`` are per
    won deal (shares of the deal)."""
    d, share = _named_totals(pairs)
    fits = [np.abs(share - m) / m <= tol[d] * (1 + 1e-12) for m in tax_variants(vat[d])]
    matched = int((fits[0] | fits[1] | fits[2]).sum())
    only_orders = int((fits[1] & ~fits[0] & ~fits[2]).sum())
    only_deals = int((fits[2] & ~fits[0] & ~fits[1]).sum())
    o, o_note = _decide(orders, only_orders, matched, "orders including tax")
    dl, d_note = _decide(deals, only_deals, matched, "deal amounts including tax")
    return TaxReadings(o, dl, f"{o_note}; {d_note}")


def over_billing(
    pairs: pd.DataFrame, tol: np.ndarray, vat: np.ndarray, taxes: TaxReadings, setting: bool | str
) -> tuple[bool, str]:
    """(may orders that name no deal make it over-billed, how that was decided): ``auto`` from the
    deals with named orders, over-billed when their total is above every allowed reading."""
    d, share = _named_totals(pairs)
    top = 1 + vat[d] if taxes.orders_with_tax else np.ones(len(d))  # deal less VAT is below 1
    over = int((share > top * (1 + tol[d]) * (1 + 1e-12)).sum())
    what = "orders naming no deal over-billing it"
    return _decide(setting, over, len(d), what, "total above the deal")
