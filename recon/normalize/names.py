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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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


def unique_codes(*columns: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows equal in every column share a code; also returns each code's first row.

    Normalizers work on these distinct rows and map the answers back with ``expand``: real exports
    repeat the same city, country, domain and company many times.
    """
    combined: np.ndarray | None = None
    for column in columns:
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
        codes = codes.astype(np.int64)
        combined = codes if combined is None else combined * max(len(uniques), 1) + codes
        combined, _ = pd.factorize(combined)
    if combined is None:
        raise ValueError("unique_codes needs at least one column")
    _, first = np.unique(combined, return_index=True)
    return combined, first


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
    text = as_text(values).str.lower()
    ascii_only = pc.fill_null(pc.string_is_ascii(to_arrow(text)), True).to_numpy(
        zero_copy_only=False
    )
    if ascii_only.all():
        return text
    # Only values with a non-ASCII character need the slower Unicode steps.
    rest = text[~ascii_only]
    for old, new in _UMLAUTS:
        rest = rest.str.replace(old, new, regex=False)
    rest = rest.str.normalize("NFKD").str.lower()
    rest = rest.str.replace(_COMBINING, "", regex=True)
    for old, new in _WHOLE_LETTERS:
        rest = rest.str.replace(old, new, regex=False)
    text = text.copy()
    text[~ascii_only] = rest
    return text


def clean_words(values: pd.Series, keep: str = "") -> pd.Series:
    """Folded words separated by single spaces: punctuation removed, "&" read as "and", and runs
    of single letters joined ("P.T." → "pt", "G.m.b.H." → "gmbh", "A B C" → "abc").

    ``keep`` names punctuation to leave in place (addresses keep "/" and "-" of "3/15", "52-53").
    """
    text = fold_text(values)
    text = text.str.replace(_APOSTROPHES, "", regex=True)
    text = text.str.replace("&", " and ", regex=False)
    text = text.str.replace(_separators(keep) if keep else _SEPARATORS, " ", regex=True)
    text = text.str.replace(" +", " ", regex=True).str.strip()
    return join_single_letters(text)


def join_single_letters(text: pd.Series) -> pd.Series:
    """Runs of one-letter words joined: "p t maju" → "pt maju", "u s a" → "usa"."""
    runs = text.str.contains(_SINGLE_LETTER_RUN, regex=True).fillna(False).to_numpy(bool)
    if runs.any():
        # A lookahead needs Python's re: only the few values with such a run take that path.
        text = text.copy()
        text[runs] = text[runs].str.replace(_JOIN_SINGLE_LETTERS, r"\1", regex=True)
    return text


def _join_lists(parents: np.ndarray, tokens: pa.Array, n: int) -> pa.Array:
    """Join ``tokens`` (sorted by parent row) into one space-separated string per row 0..n-1."""
    counts = np.bincount(parents, minlength=n) if len(parents) else np.zeros(n, np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    lists = pa.LargeListArray.from_arrays(pa.array(offsets), tokens)
    return pc.binary_join(lists, pa.scalar(" ", pa.large_string()))


def _split_tokens(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Tokens of space-separated text: parent row per token, token codes, distinct tokens."""
    lists = pc.split_pattern(arr, " ")
    flat = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists).to_numpy()
    codes, uniques = pd.factorize(pd.arrays.ArrowStringArray(flat))
    return parents, codes, pd.Index(uniques)


def map_tokens(
    values: pd.Series, table: Mapping[str, str] | Callable[[str], str], *, sort: bool = False
) -> pd.Series:
    """Replace each space-separated word through ``table`` (a word mapped to "" is dropped).

    The table is consulted once per distinct word, never per row. With ``sort``, each value's
    words come out in alphabetical order, each once.
    """
    index = values.index
    arr = to_arrow(values)
    n = len(arr)
    parents, codes, uniques = _split_tokens(arr)
    if callable(table):
        new = [table(t) if t else "" for t in uniques]
    else:
        new = [table.get(t, t) if t else "" for t in uniques]
    new_words = pa.array(new, type=pa.large_string())
    keep = np.array([w != "" for w in new], dtype=bool)[codes] if len(new) else codes >= 0
    parents, codes = parents[keep], codes[keep]
    if sort and len(codes):
        rank = np.argsort(np.argsort(np.array(new, dtype=object), kind="stable"))
        order = np.lexsort((rank[codes], parents))
        parents, codes = parents[order], codes[order]
        first = np.ones(len(codes), dtype=bool)
        first[1:] = (parents[1:] != parents[:-1]) | (rank[codes[1:]] != rank[codes[:-1]])
        parents, codes = parents[first], codes[first]
    joined = _join_lists(parents, new_words.take(pa.array(codes)), n)
    joined = pc.if_else(pc.is_null(arr), pa.scalar(None, pa.large_string()), joined)
    return from_arrow(joined, index)


def blank_to_na(values: pd.Series) -> pd.Series:
    return values.mask(values.fillna("") == "")


# --- rules compiled for names -----------------------------------------------------------------


@dataclass(frozen=True)
class _LegalMatcher:
    start: str | None  # regex with a named group "form", or None when no form may stand there
    end: str | None


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

    def matcher(self, active_strict: frozenset[int]) -> _LegalMatcher:
        if active_strict not in self.matchers:
            start: list[str] = []
            end: list[str] = []
            for i, (form, variants) in enumerate(self.forms):
                if self.strict[i] and i not in active_strict:
                    continue
                if form.position in ("start", "either"):
                    start += variants
                if form.position in ("end", "either"):
                    end += variants
            self.matchers[active_strict] = _LegalMatcher(_alternation(start), _alternation(end))
        return self.matchers[active_strict]


