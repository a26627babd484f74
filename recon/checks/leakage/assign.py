"""Assign orders to deals, globally per group of deals and orders that could belong together.

The candidate pairs form a bipartite graph; each connected component (a few deals and orders of
one entity, usually) is solved on its own. A solution gives every order one deal or none; a deal
may take several orders (a split). It is scored per deal on how its orders' total compares with it:

    no order                          1.0
    instalments, next not yet due     0.15: k orders of 1/N of the deal each (N up to the learned
                                      number of parts), or the first k parts of a learned
                                      milestone plan, the last less than the typical gap and the
                                      grace period ago; only where the data shows such billing
    total matches (within tolerance)  0.2 × deviation (≈ 0), plus 0.02 when it matches only with
                                      the order's tax added, 0.1 only with the deal's tax taken off;
                                      − 0.5 when it matches to the cent (within 0.01%)
    short of the deal                 0.5 … 1.0 (the less, the worse)
    above the deal                    0.6 … 1.0
    + 1.0 when the total is outside the plausible share and no order names the deal, or above
          the deal through an unnamed order where the data shows no over-billing
    + 0.1 when an order from the later-parts window leaves the deal short (at a plausible share)
    + 100 when an order from the later-parts window leaves it short of that, or above it
    + 0.5 when the deal's orders all come past the window but by its edge (the latest lag the
          examples show), and + 100 unless they equal the deal to the cent (or are parts equal
          to the cent that make it up): the first then stands in for an order inside the window

minus ``REF_BONUS`` per order that names its deal, plus ``ORDER_COST`` per order that does not
(taking an unnamed order is a claim that needs its amount as evidence: an order that only nudges
a total already within tolerance is left alone), plus a small cost per day between close and
order. A reference the amounts contradict thus loses to a better fit (a hint only), an order is
never stolen by a similar deal when that leaves its own deal short, and of two deals an order
fits, the one it fits as it stands beats the one it fits only through a tax assumption. A total
equal to the deal to the cent is far stronger evidence than one a few percent off (orders are
keyed from the quote), so the split an order completes exactly keeps it.

Components with at most ``MAX_ENUMERATED`` solutions are solved exactly by scoring every
solution, batched by shape; larger ones by local search, from the named orders and from the
named orders plus the orders of the same amount as a named one (equal instalments), keeping the
cheaper result. A deal whose orders differ between two
equally good solutions is flagged ambiguous.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from recon.checks.leakage.taxes import TaxReadings, tax_variants

log = logging.getLogger(__name__)

NONE_COST = 1.0
REF_BONUS = 0.3
ORDER_COST = 0.05
VARIANT_COST = (0.0, 0.02, 0.1)  # as booked, order with tax, deal with tax (see ``variants``)
EXACT_BONUS = 0.5
EXACT_DEVIATION = 1e-4  # to the cent on a deal of 100, within rounding through a 4-decimal rate
LATE_SHORT = 0.1
EDGE_COST = 0.5  # a deal's first order comes past the window (by its edge): weaker evidence
DAY_COST = 1e-5
IMPLAUSIBLE = 1.0
LATE_UNMATCHED = 100.0
EPS = 1e-9
EQUAL_PART = 0.01  # orders within 1% of each other are equal parts (instalments)
EQUAL_TO_CENT = 3e-4  # parts this close are equal but for rounding each to the cent
PARTS_BONUS = 0.5  # equal instalments that complete a deal (or are due so far) belong together
INSTALMENT_COST = 0.15  # k of N equal instalments, the next not yet due: fine so far
MAX_ENUMERATED = 4096
CELLS_PER_BATCH = 4_000_000


@dataclass(frozen=True)
class Params:
    """Per-deal numbers the cost needs, as arrays over the won deals."""

    tol: np.ndarray  # tolerance as a share of the deal
    vat: np.ndarray
    min_share: float
    max_share: float
    chain_days: int  # a later part comes at most this long after the part before it
    orders_with_tax: bool
    deals_with_tax: bool
    taxes: TaxReadings | None = None  # how the two readings above were decided
    unnamed_over: bool = True  # orders naming no deal may make it over-billed
    over_note: str = ""  # how that was decided
    instalments: bool = False  # equal instalments whose next one is not yet due are no shortfall
    max_parts: int = 6  # the most instalments a deal is billed in
    equal_counts: tuple[int, ...] = ()  # numbers of equal instalments seen (empty: up to max_parts)
    age: np.ndarray | None = None  # days from each deal's close to the as-of day
    typical_gap: int = 30  # days between instalments, when a deal's own parts do not show it
    # the longest gap between instalments the data shows (the later-parts window), and the
    # days after the last part from which the next one is missing (see checks/leakage/due.py)
    latest_gap: int = 60
    due_days: int | None = None  # None: the latest gap and the grace period
    # learned milestone plans: the running share of the deal after each part but the last
    plans: tuple[tuple[float, ...], ...] = ()
    grace_days: int = 14  # an instalment this late is not yet missing


def variants(vat: np.ndarray, p: Params) -> list[np.ndarray]:
    """``tax_variants`` with the readings ``p`` allows."""
    return tax_variants(vat, p.orders_with_tax, p.deals_with_tax)


def fit(
    total: np.ndarray, tol: np.ndarray, vat: np.ndarray, p: Params
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(matched, deviation of the nearest matching variant, index of that variant; the first
    of equally near ones, 0 when none matches)."""
    shape = np.broadcast_shapes(np.shape(total), np.shape(tol), np.shape(vat))
    best = np.full(shape, np.inf)
    which = np.zeros(shape, dtype=np.int64)
    limit = tol * (1 + 1e-12)
    for i, m in enumerate(variants(vat, p)):
        if np.isinf(m).all():  # turned off: never matches
            continue
        with np.errstate(invalid="ignore"):
            dev = np.abs(total - m) / m
        better = (dev <= limit) & (dev < best)
        best = np.where(better, dev, best)
        which = np.where(better, i, which)
    return np.isfinite(best), best, which


