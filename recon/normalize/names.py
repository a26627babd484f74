"""Company names → comparison keys: ``name_norm``, ``name_core``, ``name_tokens``, ``legal_form``.

Also home of the text helpers the other normalizers share (``fold_text``, ``map_tokens``,
``unique_codes``), because a name is the text every other field is folded like.

Everything is vectorized: pyarrow string kernels (RE2) over the *distinct* values of a column, then
mapped back to the rows. Python runs only per distinct word (rule tables), on distinct values with
non-ASCII letters (Unicode NFKD), and on the few values that need a pattern RE2 cannot express
(runs of single letters, such as "p t").

Folding (``fold_text``): lower case; German ä ö ü → ae oe ue and ß → ss *before* accents are
stripped, so "Müller" = "Mueller" = "MÜLLER"; then NFKD and combining marks removed, so "Société" =
"Societe". A name typed without its umlaut ("Muller") stays "muller": we do not turn "ue" into "u"
("Blue" would become "blu"); the fuzzy scorer sees "muller" and "mueller" as near.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process

from recon.normalize.kernels import (
    Sequences,
    Words,
    as_array,
    delete_ascii,
    join_words,
    offsets_of,
    scatter,
    sorted_unique,
    spaces_for,
    spans,
    split_words,
    unique_codes,
    where_some,
)
from recon.normalize.name_parts import take_apart
from recon.schema import TEXT_DTYPE

if TYPE_CHECKING:
    from recon.normalize.rules import LegalForm, NormalizeRules

ARROW_TEXT = pd.StringDtype("pyarrow")
T = TypeVar("T")

# German umlauts spelled out before accents are stripped, composed or decomposed (u + U+0308).
_UMLAUTS = (
    ("a\u0308", "ae"),
    ("o\u0308", "oe"),
    ("u\u0308", "ue"),
    ("ä", "ae"),
    ("ö", "oe"),
    ("ü", "ue"),
    ("ß", "ss"),
)
# Letters NFKD does not decompose into a base letter and a mark.
_WHOLE_LETTERS = (
    ("ø", "o"),
    ("æ", "ae"),
    ("œ", "oe"),
    ("đ", "d"),
    ("ð", "d"),
    ("ł", "l"),
    ("ı", "i"),
    ("þ", "th"),
    ("ħ", "h"),
    ("ŧ", "t"),
    ("ŀ", "l"),
    ("ſ", "s"),
)


def _char_class(ranges: tuple[tuple[int, int], ...]) -> str:
    """A regex class from code point ranges, written with literal characters: RE2 and Python's
    ``re`` read them alike, and pandas keeps such a pattern on the fast pyarrow path."""
    return "[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in ranges) + "]"


_COMBINING = _char_class(((0x300, 0x36F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF)))
# Everything that separates words: ASCII punctuation and controls, Latin-1 signs, × ÷, general
# punctuation (dashes, curly quotes, zero-width spaces), symbols, CJK punctuation, emoji. "&" is
# read as "and" before, and apostrophes are dropped before, so neither is listed.
_SEPARATOR_RANGES = (
    (0x00, 0x25),
    (0x28, 0x2F),
    (0x3A, 0x40),
    (0x5B, 0x60),
    (0x7B, 0xBF),
    (0xD7, 0xD7),
    (0xF7, 0xF7),
    (0x2000, 0x206F),
    (0x20A0, 0x20CF),
    (0x2190, 0x2BFF),
    (0x3000, 0x303F),
    (0xFE10, 0xFE1F),
    (0xFE30, 0xFE6F),
    (0xFFF0, 0xFFFF),
    (0x1F000, 0x1FAFF),
)


def _separators(keep: str = "") -> str:
    """The separator class, less the characters in ``keep`` (addresses keep "/" and "-")."""
    points = sorted(
        {p for a, b in _SEPARATOR_RANGES for p in range(a, b + 1)} - set(map(ord, keep))
    )
    ranges: list[list[int]] = []
    for p in points:
        if ranges and ranges[-1][1] == p - 1:
            ranges[-1][1] = p
        else:
            ranges.append([p, p])

    def char(p: int) -> str:
        return f"\\x{p:02x}" if p < 0x80 else chr(p)

    return "[" + "".join(f"{char(a)}-{char(b)}" for a, b in ranges) + "]"


_SEPARATORS = _separators()


def _ascii_separators(keep: str = "") -> str:
    """The ASCII characters of the separator class (less ``keep``), for byte-level editing."""
    return "".join(
        chr(p)
        for a, b in _SEPARATOR_RANGES
        for p in range(a, min(b, 0x7F) + 1)
        if chr(p) not in keep
    )


_ASCII_APOSTROPHES = "'`"
_APOSTROPHES = "['’‘`´ʼ]"
_SINGLE_LETTER_RUN = r"(?:^| )[a-z] [a-z](?: |$)"
_JOIN_SINGLE_LETTERS = re.compile(r"(?<![^ ])([a-z]) (?=[a-z](?![^ ]))")


# --- shared helpers ---------------------------------------------------------------------------


def as_text(values: pd.Series) -> pd.Series:
    """Any column as pyarrow-backed text (numbers become their text), missing as NA."""
    if values.dtype == ARROW_TEXT:
        return values
    return values.astype(ARROW_TEXT)


def to_arrow(values: pd.Series) -> pa.Array:
    return pa.array(as_text(values).array)


def from_arrow(values: pa.Array | pa.ChunkedArray, index: pd.Index) -> pd.Series:
    return pd.Series(pd.arrays.ArrowStringArray(values), index=index)


def expand(unique_result: pd.DataFrame | pd.Series, codes: np.ndarray, index: pd.Index):
    """Rows of a per-distinct-value result, back in the order and index of the original rows."""
    out = unique_result.iloc[codes]
    out.index = index
    return out


def on_distinct(fn: Callable[[pd.Series], pd.Series], values: pd.Series) -> pd.Series:
    """``fn`` applied to each distinct value once, answers mapped back to every row."""
    codes, first = unique_codes(values)
    return expand(fn(values.iloc[first]), codes, values.index)


_CACHE: dict[tuple[str, int], tuple[object, object]] = {}


def cached_for(rules: NormalizeRules, what: str, build: Callable[[NormalizeRules], T]) -> T:
    """What ``build`` makes from ``rules``, made once per rules object (rules are read-only)."""
    hit = _CACHE.get((what, id(rules)))
    if hit is not None and hit[0] is rules:
        return hit[1]  # type: ignore[return-value]
    made = build(rules)
    _CACHE[(what, id(rules))] = (rules, made)
    return made


def fold_text(values: pd.Series) -> pd.Series:
    """Lower case, German umlauts spelled out, accents removed (see the module docstring)."""
    text = as_text(values)
    return from_arrow(_fold(to_arrow(text)), text.index)


def _fold(arr: pa.Array) -> pa.Array:
    arr = pc.utf8_lower(arr)
    # Only values with a non-ASCII character need the slower Unicode steps.
    return where_some(arr, ~_mask(pc.string_is_ascii(arr)), _fold_unicode)


def _fold_unicode(arr: pa.Array) -> pa.Array:
    for old, new in _UMLAUTS:
        arr = pc.replace_substring(arr, old, new)
    arr = pc.utf8_lower(pc.utf8_normalize(arr, "NFKD"))
    arr = pc.replace_substring_regex(arr, _COMBINING, "")
    for old, new in _WHOLE_LETTERS:
        arr = pc.replace_substring(arr, old, new)
    return arr


def clean_words(values: pd.Series, keep: str = "") -> pd.Series:
    """Folded words separated by single spaces: punctuation removed, "&" read as "and", and runs
    of single letters joined ("P.T." → "pt", "G.m.b.H." → "gmbh", "A B C" → "abc").

    ``keep`` names punctuation to leave in place (addresses keep "/" and "-" of "3/15", "52-53").
    """
    text = as_text(values)
    arr = _fold(to_arrow(text))
    # Apostrophes are dropped ("Int'l" → "intl") and every separator becomes a space. Values
    # with non-ASCII characters go through the full regular expressions; the ASCII characters
    # of every value are edited byte by byte.
    special = ~_mask(pc.string_is_ascii(arr))
    if special.any():
        separators = _separators(keep) if keep else _SEPARATORS

        def unicode_steps(v: pa.Array) -> pa.Array:
            return pc.replace_substring_regex(
                pc.replace_substring_regex(v, _APOSTROPHES, ""), separators, " "
            )

        arr = where_some(arr, special, unicode_steps)
    arr = delete_ascii(arr, _ASCII_APOSTROPHES)
    ampersand = _mask(pc.match_substring(arr, "&"))
    if ampersand.any():
        arr = where_some(arr, ampersand, lambda v: pc.replace_substring(v, "&", " and "))
    arr = pc.utf8_trim_whitespace(spaces_for(arr, _ascii_separators(keep)))
    return join_single_letters(from_arrow(arr, text.index))


def _mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


def join_single_letters(text: pd.Series) -> pd.Series:
    """Runs of one-letter words joined: "p t maju" → "pt maju", "u s a" → "usa"."""
    arr = to_arrow(text)
    runs = _mask(pc.match_substring_regex(arr, _SINGLE_LETTER_RUN))
    if not runs.any():
        return text
    return from_arrow(where_some(arr, runs, _join_letter_runs), text.index)


def _join_letter_runs(values: pa.Array) -> pa.Array:
    """The words of each value, split at single spaces, with every one-letter word (a-z) glued
    to a one-letter word before it."""
    lists = pc.split_pattern(values, " ")
    flat = pc.list_flatten(lists)
    row = pc.list_parent_indices(lists).to_numpy()
    letter = _mask(pc.match_substring_regex(flat, "^[a-z]$"))
    glued = np.zeros(len(flat), dtype=bool)
    glued[1:] = letter[1:] & letter[:-1] & (row[1:] == row[:-1])
    word = np.cumsum(~glued) - 1
    words = pc.binary_join(
        pa.LargeListArray.from_arrays(pa.array(offsets_of(word, int(word[-1]) + 1)), flat),
        pa.scalar("", pa.large_string()),
    )
    return join_words(row[~glued], words, len(values))


def map_tokens(
    values: pd.Series, table: Mapping[str, str] | Callable[[str], str], *, sort: bool = False
) -> pd.Series:
    """Replace each space-separated word through ``table`` (a word mapped to "" is dropped).

    The table is consulted once per distinct word, never per row. With ``sort``, each value's
    words come out in alphabetical order, each once.
    """
    arr = to_arrow(values)
    words = split_words(arr)
    vocab = words.vocab.to_pylist()
    new = [table(t) for t in vocab] if callable(table) else [table.get(t, t) for t in vocab]
    new_words = pa.array(new, type=pa.large_string())
    keep = np.array([w != "" for w in new], dtype=bool)[words.code] if new else words.code >= 0
    parents, codes = words.row[keep], words.code[keep]
    if sort and len(codes):
        rank = np.argsort(np.argsort(np.array(new, dtype=object), kind="stable"))
        order = np.lexsort((rank[codes], parents))
        parents, codes = parents[order], codes[order]
        first = np.ones(len(codes), dtype=bool)
        first[1:] = (parents[1:] != parents[:-1]) | (rank[codes[1:]] != rank[codes[:-1]])
        parents, codes = parents[first], codes[first]
    joined = join_words(parents, new_words.take(pa.array(codes)), len(arr), null=words.null)
    return from_arrow(joined, values.index)


def blank_to_na(values: pd.Series) -> pd.Series:
    return values.mask(values.fillna("") == "")


# --- rules compiled for names -----------------------------------------------------------------


@dataclass(frozen=True)
class _LegalMatcher:
    """Which legal-form spellings (``NameRules.variants``) may be removed at a name's start or
    end, for names of one set of countries."""

    start: np.ndarray
    end: np.ndarray


@dataclass
class NameRules:
    """The name rules in the folded, abbreviated form names are compared in."""

    abbreviations: dict[str, str]
    missing: frozenset[str]
    weights: dict[str, float]
    variant_code: dict[str, str]
    code_rank: dict[str, int]
    strict: tuple[frozenset[str], ...]  # per legal form: the countries it is limited to, or empty
    forms: tuple[tuple[LegalForm, tuple[str, ...]], ...]
    matchers: dict[frozenset[int], _LegalMatcher]

    @property
    def variants(self) -> tuple[str, ...]:
        """Every legal-form spelling once, in rules order."""
        return tuple(self.variant_code)

    def matcher(self, active_strict: frozenset[int]) -> _LegalMatcher:
        """The spellings that apply when the country-limited forms ``active_strict`` (indexes into
        ``forms``) apply, and every form not limited to countries."""
        if active_strict not in self.matchers:
            where = {v: i for i, v in enumerate(self.variants)}
            start = np.zeros(len(where), dtype=bool)
            end = np.zeros(len(where), dtype=bool)
            for i, (form, variants) in enumerate(self.forms):
                if self.strict[i] and i not in active_strict:
                    continue
                for v in variants:
                    start[where[v]] |= form.position in ("start", "either")
                    end[where[v]] |= form.position in ("end", "either")
            self.matchers[active_strict] = _LegalMatcher(start, end)
        return self.matchers[active_strict]


def resolve_rules(rules: NormalizeRules | None) -> NormalizeRules:
    if rules is None:
        from recon.normalize.rules import default_rules

        return default_rules()
    return rules


def name_rules(rules: NormalizeRules | None = None) -> NameRules:
    """Compile (once per rules object) the word lists into the space names are compared in."""
    return cached_for(resolve_rules(rules), "names", _compile)


def _compile(rules: NormalizeRules) -> NameRules:
    text = rules.text
    abbreviations: dict[str, str] = {}
    for full, spellings in text.abbreviations.items():
        target, *cleaned = _clean_many([full, *spellings], {})
        abbreviations.update(dict.fromkeys(cleaned, target))
    abbreviations = {k: v for k, v in abbreviations.items() if k and k != v}
    missing = frozenset(_clean_many(list(text.missing_values), abbreviations))
    stop = _clean_many(list(text.stop_words), abbreviations)
    generic = _clean_many(list(text.generic_words), abbreviations)
    weights = dict.fromkeys(stop, 0.0)
    weights.update(zip(generic, text.generic_words.values(), strict=True))
    weights.pop("", None)
    variant_code: dict[str, str] = {}
    forms = []
    for form in rules.legal_forms:
        typed = [*form.variants, *(_without_marks(v) for v in form.variants)]
        variants = tuple(dict.fromkeys(v for v in _clean_many(typed, abbreviations) if v))
        forms.append((form, variants))
        for v in variants:
            variant_code.setdefault(v, form.code)
    code_rank: dict[str, int] = {}
    for form in rules.legal_forms:
        code_rank.setdefault(form.code, len(code_rank))
    return NameRules(
        abbreviations=abbreviations,
        missing=missing,
        weights=weights,
        variant_code=variant_code,
        code_rank=code_rank,
        strict=tuple(
            frozenset(f.country) if f.only_in_country else frozenset() for f in rules.legal_forms
        ),
        forms=tuple(forms),
        matchers={},
    )


def _without_marks(text: str) -> str:
    """``text`` with its accents and umlauts dropped rather than spelled out ("beschränkter" →
    "beschrankter"): how a keyboard without them types a rule word."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _clean_many(texts: list[str], abbreviations: Mapping[str, str]) -> list[str]:
    """Rule words put through the same cleaning as names, so they are compared like for like."""
    if not texts:
        return []
    words = clean_words(pd.Series(texts, dtype=ARROW_TEXT))
    if abbreviations:
        words = map_tokens(words, abbreviations)
    return [str(w) if pd.notna(w) else "" for w in words]


