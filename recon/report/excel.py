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
apostrophe: it shows and reads back unchanged and never runs. Amounts are numbers.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
from openpyxl.styles import Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from recon.report.cells import FORMULA_START, column_values
from recon.report.data import Format, ReportData, Section, Table, capped
from recon.report.xlsx_rows import MAX_TEXT, ColumnStyle, splice, write_rows

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
                sheet.append([note_cell(sheet, part.note)])
            else:
                rows[part.name] = _write_table(sheet, part, Path(scratch) / f"{i}.xml")
        book.save(path)
        splice(path, rows)
    log.info("wrote %s", path)
    return path


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
        self.cell = self._make(sheet, fmt, unlocked, quoted=False)
        self.quoted = self._make(sheet, fmt, unlocked, quoted=True)
        self.empty: WriteOnlyCell | None = (
            self._make(sheet, fmt, unlocked, False) if unlocked else None
        )

    @staticmethod
    def _make(sheet: object, fmt: Format, unlocked: bool, quoted: bool) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet)
        cell.number_format = NUMBER_FORMATS[fmt]
        if unlocked:
            cell.protection = Protection(locked=False)
        if quoted:
            cell.quotePrefix = True
        return cell

    def __call__(self, value: object) -> object:
        if value is None:
            return self.empty
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
    for i, (name, fmt) in enumerate(zip(columns, formats, strict=True), start=1):
        sample = column_values(frame[name].head(500), fmt)
        sheet.column_dimensions[get_column_letter(i)].width = _width(name, sample)  # type: ignore[attr-defined]
    sheet.freeze_panes = f"A{top + 1}"  # type: ignore[attr-defined]
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
            m.cell.style_id,
            m.quoted.style_id,
            m.empty.style_id if m.empty is not None else None,
        )
        for m in makers
    ]
    with rows_file.open("wb") as out:
        write_rows(out, [frame[c] for c in columns], styles, first_row=top + 1)
    _decorate(sheet, table, columns, n, top)
    return rows_file, f"A1:{last}{n + top}"


def _width(name: str, values: list[object]) -> float:
    sample = [len(str(v)) for v in values[:500] if v is not None]
    longest = max([len(name) + 2, *sample]) if sample else len(name) + 2
    return float(min(max(longest + 1, 8), 60))


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
