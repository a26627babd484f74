"""Cell values for the renderers: one column of a frame as plain Python values by its format."""

from __future__ import annotations

import pandas as pd

from recon.report.csvfiles import FORMULA_START
from recon.report.data import Format

__all__ = ["FORMULA_START", "column_values", "flag_values", "is_flag_column"]


def column_values(values: pd.Series, fmt: Format) -> list[object]:
    """None for missing; float for amounts and scores; int; datetime.date; str for IDs and text."""
    if fmt in ("amount", "score"):
        if isinstance(values.dtype, pd.ArrowDtype):
            values = values.astype("float64")
        out = pd.to_numeric(values, errors="coerce").astype("float64")
    elif fmt == "int":
        out = pd.to_numeric(values, errors="coerce").astype("Int64")
    elif fmt == "date":
        stamps = pd.to_datetime(values, errors="coerce")
        return [None if pd.isna(v) else v.date() for v in stamps]
    else:
        out = values.astype("string")
    return out.astype(object).where(out.notna(), None).tolist()


def is_flag_column(values: pd.Series) -> bool:
    """True for a column of yes/no values: a boolean dtype (NumPy, pandas' nullable or Arrow), or
    Python ``True``/``False`` with gaps. The text "True" is text: it is never guessed to be a flag."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return True
    if not pd.api.types.is_object_dtype(values.dtype) or not values.notna().any():
        return False
    return pd.api.types.infer_dtype(values, skipna=True) == "boolean"


def flag_values(values: pd.Series) -> list[bool | None]:
    """A flag column's cells: ``True``, ``False`` or None where missing."""
    return [None if pd.isna(v) else bool(v) for v in values.astype(object)]


def format_value(value: object, fmt: Format) -> str:
    """How a figure reads on the page: 1,234 and 1,234.50 and 0.9731."""
    if value is None:
        return ""
    if fmt == "int" and isinstance(value, int | float):
        return f"{value:,.0f}"
    if fmt == "amount" and isinstance(value, int | float):
        return f"{value:,.2f}"
    if fmt == "score" and isinstance(value, int | float):
        return f"{value:.4f}"
    return str(value)
