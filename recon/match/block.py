"""Blocking: the candidate pairs the matcher compares, instead of every pair of records.

Each pass of rules/blocking.yaml proposes pairs on its own; the candidates are their union, each
pair carrying a bitmask (``PASSES``) of the passes that proposed it. Pairs join CRM and ERP
records (the cross-reference) and records of one system (duplicates) alike.

- ``domain``, ``phone``, ``tax_id``: the same normalized key (free-mail domains are never a key).
- ``xref``: a record's ``ref_id`` names a record of the other system: the claim gets checked.
- ``rare_token``: a word of the name that few records use.
- ``postcode_prefix``: the same postcode and the same first letters of ``name_core``.
- ``fuzzy``: names alike despite typing slips: the same name spelled loosely; names differing in
  one word (a typo in it, an abbreviation of it, or an extra uncommon word); and, when switched
  on, MinHash LSH on character n-grams, which survives a slip in every word.

A record's name, for the name passes, is its ``name_core``, or its ``name_norm`` when the core is
carried by more records than a block may hold (see ``_Names``).

Every pass is vectorized and grows about linearly with the records. Records are grouped by a
block key and the pairs inside all blocks are generated at once; a block bigger than its limit is
split by a second key, and a part still too big is skipped and logged, never expanded into its
cross product. The fuzzy pass works on the distinct names and pairs their records at the end.

Sorting dominates the cost, so block pairs are generated already in (left, right) order, keys are
sorted as packed integers (key in the high bits, record in the low bits) instead of with
``argsort``, the union merges sorted runs (timsort), and the record passes and the name passes
run in two threads (numpy and Arrow release the GIL).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.config.blocking import (
    PASS_NAMES,
    BlockingRules,
    FuzzyPass,
    MinHashRules,
    WordRules,
    default_blocking_rules,
)
from recon.match.records import CRM, ERP

log = logging.getLogger(__name__)

PASSES: dict[str, int] = {name: 1 << i for i, name in enumerate(PASS_NAMES)}

_TAG_BITS = 10  # the pass bit rides in the low bits of a pair code while the union is sorted
_I64 = np.int64
_U64 = np.uint64
_EMPTY = np.empty(0, dtype=_I64)
_GOLDEN = _U64(0x9E3779B97F4A7C15)
_GRAM_SLOTS = 1 << 16  # MinHash n-grams are hashed into this many slots (a table fits in cache)

Runs = list[np.ndarray]  # pair codes ``left * n + right``, each array sorted unless said otherwise
Split = Callable[[np.ndarray], np.ndarray]  # records -> a second key for them (-1 = none)


# --- integers and hashes -------------------------------------------------------------------------


def _bits(upper: int) -> int:
    return max(int(upper).bit_length(), 1)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: a well-spread uint64 hash of uint64 values (arithmetic wraps)."""
    x = x ^ (x >> _U64(30))
    x *= _U64(0xBF58476D1CE4E5B9)
    x ^= x >> _U64(27)
    x *= _U64(0x94D049BB133111EB)
    x ^= x >> _U64(31)
    return x


