"""Vectorized text kernels the normalizers share: distinct-value codes, and byte-level edits of
Arrow string arrays.

A regular-expression replacement in Arrow costs about a tenth of a microsecond per match, and a
column of a million names or phone numbers has millions of matches (every space, bracket or
dash). Deleting or mapping ASCII characters works on the UTF-8 bytes instead, with numpy, in a
few passes over the data buffer: safe for any text, because the bytes of a multi-byte UTF-8
character are never ASCII.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

STRING = pa.large_string()


def as_array(values: pd.Series | pd.api.extensions.ExtensionArray | pa.Array) -> pa.Array:
    """One contiguous ``large_string`` Arrow array (offset 0) of a text column."""
    if isinstance(values, pd.Series):
        values = values.array
    if not isinstance(values, pa.Array | pa.ChunkedArray):
        values = pa.array(values)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if values.type != STRING:
        values = values.cast(STRING)
    if values.offset:
        values = pa.concat_arrays([values])
    return values


def _parts(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64)[: len(arr) + 1]
    if buffers[2] is None or not len(arr):
        return offsets, np.zeros(0, dtype=np.uint8)
    return offsets, np.frombuffer(buffers[2], dtype=np.uint8)[offsets[0] : offsets[-1]]


def _rebuild(arr: pa.Array, offsets: np.ndarray, data: np.ndarray) -> pa.Array:
    return pa.Array.from_buffers(
        STRING,
        len(arr),
        [arr.buffers()[0], pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(data))],
        null_count=arr.null_count,
    )


def _table(chars: str) -> np.ndarray:
    if not chars.isascii():
        raise ValueError(f"only ASCII characters can be edited byte by byte: {chars!r}")
    table = np.zeros(256, dtype=bool)
    table[np.frombuffer(chars.encode(), dtype=np.uint8)] = True
    return table


def _without(arr: pa.Array, offsets: np.ndarray, data: np.ndarray, drop: np.ndarray) -> pa.Array:
    """``arr`` (its ``offsets`` and ``data``, maybe edited in place of its own) less the bytes
    marked in ``drop``."""
    offsets = offsets - offsets[0]
    where = np.flatnonzero(drop)
    if not where.size:
        return _rebuild(arr, offsets, data)
    owner = np.searchsorted(offsets, where, side="right") - 1
    removed = np.zeros(len(offsets), dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=len(arr)), out=removed[1:])
    return _rebuild(arr, offsets - removed, data[~drop])


def delete_ascii(values: pa.Array, chars: str) -> pa.Array:
    """Each value without the (ASCII) characters in ``chars``: ``delete_ascii(a, " ()-")``."""
    arr = as_array(values)
    offsets, data = _parts(arr)
    return _without(arr, offsets, data, _table(chars)[data])


def spaces_for(values: pa.Array, chars: str) -> pa.Array:
    """Each value with the (ASCII) characters in ``chars`` turned into spaces, and every run of
    spaces into one (leading and trailing spaces stay, as one)."""
    arr = as_array(values)
    offsets, data = _parts(arr)
    if not len(data):
        return arr
    table = np.arange(256, dtype=np.uint8)
    table[_table(chars)] = ord(" ")
    data = table[data]
    space = data == ord(" ")
    repeat = np.zeros(len(data), dtype=bool)
    repeat[1:] = space[1:] & space[:-1]
    starts = offsets[:-1] - offsets[0]
    repeat[starts[starts < len(data)]] = False  # a value's first byte follows another value
    return _without(arr, offsets, data, repeat)


def scatter(n: int, rows: np.ndarray, values: pa.Array, base: pa.Array | None = None) -> pa.Array:
    """An array of ``n`` values: ``values`` at ``rows`` (ascending or not), ``base`` (or null)
    elsewhere."""
    values = as_array(values)
    base = as_array(base) if base is not None else pa.nulls(1, STRING)
    pick = np.arange(n, dtype=np.int64) if len(base) == n else np.zeros(n, dtype=np.int64)
    pick[rows] = len(base) + np.arange(len(rows))
    return pa.concat_arrays([base, values]).take(pa.array(pick))


def where_some(
    values: pa.Array,
    rows: np.ndarray,
    edit: Callable[[pa.Array], pa.Array],
    source: pa.Array | None = None,
) -> pa.Array:
    """``values`` with the ``rows`` (a boolean mask) replaced by ``edit`` of those rows of
    ``source`` (default: of ``values``): an edit that few rows need, run on those rows only."""
    arr = as_array(values)
    where = np.flatnonzero(rows)
    if not where.size:
        return arr
    edited = as_array(edit(as_array(source if source is not None else arr).take(pa.array(where))))
    pick = np.arange(len(arr), dtype=np.int64)
    pick[where] = len(arr) + np.arange(len(where))
    return pa.concat_arrays([arr, edited]).take(pa.array(pick))


def unique_codes(*columns: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows equal in every column share a code (0, 1, ...; NA is a value like any other); also
    returns each code's first row.

    Normalizers work on these distinct rows and map the answers back with ``expand``: real exports
    repeat the same city, country, domain and company many times.
    """
    if not columns:
        raise ValueError("unique_codes needs at least one column")
    combined, size = _codes(columns[0])
    for column in columns[1:]:
        codes, more = _codes(column)
        combined, size = _dense(combined * more + codes, size * more)
    first = np.empty(size, dtype=np.int64)
    first[combined[::-1]] = np.arange(len(combined) - 1, -1, -1)
    return combined, first


