"""The Excel workbook: sheets, formats, the protected Review sheet, escaping, sheets capped to
their most valuable rows, and the figures as a real spreadsheet program (LibreOffice) reads them
back."""

from __future__ import annotations

import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from report.report_fixtures import FORMULA_NAME, GENERATED_AT, LEAKAGE, SCRIPT_NAME, by_score

from recon.models import LoadResult, MatchResult
from recon.report.data import ReportData, build_report_data
from recon.report.excel import write_workbook
from recon.report.match_outputs import matches_table, review_table
from recon.report.options import OutputOptions

SHEETS = [
    "README",
    "Summary",
    "Xref",
    "Matches",
    "Review",
    "Duplicates",
    "Xref claims",
    "Leakage",
    "Month-end",
    "Month-end detail",
    "Data quality",
    "Quarantined rows",
]


@pytest.fixture(scope="module")
def workbook(report: ReportData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_workbook(report, tmp_path_factory.mktemp("xlsx") / "report.xlsx")


def header(sheet: openpyxl.worksheet.worksheet.Worksheet) -> list[object]:
    return [c.value for c in next(sheet.iter_rows(max_row=1))]


def test_sheets_headers_and_formats(workbook: Path, report: ReportData) -> None:
    book = openpyxl.load_workbook(workbook)
    assert book.sheetnames == SHEETS
    xref = book["Xref"]
    assert xref.freeze_panes == "A2"
    assert xref.auto_filter.ref == f"A1:N{report.section('matching').table('xref').rows + 1}"  # type: ignore[union-attr]
    record_id = header(xref).index("record_id") + 1
    cell = xref.cell(row=2, column=record_id)
    assert cell.data_type == "s" and cell.number_format == "@"
    leakage = book["Leakage"]
    names = header(leakage)
    rows = list(leakage.iter_rows(min_row=2, values_only=True))
    assert [r[names.index("gap_amount")] for r in rows] == LEAKAGE["gap_amount"].tolist()
    assert leakage.cell(row=2, column=names.index("gap_amount") + 1).number_format == "#,##0.00"
    assert leakage.cell(row=2, column=names.index("close_date") + 1).number_format == "yyyy-mm-dd"
    assert book["Matches"].conditional_formatting and leakage.conditional_formatting


def test_formula_like_text_stays_text(workbook: Path) -> None:
    leakage = openpyxl.load_workbook(workbook)["Leakage"]
    company = header(leakage).index("company") + 1
    cells = {
        leakage.cell(row=r, column=company).value: leakage.cell(row=r, column=company)
        for r in (2, 3)
    }
    formula = cells[FORMULA_NAME]
    assert formula.data_type == "s" and formula.quotePrefix
    assert cells[SCRIPT_NAME].data_type == "s"


def test_review_sheet_round_trips_with_a_drop_down_and_protection(
    workbook: Path, matched: tuple[LoadResult, MatchResult]
) -> None:
    expected = by_score(review_table(matched[1]))
    sheet = openpyxl.load_workbook(workbook)["Review"]
    columns = header(sheet)
    assert columns == list(expected.columns)
    (decision, dates) = sheet.data_validations.dataValidation
    column = openpyxl.utils.get_column_letter(columns.index("decision") + 1)
    assert decision.type == "list" and decision.formula1 == '"match,not a match,skip"'
    assert str(decision.sqref) == f"{column}2:{column}{len(expected) + 1}"
    assert dates.type == "date"
    assert sheet.protection.sheet and not sheet.protection.autoFilter
    for cell in next(sheet.iter_rows(min_row=2, max_row=2)):
        editable = columns[cell.column - 1] in ("decision", "reviewer", "reviewed_on", "comment")
        assert cell.protection.locked is not editable, columns[cell.column - 1]
    read = pd.read_excel(workbook, sheet_name="Review", dtype=str)
    assert read["left_id"].tolist() == expected["left_id"].astype(str).tolist()


def test_a_capped_sheet_holds_the_most_valuable_rows_and_names_the_file(
    matched: tuple[LoadResult, MatchResult], tmp_path: Path
) -> None:
    load, result = matched
    report = build_report_data(
        load,
        result,
        leakage=LEAKAGE.iloc[::-1],  # least valuable first: the sheet must reorder them
        generated_at=GENERATED_AT,
        options=OutputOptions(table_format="parquet", sheet_rows=3),
    )
    book = openpyxl.load_workbook(write_workbook(report, tmp_path / "capped.xlsx"))
    rows = list(book["Leakage"].iter_rows(values_only=True))
    names = list(rows[0])
    note = "The first 3 of 4 rows, largest value at risk first, then the largest other amounts"
    assert names[-1] == f"{note}; all of them are in leakage.parquet."
    # no_order 1,000.50 and under_billed 250.25 are at risk; then over_billed |-100| > pending 80
    assert [r[names.index("deal_id")] for r in rows[1:]] == ["D-001", "D-002", "D-003"]
    # matches: the links closest to the auto threshold (0.9), the ones most worth a look
    pairs = matches_table(result)
    assert len(pairs) > 3
    closest = (pairs["score"] - 0.9).abs().sort_values(kind="stable").index[:3]
    sheet = list(book["Matches"].iter_rows(values_only=True))
    ids = [[r[0], r[2]] for r in sheet[1:]]
    assert ids == pairs.loc[closest, ["crm_company_id", "erp_customer_id"]].values.tolist()
    assert sheet[0][-1].endswith(f"of {len(pairs)} rows, scores closest to the auto threshold "
                                 "(the links most worth a look) first; all of them are in "
                                 "matches.parquet.")  # fmt: skip
    readme = {r[0]: r for r in book["README"].iter_rows(values_only=True) if r and r[0]}
    assert readme["Leakage"][2:5] == (3, 4, "leakage.parquet")
    assert readme["Leakage"][1].endswith(f"{note}; all of them are in leakage.parquet.")


def test_checks_not_run_keep_their_sheet_with_a_note(
    bare_report: ReportData, tmp_path: Path
) -> None:
    book = openpyxl.load_workbook(write_workbook(bare_report, tmp_path / "bare.xlsx"))
    assert book.sheetnames == SHEETS
    assert book["Leakage"]["A1"].value == "The leakage check did not run for this report."


def test_libreoffice_reads_back_recons_figures(
    soffice: str, workbook: Path, report: ReportData, tmp_path: Path
) -> None:
    out = tmp_path / "csv"
    # Every sheet to its own UTF-8 CSV, raw values (not as shown), formulas as their results.
    csv_filter = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    subprocess.run(
        [soffice, "--headless", "--norestore", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
         "--convert-to", csv_filter, "--outdir", str(out), str(workbook)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    summary = pd.read_csv(out / "report-Summary.csv", dtype=str, keep_default_na=False)
    figures = summary[summary["Key"] != ""].set_index("Key")["Value"]
    for section in report.sections:
        for figure in section.figures:
            value = figure.value
            read = figures[figure.key]
            if isinstance(value, int | float):
                assert float(read) == pytest.approx(value), figure.key
            else:
                assert read == str(value), figure.key
    leakage = pd.read_csv(out / "report-Leakage.csv", dtype=str, keep_default_na=False)
    assert leakage["company"].tolist() == LEAKAGE["company"].tolist()
    assert leakage["gap_amount"].astype(float).tolist() == LEAKAGE["gap_amount"].tolist()
    matches = pd.read_csv(out / "report-Matches.csv", dtype=str)
    expected = report.section("matching").table("matches").frame  # type: ignore[union-attr]
    assert matches["crm_company_id"].tolist() == expected["crm_company_id"].astype(str).tolist()
    assert matches["score"].astype(float).round(4).tolist() == expected["score"].tolist()
