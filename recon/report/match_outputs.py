"""Write the matcher's files: xref, matches, duplicates, review, import files, checked claims."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.models import MatchResult
from recon.normalize.kernels import as_array
from recon.report.csvfiles import write_csv, write_table
from recon.report.options import TableFormat

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


def _side(result: MatchResult, positions: np.ndarray, column: str) -> pd.Series:
    """A records column at ``positions`` (a take on its own array: no Python objects)."""
    return result.records[column].take(positions).reset_index(drop=True)


def xref_table(result: MatchResult) -> pd.DataFrame:
    """The xref rows, in their order, with the normalized keys of each record (a hash lookup of
    record_id within each system: a merge of two million rows costs seconds)."""
    xref = result.xref.astype({"system": str, "record_id": str}).reset_index(drop=True)
    records = result.records
    at = _record_positions(xref, records)
    keys = records[KEYS].take(np.maximum(at, 0)).reset_index(drop=True)
    if (at < 0).any():  # an xref row whose record is not among the records: no keys
        keys.loc[at < 0] = pd.NA
    return pd.concat([xref, keys], axis=1)


def _record_positions(xref: pd.DataFrame, records: pd.DataFrame) -> np.ndarray:
    """Position in ``records`` of each xref row's (system, record_id); -1 where absent."""
    at = np.full(len(xref), -1, dtype=np.int64)
    xref_ids, record_ids = as_array(xref["record_id"]), as_array(records["record_id"])
    xref_system = xref["system"].to_numpy(dtype=object)
    record_system = records["system"].astype(str).to_numpy(dtype=object)
    for system in pd.unique(xref_system):
        rows = np.flatnonzero(xref_system == system)
        among = np.flatnonzero(record_system == system)
        found = pc.index_in(xref_ids.take(rows), value_set=record_ids.take(among))
        found = found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        at[rows] = np.where(found >= 0, among[np.maximum(found, 0)], -1)
    return at


def pair_table(result: MatchResult, decisions: tuple[str, ...]) -> pd.DataFrame:
    """Pairs with the given final decisions, CRM side first for cross-system pairs."""
    scored = result.scored
    # Millions of pairs, a few thousand kept: select first, convert only what is kept.
    scored = scored.iloc[np.flatnonzero(scored["decision"].isin(decisions).to_numpy())]
    left = scored["left"].to_numpy()
    right = scored["right"].to_numpy()
    is_erp = (result.records["system"].astype(str) == "erp").to_numpy()
    # ERP on the left only when both are ERP: swap so a CRM record comes first.
    swap = is_erp[left] & ~is_erp[right]
    a, b = np.where(swap, right, left), np.where(swap, left, right)
    frame = pd.DataFrame(
        {
            "left_system": _side(result, a, "system").astype(str),
            "left_id": _side(result, a, "record_id"),
            "left_name": _side(result, a, "name"),
            "right_system": _side(result, b, "system").astype(str),
            "right_id": _side(result, b, "record_id"),
            "right_name": _side(result, b, "name"),
            "score": np.round(scored["probability"].to_numpy().astype(float), 4),
            "decision": scored["decision"].astype(str).reset_index(drop=True),
            "reasons": scored["reasons"].astype("string").reset_index(drop=True),
            "decision_reason": scored["decision_reason"].astype("string").reset_index(drop=True)
            if "decision_reason" in scored
            else pd.NA,
        }
    )
    order = ["left_system", "left_id", "right_system", "right_id"]
    keys = pa.table({c: pa.array(frame[c].astype(str)) for c in order})
    sort = pc.sort_indices(keys, sort_keys=[(c, "ascending") for c in order])
    return frame.take(sort.to_numpy()).reset_index(drop=True)


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


@dataclass(frozen=True)
class MatchTables:
    """The xref, matches and review tables as the files and the report both show them: a run
    that writes both builds them once (at a million records the xref alone takes seconds)."""

    xref: pd.DataFrame
    matches: pd.DataFrame
    review: pd.DataFrame


def match_tables(result: MatchResult) -> MatchTables:
    return MatchTables(xref_table(result), matches_table(result), review_table(result))


def write_match_outputs(
    result: MatchResult,
    out_dir: Path,
    table_format: TableFormat = "csv",
    tables: MatchTables | None = None,
    *,
    csv_bom: bool = False,
) -> list[Path]:
    """``table_format``: xref, matches and duplicates as CSV, Parquet or both; review.csv (read
    back by `recon review apply`), the import files and the claims stay CSV. ``tables``: the
    tables already built (``match_tables``), when the report shows them too. ``csv_bom``: every
    CSV starts with the UTF-8 byte-order mark (``OutputOptions.csv_bom``).

    The import files are written as .xlsx too, every cell text: opened in Excel, the CSV turns
    an ID such as 000023 into 23, and a 19-digit one into 1.23457E+18."""
    from recon.report.excel import write_id_workbook

    out_dir.mkdir(parents=True, exist_ok=True)
    tables = tables or match_tables(result)
    bom = csv_bom
    files = [
        *write_table(tables.xref, out_dir / "xref.csv", table_format, bom=bom),
        *write_table(tables.matches, out_dir / "matches.csv", table_format, bom=bom),
        *write_table(result.duplicates, out_dir / "duplicates.csv", table_format, bom=bom),
        write_csv(tables.review, out_dir / "review.csv", bom=bom),
    ]
    for name, frame in (("crm_import", result.crm_import), ("erp_import", result.erp_import)):
        files.append(write_csv(frame, out_dir / f"{name}.csv", bom=bom))
        workbook = write_id_workbook(frame, out_dir / f"{name}.xlsx", name)
        files += [workbook] if workbook is not None else []
    files.append(write_csv(result.claims, out_dir / "xref_claims.csv", bom=bom))
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
