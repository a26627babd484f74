"""Write frames as CSV that is safe to open in a spreadsheet and loses no digits, and the large
tables as Parquet (or both) when asked."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from recon.report.options import TableFormat

# A cell starting with one of these runs as a formula in Excel or LibreOffice.
FORMULA_START = re.compile(r"^[=+\-@\t\r]")


def escape_formula(values: pd.Series) -> pd.Series:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe."""
    text = values.astype("string")
    return text.mask(text.str.contains(FORMULA_START.pattern, regex=True, na=False), "'" + text)


def format_amounts(values: pd.Series) -> pd.Series:
    """Plain decimal text with at least two decimals: '1234.50', never '1.2345e+03'."""
    text = values.astype("string")
    return text.str.replace(r"^(-?\d+\.\d\d\d*?)0+$", r"\1", regex=True)


def csv_ready(frame: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for name, col in frame.items():
        dtype = col.dtype
        if isinstance(dtype, pd.ArrowDtype) and "decimal" in str(dtype):
            out[name] = format_amounts(col)
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            out[name] = col.dt.strftime("%Y-%m-%d").astype("string")
        elif pd.api.types.is_bool_dtype(dtype):
            out[name] = col.map({True: "true", False: "false"}).astype("string")
        elif pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
            out[name] = escape_formula(col)
        else:
            out[name] = col
    return pd.DataFrame(out, index=frame.index)


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    csv_ready(frame).to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
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


def write_table(frame: pd.DataFrame, path: Path, table_format: TableFormat = "csv") -> list[Path]:
    """A large table as ``path`` (.csv), its .parquet sibling, or both (``table_format``)."""
    files = []
    if table_format in ("csv", "both"):
        files.append(write_csv(frame, path))
    if table_format in ("parquet", "both"):
        files.append(write_parquet(frame, path.with_suffix(".parquet")))
    return files