def instalment_parts(
    total: np.ndarray, n: np.ndarray, sq: np.ndarray, tol: np.ndarray, vat: np.ndarray, p: Params
) -> np.ndarray:
    """N where a deal's n orders (share total ``total``, sum of squared shares ``sq``) are n
    equal instalments of 1/N of it (of the deal, or of it with VAT in a reading ``p`` allows),
    n < N <= ``p.max_parts``, or the first n parts of a learned milestone plan of N parts; 0
    elsewhere."""
    shape = np.broadcast_shapes(np.shape(total), np.shape(tol), np.shape(vat))
    parts = np.zeros(shape)
    if not p.instalments:
        return parts
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
        equal = sq / n - mean**2 <= (EQUAL_PART / 2 * mean) ** 2 * (1 + 1e-6)
        for m in variants(vat, p):
            count = np.round(m / mean)
            fits = np.abs(mean * count - m) <= tol * m * (1 + 1e-12)
            parts = np.where((parts == 0) & fits & np.isfinite(count), count, parts)
    seen = np.isin(parts, p.equal_counts) if p.equal_counts else parts <= p.max_parts
    ok = (n > 0) & equal & (parts > n) & seen
    return np.where(ok, parts, _plan_parts(total, n, sq, tol, vat, p))


def _plan_parts(
    total: np.ndarray, n: np.ndarray, sq: np.ndarray, tol: np.ndarray, vat: np.ndarray, p: Params
) -> np.ndarray:
    """N where a deal's n orders are the first n parts of a learned milestone plan of N parts
    (as booked, or in a VAT reading ``p`` allows): their total is the plan's running share, and
    the sum of their squares the plan's (so 45% + 22% is not read as 33% + 33%); 0 elsewhere."""
    shape = np.broadcast_shapes(np.shape(total), np.shape(tol), np.shape(vat))
    parts = np.zeros(shape)
    if not p.plans:
        return parts
    step, squares, steps, total_parts = _plan_table(p.plans)
    longest, highest = steps.max(), step.max()
    top = np.broadcast_to((1 + np.maximum(vat, 0)) * (1 + tol) * highest, shape).ravel()
    count = np.broadcast_to(n, shape).ravel()
    # only deals with as many orders as a plan has steps, short of its last step, can be one:
    # the rest (no order, complete, above) is most cells
    at = np.flatnonzero(
        (count >= 1) & (count <= longest) & (np.broadcast_to(total, shape).ravel() <= top)
    )
    if not len(at):
        return parts
    count = count[at]
    t, q = (np.broadcast_to(a, shape).ravel()[at] for a in (total, sq))
    limit = np.broadcast_to(tol, shape).ravel()[at] * (1 + 1e-12)
    readings = [
        m for m in variants(np.broadcast_to(vat, shape).ravel()[at], p) if np.isfinite(m).any()
    ]
    hit = np.zeros((len(at), len(step)), dtype=bool)
    for m in readings:
        with np.errstate(invalid="ignore"):
            near = np.abs(t[:, None] - step * m[:, None]) <= (limit * m)[:, None]
            spread = (limit * m**2)[:, None] * squares
            alike = np.abs(q[:, None] - squares * (m**2)[:, None]) <= 2 * spread
        hit |= near & alike & np.isfinite(m)[:, None]  # a reading turned off is inf
    hit &= count[:, None] == steps
    first = hit.argmax(axis=1)  # the first plan that fits, as the plans are listed
    found = np.where(hit.any(axis=1), total_parts[first], 0.0)
    parts.reshape(-1)[at] = found
    return parts


