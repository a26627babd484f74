"""Revenue leakage: won CRM deals against ERP orders. Pure: frames and rules in, findings out.

prepare (entities, base amounts, scope) → candidate pairs (references, date window) → global
assignment per group of deals and orders → kinds and reasons; plus orphan orders and credit holds.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recon.checks.leakage.assign import Params, assign
from recon.checks.leakage.classify import classify_deals
from recon.checks.leakage.findings import (
    FINDING_COLUMNS,
    KINDS,
    LEAKAGE_KINDS,
    empty_findings,
)
from recon.checks.leakage.others import credit_holds, orphan_orders
from recon.checks.leakage.pairs import candidate_pairs
from recon.checks.leakage.prepare import Frames, prepare
from recon.checks.leakage.refs import parse_deal_refs
from recon.checks.leakage.totals import new_leakage, value_at_risk
from recon.config.leakage import LeakageRules

__all__ = [
    "FINDING_COLUMNS",
    "KINDS",
    "LEAKAGE_KINDS",
    "Frames",
    "LeakageResult",
    "empty_findings",
    "find_leakage",
    "new_leakage",
    "parse_deal_refs",
    "value_at_risk",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeakageResult:
    findings: pd.DataFrame  # FINDING_COLUMNS, one row per finding
    as_of: dt.date
    base_currency: str
    go_live: dt.date | None
    go_live_source: str
    counts: dict[str, int]


def _params(prep_won: pd.DataFrame, rules: LeakageRules) -> Params:
    base = prep_won["deal_amount_base"].astype("float64").to_numpy(dtype=float, na_value=np.nan)
    tol = rules.amount_tolerance
    with np.errstate(invalid="ignore", divide="ignore"):
        share = tol.allowed(base) / base
    # without a base amount (no FX rate) only the percent part can apply
    share = np.where(np.isfinite(share), share, (tol.percent or 0) / 100)
    return Params(
        tol=share,
        vat=prep_won["vat"].to_numpy(dtype=float),
        min_share=rules.assignment.min_share_percent / 100,
        max_share=rules.assignment.max_share_percent / 100,
        chain_days=rules.date_window.later_part_gap_days,
        orders_with_tax=rules.taxes.orders_may_include_tax,
        deals_with_tax=rules.taxes.deals_may_include_tax,
    )


def find_leakage(
    frames: Frames,
    rules: LeakageRules,
    *,
    as_of: dt.date | None = None,
    base_currency: str = "USD",
    won_stages: tuple[str, ...] = ("closedwon", "Closed Won", "won", "Won"),
    cancelled_statuses: tuple[str, ...] = (),
) -> LeakageResult:
    """Every leakage finding as of ``as_of`` (else the rules' as_of, else today)."""
    day = as_of or rules.as_of or dt.date.today()
    base = (rules.currency.base or base_currency).upper()
    prep = prepare(
        frames,
        rules,
        as_of=day,
        base=base,
        won_stages=won_stages,
        cancelled_statuses=cancelled_statuses,
    )
    pairs = candidate_pairs(prep, rules, frames.fx_rates)
    params = _params(prep.won, rules)
    chosen = assign(pairs, len(prep.won), len(prep.orders), params)
    parts = [
        classify_deals(prep, pairs, chosen, params, rules, frames.fx_rates),
        orphan_orders(prep, chosen.deal_of_order, frames.fx_rates),
        credit_holds(prep, rules, frames.fx_rates),
    ]
    parts = [p for p in parts if len(p)]
    findings = pd.concat(parts, ignore_index=True) if parts else empty_findings()
    findings = findings.astype(FINDING_COLUMNS)
    counts = {k: int((findings["kind"] == k).sum()) for k in KINDS}
    log.info("leakage: %s", ", ".join(f"{n} {k}" for k, n in counts.items() if n))
    return LeakageResult(
        findings=findings,
        as_of=day,
        base_currency=base,
        go_live=None if prep.go_live is None else prep.go_live.date(),
        go_live_source=prep.go_live_source,
        counts=counts,
    )