def token_weights(rules: NormalizeRules | None = None) -> dict[str, float]:
    """Weight of each word of ``name_norm`` for the scorer: generic words (group, holdings,
    indonesia, ...) as set in normalize.yaml, stop-words 0; any word not listed weighs 1."""
    return dict(name_rules(rules).weights)


# --- names ------------------------------------------------------------------------------------


def _country_groups(
    countries: pd.Series | None, compiled: NameRules, n: int
) -> tuple[list[frozenset[int]], np.ndarray]:
    """Which country-limited legal forms apply to each row: the distinct sets, and a set id per row.

    A row without a (recognised) country gets every form (set 0).
    """
    sets = [frozenset(i for i, c in enumerate(compiled.strict) if c)]
    if countries is None:
        return sets, np.zeros(n, dtype=np.int64)
    from recon.normalize.countries import to_country_code

    kinds, values = pd.factorize(to_country_code(countries.reset_index(drop=True)))
    per_value = []
    for value in values:
        active = frozenset(i for i, c in enumerate(compiled.strict) if value in c)
        if active not in sets:
            sets.append(active)
        per_value.append(sets.index(active))
    return sets, np.append(np.array(per_value, dtype=np.int64), 0)[kinds]


# A word this alike to a generic word, of at least this many letters and with the same first
# letter, is that word mistyped ("inudstries", "mnaufacturing"): a typing slip must not turn a
# generic word into the distinctive part of a name.
_SLIP_SIMILARITY = 88
_SLIP_MIN_LENGTH = 6


