"""Won deals and orders as one more comparison of a CRM company and an ERP customer.

``transactions.coincidences`` counts, for every CRM–ERP record pair, the won deals of the company
met by orders of the customer of the same amount shortly after the close. Here that count becomes
evidence the way every field's level does, learned from this data:

* the order window and the tax rates come from the orders that name their deal (``crm_deal_ref``):
  the lag from close to order that covers nearly all of them, and the ratios order / deal that
  recur (VAT added by the ERP); with too few named orders, a wide default window and no tax;
* each pair whose records both have usable deals and orders gets a level: several coincidences,
  one, or none (a pair where either side has none is missing and weighs nothing);
* m, the share of each level among the pairs the other fields already link, and u, its share
  among all other CRM × ERP pairs of such records (counted exactly from the table, not sampled),
  give the level's bits, log2(m / u), within ``weight_limit``.

Pairs with several coincidences that blocking did not propose are proposed by the ``orders``
blocking pass, so a trade name unrelated to the legal name still meets its customer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.match.transactions import amounts, count_coincidences, usable_counts, usable_rows
from recon.normalize.kernels import as_array

LEVELS = ("none", "one", "several")
_DEAL_COLUMNS = ("deal_id", "company_id", "stage", "amount", "currency", "close_date")
MIN_EXAMPLES = 20  # named orders needed to learn the window and the tax rates
DEFAULT_LAGS = (-7, 120)  # days from close, when too few orders name their deal
LAG_QUANTILE = 0.95
LAG_MARGIN = 1.25
MAX_LAG = 730
MIN_TAX_SHARE = 0.05  # a ratio order / deal seen in this share of single-order deals is a tax rate
MAX_TAX = 0.35
MIN_LINKS = 30  # linked pairs with deals and orders needed to learn m
U_FLOOR = 1e-9
_TEXT = pa.large_string()


@dataclass(frozen=True)
class OrderHabits:
    """The order window (days from close) and tax rates, and how they were found."""

    min_lag: int
    max_lag: int
    tax_rates: tuple[float, ...]
    examples: int

    @property
    def learned(self) -> bool:
        return self.examples >= MIN_EXAMPLES


@dataclass(frozen=True)
class OrderFound:
    """The coincidence table, which records have usable deals or orders, and the habits used."""

    table: pd.DataFrame
    active: np.ndarray
    habits: OrderHabits


@dataclass(frozen=True)
class OrderBits:
    """Bits added to each pair, its reason text (null where none), and what was learned."""

    bits: np.ndarray
    reasons: pa.Array
    summary: dict[str, Any] = field(default_factory=dict)


def won_deals(deals: pd.DataFrame, won_stages: Sequence[str]) -> pd.DataFrame:
    """The deals whose stage is one of ``won_stages`` (any case, surrounding spaces ignored)."""
    stages = pa.array(sorted({s.strip().casefold() for s in won_stages}), pa.string())
    stage = pc.utf8_lower(pc.utf8_trim_whitespace(as_array(deals["stage"].astype("string"))))
    won = pc.fill_null(pc.is_in(stage.cast(pa.string()), value_set=stages), False)
    wanted = [c for c in _DEAL_COLUMNS if c in deals.columns]
    return deals.loc[won.to_numpy(zero_copy_only=False), wanted]


def learn_habits(won: pd.DataFrame, orders: pd.DataFrame) -> OrderHabits:
    """The window and tax rates from the orders that name a won deal of the same currency."""
    if "crm_deal_ref" not in orders.columns or not len(won):
        return OrderHabits(*DEFAULT_LAGS, (), 0)
    has_ref = orders["crm_deal_ref"].notna().to_numpy(dtype=bool)
    named = orders.loc[has_ref, ["crm_deal_ref", "currency", "order_date", "amount"]]
    deal = won[["deal_id", "currency", "close_date", "amount"]].reset_index(drop=True)
    # the first won deal with each id (ids are unique in a clean export), by one hash lookup
    ids = as_array(deal["deal_id"].astype("string"))
    at = pc.index_in(as_array(named["crm_deal_ref"].astype("string")), value_set=ids)
    at = pc.fill_null(at, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    named, at = named[at >= 0], at[at >= 0]
    mine = as_array(named["currency"].astype("string"))
    theirs = as_array(deal["currency"].astype("string")).take(pa.array(at))
    same = pc.fill_null(pc.equal(mine, theirs), False).to_numpy(zero_copy_only=False)
    named, at = named[same], at[same]
    close = pd.to_datetime(deal["close_date"].take(at), errors="coerce").to_numpy()
    lag = (
        pd.to_datetime(named["order_date"], errors="coerce").to_numpy() - close
    ) / np.timedelta64(1, "D")
    lag = lag[~np.isnan(lag)]
    if len(lag) < MIN_EXAMPLES:
        return OrderHabits(*DEFAULT_LAGS, (), len(lag))
    low = int(min(math.floor(np.quantile(lag, 1 - LAG_QUANTILE)), 0))
    high = math.ceil(np.quantile(lag, LAG_QUANTILE) * LAG_MARGIN)
    return OrderHabits(
        max(low, -MAX_LAG),
        int(np.clip(high, 30, MAX_LAG)),
        _tax_rates(named, deal, at),
        len(lag),
    )


def _tax_rates(named: pd.DataFrame, deal: pd.DataFrame, at: np.ndarray) -> tuple[float, ...]:
    """Ratios order / deal above 1 that recur among deals named by one order only."""
    single = pd.Series(at).value_counts()
    one = np.isin(at, single.index[single == 1].to_numpy())
    amount = amounts(named["amount"][one])
    base = amounts(deal["amount"].take(at[one]))
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.round(amount / base - 1, 3)
    rate = rate[np.isfinite(rate) & (rate > 0.004) & (rate <= MAX_TAX)]
    if not one.any() or not len(rate):
        return ()
    values, counts = np.unique(rate, return_counts=True)
    return tuple(float(v) for v in values[counts >= max(5, MIN_TAX_SHARE * one.sum())])


def find(
    records: pd.DataFrame,
    deals: pd.DataFrame,
    orders: pd.DataFrame,
    won_stages: Sequence[str],
    base_currency: str,
) -> OrderFound:
    """Coincidences of the won deals and the orders, with the habits learned from them. A
    missing currency is the base currency (single-currency exports often leave it out)."""
    won = won_deals(deals, won_stages)
    won, orders = _with_currency(won, base_currency), _with_currency(orders, base_currency)
    habits = learn_habits(won, orders)
    deal, order = usable_rows(records, won, orders)
    table = count_coincidences(
        deal,
        order,
        len(records),
        min_lag_days=habits.min_lag,
        max_lag_days=habits.max_lag,
        tax_rates=habits.tax_rates,
    )
    return OrderFound(table, usable_counts(deal, order, len(records)) > 0, habits)


def _with_currency(frame: pd.DataFrame, base: str) -> pd.DataFrame:
    currency = (
        frame["currency"].astype("string").str.strip().str.upper()
        if "currency" in frame.columns
        else pd.Series(pd.NA, index=frame.index, dtype="string")
    )
    return frame.assign(currency=currency.fillna(base.upper()))


def proposed(found: OrderFound, at_least: int) -> np.ndarray:
    """Pair codes left * n + right (sorted) of the pairs with at least ``at_least`` coincidences,
    for the orders blocking pass."""
    table = found.table[found.table["coincidences"] >= at_least]
    n = len(found.active)
    return np.sort(table["left"].to_numpy(np.int64) * n + table["right"].to_numpy(np.int64))


def pair_levels(
    pairs: pd.DataFrame, found: OrderFound, is_erp: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(level per pair: -1 missing, 0 none, 1 one, 2 several; coincidences per pair)."""
    n = len(found.active)
    left = pairs["left"].to_numpy(np.int64)
    right = pairs["right"].to_numpy(np.int64)
    table = found.table
    present = np.flatnonzero(
        found.active[left] & found.active[right] & (is_erp[left] != is_erp[right])
    )
    codes = table["left"].to_numpy(np.int64) * n + table["right"].to_numpy(np.int64)
    wanted = left[present] * n + right[present]
    count = np.zeros(len(left), dtype=np.int32)
    if len(codes) and len(wanted):
        at = np.minimum(np.searchsorted(codes, wanted), len(codes) - 1)
        hit = codes[at] == wanted
        count[present[hit]] = table["coincidences"].to_numpy(np.int32)[at[hit]]
    level = np.full(len(left), -1, dtype=np.int8)
    level[present] = np.minimum(count[present], 2)
    return level, count


