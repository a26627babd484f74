"""Read reviewed pairs back from the Excel workbook's Review sheet(s) or from review.csv.

Columns are found by their header in row 1 (case and spaces ignored), so a reviewer may reorder or
add columns. In a workbook every sheet whose row 1 holds the review columns is read: the Review
sheet, and its continuations when a large one was split over several sheets.

A workbook's cells are read as the values its formulas last computed. A formula a program wrote
(openpyxl writes none of those values) reads as empty: such a cell is marked unreadable on its
row, never taken for an empty decision.
"""

from __future__ import annotations

import logging
import re
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from recon.config.models import CsvOptions
from recon.errors import SourceError
from recon.extract.files import cell_text, read_csv_chunks
from recon.report.csvfiles import FORMULA_START

log = logging.getLogger(__name__)

KEY_COLUMNS = ("left_system", "left_id", "left_name", "right_system", "right_id", "right_name")
REQUIRED = (*KEY_COLUMNS, "decision", "reviewer")
OPTIONAL = ("reviewed_on", "comment")


@dataclass(frozen=True)
class ReviewRow:
    """One data row of a review file: where it is, and its cells by review column (None = empty)."""

    file: str
    sheet: str | None
    row: int
    cells: dict[str, str | None]
    error: str | None = None  # the row could not be read as a whole (such as too many fields)
    # review column -> why its cell could not be read (a formula with no saved value)
    unreadable: dict[str, str] = field(default_factory=dict)

    def where(self, column: str | None = None) -> str:
        parts = [self.file, *([f"sheet {self.sheet}"] if self.sheet else []), f"row {self.row}"]
        return ", ".join([*parts, *([f"column {column}"] if column else [])])


def read_review_files(paths: list[Path]) -> list[ReviewRow]:
    rows: list[ReviewRow] = []
    for path in paths:
        rows.extend(read_review_file(path))
    return rows


def read_review_file(path: Path) -> list[ReviewRow]:
    if not path.is_file():
        raise SourceError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_workbook(path)
    if suffix in (".csv", ".txt", ".tsv"):
        return _read_csv(path)
    raise SourceError(f"{path}: expected a reviewed .xlsx workbook or a review .csv file")


def _columns(headers: list[object], where: str) -> dict[str, int] | None:
    """Review column -> position, or None when the header row is not a review header at all."""
    found: dict[str, int] = {}
    for i, header in enumerate(headers):
        key = "_".join(str(header or "").strip().lower().split())
        if key in (*REQUIRED, *OPTIONAL):
            if key in found:
                raise SourceError(f"{where}: column '{key}' appears twice in the header row")
            found[key] = i
    if not {"left_id", "right_id", "decision"} <= set(found):
        return None
    missing = [c for c in REQUIRED if c not in found]
    if missing:
        raise SourceError(
            f"{where}: row 1 has no column {', '.join(missing)}; the review columns are "
            f"{', '.join((*REQUIRED, *OPTIONAL))}"
        )
    return found


def _unescape(text: str | None) -> str | None:
    """Undo the apostrophe recon puts before text a spreadsheet would run as a formula."""
    if text is not None and text.startswith("'") and FORMULA_START.match(text[1:]):
        return text[1:]
    return text


def _row(
    file: str, sheet: str | None, number: int, values: list[str | None], where: dict[str, int]
) -> ReviewRow:
    cells = {c: _unescape(values[i]) if i < len(values) else None for c, i in where.items()}
    return ReviewRow(file, sheet, number, cells)


def _open_book(path: Path, *, data_only: bool):  # -> openpyxl Workbook
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise SourceError(f"{path}: not a readable .xlsx workbook ({exc})") from exc


