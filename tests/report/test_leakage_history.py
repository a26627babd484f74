"""The leakage section with the state store's history (pure): what changed first, value at risk
of the open list only, the trend chart, and the summary line above the Excel Leakage table."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd

from recon.report.check_sections import leakage_section
from recon.report.data import LeakageHistory, ReportData, RunInfo
from recon.report.excel import write_workbook
from recon.report.html import render_html

# new no_order 100, open under_billed 40, resolved no_order 7, accepted no_order 1000, and an
# open orphan order (listed, never counted): value at risk = 100 + 40.
FINDINGS = pd.DataFrame(
    {
        "finding_id": ["F-1", "F-2", "F-3", "F-4", "F-5"],
        "change": ["new", "open", "resolved", "accepted", "open"],
        "deal_id": ["D1", "D2", "D3", "D4", None],
        "kind": ["no_order", "under_billed", "no_order", "no_order", "orphan_order"],
        "gap_amount": [100.0, 40.0, 7.0, 1000.0, None],
        "owner": ["ana", "bo", "ana", "ana", None],
        "close_date": pd.to_datetime(
            ["2026-09-01", "2026-08-01", "2026-07-01", "2026-06-01", None]
        ),
    }
)
HISTORY = LeakageHistory("2026-10-24, run 3", (("2026-10-24 #3", 250.0), ("2026-10-31 #4", 140.0)))


def test_changes_come_first_and_value_at_risk_counts_the_open_list_only() -> None:
    section = leakage_section(FINDINGS, "EUR", HISTORY)
    figures = {f.key: f.value for f in section.figures}
    assert section.figures[0].key == "leakage_change_new"
    assert figures["leakage_value_at_risk"] == 140.0
    assert figures["leakage_change_new"] == 1 and figures["leakage_change_new_value"] == 100.0
    assert figures["leakage_change_open"] == 2 and figures["leakage_change_open_value"] == 40.0
    assert figures["leakage_change_resolved_value"] == 7.0
    assert figures["leakage_change_accepted_value"] == 1000.0
    assert section.tables[0].key == "leakage_changes"
    assert section.tables[0].title.endswith("the previous run (2026-10-24, run 3)")
    assert section.table("leakage") is not None and section.table("leakage").rows == 5  # type: ignore[union-attr]
    trend = section.charts[0]
    assert trend.key == "leakage_trend"
    assert trend.categories == ("2026-10-24 #3", "2026-10-31 #4")
    assert trend.series[0].values == (250.0, 140.0)
    assert section.notes[0].startswith("What changed since last week")


def test_without_history_the_section_is_as_before() -> None:
    plain = FINDINGS.drop(columns=["finding_id", "change"])
    section = leakage_section(plain, "EUR")
    assert {f.key: f.value for f in section.figures}["leakage_value_at_risk"] == 1147.0
    assert not any(c.key == "leakage_trend" for c in section.charts)
    assert section.table("leakage").preface == ()  # type: ignore[union-attr]


def test_the_summary_sits_above_the_leakage_table_in_excel_and_first_in_html(
    tmp_path: Path,
) -> None:
    import datetime as dt

    section = leakage_section(FINDINGS, "EUR", HISTORY)
    run = RunInfo("0", dt.datetime(2026, 11, 2), "EUR", (), (), {})
    report = ReportData(run, (section,))
    book = openpyxl.load_workbook(write_workbook(report, tmp_path / "r.xlsx"))
    sheet = book["Leakage"]
    assert str(sheet["A1"].value).startswith("What changed since last week")
    assert "new: 1 (EUR 100.00)" in str(sheet["A1"].value)
    assert [c.value for c in sheet[2]][:2] == ["finding_id", "change"]
    assert sheet["A3"].value == "F-1" and sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref.startswith("A2:")
    html = render_html(report)
    leakage = html[html.index('<section id="leakage"') :]
    assert leakage.index("What changed since last week") < leakage.index("<svg")
