"""Existing cross-references are checked against recon's entities, never trusted blindly."""

from __future__ import annotations

import pandas as pd

from recon.match.verify import verify_claims

RECORDS = pd.DataFrame(
    {
        "system": ["crm", "crm", "crm", "erp", "erp"],
        "record_id": ["1", "2", "3", "C1", "C2"],
        "name": ["Acme", "Beta", "Gamma", "ACME", "BETA"],
        # 1 claims C1 (same entity), 2 claims C1 (another entity), 3 claims a customer that does
        # not exist; C2 claims CRM 2 (same entity).
        "ref_id": ["C1", "C1", "C9", pd.NA, "2"],
    }
).astype("string")
ENTITY = pd.Series([0, 1, 2, 0, 1])
XREF = pd.Series(["XR-1", "XR-2", "XR-3", "XR-1", "XR-2"])


def test_each_claim_gets_a_status_and_reason() -> None:
    claims = verify_claims(RECORDS, ENTITY, XREF).set_index("record_id")
    assert claims["status"].to_dict() == {
        "1": "supported",
        "2": "suspect",
        "3": "unknown id",
        "C2": "supported",
    }
    assert claims.loc["2", "reason"] == "the data puts them in different entities (XR-2 vs XR-1)"
    assert claims.loc["3", "reason"] == "no ERP customer with this id"
    assert claims.loc["C2", "claimed_id"] == "2"


def test_no_claims_gives_an_empty_frame_with_columns() -> None:
    records = RECORDS.assign(ref_id=pd.array([pd.NA] * 5, dtype="string"))
    claims = verify_claims(records, ENTITY, XREF)
    assert claims.empty and "status" in claims.columns
