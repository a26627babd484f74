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

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.normalize.countries import to_country_code
from recon.normalize.names import (
    ARROW_TEXT,
    as_text,
    blank_to_na,
    cached_for,
    clean_words,
    expand,
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
_GB = r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$"
_CA = r"^[A-Z][0-9][A-Z][0-9][A-Z][0-9]$"
_NL = r"^[0-9]{4}[A-Z]{2}$"


@dataclass(frozen=True)
class AddressRules:
    words: dict[str, str]  # street types and number markers → their canonical word
    suffixes: tuple[tuple[str, str], ...]  # compound endings ("strasse" → "str")
    unit_kind: dict[str, str]  # unit marker → canonical kind
    glued: str  # "l12", "no5": a marker glued to its number
    unit_marked: str  # "level 12", "suite no 200", "blok a"
    unit_ordinal: str  # "12th floor"
    unit_slash: str  # "3/15 smith st", "unit 3/15 smith st"
    missing: frozenset[str]
    postcode_digits: dict[str, int]


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
        words=words,
        suffixes=suffixes,
        unit_kind=unit_kind,
        glued=f"(^| )({units}|{numbers})([0-9]+[a-z]?)( |$)",
        unit_marked=f"(?:^| )(?P<kind>{units})(?: no)? (?P<value>{_UNIT_VALUE})(?: |$)",
        unit_ordinal=f"(?:^| )(?P<value>[0-9]+)(?:st|nd|rd|th) (?P<kind>{levels})(?: |$)",
        unit_slash=(
            f"^(?:(?P<kind>{flats}) )?(?P<value>[0-9]+[a-z]?) ?/ ?(?P<number>{_NUMBER})(?: |$)"
        ),
        missing=name_rules(rules).missing,
        postcode_digits={c: r.digits for c, r in text.postcodes.items()},
    )


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
    text: pd.Series, pattern: str, fields: tuple[str, ...], replacement: str | None = " "
) -> tuple[pd.Series, dict[str, pd.Series]]:
    """The named groups of ``pattern``'s first match per value (NA where it does not match or
    the group is empty), and the text with that match replaced (unless ``replacement`` is None).

    A cheap match test first: the extraction runs only on the values that match.
    """
    arr = to_arrow(text)
    hit = pc.fill_null(pc.match_substring_regex(arr, pattern), False).to_numpy(zero_copy_only=False)
    found = {f: pd.Series(pd.NA, index=text.index, dtype=ARROW_TEXT) for f in fields}
    if not hit.any():
        return text, found
    mask = pa.array(hit)
    sub = arr.filter(mask)
    groups = pc.extract_regex(sub, pattern)
    for f in fields:
        values = pc.struct_field(groups, f).cast(pa.large_string())
        found[f][hit] = pd.arrays.ArrowStringArray(values)
        found[f] = blank_to_na(found[f])
    if replacement is not None:
        text = text.copy()
        replaced = pc.replace_substring_regex(sub, pattern, replacement, max_replacements=1)
        text[hit] = pd.arrays.ArrowStringArray(replaced.cast(pa.large_string()))
    return text, found


def _address_parts(values: pd.Series, compiled: AddressRules) -> pd.DataFrame:
    """address_norm, street_number, unit, and a fallback street number, for distinct addresses."""
    index = values.index
    text = as_text(values).str.replace("#", " no ", regex=False)
    text = clean_words(text, keep="/-")
    # "/" and "-" only between digits ("3/15", "52-53"); elsewhere they separate words.
    text = text.str.replace(" *([/-]) *", r"\1", regex=True)
    text = text.str.replace("(^|[^0-9])[/-]+|[/-]+([^0-9]|$)", r"\1 \2", regex=True)
    text = text.str.replace(compiled.glued, r"\1\2 \3\4", regex=True)
    text = join_single_letters(text.str.replace(" +", " ", regex=True).str.strip())
    text = map_tokens(text, _canonical_word(compiled))

    # Units: "3/15 Smith St" ("15 smith st" stays), "12th floor", then up to two marked ones.
    text, slash = _pull(text, compiled.unit_slash, ("kind", "value", "number"), r"\3 ")
    slash["kind"] = slash["kind"].mask(slash["value"].notna() & slash["kind"].isna(), "unit")
    text, ordinal = _pull(text, compiled.unit_ordinal, ("kind", "value"))
    units = [slash, ordinal]
    for _ in range(2):
        text, marked_unit = _pull(text, compiled.unit_marked, ("kind", "value"))
        units.append(marked_unit)
    unit_parts = []
    for found in units:
        kind = found["kind"]
        known = kind.notna().to_numpy()
        if known.any():
            kind = kind.copy()
            kind[known] = kind[known].map(compiled.unit_kind).astype(ARROW_TEXT)
        unit_parts.append(kind + " " + found["value"])
    unit = blank_to_na(_join_columns(unit_parts))

    # Street number: after "No."; from "3/15"; leading "15 Smith St"; else the first number.
    _, marked = _pull(text, f"(?:^| )no (?P<n>{_NUMBER})(?: |$)", ("n",), None)
    _, leading = _pull(text, f"^(?P<n>{_NUMBER})(?: |$)", ("n",), None)
    _, later = _pull(text, f"^[^0-9]* (?P<n>{_NUMBER})(?: |$)", ("n",), None)
    number = marked["n"].fillna(slash["number"]).fillna(leading["n"])
    # "PO Box 123": a box number is not a street number.
    box = text.str.contains(_PO_BOX, regex=True).fillna(False).to_numpy(bool)
    number = number.mask(box & marked["n"].isna().to_numpy())
    later_number = later["n"].mask(box)
    text = text.str.replace("(^| )no ([0-9])", r"\1\2", regex=True)
    address = blank_to_na(text.str.replace(" +", " ", regex=True).str.strip())
    # An address left with nothing but a missing-value word ("n/a") is no address.
    address = address.mask(address.isin(list(compiled.missing)).fillna(False))
    return pd.DataFrame(
        {
            "address_norm": address,
            "street_number": number,
            "later_number": later_number,
            "unit": unit,
        },
        index=index,
    )


