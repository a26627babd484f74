"""This business's billing habits, learned from the deals whose orders name them.

Orders that carry ``crm_deal_ref`` are labelled examples inside every export. A won deal is an
example when its named orders total it (within the tolerance, as booked or with VAT), or when one
named part is followed on its customer by orders of the same amount that complete it (equal
instalments whose later parts name nothing). From the examples:

    days_after_close              the lag from close to the first order
    later_part_gap_days           the gap between one part of a split deal and the next
    later_parts_days_after_close  the lag from close to the last part
    instalments                   whether split deals are billed in equal parts
    pre_go_live_orders            whether deals closed before the ERP's go-live get orders at all

Each learned limit covers ``quantile_percent`` of the examples plus ``margin_percent``; a number in
rules/leakage.yaml overrides it; with too few examples the documented fallback is used, and a value
beyond the caps is capped. ``Habits.notes`` says which, from how many deals.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from recon.checks.amounts import floats
from recon.checks.leakage.prepare import Prepared
from recon.checks.leakage.taxes import tax_variants
from recon.config.leakage import LeakageRules

EQUAL = 0.01  # parts within 1% of each other are equal (rounding to whole units included)
NEAR_GO_LIVE_DAYS = 180  # deals closed this long after the go-live show the naming rate
TOO_FEW_EXPECTED = 10  # fewer named pre-go-live deals expected than this: too few to tell
NONE_SHARE = 0.2  # observed below this share of the expected: pre-go-live deals get no orders
MIN_PLAN_DEALS = 10  # a milestone plan is learned from at least this many deals


@dataclass(frozen=True)
class Window:
    """Order dates that may belong to a deal, in days from its close (resolved numbers)."""

    before: int  # days_before_close
    first: int  # days_after_close
    span: int  # later_parts_days_after_close
    gap: int  # later_part_gap_days
    # a first order past ``first`` but by this day may stand for its deal when it matches it:
    # the window covers most examples, the edge the latest of them (with the margin)
    edge: int = 0


@dataclass(frozen=True)
class Habits:
    window: Window
    pre_go_live_orders: bool
    instalments: bool
    max_parts: int
    typical_gap: int  # median days between parts: when the next instalment is due
    typical_lag: int  # median days from close to first order
    labelled_deals: int
    split_deals: int
    notes: dict[str, str] = field(default_factory=dict)
    first_lags: np.ndarray = field(default_factory=lambda: np.zeros(0))  # sorted, of the examples
    equal_counts: tuple[int, ...] = ()  # numbers of equal instalments the examples show
    # running shares of the learned milestone plans (but the last part), and the deals showing it
    schedules: dict[tuple[float, ...], int] = field(default_factory=dict)
    # sorted days between consecutive instalments (equal parts or a learned plan) of the examples
    instalment_gaps: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass(frozen=True)
class _Examples:
    first_lag: np.ndarray  # per example deal
    last_lag: np.ndarray  # per example deal billed in parts
    parts: np.ndarray  # per example deal billed in parts
    equal: np.ndarray  # per example deal billed in parts
    gaps: np.ndarray  # per gap between consecutive parts
    # per named example billed in parts: the running share of the total after each part but the
    # last, to the percent ("30/40/30" → (0.3, 0.7))
    steps: list[tuple[float, ...]] = field(default_factory=list)
    # per gap: the named example (index into ``steps``) it belongs to, -1 for a chain's
    gap_owner: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def named_examples(
    prep: Prepared,
    named: pd.DataFrame,
    tol: np.ndarray,
    vat: np.ndarray,
    max_lag: int,
    min_split: int,
) -> _Examples:
    """Example deals from the named pairs (d, o, lag, share): complete named deals, and equal
    instalments named on their first part only. The parts of those chains, found by their
    amount, count only where fewer than ``min_split`` deals name every part: a customer buying
    at one price now and then makes chains too, and labels beat inferences."""
    named = named.loc[np.isfinite(named["share"].to_numpy())].sort_values(["d", "lag"])
    d = named["d"].to_numpy()
    share = named["share"].to_numpy()
    lag = named["lag"].to_numpy()
    deals, start, count = np.unique(d, return_index=True, return_counts=True)
    total = np.add.reduceat(share, start) if len(start) else np.zeros(0)
    fits = np.zeros(len(deals), dtype=bool)
    # as booked or with the order's VAT: two of three parts can total the deal less VAT by chance
    for m in tax_variants(vat[deals], deals_with_tax=False):
        with np.errstate(invalid="ignore"):
            fits |= np.abs(total - m) / m <= tol[deals] * (1 + 1e-12)
    hi = np.maximum.reduceat(share, start) if len(start) else np.zeros(0)
    lo = np.minimum.reduceat(share, start) if len(start) else np.zeros(0)
    last = start + count - 1
    multi = fits & (count >= 2)
    in_multi = np.repeat(multi, count)
    same_deal = np.r_[False, d[1:] == d[:-1]]
    gaps = np.diff(lag, prepend=0)[in_multi & same_deal]
    running = (np.cumsum(share) - np.repeat(np.cumsum(share)[start] - share[start], count)) / (
        np.repeat(total, count)
    )
    steps = _steps(np.round(running[in_multi], 2), count[multi])

    owner = np.repeat(np.arange(int(multi.sum())), count[multi] - 1)

    chain = _instalment_chains(prep, named, deals[~fits & (count == 1)], tol, vat, max_lag)
    if multi.sum() >= min_split:
        chain = {k: (v if k == "first" else v[:0]) for k, v in chain.items()}
    return _Examples(
        first_lag=np.r_[lag[start[fits]], chain["first"]],
        last_lag=np.r_[lag[last[multi]], chain["last"]],
        parts=np.r_[count[multi], chain["parts"]],
        equal=np.r_[(hi - lo <= EQUAL * hi)[multi], np.ones(len(chain["parts"]), dtype=bool)],
        gaps=np.r_[gaps, chain["gaps"]],
        steps=steps,
        gap_owner=np.r_[owner, np.full(len(chain["gaps"]), -1)].astype(np.int64),
    )


def _steps(running: np.ndarray, count: np.ndarray) -> list[tuple[float, ...]]:
    """Each example's running shares, the last (the whole) left off."""
    out, at = [], 0
    for n in count.tolist():  # one tuple per example deal billed in parts (a few thousand)
        out.append(tuple(running[at : at + n - 1].tolist()))
        at += n
    return out


