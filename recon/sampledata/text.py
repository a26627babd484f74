"""Vectorized text for the generator: every text column is an Arrow string array.

Arrow keeps a million strings in two buffers instead of a million Python objects, and its kernels
do the per-element work (concatenation, case, regular expressions, slicing, formatting numbers and
dates). Python loops run only over the few values chosen for a typing slip or a hard negative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recon.sampledata import vocab

Text: TypeAlias = pa.Array  # of pa.string(); null = missing
Part: TypeAlias = pa.Array | str | None
NULL = pa.scalar(None, pa.string())


def weights(pairs: Sequence[tuple]) -> np.ndarray:
    """Normalized weights from the last item of each tuple."""
    w = np.array([p[-1] for p in pairs], dtype=float)
    return w / w.sum()


def choose(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    """``n`` indices drawn with probabilities ``p`` (inverse CDF, one uniform per draw)."""
    cdf = np.cumsum(p)
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(n), side="right").astype(np.int64)


def words(values: Sequence[str | None]) -> Text:
    return pa.array(list(values), type=pa.string())


def pick(options: Sequence[str], idx: np.ndarray) -> Text:
    """``options[idx]`` for an index array."""
    return take(words(options), idx)


def take(values: Text, idx: np.ndarray) -> Text:
    return values.take(pa.array(np.asarray(idx, dtype=np.int64)))


def take_or_null(values: Text, idx: np.ndarray) -> Text:
    """``values[idx]``, missing where ``idx`` is negative."""
    idx = np.asarray(idx, dtype=np.int64)
    valid = idx >= 0
    if valid.all():
        return take(values, idx)
    return put(nulls(len(idx)), valid, take(values, idx[valid]))


def full(n: int, value: str | None) -> Text:
    return pa.repeat(pa.scalar(value, pa.string()), n)


def nulls(n: int) -> Text:
    return pa.nulls(n, pa.string())


def _scalar(part: Part) -> Text | pa.Scalar:
    return pa.scalar(part, pa.string()) if part is None or isinstance(part, str) else part


def cat(*parts: Part) -> Text:
    """Element-wise concatenation; a missing part makes the result missing."""
    return pc.binary_join_element_wise(*[_scalar(p) for p in parts], "")


def join_present(parts: Sequence[Text], sep: str = " ") -> Text:
    """Element-wise join of the parts that are present, with ``sep`` between them."""
    return pc.binary_join_element_wise(*parts, sep, null_handling="skip")


def where(mask: np.ndarray, a: Part, b: Part) -> Text:
    return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), _scalar(a), _scalar(b))


def put(values: Text, mask: np.ndarray, new: Part) -> Text:
    """``values`` with the masked positions replaced, in order, by ``new`` (or one scalar)."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return values
    if new is None or isinstance(new, str):
        return where(mask, new, values)
    return pc.replace_with_mask(values, pa.array(mask), new)


def put_at(values: Text, idx: np.ndarray, new: Text) -> Text:
    """``values`` with positions ``idx`` (any order, no repeats) replaced by ``new``."""
    if len(idx) == 0:
        return values
    order = np.argsort(idx, kind="stable")
    mask = np.zeros(len(values), dtype=bool)
    mask[idx] = True
    return pc.replace_with_mask(values, pa.array(mask), take(new, order))


def is_null(values: Text) -> np.ndarray:
    return pc.is_null(values).to_numpy(zero_copy_only=False)


def first_seen(values: Text) -> np.ndarray:
    """True where a value occurs for the first time (nulls count as one value)."""
    codes = pc.dictionary_encode(values, null_encoding="encode").indices
    _, first = np.unique(codes.to_numpy(zero_copy_only=False), return_index=True)
    out = np.zeros(len(values), dtype=bool)
    out[first] = True
    return out


def upper(values: Text) -> Text:
    return pc.utf8_upper(values)


def lower(values: Text) -> Text:
    return pc.utf8_lower(values)


def replace(values: Text, pairs: Sequence[tuple[str, str]], regex: bool = False) -> Text:
    fn = pc.replace_substring_regex if regex else pc.replace_substring
    for pattern, repl in pairs:
        values = fn(values, pattern=pattern, replacement=repl)
    return values


