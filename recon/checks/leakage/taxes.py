"""Which tax readings this data shows: do ERP orders include VAT, do CRM deals?

Set to ``auto`` in rules/leakage.yaml, a reading is allowed when the deals whose orders name
them show it: their named orders total the deal only with the order's tax added (or only with the
deal's tax taken off) for at least ``SEEN_SHARE`` of them. A reading the data never shows would
only explain chance totals: a repeat order that happens to bring an under-billed deal to 83% of
it would read as "the deal included 20% VAT". With too few named orders to tell, ``auto`` allows
the reading, as ``true`` does.
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


def _decide(setting: bool | str, only: int, matched: int, what: str) -> tuple[bool, str]:
    if setting is not True and setting is not False:  # "auto"
        if matched < MIN_DEALS:
            return True, f"{what}: allowed (auto; only {matched} deals with named orders to tell)"
        seen = only >= SEEN_SHARE * matched
        share = f"{only} of {matched:,} deals whose named orders match them fit only this way"
        return seen, f"{what}: {'allowed' if seen else 'not allowed'} (auto; {share})"
    return setting, f"{what}: {'allowed' if setting else 'not allowed'} (rules/leakage.yaml)"


def tax_readings(
    pairs: pd.DataFrame, tol: np.ndarray, vat: np.ndarray, orders: bool | str, deals: bool | str
) -> TaxReadings:
    """Decide ``auto`` readings from the named (referenced) pairs; ``tol`` and ``vat`` are per
    won deal (shares of the deal)."""
    named = pairs.loc[pairs["ref"].to_numpy() & np.isfinite(pairs["share"].to_numpy())]
    total = named.groupby("d")["share"].sum()
    d = total.index.to_numpy()
    share = total.to_numpy()
    fits = [np.abs(share - m) / m <= tol[d] * (1 + 1e-12) for m in tax_variants(vat[d])]
    matched = int((fits[0] | fits[1] | fits[2]).sum())
    only_orders = int((fits[1] & ~fits[0] & ~fits[2]).sum())
    only_deals = int((fits[2] & ~fits[0] & ~fits[1]).sum())
    o, o_note = _decide(orders, only_orders, matched, "orders including tax")
    dl, d_note = _decide(deals, only_deals, matched, "deal amounts including tax")
    return TaxReadings(o, dl, f"{o_note}; {d_note}")
