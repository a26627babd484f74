"""Revenue leakage: won CRM deals against ERP orders. Pure: frames and rules in, findings out.

prepare (entities, base amounts, scope) → candidate pairs (references, date window) → global
assignment per group of deals and orders → kinds and reasons; plus orphan orders and credit holds.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from recon.checks.amounts import floats
from recon.checks.leakage.assign import Assignment, Params, assign, instalment_parts
from recon.checks.leakage.classify import classify_deals
from recon.checks.leakage.due import Due, learn_due
from recon.checks.leakage.evidence import EVIDENCE_COLUMNS, order_evidence
from recon.checks.leakage.findings import (
    FINDING_COLUMNS,
    KINDS,
    LEAKAGE_KINDS,
    empty_findings,
    order_counts,
)
from recon.checks.leakage.habits import Habits, learn
from recon.checks.leakage.others import credit_holds, orphan_orders
from recon.checks.leakage.pairs import candidate_pairs, named_pairs
from recon.checks.leakage.prepare import Frames, Prepared, left_out_note, prepare
from recon.checks.leakage.refs import parse_deal_refs
from recon.checks.leakage.taxes import TaxReadings, over_billing, tax_readings
from recon.checks.leakage.totals import new_leakage, value_at_risk
from recon.config.leakage import LeakageRules

__all__ = [
    "EVIDENCE_COLUMNS",
    "FINDING_COLUMNS",
    "KINDS",
    "LEAKAGE_KINDS",
    "LINK_COLUMNS",
    "Frames",
    "Habits",
    "LeakageResult",
    "empty_findings",
    "find_leakage",
    "link_orders",
    "linked_orders",
    "new_leakage",
    "parse_deal_refs",
    "value_at_risk",
]

log = logging.getLogger(__name__)

WON_STAGES = ("closedwon", "Closed Won", "won", "Won")


@dataclass(frozen=True)
class LeakageResult:
    findings: pd.DataFrame  # FINDING_COLUMNS, one row per finding
    as_of: dt.date
    base_currency: str
    go_live: dt.date | None
    go_live_source: str
    counts: dict[str, int]
    taxes: str = ""  # which tax readings were allowed, and why (see checks/leakage/taxes.py)
    over_billing: str = ""  # whether orders naming no deal may over-bill it, and why
    # what was learned, from how many deals; "won deals left out": those not compared, and why
    habits: dict[str, str] = field(default_factory=dict)
    # won deals and orders of one amount across records the matcher left apart (EVIDENCE_COLUMNS)
    evidence: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {c: pd.Series(dtype=t) for c, t in EVIDENCE_COLUMNS.items()}
        )
    )
    # the deal each live order pays (LINK_COLUMNS) and the tax readings allowed: month-end of the
    # same run reads them instead of assigning again
    links: pd.DataFrame = field(default_factory=lambda: _links_frame({}))
    tax_readings: TaxReadings | None = None


def _tolerance(prep_won: pd.DataFrame, rules: LeakageRules) -> np.ndarray:
    """The amount tolerance of each won deal as a share of it."""
    base = floats(prep_won["deal_amount_base"])
    tol = rules.amount_tolerance
    with np.errstate(invalid="ignore", divide="ignore"):
        share = tol.allowed(base) / base
    # without a base amount (no FX rate) only the percent part can apply
    return np.where(np.isfinite(share), share, (tol.percent or 0) / 100)


def _whole_named(
    pairs: pd.DataFrame, tol: np.ndarray, vat: np.ndarray, habits: Habits
) -> pd.DataFrame:
    """``pairs`` less the named pairs of deals whose named orders read as some of their equal
    instalments: a partial set says nothing of how totals are read (two of three VAT-inclusive
    instalments total the deal less VAT by chance)."""
    if not habits.instalments:
        return pairs
    named = pairs.loc[pairs["ref"].to_numpy() & np.isfinite(pairs["share"].to_numpy())]
    share = named["share"]
    grouped = pd.DataFrame({"d": named["d"], "s": share, "sq": share**2}).groupby("d")
    n, sums = grouped.size(), grouped.sum()
    d = n.index.to_numpy()
    every = Params(
        tol=tol, vat=vat, min_share=0.0, max_share=0.0, chain_days=0, orders_with_tax=True,
        deals_with_tax=True, instalments=True, max_parts=habits.max_parts,
    )  # fmt: skip
    parts = instalment_parts(
        sums["s"].to_numpy(), n.to_numpy(), sums["sq"].to_numpy(), tol[d], vat[d], every
    )
    partial = d[parts > 0]
    drop = pairs["ref"].to_numpy() & np.isin(pairs["d"].to_numpy(), partial)
    return pairs.loc[~drop]


def _params(
    prep_won: pd.DataFrame,
    rules: LeakageRules,
    pairs: pd.DataFrame,
    habits: Habits,
    as_of: pd.Timestamp,
) -> Params:
    share = _tolerance(prep_won, rules)
    vat = prep_won["vat"].to_numpy(dtype=float)
    whole = _whole_named(pairs, share, vat, habits)
    taxes = tax_readings(
        whole, share, vat, rules.taxes.orders_may_include_tax, rules.taxes.deals_may_include_tax
    )
    unnamed_over, over_note = over_billing(
        whole, share, vat, taxes, rules.assignment.unnamed_orders_may_over_bill
    )
    return Params(
        tol=share,
        vat=vat,
        min_share=rules.assignment.min_share_percent / 100,
        max_share=rules.assignment.max_share_percent / 100,
        chain_days=habits.window.gap,
        orders_with_tax=taxes.orders_with_tax,
        deals_with_tax=taxes.deals_with_tax,
        taxes=taxes,
        unnamed_over=unnamed_over,
        over_note=over_note,
        instalments=habits.instalments,
        max_parts=habits.max_parts,
        typical_gap=habits.typical_gap,
        latest_gap=habits.window.gap,
        plans=tuple(habits.schedules),
        equal_counts=habits.equal_counts,
        grace_days=rules.grace_period.days,
        age=(as_of - prep_won["close_date"]).dt.days.to_numpy(dtype=float),
    )


@dataclass(frozen=True)
class _Solved:
    """The assignment and everything it was computed from."""

    prep: Prepared
    pairs: pd.DataFrame
    params: Params
    chosen: Assignment
    habits: Habits
    before_go_live: np.ndarray  # per won deal: closed before a go-live that brought no orders
    evidence: pd.DataFrame  # deal–order coincidences across unlinked records (EVIDENCE_COLUMNS)
    evidence_hint: pd.Series  # won-deal index → the candidate named on its finding
    due: Due | None = None  # when a next instalment is missing, learned (instalments on)


def _solve(
    frames: Frames,
    rules: LeakageRules,
    *,
    as_of: dt.date | None,
    base_currency: str,
    won_stages: tuple[str, ...],
    cancelled_statuses: tuple[str, ...],
) -> _Solved:
    """Prepare, pair and assign, as of ``as_of`` (else the rules' as_of, else today), in the
    rules' base currency (else ``base_currency``)."""
    prep = prepare(
        frames,
        rules,
        as_of=as_of or rules.as_of or dt.date.today(),
        base=(rules.currency.base or base_currency).upper(),
        won_stages=won_stages,
        cancelled_statuses=cancelled_statuses,
    )
    named = named_pairs(prep, rules, frames.fx_rates)
    vat = prep.won["vat"].to_numpy(dtype=float)
    habits = learn(prep, named, _tolerance(prep.won, rules), vat, rules)
    for key, note in habits.notes.items():
        log.info("leakage habit %s: %s", key, note)
    before = np.zeros(len(prep.won), dtype=bool)
    if prep.go_live is not None and not habits.pre_go_live_orders:
        before = (prep.won["close_date"] < prep.go_live).to_numpy(dtype=bool)
    evidence = order_evidence(
        prep, habits.window, before, rules.order_evidence.min_name_similarity, frames.xref
    )
    if rules.order_evidence.link:
        prep = evidence.prep
    pairs = candidate_pairs(prep, habits.window, rules, frames.fx_rates, named, skip=before)
    params = _params(prep.won, rules, pairs, habits, prep.as_of)
    chosen = assign(pairs, len(prep.won), len(prep.orders), params)
    due = None
    if params.instalments:
        chosen, params, due = _with_due(pairs, chosen, params, habits, rules, len(prep.orders))
    table = evidence.pairs
    if not rules.order_evidence.link:
        table = table.assign(linked=False)
    return _Solved(prep, pairs, params, chosen, habits, before, table, evidence.hint, due)


def _with_due(
    pairs: pd.DataFrame,
    chosen: Assignment,
    params: Params,
    habits: Habits,
    rules: LeakageRules,
    n_orders: int,
) -> tuple[Assignment, Params, Due]:
    """The deals ``chosen`` leaves billed in part tell when a missing instalment is likelier
    than a late one (``learn_due``); where that is sooner than the latest gap, the groups with a
    deal whose candidate order falls in between are assigned again with it (no other deal can
    weigh differently)."""
    due = learn_due(
        pairs, chosen, params, habits.instalment_gaps, rules.grace_period.days,
        rules.under_billed_below_percent / 100,
    )  # fmt: skip
    latest = params.latest_gap + params.grace_days
    if due.days >= latest:
        return chosen, params, due
    params = replace(params, due_days=due.days)
    d = pairs["d"].to_numpy()
    age = params.age if params.age is not None else np.zeros(len(params.tol))
    since = age[d] - pairs["lag"].to_numpy()
    moved = np.unique(d[(since > due.days) & (since <= latest)])
    chosen = assign(pairs, len(params.tol), n_orders, params, previous=chosen, only=moved)
    return chosen, params, due


LINK_COLUMNS = {
    "deal_id": "string",
    "order_id": "string",
    "by_reference": "bool",
    "lag_days": "int64",
    "share": "float64",
    "ambiguous": "bool",
}


def link_orders(
    frames: Frames,
    rules: LeakageRules,
    *,
    as_of: dt.date | None = None,
    base_currency: str = "USD",
    won_stages: tuple[str, ...] = WON_STAGES,
    cancelled_statuses: tuple[str, ...] = (),
) -> pd.DataFrame:
    """The deal each live order pays, as the leakage check assigns it: one row per linked
    (deal, order) with ``LINK_COLUMNS`` — whether the order names the deal, days from the close to
    the order, the order as a share of the deal, and whether the deal's orders are ambiguous.
    Won deals closed after ``as_of``, cancelled orders and orders paying no deal are left out."""
    return linked_orders(
        frames,
        rules,
        as_of=as_of,
        base_currency=base_currency,
        won_stages=won_stages,
        cancelled_statuses=cancelled_statuses,
    )[0]


def linked_orders(
    frames: Frames,
    rules: LeakageRules,
    *,
    as_of: dt.date | None = None,
    base_currency: str = "USD",
    won_stages: tuple[str, ...] = WON_STAGES,
    cancelled_statuses: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, TaxReadings]:
    """``link_orders``, and the tax readings the assignment allowed (``auto`` decided), so that
    month-end reads VAT differences as leakage did."""
    solved = _solve(
        frames,
        rules,
        as_of=as_of,
        base_currency=base_currency,
        won_stages=won_stages,
        cancelled_statuses=cancelled_statuses,
    )
    return _links(solved), _readings(solved.params)


def _links(solved: _Solved) -> pd.DataFrame:
    """One row per (deal, order) of the assignment, ``LINK_COLUMNS``."""
    prep, pairs, chosen = solved.prep, solved.pairs, solved.chosen
    mine = pairs.loc[chosen.deal_of_order[pairs["o"].to_numpy()] == pairs["d"].to_numpy()]
    d, o = mine["d"].to_numpy(), mine["o"].to_numpy()
    return _links_frame(
        {
            "deal_id": prep.won["deal_id"].to_numpy()[d],
            "order_id": prep.orders["order_id"].to_numpy()[o],
            "by_reference": mine["ref"].to_numpy(dtype=bool),
            "lag_days": mine["lag"].to_numpy(dtype=np.int64),
            "share": mine["share"].to_numpy(dtype=float),
            "ambiguous": chosen.ambiguous[d],
        }
    )


def _links_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    if not columns:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in LINK_COLUMNS.items()})
    return pd.DataFrame(columns).astype(LINK_COLUMNS)