@functools.lru_cache(maxsize=8)
def _plan_table(plans: tuple[tuple[float, ...], ...]) -> np.ndarray:
    """Every (plan, step) of ``plans``, in their order, as rows of (running share, sum of the
    squared part sizes so far, step number, parts in the plan)."""
    rows = [
        (share, float((np.diff(np.r_[0.0, plan])[:k] ** 2).sum()), k, len(plan) + 1)
        for plan in plans
        for k, share in enumerate(plan, start=1)
    ]
    return np.array(rows, dtype=float).T


def deal_cost(
    total: np.ndarray, n: np.ndarray, refs: np.ndarray, late_state: np.ndarray,
    tol: np.ndarray, vat: np.ndarray, p: Params, instalment: np.ndarray | None = None,
    sq: np.ndarray | None = None, edge_only: np.ndarray | None = None,
) -> np.ndarray:  # fmt: skip
    """Cost of each deal from its orders' total share, count, references and later parts
    (``late_state``, see ``_late_state``); ``instalment`` marks deals whose orders are equal
    instalments with the next not yet due (a state, not a shortfall); ``sq`` is the sum of the
    orders' squared shares, for telling parts equal to the cent (see ``equal_parts``)."""
    matched, dev, which = fit(total, tol, vat, p)
    instalment = np.zeros(np.shape(total), dtype=bool) if instalment is None else instalment
    instalment = instalment & ~matched
    partial = np.where(total < 1, 0.5 + 0.5 * (1 - total), 0.6 + 0.4 * np.minimum(total - 1, 1))
    partial = np.where(instalment, INSTALMENT_COST, partial)
    implausible = ((total < p.min_share) | (total > p.max_share)) & (refs == 0) & ~instalment
    if not p.unnamed_over:
        implausible |= (total > 1) & ~matched & (n > refs)
    fitted = 0.2 * np.where(np.isfinite(dev), dev, 0) + np.asarray(VARIANT_COST)[which]
    fitted = fitted - EXACT_BONUS * (dev <= EXACT_DEVIATION)  # dev is inf where none matches
    cost = np.where(matched, fitted, partial)
    short = ~matched & (total >= p.min_share) & (total < 1) & ~instalment
    late = late_state < 0
    broken = (late_state > 0) | (late & ~matched & ~short & ~instalment)
    cost = cost + implausible * IMPLAUSIBLE + broken * LATE_UNMATCHED + ORDER_COST * (n - refs)
    cost = cost + (late & short) * LATE_SHORT
    if edge_only is not None:
        # orders past the window only: they must equal the deal to the cent, or be parts equal
        # to the cent that make it up; a total merely within tolerance so late is as likely an
        # unrelated order of a round amount
        certain = dev <= EXACT_DEVIATION
        if sq is not None:
            certain |= matched & equal_parts(total, n, sq)
        cost = cost + edge_only * (EDGE_COST + LATE_UNMATCHED * ~certain)
    if p.instalments and sq is not None:
        cost = cost - PARTS_BONUS * (equal_parts(total, n, sq) & (matched | instalment))
    return np.where(n == 0, NONE_COST, cost)


