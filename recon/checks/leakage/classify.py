"""Decide each won deal's kind from the orders assigned to it, and say why in plain words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.checks.amounts import floats
from recon.checks.leakage.assign import (
    Assignment,
    Params,
    fit,
    instalment_parts,
    next_instalment_in_time,
)
from recon.checks.leakage.findings import day_text, minus, money, typed
from recon.checks.leakage.habits import NEAR_GO_LIVE_DAYS, Habits, lag_below
from recon.checks.leakage.pairs import order_base
from recon.checks.leakage.prepare import Prepared
from recon.config.leakage import LeakageRules
from recon.schema import AMOUNT_DTYPE

MIN_POST_DEALS = 30  # fewer deals just after the go-live: the typical lag decides alone


def _per_deal(
    prep: Prepared,
    pairs: pd.DataFrame,
    chosen: Assignment,
    rules: LeakageRules,
    fx_rates: pd.DataFrame | None,
) -> pd.DataFrame:
    """Per won deal: assigned orders (ids by date), count, share total, base total, FX gaps."""
    n = len(prep.won)
    mine = pairs.loc[chosen.deal_of_order[pairs["o"].to_numpy()] == pairs["d"].to_numpy()]
    d, o = mine["d"].to_numpy(), mine["o"].to_numpy()
    base = order_base(prep, d, o, rules, fx_rates)
    orders = pd.DataFrame(
        {
            "d": d,
            "day": prep.orders["order_date"].to_numpy()[o],
            "order_id": prep.orders["order_id"].to_numpy(dtype=object)[o],
            "share": mine["share"].to_numpy(),
            "lag": mine["lag"].to_numpy(dtype=float),
            "base": base["amount_base"].to_numpy(),
            "fx_missing": base["fx_missing"].to_numpy(),
        }
    ).sort_values(["d", "day", "order_id"])
    orders["base"] = orders["base"].astype(AMOUNT_DTYPE)
    grouped = orders.groupby("d", sort=True)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    out["n"] = grouped.size().reindex(out.index, fill_value=0).to_numpy()
    out["total"] = grouped["share"].sum().reindex(out.index, fill_value=0.0).to_numpy()
    out["order_ids"] = _joined(orders["d"].to_numpy(), orders["order_id"].to_numpy(), n)
    orders["sq"] = orders["share"] ** 2
    out["sq"] = grouped["sq"].sum().reindex(out.index, fill_value=0.0).to_numpy()
    out["last_lag"] = grouped["lag"].max().reindex(out.index).to_numpy(dtype=float)
    out["last_day"] = grouped["day"].max().reindex(out.index).to_numpy()
    out["order_total_base"] = (
        grouped["base"].sum(min_count=1).reindex(out.index).astype(AMOUNT_DTYPE)
    )
    # a rate missing for any candidate order: that order could not be weighed against the deal
    cand_missing = np.zeros(n, dtype=bool)
    cand_missing[pairs.loc[pairs["fx_missing"].to_numpy(), "d"].to_numpy()] = True
    out["fx_missing"] = cand_missing | prep.won["deal_fx_missing"].to_numpy()
    out["ambiguous"] = chosen.ambiguous
    return out


def _joined(group: np.ndarray, ids: np.ndarray, n: int) -> pd.Series:
    """The ids of each group 0..n-1 joined with ", " (NA for none); ``group`` is sorted."""
    table = pa.table({"g": group, "id": pa.array(ids, type=pa.string())})
    lists = table.group_by("g", use_threads=False).aggregate([("id", "list")])
    text = pc.binary_join(lists["id_list"], ", ")
    out = pd.Series(pd.NA, index=pd.RangeIndex(n), dtype="string")
    out.iloc[lists["g"].to_numpy()] = pd.array(text.to_pandas(), dtype="string")
    return out


def _instalments(agg: pd.DataFrame, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """(N, next one in time) per deal whose orders so far are instalments of N (equal parts or a
    learned milestone plan), as the assignment weighed them; N = 0 where they are not."""
    parts = instalment_parts(
        agg["total"].to_numpy(), agg["n"].to_numpy(), agg["sq"].to_numpy(),
        params.tol, params.vat, params,
    ).astype(np.int64)  # fmt: skip
    age = params.age if params.age is not None else np.zeros(len(agg))
    in_time = next_instalment_in_time(agg["last_lag"].to_numpy(), age, params)
    return parts, in_time


def _old_system(
    prep: Prepared,
    habits: Habits,
    n: np.ndarray,
    no_erp: np.ndarray,
    short: np.ndarray,
    past_grace: np.ndarray,
) -> np.ndarray:
    """Deals closed before the go-live with no order (or no ERP customer) whose order most likely
    came before the go-live, in the old system: the share of first orders that come sooner than
    the go-live came after the close (learned lags) outweighs the odds of that kind of finding
    among deals closed just after the go-live ("order fell before the ERP" against "no order").
    Likewise a short deal whose first parts may have been billed before the go-live: deals
    billed in parts (learned) times that share, against under-billing after the go-live."""
    out = np.zeros(len(n), dtype=bool)
    if prep.go_live is None:
        return out
    close = prep.won["close_date"]
    days = (prep.go_live - close).dt.days.to_numpy()
    pre = days > 0
    if not pre.any():
        return out
    before_ = lag_below(habits, days)
    post = ~pre & (days > -NEAR_GO_LIVE_DAYS) & past_grace
    enough = post.sum() >= MIN_POST_DEALS
    # a deal billed in the old system lacks an ERP customer only where its customer was never
    # brought over: the share of deals closed long before the go-live (their orders all went to
    # the old system) that lack one
    old = pre & (days > habits.window.first)
    migrated_not = no_erp[old].mean() if old.sum() >= MIN_POST_DEALS else 1.0
    for kind, missing in ((no_erp, migrated_not), ((n == 0) & ~no_erp, 1.0)):
        rate = kind[post].mean() if enough else 1.0  # too few: even odds
        out |= pre & kind & (missing * before_ > rate * (1 - before_))
    split = habits.split_deals / max(habits.labelled_deals, 1)
    under = short[post].mean() if enough else 1.0
    out |= pre & short & (split * before_ > under)
    return out


def classify_deals(
    prep: Prepared,
    pairs: pd.DataFrame,
    chosen: Assignment,
    params: Params,
    rules: LeakageRules,
    fx_rates: pd.DataFrame | None,
    habits: Habits,
    skipped: np.ndarray,
    evidence_hint: pd.Series | None = None,
) -> pd.DataFrame:
    """Findings for won deals: no_order, under/over_billed, pending, no_erp_customer, before
    go-live.

    ``skipped``: deals closed before a go-live that brought them no orders (never leakage).
    """
    won = prep.won
    agg = _per_deal(prep, pairs, chosen, rules, fx_rates)
    total = agg["total"].to_numpy()
    matched, _, variant = fit(total, params.tol, params.vat, params)
    n = agg["n"].to_numpy()
    age = (prep.as_of - won["close_date"]).dt.days.to_numpy()
    grace = age < rules.grace_period.days
    no_erp = (n == 0) & ~won["has_erp"].to_numpy()
    short = (n > 0) & ~matched & (total < rules.under_billed_below_percent / 100)
    past_grace = age >= rules.grace_period.days
    before = skipped | _old_system(prep, habits, n, no_erp, short, past_grace)
    over = (n > 0) & ~matched & (total > 1)
    parts, in_time = _instalments(agg, params)
    parts = np.where(matched, 0, parts)
    billed = np.where(parts > 0, n, 0)
    last_day = pd.Series(agg["last_day"].to_numpy(), dtype="datetime64[ns]")
    not_due = short & (parts > 0) & in_time
    kind = np.select(
        [
            before,
            no_erp,
            (n == 0) & grace,
            n == 0,
            not_due,
            short & grace & rules.grace_period.covers_under_billed,
            short,
            over,
        ],
        [
            "before_erp_go_live",
            "no_erp_customer",
            "pending",
            "no_order",
            "pending",
            "pending",
            "under_billed",
            "over_billed",
        ],
        default="",
    )
    keep = kind != ""
    out = won.loc[keep].copy()
    sub = agg.loc[keep]
    out["kind"] = kind[keep]
    out["age_days"] = age[keep]
    out["order_ids"] = sub["order_ids"].to_numpy()
    out["order_total_base"] = sub["order_total_base"].to_numpy()
    out["gap_amount"] = minus(
        out["deal_amount_base"], out["order_total_base"].fillna(0).astype(AMOUNT_DTYPE)
    ).to_numpy()
    out["ambiguous"] = sub["ambiguous"].to_numpy()
    out["fx_missing"] = sub["fx_missing"].to_numpy()
    out["xref_id"] = prep.xref_ids[out["ent"].to_numpy()]
    grace_days = pd.to_timedelta(rules.grace_period.days, unit="D")
    delayed = (out["kind"] == "no_order") | (
        (out["kind"] == "under_billed") & rules.grace_period.covers_under_billed
    )
    since = out["close_date"].where(~delayed, out["close_date"] + grace_days)
    out["leakage_since"] = since.where(
        out["kind"].isin(["no_order", "under_billed", "over_billed", "no_erp_customer"])
    )
    next_due = last_day + pd.to_timedelta(params.typical_gap, unit="D")
    out["instalments_not_due"] = not_due[keep]
    out["reason"] = _reasons(out, sub["total"].to_numpy(), variant[keep], prep, rules, habits)
    if evidence_hint is not None and len(evidence_hint):
        hint = out["d"].map(evidence_hint).astype("string").fillna("")
        out["reason"] = out["reason"] + hint.where(out["kind"] == "no_erp_customer", "")
    out["reason"] = out["reason"] + _instalment_text(
        billed[keep], parts[keep], next_due[keep], not_due[keep], out["kind"]
    )
    return typed(out)


def _instalment_text(
    billed: np.ndarray, parts: np.ndarray, due: pd.Series, not_due: np.ndarray, kind: pd.Series
) -> pd.Series:
    """ "; 2 of 3 instalments billed, next due around 2026-11-20" (or "was due" once late)."""
    index = kind.index
    text = pd.Series("", index=index, dtype="string")
    show = (parts > 0) & kind.isin(["pending", "under_billed"]).to_numpy()
    if not show.any():
        return text
    day = day_text(pd.Series(due.to_numpy(), index=index))
    counted = (
        "; "
        + pd.Series(billed, index=index).astype("string")
        + " of "
        + pd.Series(parts, index=index).astype("string")
        + " instalments billed, "
    )
    verb = pd.Series(np.where(not_due, "next due around ", "the next was due around "), index=index)
    text[show] = (counted + verb.astype("string") + day)[show]
    return text


def _reasons(
    out: pd.DataFrame,
    total: np.ndarray,
    variant: np.ndarray,
    prep: Prepared,
    rules: LeakageRules,
    habits: Habits,
) -> pd.Series:
    amount = floats(out["deal_amount"])
    won = (
        "won "
        + day_text(out["close_date"])
        + ", "
        + pd.Series(money(out["currency"], amount), index=out.index)
    )
    pct = pd.Series(np.round(total * 100).astype(np.int64), index=out.index).astype("string")
    orders = (
        "; orders "
        + out["order_ids"].fillna("")
        + " total "
        + pd.Series(money(out["currency"], total * amount), index=out.index)
        + " ("
        + pct
        + "%)"
    )
    window = habits.window
    kind = out["kind"]
    age = out["age_days"].astype("string")
    grace = str(rules.grace_period.days)
    tolerance = rules.amount_tolerance.describe(prep.base)
    vat = (
        pd.Series(np.round(out["vat"].to_numpy() * 100, 1), index=out.index)
        .map("{:g}".format)
        .astype("string")
    )
    text = pd.Series("", index=out.index, dtype="string")
    hint = pd.Series(out["ent"].map(prep.review_hint).to_numpy(), index=out.index, dtype="string")
    text[kind == "no_erp_customer"] = (
        "; company " + out["company_id"] + " " + out["company"].fillna("") + " has no ERP customer"
    ) + hint.fillna("")
    go_live = "" if prep.go_live is None else prep.go_live.strftime("%Y-%m-%d")
    before = (
        "; closed before the ERP went live on "
        f"{go_live} ({prep.go_live_source}), and deals closed before it get no ERP orders here"
        if not habits.pre_go_live_orders
        else f"; before the ERP went live on {go_live} ({prep.go_live_source}): its order would "
        f"typically have come {habits.typical_lag} days after the close, before the go-live, so "
        "no ERP order is expected"
    )
    text[kind == "before_erp_go_live"] = before
    text[kind == "pending"] = (
        "; no ERP order yet, " + age + f" days after the close, within the {grace}-day grace period"
    )
    text[kind == "no_order"] = (
        f"; no ERP order from {window.before} days before to {window.first} "
        "days after the close, and none names the deal; "
        + age
        + f" days since the close, past the {grace}-day grace period"
    )
    under = orders + f"; under the {rules.under_billed_below_percent:g}% threshold"
    text[kind == "under_billed"] = under[kind == "under_billed"]
    graced = (kind == "pending") & out["order_ids"].notna() & ~out["instalments_not_due"]
    text[graced] = (under + ", within the " + grace + "-day grace period")[graced]
    instalment = (kind == "pending") & out["instalments_not_due"]
    text[instalment] = orders[instalment]
    over = orders + f"; above the deal by more than {tolerance}" + ", also with " + vat + "% VAT"
    over = over.where(out["vat"] > 0, orders + f"; above the deal by more than {tolerance}")
    text[kind == "over_billed"] = over[kind == "over_billed"]
    reason = won + text
    reason = reason.where(
        ~out["fx_missing"].to_numpy(),
        reason + "; an FX rate is missing, so some amounts could not be compared",
    )
    reason = reason.where(
        ~out["ambiguous"].to_numpy(),
        reason + "; ambiguous: another assignment of the orders fits equally well",
    )
    del variant
    return reason
