"""FX rates, deals, orders and invoices, with the planted revenue leakage.

Amounts are integer cents throughout. A deal and its orders are tied by the FX rate of the deal's
close month: an order in another currency is the deal amount divided by the deal currency's rate and
multiplied by the order currency's rate (units per 1 USD, rounded to 4 decimals as written).

Planted leakage, among won deals:
    no_erp_customer  the company has no ERP record at all
    pending          closed within the last ``pending_days`` before as_of, no order yet
    no_order         company in the ERP, closed more than ``no_order_min_age`` days ago, no order
    under_billed     orders (ex tax) total 40-75% of the deal (above 75% a VAT-inclusive order
                     would read as a legitimate tax difference, not leakage)
Every other won deal is fulfilled: orders (non-cancelled) within ±3% of the deal, ex tax, or
exactly that times (1 + VAT) when the ERP booked the order tax-inclusive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from recon.sampledata import text, vocab
from recon.sampledata.entities import Entities
from recon.sampledata.records import Records, owners
from recon.sampledata.text import Text

if TYPE_CHECKING:
    from recon.sampledata.habits import Habits

CURRENCY_INDEX = {c: i for i, c in enumerate(vocab.CURRENCIES)}
LOCAL = np.array([CURRENCY_INDEX[vocab.LOCAL_CURRENCY[c]] for c in vocab.COUNTRIES])
VAT = np.array([vocab.VAT[c] for c in vocab.COUNTRIES])
WON, LOST = "closedwon", "closedlost"
LEAKAGE_KINDS = ("no_erp_customer", "pending", "no_order", "under_billed")


@dataclass(frozen=True)
class Params:
    """Rates for deals, orders and invoices; written to truth_meta.json as they were used."""

    history_days: int = 547  # 18 months of closed deals up to as_of
    deals_per_company: float = 3.0
    deals_per_duplicate: float = 1.5
    won: float = 0.45
    lost: float = 0.25
    usd_deals_abroad: float = 0.20  # of non-US deals, in USD while the ERP books local currency
    deal_median_usd: float = 15_000.0
    deal_sigma: float = 1.0
    fx_monthly_sd: float = 0.015
    order_lag_days: tuple[int, int] = (-3, 45)
    delayed: float = 0.03
    delayed_lag_days: tuple[int, int] = (46, 60)
    amount_noise: float = 0.03
    exact_amount: float = 0.5
    split: float = 0.10
    tax_inclusive: float = 0.25  # of orders of customers in a country with VAT
    main_erp_record: float = 0.75  # orders go to the entity's main ERP record, else to any of them
    cancelled: float = 0.02  # of fulfilled deals: a cancelled order, then the re-entered one
    deal_ref: float = 0.5
    wrong_deal_ref: float = 0.02
    no_order: float = 0.03
    no_order_min_age: int = 30
    under_billed: float = 0.02
    under_billed_range: tuple[float, float] = (0.4, 0.75)
    pending_days: int = 14
    pending: float = 0.5  # of won deals closed in the last pending_days
    repeat_orders: float = 0.3  # non-deal orders per ERP record of a company also in the CRM
    orphan_orders: float = 2.0  # per ERP record of a company not in the CRM
    repeat_median_usd: float = 4_000.0
    invoice_lag_days: int = 20
    paid_when_due: tuple[float, float] = (0.80, 0.08)  # full, partial
    paid_before_due: tuple[float, float] = (0.30, 0.05)
    credit_hold: float = 0.3  # of customers with overdue invoices
    credit_limit: float = 0.7


@dataclass
class Fx:
    months: np.ndarray  # datetime64[D], first of each month
    rates: np.ndarray  # currencies × months, units per USD, 4 decimals

    def month(self, days: np.ndarray) -> np.ndarray:
        m = days.astype("datetime64[D]").astype("datetime64[M]") - self.months[0].astype(
            "datetime64[M]"
        )
        return np.clip(m.astype(np.int64), 0, len(self.months) - 1)

    def convert(
        self, cents: np.ndarray, src: np.ndarray, dst: np.ndarray, m: np.ndarray
    ) -> np.ndarray:
        return cents * self.rates[dst, m] / self.rates[src, m]


def fx_rates(rng: np.random.Generator, as_of: np.datetime64, p: Params) -> Fx:
    first = (as_of - np.timedelta64(p.history_days + 70, "D")).astype("datetime64[M]")
    months = np.arange(first, as_of.astype("datetime64[M]") + 1).astype("datetime64[D]")
    steps = rng.normal(0, p.fx_monthly_sd, (len(vocab.CURRENCIES), len(months)))
    walk = np.cumsum(steps, axis=1)
    walk -= walk.mean(axis=1, keepdims=True)
    centre = np.array([vocab.FX_CENTRE[c] for c in vocab.CURRENCIES])[:, None]
    rates = np.round(centre * np.exp(walk), 4)
    rates[CURRENCY_INDEX["USD"]] = 1.0
    return Fx(months, rates)


def _round_cents(cents: np.ndarray, currency: np.ndarray) -> np.ndarray:
    """Whole rupiah for IDR, cents elsewhere."""
    step = np.where(currency == CURRENCY_INDEX["IDR"], 100, 1)
    return (np.round(cents / step) * step).astype(np.int64)


def _days(
    rng: np.random.Generator, lo: np.ndarray | int, hi: np.ndarray | int, n: int
) -> np.ndarray:
    """Uniform whole days in [lo, hi]."""
    return lo + np.floor(rng.random(n) * (np.asarray(hi) - lo + 1)).astype(np.int64)


# --- deals ----------------------------------------------------------------------------------------


@dataclass
class Deals:
    record: np.ndarray  # CRM record index
    entity: np.ndarray
    won: np.ndarray
    stage: Text
    close: np.ndarray  # days since epoch
    created: np.ndarray
    currency: np.ndarray  # index into vocab.CURRENCIES
    cents: np.ndarray
    name: Text
    owner: Text


def deals(
    rng: np.random.Generator,
    ent: Entities,
    crm: Records,
    crm_created: np.ndarray,
    crm_owner: Text,
    fx: Fx,
    as_of: int,
    p: Params,
) -> Deals:
    mean = np.where(crm.rank == 0, p.deals_per_company, p.deals_per_duplicate)
    record = np.repeat(np.arange(len(crm.entity)), rng.poisson(mean))
    n = len(record)
    entity = crm.entity[record]
    country = ent.country[entity]

    u = rng.random(n)
    won = u < p.won
    closed = u < p.won + p.lost
    stage = text.pick(vocab.OPEN_STAGES, rng.integers(0, len(vocab.OPEN_STAGES), n))
    stage = text.put(text.put(stage, closed, LOST), won, WON)
    start = np.maximum(as_of - p.history_days, crm_created[record] + 7)
    start = np.minimum(start, as_of)
    close = np.where(closed, _days(rng, start, as_of, n), _days(rng, as_of - 30, as_of + 180, n))
    created = np.maximum(close - _days(rng, 7, 120, n), crm_created[record])

    currency = LOCAL[country].copy()
    currency[rng.random(n) < p.usd_deals_abroad] = CURRENCY_INDEX["USD"]
    usd = np.clip(p.deal_median_usd * np.exp(p.deal_sigma * rng.normal(size=n)), 300, 3e6)
    local = usd * fx.rates[currency, fx.month(close)]
    idr = currency == CURRENCY_INDEX["IDR"]
    r = rng.random(n)
    step = np.where(idr, np.where(r < 0.6, 100_000, 1_000), np.where(r < 0.55, 100, 10))
    amount = np.maximum(np.round(local / step), 1) * step
    odd = ~idr & (r > 0.8)  # some deals carry cents
    cents = np.where(odd, np.round(local * 100), amount * 100).astype(np.int64)

    short = text.first_words(text.take(ent.base, entity), 2)
    product = text.pick(vocab.PRODUCTS, rng.integers(0, len(vocab.PRODUCTS), n))
    name = text.cat(short, " - ", product)
    year = close.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    name = text.where(rng.random(n) < 0.4, text.cat(name, " ", text.digits(year)), name)

    owner = text.take(crm_owner, record)
    other = (rng.random(n) < 0.1) | text.is_null(owner)  # now and then another rep of the country
    owner = text.put(owner, other, owners(rng, country[other], 0.0))
    return Deals(record, entity, won, stage, close, created, currency, cents, name, owner)


# --- orders ---------------------------------------------------------------------------------------


@dataclass
class Orders:
    record: np.ndarray  # ERP record index
    date: np.ndarray
    cents: np.ndarray
    currency: np.ndarray
    deal: np.ndarray  # deal index, -1 for orders not made for a deal
    cancelled: np.ndarray
    tax_inclusive: np.ndarray
    ref_deal: np.ndarray  # deal index written in crm_deal_ref, -1 for none
    ref_po: Text  # a PO number written with or instead of the deal reference


@dataclass
class Leakage:
    deal: np.ndarray
    kind: np.ndarray  # index into LEAKAGE_KINDS
    gap_cents: np.ndarray


def orders(
    rng: np.random.Generator,
    ent: Entities,
    erp: Records,
    dl: Deals,
    fx: Fx,
    as_of: int,
    p: Params,
    h: Habits | None = None,
    hrng: np.random.Generator | None = None,
    gone: np.ndarray | None = None,
) -> tuple[Orders, Leakage, dict[str, int], dict[str, int]]:
    """Orders for the won deals (leakage planted among them) and for business without a deal.

    ``h`` are the billing habits beyond ``p`` (instalments, references on first parts only, an
    ERP go-live; see ``habits``), drawn from ``hrng``; ``gone`` marks the entities that never
    reached the ERP because they were customers only before its go-live: none of their deals is
    leakage. Returns the orders, the leakage truth, counts for truth_meta.json and the counts of
    the habits (empty without them).
    """
    won = np.flatnonzero(dl.won)
    in_erp = ent.in_erp[dl.entity[won]]
    close = dl.close[won]
    recent = close > as_of - p.pending_days
    pending = in_erp & recent & (rng.random(len(won)) < p.pending)
    no_order = in_erp & (close < as_of - p.no_order_min_age) & (rng.random(len(won)) < p.no_order)
    fulfilled = in_erp & ~pending & ~no_order
    under = fulfilled & (rng.random(len(won)) < p.under_billed)

    d = won[fulfilled]
    under_d = under[fulfilled]
    k = len(d)
    ent_d = dl.entity[d]
    first_rec = np.cumsum(ent.n_erp) - ent.n_erp  # an entity's ERP records are adjacent
    pick = np.where(
        rng.random(k) < p.main_erp_record, 0, (rng.random(k) * ent.n_erp[ent_d]).astype(np.int64)
    )
    rec = first_rec[ent_d] + pick
    country = ent.country[ent_d]
    cur = LOCAL[country]
    m = fx.month(dl.close[d])
    ratio = np.where(
        rng.random(k) < p.exact_amount, 1.0, rng.uniform(1 - p.amount_noise, 1 + p.amount_noise, k)
    )
    lo, hi = p.under_billed_range
    ratio[under_d] = rng.uniform(lo, hi, int(under_d.sum()))
    taxed = ~under_d & (VAT[country] > 0) & (rng.random(k) < p.tax_inclusive)
    total = fx.convert(dl.cents[d].astype(float), dl.currency[d], cur, m) * ratio
    total = _round_cents(total * np.where(taxed, 1 + VAT[country], 1.0), cur)

    parts = np.where(rng.random(k) < p.split, np.where(rng.random(k) < 0.7, 2, 3), 1)
    o_deal = np.repeat(np.arange(k), parts)
    idx_in = np.arange(len(o_deal)) - np.repeat(np.cumsum(parts) - parts, parts)
    share = rng.uniform(0.2, 1.0, len(o_deal))
    share /= np.bincount(o_deal, weights=share)[o_deal]
    o_cents = _round_cents(total[o_deal] * share, cur[o_deal])
    last = idx_in == parts[o_deal] - 1
    paid_so_far = np.bincount(o_deal, weights=np.where(last, 0, o_cents), minlength=k)
    o_cents[last] = total[o_deal[last]] - paid_so_far[o_deal[last]].astype(np.int64)

    first = dl.close[d] + _lags(rng, k, p)
    over = first > as_of
    first[over] = _days(rng, dl.close[d][over] - 3, as_of, int(over.sum()))
    step = np.where(idx_in == 0, 0, _days(rng, 7, 60, len(o_deal)))  # later parts follow
    steps = np.cumsum(step)
    offset = steps - np.repeat(steps[np.cumsum(parts) - parts], parts)
    o_date = np.minimum(first[o_deal] + offset, as_of)

    # a cancelled order before the one that stands (first part only)
    cancel = (idx_in == 0) & (rng.random(len(o_deal)) < p.cancelled)
    c_idx = np.flatnonzero(cancel)
    c_date = np.maximum(
        o_date[c_idx] - _days(rng, 1, 6, len(c_idx)), dl.close[d[o_deal[c_idx]]] - 3
    )

    split = parts > 1
    habit_counts: dict[str, int] = {}
    stopped = np.empty(0, np.int64)
    missing = np.empty(0, np.int64)
    if h is not None and hrng is not None and h.instalments > 0:
        inst = _instalments(hrng, h, ~under_d, first, total, cur, as_of, p.pending_days)
        keep = ~inst.chosen[o_deal]  # instalments replace the deal's orders and its cancellation
        c_keep = keep[c_idx]
        c_idx, c_date = (np.cumsum(keep) - 1)[c_idx[c_keep]], c_date[c_keep]
        o_deal = np.r_[o_deal[keep], inst.deal]
        idx_in = np.r_[idx_in[keep], inst.part]
        o_date = np.r_[o_date[keep], inst.date]
        o_cents = np.r_[o_cents[keep], inst.cents]
        split &= ~inst.chosen
        stopped, missing = inst.stopped, inst.missing
        habit_counts.update(
            deals_instalments=int(inst.chosen.sum()),
            instalments_billed=len(inst.deal),
            instalments_not_due=inst.not_due,
            instalments_stopped=len(stopped),
        )

    deal_orders = Orders(
        record=np.r_[rec[o_deal], rec[o_deal[c_idx]]],
        date=np.r_[o_date, c_date],
        cents=np.r_[o_cents, o_cents[c_idx]],
        currency=np.r_[cur[o_deal], cur[o_deal[c_idx]]],
        deal=np.r_[d[o_deal], d[o_deal[c_idx]]],
        cancelled=np.r_[np.zeros(len(o_deal), bool), np.ones(len(c_idx), bool)],
        tax_inclusive=np.r_[taxed[o_deal], taxed[o_deal[c_idx]]],
        ref_deal=np.full(len(o_deal) + len(c_idx), -1),
        ref_po=text.nulls(len(o_deal) + len(c_idx)),
    )
    later = np.r_[idx_in > 0, np.zeros(len(c_idx), bool)]  # a cancelled order is a first part
    # leakage is planted only on deals of the ERP's era and of customers that reached it
    counted = np.ones(len(dl.won), bool)
    go_live = None
    if h is not None and hrng is not None and h.go_live_days is not None:
        go_live = as_of - h.go_live_days
        era = close >= go_live
        if h.pre_go_live == "window":  # or its first order (had it one) is on or after go-live
            would = close + _lags(hrng, len(won), p)
            would[fulfilled] = first
            era |= would >= go_live
        counted[won] = era
        # outside the era: no order ("none"), or only those on or after go-live ("window");
        # in it: none dated before go-live
        pre = ~counted[deal_orders.deal]
        dropped = pre & ((deal_orders.date < go_live) | (h.pre_go_live == "none"))
        deal_orders.date = np.where(pre, deal_orders.date, np.maximum(deal_orders.date, go_live))
        deal_orders = _take_orders(deal_orders, ~dropped)
        later = later[~dropped]
        habit_counts.update(
            won_deals_before_go_live=int((close < go_live).sum()),
            won_deals_outside_erp_era=int((~era).sum()),
            deal_orders_before_go_live=int(dropped.sum()),
        )
    era_deals = None  # a wrong reference names a deal of the ERP's era too
    if go_live is not None:
        era_deals = dl.close >= go_live
        era_deals[won] = counted[won]
    if gone is not None:
        counted &= ~gone[dl.entity]
    first_only = h is not None and h.ref_first_only
    _deal_refs(rng, dl, deal_orders, p, later if first_only else None, era_deals)
    other = _other_orders(rng, ent, erp, fx, as_of, p, go_live)
    all_orders = Orders(
        *(_concat(a, b) for a, b in zip(_fields(deal_orders), _fields(other), strict=True))
    )

    # leakage truth, gap in the deal currency
    under_deals = d[under_d]
    got = fx.convert(
        total[under_d].astype(float), cur[under_d], dl.currency[under_deals], m[under_d]
    )
    gap_under = dl.cents[under_deals] - np.round(got).astype(np.int64)
    if len(stopped):  # instalments that stopped: the parts due and not billed, ex tax
        ex_tax = missing / np.where(taxed[stopped], 1 + VAT[country[stopped]], 1.0)
        lost = fx.convert(ex_tax, cur[stopped], dl.currency[d[stopped]], m[stopped])
        under_deals = np.r_[under_deals, d[stopped]]
        gap_under = np.r_[gap_under, np.round(lost).astype(np.int64)]
    planted = [won[~in_erp], won[pending], won[no_order], under_deals]  # as in LEAKAGE_KINDS
    gaps = [dl.cents[x] for x in planted[:3]] + [gap_under]
    if not counted.all():
        gaps = [g[counted[x]] for g, x in zip(gaps, planted, strict=True)]
        planted = [x[counted[x]] for x in planted]
    deal_ix = np.concatenate(planted)
    kind = np.repeat(np.arange(len(planted)), [len(x) for x in planted])
    gap = np.concatenate(gaps)
    counts = {
        "deals_split": int(split.sum()),
        "orders_tax_inclusive": int((all_orders.tax_inclusive & ~all_orders.cancelled).sum()),
        "orders_cancelled": int(deal_orders.cancelled.sum()),
        "orders_for_deals": len(deal_orders.deal),
        "orders_without_deal": len(other.record),
    }
    return all_orders, Leakage(deal_ix, kind, gap), counts, habit_counts


def _lags(rng: np.random.Generator, n: int, p: Params) -> np.ndarray:
    """Days from a deal's close to its first order: most soon, ``p.delayed`` of them late."""
    lag = _days(rng, p.order_lag_days[0], p.order_lag_days[1], n)
    late = rng.random(n) < p.delayed
    lag[late] = _days(rng, p.delayed_lag_days[0], p.delayed_lag_days[1], int(late.sum()))
    return lag