def equal_parts(total: np.ndarray, n: np.ndarray, sq: np.ndarray) -> np.ndarray:
    """Two or more orders equal to the cent: in a business that bills in instalments, the parts
    of one deal (an unrelated order of the very same amount is a rare coincidence), so an
    instalment is not taken from its deal to make up another deal's total."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
        spread = sq / n - mean**2
    return (n >= 2) & (spread <= (EQUAL_TO_CENT * mean) ** 2)


_FIELDS = ("share", "ref", "late", "blocked", "lag", "signed_lag", "edge")


def _evaluate(
    asg: np.ndarray, dense: np.ndarray, tol: np.ndarray, vat: np.ndarray, p: Params,
    age: np.ndarray | None = None,
) -> np.ndarray:  # fmt: skip
    """Cost (B, K) of K solutions per component: ``asg`` (B, K, nO) names each order's local deal
    (nD = none); ``tol``, ``vat`` and ``age`` are (B, nD) per local deal."""
    b, k, no = asg.shape
    nd = dense.shape[2] - 1
    cell = (
        (np.arange(b)[:, None, None] * k + np.arange(k)[None, :, None]) * (nd + 1) + asg
    ).ravel()
    size = b * k * (nd + 1)
    # the pair values of each (solution, order): one flat index into every field of ``dense``
    flat = ((np.arange(b)[:, None, None] * (nd + 1) + asg) * no + np.arange(no)).ravel()
    values = [np.take(dense[f].ravel(), flat) for f in range(len(_FIELDS))]

    def per_deal(f: int) -> np.ndarray:
        return np.bincount(cell, weights=values[f], minlength=size).reshape(b, k, nd + 1)

    total, refs, late, blocked, lag = (per_deal(f) for f in range(5))
    edge = per_deal(6)
    count = np.bincount(cell, minlength=size).reshape(b, k, nd + 1)
    late_state = _late_state(
        asg, values[2] > 0, values[6] > 0, values[5], late, edge, count, nd, p
    )
    instalment, sq = None, None
    if p.instalments:
        sq = np.bincount(cell, weights=values[0] ** 2, minlength=size).reshape(b, k, nd + 1)
        sq = sq[:, :, :nd]
    if sq is not None and age is not None:
        parts = instalment_parts(
            total[:, :, :nd], count[:, :, :nd], sq, tol[:, None, :], vat[:, None, :], p
        )
        in_time = next_instalment_in_time(_last_lag(asg, values[5], nd), age[:, None, :], p)
        instalment = (parts > 0) & in_time
    # only orders past the window: the first of them stands in for the in-window order
    edge_only = (((count - late) == 0) & (edge > 0))[:, :, :nd]
    cost = deal_cost(
        total[:, :, :nd], count[:, :, :nd], refs[:, :, :nd], late_state,
        tol[:, None, :], vat[:, None, :], p, instalment, sq, edge_only,
    )  # fmt: skip
    bad = blocked[:, :, :nd].sum(axis=2) > 0
    return (
        cost.sum(axis=2)
        - REF_BONUS * refs[:, :, :nd].sum(axis=2)
        + DAY_COST * lag[:, :, :nd].sum(axis=2)
        + 1e6 * bad
    )


def _last_lag(asg: np.ndarray, lag: np.ndarray, nd: int) -> np.ndarray:
    """(B, K, nD): days from each deal's close to its latest order in each solution."""
    b, k, no = asg.shape
    cells = (np.arange(b * k) * (nd + 1))[:, None] + asg.reshape(b * k, no)
    lag = lag.reshape(b * k, no)
    last = np.full(b * k * (nd + 1), -1e9)
    for j in range(no):  # one order of each solution at a time: its cell is unique per row
        c = cells[:, j]
        last[c] = np.maximum(last[c], lag[:, j])
    return last.reshape(b, k, nd + 1)[:, :, :nd]


def next_instalment_in_time(last: np.ndarray, age: np.ndarray, p: Params) -> np.ndarray:
    """Is the next instalment of a deal not yet missing? It is expected the typical learned gap
    after the last part, but comes as late as the longest learned gap (gaps vary from part to
    part, so a deal's own earlier gaps do not date the next one): missing after ``p.due_days``,
    else once that gap and the grace period have passed."""
    due = p.latest_gap + p.grace_days if p.due_days is None else p.due_days
    return age - last <= due


def _late_state(
    asg: np.ndarray, is_late: np.ndarray, is_edge: np.ndarray, lag: np.ndarray, late: np.ndarray,
    edge: np.ndarray, count: np.ndarray, nd: int, p: Params,
) -> np.ndarray:  # fmt: skip
    """Per deal: 1 when a later part breaks the chain (it must follow an order inside the window
    or by its edge, each later part within ``p.chain_days`` of the one before), -1 when it has a
    later part that is fine only if the deal's total matches, 0 without later parts."""
    b, k, no = asg.shape
    if not late.any():
        return np.zeros((b, k, nd), dtype=np.int64)
    rows = np.arange(b * k) * (nd + 1)
    cells = rows[:, None] + asg.reshape(b * k, no)
    is_late, lag = is_late.reshape(b * k, no), lag.reshape(b * k, no)
    is_edge = is_edge.reshape(b * k, no)
    first = np.full(b * k * (nd + 1), -1e9)  # latest order inside the window, per deal
    by_edge = np.full(b * k * (nd + 1), -1e9)  # latest by the edge: the first without those
    last = np.full(b * k * (nd + 1), -1e9)  # latest later part
    for j in range(no):  # one order of each solution at a time: its cell is unique per row
        c, lj, lt = cells[:, j], lag[:, j], is_late[:, j]
        window, later = first[c], last[c]
        first[c] = np.where(lt, window, np.maximum(window, lj))
        by_edge[c] = np.where(is_edge[:, j], np.maximum(by_edge[c], lj), by_edge[c])
        last[c] = np.where(lt, np.maximum(later, lj), later)
    first = np.where(first > -1e9, first, by_edge)
    first, last = first.reshape(b, k, nd + 1), last.reshape(b, k, nd + 1)
    has_late = late > 0
    in_window = ((count - late) > 0) | (edge > 0)
    chained = last <= first + p.chain_days * late
    state = np.where(has_late, np.where(in_window & chained, -1, 1), 0)
    return state[:, :, :nd]