def _generic_stems(vocab: pa.Array, compiled: NameRules) -> tuple[list[str], np.ndarray]:
    """The generic words in one form each (sorted), and per vocabulary word the index of its
    form there, or -1: listed generic words and their likely misspellings."""
    generic = [w for w, weight in compiled.weights.items() if weight > 0]
    stems = sorted({_singular(w) for w in generic})
    stem_of = np.full(len(vocab), -1, dtype=np.int64)
    listed = pc.index_in(pa.array(generic, pa.large_string()), value_set=vocab).to_pylist()
    for word, at_vocab in zip(generic, listed, strict=True):
        if at_vocab is not None:
            stem_of[at_vocab] = stems.index(_singular(word))
    long_words = [w for w in generic if len(w) >= _SLIP_MIN_LENGTH]
    lengths = pc.utf8_length(vocab).to_numpy(zero_copy_only=False)
    todo = np.flatnonzero((stem_of < 0) & (lengths >= _SLIP_MIN_LENGTH))
    if long_words and len(todo):
        candidates = vocab.take(pa.array(todo))
        score = process.cdist(
            candidates.to_pylist(), long_words, scorer=fuzz.ratio,
            score_cutoff=_SLIP_SIMILARITY, dtype=np.uint8, workers=-1,
        )  # fmt: skip
        best = score.argmax(axis=1)
        first = pc.utf8_slice_codeunits(candidates, 0, 1).to_numpy(zero_copy_only=False)
        same_start = first == np.array([w[0] for w in long_words], dtype=object)[best]
        hit = (score[np.arange(len(todo)), best] > 0) & same_start
        stem_index = np.array([stems.index(_singular(w)) for w in long_words])
        stem_of[todo[hit]] = stem_index[best[hit]]
    return stems, stem_of