# unequal instalments as projects bill them: deposit, milestones, retention
MILESTONES = {
    2: ((0.3, 0.7), (0.4, 0.6), (0.2, 0.8), (0.6, 0.4)),
    3: ((0.3, 0.4, 0.3), (0.2, 0.5, 0.3), (0.4, 0.4, 0.2), (0.1, 0.6, 0.3)),
    4: ((0.1, 0.4, 0.4, 0.1), (0.2, 0.3, 0.3, 0.2), (0.3, 0.3, 0.2, 0.2), (0.4, 0.2, 0.2, 0.2)),
}


@dataclass
class Instalments:
    chosen: np.ndarray  # per fulfilled deal: billed in instalments
    deal: np.ndarray  # per part billed so far: index into the fulfilled deals
    part: np.ndarray  # 0 for the first part
    date: np.ndarray
    cents: np.ndarray
    stopped: np.ndarray  # fulfilled-deal index of deals whose due parts stopped
    missing: np.ndarray  # per stopped deal: parts due and not billed, as they would be booked
    not_due: int  # parts dated after as_of


def _instalments(
    rng: np.random.Generator,
    h: Habits,
    eligible: np.ndarray,
    first: np.ndarray,
    total: np.ndarray,
    cur: np.ndarray,
    as_of: int,
    grace: int,
) -> Instalments:
    """Instalment parts of a share of the eligible deals, the first on the deal's first-order
    date; parts after as_of are left out, and some deals stop paying their due parts. A part
    is missing (the deal under-billed) once ``grace`` days past its date, as a deal's first
    order is (pending_days): a stopped deal misses at least one such part."""
    chosen = eligible & (rng.random(len(eligible)) < h.instalments)
    deals = np.flatnonzero(chosen)
    n = rng.integers(h.instalment_parts[0], h.instalment_parts[1] + 1, len(deals))
    local = np.repeat(np.arange(len(deals)), n)
    start = np.cumsum(n) - n
    part = np.arange(len(local)) - start[local]
    if h.instalment_amounts == "equal":
        share = 1.0 / n[local]
    else:
        share = rng.uniform(0.5, 1.5, len(local))  # beyond the table: unequal parts
        share /= np.bincount(local, weights=share)[local]
        for count, schedules in MILESTONES.items():
            mine = n == count
            pick = rng.integers(0, len(schedules), int(mine.sum()))
            rows = np.isin(local, np.flatnonzero(mine))
            table = np.array(schedules)
            share[rows] = table[np.repeat(pick, count), part[rows]]
    row_deal = deals[local]
    cents = _round_cents(total[row_deal] * share, cur[row_deal])
    last = part == n[local] - 1
    before_last = np.bincount(local, weights=np.where(last, 0, cents), minlength=len(deals))
    cents[last] = total[deals] - before_last.astype(np.int64)
    step = np.where(part == 0, 0, _days(rng, *h.instalment_gap_days, len(local)))
    steps = np.cumsum(step)
    date = first[row_deal] + steps - steps[start][local]

    due = date <= as_of
    n_due = np.bincount(local, weights=date <= as_of - grace, minlength=len(deals))
    n_due = n_due.astype(np.int64)
    stop = (n_due >= 2) & (rng.random(len(deals)) < h.instalments_stopped)
    stop_at = 1 + np.floor(rng.random(len(deals)) * np.maximum(n_due - 1, 1)).astype(np.int64)
    unpaid = due & stop[local] & (part >= stop_at[local])
    missing = np.bincount(local, weights=np.where(unpaid, cents, 0), minlength=len(deals))
    billed = due & ~unpaid
    return Instalments(
        chosen=chosen,
        deal=row_deal[billed],
        part=part[billed],
        date=date[billed],
        cents=cents[billed],
        stopped=deals[stop],
        missing=missing[stop].astype(np.int64),
        not_due=int((~due).sum()),
    )


