"""The fast row path writes the same cells openpyxl would: text escaped, dates, numbers, gaps."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from report.report_fixtures import GENERATED_AT

from recon.report import xlsx_rows
from recon.report.data import ReportData, RunInfo, Section, table
from recon.report.excel import write_workbook

TRICKY = pd.DataFrame(
    {
        "record_id": ["007", "-12", "@home", "\tTAB", "ok"],
        "name": ["a & <b>", "  padded  ", "bell\x07char", "=1+1", None],
        "amount": pd.array(["1234.5", "-0.01", None, "1e6", "0"], dtype="Float64"),
        "day": pd.to_datetime(["2026-10-31", None, "1900-03-01", "2026-01-01", "2026-02-28"]),
        "n": pd.array([1, None, 3, 2**40, 0], dtype="Int64"),
    }
)


def report_of(frame: pd.DataFrame) -> ReportData:
    run = RunInfo("0", GENERATED_AT, "USD", (), (), {})
    section = Section("t", "Tricky", tables=(table("t", "Tricky", frame, sheet="Tricky"),))
    return ReportData(run, (section,))


@pytest.mark.parametrize("chunk", [xlsx_rows.CHUNK, 2])
def test_cells_read_back_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(xlsx_rows, "CHUNK", chunk)  # rows are serialised a chunk at a time
    path = write_workbook(report_of(TRICKY), tmp_path / "t.xlsx")
    sheet = openpyxl.load_workbook(path)["Tricky"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == ["007", "-12", "@home", "\tTAB", "ok"]
    assert [r[1] for r in rows] == ["a & <b>", "  padded  ", "bellchar", "=1+1", None]
    assert [r[2] for r in rows] == [1234.5, -0.01, None, 1e6, 0]
    assert [r[3] for r in rows] == [
        dt.datetime(2026, 10, 31),
        None,
        dt.datetime(1900, 3, 1),
        dt.datetime(2026, 1, 1),
        dt.datetime(2026, 2, 28),
    ]
    assert [r[4] for r in rows] == [1, None, 3, 2**40, 0]
    quoted = [sheet.cell(row=r, column=c).quotePrefix for r in range(2, 7) for c in (1, 2)]
    assert quoted == [False, False, True, False, True, False, True, True, False, False]
    assert all(sheet.cell(row=r, column=1).data_type == "s" for r in range(2, 7))
    assert sheet.auto_filter.ref == "A1:E6"