def _dense(keys: np.ndarray, space: int) -> tuple[np.ndarray, int]:
    """Keys (0 <= key < space) renumbered 0, 1, ... without gaps, and how many there are."""
    if space > 8 * len(keys) + 4096:
        codes, uniques = pd.factorize(keys)
        return codes.astype(np.int64, copy=False), len(uniques)
    used = np.zeros(space, dtype=bool)
    used[keys] = True
    present = np.flatnonzero(used)
    renumber = np.empty(space, dtype=np.int64)
    renumber[present] = np.arange(len(present))
    return renumber[keys], len(present)


def _codes(column: pd.Series | np.ndarray) -> tuple[np.ndarray, int]:
    """Dense codes (NA included, as the last code), and how many."""
    if isinstance(column, pd.Series) and isinstance(column.dtype, pd.StringDtype):
        encoded = pc.dictionary_encode(as_array(column.array))
        size = len(encoded.dictionary)
        indices = encoded.indices
        if indices.null_count:
            indices = pc.fill_null(indices, size)
            size += 1
        return indices.to_numpy().astype(np.int64), size
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return codes.astype(np.int64, copy=False), len(uniques)


# --- words ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Words:
    """The space-separated words of ``n`` values, as codes into a vocabulary of distinct words.

    Empty words (from leading, trailing or doubled spaces) are left out. ``row`` is ascending, so
    the words of row ``r`` are ``code[start[r]:start[r + 1]]``, in their order in the value.
    """

    row: np.ndarray
    code: np.ndarray
    vocab: pa.Array
    null: np.ndarray  # the value was NA

    @property
    def n(self) -> int:
        return len(self.null)

    @property
    def start(self) -> np.ndarray:
        """Where each row's words begin (and, at ``n``, where they end)."""
        return offsets_of(self.row, self.n)

    def mapped(self, new: list[str]) -> Words:
        """Each word replaced by ``new[code]``: "" drops it, "a b" puts two words in its place."""
        if not any(" " in w for w in new):
            codes, uniques = pd.factorize(np.array(new, dtype=object))
            codes = codes.astype(np.int64, copy=False)
            vocab = pa.array(list(uniques), STRING) if len(uniques) else pa.array([], STRING)
            code = codes[self.code] if len(new) else self.code
            keep = code != (codes[new.index("")] if "" in new else -1)
            return Words(row=self.row[keep], code=code[keep], vocab=vocab, null=self.null)
        parts = [w.split(" ") if " " in w else ([w] if w else []) for w in new]
        flat = [p for ps in parts for p in ps if p]
        counts = np.array([sum(1 for p in ps if p) for ps in parts], dtype=np.int64)
        codes, uniques = pd.factorize(pd.Series(flat, dtype=object)) if flat else (np.zeros(0), [])
        codes = np.asarray(codes, dtype=np.int64)
        first = offsets_of(np.repeat(np.arange(len(parts)), counts), len(parts))
        per_word = counts[self.code]
        row = np.repeat(self.row, per_word)
        at = np.repeat(first[self.code], per_word) + _ranks_within(per_word)
        vocab = pa.array(list(uniques), STRING) if len(uniques) else pa.array([], STRING)
        return Words(row=row, code=codes[at], vocab=vocab, null=self.null)