def _take_orders(o: Orders, keep: np.ndarray) -> Orders:
    return Orders(*(a.filter(pa.array(keep)) if isinstance(a, pa.Array) else a[keep]
                    for a in _fields(o)))  # fmt: skip


def _concat(a: np.ndarray | Text, b: np.ndarray | Text) -> np.ndarray | Text:
    return pa.concat_arrays([a, b]) if isinstance(a, pa.Array) else np.r_[a, b]


def _fields(o: Orders) -> list:
    return [o.record, o.date, o.cents, o.currency, o.deal, o.cancelled, o.tax_inclusive,
            o.ref_deal, o.ref_po]  # fmt: skip


def _deal_refs(
    rng: np.random.Generator,
    dl: Deals,
    o: Orders,
    p: Params,
    unnamed: np.ndarray | None = None,
    nameable: np.ndarray | None = None,
) -> None:
    """Half the deal orders name their deal; a few name another deal of the same company (one
    that is ``nameable``, when given: of the ERP's era). Orders marked ``unnamed`` (later parts,
    when only first parts name the deal) name none."""
    n = len(o.deal)
    has = rng.random(n) < p.deal_ref
    if unnamed is not None:
        has &= ~unnamed
    o.ref_deal[has] = o.deal[has]
    # another deal of the same CRM record: deals of a record are adjacent in the deal arrays
    wrong = np.flatnonzero(has & (rng.random(n) < p.wrong_deal_ref))
    dd = o.deal[wrong]
    prev_ok = (dd > 0) & (dl.record[np.maximum(dd - 1, 0)] == dl.record[dd])
    next_ok = (dd + 1 < len(dl.record)) & (
        dl.record[np.minimum(dd + 1, len(dl.record) - 1)] == dl.record[dd]
    )
    if nameable is not None:
        prev_ok &= nameable[np.maximum(dd - 1, 0)]
        next_ok &= nameable[np.minimum(dd + 1, len(dl.record) - 1)]
    o.ref_deal[wrong] = np.where(prev_ok, dd - 1, np.where(next_ok, dd + 1, dd))
    po = has & (rng.random(n) < 0.15)
    o.ref_po = text.where(po, text.digits(rng.integers(100, 99_999, n)), None)