def schedules(
    steps: list[tuple[float, ...]], share_percent: float, min_deals: int
) -> dict[tuple[float, ...], int]:
    """Billing schedules (running shares) that many examples follow: at least ``share_percent``
    of the examples with as many parts, and ``min_deals`` of them. Parts of random size rarely
    repeat to the percent; a milestone plan ("30% on signing, 40% on delivery") does."""
    if not steps:
        return {}
    counts = pd.Series(steps).value_counts()
    parts = pd.Series([len(k) for k in counts.index], index=counts.index)
    per_parts = counts.groupby(parts.to_numpy()).transform("sum")
    keep = (counts >= min_deals) & (counts >= share_percent / 100 * per_parts)
    return {k: int(v) for k, v in counts[keep].items()}


def _instalment_chains(
    prep: Prepared,
    named: pd.DataFrame,
    single: np.ndarray,
    tol: np.ndarray,
    vat: np.ndarray,
    max_lag: int,
) -> dict[str, np.ndarray]:
    """Deals with one named part of 1/N of them, followed on the deal's entity by unnamed orders
    in the deal's currency of the same amount that bring the total to the deal: parts, first and
    last lag, and the gaps between parts."""
    empty = {k: np.zeros(0, dtype=np.int64) for k in ("first", "last", "parts", "gaps")}
    first = named.drop_duplicates("d").set_index("d")
    first = first.loc[first.index.intersection(single)]
    s = first["share"].to_numpy()
    keep = (s >= 0.1) & (s <= 0.8)
    first = first.loc[keep]
    if first.empty:
        return empty
    won, orders = prep.won, prep.orders
    d = first.index.to_numpy()
    o = first["o"].to_numpy()
    heads = pd.DataFrame(
        {
            "d": d,
            "ent": won["ent"].to_numpy()[d],
            "lag0": first["lag"].to_numpy(),
            "amount": floats(orders["amount"])[o],
            "currency": orders["currency"].to_numpy(dtype=object)[o],
            "deal_currency": won["currency"].to_numpy(dtype=object)[d],
            "close": won["close_date"].to_numpy()[d],
            # parts of the deal, or of the deal with VAT where the orders carry it
            "parts_at_most": np.round((1 + vat[d]) / first["share"].to_numpy()).astype(np.int64),
            "share": first["share"].to_numpy(),
        }
    )
    heads = heads.loc[heads["currency"] == heads["deal_currency"]]
    unnamed = orders.loc[
        orders["ref"].isna().to_numpy() & orders["ent"].isin(heads["ent"]).to_numpy()
    ]
    tail = pd.DataFrame(
        {
            "ent": unnamed["ent"].to_numpy(),
            "day": unnamed["order_date"].to_numpy(),
            "f_amount": floats(unnamed["amount"]),
            "f_currency": unnamed["currency"].to_numpy(dtype=object),
        }
    )
    pairs = heads.merge(tail, on="ent", how="inner")
    lag = (pairs["day"] - pairs["close"]).dt.days.to_numpy()
    amount = pairs["amount"].to_numpy()
    ok = (
        (lag > pairs["lag0"].to_numpy())
        & (lag <= max_lag)
        & (pairs["f_currency"].to_numpy() == pairs["currency"].to_numpy())
        & (np.abs(pairs["f_amount"].to_numpy() - amount) <= EQUAL * amount)
    )
    pairs = pairs.loc[ok].assign(lag=lag[ok]).sort_values(["d", "lag"], kind="stable")
    pairs["k"] = pairs.groupby("d").cumcount().to_numpy() + 1
    pairs = pairs.loc[pairs["k"].to_numpy() < pairs["parts_at_most"].to_numpy()]
    if pairs.empty:
        return empty
    got = pairs.groupby("d").agg(k=("k", "max"), last=("lag", "max"), share=("share", "first"))
    parts = got["k"].to_numpy() + 1
    at = got.index.to_numpy()
    billed = got["share"].to_numpy() * parts
    complete = np.zeros(len(got), dtype=bool)
    for m in tax_variants(vat[at], deals_with_tax=False):
        # a reading turned off is inf, and inf <= inf: it must not complete every chain
        complete |= (np.abs(billed - m) <= tol[at] * m) & np.isfinite(m)
    got = got.loc[complete]
    chain = pairs.loc[pairs["d"].isin(got.index)]
    lag0 = heads.set_index("d")["lag0"]
    lags = np.r_[lag0.loc[got.index].to_numpy(), chain["lag"].to_numpy()]
    owner = np.r_[got.index.to_numpy(), chain["d"].to_numpy()]
    order = np.lexsort((lags, owner))
    lags, owner = lags[order], owner[order]
    gaps = np.diff(lags)[owner[1:] == owner[:-1]]
    return {
        "first": lag0.loc[got.index].to_numpy(),
        "last": got["last"].to_numpy(),
        "parts": parts[complete],
        "gaps": gaps,
    }


