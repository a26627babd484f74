"""Render ReportData as an Excel workbook: openpyxl in write-only mode writes every sheet's frame
(widths, frozen header, filter, formats, validations, protection) and the data rows of detail
sheets stream through ``xlsx_rows`` (about 10x faster than openpyxl's per-cell path).

Sheets: README, Summary, then one sheet per detail table (Xref, Matches, Review, Duplicates, Xref
claims, Leakage, Month-end, Month-end detail, Data quality, Quarantined rows). A check that did not
run keeps its sheet, holding one line that says so: the workbook always has the same sheets, so
links and macros people build on it keep working. A sheet holds the table's most valuable rows
(``OutputOptions.sheet_rows``, applied when ReportData is built); when rows were left out, a note
beside the header and on README names the file that holds them all.

IDs and text are written as text; text that a spreadsheet would run as a formula (= + - @ tab
CR) is stored as a string with Excel's quote prefix, the form Excel itself gives a typed leading
apostrophe: it shows and reads back unchanged and never runs. Amounts are numbers, yes/no columns
Excel booleans (TRUE/FALSE, which filter and count as such). A column is as wide as its widest
shown value (an amount of 1,234,567,890,123.00 rupiah shows whole, not as ####), up to
``MAX_WIDTH``. Every sheet prints landscape, one page wide, with its header row on each page.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
from openpyxl.styles import Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties

from recon.report.cells import FORMULA_START, column_values, format_value, is_flag_column
from recon.report.data import Format, ReportData, Section, Table, capped
from recon.report.data import table as new_table
from recon.report.xlsx_rows import MAX_TEXT, ColumnStyle, numbers, splice, write_rows

log = logging.getLogger(__name__)

EXCEL_MAX_ROWS = 1_048_576  # rows per sheet, header included
NUMBER_FORMATS: dict[str, str] = {
    "id": "@",
    "text": "@",
    "int": "#,##0",
    "amount": "#,##0.00",
    "score": "0.0000",
    "date": "yyyy-mm-dd",
}
FLAG_FORMAT = "General"  # TRUE / FALSE
MAX_WIDTH = 60  # characters: a longer text shows cut on the sheet, whole in the cell
SAMPLE = 500  # text values measured for a column's width (numbers: the whole column)
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
NOTE_FONT = Font(italic=True, color="7F6000")
RED_FILL = PatternFill("solid", fgColor="F8CBAD")
AMBER_FILL = PatternFill("solid", fgColor="FFE699")


@dataclass(frozen=True)
class SheetPart:
    """One sheet of the workbook: a table, or a note for a check not run."""

    name: str
    section: Section
    table: Table | None = None
    note: str = ""


def sheet_plan(report: ReportData) -> list[SheetPart]:
    plan: list[SheetPart] = []
    for section in report.sections:
        if not section.ran:
            plan += [SheetPart(s, section, note=section.notes[0]) for s in section.sheets]
            continue
        produced = set()
        for table in section.tables:
            name = table.sheet
            if name is None:
                continue
            produced.add(name)
            limit = EXCEL_MAX_ROWS - 1 - len(table.preface)
            if table.rows > limit:  # ReportData built without the cap: what Excel can hold
                table = capped(table, limit, table.file)
            plan.append(SheetPart(name, section, table))
        for name in section.sheets:
            if name not in produced:
                note = f"{section.title}: this table was not produced in this run."
                plan.append(SheetPart(name, section, note=note))
    return plan


def write_workbook(report: ReportData, path: Path) -> Path:
    from recon.report.excel_front import write_readme, write_summary

    path.parent.mkdir(parents=True, exist_ok=True)
    plan = sheet_plan(report)
    book = Workbook(write_only=True)
    write_readme(book.create_sheet("README"), report, plan)
    write_summary(book.create_sheet("Summary"), report)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".recon-xlsx-") as scratch:
        rows: dict[str, tuple[Path, str]] = {}
        for i, part in enumerate(plan):
            sheet = book.create_sheet(part.name)
            if part.table is None:
                print_setup(sheet, header_row=1)
                sheet.append([note_cell(sheet, part.note)])
            else:
                rows[part.name] = _write_table(sheet, part, Path(scratch) / f"{i}.xml")
        book.save(path)
        splice(path, rows)
    log.info("wrote %s", path)
    return path


def write_id_workbook(frame: pd.DataFrame, path: Path, sheet_name: str) -> Path | None:
    """``frame`` as a one-sheet workbook whose every cell is text (number format "@"), for a file
    people import: an ID such as 000023 or 1234567890123456789 stays as written, where Excel
    opening a CSV turns it into 23 or 1.23457E+18. None, with a warning, when the rows do not fit
    one sheet (the CSV beside it holds them all)."""
    if len(frame) > EXCEL_MAX_ROWS - 1:
        log.warning(
            "%s not written: %s rows do not fit one sheet (%s); %s holds them all",
            path.name, f"{len(frame):,}", f"{EXCEL_MAX_ROWS - 1:,}", path.with_suffix(".csv").name,
        )  # fmt: skip
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    ids = new_table(sheet_name, sheet_name, frame, formats={str(c): "id" for c in frame.columns})
    part = SheetPart(sheet_name, Section(sheet_name, sheet_name), ids)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".recon-xlsx-") as scratch:
        rows = {sheet_name: _write_table(sheet, part, Path(scratch) / "rows.xml")}
        book.save(path)
        splice(path, rows)
    return path


def print_setup(sheet: object, header_row: int) -> None:
    """Landscape, one page wide (as many pages down as it takes), the header on every page."""
    setup = sheet.page_setup  # type: ignore[attr-defined]
    setup.orientation = "landscape"
    setup.fitToWidth = 1
    setup.fitToHeight = 0  # no limit on the pages down
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)  # type: ignore[attr-defined]
    sheet.print_title_rows = f"{header_row}:{header_row}"  # type: ignore[attr-defined]


def note_cell(sheet: object, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=text)
    cell.font = NOTE_FONT
    return cell


def header_cells(sheet: object, names: list[str]) -> list[WriteOnlyCell]:
    cells = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cells.append(cell)
    return cells


class CellMaker:
    """Cells of one column. The writer serialises each row as it is appended, so one styled cell
    per column is reused for every row instead of styling millions of new cells."""

    def __init__(self, sheet: object, fmt: Format, *, unlocked: bool = False) -> None:
        self.fmt = fmt
        self.text = fmt in ("id", "text")
        number_format = NUMBER_FORMATS[fmt]
        self.cell = self._make(sheet, number_format, unlocked, quoted=False)
        self.quoted = self._make(sheet, number_format, unlocked, quoted=True)
        self.flag = self._make(sheet, FLAG_FORMAT, unlocked, quoted=False)
        self.empty: WriteOnlyCell | None = (
            self._make(sheet, number_format, unlocked, False) if unlocked else None
        )

    @staticmethod
    def _make(sheet: object, number_format: str, unlocked: bool, quoted: bool) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet)
        cell.number_format = number_format
        if unlocked:
            cell.protection = Protection(locked=False)
        if quoted:
            cell.quotePrefix = True
        return cell

    def __call__(self, value: object) -> object:
        if value is None:
            return self.empty
        if isinstance(value, bool | np.bool_):  # a boolean cell, whatever the column's format
            self.flag.value = bool(value)
            return self.flag
        if self.text:
            text = ILLEGAL_CHARACTERS_RE.sub("", str(value))[:MAX_TEXT]
            if FORMULA_START.match(text):
                self.quoted.value = text
                self.quoted.data_type = "s"  # a string, never a formula
                return self.quoted
            self.cell.value = text
            return self.cell
        self.cell.value = value
        return self.cell


def _write_table(sheet: object, part: SheetPart, rows_file: Path) -> tuple[Path, str]:
    """The sheet's frame through openpyxl; its data rows to ``rows_file`` (spliced in later)."""
    table = part.table
    assert table is not None
    frame = table.frame
    columns = [str(c) for c in frame.columns]
    formats = [table.formats.get(c, "text") for c in columns]
    n = len(frame)
    last = get_column_letter(max(len(columns), 1))
    preface = table.preface
    top = len(preface) + 1  # the header's row: below the table's summary lines, if any
    flags = [is_flag_column(frame[name]) for name in columns]
    for i, (name, fmt, flag) in enumerate(zip(columns, formats, flags, strict=True), start=1):
        width = column_width(name, frame[name], fmt, flag=flag)
        sheet.column_dimensions[get_column_letter(i)].width = width  # type: ignore[attr-defined]
    sheet.freeze_panes = f"A{top + 1}"  # type: ignore[attr-defined]
    print_setup(sheet, header_row=top)
    if columns:
        sheet.auto_filter.ref = f"A{top}:{last}{n + top}"  # type: ignore[attr-defined]
    makers = [
        CellMaker(sheet, f, unlocked=c in table.editable)
        for c, f in zip(columns, formats, strict=True)
    ]
    header: list[object] = header_cells(sheet, columns)
    if table.note:  # beside the header: where the rows left out of the sheet are
        header.append(note_cell(sheet, table.note))
    for line in preface:
        sheet.append([note_cell(sheet, line)])  # type: ignore[attr-defined]
    sheet.append(header)  # type: ignore[attr-defined]
    styles = [
        ColumnStyle(
            m.fmt,
            m.flag.style_id if flag else m.cell.style_id,
            m.quoted.style_id,
            m.empty.style_id if m.empty is not None else None,
            flag=flag,
        )
        for m, flag in zip(makers, flags, strict=True)
    ]
    with rows_file.open("wb") as out:
        write_rows(out, [frame[c] for c in columns], styles, first_row=top + 1)
    _decorate(sheet, table, columns, n, top)
    return rows_file, f"A1:{last}{n + top}"