def _other_orders(
    rng: np.random.Generator,
    ent: Entities,
    erp: Records,
    fx: Fx,
    as_of: int,
    p: Params,
    go_live: int | None = None,
) -> Orders:
    """Repeat business and orders of ERP-only customers: no deal behind them, none before the
    ERP's go-live."""
    in_crm = ent.in_crm[erp.entity]
    lam = np.where(in_crm, p.repeat_orders, p.orphan_orders)
    rec = np.repeat(np.arange(len(erp.entity)), rng.poisson(lam))
    n = len(rec)
    country = ent.country[erp.entity[rec]]
    cur = LOCAL[country]
    start = as_of - p.history_days if go_live is None else max(as_of - p.history_days, go_live)
    date = _days(rng, start, as_of, n)
    usd = np.clip(p.repeat_median_usd * np.exp(0.9 * rng.normal(size=n)), 50, 1e6)
    cents = _round_cents(usd * 100 * fx.rates[cur, fx.month(date)], cur)
    taxed = (VAT[country] > 0) & (rng.random(n) < p.tax_inclusive)
    cents = _round_cents(cents * np.where(taxed, 1 + VAT[country], 1.0), cur)
    po = text.where(rng.random(n) < 0.05, text.digits(rng.integers(100, 99_999, n)), None)
    return Orders(rec, date, cents, cur, np.full(n, -1), np.zeros(n, bool), taxed,
                  np.full(n, -1), po)  # fmt: skip