def _join_columns(parts: list[pd.Series]) -> pd.Series:
    """Space-join the non-missing values of several text columns, row by row, vectorized."""
    out = parts[0].fillna("")
    for part in parts[1:]:
        out = out + (" " + part).fillna("")
    return out.str.strip().astype(ARROW_TEXT)


def _cities(values: pd.Series, compiled: AddressRules) -> pd.Series:
    words = map_tokens(clean_words(values), lambda w: "" if w.isdigit() else w)
    words = blank_to_na(words)
    return words.mask(words.isin(list(compiled.missing)).fillna(False))


def _postcodes(values: pd.Series, country: pd.Series, compiled: AddressRules) -> pd.DataFrame:
    """postcode_norm and postcode_full for distinct (postcode, country) pairs."""
    text = as_text(values).str.strip().str.upper()
    text = text.str.replace(r"^([0-9]+)\.0$", r"\1", regex=True)
    compact = clean_words(text).str.replace(" ", "", regex=False).str.upper()
    compact = compact.mask(compact.str.fullmatch("0+").fillna(False))
    compact = blank_to_na(compact)
    compact = compact.mask(compact.str.lower().isin(list(compiled.missing)).fillna(False))
    norm = compact.copy()
    full = compact.copy()
    unknown = country.isna().to_numpy()
    for code, pattern, split in (("GB", _GB, -3), ("CA", _CA, 3), ("NL", _NL, 4)):
        fits = compact.str.fullmatch(pattern).fillna(False).to_numpy(bool)
        rows = fits & ((country == code).fillna(False).to_numpy(bool) | unknown)
        if rows.any():
            spaced = compact[rows].str.slice(0, split) + " " + compact[rows].str.slice(split)
            norm[rows] = spaced
            full[rows] = spaced
    for code, digits in compiled.postcode_digits.items():
        rows = (country == code).fillna(False).to_numpy(bool)
        if not rows.any():
            continue
        # "NSW 2000", "D-10115", "CA 94105": the digits after a short state or country prefix.
        value = compact[rows].str.replace("^[A-Z]{1,3}([0-9]+)$", r"\1", regex=True)
        all_digits = value.str.fullmatch("[0-9]+").fillna(False)
        if code == "US":
            plus4 = all_digits & value.str.len().isin([8, 9])
            zip9 = value[plus4].str.zfill(9)
            short = all_digits & (value.str.len() <= 5)
            norm_us = value.where(~short, value.str.zfill(5))
            norm_us = norm_us.where(~plus4, zip9.str.slice(0, 5))
            full_us = norm_us.where(~plus4, zip9.str.slice(0, 5) + "-" + zip9.str.slice(5))
            norm[rows], full[rows] = norm_us, full_us
        else:
            padded = value.where(
                ~(all_digits & (value.str.len() < digits)), value.str.zfill(digits)
            )
            norm[rows], full[rows] = padded, padded
    return pd.DataFrame({"postcode_norm": norm, "postcode_full": full}, index=values.index)


def normalize_addresses(
    address: pd.Series,
    city: pd.Series | None = None,
    postcode: pd.Series | None = None,
    country: pd.Series | None = None,
    rules: NormalizeRules | None = None,
) -> pd.DataFrame:
    """Normalized address parts per row (same index as ``address``); missing inputs give NA.

    Columns: address_norm, street_number, unit, postcode_norm, postcode_full, city_norm,
    country_code.
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
    later = parts["later_number"]
    digits_of_postcode = postcodes["postcode_norm"].str.replace(" ", "", regex=False).str.lower()
    later = later.mask((later == digits_of_postcode).fillna(False))
    number = parts["street_number"].fillna(later) if n else parts["street_number"]
    out = pd.DataFrame(
        {
            "address_norm": parts["address_norm"],
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
