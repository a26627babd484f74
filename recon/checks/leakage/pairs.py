"""Candidate (deal, order) pairs: orders of the deal's entity in the date window, and orders whose
reference names the deal (at any date, in any entity: a reference may mend a missed match).

Each pair carries ``share``, the order's amount as a share of the deal (1.0 = the whole deal), in
the deal's own currency when both are in one currency (no FX needed) and through the base
currency otherwise; ``share`` is NaN when a rate is missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recon.checks.amounts import floats
from recon.checks.leakage.habits import Window
from recon.checks.leakage.prepare import Prepared, positions
from recon.config.leakage import LeakageRules
from recon.fx import to_base

PAIR_COLUMNS = ["d", "o", "ref", "late", "edge", "lag", "share", "fx_missing"]


def _days(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)


def _window_pairs(prep: Prepared, window: Window, skip: np.ndarray) -> pd.DataFrame:
    use = prep.won["has_erp"].to_numpy() & ~skip
    deals = prep.won.loc[use, ["d", "ent"]].assign(close=_days(prep.won.loc[use, "close_date"]))
    orders = prep.orders[["o", "ent"]].assign(day=_days(prep.orders["order_date"]))
    pairs = deals.merge(orders, on="ent", how="inner", sort=False)
    lag = pairs["day"].to_numpy() - pairs["close"].to_numpy()
    keep = (lag >= -window.before) & (lag <= max(window.span, window.edge))
    lag = lag[keep]
    return pd.DataFrame(
        {
            "d": pairs["d"].to_numpy()[keep],
            "o": pairs["o"].to_numpy()[keep],
            "lag": lag,
            "late": lag > window.first,
            "edge": (lag > window.first) & (lag <= window.edge),
        }
    )


def _ref_pairs(prep: Prepared) -> pd.DataFrame:
    at = positions(prep.orders["ref"], prep.won["deal_id"])
    found = at >= 0
    o = prep.orders["o"].to_numpy()[found]
    d = prep.won["d"].to_numpy()[at[found]]
    lag = _days(prep.orders["order_date"])[o] - _days(prep.won["close_date"])[d]
    no = np.zeros(len(d), dtype=bool)
    return pd.DataFrame({"d": d, "o": o, "lag": lag, "late": no, "edge": no})


def named_pairs(prep: Prepared, rules: LeakageRules, fx_rates: pd.DataFrame | None) -> pd.DataFrame:
    """The (deal, order) pairs where the order names the deal, at any date: d, o, lag, late,
    share, fx_missing (the labelled examples the billing habits are learned from, and the
    reference candidates of ``candidate_pairs``)."""
    refs = _ref_pairs(prep)
    share, missing = _shares(prep, refs, rules, fx_rates)
    return refs.assign(share=share, fx_missing=missing)


def candidate_pairs(
    prep: Prepared,
    window: Window,
    rules: LeakageRules,
    fx_rates: pd.DataFrame | None,
    named: pd.DataFrame,
    skip: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per candidate (deal, order): d, o, ref, late, lag (days), share, fx_missing.
    ``named``: ``named_pairs`` (their shares are not computed again). Won deals where ``skip``
    is true take no order (closed before a go-live that brought none)."""
    skip = np.zeros(len(prep.won), dtype=bool) if skip is None else skip
    dated = _window_pairs(prep, window, skip)
    refs = named.loc[~skip[named["d"].to_numpy()]]
    key = dated["d"].to_numpy() * (len(prep.orders) + 1) + dated["o"].to_numpy()
    ref_key = refs["d"].to_numpy() * (len(prep.orders) + 1) + refs["o"].to_numpy()
    dated["ref"] = np.isin(key, ref_key)
    dated["late"] &= ~dated["ref"]  # a reference outweighs the date
    dated["edge"] &= dated["late"]
    share, missing = _shares(prep, dated, rules, fx_rates)
    dated["share"] = share
    dated["fx_missing"] = missing
    refs = refs.loc[~np.isin(ref_key, key)].assign(ref=True)
    return pd.concat([dated, refs], ignore_index=True)[PAIR_COLUMNS]


def _shares(
    prep: Prepared, pairs: pd.DataFrame, rules: LeakageRules, fx_rates: pd.DataFrame | None
) -> tuple[np.ndarray, np.ndarray]:
    d, o = pairs["d"].to_numpy(), pairs["o"].to_numpy()
    deal_amount = floats(prep.won["deal_amount"])[d]
    order_amount = floats(prep.orders["amount"])[o]
    same = (
        prep.won["currency"].to_numpy(dtype=object)[d]
        == prep.orders["currency"].to_numpy(dtype=object)[o]
    )
    share = np.where(same, order_amount / np.where(deal_amount == 0, np.nan, deal_amount), np.nan)
    other = np.flatnonzero(~same)
    missing = np.zeros(len(pairs), dtype=bool)
    if len(other):
        base = order_base(prep, d[other], o[other], rules, fx_rates)
        deal_base = floats(prep.won["deal_amount_base"])[d[other]]
        share[other] = floats(base["amount_base"]) / np.where(deal_base == 0, np.nan, deal_base)
        missing[other] = base["fx_missing"].to_numpy() | np.isnan(deal_base)
    return share, missing


def order_base(
    prep: Prepared, d: np.ndarray, o: np.ndarray, rules: LeakageRules, fx_rates: pd.DataFrame | None
) -> pd.DataFrame:
    """Order amounts in the base currency, at the deal's close date or the order's own date."""
    orders = prep.orders
    on = (
        prep.won["close_date"].to_numpy()[d]
        if rules.currency.convert_at == "close_date"
        else orders["order_date"].to_numpy()[o]
    )
    return to_base(
        orders["amount"].iloc[o].reset_index(drop=True),
        orders["currency"].iloc[o].reset_index(drop=True),
        pd.Series(on),
        fx_rates,
        prep.base,
    )
