"""Checks of CRM deals: a won deal must carry an amount above zero.

A won deal without an amount cannot be compared to its orders, one of zero has nothing to bill,
and one below zero (a credit or refund booked as a won deal) is not revenue owed: leakage leaves
all three out and month-end cannot count the first, so the data team fixes them in the CRM.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.checks.quality import text as tx
from recon.checks.quality.findings import Subject, empty_findings, flag


def won_deals(deals: pd.DataFrame, won_stages: tuple[str, ...]) -> np.ndarray:
    """Which deals are won (stage one of ``won_stages``, any case and spacing)."""
    stages = pa.array(sorted({s.strip().casefold() for s in won_stages}), tx.STRING)
    return tx.mask(pc.is_in(pc.utf8_lower(tx.text(deals, "stage")), value_set=stages))


def _amounts(deals: pd.DataFrame, bad: np.ndarray) -> pd.Series:
    """The amounts of the ``bad`` deals as text (others empty): formatting a decimal column is
    not cheap, so only the flagged ones are."""
    rows = np.flatnonzero(bad)
    amount = tx.text(deals.iloc[rows], "amount")
    shown = pc.replace_substring_regex(amount, r"(\.[0-9]{2}[1-9]*)0+$", r"\1")
    return tx.to_series(tx.put(pa.nulls(len(deals), tx.STRING), rows, shown))


def won_without_amount(
    subject: Subject, deals: pd.DataFrame, won_stages: tuple[str, ...], severity: str
) -> pd.DataFrame:
    """Won deals whose amount is missing or zero, each with a message that says which."""
    won = won_deals(deals, won_stages)
    if "amount" in deals.columns:
        amount = deals["amount"]
        missing = amount.isna().to_numpy(dtype=bool)
        zero = (amount == 0).fillna(False).to_numpy(dtype=bool)
    else:
        missing, zero = np.ones(len(deals), dtype=bool), np.zeros(len(deals), dtype=bool)
    bad = won & (missing | zero)
    rows = np.flatnonzero(bad)  # messages only for the flagged: millions of deals, a few flagged
    said = np.where(
        missing[rows],
        "won deal without amount: it cannot be compared to its orders; fill in the amount "
        "in the CRM",
        "deal is won but its amount is zero",
    )
    message = tx.to_series(tx.put(pa.nulls(len(deals), tx.STRING), rows, pa.array(said, tx.STRING)))
    return flag(
        subject,
        bad,
        rule="won_deal_amount",
        field="amount",
        severity=severity,
        value=_amounts(deals, bad),
        expected="an amount above zero",
        message=message,
    )


def won_negative_amount(
    subject: Subject, deals: pd.DataFrame, won_stages: tuple[str, ...], severity: str
) -> pd.DataFrame:
    """Won deals with an amount below zero."""
    if "amount" not in deals.columns:
        return empty_findings()
    negative = (deals["amount"] < 0).fillna(False).to_numpy(dtype=bool)
    bad = won_deals(deals, won_stages) & negative
    return flag(
        subject,
        bad,
        rule="won_deal_negative",
        field="amount",
        severity=severity,
        value=_amounts(deals, bad),
        expected="an amount above zero (a credit belongs in the ERP, not on a won deal)",
        message="won deal with a negative amount: not revenue owed, so leakage leaves it out",
    )
