"""The workbook's first two sheets: README (what each sheet holds, rules, inputs) and Summary
(every key figure, then the small breakdown tables)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from recon.report.cells import column_values
from recon.report.data import Format, ReportData
from recon.report.excel import NUMBER_FORMATS, CellMaker, header_cells, note_cell

if TYPE_CHECKING:
    import datetime as dt

    from recon.report.excel import SheetPart

TITLE_FONT = Font(bold=True, size=14)
BOLD = Font(bold=True)


def _title(sheet: object, text: str, font: Font = BOLD) -> list[object]:
    cell = WriteOnlyCell(sheet, value=text)
    cell.font = font
    return [cell]


def _value(sheet: object, value: object, fmt: Format) -> object:
    return CellMaker(sheet, fmt)(value)


def _as_of(day: dt.date | None, source: str) -> list[list[object]]:
    """The README sheet's as-of row (none when the report has no as-of day)."""
    if day is None:
        return []
    return [["as of", f"{day.isoformat()}, {source}" if source else day.isoformat()]]


def write_readme(sheet: object, report: ReportData, plan: list[SheetPart]) -> None:
    run = report.run
    for letter, width in zip("ABCDE", (24, 90, 14, 40, 30), strict=True):
        sheet.column_dimensions[letter].width = width  # type: ignore[attr-defined]
    rows: list[list[object]] = [
        _title(sheet, "recon report", TITLE_FONT),
        ["generated at", run.generated_at.isoformat(sep=" ")],
        *_as_of(run.as_of, run.as_of_source),
        ["recon version", run.recon_version],
        ["base currency", run.base_currency],
        *[[f"{k} threshold", v] for k, v in run.thresholds.items()],
        [],
        _title(sheet, "Sheets"),
        header_cells(sheet, ["sheet", "what it holds", "rows", "rows in all", "every row in"]),
        ["Summary", "Every key figure of the report, then the small breakdown tables."],
    ]
    for part in plan:
        if part.table is None:
            rows.append([part.name, note_cell(sheet, part.note), 0])
            continue
        what = part.table.description or part.table.title
        if part.table.note:
            what += " " + part.table.note
        t = part.table
        rows.append(
            [part.name, what, _value(sheet, t.rows, "int"), _value(sheet, t.total, "int"), t.file]
        )
    rows += [
        [],
        ["", "A check that did not run keeps its sheet with one line saying so, so the workbook "
         "always has the same sheets. The Review sheet is protected except decision, reviewer, "
         "reviewed_on and comment (no password: it guards against accidental edits)."],
        [],
        _title(sheet, "Inputs"),
        header_cells(sheet, ["table", "source", "rows read", "preset"]),
    ]  # fmt: skip
    for i in run.inputs:
        rows.append(
            [
                i.table,
                CellMaker(sheet, "text")(i.source),
                _value(sheet, i.rows_read, "int"),
                i.preset,
            ]
        )
    if run.rules:
        rows += [[], _title(sheet, "Rules"), header_cells(sheet, ["file", "sha256 (first 12)"])]
        rows += [[name, digest] for name, digest in run.rules]
    for note in run.notes:
        rows.append(["note", note])
    for row in rows:
        sheet.append(row)  # type: ignore[attr-defined]


def write_summary(sheet: object, report: ReportData) -> None:
    for letter, width in zip("ABCDEFGH", (34, 40, 18, 18, 18, 18, 18, 18), strict=True):
        sheet.column_dimensions[letter].width = width  # type: ignore[attr-defined]
    sheet.freeze_panes = "A2"  # type: ignore[attr-defined]
    sheet.append(header_cells(sheet, ["section", "figure", "value", "key"]))  # type: ignore[attr-defined]
    for section in report.sections:
        if not section.ran:
            sheet.append([section.title, note_cell(sheet, section.notes[0])])  # type: ignore[attr-defined]
            continue
        for f in section.figures:
            sheet.append([section.title, f.label, _value(sheet, f.value, f.fmt), f.key])  # type: ignore[attr-defined]
    for section in report.sections:
        for table in section.tables:
            if table.sheet is not None:
                continue
            columns = [str(c) for c in table.frame.columns]
            formats = [table.formats.get(c, "text") for c in columns]
            sheet.append([])  # type: ignore[attr-defined]
            sheet.append(_title(sheet, table.title))  # type: ignore[attr-defined]
            sheet.append(header_cells(sheet, columns))  # type: ignore[attr-defined]
            values = [
                column_values(table.frame[c], f) for c, f in zip(columns, formats, strict=True)
            ]
            makers = [CellMaker(sheet, f) for f in formats]
            for r in range(table.rows):
                sheet.append([m(col[r]) for m, col in zip(makers, values, strict=True)])  # type: ignore[attr-defined]


__all__ = ["NUMBER_FORMATS", "write_readme", "write_summary"]
