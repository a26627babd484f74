"""The workbook as people print and read it: every sheet's print setup, yes/no columns as real
booleans, columns wide enough for the largest amount as shown, the Summary sheet as one table,
and the import files as workbooks whose IDs stay text — read back with openpyxl and after a
LibreOffice round trip."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from report.report_fixtures import GENERATED_AT

from recon.models import LoadResult, MatchResult
from recon.report import excel
from recon.report.data import ReportData, RunInfo, Section, table
from recon.report.excel import MAX_WIDTH, write_id_workbook, write_workbook
from recon.report.match_outputs import write_match_outputs

SUMMARY_HEADER = ["Area", "Figure", "Value", "Note", "Key"]
IDR = 1_234_567_890_123.00  # rupiah: shown as 1,234,567,890,123.00
IDR_SHOWN = "1,234,567,890,123.00"
# IDs a spreadsheet would turn into numbers or dates: 23, 1.23457E+18, a date, a fraction, 100000
IDS = ["000023", "1234567890123456789", "2026-10-31", "1/2", "1E5", "-12", "=1+1"]

# Yes/no columns of every kind of dtype, and text that merely reads "True" (stays text).
FLAGS = pd.DataFrame(
    {
        "record_id": ["A", "B", "C"],
        "numpy": [True, False, True],
        "nullable": pd.array([True, None, False], dtype="boolean"),
        "python": pd.Series([False, None, True], dtype=object),
        "arrow": pd.Series([True, False, None], dtype="bool[pyarrow]"),
        "words": ["True", "False", "yes"],
    }
)
FLAG_VALUES = {
    "numpy": [True, False, True],
    "nullable": [True, None, False],
    "python": [False, None, True],
    "arrow": [True, False, None],
}


def report_of(*tables: object) -> ReportData:
    run = RunInfo("0", GENERATED_AT, "IDR", (), (), {})
    return ReportData(run, (Section("t", "Test area", tables=tables),))  # type: ignore[arg-type]


def amounts() -> pd.DataFrame:
    """600 small amounts, the largest (and the most negative) past the first 500 rows."""
    values = [12.5] * 600
    values[550], values[560] = IDR, -IDR
    return pd.DataFrame({"deal_id": [f"D-{i}" for i in range(600)], "gap_amount": values})


@pytest.fixture(scope="module")
def sample_book(report: ReportData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_workbook(report, tmp_path_factory.mktemp("layout") / "report.xlsx")


@pytest.fixture(scope="module")
def layout_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Flags and amounts on their own sheets, a table with two lines above its header, and a
    small breakdown with a flag on the Summary sheet."""
    tables = (
        table("flags", "Flags", FLAGS, sheet="Flags"),
        table("amounts", "Amounts", amounts(), sheet="Amounts"),
        table(
            "prefaced", "Prefaced", FLAGS[["record_id"]], sheet="Prefaced", preface=("one", "two")
        ),
        table("by_kind", "By kind", pd.DataFrame({"kind": ["a", "b"], "counted": [True, False]})),
    )
    return write_workbook(report_of(*tables), tmp_path_factory.mktemp("layout") / "layout.xlsx")


