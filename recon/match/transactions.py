"""Won deals and orders that coincide: evidence that a CRM company and an ERP customer are one.

A trade name can be unrelated to the legal name, so the names of a true pair may not agree at
all. Their transactions do: a won deal of the CRM company and an order of the ERP customer in the
same currency, of the same amount to the cent (as booked, or with a tax rate added), dated shortly
after the close. Once may be chance; several times over it is one company.

``coincidences`` counts them for every CRM–ERP record pair at once: a hash join of deals and
orders on (currency, amount in cents), each deal's order window found by binary search in the
orders sorted by (amount, day). ``chance_shares`` turns the table into the share of all CRM × ERP
pairs with at least k coincidences, which the matcher uses as u.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.normalize.kernels import as_array

COLUMNS = {
    "left": "int64",
    "right": "int64",
    "coincidences": "int32",  # min(deals, orders): distinct deals met by distinct orders
    "deals": "int32",  # distinct deals of the CRM record met by an order of the ERP record
    "orders": "int32",  # distinct orders of the ERP record meeting a deal of the CRM record
    "company_deals": "int32",  # usable deals of the CRM record (amount, currency, date known)
    "customer_orders": "int32",  # usable orders of the ERP record
}
MAX_AMOUNT_PAIRS = 2500  # 50 deals × 50 orders of one amount: a round figure, not evidence


def coincidences(
    records: pd.DataFrame,
    deals: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    max_lag_days: int,
    min_lag_days: int = -7,
    tax_rates: Sequence[float] = (),
    max_amount_pairs: int = MAX_AMOUNT_PAIRS,
) -> pd.DataFrame:
    """Per (CRM record, ERP record) pair, how many of its won deals and orders coincide.

    ``deals``: company_id, amount, currency, close_date (won deals only); ``orders``:
    customer_id, amount, currency, order_date. A deal and an order coincide when their currency
    is the same, the order is dated ``min_lag_days`` to ``max_lag_days`` days from the close (both
    ends included) and its amount is the deal's to the cent, or the deal's × (1 + r) for a rate
    r in ``tax_rates`` to within a cent. Rows with a missing or non-positive amount, a missing
    currency or date, or an id that is not a record are left out. An amount (currency, cents)
    that more than ``max_amount_pairs`` deal × order pairs share, whatever their dates, is
    skipped (counted apart as booked and with tax): the number of such amounts and of the pairs
    not formed are in ``attrs["common_amounts"]`` and ``attrs["common_amount_pairs"]``.

    One order should serve one deal, so the count is min(distinct deals, distinct orders) of the
    pair. That is an upper bound of a one-to-one pairing of them, higher only when some deals
    can be met by fewer orders than they are (or orders by deals) while others go unused: two
    deals met by the same one order, and a second order met by neither, count 2, not 1.

    Returns ``COLUMNS``, one row per pair with at least one coincidence, left < right, sorted.
    """
    deal, order = usable_rows(records, deals, orders)
    return count_coincidences(
        deal,
        order,
        len(records),
        max_lag_days=max_lag_days,
        min_lag_days=min_lag_days,
        tax_rates=tax_rates,
        max_amount_pairs=max_amount_pairs,
    )


Rows = dict[str, np.ndarray]


def usable_rows(
    records: pd.DataFrame, deals: pd.DataFrame, orders: pd.DataFrame
) -> tuple[Rows, Rows]:
    """The deals and orders that can coincide at all (see ``coincidences``): record position
    ``rid``, amount, day and currency of each."""
    deal = _usable(deals, "company_id", "close_date", _record_positions(records, "crm"))
    order = _usable(orders, "customer_id", "order_date", _record_positions(records, "erp"))
    return deal, order


def count_coincidences(
    deal: Rows,
    order: Rows,
    n: int,
    *,
    max_lag_days: int,
    min_lag_days: int = -7,
    tax_rates: Sequence[float] = (),
    max_amount_pairs: int = MAX_AMOUNT_PAIRS,
) -> pd.DataFrame:
    """``coincidences`` of rows from ``usable_rows`` among ``n`` records."""
    d, o, common = _met(deal, order, (min_lag_days, max_lag_days), tax_rates, max_amount_pairs)
    found = _per_pair(deal["rid"], order["rid"], d, o, n)
    found["company_deals"] = np.bincount(deal["rid"], minlength=n)[found["crm"].to_numpy()]
    found["customer_orders"] = np.bincount(order["rid"], minlength=n)[found["erp"].to_numpy()]
    out = _ordered(found, n)
    out.attrs["common_amounts"], out.attrs["common_amount_pairs"] = common
    return out


def chance_shares(
    found: pd.DataFrame,
    records: pd.DataFrame,
    at_least: Iterable[int] = (1, 2),
    known: pd.DataFrame | None = None,
) -> dict[int, float]:
    """The share of all CRM × ERP record pairs with at least k coincidences, for each k: u, the
    chance that two records agree so, counted over every pair rather than sampled.

    The true pairs are in the count too, which makes u too high (the evidence weaker) where
    chance coincidences are rare; ``known`` (left, right pairs known to be one company, e.g.
    linked by name) are left out of both the count and the number of pairs."""
    system = records["system"].astype("string")
    n_pairs = int((system == "crm").sum()) * int((system == "erp").sum())
    counts = found["coincidences"].to_numpy()
    if known is not None and len(known):
        seen = _pair_codes(found, len(records))
        drop = np.isin(seen, np.unique(_pair_codes(known, len(records))))
        counts = counts[~drop]
        n_pairs -= _crm_erp_pairs(known, system)
    return {k: float((counts >= k).sum() / n_pairs) if n_pairs else 0.0 for k in at_least}


def _record_positions(records: pd.DataFrame, system: str) -> tuple[np.ndarray, pa.Array]:
    """(positions, record ids as text) of one system's records."""
    at = np.flatnonzero((records["system"].astype("string") == system).fillna(False).to_numpy())
    return at, as_array(records["record_id"].iloc[at].astype("string"))


