"""Month-end reconciliation: CRM closed-won vs ERP ordered vs invoiced vs paid, by month.

Pure: frames in, a frozen ``MonthendResult`` out. All amounts are in the base currency, exact
decimals. Each month counts won deals by close date, orders that are not cancelled by order date,
invoices that are not void by invoice date, and the paid amount of those invoices (exports carry no
payment dates, so a payment counts in its invoice's month). The three differences are
ordered − won, invoiced − ordered and paid − invoiced; ``differences`` explains each of them row by
row (see ``monthend_steps``) and the tie-out — per month and step, Σ explained = difference,
exactly — is checked before a result is returned.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.checks import amounts as A
from recon.checks import monthend_prep as prep
from recon.checks.monthend_ar import ar_overview
from recon.checks.monthend_steps import (
    DIMS,
    StepNames,
    empty_items,
    explain_payments,
    explain_step,
)
from recon.errors import ConfigError

log = logging.getLogger(__name__)

WON_TO_ORDERED = StepNames("won→ordered", "deal", "order", "deal_id", "order_id")
ORDERED_TO_INVOICED = StepNames("ordered→invoiced", "order", "invoice", "order_id", "invoice_id")
STEPS = ("won→ordered", "ordered→invoiced", "invoiced→paid")
TOTALS = ("won", "ordered", "invoiced", "paid")
DIFFERENCES = ("won_to_ordered", "ordered_to_invoiced", "invoiced_to_paid")
# The same defaults as rules/leakage.yaml; the pipeline passes the configured ones.
DEFAULT_CANCELLED = ("Cancelled", "Canceled", "cancel", "Sales Order : Cancelled", "Void", "Voided")
DEFAULT_VOID = ("Void", "Voided", "Cancelled", "Canceled")


@dataclass(frozen=True)
class MonthendOptions:
    won_stages: tuple[str, ...]
    base_currency: str = "USD"
    cancelled_statuses: tuple[str, ...] = DEFAULT_CANCELLED
    void_statuses: tuple[str, ...] = DEFAULT_VOID
    convert: prep.Convert = prep.already_base  # (amount, currency, on) → amount_base, fx_missing
    tax_rate_of_customer: pd.Series | None = field(default=None, compare=False)  # id → 0.11
    orders_may_include_tax: bool = True
    deals_may_include_tax: bool = True
    rounding: Decimal = Decimal("0.01")  # smaller amount differences are conversion rounding


@dataclass(frozen=True)
class MonthendResult:
    """``summary``: one row per month, the four totals and three differences. ``differences``:
    one row per explaining item. ``by_entity``/``by_owner``/``by_currency``: the totals per month
    and dimension. ``ar``: receivables per entity as of ``as_of`` (the period's last day)."""

    months: tuple[pd.Period, ...]
    base_currency: str
    as_of: dt.date
    summary: pd.DataFrame
    differences: pd.DataFrame
    by_entity: pd.DataFrame
    by_owner: pd.DataFrame
    by_currency: pd.DataFrame
    ar: pd.DataFrame
    notes: tuple[str, ...] = ()

    def tie_out(self) -> pd.DataFrame:
        return tie_out(self.summary, self.differences)


def months_in(
    period: str | None = None, start: str | None = None, end: str | None = None
) -> tuple[pd.Period, ...]:
    """The months of ``--period YYYY-MM`` or of ``--from YYYY-MM --to YYYY-MM`` (inclusive)."""
    if period is not None and (start is not None or end is not None):
        raise ConfigError("give either --period or --from/--to, not both")
    if period is not None:
        start = end = period
    if start is None or end is None:
        raise ConfigError("give --period YYYY-MM (such as 2026-10), or both --from and --to")
    first, last = _month(start, "--from" if period is None else "--period"), _month(end, "--to")
    if last < first:
        raise ConfigError(f"--to {end} is before --from {start}")
    return tuple(pd.period_range(first, last, freq="M"))


def _month(text: str, option: str) -> pd.Period:
    try:
        month = pd.Period(dt.datetime.strptime(text.strip(), "%Y-%m"), freq="M")
    except ValueError:
        raise ConfigError(f"{option} is '{text}' — expected a month such as 2026-10") from None
    first, last = pd.Timestamp.min.to_period("M") + 1, pd.Timestamp.max.to_period("M") - 1
    if not first <= month <= last:
        raise ConfigError(
            f"{option} is '{text}' — outside {first} to {last}, the months pandas can hold; give "
            "a month such as 2026-10"
        )
    return month


def monthend(
    deals: pd.DataFrame,
    orders: pd.DataFrame,
    invoices: pd.DataFrame | None,
    links: pd.DataFrame,
    xref: pd.DataFrame,
    months: Sequence[pd.Period],
    options: MonthendOptions,
    companies: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
) -> MonthendResult:
    """Reconcile ``months``. ``links`` (deal_id, order_id) says which deal each order is for."""
    months = tuple(sorted(set(months)))
    if not months:
        raise ValueError("monthend needs at least one month")
    crm_entity, erp_entity = prep.entity_of(xref, "crm"), prep.entity_of(xref, "erp")
    won, counted_orders, invoice_rows = _rows(
        deals, orders, invoices, links, crm_entity, erp_entity, options, companies
    )
    as_of = months[-1].end_time.normalize()
    ar = ar_overview(invoice_rows, customers, erp_entity, as_of)
    amount_unknown = prep.amount_unknown_note(won, months)
    differences = _differences(won, counted_orders, invoice_rows, months, options.rounding)
    records = _records(won, counted_orders, invoice_rows, months)
    del won, counted_orders, invoice_rows  # the totals are month-end's peak of memory
    summary = _totals(records, [], months)
    summary["fx_missing"] = (
        records[records["fx_missing"]]
        .groupby("month")
        .size()
        .reindex(summary["month"])
        .fillna(0)
        .astype("int64")
        .to_numpy()
    )
    check = tie_out(summary, differences)
    if not check["ties_out"].all():
        bad = check[~check["ties_out"]].iloc[0]
        raise RuntimeError(f"month-end does not tie out: {bad.to_dict()}")  # a bug, not bad input
    return MonthendResult(
        months=months,
        base_currency=options.base_currency,
        as_of=as_of.date(),
        summary=summary,
        differences=differences,
        by_entity=_totals(records, ["xref_id"], months),
        by_owner=_totals(records, ["owner"], months),
        by_currency=_totals(records, ["currency"], months),
        ar=ar,
        notes=tuple(_notes(records, invoices, amount_unknown)),
    )


def _rows(
    deals: pd.DataFrame,
    orders: pd.DataFrame,
    invoices: pd.DataFrame | None,
    links: pd.DataFrame,
    crm_entity: pd.Series,
    erp_entity: pd.Series,
    options: MonthendOptions,
    companies: pd.DataFrame | None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The won deals, the counted (not cancelled) orders and the counted invoices, in base
    currency, each with its parent and notes (``monthend_prep``)."""
    convert = options.convert
    owners = prep.entity_owner(companies, crm_entity)
    won = prep.won_deals(deals, crm_entity, options.won_stages, convert, companies)
    order_rows = prep.orders(
        orders, links, won, deals, erp_entity, owners, options.cancelled_statuses, convert
    )
    order_rows["tax"] = prep.tax_included(
        won,
        order_rows,
        options.tax_rate_of_customer,
        options.orders_may_include_tax,
        options.deals_may_include_tax,
    )
    won = prep.mark_empty_deals(won, order_rows)
    invoice_rows = prep.invoices(
        invoices, order_rows, erp_entity, owners, options.void_statuses, convert
    )
    counted_orders = order_rows[~order_rows["cancelled"]].reset_index(drop=True)
    return won, counted_orders, invoice_rows


def _differences(
    won: pd.DataFrame,
    orders: pd.DataFrame,
    invoices: pd.DataFrame,
    months: Sequence[pd.Period],
    rounding: Decimal,
) -> pd.DataFrame:
    """Every item explaining the three steps' differences, sorted."""
    parts = [
        explain_step(won, orders, WON_TO_ORDERED, months, rounding),
        explain_step(
            prep.mark_uninvoiced(orders, invoices), invoices, ORDERED_TO_INVOICED, months, rounding
        ),
        explain_payments(invoices, months),
    ]
    return _sorted(pd.concat([p for p in parts if len(p)] or [empty_items()], ignore_index=True))


def _records(
    won: pd.DataFrame, orders: pd.DataFrame, invoices: pd.DataFrame, months: Sequence[pd.Period]
) -> pd.DataFrame:
    """Every counted amount in the period as (month, measure, dims, base, fx_missing)."""
    cols = ["month", *DIMS, "base", "fx_missing"]
    wanted = list(months)
    won, orders = (f.loc[f["month"].isin(wanted).to_numpy(), cols] for f in (won, orders))
    in_months = invoices["month"].isin(wanted).to_numpy()
    paid = invoices.loc[in_months, [*cols[:-2], "paid_base", "fx_missing"]]
    paid = paid.rename(columns={"paid_base": "base"})
    invoices = invoices.loc[in_months, cols]
    frames = [
        f.assign(measure=m)
        for f, m in ((won, "won"), (orders, "ordered"), (invoices, "invoiced"), (paid, "paid"))
    ]
    rows = pd.concat(frames, ignore_index=True)
    rows["fx_missing"] = rows["fx_missing"].astype(bool) & (rows["measure"] != "paid")
    return rows


def _totals(records: pd.DataFrame, by: list[str], months: Sequence[pd.Period]) -> pd.DataFrame:
    """Totals per month (and ``by``), with the differences of consecutive totals, sorted by month
    and key (missing keys last). The keys become one sortable integer per row, so the sums are
    one Arrow hash aggregation on integers (pandas' groupby re-factorizes text per call)."""
    month = records["month"].array.asi8
    first = month.min(initial=0)
    group = month - first
    for k in by:
        rank, width = _ranks(records[k])
        group = group * (width + 1) + rank
    table = pa.table(
        {
            "group": pa.array(group),
            "measure": pc.index_in(_arrow(records["measure"]), value_set=pa.array(TOTALS)),
            "base": pa.chunked_array(A.filled(records["base"]).array.__arrow_array__()),
            "row": pa.array(np.arange(len(records))),
        }
    )
    sums = table.group_by(["group", "measure"], use_threads=False).aggregate(
        [("base", "sum"), ("row", "min")]
    )
    sums = sums.take(pa.array(np.argsort(sums["group"].to_numpy(), kind="stable")))
    key = sums["group"].to_numpy()
    starts = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, dtype=bool)
    if by:
        rows = sums["row_min"].to_numpy()[starts]
        frame = records[["month"]].take(rows).reset_index(drop=True)
        for k in by:  # as groupby's index holds the keys (object text is inferred as str)
            frame[k] = pd.Index(records[k].take(rows).array)
        slot_of = np.cumsum(starts) - 1
    else:  # every month of the period gets a row, even an empty one
        frame = pd.DataFrame({"month": pd.PeriodIndex(list(months), freq="M")})
        slot_of = np.searchsorted(frame["month"].array.asi8, key + first)
    measure = sums["measure"].to_numpy(zero_copy_only=False)
    summed = sums["base_sum"]
    pool = pa.chunked_array([*summed.chunks, pa.nulls(1, summed.type)], summed.type)
    for i, col in enumerate(TOTALS):
        rows = np.flatnonzero(measure == i)
        slot = np.full(len(frame), len(sums), dtype=np.int64)  # no rows: the null, then 0
        slot[slot_of[rows]] = rows
        frame[col] = A.filled(pd.Series(pd.array(pool.take(pa.array(slot)), dtype=A.AMOUNT_DTYPE)))
    for name, (before, after) in zip(DIFFERENCES, pairwise(TOTALS), strict=True):
        frame[name] = A.sub(frame[after], frame[before])
    return frame


def _ranks(values: pd.Series) -> tuple[np.ndarray, int]:
    """Each value's place among the distinct values in sorted order (missing: after them all),
    and how many distinct values there are."""
    codes, uniques = pd.factorize(values)
    place = np.empty(len(uniques) + 1, dtype=np.int64)
    place[uniques.argsort()] = np.arange(len(uniques))
    place[-1] = len(uniques)  # code -1: missing
    return place[codes], len(uniques)


def tie_out(summary: pd.DataFrame, differences: pd.DataFrame) -> pd.DataFrame:
    """Per month and step: the difference, the sum of its explained items, and whether they agree."""
    explained = differences.groupby(["month", "step"])["amount_base"].sum()
    rows = []
    for row in summary.itertuples(index=False):
        for step, col in zip(STEPS, DIFFERENCES, strict=True):
            total = Decimal(str(getattr(row, col)))
            got = Decimal(str(explained.get((row.month, step), Decimal(0))))
            rows.append(
                {
                    "month": row.month,
                    "step": step,
                    "difference": total,
                    "explained": got,
                    "ties_out": total == got,
                }
            )
    return pd.DataFrame(rows)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """By month, step (in ``STEPS`` order), kind and ids, missing ids last; ties keep their order.
    Sorted in Arrow: pandas sorts Arrow text through its own factorization, column by column."""
    step = pc.index_in(_arrow(frame["step"]), value_set=pa.array(STEPS))
    keys = pa.table(
        {
            "month": pa.array(frame["month"].array.asi8),
            "step": step,
            **{c: _arrow(frame[c]) for c in ("kind", "deal_id", "order_id", "invoice_id")},
        }
    )
    # Missing ids last: Arrow's default placement (a per-key "at_end" would need pyarrow 25).
    order = pc.sort_indices(keys, sort_keys=[(c, "ascending") for c in keys.column_names])
    return frame.take(order.to_numpy()).reset_index(drop=True)


def _arrow(values: pd.Series) -> pa.ChunkedArray:
    return pa.chunked_array(values.astype("string").array.__arrow_array__())


def _notes(
    records: pd.DataFrame, invoices: pd.DataFrame | None, amount_unknown: str | None
) -> list[str]:
    notes = [amount_unknown] if amount_unknown else []
    missing = int(records["fx_missing"].sum())
    if missing:
        notes.append(f"{missing} amounts have no fx rate and are left out of the totals")
    if invoices is None:
        notes.append("no erp_invoices table: nothing is invoiced or paid")
    elif "paid_amount" not in invoices:
        notes.append("erp_invoices has no paid_amount: every invoice counts as unpaid")
    return notes
