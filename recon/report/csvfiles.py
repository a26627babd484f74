"""Write frames as CSV that is safe to open in a spreadsheet and loses no digits, and the large
tables as Parquet (or both) when asked.

CSV is UTF-8; with ``bom`` (``OutputOptions.csv_bom``) it starts with the byte-order mark Excel
needs to read it as UTF-8 when double-clicked (without it, Excel reads "Société" as "SociÃ©tÃ©").
recon reads its own files back either way.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as csv
import pyarrow.parquet as pq

from recon.report.options import TableFormat

# A cell starting with one of these runs as a formula in Excel or LibreOffice.
FORMULA_START = re.compile(r"^[=+\-@\t\r]")


# The same characters as FORMULA_START, as the first byte of a cell's UTF-8 text.
_FORMULA_BYTES = pa.array([c.encode() for c in "=+-@\t\r"], type=pa.binary())


def escape_formula(text: pa.Array) -> pa.Array:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe."""
    first = pc.binary_slice(text.cast(pa.binary()), 0, 1)
    runs = pc.fill_null(pc.is_in(first, value_set=_FORMULA_BYTES), False)
    if not pc.any(runs).as_py():
        return text
    return pc.if_else(runs, pc.binary_join_element_wise("'", text, ""), text)


def format_amounts(amounts: pa.Array) -> pa.Array:
    """Plain decimal text with at least two decimals: '1234.50', never '1.2345e+03'; zeros
    after the second decimal dropped ('12.3400' → '12.34')."""
    text = pc.cast(amounts, pa.string())
    extra = amounts.type.scale - 2
    if extra <= 0:
        return text
    head = pc.utf8_slice_codeunits(text, 0, -extra)
    tail = pc.utf8_rtrim(pc.utf8_slice_codeunits(text, -extra), characters="0")
    return pc.binary_join_element_wise(head, tail, "")


def _csv_column(col: pd.Series) -> pa.Array:
    """One column as the Arrow array the CSV shows: amounts and dates as text, formulas escaped,
    missing values empty (never 'nan')."""
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(dtype):
        col = col.astype("string")
    values = pa.array(col, from_pandas=True)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    kind = values.type
    if pa.types.is_decimal(kind):
        return format_amounts(values)
    if pa.types.is_timestamp(kind):
        return pc.strftime(values, "%Y-%m-%d")
    if pa.types.is_dictionary(kind):
        values = values.dictionary_decode()
        kind = values.type
    if pa.types.is_large_string(kind):
        values = values.cast(pa.string())
        kind = values.type
    if pa.types.is_string(kind):
        return escape_formula(values)
    if pa.types.is_nested(kind):  # lists, as pandas would print them
        return escape_formula(pa.array(col.astype(str).where(col.notna()), type=pa.string()))
    return values


def csv_ready(frame: pd.DataFrame) -> pa.Table:
    return pa.table({str(name): _csv_column(col) for name, col in frame.items()})


def write_csv(frame: pd.DataFrame, path: Path, *, bom: bool = False) -> Path:
    """Arrow's writer (an order of magnitude faster than pandas' at a million rows); it quotes
    every text cell and the header, which CSV readers and spreadsheets read as they would the
    same cells unquoted. ``bom``: start with the UTF-8 byte-order mark, for Excel."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        if bom:
            out.write(codecs.BOM_UTF8)
        csv.write_csv(csv_ready(frame), out, csv.WriteOptions(batch_size=65_536))
    return path


def parquet_ready(frame: pd.DataFrame) -> pa.Table:
    """The frame as an Arrow table with its own types (exact decimals, dates, text); a column of
    mixed Python objects (a quarantined cell as read) is written as text."""
    columns = {}
    for name, col in frame.items():
        if pd.api.types.is_object_dtype(col.dtype):
            col = col.astype("string")
        columns[str(name)] = pa.array(col, from_pandas=True)
    return pa.table(columns)


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(parquet_ready(frame), path, compression="zstd")
    return path


def write_table(
    frame: pd.DataFrame, path: Path, table_format: TableFormat = "csv", *, bom: bool = False
) -> list[Path]:
    """A large table as ``path`` (.csv), its .parquet sibling, or both (``table_format``);
    ``bom``: the CSV starts with the UTF-8 byte-order mark."""
    files = []
    if table_format in ("csv", "both"):
        files.append(write_csv(frame, path, bom=bom))
    if table_format in ("parquet", "both"):
        files.append(write_parquet(frame, path.with_suffix(".parquet")))
    return files
