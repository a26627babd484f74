"""Exact arithmetic on amount columns (``AMOUNT_DTYPE``, Arrow decimal128(38, 4)).

Arrow widens the precision of every sum or quotient and refuses anything past 38 digits, so the
operands are narrowed first (no amount comes near 10^20) and each result is cast back. Money is
never routed through floats: the month-end tie-out must hold to the last decimal.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.schema import AMOUNT_DTYPE

_NARROW = pa.decimal128(24, 4)
_RATE = pa.decimal128(8, 4)
_FULL = AMOUNT_DTYPE.pyarrow_dtype


def _arrow(values: pd.Series) -> pa.ChunkedArray:
    return pa.chunked_array(values.astype(AMOUNT_DTYPE).array.__arrow_array__()).cast(_NARROW)


def _series(values: pa.ChunkedArray | pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(pd.array(values.cast(_FULL), dtype=AMOUNT_DTYPE), index=index)


def amounts(values: Iterable[object], index: pd.Index | None = None) -> pd.Series:
    """An amount column from Decimals, ints or numeric strings (None stays missing)."""
    items = [None if v is None else Decimal(str(v)) for v in values]
    return pd.Series(pd.array(items, dtype=AMOUNT_DTYPE), index=index)


def zeros(index: pd.Index) -> pd.Series:
    return amounts([0] * len(index), index)


def filled(values: pd.Series) -> pd.Series:
    """Missing amounts as 0, for sums that must count every row."""
    return values.astype(AMOUNT_DTYPE).fillna(Decimal(0))


def add(a: pd.Series, b: pd.Series) -> pd.Series:
    return _series(pc.add(_arrow(a), _arrow(b.reindex(a.index))), a.index)


def sub(a: pd.Series, b: pd.Series) -> pd.Series:
    return _series(pc.subtract(_arrow(a), _arrow(b.reindex(a.index))), a.index)


def neg(a: pd.Series) -> pd.Series:
    return _series(pc.negate(_arrow(a)), a.index)


def ex_tax(gross: pd.Series, rate: pd.Series) -> pd.Series:
    """``gross / (1 + rate)`` rounded half-even to 4 decimals (rate 0.11 means 11%)."""
    rates = pa.chunked_array(rate.astype(AMOUNT_DTYPE).array.__arrow_array__()).cast(_RATE)
    one_plus = pc.add(rates, pa.scalar(Decimal(1), _RATE)).cast(_RATE)
    quotient = pc.divide(_arrow(gross), one_plus)
    return _series(pc.round(quotient, 4, round_mode="half_to_even"), gross.index)


def times_rate(amount: pd.Series, rate: pd.Series) -> pd.Series:
    """``amount × rate`` rounded half-even to 4 decimals."""
    rates = pa.chunked_array(rate.astype(AMOUNT_DTYPE).array.__arrow_array__()).cast(_RATE)
    product = pc.multiply(_arrow(amount), rates)
    return _series(pc.round(product, 4, round_mode="half_to_even"), amount.index)


def absolute(values: pd.Series) -> pd.Series:
    return _series(pc.abs(_arrow(values)), values.index)


def total(values: pd.Series) -> Decimal:
    result = filled(values).sum()
    return Decimal(str(result))


def text(values: pd.Series) -> pd.Series:
    """'1234.50': at least two decimals, trailing zeros after them dropped. In Arrow: pandas'
    astype("string") of a decimal column goes value by value."""
    digits = pc.cast(
        pa.chunked_array(values.astype(AMOUNT_DTYPE).array.__arrow_array__()), pa.string()
    )
    trimmed = pc.replace_substring_regex(digits, r"^(-?\d+\.\d\d\d*?)0+$", r"\1")
    return pd.Series(pd.array(trimmed, dtype="string"), index=values.index)


def floats(values: pd.Series) -> np.ndarray:
    """An amount column as float64 (NaN where missing), for shares and scores, never for totals
    that must tie out. Arrow casts a decimal column at once; pandas' astype goes value by value
    (about 1 s per million)."""
    if isinstance(values.dtype, pd.ArrowDtype):
        cast = pc.cast(pa.chunked_array(values.array.__arrow_array__()), pa.float64())
        return cast.to_numpy().astype(float, copy=False)
    return values.astype("float64").to_numpy(dtype=float, na_value=np.nan)
