"""write_reports and `recon demo`: report.html and report.xlsx land in the output folder."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from recon.cli import app
from recon.report.data import ReportData
from recon.report.write import write_reports


def test_write_reports_returns_both_files(report: ReportData, tmp_path: Path) -> None:
    files = write_reports(report, tmp_path / "out")
    assert [f.name for f in files] == ["report.html", "report.xlsx"]
    assert all(f.stat().st_size > 0 for f in files)


def test_demo_writes_the_reports(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "recon report" in (out / "report.html").read_text(encoding="utf-8")
    assert "Review" in openpyxl.load_workbook(out / "report.xlsx", read_only=True).sheetnames