def _readings(params: Params) -> TaxReadings:
    if params.taxes is not None:
        return params.taxes
    return TaxReadings(params.orders_with_tax, params.deals_with_tax, "")


def _notes(solved: _Solved) -> dict[str, str]:
    """The habits learned, and the won deals left out (shown with them in every output)."""
    notes = dict(solved.habits.notes)
    if solved.due is not None:
        notes["instalment_overdue"] = solved.due.note
    left_out = left_out_note(solved.prep.left_out)
    if left_out:
        notes[LEFT_OUT] = left_out
    return notes


LEFT_OUT = "won deals left out"


def find_leakage(
    frames: Frames,
    rules: LeakageRules,
    *,
    as_of: dt.date | None = None,
    base_currency: str = "USD",
    won_stages: tuple[str, ...] = WON_STAGES,
    cancelled_statuses: tuple[str, ...] = (),
) -> LeakageResult:
    """Every leakage finding as of ``as_of`` (else the rules' as_of, else today)."""
    solved = _solve(
        frames,
        rules,
        as_of=as_of,
        base_currency=base_currency,
        won_stages=won_stages,
        cancelled_statuses=cancelled_statuses,
    )
    prep, pairs, params, chosen = solved.prep, solved.pairs, solved.params, solved.chosen
    parts = [
        classify_deals(
            prep,
            pairs,
            chosen,
            params,
            rules,
            frames.fx_rates,
            solved.habits,
            solved.before_go_live,
            solved.evidence_hint,
        ),
        orphan_orders(prep, chosen.deal_of_order, frames.fx_rates),
        credit_holds(prep, solved.habits.window.first, frames.fx_rates),
    ]
    parts = [p for p in parts if len(p)]
    findings = pd.concat(parts, ignore_index=True) if parts else empty_findings()
    findings = findings.astype(FINDING_COLUMNS)
    findings["order_count"] = order_counts(findings)
    counts = {k: int((findings["kind"] == k).sum()) for k in KINDS}
    log.info("leakage: %s", ", ".join(f"{n} {k}" for k, n in counts.items() if n))
    return LeakageResult(
        findings=findings,
        as_of=prep.as_of.date(),
        base_currency=prep.base,
        go_live=None if prep.go_live is None else prep.go_live.date(),
        go_live_source=prep.go_live_source,
        counts=counts,
        taxes=params.taxes.note if params.taxes else "",
        over_billing=params.over_note,
        habits=_notes(solved),
        evidence=solved.evidence,
        links=_links(solved),
        tax_readings=_readings(params),
    )