def replace_masked(
    values: Text, mask: np.ndarray, pairs: Sequence[tuple[str, str]], regex: bool = False
) -> Text:
    """Apply the replacements to the masked values only."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return values
    sub = replace(values.filter(pa.array(mask)), pairs, regex)
    return pc.replace_with_mask(values, pa.array(mask), sub)


def map_masked(values: Text, mask: np.ndarray, fn: Callable[[Text], Text]) -> Text:
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return values
    return pc.replace_with_mask(values, pa.array(mask), fn(values.filter(pa.array(mask))))


def slice_text(values: Text, start: int, stop: int | None = None) -> Text:
    return pc.utf8_slice_codeunits(values, start=start, stop=stop)


def ends_with(values: Text, suffix: str) -> np.ndarray:
    return pc.fill_null(pc.ends_with(values, pattern=suffix), False).to_numpy(zero_copy_only=False)


def length(values: Text) -> np.ndarray:
    return pc.fill_null(pc.utf8_length(values), 0).to_numpy(zero_copy_only=False)


def fold_diacritics(values: Text, plain: bool) -> Text:
    """ü → ue (transliterated) or ü → u (plain), and the like."""
    return replace(values, [(c, p if plain else t) for c, t, p in vocab.DIACRITICS])


def slug(values: Text, hyphen: bool = False) -> Text:
    """Lower-case ASCII letters and digits of a name, for domains and mail boxes."""
    arr = pc.utf8_lower(values)
    for c, t, _ in vocab.DIACRITICS:
        arr = pc.replace_substring(arr, pattern=c.lower(), replacement=t.lower())
    arr = pc.replace_substring_regex(arr, pattern=r"\b(and|und)\b|&", replacement="")
    if hyphen:
        arr = pc.replace_substring_regex(arr, pattern=r"[^a-z0-9]+", replacement="-")
        return pc.replace_substring_regex(arr, pattern=r"^-+|-+$", replacement="")
    return pc.replace_substring_regex(arr, pattern=r"[^a-z0-9]+", replacement="")


def first_words(values: Text, k: int) -> Text:
    """The first ``k`` words, leaving out a joining ``&``/``and``/``und``."""
    arr = pc.replace_substring_regex(values, pattern=r" (&|and|und) ", replacement=" ")
    return pc.binary_join(pc.list_slice(pc.split_pattern(arr, pattern=" "), 0, k), " ")


def digits(values: np.ndarray, width: int = 1) -> Text:
    """Non-negative integers as text, zero-padded to ``width``."""
    arr = pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())
    return pc.utf8_lpad(arr, width=width, padding="0") if width > 1 else arr


def digit_matrix(matrix: np.ndarray) -> Text:
    """Rows of single digits (an ``n × k`` int array) as ``k``-character strings."""
    n, k = matrix.shape
    raw = np.ascontiguousarray((matrix + ord("0")).astype(np.uint8)).view(f"S{k}").ravel()
    return pa.array(raw, type=pa.binary(k)).cast(pa.string()) if n else nulls(0)


def money(cents: np.ndarray) -> Text:
    """Integer cents as ``1234.56``: dot decimal, exactly two decimals, no grouping."""
    return decimals(cents, 2)


def decimals(scaled: np.ndarray, places: int) -> Text:
    """Integers scaled by ``10**places`` as text with exactly ``places`` decimals."""
    scaled = np.asarray(scaled, dtype=np.int64)
    whole, frac = np.divmod(np.abs(scaled), 10**places)
    text = cat(digits(whole), ".", digits(frac, places))
    negative = scaled < 0
    return cat(where(negative, "-", ""), text) if negative.any() else text


def iso_dates(days: np.ndarray) -> Text:
    """Days since 1970-01-01 as ``YYYY-MM-DD`` (each distinct day formatted once)."""
    days = np.asarray(days, dtype=np.int64)
    if not len(days):
        return nulls(0)
    first = int(days.min())
    span = np.arange(first, int(days.max()) + 1).astype("datetime64[D]")
    table = pc.strftime(pa.array(span.astype("datetime64[s]")), format="%Y-%m-%d")
    return take(table, days - first)


_KEYBOARD = "qwertyuiopasdfghjklzxcvbnm"


def typos(rng: np.random.Generator, values: Text) -> Text:
    """One typing slip per value: swap two letters, drop, double or substitute one.

    A loop, but only over the few values chosen for a slip.
    """
    n = len(values)
    ops = rng.integers(0, 4, n).tolist()
    where_ = rng.random(n).tolist()
    letters = rng.integers(0, len(_KEYBOARD), n).tolist()
    out: list[str | None] = []
    for s, op, w, letter in zip(values.to_pylist(), ops, where_, letters, strict=True):
        if s is None or len(s) < 4:
            out.append(s)
            continue
        p = 1 + int(w * (len(s) - 2))  # never the first character, never the last
        if op == 0 and s[p] != s[p + 1] and s[p].isalnum() and s[p + 1].isalnum():
            out.append(s[:p] + s[p + 1] + s[p] + s[p + 2 :])
        elif op == 1 and s[p] != " ":
            out.append(s[:p] + s[p + 1 :])
        elif op == 2:
            out.append(s[: p + 1] + s[p] + s[p + 1 :])
        else:
            c = _KEYBOARD[letter]
            c = c.upper() if s[p].isupper() else c
            out.append(s[:p] + c + s[p + 1 :] if c != s[p] else s[:p] + s[p + 1 :])
    return pa.array(out, type=pa.string())


class Spellings:
    """Rows of alternative spellings (the first canonical), stored flat for vectorized picks."""

    def __init__(self, variants: Sequence[Sequence[str]]) -> None:
        self.counts = np.array([len(v) for v in variants], dtype=np.int64)
        self.offsets = np.cumsum(self.counts) - self.counts
        self.flat = words([s for v in variants for s in v])

    def canonical(self, rows: np.ndarray) -> Text:
        return take(self.flat, self.offsets[rows])

    def pick(self, rng: np.random.Generator, rows: np.ndarray, canon: float) -> Text:
        """One spelling per row: the first with probability ``canon``, else any of them."""
        n = len(rows)
        k = (rng.random(n) * self.counts[rows]).astype(np.int64)
        k[rng.random(n) < canon] = 0
        return take(self.flat, self.offsets[rows] + k)