def _useful(pairs: pd.DataFrame, p: Params) -> np.ndarray:
    """Pairs that can be part of a best solution. Without a reference, an order above
    ``max_share`` of a deal would make it implausible (worse than no order), and so would one
    above the deal with tax and tolerance where unnamed orders may not over-bill; a later part
    is no use when it is larger than that top, when the deal has no order inside the window to
    follow, when all the deal's candidate orders together fall short of the plausible share, or
    when it comes later than the chain of later parts could reach."""
    share = pairs["share"].to_numpy()
    ref = pairs["ref"].to_numpy()
    d = pairs["d"].to_numpy()
    late = pairs["late"].to_numpy()
    edge = pairs["edge"].to_numpy() if "edge" in pairs else np.zeros(len(pairs), dtype=bool)
    top = (1 + p.vat[d] if p.orders_with_tax else 1.0) * (1 + p.tol[d])
    # above the top an order only over-bills: a later part never, one in the window if allowed
    below_top = (~late & p.unnamed_over) | (share <= top)
    keep = np.isfinite(share) & (ref | ((share <= p.max_share) & below_top))
    if late.any():
        n = int(d.max()) + 1
        early = keep & ~late
        has_early = np.bincount(d[early], minlength=n) > 0
        reach = np.bincount(d[keep], weights=share[keep], minlength=n)
        lag = pairs["lag"].to_numpy()
        last_early = np.full(n, -(10**9), dtype=np.int64)
        np.maximum.at(last_early, d[early], lag[early])
        # a deal without an order inside the window may start from one by its edge
        by_edge = keep & edge & ~has_early[d]
        np.maximum.at(last_early, d[by_edge], lag[by_edge])
        has_early |= np.bincount(d[by_edge], minlength=n) > 0
        n_late = np.bincount(d[keep & late], minlength=n)
        chain = last_early + p.chain_days * n_late
        fits = has_early[d] & (reach[d] >= p.min_share * (1 - 1e-9)) & (lag <= chain[d])
        keep &= ~late | fits
    return keep


@dataclass(frozen=True)
class Assignment:
    deal_of_order: np.ndarray  # per order: won-deal index or -1
    ambiguous: np.ndarray  # per won deal


@dataclass
class _Group:
    """Components of one shape (nD deals, nO orders, up to m - 1 candidate deals per order)."""

    nd: int
    no: int
    m: int
    comps: np.ndarray
    pairs: pd.DataFrame  # sorted by component: c, dl, ol (local numbers), slot, pair values
    deals: np.ndarray  # (B, nD) won-deal index per local deal
    orders: np.ndarray  # (B, nO) order index per local order
    p: Params
    out: Assignment


