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
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recon.config.models import CsvOptions
from recon.errors import SourceError
from recon.extract.arrow_csv import read_table
from recon.schema import TEXT_DTYPE

log = logging.getLogger(__name__)

CHUNK_ROWS = 100_000
_DELIMITERS = (",", ";", "\t", "|")
_SNIFF_BYTES = 256 * 1024
_SAMPLE_RECORDS = 50  # data rows looked at to recognise a trailing delimiter on every row
_TRAILING = "_trailing"  # the spare column that takes the empty field after a trailing delimiter
_SKIPPED = re.compile(r"Skipping line (\d+): expected (\d+) fields, saw (\d+)")
_NAMES_SHOWN = 8  # header names (or sheet names) quoted in a message
_NAME_SHOWN = 40  # characters of each
NO_HEADER = "no header recon recognises (the first line is not a list of column names)"


def check_is_file(path: Path) -> None:
    """A data file must be a regular file: say what it is instead (a folder, a broken link...)."""
    if path.is_file():
        return
    if path.is_dir():
        raise SourceError(f"{path}: is a folder, not a data file")
    if path.is_symlink():
        raise SourceError(
            f"{path}: is a symbolic link that leads to no file (it loops or its target is gone)"
        )
    if path.exists():
        raise SourceError(f"{path}: is not a regular file (a device, pipe or socket)")
    raise SourceError(f"{path}: file not found")


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


def _sample(path: Path, encoding: str) -> tuple[str, bool]:
    """The start of the file as text, and whether the file goes on past it."""
    with path.open("rb") as fh:
        raw = fh.read(_SNIFF_BYTES + 1)
    return raw[:_SNIFF_BYTES].decode(encoding, errors="replace"), len(raw) > _SNIFF_BYTES


def _first_records(sample: str, cut: bool, delimiter: str) -> list[list[str]]:
    """The first records of the file (header first), without one the sample may have cut short."""
    try:
        records = list(csv.reader(io.StringIO(sample), delimiter=delimiter))
    except csv.Error:  # not CSV at all (a binary file, say): the header check will say so
        records = [sample.splitlines()[0].split(delimiter)]
    if cut and len(records) > 1:
        records = records[:-1]
    return records[: _SAMPLE_RECORDS + 1]


def _header_names(record: list[str]) -> list[str]:
    """Header cells as names: BOM and outer spaces removed; an empty name becomes ``column N``."""
    names = [h.replace("\ufeff", "").strip() for h in record]
    return [name or f"column {i + 1}" for i, name in enumerate(names)]


def shown_name(name: str) -> str:
    """A header name as quoted in a message: printable, at most 40 characters."""
    text = "".join(c if c.isprintable() else "?" for c in name)
    return text if len(text) <= _NAME_SHOWN else text[: _NAME_SHOWN - 1] + "…"


def check_headers(headers: list[str]) -> None:
    """A header naming one column twice (ignoring case) is refused: one of them would be lost."""
    seen: dict[str, str] = {}
    for h in headers:
        key = " ".join(h.split()).casefold()
        if key in seen:
            first = seen[key]
            also = f" (and '{shown_name(first)}')" if first != h else ""
            raise SourceError(
                f"column '{shown_name(h)}' appears twice in the header row{also}; "
                "rename or remove one of them"
            )
        seen[key] = h


@dataclass
class _BadLines:
    """Records the C parser skipped for having more fields than the header: row → field count."""

    fields: dict[int, int] = field(default_factory=dict)

    def take(self, caught: list[warnings.WarningMessage], path: Path) -> None:
        for w in caught:
            if not issubclass(w.category, pd.errors.ParserWarning):
                log.debug("%s: %s", path, w.message)
                continue
            text = str(w.message)
            found = _SKIPPED.findall(text)
            if not found:
                raise SourceError(f"{path}: cannot be read as CSV ({text.strip()[:200]})")
            for line, _expected, seen in found:
                self.fields[int(line)] = int(seen)

    def numbers(self, start: int, count: int) -> np.ndarray:
        """Row numbers of ``count`` parsed records from ``start`` on, stepping over skipped ones."""
        skipped = np.fromiter((r for r in self.fields if r >= start), dtype="int64")
        candidates = np.arange(start, start + count + len(skipped), dtype="int64")
        return candidates[~np.isin(candidates, skipped)][:count]