def offsets_of(rows: np.ndarray, n: int) -> np.ndarray:
    """Start of each row's run in an ascending ``rows`` array, and its end at position ``n``."""
    counts = np.bincount(rows, minlength=n) if len(rows) else np.zeros(n, dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets


def _ranks_within(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., counts[i] - 1 for each i, concatenated."""
    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total, dtype=np.int64) - starts


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of integers by sorting (numpy 2's hashing ``unique`` is many times slower
    on millions of values). The stable sort (timsort) is quick on the nearly sorted keys the
    normalizers make: (row, rank) with rows ascending."""
    ordered = np.sort(values, kind="stable")
    if len(ordered) < 2:
        return ordered
    first = np.ones(len(ordered), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return ordered[first]


def spans(start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``start[i] .. end[i] - 1`` of every span, concatenated, and the span of each."""
    length = np.maximum(end - start, 0)
    owner = np.repeat(np.arange(len(start)), length)
    return np.repeat(start, length) + _ranks_within(length), owner


def split_words(values: pa.Array) -> Words:
    arr = as_array(values)
    lists = pc.split_pattern(arr, " ")
    flat = pc.list_flatten(lists)
    row = pc.list_parent_indices(lists).to_numpy().astype(np.int64)
    keep = _mask(pc.not_equal(pc.utf8_length(flat), 0))
    if not keep.all():
        flat, row = flat.filter(pa.array(keep)), row[keep]
    encoded = pc.dictionary_encode(flat)
    return Words(
        row=row,
        code=encoded.indices.to_numpy().astype(np.int64),
        vocab=as_array(encoded.dictionary),
        null=_mask(pc.is_null(arr)),
    )


def join_words(
    row: np.ndarray, words: pa.Array, n: int, null: np.ndarray | None = None
) -> pa.Array:
    """One space-separated string per row 0..n-1 from ``words`` (in row order, ``row`` ascending);
    "" for a row without words, null where ``null``."""
    lists = pa.LargeListArray.from_arrays(pa.array(offsets_of(row, n)), as_array(words))
    joined = pc.binary_join(lists, pa.scalar(" ", STRING))
    if null is not None and null.any():
        joined = pc.if_else(pa.array(null), pa.scalar(None, STRING), joined)
    return joined


def _mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


class Sequences:
    """Look up listed word sequences ("pty limited", "pt") at the start or end of spans of words.

    Built for one vocabulary: each listed word becomes a small number, and a run of L words a
    number in base (listed words + 1), so a lookup is a few vectorized gathers per length.
    """

    def __init__(self, sequences: list[str], vocab: pa.Array) -> None:
        self.count = len(sequences)
        split = [s.split(" ") for s in sequences]
        words = sorted({w for ws in split for w in ws})
        found = pc.index_in(pa.array(words, STRING), value_set=vocab).to_numpy(zero_copy_only=False)
        self.small = np.zeros(len(vocab), dtype=np.int64)
        small_of: dict[str, int] = {}
        for w, code in zip(words, found, strict=True):
            if code is not None and not np.isnan(code):
                small_of[w] = len(small_of) + 1
                self.small[int(code)] = small_of[w]
        self.base = len(small_of) + 1
        by_length: dict[int, list[tuple[int, int]]] = {}
        for index, ws in enumerate(split):
            if all(w in small_of for w in ws):
                key = 0
                for w in ws:
                    key = key * self.base + small_of[w]
                by_length.setdefault(len(ws), []).append((key, index))
        if by_length and self.base ** max(by_length) >= 2**62:
            raise ValueError("word sequences too long or too many to look up")
        self.tables = {}
        for length, entries in sorted(by_length.items()):
            entries.sort()
            keys = np.array([k for k, _ in entries], dtype=np.int64)
            which = np.array([i for _, i in entries], dtype=np.int64)
            self.tables[length] = (keys, which)

    def longest(
        self,
        code: np.ndarray,
        start: np.ndarray,
        end: np.ndarray,
        at_end: bool = False,
        allowed: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each span ``code[start:end]``: the length of the longest listed sequence it starts
        (or, ``at_end``, ends) with, and which one (0 and -1: none). ``allowed``, a kind per span
        and a boolean table (kind × sequence), limits which sequences count for which spans."""
        n = len(start)
        length = np.zeros(n, dtype=np.int64)
        which = np.full(n, -1, dtype=np.int64)
        size = end - start
        candidates = np.flatnonzero(size > 0)
        # Every listed sequence has a listed word at the edge looked at.
        edge = end[candidates] - 1 if at_end else start[candidates]
        candidates = candidates[self.small[code[edge]] > 0]
        for words, (keys, listed) in self.tables.items():
            candidates = candidates[size[candidates] >= words]
            if not candidates.size:
                break
            first = (end[candidates] - words) if at_end else start[candidates]
            key = np.zeros(len(candidates), dtype=np.int64)
            alive = np.ones(len(candidates), dtype=bool)
            for i in range(words):
                small = self.small[code[first + i]]
                alive &= small > 0
                key = key * self.base + small
            rows, key = candidates[alive], key[alive]
            at = np.minimum(np.searchsorted(keys, key), len(keys) - 1)
            hit = keys[at] == key
            rows, hits = rows[hit], listed[at[hit]]
            if allowed is not None:
                kind, table = allowed
                ok = table[kind[rows], hits]
                rows, hits = rows[ok], hits[ok]
            length[rows] = words
            which[rows] = hits
        return length, which
