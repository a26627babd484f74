"""Checks of CRM deals: a won deal must carry an amount above zero."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.checks.quality import text as tx
from recon.checks.quality.findings import Subject, flag


def won_without_amount(
    subject: Subject, deals: pd.DataFrame, won_stages: tuple[str, ...], severity: str
) -> pd.DataFrame:
    """Won deals (stage one of ``won_stages``, any case) whose amount is zero or missing."""
    stages = pa.array(sorted({s.strip().casefold() for s in won_stages}), tx.STRING)
    won = tx.mask(pc.is_in(pc.utf8_lower(tx.text(deals, "stage")), value_set=stages))
    if "amount" in deals.columns:
        amount = deals["amount"]
        empty = (amount.isna() | (amount == 0)).fillna(True).to_numpy(dtype=bool)
    else:
        empty = won
    bad = won & empty
    # Amounts as text only for the deals flagged: formatting a decimal column is not cheap.
    rows = np.flatnonzero(bad)
    amount = tx.text(deals.iloc[rows], "amount")
    shown = pc.replace_substring_regex(amount, r"(\.[0-9]{2}[1-9]*)0+$", r"\1")
    return flag(
        subject,
        bad,
        rule="won_deal_amount",
        field="amount",
        severity=severity,
        value=tx.to_series(tx.put(pa.nulls(len(deals), tx.STRING), rows, shown)),
        expected="an amount above zero",
        message="deal is won but its amount is zero or missing",
    )
