"""Read a delimited text file with Arrow's multi-threaded CSV reader, as raw text chunks.

The fast path of ``recon.extract.files.read_csv_chunks``: every field is read as text (ids keep
their zeros, amounts their separators), blank cells become NA, and each row keeps the number a
spreadsheet shows (the header is row 1). Rows whose field count differs from the header's are read
again single-threaded, where Arrow knows their numbers: a short row is padded (as a spreadsheet
shows it), a long one is kept whole for the quarantine with ``_error`` saying why. What Arrow
cannot read at all (text that is not in the file's encoding) returns None, and the caller reads
the file the slow way, which names the byte or line. So does a file with an odd number of quote
characters: Arrow would read a quote never closed as a field running to the end of the file, and
only the slow reader tells that apart from a stray quote inside a field.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from recon.schema import TEXT_DTYPE

_ARROW_ENCODINGS = {"utf-8": "utf8", "utf-8-sig": "utf8", "utf8": "utf8"}


@dataclass
class _Odd:
    """Rows whose field count is not the header's: record number, field count, raw text."""

    rows: list[tuple[int, int, str]] = field(default_factory=list)
    numbered: bool = True

    def handler(self, row: pcsv.InvalidRow) -> str:
        if row.number is None:
            self.numbered = False
        self.rows.append((row.number or 0, row.actual_columns, row.text))
        return "skip"


def read_table(
    path: Path, encoding: str, delimiter: str, header: list[str], width: int
) -> tuple[pd.DataFrame, dict[int, int]] | None:
    """The whole file as one raw frame (header line dropped), and the rows with too many fields
    (row number → field count); None when Arrow cannot read the file.

    ``header`` names the columns (with a spare column for a trailing delimiter); ``width`` is the
    header's own field count, which messages quote.
    """
    if encoding.lower().startswith(("utf-16", "utf-32")) or not _quotes_paired(path):
        return None
    table, odd = _read(path, encoding, delimiter, len(header), threads=True)
    if table is not None and odd.rows:
        table, odd = _read(path, encoding, delimiter, len(header), threads=False)
    if table is None or not odd.numbered:
        return None
    numbers = _numbers(table.num_rows, [number for number, _, _ in odd.rows])
    frame = _frame(table, header, numbers)
    long: dict[int, int] = {}
    if odd.rows:
        extra, long = _odd_rows(odd.rows, header, width, delimiter)
        frame = pd.concat([frame, extra], ignore_index=True)
        frame = frame.sort_values("_row", kind="stable", ignore_index=True)
    if len(frame) and frame["_row"].iat[0] == 1:
        frame = frame.iloc[1:].reset_index(drop=True)  # the header line (a slice, not a copy)
    return frame, long


def _quotes_paired(path: Path) -> bool:
    """Whether the file has an even number of ``"`` (every quoted field closed)."""
    count = 0
    with path.open("rb") as fh:
        while block := fh.read(1 << 24):
            count += block.count(b'"')
    return count % 2 == 0


def _read(
    path: Path, encoding: str, delimiter: str, columns: int, *, threads: bool
) -> tuple[pa.Table | None, _Odd]:
    odd = _Odd()
    names = [str(i) for i in range(columns)]
    try:
        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(
                use_threads=threads,
                column_names=names,
                encoding=_ARROW_ENCODINGS.get(encoding.lower(), encoding),
            ),
            parse_options=pcsv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=odd.handler,
            ),
            convert_options=pcsv.ConvertOptions(
                # pandas' Arrow strings are large_string: read them so, no cast afterwards
                column_types=dict.fromkeys(names, pa.large_string()),
                null_values=[""],
                strings_can_be_null=True,
            ),
        )
    except (pa.ArrowException, UnicodeError, LookupError, ValueError):
        return None, odd
    return table, odd


def _numbers(kept: int, skipped: list[int]) -> np.ndarray:
    """Record numbers of the rows Arrow kept: 1, 2, ... stepping over the skipped ones."""
    if not skipped:
        return np.arange(1, kept + 1, dtype="int64")
    candidates = np.arange(1, kept + len(skipped) + 1, dtype="int64")
    return candidates[~np.isin(candidates, np.asarray(skipped, dtype="int64"))]


def _frame(table: pa.Table, header: list[str], numbers: np.ndarray) -> pd.DataFrame:
    """Text columns with blank cells as NA (Arrow read empty cells so), and row numbers."""
    out = {}
    for name, column in zip(header, table.columns, strict=True):
        spaces = pc.utf8_is_space(column)  # as Python's isspace(); rare, so checked first
        if pc.any(spaces).as_py():
            column = pc.if_else(spaces, pa.scalar(None, column.type), column)
        out[name] = pd.array(column, TEXT_DTYPE)
    frame = pd.DataFrame(out)
    frame["_row"] = numbers
    return frame


def _odd_rows(
    rows: list[tuple[int, int, str]], header: list[str], width: int, delimiter: str
) -> tuple[pd.DataFrame, dict[int, int]]:
    """The rows Arrow skipped: short ones padded with NA; long ones with the fields past the
    header's last column joined into it, and ``_error``. Only malformed files have any."""
    columns = len(header)
    values: list[list[str | None]] = []
    errors: list[str | None] = []
    long: dict[int, int] = {}
    for number, count, text in rows:
        record = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
        if count > columns:
            joined = [*record[: width - 1], delimiter.join(record[width - 1 :])]
            values.append(joined + [None] * (columns - width))
            errors.append(f"row {number}: {count} fields where the header has {width}")
            long[number] = count
        else:
            values.append(record + [None] * (columns - len(record)))
            errors.append(None)
    frame = pd.DataFrame(values, columns=header, dtype=object).astype(TEXT_DTYPE)
    frame = frame.mask(frame.apply(lambda s: s.str.strip() == ""))
    frame["_row"] = np.asarray([number for number, _, _ in rows], dtype="int64")
    if long:
        frame["_error"] = pd.array(errors, dtype=TEXT_DTYPE)
    return frame, long
