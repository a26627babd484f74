"""Read CSV and Excel exports into raw chunks: source headers, text values, spreadsheet row numbers.

A raw chunk is a DataFrame with one text column per source column (missing = NA), an int64 ``_row``
column (the row a user sees in a spreadsheet: the header is row 1), and optionally ``_error`` (a
reason the row could not be read at all, such as a wrong number of fields; such rows are quarantined).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from recon.config.models import CsvOptions
from recon.errors import SourceError
from recon.schema import TEXT_DTYPE

log = logging.getLogger(__name__)

CHUNK_ROWS = 100_000
_DELIMITERS = (",", ";", "\t", "|")
_SNIFF_BYTES = 256 * 1024


def detect_encoding(path: Path) -> str:
    """BOM first; else strict UTF-8 over the whole file; else Windows-1252 (the usual Excel export).

    The whole file is checked because one accented name deep in a file decides it.
    """
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        fh.seek(0)
        utf8 = codecs.getincrementaldecoder("utf-8")()
        try:
            while block := fh.read(1 << 20):
                utf8.decode(block)
            utf8.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
        fh.seek(0)
        cp1252 = codecs.getincrementaldecoder("cp1252")()
        try:
            while block := fh.read(1 << 20):
                cp1252.decode(block)
            return "cp1252"
        except UnicodeDecodeError:
            # cp1252 leaves five bytes undefined; latin-1 maps every byte, so nothing is lost.
            return "latin-1"


def detect_delimiter(sample: str) -> str:
    """The candidate that splits the first lines into the most, equally many, fields."""
    lines = sample.splitlines()[:50]
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line of a sample may be cut
    best, best_score = ",", (0, 0)
    for delim in _DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delim))
        except csv.Error:
            continue
        widths = [len(r) for r in rows if r]
        if not widths or widths[0] < 2:
            continue
        consistent = sum(w == widths[0] for w in widths)
        score = (consistent, widths[0])
        if score > best_score:
            best, best_score = delim, score
    return best


def _sample(path: Path, encoding: str) -> str:
    with path.open("rb") as fh:
        raw = fh.read(_SNIFF_BYTES)
    return raw.decode(encoding, errors="replace")


def read_csv_chunks(
    path: Path, options: CsvOptions, *, chunk_rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """Yield raw chunks of a delimited text file, detecting encoding and delimiter when asked."""
    if not path.is_file():
        raise SourceError(f"{path}: file not found")
    encoding = detect_encoding(path) if options.encoding == "auto" else options.encoding
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise SourceError(f"{path}: unknown encoding '{encoding}' in the csv options") from exc
    sample = _sample(path, encoding)
    if not sample.strip():
        raise SourceError(f"{path}: the file is empty (no header row)")
    delimiter = detect_delimiter(sample) if options.delimiter == "auto" else options.delimiter
    log.debug("%s: encoding %s, delimiter %r", path, encoding, delimiter)

    done = 0
    try:
        reader = pd.read_csv(
            path,
            sep=delimiter,
            encoding=encoding,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            chunksize=chunk_rows,
            engine="c",
        )
        with reader:
            for chunk in reader:
                out = _finish(chunk, start_row=done + 2)
                done += len(chunk)
                yield out
        if done == 0:
            # Header only: an empty chunk keeps the columns for the missing-column check.
            header = pd.read_csv(path, sep=delimiter, encoding=encoding, dtype=str, nrows=0)
            yield _finish(header, start_row=2)
    except pd.errors.EmptyDataError:
        raise SourceError(f"{path}: the file is empty (no header row)") from None
    except pd.errors.ParserError:
        # A row with more fields than the header: read the rest with the csv module so the
        # offending rows are quarantined with their row number instead of failing the file.
        log.info("%s: malformed rows after record %d; reading the rest row by row", path, done)
        yield from _fallback_chunks(path, encoding, delimiter, skip=done, chunk_rows=chunk_rows)
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{path}: cannot be read as {encoding} ({exc.reason} at byte {exc.start}); "
            "set csv.encoding in recon.yaml (for example cp1252 or utf-8)"
        ) from exc


def _finish(chunk: pd.DataFrame, *, start_row: int) -> pd.DataFrame:
    """Text dtype, empty cells as NA, row numbers; drop rows that are wholly blank."""
    chunk.columns = [str(c).strip().lstrip("\ufeff") for c in chunk.columns]
    frame = chunk.astype(TEXT_DTYPE)
    frame = frame.mask(frame.apply(lambda s: s.str.strip() == ""))
    frame["_row"] = np.arange(start_row, start_row + len(frame), dtype="int64")
    blank = frame.drop(columns="_row").isna().all(axis=1)
    return frame.loc[~blank].reset_index(drop=True)


def _check_headers(headers: list[str]) -> None:
    seen: set[str] = set()
    for h in headers:
        key = h.casefold()
        if key in seen:
            raise SourceError(f"column '{h}' appears twice in the header row")
        seen.add(key)


def _fallback_chunks(
    path: Path, encoding: str, delimiter: str, *, skip: int, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
        width = len(header)
        rows: list[list[str]] = []
        numbers: list[int] = []
        errors: list[str | None] = []
        for index, record in enumerate(reader):
            if index < skip:
                continue
            numbers.append(index + 2)
            if len(record) > width:
                errors.append(f"has {len(record)} fields, the header has {width}")
                rows.append([*record[: width - 1], delimiter.join(record[width - 1 :])])
            else:
                errors.append(None)
                rows.append(record + [""] * (width - len(record)))
            if len(rows) >= chunk_rows:
                yield _fallback_frame(header, rows, numbers, errors)
                rows, numbers, errors = [], [], []
        if rows:
            yield _fallback_frame(header, rows, numbers, errors)


def _fallback_frame(
    header: list[str], rows: list[list[str]], numbers: list[int], errors: list[str | None]
) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=header, dtype=object).astype(TEXT_DTYPE)
    frame = frame.mask(frame.apply(lambda s: s.str.strip() == ""))
    frame["_row"] = np.asarray(numbers, dtype="int64")
    frame["_error"] = pd.array(errors, dtype=TEXT_DTYPE)
    blank = frame.drop(columns=["_row", "_error"]).isna().all(axis=1) & frame["_error"].isna()
    return frame.loc[~blank].reset_index(drop=True)


# --- Excel -----------------------------------------------------------------------------------


def cell_text(value: object) -> str | None:
    """An Excel cell as lossless text: whole floats without '.0' or exponent, dates as ISO."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return np.format_float_positional(value, trim="-")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep="T", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None