def assign(
    pairs: pd.DataFrame,
    n_deals: int,
    n_orders: int,
    p: Params,
    *,
    previous: Assignment | None = None,
    only: np.ndarray | None = None,
) -> Assignment:
    """The deal each order pays (or -1), and which deals' orders are ambiguous. With
    ``previous`` and ``only`` (won-deal indices): the groups holding those deals solved again,
    ``previous`` kept for the rest."""
    if previous is None:
        out = Assignment(np.full(n_orders, -1, dtype=np.int64), np.zeros(n_deals, dtype=bool))
    else:
        out = Assignment(previous.deal_of_order.copy(), previous.ambiguous.copy())
    pairs = pairs.loc[_useful(pairs, p)]
    if pairs.empty:
        return out
    d, o = pairs["d"].to_numpy(), pairs["o"].to_numpy()
    graph = coo_matrix((np.ones(len(d)), (d, n_deals + o)), shape=(n_deals + n_orders,) * 2)
    _, label = connected_components(graph, directed=False)
    comp = label[d]
    if only is not None:
        again = np.isin(comp, label[only])
        pairs, d, o, comp = pairs.loc[again], d[again], o[again], comp[again]
        out.deal_of_order[o] = -1
        out.ambiguous[d] = False
        if pairs.empty:
            return out
    # local numbers: the deals and the orders of a component counted in index order
    deals_in = pd.DataFrame({"c": comp, "x": d}).drop_duplicates().sort_values(["c", "x"])
    orders_in = pd.DataFrame({"c": comp, "x": o}).drop_duplicates().sort_values(["c", "x"])
    for frame in (deals_in, orders_in):
        frame["local"] = frame.groupby("c").cumcount().to_numpy()
    table = pairs.assign(
        c=comp,
        dl=pd.Series(deals_in["local"].to_numpy(), index=deals_in["x"].to_numpy())[d].to_numpy(),
        ol=pd.Series(orders_in["local"].to_numpy(), index=orders_in["x"].to_numpy())[o].to_numpy(),
    ).sort_values(["c", "ol", "dl"], kind="stable")
    table["slot"] = table.groupby(["c", "ol"]).cumcount().to_numpy()
    shape = pd.DataFrame(
        {
            "nd": deals_in.groupby("c").size(),
            "no": orders_in.groupby("c").size(),
            "m": table.groupby("c")["slot"].max() + 2,
        }
    )
    # rows of each shape together (components in order within it), so a shape is one slice
    shape_of = np.full(int(comp.max()) + 1, -1, dtype=np.int64)
    shape_of[shape.index.to_numpy()] = shape.groupby(["nd", "no", "m"]).ngroup().to_numpy()
    sliced = [
        _by_shape(frame, shape_of) for frame in (table, deals_in, orders_in)
    ]  # fmt: skip
    for (nd, no, m), comps in shape.groupby(["nd", "no", "m"]).groups.items():
        comps = np.sort(np.asarray(comps))
        rows, deal_rows, order_rows = (part(shape_of[comps[0]]) for part in sliced)
        group = _Group(
            int(nd),
            int(no),
            int(m),
            comps,
            rows,
            _members(deal_rows, comps, int(nd)),
            _members(order_rows, comps, int(no)),
            p,
            out,
        )
        if m**no <= MAX_ENUMERATED:
            _solve_batched(group)
        else:
            _solve_searched(group)
    return out


def _by_shape(frame: pd.DataFrame, shape_of: np.ndarray):
    """A function from a shape number to the rows of ``frame`` (which has ``c``) of that shape,
    in their order in ``frame``: one stable sort instead of a search per shape."""
    key = shape_of[frame["c"].to_numpy()]
    order = np.argsort(key, kind="stable")
    sorted_frame, sorted_key = frame.iloc[order], key[order]

    def part(shape: int) -> pd.DataFrame:
        lo, hi = np.searchsorted(sorted_key, [shape, shape + 1])
        return sorted_frame.iloc[lo:hi]

    return part


def _dense(rows: pd.DataFrame, pos: np.ndarray, b: int, nd: int, no: int) -> np.ndarray:
    """Pair values as one (fields, B, nD + 1, nO) array, fields in ``_FIELDS`` order; deal nD is
    "none" (all 0). ``blocked`` marks deal–order pairs that are no candidate."""
    out = np.zeros((len(_FIELDS), b, nd + 1, no))
    out[_FIELDS.index("blocked"), :, :nd] = 1
    at = (pos, rows["dl"].to_numpy(), rows["ol"].to_numpy())
    lag = rows["lag"].to_numpy()
    for name, values in (
        ("share", rows["share"].to_numpy()),
        ("ref", rows["ref"].to_numpy()),
        ("late", rows["late"].to_numpy()),
        ("blocked", 0),
        ("lag", np.abs(lag)),
        ("signed_lag", lag),
        ("edge", rows["edge"].to_numpy() if "edge" in rows else 0),
    ):
        out[_FIELDS.index(name)][at] = values
    return out


def _options(rows: pd.DataFrame, pos: np.ndarray, b: int, g: _Group) -> np.ndarray:
    """(B, nO, m): each order's candidate deals, then none (nD) in the slots left."""
    opt = np.full((b, g.no, g.m), g.nd, dtype=np.int64)
    opt[pos, rows["ol"].to_numpy(), rows["slot"].to_numpy()] = rows["dl"].to_numpy()
    return opt


def _members(rows: pd.DataFrame, comps: np.ndarray, size: int) -> np.ndarray:
    """(B, size) global indices of each component's deals (or orders), in local order; ``rows``
    are those of the components ``comps`` (sorted)."""
    order = np.searchsorted(comps, rows["c"].to_numpy())
    out = np.empty((len(comps), size), dtype=np.int64)
    out[order, rows["local"].to_numpy()] = rows["x"].to_numpy()
    return out


