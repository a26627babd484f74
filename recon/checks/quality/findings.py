"""The findings frame every quality check returns, and the one way to build it from a row mask."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

FINDING_COLUMNS = (
    "system",
    "table",
    "record_id",
    "xref_id",
    "rule",
    "field",
    "value",
    "expected",
    "owner_system",
    "severity",
    "message",
)
SEVERITIES = ("error", "warning", "info")
TEXT = pd.StringDtype()
ARROW_TEXT = pd.StringDtype("pyarrow")
STRING = pa.large_string()


def empty_findings() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=TEXT) for c in FINDING_COLUMNS})


@dataclass(frozen=True)
class Subject:
    """The records one table's checks look at: who they are, in row order."""

    system: str
    table: str
    record_id: pd.Series
    xref_id: pd.Series

    def __len__(self) -> int:
        return len(self.record_id)


def _column(values: pd.Series | str | None, rows: np.ndarray) -> pa.Array:
    """``values`` at ``rows``; a single value (or None) repeated."""
    if isinstance(values, pd.Series):
        arr = pa.array(values.astype(ARROW_TEXT).array).take(pa.array(rows, pa.int64()))
        return arr.cast(STRING)
    if values is None:
        return pa.nulls(rows.size, STRING)
    return pa.repeat(pa.scalar(values, STRING), rows.size)


def flag(
    subject: Subject,
    mask: np.ndarray,
    *,
    rule: str,
    field: str,
    severity: str,
    message: str | pd.Series,
    value: pd.Series | str | None = None,
    expected: pd.Series | str | None = None,
    owner_system: pd.Series | str | None = None,
) -> pd.DataFrame:
    """One finding per row where ``mask`` is true; Series arguments are per row of the subject."""
    rows = np.flatnonzero(mask)
    if not rows.size:
        return empty_findings()
    columns = {
        "system": subject.system,
        "table": subject.table,
        "record_id": subject.record_id,
        "xref_id": subject.xref_id,
        "rule": rule,
        "field": field,
        "value": value,
        "expected": expected,
        "owner_system": owner_system,
        "severity": severity,
        "message": message,
    }
    return pd.DataFrame(
        {
            name: pd.Series(pd.arrays.ArrowStringArray(_column(v, rows)), dtype=TEXT)
            for name, v in columns.items()
        }
    )


def combine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """All findings in one frame, by system, table, record, rule and field."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_findings()
    out = pd.concat(parts, ignore_index=True)[list(FINDING_COLUMNS)]
    keys = ["system", "table", "record_id", "rule", "field"]
    table = pa.table({k: pa.array(out[k].array) for k in keys})
    order = pc.sort_indices(table, sort_keys=[(k, "ascending") for k in keys])
    return out.take(order.to_numpy()).reset_index(drop=True)