def _usable(
    frame: pd.DataFrame, id_column: str, date_column: str, system: tuple[np.ndarray, pa.Array]
) -> dict[str, np.ndarray]:
    """rid, amount, day (days since 1970) and currency of the rows that can coincide at all."""
    positions, ids = system
    at = pc.fill_null(pc.index_in(as_array(frame[id_column].astype("string")), ids), -1)
    at = at.to_numpy(zero_copy_only=False).astype(np.int64)
    amount = amounts(frame["amount"])
    dates = pd.to_datetime(frame[date_column], errors="coerce")
    if getattr(dates.dtype, "tz", None) is not None:  # the day as the source wrote it
        dates = dates.dt.tz_localize(None)
    day = dates.to_numpy(dtype="datetime64[D]")
    currency = frame["currency"].astype("string")
    with np.errstate(invalid="ignore"):
        ok = (at >= 0) & (amount > 0) & ~np.isnat(day) & currency.notna().to_numpy()
    return {
        "rid": positions[at[ok]],
        "amount": amount[ok],
        "day": day[ok].astype(np.int64),
        "currency": currency[ok].to_numpy(),
    }


def amounts(values: pd.Series) -> np.ndarray:
    """Amounts as float64, NaN where missing: Arrow decimals are cast at once, Decimal objects
    and text are parsed."""
    if isinstance(values.dtype, pd.ArrowDtype):
        cast = pc.cast(pa.chunked_array(values.array.__arrow_array__()), pa.float64())
        return cast.to_numpy().astype(float, copy=False)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _currency_codes(deal: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """One small integer per currency, shared by deals and orders, and how many there are."""
    codes, uniques = pd.factorize(np.concatenate([deal, order]))
    return codes[: len(deal)], codes[len(deal) :], max(len(uniques), 1)


def _keys(amount: np.ndarray, currency: np.ndarray, n_currencies: int) -> np.ndarray:
    """(currency, amount in cents) as one int64; -1 for an amount below a cent or too large
    for the key (no sale is either)."""
    cents = np.round(amount * 100)
    limit = np.iinfo(np.int64).max // (2 * n_currencies)  # room for a cent more
    fits = (cents >= 1) & (cents < limit)
    key = np.full(len(amount), -1, dtype=np.int64)
    key[fits] = cents[fits].astype(np.int64) * n_currencies + currency[fits]
    return key


def _met(
    deal: dict[str, np.ndarray],
    order: dict[str, np.ndarray],
    lags: tuple[int, int],
    tax_rates: Sequence[float],
    max_pairs: int,
) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """(deal row, order row) of every coincidence, and (amounts skipped, pairs not formed).
    Two joins: the amounts as booked, then the deals' taxed amounts against the orders' within
    a cent (the ERP may round the tax either way)."""
    deal_cur, order_cur, n_cur = _currency_codes(deal["currency"], order["currency"])
    order_keys = _keys(order["amount"], order_cur, n_cur)
    booked = _keys(deal["amount"], deal_cur, n_cur)
    found = [_join(booked, deal["day"], order_keys, order["day"], lags, max_pairs)]
    rates = sorted({float(r) for r in tax_rates} - {0.0})
    if rates:
        taxed = np.concatenate([_keys(deal["amount"] * (1 + r), deal_cur, n_cur) for r in rates])
        near = np.concatenate(
            [np.where(order_keys >= 0, order_keys + c * n_cur, -1) for c in (-1, 0, 1)]
        )
        found.append(_join(taxed, deal["day"], near, order["day"], lags, max_pairs))
    d, o, common = zip(*found, strict=True)
    skipped = (sum(amounts for amounts, _ in common), sum(pairs for _, pairs in common))
    return np.concatenate(d), np.concatenate(o), skipped


def _join(
    deal_keys: np.ndarray,
    deal_days: np.ndarray,
    order_keys: np.ndarray,
    order_days: np.ndarray,
    lags: tuple[int, int],
    max_pairs: int,
) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """(deal row, order row) of every equal key with the order dated ``lags`` days from the
    deal, and (keys skipped, pairs not formed) for the keys more than ``max_pairs`` pairs share.
    ``deal_keys`` are variants after variants of the rows of ``deal_days`` (a tax rate after
    another), and ``order_keys`` of ``order_days`` (a cent less, as booked, a cent more).

    A hash of the keys, then orders sorted by (key, day), so that each deal's window is one run
    found by binary search: no Python per row, and pairs out of the window are never made."""
    empty = np.zeros(0, dtype=np.int64)
    # the orders' keys in a hash table, the deals' looked up in it (-1: no order has the key)
    oc, uniques = pd.factorize(order_keys)
    dc = pd.Index(uniques).get_indexer(deal_keys)
    usable, common = _bounded(dc[dc >= 0], oc, uniques == -1, max_pairs)
    usable = np.r_[usable, False]  # at -1
    rows, by_day = np.flatnonzero(usable[dc]), np.flatnonzero(usable[oc])
    if len(rows) == 0:
        return empty, empty, common
    days = order_days[by_day % len(order_days)]
    first, span = days.min(), int(days.max() - days.min() + 1)
    runs = oc[by_day] * span + (days - first)
    ranked = np.argsort(runs)
    by_day, runs = by_day[ranked], runs[ranked]
    day = deal_days[rows % len(deal_days)] - first
    base = dc[rows] * span
    # deals in the same order: binary search runs several times faster on sorted needles
    ranked = np.argsort(base + day)
    rows, day, base = rows[ranked], day[ranked], base[ranked]
    # a window reaching past the orders' days is cut to them, so it never enters the next key
    lo = np.searchsorted(runs, base + np.clip(day + lags[0], 0, span), side="left")
    hi = np.searchsorted(runs, base + np.clip(day + lags[1], -1, span - 1), side="right")
    reps = np.maximum(hi - lo, 0)
    d = np.repeat(rows % len(deal_days), reps)
    offset = np.repeat(lo - (np.cumsum(reps) - reps), reps)
    return d, by_day[offset + np.arange(len(d))] % len(order_days), common


def _bounded(
    deal_codes: np.ndarray, order_codes: np.ndarray, bad: np.ndarray, max_pairs: int
) -> tuple[np.ndarray, tuple[int, int]]:
    """Per key: held by deals and orders, and shared by at most ``max_pairs`` pairs; and
    (keys over the bound, their pairs)."""
    n_pairs = np.bincount(deal_codes, minlength=len(bad)) * np.bincount(
        order_codes, minlength=len(bad)
    )
    common = (n_pairs > max_pairs) & ~bad
    usable = (n_pairs > 0) & ~common & ~bad
    return usable, (int(common.sum()), int(n_pairs[common].sum()))


def _per_pair(
    deal_rid: np.ndarray, order_rid: np.ndarray, d: np.ndarray, o: np.ndarray, n: int
) -> pd.DataFrame:
    """Distinct deals and orders per (crm, erp) record pair, and their minimum. ``d`` and ``o``
    are deal and order rows met, ``*_rid`` their records' positions among ``n`` records.
    By sorting int64 codes, not by grouping."""
    deals = _distinct(d * n + order_rid[o])  # (deal, erp record) met
    pairs, n_deals = _counted(deal_rid[deals // n] * n + deals % n)
    orders = _distinct(o * n + deal_rid[d])  # (order, crm record) met
    _, n_orders = _counted(orders % n * n + order_rid[orders // n])  # the same pairs
    return pd.DataFrame(
        {
            "crm": pairs // n,
            "erp": pairs % n,
            "deals": n_deals,
            "orders": n_orders,
            "coincidences": np.minimum(n_deals, n_orders),
        }
    )


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.sort is several times faster than np.unique here)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def _counted(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and how often each occurs."""
    values = np.sort(values)
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]]) if len(values) else values
    return values[starts], np.diff(np.r_[starts, len(values)])


def _ordered(found: pd.DataFrame, n: int) -> pd.DataFrame:
    """As recon's pairs: left < right, sorted by (left, right)."""
    crm, erp = found["crm"].to_numpy(), found["erp"].to_numpy()
    left, right = np.minimum(crm, erp), np.maximum(crm, erp)
    out = found.assign(left=left, right=right).iloc[np.argsort(left * n + right)]
    return out[list(COLUMNS)].reset_index(drop=True).astype(COLUMNS)


def _pair_codes(pairs: pd.DataFrame, n: int) -> np.ndarray:
    return pairs["left"].to_numpy(dtype=np.int64) * n + pairs["right"].to_numpy(dtype=np.int64)


def _crm_erp_pairs(pairs: pd.DataFrame, system: pd.Series) -> int:
    """How many distinct pairs join a CRM record and an ERP record."""
    unique = pairs[["left", "right"]].drop_duplicates()
    side = system.to_numpy(dtype=object)
    a, b = side[unique["left"].to_numpy()], side[unique["right"].to_numpy()]
    return int((((a == "crm") & (b == "erp")) | ((a == "erp") & (b == "crm"))).sum())


def usable_counts(deal: Rows, order: Rows, n: int) -> np.ndarray:
    """Per record position: its usable won deals (CRM) or orders (ERP) among ``usable_rows``."""
    return np.bincount(deal["rid"], minlength=n) + np.bincount(order["rid"], minlength=n)
