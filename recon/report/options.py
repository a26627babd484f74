"""How a run writes its outputs: the format of the large tables and the rows a workbook sheet holds.

At a million companies the large tables run to millions of rows: CSV is what everyone can open,
Parquet keeps the types and is several times smaller and faster to read back (pandas, DuckDB,
Spark). A workbook sheet holds the most valuable rows only — a sheet of a million rows is one
nobody opens — and says which file holds them all. Excel reads a CSV as UTF-8 only when it starts
with a byte-order mark: ``csv_bom`` writes one, for people who double-click the files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

TableFormat = Literal["csv", "parquet", "both"]
TABLE_FORMATS: tuple[str, ...] = get_args(TableFormat)
SHEET_ROWS = 50_000  # rows per workbook sheet: opens in seconds, and holds what people act on
MAX_SHEET_ROWS = 1_000_000  # under Excel's 1,048,576 rows a sheet, with room for the header lines

# The tables that grow with the data, written in the chosen format; the rest (review.csv, the
# import files, summaries) stay CSV, the form `recon review apply` and people read them in.
LARGE_TABLES = (
    "xref",
    "matches",
    "duplicates",
    "leakage",
    "quality",
    "monthend_differences",
    "quarantine",
    "canonical",
)


@dataclass(frozen=True)
class OutputOptions:
    """``table_format``: csv (default), parquet or both for the large tables; ``sheet_rows``:
    the rows each workbook sheet holds, most valuable first; ``csv_bom``: every CSV starts with
    the UTF-8 byte-order mark (off by default: some loaders read it as part of the first header)."""

    table_format: TableFormat = "csv"
    sheet_rows: int = SHEET_ROWS
    csv_bom: bool = False

    def __post_init__(self) -> None:
        if self.table_format not in TABLE_FORMATS:
            raise ValueError(f"table format '{self.table_format}'; expected one of {TABLE_FORMATS}")
        if not 1 <= self.sheet_rows <= MAX_SHEET_ROWS:
            raise ValueError(f"sheet rows {self.sheet_rows}; expected 1 to {MAX_SHEET_ROWS:,}")
        if not isinstance(self.csv_bom, bool):
            raise ValueError(f"csv bom {self.csv_bom!r}; expected true or false")

    def file_name(self, stem: str) -> str:
        """The file(s) holding table ``stem``: ``leakage.csv``, ``leakage.parquet`` or both."""
        if stem.split("/")[0] not in LARGE_TABLES or self.table_format == "csv":
            return f"{stem}.csv"
        if self.table_format == "parquet":
            return f"{stem}.parquet"
        return f"{stem}.csv and {stem}.parquet"