def _singular(word: str) -> str:
    """One form for a generic word: "technologies" → "technology", "services" → "service"."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def prepare_names(names: pd.Series, rules: NormalizeRules | None = None) -> Words:
    """Folded words with abbreviations written out, as ``Words``; a name that is blank or a
    missing-value word ("n/a", "-") has none."""
    compiled = name_rules(rules)
    words = split_words(to_arrow(clean_words(names)))
    words = words.mapped([compiled.abbreviations.get(w, w) for w in words.vocab.to_pylist()])
    start, end = words.start[:-1], words.start[1:]
    missing = Sequences(sorted(compiled.missing - {""}), words.vocab)
    length, _ = missing.longest(words.code, start, end)
    blank = (length > 0) & (length == end - start)
    if blank.any():
        keep = ~blank[words.row]
        words = Words(words.row[keep], words.code[keep], words.vocab, words.null)
    return words


def strip_legal_forms(
    words: Words, group: np.ndarray, matchers: list[_LegalMatcher], compiled: NameRules
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Remove legal forms from the start and end of each name, as often as they stack
    ("PT Bank Negara Indonesia (Persero) Tbk"), never leaving a name empty.

    ``group`` picks each name's entry of ``matchers``. Each round looks for the longest form that
    begins the name and the longest that ends it; the name keeps what is left between them, if
    anything is. Returns the span of words left (start, end) and the forms found (name, variant).
    """
    variants = Sequences(list(compiled.variants), words.vocab)
    starts = np.array([m.start for m in matchers]).reshape(len(matchers), -1)
    ends = np.array([m.end for m in matchers]).reshape(len(matchers), -1)
    offsets = words.start
    start, end = offsets[:-1].copy(), offsets[1:].copy()
    code = words.code
    found_rows: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    found_forms: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    active = np.flatnonzero(end > start)
    while active.size:
        kind = group[active]
        left, right = start[active], end[active]
        first, first_form = variants.longest(code, left, right, False, (kind, starts))
        last, last_form = variants.longest(code, left, right, True, (kind, ends))
        # The end is stripped from what the start left; only an overlap can change it.
        cut = last.copy()
        overlap = np.flatnonzero((first > 0) & (last > right - left - first))
        if overlap.size:
            cut[overlap], _ = variants.longest(
                code, left[overlap] + first[overlap], right[overlap], True, (kind[overlap], ends)
            )
        new_left, new_right = left + first, right - cut
        ok = ((first > 0) | (last > 0)) & (new_right > new_left)
        for length, form in ((first, first_form), (last, last_form)):
            hit = ok & (length > 0)
            found_rows.append(active[hit])
            found_forms.append(form[hit])
        active = active[ok]
        start[active], end[active] = new_left[ok], new_right[ok]
    return start, end, np.concatenate(found_rows), np.concatenate(found_forms)


