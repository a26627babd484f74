"""Arrow helpers the quality checks share: trimmed text, presence, pattern tests, web hosts.

Every check reads whole columns through pyarrow kernels (RE2), so a million records cost a few
passes over memory, never a Python call per row.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

STRING = pa.large_string()


def text(frame: pd.DataFrame, column: str | None) -> pa.Array:
    """A column as trimmed Arrow text; all null when the frame lacks it (or ``column`` is None)."""
    if column is None or column not in frame.columns:
        return pa.nulls(len(frame), STRING)
    values = frame[column]
    if not pd.api.types.is_string_dtype(values.dtype):
        values = values.astype("string")
    arr = pa.array(values.astype(pd.StringDtype("pyarrow")).array).cast(STRING)
    return pc.utf8_trim_whitespace(arr)


def series_text(values: pd.Series) -> pa.Array:
    """A text Series as Arrow text, untrimmed (ids are kept exactly)."""
    return pa.array(values.astype(pd.StringDtype("pyarrow")).array).cast(STRING)


def mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow result as numpy, null read as false."""
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


def present(values: pa.Array, missing_words: Iterable[str] = ()) -> np.ndarray:
    """Holds a value: not null, not blank, not a missing-value word ("n/a", any case)."""
    words = pa.array(sorted(set(missing_words) | {""}), STRING)
    return ~mask(pc.is_null(values)) & ~mask(pc.is_in(pc.utf8_lower(values), value_set=words))


def matches(values: pa.Array, pattern: str) -> np.ndarray:
    return mask(pc.match_substring_regex(values, pattern))


def hosts(values: pa.Array) -> pa.Array:
    """The lower-case host of a web address or e-mail: "https://WWW.Acme.com/x" → "acme.com",
    "Sales <sales@acme.co.id>" → "acme.co.id"; null when there is no host to read."""
    low = pc.utf8_lower(values)
    after_at = pc.extract_regex(low, r"@(?P<host>[a-z0-9.-]+)")
    web = pc.extract_regex(low, r"^(?:[a-z]+://)?(?:www[0-9]?\.)?(?P<host>[a-z0-9.-]+)")
    host = pc.if_else(
        pc.match_substring(low, "@"),
        pc.struct_field(after_at, "host"),
        pc.struct_field(web, "host"),
    )
    host = pc.utf8_rtrim(host, ".")
    return pc.if_else(pc.match_substring(host, "."), host, pa.scalar(None, STRING))


def parent_domain(host: pa.Array) -> pa.Array:
    """The host without its first label ("mail.yahoo.com" → "yahoo.com")."""
    return pc.replace_substring_regex(host, r"^[^.]*\.", "", max_replacements=1)


def take(values: pa.Array, rows: np.ndarray) -> pa.Array:
    return values.take(pa.array(rows, pa.int64()))


def put(values: pa.Array, rows: np.ndarray, new: pa.Array) -> pa.Array:
    """``values`` with ``rows`` replaced by ``new`` (in that order)."""
    where = np.zeros(len(values), dtype=bool)
    where[rows] = True
    order = np.argsort(rows, kind="stable")
    return pc.replace_with_mask(values.cast(STRING), pa.array(where), new.cast(STRING).take(order))


def to_series(values: pa.Array) -> pd.Series:
    return pd.Series(pd.arrays.ArrowStringArray(values.cast(STRING)), dtype=pd.StringDtype())
