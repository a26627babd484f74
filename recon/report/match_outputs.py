"""Write the matcher's files: xref, matches, duplicates, review, import files, checked claims."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from recon.models import MatchResult
from recon.report.csvfiles import write_csv

KEYS = [
    "name_norm",
    "legal_form",
    "domain",
    "postcode_norm",
    "city_norm",
    "country_code",
    "country_inferred",  # read from phone, domain, legal form or city where country_code is empty
    "phone_e164",
    "tax_id_norm",
]


def _side(result: MatchResult, positions: np.ndarray, column: str) -> np.ndarray:
    return result.records[column].to_numpy()[positions]


def xref_table(result: MatchResult) -> pd.DataFrame:
    keys = result.records[["system", "record_id", *KEYS]].astype({"system": str, "record_id": str})
    xref = result.xref.astype({"system": str, "record_id": str})
    return xref.merge(keys, on=["system", "record_id"], how="left")


def pair_table(result: MatchResult, decisions: tuple[str, ...]) -> pd.DataFrame:
    """Pairs with the given final decisions, CRM side first for cross-system pairs."""
    scored = result.scored
    # Millions of pairs, a few thousand kept: select first, convert only what is kept.
    scored = scored.iloc[np.flatnonzero(scored["decision"].isin(decisions).to_numpy())]
    left = scored["left"].to_numpy()
    right = scored["right"].to_numpy()
    system = result.records["system"].astype(str).to_numpy()
    # ERP on the left only when both are ERP: swap so a CRM record comes first.
    swap = (system[left] == "erp") & (system[right] == "crm")
    a, b = np.where(swap, right, left), np.where(swap, left, right)
    frame = pd.DataFrame(
        {
            "left_system": system[a],
            "left_id": _side(result, a, "record_id"),
            "left_name": _side(result, a, "name"),
            "right_system": system[b],
            "right_id": _side(result, b, "record_id"),
            "right_name": _side(result, b, "name"),
            "score": np.round(scored["probability"].to_numpy().astype(float), 4),
            "decision": scored["decision"].astype(str).to_numpy(),
            "reasons": scored["reasons"].astype("string").to_numpy(),
            "decision_reason": scored["decision_reason"].astype("string").to_numpy()
            if "decision_reason" in scored
            else pd.NA,
        }
    )
    return frame.sort_values(["left_system", "left_id", "right_system", "right_id"]).reset_index(
        drop=True
    )


def matches_table(result: MatchResult) -> pd.DataFrame:
    pairs = pair_table(result, ("auto", "review"))
    cross = (pairs["left_system"] == "crm") & (pairs["right_system"] == "erp")
    out = pairs.loc[cross].rename(
        columns={
            "left_id": "crm_company_id",
            "left_name": "crm_name",
            "right_id": "erp_customer_id",
            "right_name": "erp_name",
        }
    )
    return out[
        [
            "crm_company_id",
            "crm_name",
            "erp_customer_id",
            "erp_name",
            "score",
            "decision",
            "reasons",
            "decision_reason",
        ]
    ].reset_index(drop=True)


def review_table(result: MatchResult) -> pd.DataFrame:
    """Pairs for a person to decide: empty decision, reviewer, date and comment columns."""
    pairs = pair_table(result, ("review",)).drop(columns="decision")
    for column in ("decision", "reviewer", "reviewed_on", "comment"):
        pairs[column] = pd.Series(pd.NA, index=pairs.index, dtype="string")
    return pairs


def write_match_outputs(result: MatchResult, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [
        write_csv(xref_table(result), out_dir / "xref.csv"),
        write_csv(matches_table(result), out_dir / "matches.csv"),
        write_csv(result.duplicates, out_dir / "duplicates.csv"),
        write_csv(review_table(result), out_dir / "review.csv"),
        write_csv(result.crm_import, out_dir / "crm_import.csv"),
        write_csv(result.erp_import, out_dir / "erp_import.csv"),
        write_csv(result.claims, out_dir / "xref_claims.csv"),
    ]
    summary = {
        "counts": result.counts(),
        "candidates_by_pass": result.pass_counts,
        "timings_s": result.timings,
        "model": result.model,
    }
    path = out_dir / "match_summary.json"
    path.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    files.append(path)
    return files