def _read_workbook(path: Path) -> list[ReviewRow]:
    book = _open_book(path, data_only=True)
    rows: list[ReviewRow] = []
    sheets = 0
    try:
        for ws in book.worksheets:
            ws.reset_dimensions()  # some writers record a wrong used range; read all rows
            lines = ws.iter_rows(values_only=True)
            header = next(lines, None)
            where = _columns(list(header or ()), f"{path}, sheet {ws.title}")
            if where is None:
                continue
            sheets += 1
            found: dict[int, ReviewRow] = {}
            for number, values in enumerate(lines, start=2):
                text = [cell_text(v) for v in values]
                if any(t is not None for t in text):
                    found[number] = _row(str(path), ws.title, number, text, where)
            if _has_formulas(path, getattr(ws, "_worksheet_path", None)):
                found = _unsaved_formulas(path, ws.title, where, found)
            rows.extend(found[n] for n in sorted(found))
    finally:
        book.close()
    if not sheets:
        raise SourceError(
            f"{path}: no sheet has the review columns ({', '.join(REQUIRED)}) in row 1; "
            f"sheets: {', '.join(book.sheetnames)}"
        )
    log.info("%s: %d review rows from %d sheet(s)", path, len(rows), sheets)
    return rows


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[ >/]")
_SCAN_BYTES = 1 << 20


def _has_formulas(path: Path, member: str | None) -> bool:
    """Whether the sheet's XML holds a formula at all: one streamed pass over the compressed
    part, so that a workbook without formulas (recon's own) is not read twice. True when the
    part cannot be named."""
    if not member:
        return True
    try:
        with zipfile.ZipFile(path) as archive, archive.open(member.lstrip("/")) as part:
            tail = b""
            while chunk := part.read(_SCAN_BYTES):
                if _FORMULA_TAG.search(tail + chunk):
                    return True
                tail = chunk[-16:]
    except (KeyError, zipfile.BadZipFile, OSError):
        return True
    return False


def _is_formula(value: object) -> bool:
    """A cell read without computed values: a formula is its text ("=IF(...)") or, for an array
    formula, an object carrying it."""
    if isinstance(value, str):
        return value.startswith("=")
    return hasattr(value, "text") and str(getattr(value, "text", "")).startswith("=")


def _unsaved_formulas(
    path: Path, sheet: str, where: dict[str, int], found: dict[int, ReviewRow]
) -> dict[int, ReviewRow]:
    """``found`` (row number -> row) with every review cell that read as empty but holds a
    formula marked unreadable: its value was never saved (a program wrote the file)."""
    book = _open_book(path, data_only=False)
    out = dict(found)
    try:
        lines = book[sheet].iter_rows(min_row=2, values_only=True)
        for number, values in enumerate(lines, start=2):
            known = out.get(number)
            bad = {
                column: (
                    f"{column} is a formula with no saved value: open and save the file in "
                    f"Excel or LibreOffice, or type the {column}"
                )
                for column, i in where.items()
                if i < len(values)
                and _is_formula(values[i])
                and (known is None or known.cells.get(column) is None)
            }
            if not bad:
                continue
            if known is None:
                known = ReviewRow(str(path), sheet, number, dict.fromkeys(where))
            out[number] = replace(known, unreadable={**known.unreadable, **bad})
    finally:
        book.close()
    return out


def _read_csv(path: Path) -> list[ReviewRow]:
    rows: list[ReviewRow] = []
    for chunk in read_csv_chunks(path, CsvOptions()):
        data = [c for c in chunk.columns if c not in ("_row", "_error")]
        where = _columns(list(data), str(path))
        if where is None:
            raise SourceError(
                f"{path}: row 1 is not a review header; expected the columns "
                f"{', '.join((*REQUIRED, *OPTIONAL))}"
            )
        errors = chunk["_error"] if "_error" in chunk.columns else None
        for i, record in enumerate(chunk[data].itertuples(index=False, name=None)):
            values = [None if pd.isna(v) else str(v) for v in record]
            row = _row(str(path), None, int(chunk["_row"].iat[i]), values, where)
            error = None if errors is None or errors.isna().iat[i] else str(errors.iat[i])
            rows.append(ReviewRow(row.file, None, row.row, row.cells, error))
    log.info("%s: %d review rows", path, len(rows))
    return rows
