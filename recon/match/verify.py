"""Check the cross-references the source systems already hold against recon's entities.

A claim (CRM ``erp_customer_id`` or ERP ``crm_company_id``) that lands in the same entity is
supported and kept; one that lands elsewhere is suspect; one naming an unknown record is reported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recon.match.records import CRM, ERP

COLUMNS = ["system", "record_id", "name", "claimed_id", "status", "reason"]


def verify_claims(records: pd.DataFrame, entity: pd.Series, xref_ids: pd.Series) -> pd.DataFrame:
    """One row per record that claims a link: supported, suspect or unknown, with the reason."""
    claims = records["ref_id"].notna().to_numpy()
    if not claims.any():
        return pd.DataFrame({c: pd.Series(dtype="string") for c in COLUMNS})
    system = records["system"].to_numpy()
    ids = records["record_id"].astype(str).to_numpy()
    refs = records["ref_id"].astype(str).to_numpy()[claims]
    claimer = system[claims]
    # Each claim looked up among the other system's ids: one hash lookup per claim.
    target_pos = np.full(int(claims.sum()), -1, dtype=np.int64)
    for own, other in ((CRM, ERP), (ERP, CRM)):
        mine = claimer == own
        theirs = np.flatnonzero(system == other)
        index = pd.Index(ids[theirs])
        if not index.is_unique:  # the first record of an id, as the loader keeps it
            keep = ~index.duplicated()
            index, theirs = index[keep], theirs[keep]
        found = index.get_indexer(refs[mine])
        target_pos[mine] = np.where(found >= 0, theirs[np.maximum(found, 0)], -1)
    rows = records.loc[claims]
    own_entity = entity.to_numpy()[claims]
    known = target_pos >= 0
    target_pos = np.maximum(target_pos, 0)
    target_entity = np.where(known, entity.to_numpy()[target_pos], -1)
    same = known & (target_entity == own_entity)
    target_xref = np.where(known, xref_ids.to_numpy()[target_pos], "")
    status = np.where(same, "supported", np.where(known, "suspect", "unknown id"))
    other_name = np.where(rows["system"].to_numpy() == CRM, "ERP customer", "CRM company")
    own_xref = xref_ids.to_numpy()[claims]
    reason = np.where(
        same,
        "recon links them too (" + own_xref.astype(str) + ")",
        np.where(
            known,
            "the data puts them in different entities ("
            + own_xref.astype(str)
            + " vs "
            + target_xref.astype(str)
            + ")",
            "no " + other_name + " with this id",
        ),
    )
    return pd.DataFrame(
        {
            "system": rows["system"].to_numpy(),
            "record_id": rows["record_id"].to_numpy(),
            "name": rows["name"].to_numpy(),
            "claimed_id": rows["ref_id"].to_numpy(),
            "status": status,
            "reason": reason,
        }
    ).astype("string")