def _limit(values: np.ndarray, q: float, margin: float) -> int:
    # rounded first, so that 90 days plus 10% is 99 and not 100
    return math.ceil(round(float(np.quantile(values, q / 100)) * (1 + margin / 100), 6))


def _days(
    name: str,
    setting: int | str,
    values: np.ndarray,
    enough: bool,
    evidence: str,
    rules: LeakageRules,
    floor: int,
) -> tuple[int, str]:
    """A window setting and the sentence that says where it came from."""
    learning = rules.learning
    fallback = getattr(learning.fallback, name)
    cap = getattr(learning.caps, name)
    if setting != "auto":
        return int(setting), f"{setting} days (rules/leakage.yaml)"
    if not enough:
        return fallback, f"{fallback} days (fallback: {evidence})"
    floor = max(floor, getattr(learning.floors, name))
    found = max(_limit(values, learning.quantile_percent, learning.margin_percent), floor)
    if found > cap:
        return cap, f"{cap} days (capped: learned {found} days from {evidence})"
    return found, f"{found} days (learned from {evidence})"


def learn(
    prep: Prepared, named: pd.DataFrame, tol: np.ndarray, vat: np.ndarray, rules: LeakageRules
) -> Habits:
    """The window, instalments and go-live habit in effect for this run, and how each was set."""
    window, learning = rules.date_window, rules.learning
    ex = named_examples(
        prep, named, tol, vat, learning.caps.later_parts_days_after_close,
        learning.min_split_deals,
    )  # fmt: skip
    n, n_split = len(ex.first_lag), len(ex.parts)
    labelled = f"{n:,} deals whose orders name them"
    split = f"{n_split:,} of them billed in parts"
    first, first_note = _days(
        "days_after_close",
        window.days_after_close,
        np.maximum(ex.first_lag, 0),
        n >= learning.min_deals,
        labelled if n >= learning.min_deals else f"only {labelled}",
        rules,
        floor=1,
    )
    enough_split = n >= learning.min_deals and n_split >= learning.min_split_deals
    split_evidence = split if enough_split else f"only {split}"
    gap, gap_note = _days(
        "later_part_gap_days", window.later_part_gap_days, ex.gaps, enough_split,
        split_evidence, rules, floor=1,
    )  # fmt: skip
    equal = int(ex.equal.sum())
    max_parts = learning.max_parts
    typical = gap // 2
    if enough_split:
        max_parts = int(min(max(2, np.quantile(ex.parts, learning.quantile_percent / 100)),
                            learning.max_parts))  # fmt: skip
        typical = int(np.median(ex.gaps)) if len(ex.gaps) else gap
    # The last part comes at most (parts - 1) gaps after the first order: a sum of learned
    # limits, which a quantile of a few dozen spans would underestimate.
    composed = first + (max_parts - 1) * gap
    span, span_note = _days(
        "later_parts_days_after_close", window.later_parts_days_after_close,
        np.r_[ex.last_lag, composed], enough_split, split_evidence, rules, floor=composed,
    )  # fmt: skip
    span = max(span, first)
    edge, edge_note = _edge(ex.first_lag, first, window.days_after_close, n, rules)
    plans = (
        schedules(ex.steps, learning.instalment_share_percent, MIN_PLAN_DEALS)
        if enough_split
        else {}
    )
    seen = enough_split and (
        equal >= learning.instalment_share_percent / 100 * n_split or bool(plans)
    )
    if rules.instalments == "auto":
        instalments = seen
        how = f"{equal:,} of {split}, in equal parts" if enough_split else f"only {split}"
        inst_note = f"{'on' if seen else 'off'} (auto; {how})"
    else:
        instalments = bool(rules.instalments)
        inst_note = f"{'on' if instalments else 'off'} (rules/leakage.yaml)"
    if instalments:
        counts = "/".join(str(c) for c in _equal_counts(ex, max_parts))
        inst_note += f"; {counts} equal parts, next due about {typical} days after the last"
        if plans:
            shown = ", ".join(f"{_plan_text(k)} ({v:,} deals)" for k, v in plans.items())
            inst_note += f"; milestone plans: {shown}"
    else:
        plans = {}
    pre, pre_note = _pre_go_live(prep, named, first, rules)
    return Habits(
        instalment_gaps=_instalment_gaps(ex, plans) if instalments else np.zeros(0),
        window=Window(window.days_before_close, first, span, min(gap, span), edge),
        pre_go_live_orders=pre,
        instalments=instalments,
        max_parts=max_parts,
        typical_gap=max(typical, 1),
        typical_lag=int(np.median(ex.first_lag)) if n >= learning.min_deals else first // 2,
        schedules=plans,
        equal_counts=_equal_counts(ex, max_parts) if instalments else (),
        first_lags=np.sort(ex.first_lag) if n >= learning.min_deals else np.zeros(0),
        labelled_deals=n,
        split_deals=n_split,
        notes={
            "days_after_close": first_note + edge_note,
            "later_part_gap_days": gap_note,
            "later_parts_days_after_close": span_note,
            "instalments": inst_note,
            "pre_go_live_orders": pre_note,
        },
    )


