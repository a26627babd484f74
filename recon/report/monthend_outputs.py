"""Write the month-end files: summary, explained differences, breakdowns and the AR overview."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from recon.checks.monthend import MonthendResult
from recon.report.csvfiles import write_csv, write_table
from recon.report.options import TableFormat

FILES = {
    "summary": "monthend_summary.csv",
    "differences": "monthend_differences.csv",
    "by_entity": "monthend_by_entity.csv",
    "by_owner": "monthend_by_owner.csv",
    "by_currency": "monthend_by_currency.csv",
    "ar": "ar_overview.csv",
}


def _months_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    if "month" not in frame:
        return frame
    return frame.assign(month=frame["month"].astype(str).astype("string"))


def write_monthend_outputs(
    result: MonthendResult, out_dir: Path, table_format: TableFormat = "csv"
) -> list[Path]:
    """``table_format``: monthend_differences (one row per explaining item) as CSV, Parquet or
    both; the month-by-month tables stay CSV."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for name, file in FILES.items():
        frame = _months_as_text(getattr(result, name))
        if name == "differences":
            files += write_table(frame, out_dir / file, table_format)
        else:
            files.append(write_csv(frame, out_dir / file))
    return files