def _legal_codes(
    rows: np.ndarray, forms: np.ndarray, compiled: NameRules, n: int, drop: np.ndarray
) -> pa.Array:
    """Codes of the forms found per name, each once, in rules order ("PT TBK"); null for none."""
    rank_of_variant = np.array(
        [compiled.code_rank[compiled.variant_code[v]] for v in compiled.variants], dtype=np.int64
    )
    codes = pa.array(list(compiled.code_rank), pa.large_string())
    keep = ~drop[rows]
    key = sorted_unique(rows[keep] * len(codes) + rank_of_variant[forms[keep]])
    row, rank = key // max(len(codes), 1), key % max(len(codes), 1)
    none = np.ones(n, dtype=bool)
    none[row] = False
    return join_words(row, codes.take(pa.array(rank)), n, null=none)


def normalize_names(
    names: pd.Series, countries: pd.Series | None = None, rules: NormalizeRules | None = None
) -> pd.DataFrame:
    """Comparison keys for company names, one row per name (same index).

    - ``name_norm``: folded words, "&" → "and", abbreviations written out, legal forms removed
      wherever they stand at the start or end ("PT Maju Jaya Tbk" = "Maju Jaya, PT" → "maju jaya").
    - ``legal_form``: the codes removed, in rules order, space-separated ("PT TBK"), or NA.
    - ``name_core``: ``name_norm`` without stop-words and generic words; ``name_norm`` itself when
      nothing else would remain.
    - ``name_tokens``: the distinct words of ``name_norm`` in alphabetical order, so word order does
      not matter for blocking ("Jaya Maju" and "Maju Jaya" share it).

    - ``name_marker``: the duplicate markers removed first, as written ("*DUPLICATE*", "ZZ",
      "(OLD)"), or NA (see ``name_parts.py`` and ``duplicate_markers`` in rules/normalize.yaml).
    - ``name_source``: "domain" when the name is a web domain ("acme.com.au"); the name is then
      read as the domain's label ("acme"). NA for an ordinary name.
    - ``name_alt``: the second name of "X T/A Y", "X ATF Y", "X (formerly Y)": the ``name_core``
      of Y. The other keys describe X. NA when there is none.

    ``countries`` (names or codes, any case) limits short country-specific forms such as AG or CV
    to names of their countries.
    """
    rules = resolve_rules(rules)
    compiled = name_rules(rules)
    text = as_text(names).reset_index(drop=True)
    sets, group = _country_groups(countries, compiled, len(text))
    # Each distinct (name, set of legal forms that apply) once.
    codes, first = unique_codes(text, group)
    group = group[first]
    matchers = [compiled.matcher(s) for s in sets]
    parts = take_apart(to_arrow(text.iloc[first]), compiled, rules)
    keys = _name_keys(parts.text, group, matchers, compiled, rules)
    out = pd.DataFrame({k: from_arrow(v, pd.RangeIndex(len(v))) for k, v in keys.items()})
    out = expand(out, codes, names.index).astype(TEXT_DTYPE)

    # The parts found are few: computed for their names only, and spread to their rows.
    alt = pa.nulls(len(parts.rows), pa.large_string())
    has_alt = _mask(pc.is_valid(parts.alt))
    if has_alt.any():
        alt_keys = _name_keys(
            parts.alt.filter(pa.array(has_alt)),
            group[parts.rows[has_alt]],
            matchers,
            compiled,
            rules,
        )
        alt = scatter(len(alt), np.flatnonzero(has_alt), alt_keys["name_core"])
        # "X t/as Y Pty Ltd": a legal form after the second name is the entity's.
        legal = scatter(len(alt), np.flatnonzero(has_alt), alt_keys["legal_form"])
        out["legal_form"] = out["legal_form"].fillna(_spread(legal, parts.rows, codes, out.index))
    source = pc.if_else(pc.is_valid(parts.domain), "domain", pa.scalar(None, pa.large_string()))
    out["name_marker"] = _spread(parts.marker, parts.rows, codes, out.index)
    out["name_source"] = _spread(source, parts.rows, codes, out.index)
    out["name_alt"] = _spread(alt, parts.rows, codes, out.index)
    return out