def libreoffice_copy(soffice: str, files: list[Path], tmp_path: Path) -> Path:
    """The files opened and saved again as .xlsx by LibreOffice Calc; the folder they are in."""
    out = tmp_path / "lo"
    profile = f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}"
    subprocess.run(
        [soffice, "--headless", "--norestore", profile, "--convert-to", "xlsx",
         "--outdir", str(out), *map(str, files)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    return out


def columns(sheet: openpyxl.worksheet.worksheet.Worksheet, header_row: int = 1) -> dict:
    rows = list(sheet.iter_rows(min_row=header_row, values_only=True))
    return {name: [r[i] for r in rows[1:]] for i, name in enumerate(rows[0])}


def assert_prints_landscape_one_page_wide(sheet: object, header_row: int) -> None:
    setup = sheet.page_setup  # type: ignore[attr-defined]
    name = sheet.title  # type: ignore[attr-defined]
    assert setup.orientation == "landscape", name
    assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), name
    assert sheet.sheet_properties.pageSetUpPr.fitToPage, name  # type: ignore[attr-defined]
    assert sheet.print_title_rows == f"${header_row}:${header_row}", name  # type: ignore[attr-defined]


def test_every_sheet_prints_landscape_one_page_wide_with_its_header_on_each_page(
    sample_book: Path, layout_book: Path
) -> None:
    book = openpyxl.load_workbook(sample_book)
    assert len(book.worksheets) == 12
    for sheet in book.worksheets:
        assert_prints_landscape_one_page_wide(sheet, 1)
    layout = openpyxl.load_workbook(layout_book)
    assert_prints_landscape_one_page_wide(layout["Prefaced"], 3)  # below its two lines
    assert layout["Prefaced"]["A3"].value == "record_id"


def test_yes_no_columns_are_boolean_cells(sample_book: Path, layout_book: Path) -> None:
    sheet = openpyxl.load_workbook(layout_book)["Flags"]
    read = columns(sheet)
    for name, expected in FLAG_VALUES.items():
        assert read[name] == expected, name
        column = list(read).index(name) + 1
        for row, value in enumerate(expected, start=2):
            if value is not None:
                assert sheet.cell(row=row, column=column).data_type == "b", (name, row)
    assert read["words"] == ["True", "False", "yes"]  # text is never guessed to be a flag
    summary = columns(openpyxl.load_workbook(layout_book)["Summary"])
    counted = dict(zip(summary["Key"], summary["Value"], strict=True))
    assert counted["by_kind[a].counted"] is True and counted["by_kind[b].counted"] is False
    duplicates = openpyxl.load_workbook(sample_book)["Duplicates"]
    survivor = columns(duplicates)["is_survivor"]
    assert set(survivor) == {True, False}
    column = list(columns(duplicates)).index("is_survivor") + 1
    assert {duplicates.cell(row=r, column=column).data_type for r in range(2, 6)} == {"b"}


def test_columns_are_as_wide_as_their_largest_value_as_shown(layout_book: Path) -> None:
    sheet = openpyxl.load_workbook(layout_book)["Amounts"]
    assert columns(sheet)["gap_amount"][550] == IDR
    assert sheet.cell(row=552, column=2).number_format == "#,##0.00"
    # Calibri's digits are one width unit each; the comma and point are narrower.
    assert sheet.column_dimensions["B"].width >= len("-" + IDR_SHOWN)
    assert sheet.column_dimensions["B"].width <= MAX_WIDTH
    flags = openpyxl.load_workbook(layout_book)["Flags"]
    assert all(d.width <= MAX_WIDTH for d in flags.column_dimensions.values())


def test_a_long_text_column_stops_at_the_cap(tmp_path: Path) -> None:
    frame = pd.DataFrame({"reason": ["x" * 500], "n": [1]})
    book = write_workbook(
        report_of(table("long", "Long", frame, sheet="Long")), tmp_path / "l.xlsx"
    )
    assert openpyxl.load_workbook(book)["Long"].column_dimensions["A"].width == MAX_WIDTH


def test_the_summary_sheet_is_one_table_with_a_row_per_figure(
    sample_book: Path, report: ReportData
) -> None:
    sheet = openpyxl.load_workbook(sample_book)["Summary"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == SUMMARY_HEADER
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:E{len(rows)}"
    body = rows[1:]
    assert all(len(r) <= 5 and r[0] for r in body)  # no blank rows, no blocks beside the table
    by_key = {r[4]: r for r in body if r[4]}
    assert len(by_key) == sum(1 for r in body if r[4])  # every key once
    for section in report.sections:
        for figure in section.figures:
            area, label, value, _, _ = by_key[figure.key]
            assert (area, label) == (section.title, figure.label)
            assert value == pytest.approx(figure.value)
    # the small breakdown tables, a row per number
    kind = by_key["leakage_by_kind[no_order].value"]
    assert kind[1:4] == ("Leakage by kind: no_order, value", 1000.5, None)
    assert by_key["leakage_by_kind[no_order].findings"][3] == "counted as leakage: yes"
    assert by_key["quality_counts[bad_phone, error].issues"][2] == 2
    leakage_note = by_key["leakage_value_at_risk"][3]
    assert leakage_note == report.section("leakage").notes[0]  # type: ignore[union-attr]


def test_a_check_not_run_is_one_summary_row_saying_so(
    bare_report: ReportData, tmp_path: Path
) -> None:
    book = openpyxl.load_workbook(write_workbook(bare_report, tmp_path / "bare.xlsx"))
    rows = list(book["Summary"].iter_rows(values_only=True))
    leakage = [r for r in rows if r[0] == "Revenue leakage"]
    assert leakage == [("Revenue leakage", None, None, leakage[0][3], None)]
    assert "did not run" in leakage[0][3]


def test_import_workbooks_keep_ids_as_text_through_libreoffice(
    soffice: str, tmp_path: Path
) -> None:
    frame = pd.DataFrame({"company_id": [*IDS, None], "erp_customer_id": ["007"] * 8})
    path = write_id_workbook(frame, tmp_path / "crm_import.xlsx", "crm_import")
    assert path is not None
    copied = libreoffice_copy(soffice, [path], tmp_path) / "crm_import.xlsx"
    for book in (path, copied):
        sheet = openpyxl.load_workbook(book)["crm_import"]
        assert columns(sheet) == {"company_id": [*IDS, None], "erp_customer_id": ["007"] * 8}
        for row in sheet.iter_rows(min_row=2, max_row=len(IDS) + 1):
            for cell in row:
                assert (cell.data_type, cell.number_format) == ("s", "@"), (book, cell.value)


def test_libreoffice_reads_booleans_amounts_and_print_setup_as_written(
    soffice: str, layout_book: Path, tmp_path: Path
) -> None:
    book = openpyxl.load_workbook(
        libreoffice_copy(soffice, [layout_book], tmp_path) / "layout.xlsx", data_only=True
    )
    flags = book["Flags"]
    read = columns(flags)
    for name, expected in FLAG_VALUES.items():
        assert read[name] == expected, name
    assert flags.cell(row=2, column=2).data_type == "b"
    amounts = book["Amounts"]
    assert columns(amounts)["gap_amount"][550] == IDR
    assert amounts.column_dimensions["B"].width >= len("-" + IDR_SHOWN)
    assert_prints_landscape_one_page_wide(book["Prefaced"], 3)
    assert_prints_landscape_one_page_wide(book["Summary"], 1)


def test_match_outputs_write_the_import_files_as_workbooks_too(
    matched: tuple[LoadResult, MatchResult], tmp_path: Path
) -> None:
    result = matched[1]
    files = write_match_outputs(result, tmp_path)
    for name, frame in (("crm_import", result.crm_import), ("erp_import", result.erp_import)):
        assert tmp_path / f"{name}.xlsx" in files
        sheet = openpyxl.load_workbook(tmp_path / f"{name}.xlsx")[name]
        read = columns(sheet)
        assert list(read) == list(frame.columns)
        for column in frame.columns:
            expected = [None if pd.isna(v) else str(v) for v in frame[column]]
            assert read[column] == expected, (name, column)
    assert not list(tmp_path.glob(".recon-xlsx-*"))  # scratch files removed


def test_an_import_file_too_long_for_a_sheet_is_left_to_its_csv(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.setattr(excel, "EXCEL_MAX_ROWS", 4)  # header and three rows
    frame = pd.DataFrame({"company_id": ["1", "2", "3", "4"]})
    with caplog.at_level(logging.WARNING, logger="recon.report.excel"):
        assert write_id_workbook(frame, tmp_path / "crm_import.xlsx", "crm_import") is None
    assert not (tmp_path / "crm_import.xlsx").exists()
    assert "crm_import.csv holds them all" in caplog.text
    assert write_id_workbook(frame.head(3), tmp_path / "crm_import.xlsx", "crm_import")
