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

import pandas as pd

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
    convert = options.convert
    owners = prep.entity_owner(companies, xref)
    won = prep.won_deals(deals, xref, options.won_stages, convert, companies)
    order_rows = prep.orders(
        orders, links, won, deals, xref, owners, options.cancelled_statuses, convert
    )
    order_rows["tax"] = prep.tax_included(
        won,
        order_rows,
        options.tax_rate_of_customer,
        options.orders_may_include_tax,
        options.deals_may_include_tax,
    )
    won = prep.mark_empty_deals(won, order_rows)
    counted_orders = order_rows[~order_rows["cancelled"]].reset_index(drop=True)
    invoice_rows = prep.invoices(invoices, order_rows, xref, owners, options.void_statuses, convert)
    parts = [
        explain_step(won, counted_orders, WON_TO_ORDERED, months, options.rounding),
        explain_step(
            prep.mark_uninvoiced(counted_orders),
            invoice_rows,
            ORDERED_TO_INVOICED,
            months,
            options.rounding,
        ),
        explain_payments(invoice_rows, months),
    ]
    differences = pd.concat([p for p in parts if len(p)] or [empty_items()], ignore_index=True)
    differences = _sorted(differences)
    records = _records(won, counted_orders, invoice_rows, months)
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
    as_of = months[-1].end_time.normalize()
    return MonthendResult(
        months=months,
        base_currency=options.base_currency,
        as_of=as_of.date(),
        summary=summary,
        differences=differences,
        by_entity=_totals(records, ["xref_id"], months),
        by_owner=_totals(records, ["owner"], months),
        by_currency=_totals(records, ["currency"], months),
        ar=ar_overview(invoice_rows, customers, xref, as_of),
        notes=tuple(_notes(records, invoices, prep.amount_unknown_note(won, months))),
    )


def _records(
    won: pd.DataFrame, orders: pd.DataFrame, invoices: pd.DataFrame, months: Sequence[pd.Period]
) -> pd.DataFrame:
    """Every counted amount in the period as (month, measure, dims, base, fx_missing)."""
    cols = ["month", *DIMS, "base", "fx_missing"]
    paid = invoices.assign(base=invoices["paid_base"])
    frames = [
        f[cols].assign(measure=m)
        for f, m in ((won, "won"), (orders, "ordered"), (invoices, "invoiced"), (paid, "paid"))
    ]
    rows = pd.concat(frames, ignore_index=True)
    rows["fx_missing"] = rows["fx_missing"].astype(bool) & (rows["measure"] != "paid")
    return rows[rows["month"].isin(list(months))].reset_index(drop=True)


def _totals(records: pd.DataFrame, by: list[str], months: Sequence[pd.Period]) -> pd.DataFrame:
    """Totals per month (and ``by``), with the differences of consecutive totals."""
    keys = ["month", *by]
    sums = records.groupby([*keys, "measure"], dropna=False, sort=True)["base"].sum()
    frame = sums.unstack("measure")
    if not by:  # every month of the period gets a row, even an empty one
        frame = frame.reindex(pd.PeriodIndex(list(months), freq="M", name="month"))
    frame = frame.reindex(columns=list(TOTALS))
    for col in TOTALS:
        frame[col] = A.filled(frame[col].astype(A.zeros(frame.index[:0]).dtype))
    for name, (before, after) in zip(DIFFERENCES, pairwise(TOTALS), strict=True):
        frame[name] = A.sub(frame[after], frame[before])
    return frame.rename_axis(columns=None).reset_index()


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
    step_rank = frame["step"].map({s: i for i, s in enumerate(STEPS)})
    return (
        frame.assign(_step=step_rank)
        .sort_values(
            ["month", "_step", "kind", "deal_id", "order_id", "invoice_id"],
            na_position="last",
            kind="stable",
        )
        .drop(columns="_step")
        .reset_index(drop=True)
    )


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
