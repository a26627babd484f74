"""Tiny check results for the report tests; every figure they should produce is written here."""

from __future__ import annotations

import datetime as dt

import pandas as pd

SCRIPT_NAME = '<img src=x onerror="window.pwned=1"><script>window.pwned=1</script>'
FORMULA_NAME = '=HYPERLINK("x")'
GENERATED_AT = dt.datetime(2026, 11, 2, 8, 30)

# Leakage: value at risk = no_order 1,000.50 + under_billed 250.25; over_billed and pending are
# listed but not counted.
LEAKAGE = pd.DataFrame(
    {
        "deal_id": ["D-001", "D-002", "D-003", "D-004"],
        "company": [SCRIPT_NAME, FORMULA_NAME, "Acme Pty Ltd", "Beta GmbH"],
        "xref_id": ["XR-000001", "XR-000002", "XR-000003", "XR-000004"],
        "owner": ["ann", "bob", "ann", None],
        "close_date": pd.to_datetime(["2026-09-03", "2026-10-01", "2026-10-12", "2026-10-30"]),
        "deal_amount_base": [1000.50, 500.25, 300.0, 80.0],
        "order_ids": ["", "O-1", "O-2;O-3", ""],
        "order_total_base": [0.0, 250.0, 400.0, 0.0],
        "gap_amount": [1000.50, 250.25, -100.0, 80.0],
        "age_days": [60, 32, 21, 3],
        "kind": ["no_order", "under_billed", "over_billed", "pending"],
        "reason": ["no order", "orders 50% of deal", "orders 133% of deal", "within grace"],
    }
)
VALUE_AT_RISK = 1250.75
AT_RISK_FINDINGS = 2

MONTHEND = pd.DataFrame(
    {
        "month": ["2026-09", "2026-10"],
        "won": [1000.50, 2000.0],
        "ordered": [900.0, 2100.0],
        "invoiced": [800.0, 2000.0],
        "paid": [700.0, 1500.0],
        "won_to_ordered": [100.50, -100.0],
    }
)
MONTHEND_DIFFERENCES = pd.DataFrame(
    {
        "month": ["2026-09", "2026-10"],
        "kind": ["deal without order", "order without deal"],
        "record_id": ["D-001", "O-9"],
        "amount": [100.50, -100.0],
    }
)
QUALITY = pd.DataFrame(
    {
        "system": ["crm", "erp", "erp"],
        "record_id": ["0042", "C-7", "C-8"],
        "xref_id": ["XR-000001", "XR-000002", "XR-000003"],
        "rule": ["missing_domain", "bad_phone", "bad_phone"],
        "field": ["domain", "phone", "phone"],
        "value": [None, "123", "+1 (0)"],
        "expected": ["a web domain", "E.164", "E.164"],
        "owner_system": ["crm", "erp", "erp"],
        "severity": ["warning", "error", "error"],
        "message": ["no domain", "too short", "not a number"],
    }
)


def by_score(pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs as the report lists them for review: the highest score (the likeliest match) first."""
    return pairs.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