def read_csv_chunks(
    path: Path,
    options: CsvOptions,
    *,
    chunk_rows: int = CHUNK_ROWS,
    notes: list[str] | None = None,
) -> Iterator[pd.DataFrame]:
    """Yield raw chunks of a delimited text file, detecting encoding and delimiter when asked.

    The header line is parsed as the first record, so pandas never takes extra fields on the first
    data row for an index. A record with more fields than the header is skipped by the fast C
    parser and read again afterwards (only those rows) to be quarantined with its row number. A
    trailing delimiter on every row (an empty last field) is an export habit, read and noted.
    """
    check_is_file(path)
    encoding = detect_encoding(path) if options.encoding == "auto" else options.encoding
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise SourceError(f"{path}: unknown encoding '{encoding}' in the csv options") from exc
    sample, cut = _sample(path, encoding)
    if not sample.strip():
        raise SourceError(f"{path}: the file is empty (no header row)")
    delimiter = detect_delimiter(sample) if options.delimiter == "auto" else options.delimiter
    log.debug("%s: encoding %s, delimiter %r", path, encoding, delimiter)

    records = _first_records(sample, cut, delimiter) or [[""]]
    header = _header_names(records[0])
    try:
        check_headers(header)
    except SourceError as exc:
        raise SourceError(f"{path}: {exc}") from None
    width = len(header)
    data = [r for r in records[1:] if any(f.strip() for f in r)]
    # "a,b,c," on every data row under "a,b,c": one spare column takes the empty last field. A
    # row whose extra field holds a value is still malformed (marked in _finish).
    trailing = (
        bool(data)
        and all(len(r) == width + 1 for r in data)
        and sum(not r[-1].strip() for r in data) * 2 > len(data)
    )
    if trailing:
        header = [*header, _TRAILING]
    if notes is not None and (trailing or (width > 1 and not records[0][-1].strip())):
        notes.append(
            f"{path.name}: every line ends with the delimiter (an empty last field), an export "
            "habit; the empty field is ignored"
        )

    fast = read_table(path, encoding, delimiter, header, width)
    if fast is not None:
        frame, long = fast
        if 1 in long:
            raise SourceError(f"{path}: {NO_HEADER}")
        frame = _settle(frame, header, width)
        for start in range(0, max(len(frame), 1), chunk_rows):  # slices: no copies
            yield frame.iloc[start : start + chunk_rows].reset_index(drop=True)
        return

    bad = _BadLines()
    first, next_row = True, 2
    try:
        reader = pd.read_csv(
            path,
            sep=delimiter,
            encoding=encoding,
            header=None,
            names=list(range(len(header))),
            index_col=False,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            on_bad_lines="warn",
            chunksize=chunk_rows,
            engine="c",
        )
        with reader:
            while True:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", pd.errors.ParserWarning)
                    try:
                        # The first chunk also holds the header line.
                        chunk = reader.get_chunk(chunk_rows + first)
                    except StopIteration:
                        chunk = None
                bad.take(caught, path)
                if 1 in bad.fields:
                    raise SourceError(f"{path}: {NO_HEADER}")
                if chunk is None:
                    break
                if first:
                    chunk, first = chunk.iloc[1:], False  # the header line
                rows = bad.numbers(next_row, len(chunk))
                if len(rows):
                    next_row = int(rows[-1]) + 1
                yield _finish(chunk, header, rows, width)
    except pd.errors.EmptyDataError:
        raise SourceError(f"{path}: the file is empty (no header row)") from None
    except pd.errors.ParserError as exc:
        reason = str(exc).strip().removeprefix("Error tokenizing data. C error: ")
        raise SourceError(f"{path}: cannot be read as CSV ({reason[:200]})") from None
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{path}: cannot be read as {encoding} ({exc.reason} at byte {exc.start}); "
            "set csv.encoding in recon.yaml (for example cp1252 or utf-8)"
        ) from exc
    if bad.fields:
        yield _malformed_chunk(path, encoding, delimiter, header[:width], bad.fields)


def _finish(chunk: pd.DataFrame, header: list[str], rows: np.ndarray, width: int) -> pd.DataFrame:
    """Text dtype, empty cells as NA, row numbers; drop rows that are wholly blank.

    With a spare column for a trailing delimiter, a row whose extra field is not empty has one
    field too many: it is marked, not read with its values shifted.
    """
    chunk.columns = header
    frame = chunk.astype(TEXT_DTYPE).reset_index(drop=True)
    frame = frame.mask(frame.apply(lambda s: s.str.strip() == ""))
    frame["_row"] = rows
    return _settle(frame, header, width)


def _settle(frame: pd.DataFrame, header: list[str], width: int) -> pd.DataFrame:
    """The spare column of a trailing delimiter checked and dropped; wholly blank rows dropped."""
    if _TRAILING in frame.columns:
        spare = frame.pop(_TRAILING)
        if spare.notna().any():
            reason = "row " + frame["_row"].astype("string") + f": {width + 1} fields where "
            reason = reason.where(spare.notna()) + f"the header has {width}"
            if "_error" in frame.columns:
                reason = frame["_error"].fillna(reason)
            frame["_error"] = reason
    blank = frame[header[:width]].isna().all(axis=1)
    if "_error" in frame.columns:
        blank &= frame["_error"].isna()
    if not blank.any():
        return frame
    return frame.loc[~blank].reset_index(drop=True)


