"""Write the report files of a run: report.html and report.xlsx from one ReportData."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from recon.report.data import ReportData
from recon.report.excel import write_workbook
from recon.report.html import MAX_ROWS, write_html

log = logging.getLogger(__name__)

HTML_NAME = "report.html"
EXCEL_NAME = "report.xlsx"


def write_reports(
    report_data: ReportData,
    out_dir: Path,
    *,
    html_rows: int = MAX_ROWS,
) -> list[Path]:
    """report.html (tables capped at ``html_rows`` each) and report.xlsx (each sheet holds the
    rows ReportData kept: ``OutputOptions.sheet_rows``) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    html = write_html(report_data, out_dir / HTML_NAME, max_rows=html_rows)
    middle = time.perf_counter()
    excel = write_workbook(report_data, out_dir / EXCEL_NAME)
    log.info("report: html %.1f s, excel %.1f s", middle - started, time.perf_counter() - middle)
    return [html, excel]