def order_bits(
    level: np.ndarray,
    count: np.ndarray,
    linked: np.ndarray,
    found: OrderFound,
    is_erp: np.ndarray,
    weight_limit: float,
) -> OrderBits:
    """Bits per pair from its level: m from the ``linked`` pairs (already linked by the other
    fields), u from all other pairs of records with deals and orders."""
    habits = found.habits
    summary: dict[str, Any] = {
        "window_days": [habits.min_lag, habits.max_lag],
        "tax_rates": list(habits.tax_rates),
        "named_orders": habits.examples,
        "window_learned": habits.learned,
        "pairs_with_coincidences": len(found.table),
        "common_amounts_skipped": int(found.table.attrs.get("common_amounts", 0)),
    }
    present = level >= 0
    sure = linked & present
    none = OrderBits(np.zeros(len(level)), pa.nulls(len(level), _TEXT), summary)
    if sure.sum() < MIN_LINKS:
        summary["used"] = False
        summary["why"] = f"{int(sure.sum())} linked pairs with deals and orders (need {MIN_LINKS})"
        return none
    m = np.bincount(level[sure], minlength=3) / sure.sum()
    active_crm = int((found.active & ~is_erp).sum())
    active_erp = int((found.active & is_erp).sum())
    others = max(active_crm * active_erp - int(sure.sum()), 1)
    table = found.table["coincidences"].to_numpy()
    seen = np.array(
        [
            (table == 1).sum() - (sure & (level == 1)).sum(),
            (table >= 2).sum() - (sure & (level == 2)).sum(),
        ]
    )
    u12 = np.maximum(seen, 0) / others
    u = np.array([1 - u12.sum(), *u12])
    weights = np.clip(
        np.log2(np.maximum(m, 1e-6)) - np.log2(np.maximum(u, U_FLOOR)), -weight_limit, weight_limit
    )
    bits = np.where(present, weights[np.maximum(level, 0)], 0.0)
    summary.update(
        used=True,
        levels=list(LEVELS),
        m=[round(float(x), 6) for x in m],
        u=[float(f"{x:.3g}") for x in u],
        bits=[round(float(x), 2) for x in weights],
    )
    return OrderBits(bits, _reasons(level, count, weights), summary)


def _reasons(level: np.ndarray, count: np.ndarray, weights: np.ndarray) -> pa.Array:
    """Per pair: "3 won deals meet orders of the same amount", or "no won deal meets an order"
    where that counts against the pair by a bit or more. Texts by distinct count: few pairs
    have any."""
    met = np.flatnonzero(level >= 1)
    values, inverse = np.unique(count[met], return_inverse=True)
    texts: list[str | None] = [None, "no won deal meets an order" if weights[0] <= -1 else None]
    texts += [
        f"{v} won deals meet orders of the same amount"
        if v > 1
        else "a won deal meets an order of the same amount"
        for v in values.tolist()
    ]
    index = (level == 0).astype(np.int64)  # 0: nothing to say, 1: none met
    index[met] = 2 + inverse
    return pa.array(texts, _TEXT).take(pa.array(index))
