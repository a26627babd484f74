"""One frame of CRM companies and ERP customers with the normalized keys the matcher compares."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from recon.normalize import NormalizeRules, normalize_records
from recon.normalize.country_evidence import infer_countries
from recon.normalize.kernels import as_array
from recon.normalize.locality import fill_locality
from recon.normalize.names import resolve_rules

CRM: Literal["crm"] = "crm"
ERP: Literal["erp"] = "erp"


def _activity(ids: pd.Series, child: pd.DataFrame | None, fk: str) -> pd.Series:
    if child is None or child.empty:
        return pd.Series(0, index=ids.index, dtype="int64")
    # Each child's parent position by one Arrow hash lookup, then counted: no per-id Python work.
    where = pc.fill_null(pc.index_in(as_array(child[fk]), value_set=as_array(ids)), -1)
    where = where.to_numpy(zero_copy_only=False)
    counts = np.bincount(where[where >= 0], minlength=len(ids))
    return pd.Series(counts.astype("int64"), index=ids.index)


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
    # On the whole frame: CRM cities help read ERP one-line addresses, and the other way round.
    records = fill_locality(pd.concat([crm, erp], ignore_index=True), rules)
    # for VAT and the quality report only: matching compares the countries the records state
    records["country_inferred"] = infer_countries(records, resolve_rules(rules))
    return records


def _text(frame: pd.DataFrame, column: str) -> pd.array:
    if column not in frame.columns:
        return pd.array([pd.NA] * len(frame), dtype="string")
    return pd.array(frame[column].to_numpy(), dtype="string")


def _dates(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(pd.NaT, index=range(len(frame)), dtype="datetime64[ns]")
    return pd.Series(frame[column].to_numpy(), dtype="datetime64[ns]")