def _ranges(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``counts`` items, (index of its group, its offset 0..count-1 in the group)."""
    group = np.repeat(np.arange(len(counts), dtype=_I64), counts)
    offset = np.arange(len(group), dtype=_I64) - np.repeat(np.cumsum(counts) - counts, counts)
    return group, offset


def _group(
    members: np.ndarray, keys: np.ndarray, limit: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Members (ints below ``limit``) sorted by key, then by member; each block's start and size.

    Keys are non-negative codes or uint64 hashes; a hash is cut to the bits left beside the
    member, which keeps accidental collisions rare (a stray candidate pair at worst).
    """
    if len(members) == 0:
        return _EMPTY, _EMPTY, _EMPTY
    member_bits = _bits(limit)
    key_bits = 63 - member_bits
    keys = keys.astype(_U64, copy=False)
    if int(keys.max()) >> key_bits:
        keys = keys >> _U64(64 - key_bits)
    packed = (keys.astype(_I64) << member_bits) | members.astype(_I64)
    packed.sort()
    grouped = packed & ((1 << member_bits) - 1)
    packed >>= member_bits
    starts = np.flatnonzero(_firsts(packed))
    sizes = np.diff(np.append(starts, len(packed)))
    return grouped, starts, sizes


def _firsts(ordered: np.ndarray) -> np.ndarray:
    """True where a sorted array's value differs from the one before it."""
    first = np.ones(len(ordered), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return first


def _codes(left: np.ndarray, right: np.ndarray, n: int) -> np.ndarray:
    """Pairs as ``low * n + high`` (unsorted); a record is never paired with itself."""
    low, high = np.minimum(left, right), np.maximum(left, right)
    keep = low != high
    return low[keep] * n + high[keep]


def _all_pairs(
    grouped: np.ndarray, starts: np.ndarray, sizes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every pair inside each block, at once (unordered): the member at offset o of a block of
    size s is paired with the s - 1 - o members after it."""
    keep = sizes >= 2
    starts, sizes = starts[keep], sizes[keep]
    _, offset = _ranges(sizes)
    position = np.repeat(starts, sizes) + offset
    partners = np.repeat(sizes, sizes) - 1 - offset
    _, step = _ranges(partners)
    left = np.repeat(position, partners)
    return grouped[left], grouped[left + step + 1]


def _sorted_pairs(grouped: np.ndarray, starts: np.ndarray, sizes: np.ndarray, n: int) -> np.ndarray:
    """Every pair inside each block as codes sorted by (left, right), without sorting.

    Each record is in one block at most. Going through the records in order, a record is paired
    with the members after it in its block, which ``_group`` left in ascending order.
    """
    keep = sizes >= 2
    starts, sizes = starts[keep], sizes[keep]
    _, offset = _ranges(sizes)
    position = np.repeat(starts, sizes) + offset
    record = grouped[position]
    later = np.zeros(n, dtype=_I64)
    at = np.zeros(n, dtype=_I64)
    later[record] = np.repeat(sizes, sizes) - 1 - offset
    at[record] = position
    left, step = _ranges(later)
    return left * n + grouped[at[left] + step + 1]


def _block(what: str, keys: np.ndarray, max_size: int, split: Split | None) -> Runs:
    """Pairs of records sharing a key (one key per record, -1 = none), blocks of at most
    ``max_size`` records. A bigger block is split by a second key when ``split`` is given; a part
    still too big is skipped. Both are logged."""
    n = len(keys)
    members = np.flatnonzero(keys >= 0)
    grouped, starts, sizes = _group(members, keys[members], n)
    fits = sizes <= max_size
    runs = [_sorted_pairs(grouped, starts[fits], sizes[fits], n)]
    big = ~fits
    if not big.any():
        return runs
    block_of, offset = _ranges(sizes[big])
    big_members = grouped[np.repeat(starts[big], sizes[big]) + offset]
    message = f"{what}: {int(big.sum())} block(s) of more than {max_size} records"
    if split is None:
        log.info("%s skipped (%d records)", message, len(big_members))
        return runs
    second = split(big_members)
    usable = second >= 0
    sub_keys = _mix(block_of[usable].astype(_U64) * _GOLDEN ^ _mix(second[usable].astype(_U64)))
    sub, sub_starts, sub_sizes = _group(big_members[usable], sub_keys, n)
    fits = sub_sizes <= max_size
    runs.append(_sorted_pairs(sub, sub_starts[fits], sub_sizes[fits], n))
    log.info(
        "%s (%d records) split; %d part(s) still too big skipped (%d records unpaired)",
        message,
        len(big_members),
        int((~fits).sum()),
        int(sub_sizes[~fits].sum()) + int((~usable).sum()),  # and those without a second key
    )
    return runs


# --- text ----------------------------------------------------------------------------------------


def _text(values: pd.Series | pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pd.Series):
        values = pa.array(values.array, type=pa.large_string(), from_pandas=True)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.cast(pa.large_string())


def _encode(values: pd.Series | pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(dense code per row, -1 for NA or empty text; the distinct values in code order).

    Only the present values are hashed: Arrow's dictionary encoding is several times slower on
    an array with nulls.
    """
    text = _text(values)
    present = _flags(pc.and_kleene(pc.is_valid(text), pc.greater(pc.binary_length(text), 0)))
    codes = np.full(len(text), -1, dtype=_I64)
    if not present.any():
        return codes, pa.array([], type=pa.large_string())
    encoded = pc.dictionary_encode(text.filter(pa.array(present)))
    codes[present] = encoded.indices.to_numpy(zero_copy_only=False)
    return codes, encoded.dictionary


def _flags(values: pa.Array) -> np.ndarray:
    """An Arrow boolean array as numpy booleans, NA as False."""
    return np.asarray(values.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _flags_int(values: pa.Array) -> np.ndarray:
    """An Arrow integer array as int64, NA as -1."""
    return np.asarray(values.fill_null(-1).to_numpy(zero_copy_only=False), dtype=_I64)


def _bytes(strings: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(UTF-8 bytes of all strings end to end, offsets: string i is data[offsets[i]:offsets[i+1]])."""
    arr = _text(strings)
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=_I64)[arr.offset : arr.offset + len(arr) + 1]
    data = (
        np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.empty(0, np.uint8)
    )
    return data, offsets


def _prefixes(strings: pa.Array, length: int) -> np.ndarray:
    """The first ``length`` bytes of each string as one integer key (-1 for NA or empty text).

    Names are folded to plain letters by normalization, so bytes are letters. The bytes are packed
    exactly up to 7 of them, and mixed into a hash beyond.
    """
    data, offsets = _bytes(strings)
    start, size = offsets[:-1], np.diff(offsets)
    key = np.zeros(len(start), dtype=_U64)
    padded = np.append(data, np.zeros(1, dtype=np.uint8))
    for k in range(length):
        byte = np.where(size > k, padded[np.minimum(start + k, len(data))], 0).astype(_U64)
        key = key * _U64(257) + byte + (size > k)
        if k >= 7:
            key = _mix(key)
    out = (key if length <= 7 else key >> _U64(1)).astype(_I64)
    out[(size == 0) | ~_flags(pc.is_valid(_text(strings)))] = -1
    return out


def _name_split(records: pd.DataFrame, length: int) -> Split | None:
    """A split of big blocks by the first ``length`` letters of name_core (0 = no split)."""
    if length == 0:
        return None
    core = _text(records["name_core"])

    def split(members: np.ndarray) -> np.ndarray:
        return _prefixes(core.take(pa.array(members)), length)

    return split


# --- record passes -------------------------------------------------------------------------------


def _key_pass(
    name: str, records: pd.DataFrame, column: str, max_size: int, split: Split | None
) -> Runs:
    keys = _encode(records[column])[0]
    if column == "domain" and "freemail" in records.columns:
        keys[records["freemail"].fillna(False).to_numpy(bool)] = -1
    return _block(name, keys, max_size, split)


def _join(left: np.ndarray, right: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (i, j) with left[i] == right[j]; keys are codes 0..n_keys-1."""
    grouped, starts, sizes = _group(np.arange(len(right), dtype=_I64), right, max(len(right), 1))
    first, count = np.zeros(n_keys, dtype=_I64), np.zeros(n_keys, dtype=_I64)
    block_key = right[grouped[starts]]
    first[block_key], count[block_key] = starts, sizes
    i, offset = _ranges(count[left])
    return i, grouped[first[left][i] + offset]


def _xref_pass(records: pd.DataFrame) -> Runs:
    """Each record whose ref_id is the record_id of a record of the other system, with it (an id
    held by two records of that system pairs the claimant with both)."""
    n = len(records)
    system = _text(records["system"])
    ids, refs = _text(records["record_id"]), _text(records["ref_id"])
    has_ref = _flags(pc.greater(pc.binary_length(refs), 0))
    lefts, rights = [_EMPTY], [_EMPTY]
    for source, target in ((CRM, ERP), (ERP, CRM)):
        claimant = np.flatnonzero(_flags(pc.equal(system, source)) & has_ref)
        claimed = np.flatnonzero(_flags(pc.equal(system, target)))
        wanted = refs.take(pa.array(claimant))
        values = pc.unique(wanted)
        want = _flags_int(pc.index_in(wanted, value_set=values))
        held = _flags_int(pc.index_in(ids.take(pa.array(claimed)), value_set=values))
        holder = np.flatnonzero(held >= 0)
        i, j = _join(want, held[holder], len(values))
        lefts.append(claimant[i])
        rights.append(claimed[holder[j]])
    codes = _codes(np.concatenate(lefts), np.concatenate(rights), n)
    codes.sort()
    return [codes]


def _postcode_pass(
    records: pd.DataFrame, prefix_length: int, max_size: int, split: Split | None
) -> Runs:
    postcode = _encode(records["postcode_norm"])[0]
    prefix = _prefixes(_text(records["name_core"]), prefix_length)
    keys = (_mix(postcode.astype(_U64) * _GOLDEN ^ prefix.astype(_U64)) >> _U64(1)).astype(_I64)
    keys[(postcode < 0) | (prefix < 0)] = -1
    return _block("postcode_prefix", keys, max_size, split)


def _address_pass(
    records: pd.DataFrame, prefix_length: int, max_size: int, split: Split | None
) -> Runs:
    """Same street line and names that start alike, or (``prefix_length`` 0) the same street
    line whatever the names: a trade name, a given name typed differently. Many companies
    share a building; a block too big for ``max_size`` is split by name."""
    address = _encode(records["address_norm"])[0]
    if prefix_length:
        prefix = _prefixes(_text(records["name_core"]), prefix_length)
    else:
        prefix = np.zeros(len(address), dtype=_I64)
    keys = (_mix(address.astype(_U64) * _GOLDEN ^ prefix.astype(_U64)) >> _U64(1)).astype(_I64)
    keys[(address < 0) | (prefix < 0)] = -1
    return _block("address", keys, max_size, split)


def _record_passes(records: pd.DataFrame, rules: BlockingRules) -> dict[str, Runs]:
    split = _name_split(records, rules.split_prefix)
    found: dict[str, Runs] = {}
    for name, column in (("domain", "domain"), ("phone", "phone_e164"), ("tax_id", "tax_id_norm")):
        spec = getattr(rules, name)
        if spec.enabled:
            found[name] = _timed(name, _key_pass, name, records, column, spec.max_block_size, split)
    if rules.xref.enabled:
        found["xref"] = _timed("xref", _xref_pass, records)
    if rules.address.enabled:
        spec = rules.address
        found["address"] = _timed(
            "address", _address_pass, records, spec.name_prefix, spec.max_block_size, split
        )
    if rules.postcode_prefix.enabled:
        spec = rules.postcode_prefix
        found["postcode_prefix"] = _timed(
            "postcode_prefix",
            _postcode_pass,
            records,
            spec.prefix_length,
            spec.max_block_size,
            split,
        )
    return found


# --- names ---------------------------------------------------------------------------------------


def _once(parent: np.ndarray, word: np.ndarray, longest: int) -> np.ndarray:
    """Entries (name, word), grouped by name, that are the first of their kind in their name.

    Compares each entry with the ``longest - 1`` entries before it, without sorting.
    """
    first = np.ones(len(parent), dtype=bool)
    for lag in range(1, longest):
        same = (parent[lag:] == parent[:-lag]) & (word[lag:] == word[:-lag])
        first[lag:] &= ~same
    return first


class _Names:
    """The distinct names of the records, the records carrying each, and their words.

    A record's name is its ``name_core``; but a core carried by more than ``cap`` records (a
    one-word core such as "ironwater", once generic words are left out) tells too little, and
    those records go by their ``name_norm`` ("ironwater solutions") instead.
    """

    def __init__(self, records: pd.DataFrame, cap: int) -> None:
        self.n = len(records)
        core = _text(records["name_core"])
        self.code, self.names = _encode(core)
        common = np.bincount(self.code[self.code >= 0], minlength=len(self.names)) > cap
        by_norm = np.zeros(self.n, dtype=bool)
        by_norm[self.code >= 0] = common[self.code[self.code >= 0]]
        if by_norm.any():
            norm = pc.coalesce(_text(records["name_norm"]), core)
            self.code, self.names = _encode(pc.if_else(pa.array(by_norm), norm, core))
        rows = np.flatnonzero(self.code >= 0)
        self.count = np.bincount(self.code[rows], minlength=len(self.names)).astype(_I64)
        self.start = np.cumsum(self.count) - self.count
        # the records of name c are records[start[c] : start[c] + count[c]]
        self.records, _, _ = _group(rows, self.code[rows], self.n)
        lists = pc.split_pattern(self.names, " ")
        parent = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False).astype(_I64)
        word, self.words = _encode(pc.list_flatten(lists))
        keep = word >= 0  # two spaces in a row make an empty word
        # one entry per word of each name, in name order: name, word, position in the name
        self.parent, self.word = parent[keep], word[keep]
        self.n_words = np.bincount(self.parent, minlength=len(self.names)).astype(_I64)
        first = np.cumsum(self.n_words) - self.n_words
        self.position = np.arange(len(self.parent), dtype=_I64) - first[self.parent]
        # document frequency: records whose name has the word (a word twice in a name once)
        once = _once(self.parent, self.word, int(self.n_words.max(initial=0)))
        weights = self.count[self.parent[once]].astype(np.float64)
        self.frequency = np.bincount(self.word[once], weights, len(self.words)).astype(_I64)
        self.once = once

    def records_of(self, name: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index into ``name``, record) for every record of each name."""
        which, offset = _ranges(self.count[name])
        return which, self.records[self.start[name][which] + offset]

    def expand(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Record pair codes of name pairs: every record of name a with every record of b."""
        cb = self.count[b]
        which, within = _ranges(self.count[a] * cb)
        cbw = cb[which]
        left = self.records[self.start[a][which] + within // cbw]
        right = self.records[self.start[b][which] + within % cbw]
        return _codes(left, right, self.n)


def _rare_token_pass(names: _Names, max_frequency: int, min_length: int) -> Runs:
    """Records sharing a word of their name that at most ``max_frequency`` records use."""
    long_enough = pc.greater_equal(pc.utf8_length(names.words), min_length)
    rare = np.asarray(long_enough.to_numpy(zero_copy_only=False), dtype=bool)
    rare &= (names.frequency >= 2) & (names.frequency <= max_frequency)
    entry = np.flatnonzero(rare[names.word] & names.once)
    which, member = names.records_of(names.parent[entry])
    grouped, starts, sizes = _group(member, names.word[entry][which], names.n)
    left, right = _all_pairs(grouped, starts, sizes)
    codes = _codes(left, right, names.n)  # records sharing two rare words: the pair repeats
    codes.sort()
    return [codes]


def _postcode_word_pass(
    names: _Names, records: pd.DataFrame, max_size: int, min_length: int
) -> Runs:
    """Records of one postcode sharing a word of their names that at most ``max_size`` records
    of that postcode use: a surname common in the file but not in its street ("paterson" in
    3501), a first name typed another way."""
    postcode = _encode(records["postcode_norm"])[0]
    long_enough = pc.greater_equal(pc.utf8_length(names.words), min_length)
    usable = np.asarray(long_enough.to_numpy(zero_copy_only=False), dtype=bool)
    entry = np.flatnonzero(usable[names.word] & names.once)
    which, member = names.records_of(names.parent[entry])
    place = postcode[member]
    here = place >= 0
    member, word = member[here], names.word[entry][which][here]
    keys = (_mix(place[here].astype(_U64) * _GOLDEN ^ word.astype(_U64)) >> _U64(1)).astype(_I64)
    grouped, starts, sizes = _group(member, keys, names.n)
    fits = (sizes >= 2) & (sizes <= max_size)
    left, right = _all_pairs(grouped, starts[fits], sizes[fits])
    codes = _codes(left, right, names.n)
    codes.sort()
    return [codes]


def _sequence_hashes(names: _Names) -> tuple[np.ndarray, np.ndarray]:
    """(hash of each name without each of its words, hash of each whole name).

    A name's hash sums a hash per word times a weight per position; leaving word i out shifts the
    words after it one position left. Prefix sums give every leave-one-out hash at once.
    """
    parent, position = names.parent, names.position
    width = int(names.n_words.max(initial=1)) + 1
    weight = _mix(np.arange(1, width + 1, dtype=_U64) * _GOLDEN) | _U64(1)
    word_hash = _mix(names.word.astype(_U64) * _GOLDEN + _U64(1))
    at = word_hash * weight[position]
    shifted = word_hash * weight[np.maximum(position - 1, 0)]
    zero = np.zeros(1, dtype=_U64)
    sum_at = np.concatenate((zero, np.cumsum(at)))
    sum_shifted = np.concatenate((zero, np.cumsum(shifted)))
    first = np.concatenate(([0], np.cumsum(names.n_words)))
    index = np.arange(len(parent), dtype=_I64)
    before = sum_at[index] - sum_at[first[parent]]
    after = sum_shifted[first[parent + 1]] - sum_shifted[index + 1]
    without = _mix(before + after + (names.n_words[parent] - 1).astype(_U64) * _GOLDEN)
    whole = _mix(sum_at[first[1:]] - sum_at[first[:-1]] + names.n_words.astype(_U64) * _GOLDEN)
    return without, whole


def _one_edit(strings: pa.Array, max_group: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of strings one edit apart: a letter dropped, added or changed, or two swapped.

    Such strings share a key: the string itself or it with one letter deleted ("jaya" and "jvya"
    both give "jya"; "jaya" and "jayya" give "jaya"; "jaya" and "jyaa" give "jaa"). Keys are
    hashes of the letters by position, computed for every deletion at once with prefix sums.
    """
    data, offsets = _bytes(strings)
    length = np.diff(offsets)
    if len(data) == 0:
        return _EMPTY, _EMPTY
    owner, position = _ranges(length)
    width = int(length.max()) + 1
    cell = data[offsets[0] : offsets[-1]].astype(_I64) * width
    table = _mix(np.arange(256 * width, dtype=_U64) * _GOLDEN + _U64(7))
    at = table[cell + position]  # each letter at its own position
    shifted = table[cell + np.maximum(position - 1, 0)]  # one position earlier, after a deletion
    zero = np.zeros(1, dtype=_U64)
    sum_at = np.concatenate((zero, np.cumsum(at)))
    sum_shifted = np.concatenate((zero, np.cumsum(shifted)))
    base = offsets - offsets[0]
    index = np.arange(len(at), dtype=_I64)
    before = sum_at[index] - sum_at[base[:-1][owner]]
    after = sum_shifted[base[1:][owner]] - sum_shifted[index + 1]
    deleted = _mix(before + after + (length[owner] - 1).astype(_U64) * _GOLDEN)
    whole = _mix(sum_at[base[1:]] - sum_at[base[:-1]] + length.astype(_U64) * _GOLDEN)
    keys = np.concatenate((deleted, whole))
    who = np.concatenate((owner, np.arange(len(length), dtype=_I64)))
    grouped, starts, sizes = _group(who, keys, len(length))
    fits = sizes <= max_group
    return _all_pairs(grouped, starts[fits], sizes[fits])


def _abbreviations(
    words: pa.Array, frequency: np.ndarray, min_length: int, max_group: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (short, long) of words where the short one begins the long one and the long one is
    used by at least as many records: "eng" / "engineering", "dist" / "distribution" (and not the
    slips "engineerng", "enginering"). A word beginning more than ``max_group`` such words ("pro")
    is too vague and pairs with none."""
    length = np.asarray(pc.utf8_length(words).to_numpy(zero_copy_only=False))
    short = np.flatnonzero(length >= min_length)
    if len(short) == 0:
        return _EMPTY, _EMPTY
    # fixed-width text, one character wider than the longest word, compares in C
    every = np.asarray(words.to_pylist(), dtype=f"U{int(length.max()) + 1}")
    order = np.argsort(every, kind="stable")
    ordered = every[order]
    prefixes = every[short]
    low = np.searchsorted(ordered, prefixes, side="right")  # after the word itself
    high = np.searchsorted(ordered, np.char.add(prefixes, "\U0010ffff"), side="left")
    which, offset = _ranges(high - low)
    a, b = short[which], order[low[which] + offset]
    keep = frequency[b] >= frequency[a]
    a, b = a[keep], b[keep]
    vague = np.bincount(a, minlength=len(length)) > max_group
    keep = ~vague[a]
    return a[keep], b[keep]


def _index(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique uint64 hashes prepared for ``_lookup``: (sorted high bits, original position)."""
    position_bits = _bits(len(keys))
    packed = (keys >> _U64(position_bits + 1)).astype(_I64) << position_bits
    packed |= np.arange(len(keys), dtype=_I64)
    packed.sort()
    return packed >> position_bits, packed & ((1 << position_bits) - 1)


def _lookup(
    index: tuple[np.ndarray, np.ndarray], queries: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(which queries were found, the position of the key each one found)."""
    keys, position = index
    if len(keys) == 0 or len(queries) == 0:
        return np.zeros(len(queries), dtype=bool), _EMPTY
    wanted = (queries >> _U64(_bits(len(position)) + 1)).astype(_I64)
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    found = keys[at] == wanted
    return found, position[at[found]]


def _word_pairs(names: _Names, rules: WordRules) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of distinct names that differ in one word.

    - The two words one edit apart ("cemerlahg" / "cemerlang") or one beginning the other ("eng"
      / "engineering"); the other words the same and in the same places.
    - One name is the other plus a word that at most ``max_extra_word_frequency`` records use
      ("fairridge modern foods" / "fairridge modern foods limietd").
    """
    without, whole = _sequence_hashes(names)
    word_length = np.asarray(pc.utf8_length(names.words).to_numpy(zero_copy_only=False))
    typo_words = np.flatnonzero(word_length >= rules.min_typo_length)
    a, b = _one_edit(names.words.take(pa.array(typo_words)), rules.max_block_size)
    short, long = _abbreviations(
        names.words, names.frequency, rules.min_abbreviation_length, rules.max_block_size
    )
    u = np.concatenate((typo_words[a], short))
    v = np.concatenate((typo_words[b], long))
    # Look from the word in fewer names: each of its entries, with the other word in its place.
    uses = np.bincount(names.word, minlength=len(names.words))
    swap = uses[u] > uses[v]
    u, v = np.where(swap, v, u), np.where(swap, u, v)
    entries = np.arange(len(names.word), dtype=_I64)
    by_word, starts, _ = _group(entries, names.word, len(entries))
    first = np.zeros(len(names.words), dtype=_I64)
    first[names.word[by_word[starts]]] = starts
    pair, offset = _ranges(uses[u])
    entry = by_word[first[u][pair] + offset]

    def entry_key(rest: np.ndarray, word: np.ndarray, position: np.ndarray) -> np.ndarray:
        return _mix(rest ^ _mix(word.astype(_U64) * _GOLDEN + position.astype(_U64)))

    index = _index(entry_key(without, names.word, names.position))
    found, other = _lookup(index, entry_key(without[entry], v[pair], names.position[entry]))
    left, right = [names.parent[entry[found]]], [names.parent[other]]
    # a name plus one uncommon word is another name
    extra = np.flatnonzero(
        (names.frequency[names.word] <= rules.max_extra_word_frequency)
        & (names.n_words[names.parent] >= 2)
    )
    found, other = _lookup(_index(whole), without[extra])
    left.append(names.parent[extra[found]])
    right.append(other)
    return np.concatenate(left), np.concatenate(right)


def _gram_slots(names: pa.Array, q: int) -> tuple[np.ndarray, np.ndarray]:
    """(hashed slot of the n-gram starting at each byte, first byte of each name).

    Names are padded with a space at each end. The n-grams running past the end of their name get
    the last slot, whose hash value is the largest, so they never win a minimum.
    """
    text = pa.large_string()
    pad = pa.scalar(" " * max(1, q - 2), text)
    padded = pc.binary_join_element_wise(pa.scalar(" ", text), names, pad, pa.scalar("", text))
    data, offsets = _bytes(padded)
    data = data[offsets[0] : offsets[-1]]
    offsets = offsets - offsets[0]
    total = len(data)
    raw = np.zeros(total, dtype=np.uint32)  # the q bytes of each n-gram packed, q <= 4
    for k in range(q):
        raw[: total - k] |= data[k:].astype(np.uint32) << np.uint32(8 * (q - 1 - k))
    raw *= np.uint32(0x9E3779B1)  # multiplicative hashing: the high bits are well spread
    slots = (raw >> np.uint32(16)).astype(np.uint16)
    np.minimum(slots, _GRAM_SLOTS - 2, out=slots)
    tail = (offsets[1:, None] - np.arange(1, q, dtype=_I64)[None, :]).ravel()
    slots[tail[tail >= 0]] = _GRAM_SLOTS - 1
    return slots, offsets[:-1]


def _minhash_pairs(names: pa.Array, rules: MinHashRules) -> tuple[np.ndarray, np.ndarray]:
    """Names whose MinHash signatures agree on all ``rows`` values of some band."""
    if len(names) < 2:
        return _EMPTY, _EMPTY
    slots, first = _gram_slots(names, rules.ngram)
    salts = np.random.default_rng(rules.seed).integers(
        1, 2**63, size=(rules.bands, rules.rows), dtype=np.uint64
    )
    every_slot = np.arange(_GRAM_SLOTS, dtype=_U64)
    count = len(first)

    def band(b: int) -> tuple[np.ndarray, np.ndarray, int]:
        key = np.full(count, (b + 1) * int(_GOLDEN) % 2**64, dtype=_U64)
        for r in range(rules.rows):
            table = (_mix(every_slot ^ salts[b, r]) >> _U64(32)).astype(np.uint32)
            table[_GRAM_SLOTS - 1] = np.iinfo(np.uint32).max
            key = _mix(key ^ np.minimum.reduceat(table[slots], first).astype(_U64))
        grouped, starts, sizes = _group(np.arange(count, dtype=_I64), key, count)
        fits = sizes <= rules.max_bucket_size
        left, right = _all_pairs(grouped, starts[fits], sizes[fits])
        return left, right, int((~fits).sum())

    with ThreadPoolExecutor(max_workers=2) as pool:
        bands = list(pool.map(band, range(rules.bands)))
    skipped = sum(s for _, _, s in bands)
    if skipped:
        log.info(
            "fuzzy: %d MinHash bucket(s) of more than %d names skipped",
            skipped,
            rules.max_bucket_size,
        )
    return np.concatenate([a for a, _, _ in bands]), np.concatenate([b for _, b, _ in bands])


def _loose(names: pa.Array) -> pa.Array:
    """A looser spelling of names for the same-name blocks: German umlauts written out or not
    ("mueller" = "muller") and spaces dropped ("indah raya" = "indahr aya" = "indahraya")."""
    folded = pc.replace_substring_regex(names, "([aou])e", "\\1")
    return pc.replace_substring(folded, " ", "")


def _fuzzy_pass(names: _Names, rules: FuzzyPass, records: pd.DataFrame) -> Runs:
    cap = rules.max_block_size
    norm = _text(records["name_norm"])

    def by_full_name(members: np.ndarray) -> np.ndarray:
        return _encode(norm.take(pa.array(members)))[0]

    loose = _encode(_loose(names.names))[0] if len(names.names) else _EMPTY
    same = np.where(names.code >= 0, np.append(loose, -1)[names.code], -1)
    runs = _block("fuzzy (same name)", same, cap, by_full_name)
    a_parts, b_parts = [_EMPTY], [_EMPTY]
    if rules.words.enabled:
        a, b = _word_pairs(names, rules.words)
        log.debug("fuzzy: %d name pairs one word apart", len(a))
        a_parts.append(a)
        b_parts.append(b)
    if rules.minhash.enabled:
        a, b = _minhash_pairs(names.names, rules.minhash)
        log.debug("fuzzy: %d MinHash name pairs (with repeats)", len(a))
        a_parts.append(a)
        b_parts.append(b)
    a, b = np.concatenate(a_parts), np.concatenate(b_parts)
    # names carried by too many records are left out, as in the same-name blocks
    fits = (names.count[a] <= cap) & (names.count[b] <= cap) & (a != b)
    codes = names.expand(a[fits], b[fits])
    codes.sort()
    runs.append(codes)
    return runs


def _name_passes(records: pd.DataFrame, rules: BlockingRules) -> dict[str, Runs]:
    found: dict[str, Runs] = {}
    if not (rules.rare_token.enabled or rules.fuzzy.enabled):
        return found
    names = _Names(records, rules.fuzzy.max_block_size)
    if rules.rare_token.enabled:
        spec = rules.rare_token
        found["rare_token"] = _timed(
            "rare_token", _rare_token_pass, names, spec.max_frequency, spec.min_length
        )
        if spec.max_in_postcode:
            found["rare_token"].extend(
                _timed(
                    "words in a postcode",
                    _postcode_word_pass,
                    names,
                    records,
                    spec.max_in_postcode,
                    spec.min_length,
                )
            )
    if rules.fuzzy.enabled:
        found["fuzzy"] = _timed("fuzzy", _fuzzy_pass, names, rules.fuzzy, records)
        if "name_alt" in records.columns:
            found["fuzzy"] = [
                *found["fuzzy"],
                *_timed("second names", _second_name_pass, records, rules.fuzzy.max_block_size),
            ]
    return found


def _second_name_pass(records: pd.DataFrame, max_size: int) -> Runs:
    """A record's second name (after T/A, ATF, DBA) equal to another record's name: the ERP's
    "Woodland Nominees Ltd T/A Eleo Laboratories" and the CRM's "Eleo Laboratories". A name
    held by more than ``max_size`` records is skipped, as a too-big block is."""
    n = len(records)
    alt = _text(records["name_alt"])
    if alt.null_count == len(alt):
        return [_EMPTY]
    codes, _ = _encode(pa.concat_arrays([_text(records["name_core"]), alt]))
    named, second = codes[:n], codes[n:]
    holders = np.flatnonzero(second >= 0)
    if not len(holders):
        return [_EMPTY]
    n_keys = int(codes.max()) + 1
    common = np.bincount(named[named >= 0], minlength=n_keys) > max_size
    holders = holders[~common[second[holders]]]
    having = np.flatnonzero((named >= 0) & ~common[np.maximum(named, 0)])
    i, j = _join(second[holders], named[having], n_keys)
    run = _codes(holders[i], having[j], n)
    run.sort()
    return [run]


# --- union ---------------------------------------------------------------------------------------


def _union(found: dict[str, Runs], n: int) -> pd.DataFrame:
    """Unique pairs sorted by (left, right), with the OR of the bits of the passes proposing them.

    Every run is sorted, so a stable sort (timsort) merges them instead of sorting from scratch.
    """
    runs = [(run << _TAG_BITS) | PASSES[name] for name, parts in found.items() for run in parts]
    tagged = np.concatenate([_EMPTY, *runs])
    tagged.sort(kind="stable")
    tagged = tagged[_firsts(tagged)]  # one pass proposing a pair twice
    codes = tagged >> _TAG_BITS
    first = _firsts(codes)
    pair = np.cumsum(first) - 1
    bits = np.bincount(pair, weights=tagged & ((1 << _TAG_BITS) - 1), minlength=int(first.sum()))
    codes = codes[first]
    size = max(n, 1)
    return pd.DataFrame(
        {"left": codes // size, "right": codes % size, "passes": bits.astype(np.int16)},
        copy=False,
    )


_COLUMNS = {
    "domain": ("domain",),
    "phone": ("phone_e164",),
    "tax_id": ("tax_id_norm",),
    "xref": ("system", "record_id", "ref_id"),
    "rare_token": ("name_core", "postcode_norm"),
    "postcode_prefix": ("postcode_norm", "name_core"),
    "fuzzy": ("name_core", "name_norm"),  # and name_alt where the records have it
    "address": ("address_norm", "name_core"),
    "orders": (),
}


def _timed(name: str, run: Callable[..., Runs], *args: Any) -> Runs:
    """``run(*args)``, logging the pairs it proposed and the time it took (at debug level)."""
    started = time.perf_counter()
    runs = run(*args)
    log.debug(
        "%s: %d pairs proposed in %.2f s",
        name,
        sum(len(r) for r in runs),
        time.perf_counter() - started,
    )
    return runs


def candidate_pairs(
    records: pd.DataFrame, rules: BlockingRules | None = None, orders: np.ndarray | None = None
) -> pd.DataFrame:
    """Candidate pairs of ``records`` (see ``recon.match``): positions ``left`` < ``right`` and
    ``passes``, the bitmask of the ``PASSES`` proposing the pair; unique, sorted by (left, right).

    ``orders``: sorted pair codes ``left * n + right`` whose deals and orders coincide (from
    ``order_evidence.proposed``), proposed by the ``orders`` pass when it is enabled.

    ``rules`` defaults to the bundled rules/blocking.yaml.
    """
    rules = rules or default_blocking_rules()
    enabled = [name for name in PASS_NAMES if getattr(rules, name).enabled]
    needed = {column for name in enabled for column in _COLUMNS[name]}
    if rules.split_prefix:
        needed.add("name_core")
    missing = sorted(needed - set(records.columns))
    if missing:
        raise ValueError(f"records frame lacks column(s) for blocking: {', '.join(missing)}")
    records = records.reset_index(drop=True)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        by_record = pool.submit(_record_passes, records, rules)
        by_name = pool.submit(_name_passes, records, rules)
        found = {**by_record.result(), **by_name.result()}
    if rules.orders.enabled and orders is not None:
        found["orders"] = [np.asarray(orders, dtype=_I64)]
    pairs = _union(found, len(records))
    log.info(
        "blocking: %d candidate pairs for %d records in %.1f s",
        len(pairs),
        len(records),
        time.perf_counter() - started,
    )
    return pairs


def pass_counts(pairs: pd.DataFrame) -> dict[str, int]:
    """Candidates proposed by each pass (a pair proposed by two passes counts for both)."""
    bits = pairs["passes"].to_numpy()
    return {name: int(((bits & bit) != 0).sum()) for name, bit in PASSES.items()}