def _malformed_chunk(
    path: Path,
    encoding: str,
    delimiter: str,
    header: list[str],
    fields: dict[int, int],
) -> pd.DataFrame:
    """The records the fast parser skipped, read again so they can be quarantined, not lost.

    One pass of the csv module up to the last such row; only files with malformed rows pay it.
    The fields past the header's last column are kept, joined, in that last column.
    """
    width, last = len(header), max(fields)
    rows: list[list[str]] = []
    numbers: list[int] = []
    with path.open(encoding=encoding, newline="") as fh:
        try:
            for number, record in enumerate(csv.reader(fh, delimiter=delimiter), start=1):
                if number in fields:
                    rows.append([*record[: width - 1], delimiter.join(record[width - 1 :])])
                    numbers.append(number)
                if number >= last:
                    break
        except csv.Error as exc:
            raise SourceError(f"{path}: cannot be read as CSV ({exc})") from None
    errors = [f"row {n}: {fields[n]} fields where the header has {width}" for n in numbers]
    frame = pd.DataFrame(rows, columns=header, dtype=object).astype(TEXT_DTYPE)
    frame = frame.mask(frame.apply(lambda s: s.str.strip() == ""))
    frame["_row"] = np.asarray(numbers, dtype="int64")
    frame["_error"] = pd.array(errors, dtype=TEXT_DTYPE)
    return frame


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
    path: Path,
    sheet: str | None,
    *,
    chunk_rows: int = CHUNK_ROWS,
    notes: list[str] | None = None,
) -> Iterator[pd.DataFrame]:
    """Yield raw chunks of one worksheet: the named sheet, else the first visible one.

    When no sheet is configured and the workbook has several, a note names the sheet read (and
    any hidden sheets passed over). A workbook openpyxl cannot read, down to a damaged sheet deep
    in the file, is a SourceError naming the file and sheet, never a traceback.
    """
    import openpyxl

    check_is_file(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl, zipfile and XML parsers raise many kinds
        raise SourceError(f"{path}: not a readable .xlsx workbook ({_short(exc)})") from exc
    try:
        ws = _pick_sheet(path, book, sheet, notes)
        yield from _sheet_chunks(path, ws, chunk_rows)
    finally:
        book.close()


def _pick_sheet(path: Path, book: Any, sheet: str | None, notes: list[str] | None) -> Any:
    if sheet is not None:
        if sheet not in book.sheetnames:
            listed = ", ".join(shown_name(s) for s in book.sheetnames[:_NAMES_SHOWN])
            raise SourceError(f"{path}: no sheet named '{sheet}'; sheets: {listed}")
        return book[sheet]
    sheets = book.worksheets
    if not sheets:
        raise SourceError(f"{path}: the workbook has no worksheets")
    visible = [ws for ws in sheets if getattr(ws, "sheet_state", "visible") == "visible"]
    hidden = [ws.title for ws in sheets if ws not in visible]
    ws = visible[0] if visible else sheets[0]
    if notes is not None and len(sheets) > 1:
        if not visible:
            why = "every sheet is hidden; the first was read"
        elif hidden:
            why = "the first visible sheet; hidden sheets skipped: " + ", ".join(
                f"'{shown_name(t)}'" for t in hidden[:_NAMES_SHOWN]
            )
        else:
            why = "the first sheet"
        notes.append(
            f"{path.name}: sheet '{shown_name(ws.title)}' read ({why}); "
            "set sheet: in recon.yaml to choose another"
        )
    return ws


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def _sheet_rows(path: Path, ws: Any) -> Iterator[tuple[int, tuple[object, ...]]]:
    """The sheet's rows with their numbers; a damaged sheet becomes a SourceError."""
    rows = enumerate(ws.iter_rows(values_only=True), start=1)
    while True:
        try:
            item = next(rows, None)
        except Exception as exc:  # the sheet XML or its zip entry is damaged
            raise SourceError(
                f"{path}: sheet '{shown_name(ws.title)}' cannot be read; the workbook is "
                f"damaged ({_short(exc)}); open and save it again in Excel, or export it as CSV"
            ) from exc
        if item is None:
            return
        yield item


def _sheet_chunks(path: Path, ws: Any, chunk_rows: int) -> Iterator[pd.DataFrame]:
    rows_iter = _sheet_rows(path, ws)
    header: list[str] | None = None
    for _number, values in rows_iter:
        if any(cell_text(v) is not None for v in values):
            header = [cell_text(v) or f"column {i + 1}" for i, v in enumerate(values)]
            break
    if header is None:
        raise SourceError(f"{path}: the sheet '{shown_name(ws.title)}' is empty (no header row)")
    header = [h.strip() for h in header]
    while header and header[-1].startswith("column ") and len(header) > 1:
        header.pop()  # trailing unnamed columns are Excel formatting, not data
    try:
        check_headers(header)
    except SourceError as exc:
        raise SourceError(f"{path}: {exc}") from None
    width = len(header)
    rows: list[list[str | None]] = []
    numbers: list[int] = []
    emitted = False
    for number, values in rows_iter:
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
