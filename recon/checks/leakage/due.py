"""When a deal billed in instalments so far (k of N parts) has missed its next one.

Such a deal is either still in progress, its next part to come a learned gap after the last, or it
has stopped (or it is an under-billed deal whose one order happens to be 1/N of it). Which is
likelier depends on how long ago its last part was, and on how common each is in this data:

    in progress, x days after its last part:  c · S(x − grace), S the share of learned gaps
                                              between instalments longer than that
    stopped:                                  λ, at any x

Both are densities of such deals per day of x. λ is read beyond the latest learned gap plus the
grace period, where no deal in progress is left; λ + c just after a part, before the shortest
gap, where every deal in progress still waits. A deal is under-billed from the first x at which
a stopped deal is as likely as one in progress: early where deals often stop, after the longest
gap seen where they never do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recon.checks.leakage.assign import Assignment, Params, fit, instalment_parts

MIN_DEALS = 30  # fewer deals billed in part around either window: the latest gap decides
HEAD_QUANTILE = 0.05  # "before the shortest gap": below this share of the learned gaps


@dataclass(frozen=True)
class Due:
    days: int  # the next instalment is missing once the last part is more than this long ago
    note: str


def overdue_after(since_last: np.ndarray, gaps: np.ndarray, grace: int, latest: int) -> Due:
    """``since_last``: days from the last part to the as-of day, per deal billed k of N so far;
    ``gaps``: the learned gaps between instalments, sorted; ``latest``: the longest gap (the
    later-parts window)."""
    limit = latest + grace
    if len(gaps) == 0:
        return Due(limit, f"{limit} days after the last part (the latest gap: no gaps learned)")
    head_days = max(float(np.quantile(gaps, HEAD_QUANTILE)), 1.0)
    head = int((since_last < head_days).sum())
    tail = int(((since_last > limit) & (since_last <= 2 * limit)).sum())
    if head < MIN_DEALS:
        return Due(
            limit,
            f"{limit} days after the last part (the latest gap: only {_deals(head)} billed in "
            "part just after a part)",
        )
    stopped = tail / limit
    waiting = max(head / head_days - stopped, 0.0)
    days = np.arange(limit + 1)
    # the share of gaps longer than x - grace: deals in progress still waiting at x
    longer = 1 - np.searchsorted(gaps, days - grace, side="right") / len(gaps)
    due = days[waiting * longer <= stopped]
    found = int(due[0]) if len(due) else limit
    return Due(
        found,
        f"{found} days after the last part (learned: {_deals(tail)} billed in part beyond the "
        f"latest gap against {head:,} within {head_days:.0f} days of a part)",
    )


def _deals(n: int) -> str:
    return f"{n:,} deal" + ("" if n == 1 else "s")


def learn_due(
    pairs: pd.DataFrame, chosen: Assignment, p: Params, gaps: np.ndarray, grace: int,
    short_below: float,
) -> Due:  # fmt: skip
    """``overdue_after`` over the deals that the assignment ``chosen`` leaves billed in part:
    short of ``short_below`` (a share), their orders so far instalments of more parts."""
    mine = pairs.loc[chosen.deal_of_order[pairs["o"].to_numpy()] == pairs["d"].to_numpy()]
    d, share = mine["d"].to_numpy(), mine["share"].to_numpy()
    n_deals = len(p.tol)
    n = np.bincount(d, minlength=n_deals)
    total = np.bincount(d, weights=share, minlength=n_deals)
    sq = np.bincount(d, weights=share**2, minlength=n_deals)
    last = np.full(n_deals, -(10**9), dtype=np.int64)
    np.maximum.at(last, d, mine["lag"].to_numpy(dtype=np.int64))
    matched = fit(total, p.tol, p.vat, p)[0]
    parts = instalment_parts(total, n, sq, p.tol, p.vat, p)
    in_part = (n > 0) & ~matched & (total < short_below) & (parts > 0)
    age = p.age if p.age is not None else np.zeros(n_deals)
    return overdue_after((age - last)[in_part], gaps, grace, p.latest_gap)
