"""One frame of CRM companies and ERP customers with the normalized keys the matcher compares."""

from __future__ import annotations

from typing import Literal

import pandas as pd

from recon.normalize import NormalizeRules, normalize_records

CRM: Literal["crm"] = "crm"
ERP: Literal["erp"] = "erp"


def _activity(ids: pd.Series, child: pd.DataFrame | None, fk: str) -> pd.Series:
    if child is None or child.empty:
        return pd.Series(0, index=ids.index, dtype="int64")
    counts = child[fk].value_counts()
    return ids.map(counts).fillna(0).astype("int64")


def build_records(
    crm_companies: pd.DataFrame,
    erp_customers: pd.DataFrame,
    *,
    crm_deals: pd.DataFrame | None = None,
    erp_orders: pd.DataFrame | None = None,
    rules: NormalizeRules | None = None,
) -> pd.DataFrame:
    """CRM records first, then ERP; the RangeIndex position is each record's ``rid``."""
    crm = normalize_records(crm_companies, CRM, rules).reset_index(drop=True)
    crm["ref_id"] = _text(crm_companies, "erp_customer_id")
    crm["activity"] = _activity(crm_companies["company_id"], crm_deals, "company_id").to_numpy()
    crm["created_at"] = _dates(crm_companies, "created_at")

    erp = normalize_records(erp_customers, ERP, rules).reset_index(drop=True)
    erp["ref_id"] = _text(erp_customers, "crm_company_id")
    erp["activity"] = _activity(erp_customers["customer_id"], erp_orders, "customer_id").to_numpy()
    erp["created_at"] = pd.Series(pd.NaT, index=erp.index, dtype="datetime64[ns]")
    return pd.concat([crm, erp], ignore_index=True)


def _text(frame: pd.DataFrame, column: str) -> pd.array:
    if column not in frame.columns:
        return pd.array([pd.NA] * len(frame), dtype="string")
    return pd.array(frame[column].to_numpy(), dtype="string")


def _dates(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(pd.NaT, index=range(len(frame)), dtype="datetime64[ns]")
    return pd.Series(frame[column].to_numpy(), dtype="datetime64[ns]")