def _edge(
    first_lag: np.ndarray, first: int, setting: int | str, n: int, rules: LeakageRules
) -> tuple[int, str]:
    """The latest day after the close a first order matching its deal may come (see ``Window``):
    the latest example plus the margin, capped. A quantile leaves the slowest examples out, and
    a deal whose one order is among them is no leakage."""
    learning = rules.learning
    if setting != "auto" or n < learning.min_deals:
        return first, ""
    latest = math.ceil(round(float(first_lag.max()) * (1 + learning.margin_percent / 100), 6))
    edge = min(max(latest, first), learning.caps.days_after_close)
    if edge <= first:
        return first, ""
    return edge, f"; an order matching its deal up to {edge} days (the latest example, plus margin)"


def _instalment_gaps(ex: _Examples, plans: dict[tuple[float, ...], int]) -> np.ndarray:
    """The gaps between parts of the examples billed in instalments (equal parts, or a learned
    plan), sorted: a split of unequal parts weeks apart says nothing of when an instalment is due."""
    named = len(ex.steps)
    inst = ex.equal[:named].copy()
    if plans:
        inst |= np.array([s in plans for s in ex.steps], dtype=bool)
    own = ex.gap_owner
    keep = np.where(own < 0, True, inst[np.maximum(own, 0)] if named else False)
    return np.sort(ex.gaps[keep])


