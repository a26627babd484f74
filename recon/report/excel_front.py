"""The workbook's first two sheets: README (what each sheet holds, rules, inputs) and Summary
(one table, a row per figure: the key figures, then the small breakdown tables' numbers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from recon.report.cells import column_values, flag_values, format_value, is_flag_column
from recon.report.data import Format, ReportData, Table
from recon.report.excel import (
    MAX_WIDTH,
    NUMBER_FORMATS,
    CellMaker,
    header_cells,
    note_cell,
    print_setup,
)

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
        [
            "Summary",
            "Every figure of the report, one row each: the key figures of each area, "
            "then the numbers of its small breakdown tables.",
        ],
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
    print_setup(sheet, header_row=1)
    for row in rows:
        sheet.append(row)  # type: ignore[attr-defined]


SUMMARY_COLUMNS = ["Area", "Figure", "Value", "Note", "Key"]


def summary_rows(report: ReportData) -> list[tuple[str, str, object, Format, str, str]]:
    """The Summary sheet's rows: (area, figure, value, format, note, key), one per figure.

    A section's key figures first, its notes beside the first of them; then each small breakdown
    table, flattened: one row per number of each of its rows ("Leakage by kind: no_order,
    findings"), its other text in the note. A check that did not run is one row saying so."""
    rows: list[tuple[str, str, object, Format, str, str]] = []
    for section in report.sections:
        if not section.ran:
            rows.append((section.title, "", None, "text", " ".join(section.notes), ""))
            continue
        notes = " ".join(section.notes)
        for f in section.figures:
            rows.append((section.title, f.label, f.value, f.fmt, notes, f.key))
            notes = ""
        if notes:
            rows.append((section.title, "", None, "text", notes, ""))
        for t in section.tables:
            if t.sheet is None:
                rows += _breakdown_rows(section.title, t)
    return rows


_NUMBERS = ("int", "amount", "score")


def _breakdown_rows(area: str, t: Table) -> list[tuple[str, str, object, Format, str, str]]:
    columns = [str(c) for c in t.frame.columns]
    formats = [t.formats.get(c, "text") for c in columns]
    flags = [is_flag_column(t.frame[c]) for c in columns]
    values = [
        flag_values(t.frame[c]) if flag else column_values(t.frame[c], f)
        for c, f, flag in zip(columns, formats, flags, strict=True)
    ]
    # What names a row: its leading text columns (at most two), or a "<x>_from", "<x>_to" range.
    label = next((i for i, f in enumerate(formats) if f in _NUMBERS or flags[i]), len(columns))
    label = min(label, 2)
    ranged = (
        label == 0
        and len(columns) > 1
        and columns[0].endswith("_from")
        and columns[1] == columns[0].removesuffix("_from") + "_to"
    )
    rows: list[tuple[str, str, object, Format, str, str]] = []
    for r in range(t.rows):
        if ranged:
            low, high = (format_value(values[i][r], formats[i]) for i in (0, 1))
            name = f"{_words(columns[0].removesuffix('_from'))} {low}–{high}"
            keys, named = [f"{low}-{high}"], {0, 1}
        else:
            parts = [str(values[i][r]) for i in range(label) if values[i][r] not in (None, "")]
            parts = parts or [f"row {r + 1}"]  # nothing names the row: its place does
            name, keys, named = ", ".join(parts), parts, set(range(label))
        note = "; ".join(
            f"{_words(columns[i])}: {values[i][r]}"
            for i in range(len(columns))
            if i not in named
            and formats[i] not in _NUMBERS
            and not flags[i]
            and values[i][r] not in (None, "")
        )
        if r == 0 and t.note:
            note = f"{t.note} {note}".strip()
        measured = [
            i
            for i in range(len(columns))
            if i not in named and (formats[i] in _NUMBERS or flags[i] or formats[i] == "date")
        ]
        if not measured:
            rows.append((area, f"{t.title}: {name}", None, "text", note, ""))
            continue
        for i in measured:
            figure = f"{t.title}: {name}, {_words(columns[i])}"
            key = f"{t.key}[{', '.join(keys)}].{columns[i]}"
            rows.append((area, figure, values[i][r], formats[i], note, key))
            note = ""
    return rows


def _words(column: str) -> str:
    return column.replace("_", " ")


def write_summary(sheet: object, report: ReportData) -> None:
    """One table: a header row, then a row per figure (``summary_rows``), to filter and sort."""
    rows = summary_rows(report)
    shown = [
        [area, figure, format_value(value, fmt), note, key]
        for area, figure, value, fmt, note, key in rows
    ]
    widths = [
        max([len(name) + 3, *(len(row[i]) for row in shown)]) + 2
        for i, name in enumerate(SUMMARY_COLUMNS)
    ]
    for letter, width, cap in zip("ABCDE", widths, (40, MAX_WIDTH, 30, MAX_WIDTH, 40), strict=True):
        sheet.column_dimensions[letter].width = min(width, cap)  # type: ignore[attr-defined]
    sheet.freeze_panes = "A2"  # type: ignore[attr-defined]
    sheet.auto_filter.ref = f"A1:E{len(rows) + 1}"  # type: ignore[attr-defined]
    print_setup(sheet, header_row=1)
    sheet.append(header_cells(sheet, SUMMARY_COLUMNS))  # type: ignore[attr-defined]
    for area, figure, value, fmt, note, key in rows:
        remark = note_cell(sheet, note) if note else None
        row = [area, figure, _value(sheet, value, fmt), remark, key or None]
        sheet.append(row)  # type: ignore[attr-defined]


__all__ = ["NUMBER_FORMATS", "write_readme", "write_summary"]