def _choose(g: _Group, at: slice | np.ndarray, solutions: np.ndarray, cost: np.ndarray) -> None:
    """Record the cheapest of each component's ``solutions`` (B, K, nO); flag the deals whose
    orders differ in another solution that is as cheap."""
    deals, orders = g.deals[at], g.orders[at]
    weights = 2 ** np.arange(g.no)
    sets = np.stack([((solutions == k) * weights).sum(axis=2) for k in range(g.nd)], axis=2)
    rows = np.arange(len(cost))
    best = cost.argmin(axis=1)
    near = cost <= cost[rows, best][:, None] + EPS
    differs = sets != sets[rows, best][:, None, :]  # (B, K, nD)
    g.out.ambiguous[deals] |= (near[:, :, None] & differs).any(axis=1)
    chosen = solutions[rows, best]
    local = np.minimum(chosen, g.nd - 1)
    g.out.deal_of_order[orders] = np.where(chosen < g.nd, np.take_along_axis(deals, local, 1), -1)


def _solve_batched(g: _Group) -> None:
    """Every combination of each order's candidate deals (or none), for many components at once."""
    k = g.m**g.no
    digits = (np.arange(k)[:, None] // (g.m ** np.arange(g.no))[None, :]) % g.m  # (K, nO)
    batch = max(1, CELLS_PER_BATCH // (k * g.no * max(g.nd, 1)))
    c_all = g.pairs["c"].to_numpy()
    position = pd.Series(np.arange(len(g.comps)), index=g.comps)
    for start in range(0, len(g.comps), batch):
        part = g.comps[start : start + batch]
        # pairs are sorted by component, so a batch of components is one slice of them
        lo, hi = np.searchsorted(c_all, part[0], "left"), np.searchsorted(c_all, part[-1], "right")
        rows = g.pairs.iloc[lo:hi]
        pos = position[rows["c"].to_numpy()].to_numpy() - start
        dense = _dense(rows, pos, len(part), g.nd, g.no)
        options = _options(rows, pos, len(part), g)
        solutions = options[:, np.arange(g.no)[None, :], digits]  # (B, K, nO)
        at = slice(start, start + len(part))
        cost = _evaluate(
            solutions, dense, g.p.tol[g.deals[at]], g.p.vat[g.deals[at]], g.p, _age(g, at)
        )
        _choose(g, at, solutions, cost)


def _moves(options: np.ndarray, nd: int) -> tuple[np.ndarray, np.ndarray]:
    """Moves of a local search as (K, 2) orders and (K, 2) targets: every order to each of its
    options, and every two orders together to an option they share (a split whose parts only
    complete the deal together; -1 = no second order)."""
    no, m = options.shape
    which = np.repeat(np.arange(no), m)
    to = options.ravel()
    i, j = np.triu_indices(len(to), k=1)
    pair = (to[i] == to[j]) & (which[i] != which[j])
    i, j = i[pair], j[pair]
    single = np.stack([which, np.full(len(to), -1)], axis=1)
    double = np.stack([which[i], which[j]], axis=1)
    targets = np.r_[np.stack([to, to], axis=1), np.stack([to[i], to[j]], axis=1)]
    del nd
    return np.r_[single, double], targets


def _age(g: _Group, at: slice | np.ndarray) -> np.ndarray | None:
    return None if g.p.age is None else g.p.age[g.deals[at]]


def _seeds(dense: np.ndarray, nd: int) -> list[np.ndarray]:
    """Starting points of the local search: each order on the deal it names (if any); and that,
    plus each other order of the same amount as a named order of a deal on that deal (equal
    instalments that name their deal on the first part only). A greedy search from the first
    alone lets a deal grab another deal's instalment that happens to complete it."""
    ref = dense[_FIELDS.index("ref"), 0, :nd]
    share = dense[_FIELDS.index("share"), 0, :nd]
    blocked = dense[_FIELDS.index("blocked"), 0, :nd] > 0
    named = ref.max(axis=0) > 0
    start = np.full(ref.shape[1], nd)
    start[named] = ref.argmax(axis=0)[named]
    # per deal, the share of one of its named orders (NaN without one)
    part = np.where(ref > 0, share, np.nan)
    with np.errstate(invalid="ignore"):
        named_share = np.nanmax(np.where(np.isfinite(part), part, -np.inf), axis=1)
    named_share = np.where(np.isfinite(named_share), named_share, np.nan)
    equal = (np.abs(share - named_share[:, None]) <= EQUAL_PART * named_share[:, None]) & ~blocked
    follower = equal.any(axis=0) & ~named
    seeded = start.copy()
    seeded[follower] = equal.argmax(axis=0)[follower]
    return [start] if not follower.any() else [start, seeded]


def _instalment_seed(
    dense: np.ndarray, nd: int, start: np.ndarray, tol: np.ndarray, vat: np.ndarray, p: Params
) -> np.ndarray | None:
    """``start`` plus, per deal, a set of its candidate orders equal to the cent (and at most one
    other) that completes it with its named orders: instalments or milestones that name no deal,
    or only the first. Sets are taken best fit first, each order once. A search that moves one or two orders at a time
    cannot reach this from a deal holding one part and a stray order of the right total."""
    share = dense[_FIELDS.index("share"), 0, :nd]
    blocked = dense[_FIELDS.index("blocked"), 0, :nd] > 0
    named_to = np.where(start < nd, start, -1)
    found: list[tuple[float, int, np.ndarray]] = []
    for i in range(nd):
        cols = np.flatnonzero(~blocked[i] & ((named_to == -1) | (named_to == i)))
        if len(cols) < 2:
            continue
        values = share[i, cols]
        order = np.argsort(values)
        ordered = values[order]
        cuts = np.flatnonzero(np.diff(ordered) > 2 * EQUAL_TO_CENT * ordered[1:]) + 1
        own = np.flatnonzero(named_to == i)
        for group in np.split(order, cuts):
            if len(group) < 2:
                continue
            # the equal parts alone, or with one other order (the deposit of a milestone plan)
            sets = [cols[group]] + [np.r_[cols[group], c] for c in np.delete(cols, group)]
            for members in sets:
                total = share[i, np.union1d(members, own)].sum()
                matched, dev, _ = fit(np.array([total]), tol[i], vat[i], p)
                if matched[0]:
                    found.append((float(dev[0]), i, members))
    if not found:
        return None
    seed, taken = start.copy(), np.zeros(len(start), dtype=bool)
    for _, i, members in sorted(found, key=lambda f: f[0]):
        if not taken[members].any():
            seed[members], taken[members] = i, True
    return seed


def _search(
    current: np.ndarray,
    dense: np.ndarray,
    moves_of: tuple[np.ndarray, np.ndarray],
    tol: np.ndarray,
    vat: np.ndarray,
    p: Params,
    nd: int,
    age: np.ndarray | None,
) -> tuple[np.ndarray, float, np.ndarray]:
    """Local search from ``current``: (solution, its cost, local deals left ambiguous)."""
    which, to = moves_of
    first, second = which[:, 0], which[:, 1]
    has_second = second >= 0
    singles = np.flatnonzero(~has_second)
    cost = _evaluate(current[None, None], dense, tol, vat, p, age)[0, 0]
    ambiguous = np.zeros(0, dtype=np.int64)
    for _ in range(4 * len(current) + 10):
        # single moves first; pairs only when no single move helps (they are many more)
        for pick in (singles, np.arange(len(first))):
            moves = np.repeat(current[None], len(pick), axis=0)
            k = np.arange(len(pick))
            moves[k, first[pick]] = to[pick, 0]
            two = has_second[pick]
            moves[k[two], second[pick][two]] = to[pick][two, 1]
            costs = _evaluate(moves[None], dense, tol, vat, p, age)[0]
            best = costs.argmin()
            if costs[best] < cost - EPS:
                break
        if costs[best] >= cost - EPS:
            changed = (moves != current[None]).any(axis=1)
            tie = changed & (costs <= cost + EPS)
            hit = np.r_[current[first[pick][tie]], to[pick][tie, 0]]
            ambiguous = hit[hit < nd]
            break
        current, cost = moves[best], costs[best]
    return current, float(cost), ambiguous


def _solve_searched(g: _Group) -> None:
    """Components too large to enumerate, one by one: from each seed (see ``_seeds``), the best
    move of one order, or of two orders to one deal, until none improves; the cheapest result
    wins, and an equally good move left means the deals it touches are ambiguous."""
    log.debug("%d components of %d deals and %d orders: local search", len(g.comps), g.nd, g.no)
    for i, c in enumerate(g.comps):
        rows = g.pairs.loc[g.pairs["c"].to_numpy() == c]
        pos = np.zeros(len(rows), dtype=np.int64)
        dense = _dense(rows, pos, 1, g.nd, g.no)
        options = _options(rows, pos, 1, g)[0]
        moves_of = _moves(options, g.nd)
        at = np.array([i])
        tol, vat = g.p.tol[g.deals[at]], g.p.vat[g.deals[at]]
        seeds = _seeds(dense, g.nd)
        if g.p.instalments:
            extra = _instalment_seed(dense, g.nd, seeds[0], tol[0], vat[0], g.p)
            if extra is not None:
                seeds.append(extra)
        results = [
            _search(seed, dense, moves_of, tol, vat, g.p, g.nd, _age(g, at)) for seed in seeds
        ]
        current, _, ambiguous = min(results, key=lambda r: r[1])
        g.out.ambiguous[g.deals[i][ambiguous]] = True
        local = np.minimum(current, g.nd - 1)
        g.out.deal_of_order[g.orders[i]] = np.where(current < g.nd, g.deals[i][local], -1)