def read_excel_chunks(
    path: Path, sheet: str | None, *, chunk_rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """Yield raw chunks of one worksheet (the named sheet, else the first)."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    if not path.is_file():
        raise SourceError(f"{path}: file not found")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise SourceError(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    try:
        if sheet is None:
            ws = book.worksheets[0]
        elif sheet in book.sheetnames:
            ws = book[sheet]
        else:
            raise SourceError(
                f"{path}: no sheet named '{sheet}'; sheets: {', '.join(book.sheetnames)}"
            )
        yield from _sheet_chunks(path, ws, chunk_rows)
    finally:
        book.close()


def _sheet_chunks(path: Path, ws: object, chunk_rows: int) -> Iterator[pd.DataFrame]:
    rows_iter = ws.iter_rows(values_only=True)  # type: ignore[attr-defined]
    header: list[str] | None = None
    header_row = 0
    for number, values in enumerate(rows_iter, start=1):
        if any(cell_text(v) is not None for v in values):
            header = [cell_text(v) or f"column {i + 1}" for i, v in enumerate(values)]
            header_row = number
            break
    if header is None:
        raise SourceError(f"{path}: the sheet is empty (no header row)")
    header = [h.strip() for h in header]
    while header and header[-1].startswith("column ") and len(header) > 1:
        header.pop()  # trailing unnamed columns are Excel formatting, not data
    try:
        _check_headers(header)
    except SourceError as exc:
        raise SourceError(f"{path}: {exc}") from None
    width = len(header)
    rows: list[list[str | None]] = []
    numbers: list[int] = []
    emitted = False
    for number, values in enumerate(rows_iter, start=header_row + 1):
        cells = [cell_text(v) for v in values[:width]]
        if not any(c is not None for c in cells):
            continue
        rows.append(cells + [None] * (width - len(cells)))
        numbers.append(number)
        if len(rows) >= chunk_rows:
            yield _excel_frame(header, rows, numbers)
            emitted = True
            rows, numbers = [], []
    if rows or not emitted:
        yield _excel_frame(header, rows, numbers)


def _excel_frame(
    header: list[str], rows: list[list[str | None]], numbers: list[int]
) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=header, dtype=object).astype(TEXT_DTYPE)
    frame["_row"] = np.asarray(numbers, dtype="int64")
    return frame
