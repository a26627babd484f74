"""Counts of findings by rule and severity, and a score per system and table.

The score is the share of a table's records with no error finding (warnings and info do not
lower it), so 1.0 means nothing there blocks go-live. Distinct records are counted on integer
codes (numpy), not by grouping strings: millions of findings take a second.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recon.checks.quality.findings import SEVERITIES

SCORE_BASIS = "share of records with no error finding"
BY_RULE_COLUMNS = ("system", "table", "rule", "severity", "findings", "records_flagged", "records")
SCORE_COLUMNS = (
    "system",
    "table",
    "records",
    "findings",
    "records_with_errors",
    "records_with_warnings",
    "score",
)


def _codes(findings: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """A group number per finding, and the groups' key values."""
    combined = np.zeros(len(findings), dtype=np.int64)
    for key in keys:
        codes, uniques = pd.factorize(findings[key])
        combined = combined * (len(uniques) + 1) + codes
    group, uniques = pd.factorize(combined)
    first = np.empty(len(uniques), dtype=np.int64)
    first[group[::-1]] = np.arange(len(group) - 1, -1, -1)  # the earliest row wins
    return group, findings[keys].iloc[first].reset_index(drop=True)


def _distinct(group: np.ndarray, record: np.ndarray, n_groups: int) -> np.ndarray:
    """Distinct records per group (sort and count changes: faster than a hash of pairs)."""
    width = int(record.max()) + 1 if len(record) else 1
    pairs = np.sort(group.astype(np.int64) * width + record)
    new = np.ones(len(pairs), dtype=bool)
    new[1:] = pairs[1:] != pairs[:-1]
    return np.bincount(pairs[new] // width, minlength=n_groups)


def by_rule(findings: pd.DataFrame, records: dict[tuple[str, str], int]) -> pd.DataFrame:
    """One row per (system, table, rule, severity): findings and distinct records flagged."""
    if not len(findings):
        return pd.DataFrame({c: [] for c in BY_RULE_COLUMNS})
    group, out = _codes(findings, ["system", "table", "rule", "severity"])
    record = pd.factorize(findings["record_id"])[0]
    out["findings"] = np.bincount(group, minlength=len(out))
    out["records_flagged"] = _distinct(group, record, len(out))
    out["records"] = [
        records.get((s, t), 0) for s, t in zip(out["system"], out["table"], strict=True)
    ]
    rank = out["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    out = out.assign(_rank=rank).sort_values(["system", "table", "_rank", "rule"])
    return out.drop(columns="_rank").reset_index(drop=True)[list(BY_RULE_COLUMNS)]


def scores(findings: pd.DataFrame, records: dict[tuple[str, str], int]) -> pd.DataFrame:
    """Per table: records, findings, records with an error or a warning, and the score."""
    tables = list(records)
    where = {t: i for i, t in enumerate(tables)}
    if len(findings):
        table = _table_codes(findings, where)
        record = pd.factorize(findings["record_id"])[0]
    else:
        table = record = np.zeros(0, dtype=np.int64)
    found = np.bincount(table[table >= 0], minlength=len(tables))
    flagged = {}
    for level in ("error", "warning"):
        mine = (findings["severity"] == level).to_numpy(dtype=bool) & (table >= 0)
        flagged[level] = (
            _distinct(table[mine], record[mine], len(tables))
            if mine.any()
            else np.zeros(len(tables), dtype=np.int64)
        )
    rows = []
    for i, (system, name) in enumerate(tables):
        n = records[(system, name)]
        errors = int(flagged["error"][i])
        rows.append(
            {
                "system": system,
                "table": name,
                "records": n,
                "findings": int(found[i]),
                "records_with_errors": errors,
                "records_with_warnings": int(flagged["warning"][i]),
                "score": round(1 - errors / n, 4) if n else 1.0,
            }
        )
    return pd.DataFrame(rows, columns=list(SCORE_COLUMNS))


def _table_codes(findings: pd.DataFrame, where: dict[tuple[str, str], int]) -> np.ndarray:
    group, keys = _codes(findings, ["system", "table"])
    lookup = np.array(
        [where.get((s, t), -1) for s, t in zip(keys["system"], keys["table"], strict=True)],
        dtype=np.int64,
    )
    return lookup[group]