def _spread(values: pa.Array, rows: np.ndarray, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """Values known for a few distinct names (``rows``), as a column of every row of ``codes``:
    NA elsewhere, without touching the rows of the other names."""
    at = np.full(int(codes.max()) + 1 if len(codes) else 0, -1, dtype=np.int64)
    at[rows] = np.arange(len(rows))
    where = at[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    hit = np.flatnonzero(where >= 0)
    out = pd.Series(pd.NA, index=index, dtype=TEXT_DTYPE)
    if hit.size:
        taken = as_array(values).take(pa.array(where[hit]))
        out.iloc[hit] = pd.array(taken.to_pylist(), dtype=TEXT_DTYPE)
    return out


def _name_keys(
    names: pa.Array,
    group: np.ndarray,
    matchers: list[_LegalMatcher],
    compiled: NameRules,
    rules: NormalizeRules,
) -> dict[str, pa.Array]:
    """name_norm, name_core, name_tokens, name_generic and legal_form of distinct names
    (``normalize_names``); ``group`` picks each name's entry of ``matchers``."""
    n = len(names)
    words = prepare_names(from_arrow(names, pd.RangeIndex(n)), rules)
    start, end, rows, forms = strip_legal_forms(words, group, matchers, compiled)
    code, vocab = words.code, words.vocab

    # "N/A Ltd" → "na": a name that is nothing but a missing-value word is no name.
    missing = Sequences(sorted(compiled.missing - {""}), vocab)
    length, _ = missing.longest(code, start, end)
    gone = (end == start) | ((length > 0) & (length == end - start))
    end = np.where(gone, start, end)
    at, owner = spans(start, end)
    norm = join_words(owner, vocab.take(pa.array(code[at])), n, null=gone)

    # name_core: without stop-words and generic words, unless that leaves nothing.
    stems, stem_of = _generic_stems(vocab, compiled)
    weighted = stem_of >= 0
    listed = pc.index_in(pa.array(list(compiled.weights), pa.large_string()), value_set=vocab)
    weighted[listed.drop_null().to_numpy().astype(np.int64)] = True
    keep = ~weighted[code[at]]
    kept = np.bincount(owner[keep], minlength=n)
    keep |= kept[owner] == 0
    core = join_words(owner[keep], vocab.take(pa.array(code[at][keep])), n, null=gone)

    # name_generic: the generic words, each once in a plural-free form, alphabetical; "" for none.
    # Two names whose cores agree but whose descriptors differ ("hillgate systems" and "hillgate
    # technologies") are usually sister companies: the matcher weighs this as its own field.
    width = max(len(stems), 1)
    word_stem = stem_of[code[at]]
    found = word_stem >= 0
    g_key = sorted_unique(owner[found] * width + word_stem[found])
    stem_text = pa.array(np.asarray([*stems, ""], dtype=object)[g_key % width], pa.large_string())
    generic = join_words(g_key // width, stem_text, n, null=gone)

    # name_tokens: each word once, in alphabetical (code point) order.
    order = pc.sort_indices(vocab).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    key = sorted_unique(owner * max(len(vocab), 1) + rank[code[at]])
    sorted_row = key // max(len(vocab), 1)
    tokens = join_words(
        sorted_row, vocab.take(pa.array(order[key % max(len(vocab), 1)])), n, null=gone
    )

    return {
        "name_norm": norm,
        "name_core": core,
        "name_tokens": tokens,
        "name_generic": generic,
        "legal_form": _legal_codes(rows, forms, compiled, n, gone),
    }