# --- invoices -------------------------------------------------------------------------------------


@dataclass
class Invoices:
    order: np.ndarray  # order index
    date: np.ndarray
    due: np.ndarray
    cents: np.ndarray
    paid: np.ndarray


def invoices(
    rng: np.random.Generator, o: Orders, terms_days: np.ndarray, as_of: int, p: Params
) -> Invoices:
    """One invoice per order that is not cancelled, once its invoice date has come."""
    live = np.flatnonzero(~o.cancelled)
    date = o.date[live] + _days(rng, 0, p.invoice_lag_days, len(live))
    keep = date <= as_of
    order, date = live[keep], date[keep]
    n = len(order)
    due = date + terms_days[o.record[order]]
    cents = o.cents[order]
    overdue = due < as_of
    full_p = np.where(overdue, p.paid_when_due[0], p.paid_before_due[0])
    part_p = full_p + np.where(overdue, p.paid_when_due[1], p.paid_before_due[1])
    r = rng.random(n)
    share = np.where(r < full_p, 1.0, np.where(r < part_p, rng.uniform(0.3, 0.9, n), 0.0))
    paid = np.where(share == 1.0, cents, _round_cents(cents * share, o.currency[order]))
    return Invoices(order, date, due, cents, paid)


def order_status(rng: np.random.Generator, o: Orders, inv: Invoices) -> Text:
    """NetSuite-like: pending until invoiced, then billed; closed once paid; or cancelled."""
    n = len(o.record)
    r = rng.random(n)
    invoiced = np.zeros(n, dtype=bool)
    invoiced[inv.order] = True
    paid = np.zeros(n, dtype=bool)
    paid[inv.order] = inv.paid == inv.cents
    status = text.where(r < 0.65, "Pending Fulfillment", "Pending Billing")
    status = text.where(invoiced, text.where(paid & (r < 0.6), "Closed", "Billed"), status)
    return text.put(status, o.cancelled, "Cancelled")


def deal_refs(rng: np.random.Generator, o: Orders, deal_ids: Text) -> Text:
    """crm_deal_ref as people type it: "HS-123", "Deal #123", "CRM:123 / PO 55", "123", ..."""
    n = len(o.record)
    has = o.ref_deal >= 0
    forms = vocab.DEAL_REF_FORMS
    k = text.choose(rng, text.weights(forms), n)
    ref = text.cat(text.pick([f[0] for f in forms], k), text.take_or_null(deal_ids, o.ref_deal))
    with_po = np.array([f[1] != "" for f in forms])[k] & ~text.is_null(o.ref_po)
    ref = text.where(with_po, text.cat(ref, " / PO ", o.ref_po), ref)
    ref = text.where(has, ref, None)
    only_po = ~has & ~text.is_null(o.ref_po)
    return text.where(only_po, text.cat("PO ", o.ref_po), ref)
