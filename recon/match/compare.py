"""Compare candidate pairs field by field: a similarity and a comparison level per field.

``compare_pairs(records, pairs, rules)`` returns, in the order of ``pairs``, for every field in
rules/matching.yaml ``<field>_sim`` (float32 in [0, 1], NaN where either record lacks the value)
and ``<field>_lvl`` (int8; 0 = the last, worst level, higher = more alike, -1 = missing).

Everything runs over whole columns: each record column is turned into integer codes once, so
equality is a comparison of codes, and text similarity goes through rapidfuzz ``process.cpdist``
(C++, all cores) over the pairs that need it, never a Python call per pair:

* Texts with equal codes are exact (similarity 1) and are not scored.
* A pair whose letters could not reach the field's lowest similarity threshold is not scored
  either. Each distinct text's characters are counted in 16 groups (two 64-bit words); a common
  subsequence cannot use more of a group than both texts have, so 2·(common)/(total length)
  bounds ``ratio`` and ``token_sort_ratio`` from above (and 2c/(c + shorter) bounds
  ``token_set_ratio``). Such a pair gets that bound as its similarity: it is below every
  threshold, so its level is exact all the same.
* The same two texts are scored once, however many pairs share them, always in the same
  argument order, so swapping left and right never changes a similarity. A field with few
  distinct values (cities) has every pair of them scored once, up front.

Fields (the record columns are those of ``recon.match.records``):

name           name_core (legal forms and generic words removed); exact, thresholds, else
address        address_norm; exact, thresholds, else
city           city_norm; exact, thresholds, else
descriptor     name_generic (the generic words of the name: "systems", "trading", ...);
               equal / different
domain, phone, tax_id, postcode, country, street_number, unit
               equal / different
legal_form     compatible (the two records share a legal-form code) / conflicting
xref           an existing cross-reference across systems: a record's ``ref_id`` is the other
               record's ``record_id`` (claims this link) / a ``ref_id`` names another record;
               missing for pairs within one system and when neither record has a ``ref_id``
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler

from recon.config.matching import FUZZY_FIELDS, Comparison, MatchingRules
from recon.match import name_looks as looks

log = logging.getLogger(__name__)

# The record column behind each field (xref uses record_id, ref_id and system).
COLUMNS = {
    "name": "name_core",
    "descriptor": "name_generic",
    "address": "address_norm",
    "city": "city_norm",
    "domain": "domain",
    "phone": "phone_e164",
    "tax_id": "tax_id_norm",
    "postcode": "postcode_norm",
    "country": "country_code",
    "street_number": "street_number",
    "unit": "unit",
    "legal_form": "legal_form",
}
MISSING = np.int8(-1)
ALT_NAME = (
    "name_alt"  # a record's second name (after T/A, ATF, DBA), compared with the other's name
)
HOW = "name_how"  # how the name level was reached: name_looks.HOW_* (scored, joined, other name)

_SCORERS: dict[str, tuple[Callable[..., float], float]] = {
    "ratio": (fuzz.ratio, 100.0),
    "token_sort_ratio": (fuzz.token_sort_ratio, 100.0),
    "token_set_ratio": (fuzz.token_set_ratio, 100.0),
    "jaro_winkler": (JaroWinkler.normalized_similarity, 1.0),
}
_BLOCK = 1 << 17  # pairs compared at a time, so that intermediate arrays stay in cache
_VALUE_BLOCK = 1 << 15  # distinct values whose letters are counted at a time
_DENSE_KEYS = 1 << 24  # value pairs up to which distinct pairs are found with a table
_SMALL_VALUES = 1024  # up to this many distinct values, all their pairs are scored at once

# Characters counted in 16 groups of one byte each (two 64-bit words per text): ten groups of
# letters of about equal frequency, four of digits, the space, and everything else.
_N_LANES = 16
_LANES = np.full(128, 15, dtype=np.int64)
for _i, _c in enumerate("eaitnrosldhmcupbgkywfvjzxq"):
    _LANES[ord(_c)] = _i % 10
for _i, _c in enumerate("0123456789"):
    _LANES[ord(_c)] = 10 + _i % 4
_LANES[ord(" ")] = 14
_BYTE_LANES = np.concatenate([_LANES, np.full(128, _N_LANES - 1, dtype=np.int64)])
_HIGH = np.uint64(0x8080808080808080)
_EVEN = np.uint64(0x00FF00FF00FF00FF)
_ONES16 = np.uint64(0x0001000100010001)


def sim_column(field_name: str) -> str:
    return f"{field_name}_sim"


def lvl_column(field_name: str) -> str:
    return f"{field_name}_lvl"


# --- record keys, made once per records frame -------------------------------------------------


def _arrow(values: pd.Series) -> pa.Array:
    arr = pa.array(values.astype("string").array)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


@dataclass
class _Column:
    """A record column as integer codes (-1 = missing) and its distinct values."""

    codes: np.ndarray
    uniques: pd.api.extensions.ExtensionArray | np.ndarray
    _values: np.ndarray | None = field(default=None, repr=False)
    _letters: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _sorted: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _repeats: np.ndarray | None = field(default=None, repr=False)
    _tables: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def values(self) -> np.ndarray:
        """The distinct values as Python strings (what rapidfuzz reads), made on first use, with
        words separated by single spaces (normalized columns already are): the token scorers
        ignore extra spaces, and the letter bound relies on it."""
        if self._values is None:
            values = np.asarray(self.uniques, dtype=object)
            text = pa.array(values.tolist(), pa.large_string())
            loose = pc.match_substring_regex(text, r"^\s|\s$|\s\s|[\t\n\r\f\v]")
            loose = np.flatnonzero(pc.fill_null(loose, False).to_numpy(zero_copy_only=False))
            if len(loose):
                values = values.copy()
                values[loose] = [" ".join(v.split()) for v in values[loose].tolist()]
            self._values = values
        return self._values

    def letters(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per distinct value: its character-group counts packed in two uint64 words (16 byte
        lanes of at most 127) and its length in characters.

        Counted on the UTF-8 bytes: a byte of a non-ASCII character counts in the last group, so
        a group can only be over-counted, never under-counted, and the bound stays a bound. A
        value with more than 127 bytes of one group has every lane at 127, for the same reason.
        """
        if self._letters is None:
            n = len(self.values)
            first = np.empty(n, dtype=np.uint64)
            second = np.empty(n, dtype=np.uint64)
            lengths = np.empty(n, dtype=np.float32)
            for block in range(0, n, _VALUE_BLOCK):
                part = slice(block, min(block + _VALUE_BLOCK, n))
                text = pa.array(self.values[part].tolist(), pa.large_string())
                k = len(text)
                lengths[part] = pc.utf8_length(text).to_numpy(zero_copy_only=False)
                offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[: k + 1]
                data = np.frombuffer(text.buffers()[2] or b"", dtype=np.uint8)
                data = data[offsets[0] : offsets[-1]]
                row = np.repeat(np.arange(k, dtype=np.int64), np.diff(offsets))
                counts = np.bincount(row * _N_LANES + _BYTE_LANES[data], minlength=k * _N_LANES)
                counts = counts.reshape(k, _N_LANES)
                counts[(counts > 127).any(axis=1)] = 127
                words = np.ascontiguousarray(counts.astype(np.uint8)).view(np.uint64)
                first[part], second[part] = words[:, 0], words[:, 1]
            self._letters = (first, second, lengths)
        return self._letters

    def similarity_table(self, scorers: tuple[str, ...]) -> np.ndarray:
        """Every pair of distinct values scored once (few values: cities): a k·k table, read
        by ``lo * k + hi``."""
        key = ",".join(scorers)
        if key not in self._tables:
            k = len(self.values)
            lo, hi = np.triu_indices(k, 1)
            table = np.ones(k * k, dtype=np.float32)
            if len(lo):
                table[lo * k + hi] = _scored(self, lo, hi, scorers)
            self._tables[key] = table
        return self._tables[key]

    def repeats_words(self) -> np.ndarray:
        """Whether each distinct value has a word twice (token_set_ratio reads it once)."""
        if self._repeats is None:
            self._repeats = np.array(
                [len(set(w := v.split())) < len(w) for v in self.values.tolist()], dtype=bool
            )
        return self._repeats

    def sorted_words(self, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For the distinct values ``which``: the value with its words in alphabetical order
        (what token_sort compares), and whether that differs from the value. Sorted on first
        use, only for the values asked for."""
        values = self.values
        if self._sorted is None:
            spaced = pc.match_substring(pa.array(values.tolist(), pa.large_string()), " ")
            self._sorted = (
                values.copy(),
                np.zeros(len(values), dtype=bool),  # changed by sorting
                ~pc.fill_null(spaced, False).to_numpy(zero_copy_only=False),  # nothing to sort
            )
        words, changed, done = self._sorted
        wanted = np.zeros(len(values), dtype=bool)
        wanted[which] = True
        todo = np.flatnonzero(wanted & ~done)
        if len(todo):
            words[todo] = [" ".join(sorted(v.split())) for v in values[todo].tolist()]
            changed[todo] = words[todo] != values[todo]
            done[todo] = True
        return words[which], changed[which]


@dataclass
class _Keys:
    """Integer codes of the record columns, made on first use and kept for the records frame
    (which they refer to weakly: the cache never keeps a frame alive)."""

    source: weakref.ref[pd.DataFrame]
    n: int
    columns: dict[str, _Column] = field(default_factory=dict)
    _xref: tuple[np.ndarray, np.ndarray] | None = None
    _extra: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def records(self) -> pd.DataFrame:
        frame = self.source()
        if frame is None:  # only reached through compare_pairs, which holds the frame
            raise RuntimeError("the records frame of these keys is gone")
        return frame

    def column(self, name: str) -> _Column:
        if name not in self.columns:
            source = COLUMNS[name]
            if source not in self.records.columns:
                raise ValueError(f"records lack column {source}, needed to compare {name}")
            values = self.records[source]
            alt = (
                name == "name"
                and ALT_NAME in self.records.columns
                and bool(self.records[ALT_NAME].notna().any())
            )
            if alt:  # second names share the names' codes: a code is one text either way
                values = pd.concat([values, self.records[ALT_NAME]], ignore_index=True)
            codes, uniques = pd.factorize(values, use_na_sentinel=True)
            # the smallest integer type: gathers from a small array stay in cache
            small = np.min_scalar_type(-max(len(uniques), 1))
            codes = codes.astype(small)
            if alt:
                codes, self._extra[ALT_NAME] = codes[: self.n], codes[self.n :]
            self.columns[name] = _Column(codes, uniques)
        return self.columns[name]

    def matrix(self, names: tuple[str, ...]) -> np.ndarray:
        """The codes of ``names`` side by side, one row per record (int32): a pair's codes for
        every field come from one row, one memory access per record instead of one per field.
        "system" and "xref" name the system and the ``ref_id`` target (see ``xref``)."""
        key = "matrix:" + ",".join(names)
        if key not in self._extra:
            parts = []
            for name in names:
                if name == "system":
                    parts.append(self.xref()[0])
                elif name == "xref":
                    parts.append(self.xref()[1])
                else:
                    parts.append(self.column(name).codes)
            stacked = np.empty((self.n, len(names)), dtype=np.int32)
            for j, part in enumerate(parts):
                stacked[:, j] = part
            self._extra[key] = stacked
        return self._extra[key]

    def extra(
        self, name: str, build: Callable[[_Column], np.ndarray], of: str | None = None
    ) -> np.ndarray:
        """Something made once from a column (``of``, by default ``name``): the legal-form
        table, the words per name."""
        if name not in self._extra:
            self._extra[name] = build(self.column(of or name))
        return self._extra[name]

    def xref(self) -> tuple[np.ndarray, np.ndarray]:
        """(system per record: 0 CRM, 1 ERP; the position of the record its ``ref_id`` names:
        -1 for no ``ref_id``, -2 for an id that names no record here)."""
        if self._xref is None:
            records = self.records
            system = records["system"].astype("string").fillna("").to_numpy(dtype=object)
            erp = system == "erp"
            target = np.full(self.n, -1, dtype=np.int64)
            if "ref_id" in records.columns:
                ids = pc.utf8_trim_whitespace(_arrow(records["record_id"]))
                refs = pc.utf8_trim_whitespace(_arrow(records["ref_id"]))
                has_ref = refs.is_valid().to_numpy(zero_copy_only=False)
                for own, other in ((~erp, erp), (erp, ~erp)):
                    positions = np.flatnonzero(other)
                    rows = np.flatnonzero(own & has_ref)
                    # the first record with each id: ids are unique in a clean export
                    found = pc.index_in(
                        refs.take(pa.array(rows)), value_set=ids.take(pa.array(positions))
                    )
                    found = pc.fill_null(found, -1).to_numpy(zero_copy_only=False)
                    named = np.append(positions, -2)  # found = -1 → -2: names no record here
                    target[rows] = named[found]
            self._xref = (erp.astype(np.int8), target.astype(np.min_scalar_type(-self.n - 2)))
        return self._xref


class _KeyCache:
    """The keys of the last records frame seen: fitting compares one frame twice (random pairs,
    candidates) and need not factorize it again. Records frames are not changed once built."""

    def __init__(self) -> None:
        self._keys: _Keys | None = None

    def get(self, records: pd.DataFrame) -> _Keys:
        n = len(records)
        keys = self._keys
        if keys is not None and keys.source() is records and keys.n == n:
            return keys
        self._keys = keys = _Keys(weakref.ref(records), n)
        return keys


_CACHE = _KeyCache()


# --- comparisons -------------------------------------------------------------------------------

_SIM_OF_LEVEL = np.array([np.nan, 0.0, 1.0], dtype=np.float32)  # agree/disagree fields, by lvl+1


def _agreement(same: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Level 1 (agree) / 0 (disagree), -1 where not present."""
    return (same & present).view(np.int8) - (~present).view(np.int8)


def _lane_min_sum(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sum over the 8 byte lanes of min(x lane, y lane), all lanes at once (SWAR)."""
    # Lanes hold at most 127: setting each lane's top bit before subtracting leaves it set
    # exactly where x >= y, and no borrow crosses into the next lane.
    x_ge_y = (((x | _HIGH) - y) & _HIGH) >> np.uint64(7)
    take_y = x_ge_y * np.uint64(0xFF)
    low = (y & take_y) | (x & ~take_y)
    sums = (low & _EVEN) + ((low >> np.uint64(8)) & _EVEN)
    return (sums * _ONES16) >> np.uint64(48)


def _bound(col: _Column, a: np.ndarray, b: np.ndarray, scorers: tuple[str, ...]) -> np.ndarray:
    """An upper bound of the scorers' similarity of distinct values a and b (see the module
    docstring); 1 when a scorer has no such bound (jaro_winkler)."""
    if "jaro_winkler" in scorers:
        return np.ones(len(a), dtype=np.float32)
    first, second, lengths = col.letters()
    common = (_lane_min_sum(first[a], first[b]) + _lane_min_sum(second[a], second[b])).astype(
        np.float32
    )
    la, lb = lengths[a], lengths[b]
    bound = np.float32(2.0) * common / np.maximum(la + lb, np.float32(1.0))
    if "token_set_ratio" in scorers:
        # token_set_ratio compares the shared words with each text: at most 2c / (c + shorter);
        # a text with a word twice is shorter to it than it looks, so it is not bounded
        bound = np.maximum(bound, 2.0 * common / np.maximum(common + np.minimum(la, lb), 1.0))
        repeats = col.repeats_words()
        bound[repeats[a] | repeats[b]] = 1.0
    return np.minimum(bound, 1.0).astype(np.float32)


def _distinct(lo: np.ndarray, hi: np.ndarray, n_values: int) -> tuple[np.ndarray, np.ndarray]:
    """(index of each pair among the distinct (lo, hi) pairs, the distinct keys lo·n + hi)."""
    keys = lo.astype(np.int64) * n_values + hi
    if n_values * n_values <= _DENSE_KEYS:  # few distinct values (cities): a lookup table
        seen = np.zeros(n_values * n_values, dtype=bool)
        seen[keys] = True
        distinct = np.flatnonzero(seen)
        slot = np.cumsum(seen, dtype=np.int64) - 1
        return slot[keys], distinct
    inverse, distinct = pd.factorize(keys)
    return inverse, np.asarray(distinct, dtype=np.int64)


def _scored(col: _Column, ia: np.ndarray, ib: np.ndarray, scorers: tuple[str, ...]) -> np.ndarray:
    """The highest of the scorers for pairs of distinct values (ia < ib), in [0, 1]."""
    va, vb = col.values[ia], col.values[ib]
    top = np.zeros(len(ia), dtype=np.float32)
    for name in scorers:
        if name == "token_sort_ratio" and "ratio" in scorers:
            # token_sort_ratio is the ratio of the word-sorted texts: it can only differ from
            # ratio where a text is not already in word order.
            sa, changed_a = col.sorted_words(ia)
            sb, changed_b = col.sorted_words(ib)
            todo = np.flatnonzero(changed_a | changed_b)
            got = process.cpdist(sa[todo], sb[todo], scorer=fuzz.ratio, workers=-1)
            top[todo] = np.maximum(top[todo], got.astype(np.float32) / np.float32(100))
            continue
        scorer, scale = _SCORERS[name]
        got = process.cpdist(va, vb, scorer=scorer, workers=-1, dtype=np.float32)
        np.maximum(top, got / np.float32(scale), out=top)
    return np.minimum(top, np.float32(1.0))


def _score(col: _Column, lo: np.ndarray, hi: np.ndarray, scorers: tuple[str, ...]) -> np.ndarray:
    """The scorers for each (lo, hi) pair of distinct values, each distinct pair scored once."""
    n_values = len(col.values)
    inverse, distinct = _distinct(lo, hi, n_values)
    return _scored(col, distinct // n_values, distinct % n_values, scorers)[inverse]


def _legal_table(col: _Column) -> np.ndarray:
    """For every two distinct legal-form values: do they share a code ("PT TBK" and "PT")?"""
    sets = [frozenset(str(v).split()) for v in col.values]
    if not sets:
        return np.zeros(1, dtype=bool)  # no legal forms: every pair is missing anyway
    return np.array([[bool(x & y) for y in sets] for x in sets], dtype=bool).reshape(-1)


@dataclass
class _Fuzzy:
    """Pairs of one fuzzy field whose similarity must be scored: positions and value codes."""

    positions: list[np.ndarray] = field(default_factory=list)
    lo: list[np.ndarray] = field(default_factory=list)
    hi: list[np.ndarray] = field(default_factory=list)


def _compare_chunk(
    keys: _Keys,
    rules: MatchingRules,
    names: tuple[str, ...],
    pair_rows: tuple[np.ndarray, np.ndarray],
    start: int,
    out: dict[str, np.ndarray],
    pending: dict[str, _Fuzzy],
) -> None:
    """Levels and similarities of pairs ``start``.. into ``out``; fuzzy pairs to score into
    ``pending``. Small blocks keep every intermediate array in the processor's cache."""
    matrix = keys.matrix(names)
    left, right = pair_rows
    stop = start + len(left)
    # codes of every field for the left and the right records, one row per field
    codes_l = np.take(matrix, left, axis=0).T.copy()
    codes_r = np.take(matrix, right, axis=0).T.copy()
    column = {name: j for j, name in enumerate(names)}
    for name, comp in rules.by_field.items():
        a, b = codes_l[column[name]], codes_r[column[name]]
        if name == "xref":
            system = column["system"]
            present = (codes_l[system] != codes_r[system]) & ((a != -1) | (b != -1))
            lvl = _agreement((a == right) | (b == left), present)
            out[lvl_column(name)][start:stop] = lvl
            out[sim_column(name)][start:stop] = _SIM_OF_LEVEL[lvl + 1]
            continue
        present = (a >= 0) & (b >= 0)
        if name == "legal_form":
            col = keys.column(name)
            table = keys.extra(name, _legal_table)
            n_values = max(len(col.values), 1)
            same = table[np.maximum(a, 0).astype(np.int64) * n_values + np.maximum(b, 0)]
            lvl = _agreement(same, present)
        elif name not in FUZZY_FIELDS:
            lvl = _agreement(a == b, present)
        else:
            exact = a == b
            lvl = _agreement(exact, present) * np.int8(len(comp.levels) - 1)
            lvl[~present] = MISSING
            sim = exact.astype(np.float32)
            sim[~present] = np.nan
            todo = np.flatnonzero(present & ~exact)
            if len(todo) and comp.scorers:
                # lo < hi fixes the argument order: swapping left and right changes nothing
                lo = np.minimum(a[todo], b[todo]).astype(np.int64)
                hi = np.maximum(a[todo], b[todo]).astype(np.int64)
                col = keys.column(name)
                thresholds = comp.thresholds()
                if len(col.values) <= _SMALL_VALUES:  # few values: every pair scored already
                    scored = col.similarity_table(comp.scorers)[lo * len(col.values) + hi]
                    sim[todo] = scored
                    lvl[todo] = _levels_from(scored, comp)
                else:
                    bound = _bound(col, lo, hi, comp.scorers)
                    sim[todo] = bound
                    if thresholds:
                        reach = bound >= np.float32(min(thresholds))
                        pending[name].positions.append(todo[reach] + start)
                        pending[name].lo.append(lo[reach])
                        pending[name].hi.append(hi[reach])
            out[lvl_column(name)][start:stop] = lvl
            out[sim_column(name)][start:stop] = sim
            continue
        out[lvl_column(name)][start:stop] = lvl
        out[sim_column(name)][start:stop] = _SIM_OF_LEVEL[lvl + 1]


def _finish_fuzzy(
    keys: _Keys, rules: MatchingRules, pending: dict[str, _Fuzzy], out: dict[str, np.ndarray]
) -> None:
    """Score the pairs that may reach a threshold, all blocks at once (each text pair once)."""
    for name, todo in pending.items():
        if not todo.positions:
            continue
        comp = rules.by_field[name]
        positions = np.concatenate(todo.positions)
        if not len(positions):
            continue
        sim = _score(
            keys.column(name), np.concatenate(todo.lo), np.concatenate(todo.hi), comp.scorers
        )
        out[sim_column(name)][positions] = sim
        out[lvl_column(name)][positions] = _levels_from(sim, comp)


def _levels_from(sim: np.ndarray, comp: Comparison) -> np.ndarray:
    """The level of each similarity of a pair that is not exact: the number of thresholds at or
    below it (0 = below all of them), one higher where a rule level sits under the thresholds."""
    cuts = np.array(sorted(comp.thresholds()), dtype=np.float32)
    lvl = np.searchsorted(cuts, sim, side="right").astype(np.int8)
    if comp.rule:
        lvl[lvl > 0] += 1
    return lvl


def compare_pairs(records: pd.DataFrame, pairs: pd.DataFrame, rules: MatchingRules) -> pd.DataFrame:
    """``<field>_sim`` and ``<field>_lvl`` for each field in ``rules``, one row per pair, in order.

    ``pairs`` holds ``left`` and ``right``, positions into ``records``.
    """
    keys = _CACHE.get(records)
    left = pairs["left"].to_numpy(dtype=np.int64)
    right = pairs["right"].to_numpy(dtype=np.int64)
    if len(left) and (min(left.min(), right.min()) < 0 or max(left.max(), right.max()) >= keys.n):
        raise ValueError("pairs name positions outside the records frame")
    n = len(left)
    out: dict[str, np.ndarray] = {}
    for name in rules.by_field:
        out[sim_column(name)] = np.empty(n, dtype=np.float32)
        out[lvl_column(name)] = np.empty(n, dtype=np.int8)
    pending = {name: _Fuzzy() for name in rules.by_field if name in FUZZY_FIELDS}
    names = tuple(rules.by_field) + (("system",) if "xref" in rules.by_field else ())
    for start in range(0, n, _BLOCK):
        rows = (left[start : start + _BLOCK], right[start : start + _BLOCK])
        _compare_chunk(keys, rules, names, rows, start, out, pending)
    _finish_fuzzy(keys, rules, pending, out)
    if "name" in rules.by_field:
        out[HOW] = _name_looks(keys, rules.by_field["name"], left, right, out)
    log.debug("compared %d pairs on %d fields", n, len(rules.by_field))
    return pd.DataFrame(out, index=pairs.index, copy=False)


# --- second looks at names (see name_looks) ----------------------------------------------------


def _words(keys: _Keys) -> np.ndarray:
    """Words per distinct name, counted once per records frame."""
    return keys.extra("name_words", lambda col: looks.word_counts(col.values), of="name")


def _distinct_pairs(x: np.ndarray, y: np.ndarray, n_values: int):
    """(index of each pair among the distinct (x, y) pairs, x of each distinct, y of each)."""
    inverse, distinct = _distinct(x.astype(np.int64), y.astype(np.int64), n_values)
    return inverse, distinct // n_values, distinct % n_values


def _joined(keys: _Keys, comp: Comparison, a: np.ndarray, b: np.ndarray, lvl: np.ndarray):
    """(rows, similarity) of names compared with their spaces removed: rows below "very
    similar" where one name is a single word and the other a few, and whose letters could reach
    the lowest threshold."""
    col, words = keys.column("name"), _words(keys)
    if not len(col.values):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    # a missing name (code -1) reads the last value's count here; its level (-1) leaves it out
    wa, wb = words[a], words[b]
    rows = np.flatnonzero(
        (lvl >= 0) & (lvl < len(comp.levels) - 2)
        & (np.minimum(wa, wb) == 1) & (np.maximum(wa, wb) > 1)
        & (np.maximum(wa, wb) <= looks.MAX_JOINED_WORDS)
    )  # fmt: skip
    if len(rows) and comp.thresholds():
        rows = rows[_joined_bound(col, a[rows], b[rows]) >= np.float32(min(comp.thresholds()))]
    if not len(rows):
        return rows, np.zeros(0, dtype=np.float32)
    lo, hi = np.minimum(a[rows], b[rows]), np.maximum(a[rows], b[rows])
    inverse, x, y = _distinct_pairs(lo, hi, len(col.values))
    return rows, looks.joined_similarity(col.values[x], col.values[y])[inverse]


def _joined_bound(col: _Column, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """An upper bound of the ratio of a and b with their spaces removed: the letter bound of
    ``_bound`` less the spaces (lane 14, the seventh byte of the second word)."""
    first, second, lengths = col.letters()
    common = (_lane_min_sum(first[a], first[b]) + _lane_min_sum(second[a], second[b])).astype(
        np.float32
    )
    sa = ((second[a] >> np.uint64(48)) & np.uint64(0xFF)).astype(np.float32)
    sb = ((second[b] >> np.uint64(48)) & np.uint64(0xFF)).astype(np.float32)
    total = np.maximum(lengths[a] + lengths[b] - sa - sb, np.float32(1.0))
    return np.float32(2.0) * (common - np.minimum(sa, sb)) / total


def _first_words(keys: _Keys) -> np.ndarray:
    """A code per distinct name for its first word, made once per records frame."""

    def build(col: _Column) -> np.ndarray:
        text = pa.array(col.values.tolist(), pa.large_string())
        first = pc.replace_substring_regex(text, pattern=" .*$", replacement="")
        return pd.factorize(first.to_numpy(zero_copy_only=False))[0]

    return keys.extra("name_first_words", build, of="name")


def _first_letters(keys: _Keys) -> np.ndarray:
    """A code per distinct name for its first four letters, made once per records frame."""

    def build(col: _Column) -> np.ndarray:
        text = pa.array(col.values.tolist(), pa.large_string())
        return pd.factorize(pc.utf8_slice_codeunits(text, 0, 4).to_numpy(zero_copy_only=False))[0]

    return keys.extra("name_first_letters", build, of="name")


def _short_forms(keys: _Keys, a: np.ndarray, b: np.ndarray, lvl: np.ndarray) -> np.ndarray:
    """Rows at the last level whose name with fewer words begins the other, word for word
    (name_looks). Only names with the same first word are looked at."""
    col, words, first = keys.column("name"), _words(keys), _first_words(keys)
    if not len(col.values):
        return np.zeros(0, dtype=np.int64)
    # level 0: both names present. One word may also be the first words written together.
    letters = _first_letters(keys)
    one_word = (words[a] == 1) | (words[b] == 1)
    rows = np.flatnonzero(
        (lvl == 0) & ((first[a] == first[b]) | (one_word & (letters[a] == letters[b])))
    )
    a, b = a[rows], b[rows]
    wa, wb = words[a], words[b]
    keep = (wa != wb) & (np.minimum(wa, wb) <= looks.MAX_SHORT_WORDS)
    rows, a, b, wa, wb = rows[keep], a[keep], b[keep], wa[keep], wb[keep]
    if not len(rows):
        return rows
    short, long = np.where(wa < wb, a, b), np.where(wa < wb, b, a)
    inverse, x, y = _distinct_pairs(short, long, len(col.values))
    found = looks.is_short_form(col.values[x], col.values[y], words[x])
    return rows[found[inverse]]


def _name_levels(keys: _Keys, comp: Comparison, a: np.ndarray, b: np.ndarray):
    """Level and similarity of name codes a and b (both present), every look included."""
    col = keys.column("name")
    top = np.int8(len(comp.levels) - 1)
    lvl = np.where(a == b, top, np.int8(0)).astype(np.int8)
    sim = (a == b).astype(np.float32)
    todo = np.flatnonzero(a != b)
    if len(todo):
        lo, hi = np.minimum(a[todo], b[todo]), np.maximum(a[todo], b[todo])
        sim[todo] = _score(col, lo.astype(np.int64), hi.astype(np.int64), comp.scorers)
        lvl[todo] = _levels_from(sim[todo], comp)
    _look_again(keys, comp, a, b, lvl, sim, np.zeros(len(a), dtype=np.int8))
    return lvl, sim


def _look_again(
    keys: _Keys,
    comp: Comparison,
    a: np.ndarray,
    b: np.ndarray,
    lvl: np.ndarray,
    sim: np.ndarray,
    how: np.ndarray,
) -> None:
    """Raise the levels of name pairs below "very similar" that joined words or the short-form
    rule explain (in place)."""
    rows, joined = _joined(keys, comp, a, b, lvl)
    if len(rows):
        raised = _levels_from(joined, comp)
        up = raised > lvl[rows]
        lvl[rows[up]], sim[rows[up]], how[rows[up]] = raised[up], joined[up], looks.HOW_JOINED
    if comp.rule == "short_form":
        lvl[_short_forms(keys, a, b, lvl)] = 1


def _name_looks(
    keys: _Keys, comp: Comparison, left: np.ndarray, right: np.ndarray, out: dict[str, np.ndarray]
) -> np.ndarray:
    """Second looks at the name pairs (name_looks): joined words, short forms, second names.
    Updates the name level and similarity in ``out``; returns how each level was reached."""
    lvl, sim = out[lvl_column("name")], out[sim_column("name")]
    how = np.zeros(len(left), dtype=np.int8)
    codes = keys.column("name").codes
    a, b = codes[left].astype(np.int64), codes[right].astype(np.int64)
    _look_again(keys, comp, a, b, lvl, sim, how)
    alt = keys._extra.get(ALT_NAME)
    if alt is None:
        return how
    for mine, theirs in ((alt[left], b), (a, alt[right])):
        rows = np.flatnonzero((mine >= 0) & (theirs >= 0) & (lvl < len(comp.levels) - 1))
        if not len(rows):
            continue
        other_lvl, other_sim = _name_levels(keys, comp, mine[rows].astype(np.int64), theirs[rows])
        better = other_lvl > lvl[rows]
        up = rows[better]
        lvl[up], sim[up], how[up] = other_lvl[better], other_sim[better], looks.HOW_OTHER_NAME
    return how


def value_codes(records: pd.DataFrame, field_name: str) -> np.ndarray:
    """The integer code of each record's value of a field (-1 = missing), as compared: records
    with equal codes agree exactly. Shared with scoring (term frequencies, u of exact levels)."""
    return _CACHE.get(records).column(field_name).codes


def xref_targets(records: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(system per record: 0 CRM, 1 ERP; position of the record its ``ref_id`` names, -1 for none,
    -2 for an id that names no record here)."""
    return _CACHE.get(records).xref()
