"""Tiny canonical frames for the quality tests, and one call that runs the quality stage on them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd

from recon.checks.quality import QualityResult, check_quality
from recon.config.quality import QualityRules, load_quality_rules
from recon.schema import AMOUNT_DTYPE, DTYPES, TABLES

AS_OF = dt.date(2026, 10, 31)
RULES = load_quality_rules()


def frame(table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A canonical ``table`` with every column, typed as the loader types it."""
    spec = TABLES[table]
    out = {}
    for column in spec.columns:
        values = [row.get(column.name) for row in rows]
        if column.kind == "amount":
            out[column.name] = pd.array(
                [None if v is None else Decimal(str(v)) for v in values], dtype=AMOUNT_DTYPE
            )
        elif column.kind == "date":
            out[column.name] = pd.to_datetime(pd.Series(values, dtype=object))
        else:
            out[column.name] = pd.Series(values, dtype=object).astype(DTYPES[column.kind])
    return pd.DataFrame(out)


def companies(*rows: dict[str, Any]) -> pd.DataFrame:
    """CRM companies; each row gets id C1, C2, ... and a name and country unless given."""
    base = [
        {"company_id": f"C{i}", "name": "Acme Trading", "country": "AU", **row}
        for i, row in enumerate(rows, 1)
    ]
    return frame("crm_companies", base)


def customers(*rows: dict[str, Any]) -> pd.DataFrame:
    base = [
        {"customer_id": f"E{i}", "name": "Acme Trading", "country": "AU", **row}
        for i, row in enumerate(rows, 1)
    ]
    return frame("erp_customers", base)


def run(
    crm: pd.DataFrame | None = None,
    erp: pd.DataFrame | None = None,
    *,
    deals: pd.DataFrame | None = None,
    xref: pd.DataFrame | None = None,
    rules: QualityRules = RULES,
) -> QualityResult:
    return check_quality(
        crm if crm is not None else companies(),
        erp if erp is not None else customers(),
        rules,
        deals=deals,
        xref=xref,
        as_of=AS_OF,
    )


def flagged(result: QualityResult, rule: str, field: str | None = None) -> list[str]:
    """Record ids with a finding of ``rule`` (on ``field``), C2 before C10."""
    f = result.findings
    hit = f["rule"] == rule
    if field is not None:
        hit &= f["field"] == field
    return sorted(f.loc[hit, "record_id"].astype(str), key=lambda s: (len(s), s))


def one_field(rule: str, field: str, values: list[Any], country: str | None = "AU", **extra: Any):
    """Run one company per value (ids C1, C2, ...) and return the ids ``rule`` flagged on ``field``."""
    rows = [{"country": country, field: v, **extra} for v in values]
    return flagged(run(companies(*rows)), rule, field)