def _alternation(variants: list[str]) -> str | None:
    if not variants:
        return None
    ordered = sorted(set(variants), key=lambda v: (-len(v), v))
    return "(?P<form>" + "|".join(re.escape(v) for v in ordered) + ")"


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
        variants = tuple(v for v in _clean_many(list(form.variants), abbreviations) if v)
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


def prepare_names(names: pd.Series, rules: NormalizeRules | None = None) -> pd.Series:
    """Folded words with abbreviations written out; "n/a", "-" and the like become NA."""
    compiled = name_rules(rules)
    words = map_tokens(clean_words(names), compiled.abbreviations)
    words = blank_to_na(words)
    return words.mask(words.isin(list(compiled.missing)).fillna(False))


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


def _extract_form(arr: pa.Array, pattern: str | None) -> pa.Array:
    if pattern is None:
        return pa.nulls(len(arr), pa.large_string())
    found = pc.extract_regex(arr, pattern)
    return pc.if_else(pc.is_valid(found), pc.struct_field(found, [0]), None)


def strip_legal_forms(
    words: pd.Series, matcher: _LegalMatcher, compiled: NameRules
) -> tuple[pd.Series, pd.Series]:
    """Remove legal forms from the start and end of each name, as often as they stack
    ("PT Bank Negara Indonesia (Persero) Tbk"), never leaving a name empty.

    Returns the stripped words and the legal-form codes, space-separated in rules order.
    """
    current = words.reset_index(drop=True).copy()
    n = len(current)
    start = f"^{matcher.start}(?: |$)" if matcher.start else None
    end = f"(?:^| ){matcher.end}$" if matcher.end else None
    found_rows: list[np.ndarray] = []
    found_forms: list[np.ndarray] = []
    active = np.flatnonzero(current.notna().to_numpy())
    while active.size and (start or end):
        arr = to_arrow(current.iloc[active])
        first = _extract_form(arr, start)
        last = _extract_form(arr, end)
        stripped = arr
        if start:
            stripped = pc.replace_substring_regex(stripped, start, "", max_replacements=1)
        if end:
            stripped = pc.replace_substring_regex(stripped, end, "", max_replacements=1)
        matched = pc.or_(pc.is_valid(first), pc.is_valid(last))
        ok = pc.and_(matched, pc.not_equal(pc.utf8_length(stripped), 0))
        ok_np = pc.fill_null(ok, False).to_numpy(zero_copy_only=False)
        if not ok_np.any():
            break
        rows = active[ok_np]
        mask = pa.array(ok_np)
        for forms in (first, last):
            chosen = forms.filter(mask)
            has = pc.is_valid(chosen)
            found_rows.append(rows[has.to_numpy(zero_copy_only=False)])
            found_forms.append(chosen.filter(has).to_numpy(zero_copy_only=False))
        current.iloc[rows] = pd.arrays.ArrowStringArray(stripped.filter(mask))
        active = rows
    legal = _legal_codes(found_rows, found_forms, compiled, n)
    current.index = words.index
    legal.index = words.index
    return current, legal


def _legal_codes(
    rows: list[np.ndarray], forms: list[np.ndarray], compiled: NameRules, n: int
) -> pd.Series:
    if not rows or not sum(len(r) for r in rows):
        return pd.Series(pd.NA, index=range(n), dtype=ARROW_TEXT)
    found = pd.DataFrame({"row": np.concatenate(rows), "form": np.concatenate(forms)})
    found["code"] = found["form"].map(compiled.variant_code)
    found["rank"] = found["code"].map(compiled.code_rank)
    found = found.drop_duplicates(["row", "code"]).sort_values(["row", "rank"], kind="stable")
    joined = _join_lists(
        found["row"].to_numpy(), pa.array(found["code"].tolist(), pa.large_string()), n
    )
    return blank_to_na(from_arrow(joined, pd.RangeIndex(n)))


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

    ``countries`` (names or codes, any case) limits short country-specific forms such as AG or CV
    to names of their countries.
    """
    rules = resolve_rules(rules)
    compiled = name_rules(rules)
    index = names.index
    n = len(names)
    text = as_text(names).reset_index(drop=True)
    codes, first = unique_codes(text)
    prepared = expand(prepare_names(text.iloc[first], rules), codes, pd.RangeIndex(n))

    sets, group = _country_groups(countries, compiled, n)
    codes, first = unique_codes(prepared, group)
    distinct = prepared.iloc[first].reset_index(drop=True)
    distinct_group = group[first]
    norm = distinct.copy()
    legal = pd.Series(pd.NA, index=distinct.index, dtype=ARROW_TEXT)
    for g in np.unique(distinct_group):
        rows = np.flatnonzero(distinct_group == g)
        stripped, forms = strip_legal_forms(
            distinct.iloc[rows], compiled.matcher(sets[g]), compiled
        )
        norm.iloc[rows] = stripped.array
        legal.iloc[rows] = forms.array

    # "N/A Ltd" → "na": a name that is nothing but a missing-value word is no name.
    norm = norm.mask(norm.isin(list(compiled.missing)).fillna(False))
    legal = legal.mask(norm.isna())
    generic = {w: "" for w in compiled.weights}
    core = map_tokens(norm, generic)
    core = core.mask(core.fillna("") == "", norm)
    tokens = map_tokens(norm, {}, sort=True)
    out = pd.DataFrame(
        {"name_norm": norm, "name_core": core, "name_tokens": tokens, "legal_form": legal}
    )
    out = expand(out, codes, index)
    return out.astype(TEXT_DTYPE)