def column_width(name: str, values: pd.Series, fmt: Format, *, flag: bool = False) -> float:
    """Characters for a column to show its header (beside the filter button) and its widest value
    as the sheet shows it: numbers as formatted (1,234,567,890,123.00), from the largest and the
    smallest of the whole column; text from its first ``SAMPLE`` values; at most ``MAX_WIDTH``."""
    shown = [len(name) + 3]
    if flag:
        shown.append(len("FALSE"))
    elif fmt == "date":
        shown.append(len("2026-12-31"))
    elif fmt in ("int", "amount", "score"):
        low, high = pc.min_max(numbers(values, fmt)).values()
        shown += [len(format_value(v.as_py(), fmt)) for v in (low, high) if v.is_valid]
    else:
        sample = column_values(values.head(SAMPLE), fmt)
        shown += [len(str(v)) for v in sample if v is not None]
    return float(min(max(max(shown) + 2, 8), MAX_WIDTH))


def _decorate(sheet: object, table: Table, columns: list[str], n: int, top: int = 1) -> None:
    """Conditional formats, drop-downs and protection; all written after the rows (the header
    is on row ``top``)."""
    last_row = max(n + top, top + 1)

    def span(column: str) -> str:
        letter = get_column_letter(columns.index(column) + 1)
        return f"{letter}{top + 1}:{letter}{last_row}"

    formatting = sheet.conditional_formatting  # type: ignore[attr-defined]
    for column, kind in table.highlight.items():
        if column not in columns:
            continue
        if kind == "score":
            rule = ColorScaleRule(
                start_type="num", start_value=0, start_color="F8696B",
                mid_type="num", mid_value=0.5, mid_color="FFEB84",
                end_type="num", end_value=1, end_color="63BE7B",
            )  # fmt: skip
            formatting.add(span(column), rule)
        elif kind == "gap":
            formatting.add(
                span(column), CellIsRule(operator="greaterThan", formula=["0"], fill=RED_FILL)
            )
            formatting.add(
                span(column), CellIsRule(operator="lessThan", formula=["0"], fill=AMBER_FILL)
            )
    for column, options in table.choices.items():
        if column in columns:
            listed = DataValidation(
                type="list",
                formula1='"' + ",".join(options) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=f"{column}",
                error=f"Choose one of: {', '.join(options)}.",
                promptTitle=column,
                prompt=" / ".join(options),
                showInputMessage=True,
            )
            listed.add(span(column))
            sheet.data_validations.append(listed)  # type: ignore[attr-defined]
    for column in table.editable:
        if column in columns and table.formats.get(column) == "date":
            dated = DataValidation(
                type="date",
                operator="greaterThan",
                formula1="1",
                allow_blank=True,
                showErrorMessage=True,
                error="Enter a date such as 2026-10-31.",
            )
            dated.add(span(column))
            sheet.data_validations.append(dated)  # type: ignore[attr-defined]
    if table.editable:
        # Keys cannot be edited by accident; no password, since this guards mistakes, not people.
        protection = sheet.protection  # type: ignore[attr-defined]
        protection.sheet = True
        protection.autoFilter = False
        protection.sort = False
        protection.formatColumns = False
        protection.formatRows = False
        protection.selectLockedCells = False
        protection.selectUnlockedCells = False