def _equal_counts(ex: _Examples, max_parts: int) -> tuple[int, ...]:
    """The numbers of parts of the examples billed in equal parts, each shown by at least
    ``MIN_PLAN_DEALS`` deals; up to ``max_parts`` when none is."""
    counts = pd.Series(ex.parts[ex.equal]).value_counts()
    found = sorted(int(k) for k, v in counts.items() if v >= MIN_PLAN_DEALS and k <= max_parts)
    return tuple(found) or tuple(range(2, max_parts + 1))


def lag_below(habits: Habits, days: np.ndarray) -> np.ndarray:
    """The share of deals whose first order comes fewer than ``days`` after the close (from the
    examples; with too few, a step at the typical lag)."""
    lags = habits.first_lags
    if len(lags) == 0:
        return (np.asarray(days) > habits.typical_lag).astype(float)
    return np.searchsorted(lags, days, side="left") / len(lags)


def _plan_text(steps: tuple[float, ...]) -> str:
    """(0.3, 0.7) → "30/40/30"."""
    points = [0.0, *steps, 1.0]
    return "/".join(f"{round((b - a) * 100):g}" for a, b in itertools.pairwise(points))


def _pre_go_live(
    prep: Prepared, named: pd.DataFrame, first: int, rules: LeakageRules
) -> tuple[bool, str]:
    """Do deals closed before the go-live get orders? From the share of deals named by an order:
    those closed in the ``first`` days before the go-live against those closed after it."""
    setting = rules.pre_go_live_orders
    if setting != "auto":
        return bool(setting), f"{'yes' if setting else 'no'} (rules/leakage.yaml)"
    if prep.go_live is None:
        return True, "yes (auto; no go-live date)"
    won = prep.won
    close = won["close_date"]
    in_erp = won["has_erp"].to_numpy()
    is_named = np.zeros(len(won), dtype=bool)
    is_named[named["d"].to_numpy()] = True
    after = (
        in_erp
        & (close >= prep.go_live).to_numpy()
        & (close < prep.go_live + pd.Timedelta(days=NEAR_GO_LIVE_DAYS)).to_numpy()
    )
    near = (
        in_erp
        & (close < prep.go_live).to_numpy()
        & (close >= prep.go_live - pd.Timedelta(days=first)).to_numpy()
    )
    rate = is_named[after].mean() if after.any() else 0.0
    expected = rate * near.sum()
    seen = int(is_named[near].sum())
    shown = (
        f"{seen:,} of {int(near.sum()):,} deals closed in the {first} days before the go-live "
        f"are named by an order, against {rate:.0%} of the deals closed after it"
    )
    if expected < TOO_FEW_EXPECTED:
        return True, f"yes (auto; too few deals to tell: {shown})"
    if seen < NONE_SHARE * expected:
        return False, f"no (auto; {shown})"
    return True, f"yes (auto; {shown})"
