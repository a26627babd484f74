"""Write the month-end files: summary, explained differences, breakdowns and the AR overview."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from recon.checks.monthend import MonthendResult
from recon.report.csvfiles import write_csv

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


def write_monthend_outputs(result: MonthendResult, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        write_csv(_months_as_text(getattr(result, name)), out_dir / file)
        for name, file in FILES.items()
    ]
