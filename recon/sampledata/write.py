"""Write generated sample data as CSV files plus the truth files and truth_meta.json.

CSV: UTF-8 without BOM, comma-delimited, ``\\n`` line ends, a header row, a cell quoted only when it
holds a comma, a quote or a line break; missing values are empty cells. The cells are the tables'
text as generated (ISO dates, amounts with a dot and two decimals, ``true``/``false``). The lines
are built with Arrow's string kernels in chunks, so a million-row table is written in seconds.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.sampledata.generate import SampleData

log = logging.getLogger(__name__)

CHUNK_ROWS = 250_000
TRUTH_FILES = ("truth_entities", "truth_leakage", "truth_quarantine", "truth_orders",
               "truth_hard_negatives")  # fmt: skip


def write(data: SampleData, out: Path) -> list[Path]:
    """Write ``<table>.csv`` for each table, the truth CSVs and truth_meta.json into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in data.tables.items():
        paths.append(write_csv(frame, out / f"{name}.csv"))
    for name in TRUTH_FILES:
        frame = getattr(data, name)
        if name == "truth_leakage":
            frame = frame.assign(gap_amount=_two_decimals(frame["gap_amount"]))
        paths.append(write_csv(frame, out / f"{name}.csv"))
    meta = out / "truth_meta.json"
    meta.write_text(
        json.dumps(data.meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    paths.append(meta)
    log.info("wrote %d files to %s", len(paths), out)
    return paths


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    with path.open("wb") as fh:
        fh.write((",".join(_quote_header(c) for c in frame.columns) + "\n").encode("utf-8"))
        for start in range(0, len(frame), CHUNK_ROWS):
            chunk = frame.iloc[start : start + CHUNK_ROWS]
            cells = [_cells(chunk[c]) for c in frame.columns]
            row = pc.binary_join_element_wise(*cells, ",")
            lines = pc.binary_join_element_wise(row, "\n", "")
            fh.write(_data(lines))
    return path


def _data(lines: pa.Array) -> memoryview:
    """The UTF-8 bytes of all values of a string array, back to back."""
    lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    offsets = np.frombuffer(
        lines.buffers()[1],
        dtype=_offset_type(lines),
        count=len(lines) + 1,
        offset=lines.offset * _offset_type(lines).itemsize,
    )
    return memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])]


def _offset_type(lines: pa.Array) -> np.dtype:
    return np.dtype(np.int64 if pa.types.is_large_string(lines.type) else np.int32)


def _cells(values: pd.Series) -> pa.Array:
    """CSV cells: quoted (with inner quotes doubled) only where needed, empty for missing."""
    arr = pa.array(values.astype("string"), type=pa.string(), from_pandas=True)
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    needs = None
    for special in (",", '"', "\n", "\r"):
        found = pc.fill_null(pc.match_substring(arr, special), False)
        needs = found if needs is None else pc.or_(needs, found)
    if needs is not None and pc.any(needs).as_py():
        inner = pc.replace_substring(arr.filter(needs), pattern='"', replacement='""')
        quoted = pc.binary_join_element_wise('"', inner, '"', "")
        arr = pc.replace_with_mask(arr, needs, quoted)
    return pc.fill_null(arr, "")


def _quote_header(name: str) -> str:
    return f'"{name}"' if any(c in name for c in ',"\r\n') else name


def _two_decimals(values: pd.Series) -> pd.Series:
    cents = pa.array(values).cast(pa.decimal128(38, 2))
    return pd.Series(pc.cast(cents, pa.string()).to_pylist(), index=values.index, dtype="string")
