"""Addresses → ``address_norm``, ``street_number``, ``unit``, ``postcode_norm``, ``city_norm``,
``country_code`` (and ``postcode_full`` for US ZIP+4).

Words are folded like names; street types take their short form from rules/normalize.yaml
("Jalan Jenderal Sudirman" = "Jl. Jend. Sudirman" → "jl jend sudirman"; "Hauptstraße 5" =
"Hauptstrasse 5" = "Hauptstr. 5" → "hauptstr 5"). Unit, suite and level ("Level 12", "Lt. 3",
"Suite #200", "3/15 Smith St") go to ``unit`` as "<kind> <value>" and leave ``address_norm``;
the street number ("No. 5", "Nomor 5", "#5", "15 Smith St", "Hauptstr. 5") goes to
``street_number`` and stays in ``address_norm`` without its "No." marker.

Postcodes: capitals and digits only; GB, CA and NL get their space ("sw1a1aa" → "SW1A 1AA"); in the
all-digit countries of the rules, leading zeros a spreadsheet dropped are put back; a US ZIP+4 gives
the 5-digit ZIP as ``postcode_norm`` and "12345-6789" as ``postcode_full``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.normalize.countries import to_country_code
from recon.normalize.kernels import STRING, as_array, scatter, spaces_for, where_some
from recon.normalize.names import (
    ARROW_TEXT,
    as_text,
    blank_to_na,
    cached_for,
    clean_words,
    expand,
    from_arrow,
    join_single_letters,
    map_tokens,
    name_rules,
    on_distinct,
    resolve_rules,
    to_arrow,
    unique_codes,
)
from recon.schema import TEXT_DTYPE

if TYPE_CHECKING:
    from recon.normalize.rules import NormalizeRules

_NUMBER = r"[0-9]+[a-z]?(?:-[0-9]+[a-z]?)?"
_UNIT_VALUE = r"[0-9]+[a-z]?|[a-z][0-9]*"  # "12", "12a", "a", "g12"
_PO_BOX = r"(?:^| )(?:po|gpo|pmb|post office|locked) ?(?:box|bag)(?: |$)"


def _mask(values: pa.Array) -> np.ndarray:
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


_GB = r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$"
_CA = r"^[A-Z][0-9][A-Z][0-9][A-Z][0-9]$"
_NL = r"^[0-9]{4}[A-Z]{2}$"


@dataclass(frozen=True)
class AddressRules:
    words: dict[str, str]  # street types and number markers → their canonical word
    # street types of several words, after their words were made canonical → canonical word
    # ("letnan jend" → "letjen")
    phrases: tuple[tuple[str, str], ...]
    suffixes: tuple[tuple[str, str], ...]  # compound endings ("strasse" → "str")
    unit_kind: dict[str, str]  # unit marker → canonical kind
    glued: str  # "l12", "no5": a marker glued to its number
    glued_postcode: str  # "l 1 9ur" after ungluing: a UK postcode (Liverpool L1 9UR), not a level
    unit_marked: str  # "level 12", "suite no 200", "blok a"
    unit_ordinal: str  # "12th floor"
    unit_slash: str  # "3/15 smith st", "unit 3/15 smith st"
    missing: frozenset[str]
    postcode_digits: dict[str, int]
    city_alias: dict[str, str]  # folded other name → folded name recon uses
    city_prefix: str | None  # "^(?:kota|city of) "


_RT_RW = r"(?:^| )rt ?/? ?rw (?P<rt>[0-9]{1,3}) ?/ ?(?P<rw>[0-9]{1,3})(?: |$)"
_RT_RW_SPACED = r"(?:^| )rt (?P<rt>[0-9]{1,3}) rw (?P<rw>[0-9]{1,3})(?: |$)"


def _alt(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)) if w)


def _compile(rules: NormalizeRules) -> AddressRules:
    text = rules.text
    all_words: list[str] = []
    groups: list[tuple[str, list[str]]] = []
    for name, table in (("street", text.street_types), ("unit", text.unit_types)):
        for canon, spellings in table.items():
            groups.append((f"{name}:{canon}", [canon, *spellings]))
            all_words += [canon, *spellings]
    markers = list(text.number_markers)
    suffix_words = [w for canon, ws in text.street_suffixes.items() for w in [canon, *ws]]
    cleaned = clean_words(pd.Series(all_words + markers + suffix_words, dtype=ARROW_TEXT))
    folded = dict(zip(all_words + markers + suffix_words, cleaned.fillna(""), strict=True))

    words: dict[str, str] = {}
    unit_kind: dict[str, str] = {}
    for key, group in groups:
        kind, canon = key.split(":", 1)
        target = folded[canon]
        for s in group:
            if kind == "street":
                words[folded[s]] = target
            else:
                unit_kind[folded[s]] = target
    for m in markers:
        words[folded[m]] = "no"
    phrases = tuple(
        (" ".join(words.get(w, w) for w in spelling.split()), target)
        for spelling, target in words.items()
        if " " in spelling
    )
    suffixes = tuple(
        (folded[w], folded[canon])
        for canon, ws in text.street_suffixes.items()
        for w in ws
        if folded[w]
    )
    units = _alt(list(unit_kind))
    flats = _alt([k for k, v in unit_kind.items() if v in ("unit", "shop", "suite")])
    levels = _alt([k for k, v in unit_kind.items() if v == "level"])
    numbers = _alt(["no", *(folded[m] for m in markers)])
    return AddressRules(
        words={w: t for w, t in words.items() if " " not in w},
        phrases=tuple(sorted(set(phrases), key=lambda p: (-len(p[0]), p))),
        suffixes=suffixes,
        unit_kind=unit_kind,
        glued=f"(^| )({units}|{numbers})([0-9]+[a-z]?)( |$)",
        glued_postcode=f"(^| )({units}) ([0-9][0-9a-z]?) ([0-9][a-z][a-z])( |$)",
        unit_marked=f"(?:^| )(?P<kind>{units})(?: no)? (?P<value>{_UNIT_VALUE})(?: |$)",
        unit_ordinal=f"(?:^| )(?P<value>[0-9]+)(?:st|nd|rd|th) (?P<kind>{levels})(?: |$)",
        unit_slash=(
            f"^(?:(?P<kind>{flats}) )?(?P<value>[0-9]+[a-z]?) ?/ ?(?P<number>{_NUMBER})(?: |$)"
        ),
        missing=name_rules(rules).missing,
        postcode_digits={c: r.digits for c, r in text.postcodes.items()},
        city_alias=_folded_pairs(text.city_aliases),
        city_prefix=(
            f"^(?:{_alt(list(_folded(text.city_prefixes)))}) " if text.city_prefixes else None
        ),
    )


def _folded(words: tuple[str, ...] | list[str]) -> list[str]:
    cleaned = clean_words(pd.Series(list(words), dtype=ARROW_TEXT)).fillna("")
    return [w for w in cleaned if w]


def _folded_pairs(table: dict[str, str]) -> dict[str, str]:
    keys = clean_words(pd.Series(list(table), dtype=ARROW_TEXT)).fillna("")
    values = clean_words(pd.Series(list(table.values()), dtype=ARROW_TEXT)).fillna("")
    return {k: v for k, v in zip(keys, values, strict=True) if k and v}


def address_rules(rules: NormalizeRules | None = None) -> AddressRules:
    return cached_for(resolve_rules(rules), "addresses", _compile)


def _canonical_word(compiled: AddressRules):
    def canon(word: str) -> str:
        if word in compiled.words:
            return compiled.words[word]
        for ending, short in compiled.suffixes:
            if word.endswith(ending) and len(word) > len(ending):
                return word[: -len(ending)] + short
        return word

    return canon


def _pull(
    arr: pa.Array,
    pattern: str,
    fields: tuple[str, ...],
    replacement: str | None = " ",
    *,
    rows: np.ndarray | None = None,
    needs: str | None = None,
) -> tuple[pa.Array, dict[str, pa.Array]]:
    """The named groups of ``pattern``'s first match per value (null where it does not match or
    the group is empty), and the text with that match replaced (unless ``replacement`` is None).

    Only values that can match are searched: those in ``rows`` (a mask) and containing ``needs``
    (a literal every match contains); a cheap match test comes first, so the extraction runs
    only on the values that match.
    """
    candidates = np.ones(len(arr), dtype=bool) if rows is None else rows
    if needs is not None:
        candidates = candidates & _mask(pc.match_substring(arr, needs))
    where = np.flatnonzero(candidates)
    if len(where) < len(arr):
        hit = np.zeros(len(arr), dtype=bool)
        hit[where] = _mask(pc.match_substring_regex(arr.take(pa.array(where)), pattern))
    else:
        hit = _mask(pc.match_substring_regex(arr, pattern))
    if not hit.any():
        return arr, {f: pa.nulls(len(arr), STRING) for f in fields}
    found_rows = np.flatnonzero(hit)
    sub = arr.take(pa.array(found_rows))
    groups = pc.extract_regex(sub, pattern)
    found = {}
    for f in fields:
        values = pc.struct_field(groups, f).cast(STRING)
        values = pc.if_else(pc.equal(values, ""), pa.scalar(None, STRING), values)
        found[f] = scatter(len(arr), found_rows, values)
    if replacement is not None:
        replaced = pc.replace_substring_regex(sub, pattern, replacement, max_replacements=1)
        arr = scatter(len(arr), found_rows, replaced, arr)
    return arr, found


def _replace(arr: pa.Array, pattern: str, replacement: str, needs: str | None = None) -> pa.Array:
    """``pattern`` replaced by ``replacement`` everywhere, run on the values that contain
    ``needs`` (a literal no match is without) or, without it, on those the pattern matches."""
    if needs is not None:
        rows = _mask(pc.match_substring(arr, needs))
    else:
        rows = _mask(pc.match_substring_regex(arr, pattern))
    return where_some(arr, rows, lambda v: pc.replace_substring_regex(v, pattern, replacement))


def _squeeze(arr: pa.Array) -> pa.Array:
    """Runs of spaces as one, and no space (or other white space) at either end."""
    return pc.utf8_trim_whitespace(spaces_for(arr, ""))


def _address_parts(values: pd.Series, compiled: AddressRules) -> pd.DataFrame:
    """address_norm, street_number, unit, and a fallback street number, for distinct addresses.

    The fallback (``later_number``) is only given where ``street_number`` is NA: it is read
    only there.
    """
    index = values.index
    n = len(values)
    arr = to_arrow(values)
    hashes = _mask(pc.match_substring(arr, "#"))
    arr = where_some(arr, hashes, lambda v: pc.replace_substring(v, "#", " no "))
    arr = to_arrow(clean_words(from_arrow(arr, pd.RangeIndex(n)), keep="/-"))
    # "/" and "-" only between digits ("3/15", "52-53"); elsewhere they separate words.
    dashes = _mask(pc.match_substring(arr, "/")) | _mask(pc.match_substring(arr, "-"))

    def between_digits(v: pa.Array) -> pa.Array:
        v = pc.replace_substring_regex(v, " *([/-]) *", r"\1")
        return pc.replace_substring_regex(v, "(^|[^0-9])[/-]+|[/-]+([^0-9]|$)", r"\1 \2")

    arr = where_some(arr, dashes, between_digits)
    arr = _replace(arr, compiled.glued, r"\1\2 \3\4")
    arr = _replace(arr, compiled.glued_postcode, r"\1\2\3 \4\5")
    arr = _squeeze(arr)
    arr = to_arrow(join_single_letters(from_arrow(arr, pd.RangeIndex(n))))
    arr = to_arrow(map_tokens(from_arrow(arr, pd.RangeIndex(n)), _canonical_word(compiled)))
    for phrase, target in compiled.phrases:  # a few, each run only where its words occur
        arr = _replace(arr, f"(^| ){re.escape(phrase)}( |$)", rf"\1{target}\2", needs=phrase)

    # Units: "3/15 Smith St" ("15 smith st" stays), "12th floor", then up to two marked ones.
    arr, slash = _pull(arr, compiled.unit_slash, ("kind", "value", "number"), r"\3 ", needs="/")
    no_kind = pc.and_(pc.is_valid(slash["value"]), pc.is_null(slash["kind"]))
    slash["kind"] = pc.if_else(no_kind, pa.scalar("unit", STRING), slash["kind"])
    arr, ordinal = _pull(arr, compiled.unit_ordinal, ("kind", "value"))
    units = [slash, ordinal]
    # A second marked unit ("Level 3, Suite 301") can only follow a first.
    marked_rows = None
    for _ in range(2):
        arr, marked_unit = _pull(arr, compiled.unit_marked, ("kind", "value"), rows=marked_rows)
        units.append(marked_unit)
        marked_rows = _mask(pc.is_valid(marked_unit["kind"])) | _mask(
            pc.is_valid(marked_unit["value"])
        )
    kinds = pa.array(list(compiled.unit_kind), STRING)
    canonical = pa.array(list(compiled.unit_kind.values()), STRING)
    parts = []
    for found in units:
        kind = canonical.take(pc.index_in(found["kind"], value_set=kinds))
        parts.append(pc.binary_join_element_wise(kind, found["value"], pa.scalar(" ", STRING)))
    # Indonesian neighbourhood and hamlet numbers ("RT/RW 006/002") say where in the
    # kelurahan, not which street: kept with the unit, out of the street line, which exports
    # often give without them.
    arr, slashed = _pull(arr, _RT_RW, ("rt", "rw"), " ", needs="rw")
    arr, spaced = _pull(arr, _RT_RW_SPACED, ("rt", "rw"), " ", needs="rw")
    rt = pc.coalesce(slashed["rt"], spaced["rt"])
    rw = pc.coalesce(slashed["rw"], spaced["rw"])
    value = pc.binary_join_element_wise(rt, rw, pa.scalar("/", STRING))
    value = pc.replace_substring_regex(value, "(^|/)0+([0-9])", r"\1\2")  # 006/002 is 6/2
    space = pa.scalar(" ", STRING)
    parts.append(pc.binary_join_element_wise(pa.scalar("rt/rw", STRING), value, space))
    unit = _join_columns(parts)

    # Street number: after "No."; from "3/15"; leading "15 Smith St"; else the first number.
    _, marked = _pull(arr, f"(?:^| )no (?P<n>{_NUMBER})(?: |$)", ("n",), None, needs="no ")
    number = pc.coalesce(marked["n"], slash["number"])
    unknown = _mask(pc.is_null(number))
    leading = _pull_some(arr, unknown, f"^(?P<n>{_NUMBER})(?: |$)")
    number = pc.coalesce(number, leading)
    # "PO Box 123": a box number is not a street number.
    box = _mask(pc.match_substring(arr, "box")) | _mask(pc.match_substring(arr, "bag"))
    box[box] = _mask(pc.match_substring_regex(arr.filter(pa.array(box)), _PO_BOX))
    number = pc.if_else(pa.array(box & _mask(pc.is_null(marked["n"]))), None, number)
    unknown = _mask(pc.is_null(number)) & ~box
    later_number = _pull_some(arr, unknown, f"^[^0-9]* (?P<n>{_NUMBER})(?: |$)")
    arr = _replace(arr, "(^| )no ([0-9])", r"\1\2", needs="no ")
    address = _squeeze(arr)
    # An address left with nothing but a missing-value word ("n/a") is no address.
    missing = pa.array(sorted(compiled.missing), STRING)
    gone = pc.or_(pc.equal(address, ""), pc.is_in(address, value_set=missing))
    address = pc.if_else(gone, pa.scalar(None, STRING), address)
    return pd.DataFrame(
        {
            "address_norm": from_arrow(address, index),
            "street_number": from_arrow(number, index),
            "later_number": from_arrow(later_number, index),
            "unit": from_arrow(unit, index),
        },
        index=index,
    )


def _pull_some(arr: pa.Array, rows: np.ndarray, pattern: str) -> pa.Array:
    """Group ``n`` of ``pattern`` in the ``rows`` (a mask) of ``arr``; null elsewhere."""
    where = np.flatnonzero(rows)
    _, found = _pull(arr.take(pa.array(where)), pattern, ("n",), None)
    return scatter(len(arr), where, found["n"])


def _join_columns(parts: list[pa.Array]) -> pa.Array:
    """Space-join the non-null values of several text columns, row by row; null for none."""
    nothing = pa.scalar("", STRING)
    out = pc.fill_null(parts[0], nothing)
    for part in parts[1:]:
        spaced = pc.binary_join_element_wise(pa.scalar(" ", STRING), part, nothing)
        out = pc.binary_join_element_wise(out, pc.fill_null(spaced, nothing), nothing)
    out = pc.utf8_trim_whitespace(out)
    return pc.if_else(pc.equal(out, ""), pa.scalar(None, STRING), out)


def _cities(values: pd.Series, compiled: AddressRules) -> pd.Series:
    """Folded city names, "Kota" prefixes dropped and other names mapped (rules/normalize.yaml)."""
    words = map_tokens(clean_words(values), lambda w: "" if w.isdigit() else w)
    words = blank_to_na(words)
    words = words.mask(words.isin(list(compiled.missing)).fillna(False))
    if compiled.city_prefix:
        shorter = words.str.replace(compiled.city_prefix, "", regex=True)
        words = words.where(shorter.str.len().fillna(0) == 0, shorter)  # "Kota" alone stays
    if compiled.city_alias:
        words = words.replace(compiled.city_alias)
    return words


def _postcodes(values: pd.Series, country: pd.Series, compiled: AddressRules) -> pd.DataFrame:
    """postcode_norm and postcode_full for distinct (postcode, country) pairs."""
    text = pc.utf8_upper(pc.utf8_trim_whitespace(to_arrow(values)))
    text = _replace(text, r"^([0-9]+)\.0$", r"\1", needs=".0")
    compact = pc.utf8_upper(
        pc.replace_substring(to_arrow(clean_words(from_arrow(text, values.index))), " ", "")
    )
    missing = pa.array(sorted(compiled.missing), STRING)
    gone = pc.or_(
        pc.or_(pc.match_substring_regex(compact, "^0+$"), pc.equal(compact, "")),
        pc.is_in(pc.utf8_lower(compact), value_set=missing),
    )
    compact = pc.if_else(gone, pa.scalar(None, STRING), compact)
    norm = full = compact
    codes = to_arrow(country)
    unknown = _mask(pc.is_null(codes))
    for code, pattern, split in (("GB", _GB, -3), ("CA", _CA, 3), ("NL", _NL, 4)):
        fits = _mask(pc.match_substring_regex(compact, pattern))
        rows = fits & (_mask(pc.equal(codes, code)) | unknown)
        if rows.any():
            spaced = pc.binary_join_element_wise(
                pc.utf8_slice_codeunits(compact, 0, split),
                pc.utf8_slice_codeunits(compact, split),
                pa.scalar(" ", STRING),
            )
            norm = pc.if_else(pa.array(rows), spaced, norm)
            full = pc.if_else(pa.array(rows), spaced, full)
    for code, digits in compiled.postcode_digits.items():
        rows = _mask(pc.equal(codes, code))
        if not rows.any():
            continue
        where = pa.array(rows)
        # "NSW 2000", "D-10115", "CA 94105": the digits after a short state or country prefix.
        value = pc.replace_substring_regex(compact.filter(where), "^[A-Z]{1,3}([0-9]+)$", r"\1")
        all_digits = _mask(pc.match_substring_regex(value, "^[0-9]+$"))
        length = pc.fill_null(pc.utf8_length(value), 0).to_numpy(zero_copy_only=False)
        if code == "US":
            plus4 = pa.array(all_digits & np.isin(length, (8, 9)))
            zip9 = pc.utf8_lpad(value, 9, "0")
            norm_us = pc.if_else(
                pa.array(all_digits & (length <= 5)), pc.utf8_lpad(value, 5, "0"), value
            )
            norm_us = pc.if_else(plus4, pc.utf8_slice_codeunits(zip9, 0, 5), norm_us)
            dashed = pc.binary_join_element_wise(
                pc.utf8_slice_codeunits(zip9, 0, 5),
                pc.utf8_slice_codeunits(zip9, 5),
                pa.scalar("-", STRING),
            )
            new_norm, new_full = norm_us, pc.if_else(plus4, dashed, norm_us)
        else:
            short = pa.array(all_digits & (length < digits))
            new_norm = new_full = pc.if_else(short, pc.utf8_lpad(value, digits, "0"), value)
        norm = pc.replace_with_mask(norm, where, new_norm.cast(STRING))
        full = pc.replace_with_mask(full, where, new_full.cast(STRING))
    return pd.DataFrame(
        {
            "postcode_norm": from_arrow(norm, values.index),
            "postcode_full": from_arrow(full, values.index),
        },
        index=values.index,
    )


def normalize_addresses(
    address: pd.Series,
    city: pd.Series | None = None,
    postcode: pd.Series | None = None,
    country: pd.Series | None = None,
    rules: NormalizeRules | None = None,
    region: pd.Series | None = None,
) -> pd.DataFrame:
    """Normalized address parts per row (same index as ``address``); missing inputs give NA.

    Columns: address_norm, street_number, unit, postcode_norm, postcode_full, city_norm,
    country_code. The record's own city, region and postcode are cut from the end of a one-line
    address ("41 Ann Tce, Melbourne VIC 3075" → "41 ann tce"), so it compares with a street line.
    """
    compiled = address_rules(rules)
    index = address.index
    n = len(index)

    def column(values: pd.Series | None) -> pd.Series:
        if values is None:
            return pd.Series(pd.NA, index=index, dtype=ARROW_TEXT)
        out = as_text(values)
        out.index = index
        return out

    country_code = as_text(to_country_code(column(country), rules))
    parts = on_distinct(lambda v: _address_parts(v, compiled), column(address))
    city_norm = on_distinct(lambda v: _cities(v, compiled), column(city))
    codes, first = unique_codes(column(postcode), country_code)
    postcodes = expand(
        _postcodes(column(postcode).iloc[first], country_code.iloc[first], compiled), codes, index
    )
    # "Hauptstr. 5": the first number after the street name, unless it is the postcode.
    number = to_arrow(parts["street_number"])
    later = to_arrow(parts["later_number"])
    rows = np.flatnonzero(_mask(pc.is_valid(later)))
    if rows.size:
        taken = pa.array(rows)
        postcode_digits = pc.utf8_lower(
            pc.replace_substring(to_arrow(postcodes["postcode_norm"]).take(taken), " ", "")
        )
        fallback = later.take(taken)
        fallback = pc.if_else(
            pc.fill_null(pc.equal(fallback, postcode_digits), False),
            pa.scalar(None, STRING),
            fallback,
        )
        number = scatter(n, rows, pc.coalesce(number.take(taken), fallback), number)
    number = from_arrow(number, index)
    address_norm = _strip_locality(
        parts["address_norm"],
        city_norm,
        on_distinct(lambda v: _cities(v, compiled), column(region)),
        postcodes["postcode_full"],
    )
    out = pd.DataFrame(
        {
            "address_norm": address_norm,
            "street_number": number,
            "unit": parts["unit"],
            "postcode_norm": postcodes["postcode_norm"],
            "postcode_full": postcodes["postcode_full"],
            "city_norm": city_norm,
            "country_code": country_code,
        },
        index=index,
    )
    return out.astype(TEXT_DTYPE)


def _words(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """All words of each value, flattened, and how many each value has (none for null)."""
    split = pc.split_pattern(values, " ")
    counts = pc.fill_null(pc.list_value_length(split), 0).to_numpy(zero_copy_only=False)
    return pc.list_flatten(split).cast(STRING), counts.astype(np.int64)


def _isin(values: np.ndarray, among: np.ndarray) -> np.ndarray:
    """np.isin by binary search (numpy's own hashes, and is slow on wide int64 keys)."""
    if not len(among):
        return np.zeros(len(values), dtype=bool)
    among = np.sort(among)
    at = np.minimum(np.searchsorted(among, values), len(among) - 1)
    return among[at] == values


def _strip_locality(
    address: pd.Series, city: pd.Series, region: pd.Series, postcode: pd.Series
) -> pd.Series:
    """The street line of an address that goes on with the record's city, region and postcode.

    The trailing words that are all words of the record's city, region or postcode are cut
    ("1 baker rd london greater london ec2m 3ff" → "1 baker rd"), when they hold the city or the
    postcode and at least two words stay: "12 london rd" of a London record keeps its street.
    Words become integer codes (one dictionary for all), so "is this word one of its record's
    locality words" is an integer set lookup over all words at once.
    """
    arr = as_array(address)
    n = len(arr)
    space = pa.scalar(" ", STRING)

    def text(values: pd.Series) -> pa.Array:  # "" for none: empty words never count
        return pc.fill_null(as_array(values), "")

    city_code = pc.binary_join_element_wise(text(city), pc.utf8_lower(text(postcode)), space)
    locality = pc.binary_join_element_wise(city_code, text(region), space)
    words, counts = _words(arr)
    if not len(words):
        return address
    loc_words, loc_counts = _words(locality)
    key_words, key_counts = _words(city_code)
    codes = pc.dictionary_encode(pa.concat_arrays([words, loc_words, key_words])).indices
    codes = codes.to_numpy(zero_copy_only=False).astype(np.int64)
    width = int(codes.max()) + 1
    rows = np.arange(n, dtype=np.int64)

    def keyed(offset: int, size: int, per_row: np.ndarray) -> np.ndarray:
        return np.repeat(rows, per_row) * width + codes[offset : offset + size]

    row = np.repeat(rows, counts)
    word_keys = row * width + codes[: len(words)]
    local = _isin(word_keys, keyed(len(words), len(loc_words), loc_counts))
    local &= pc.utf8_length(words).to_numpy(zero_copy_only=False) > 0
    key = _isin(word_keys, keyed(len(words) + len(loc_words), len(key_words), key_counts))
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    from_end = starts[row] + counts[row] - 1 - np.arange(len(words))  # 0 for the last word
    # The trailing run: up to the last word (from the end) that is not of the locality.
    stop = np.where(local, counts[row], from_end)
    run = np.zeros(n, dtype=np.int64)
    has = counts > 0
    run[has] = np.minimum.reduceat(stop, starts[has])
    in_run = from_end < run[row]
    holds_key = np.zeros(n, dtype=bool)
    holds_key[row[in_run & key]] = True
    cut = holds_key & (counts - run >= 2) & _mask(pc.is_valid(arr))
    if not cut.any():
        return address
    kept_counts = counts - np.where(cut, run, 0)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(kept_counts, out=offsets[1:])
    kept = pc.binary_join(
        pa.LargeListArray.from_arrays(
            pa.array(offsets), words.filter(pa.array(~in_run | ~cut[row]))
        ),
        space,
    )
    return from_arrow(pc.if_else(pa.array(cut), kept, arr), address.index)
