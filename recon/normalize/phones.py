"""Phone numbers → E.164 ("+62215551234"), read with the record's country as the default region.

"021-555-1234" of an Indonesian record and "+62 21 5551234" become the same number; extensions
are dropped. A number is kept when libphonenumber finds it *possible* (right length for its
country and type), not *valid* (an allocated range): test and fictional numbers such as
"(212) 555-0142" are common in CRMs and still identify a record. A number that is possible only
locally (no area code, "555 1234") gives NA: it cannot be written in E.164.

libphonenumber parses one number per call, in Python (~25 µs). Most numbers are digits with an
optional "+" once spacing and brackets are dropped, and for those ``_fast_e164`` repeats
libphonenumber's reading (country code after "+", or the region's code written without it;
national prefix; possible lengths) with vectorized regular expressions over the same metadata.
Only what it cannot settle (letters, extensions, several numbers, an international dialling
prefix such as "00", regions whose national prefix is rewritten) is parsed one by one.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat
from phonenumbers.phonenumberutil import (
    COUNTRY_CODE_TO_REGION_CODE,
    ValidationResult,
    region_code_for_country_code,
)

from recon.normalize.countries import to_country_code
from recon.normalize.kernels import as_array, delete_ascii, unique_codes, where_some
from recon.normalize.names import ARROW_TEXT, as_text, expand, from_arrow
from recon.schema import TEXT_DTYPE

_SEVERAL = re.compile(r"\s*(?:[;,|]|\s/\s|\bor\b|\batau\b|\boder\b)\s*", re.IGNORECASE)
_REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)

# libphonenumber's limits (phonenumberutil: _MIN_LENGTH_FOR_NSN, _MAX_LENGTH_FOR_NSN).
_MIN_NSN, _MAX_NSN = 2, 17
# What the fast path reads: digits only, with an optional "+"; shorter or longer goes the slow way.
_FAST_SHAPE = r"^\+?[0-9]{3,20}$"
# Shapes libphonenumber reads as their digits alone: "030/1234567" ("/" without spaces; with
# spaces it separates two numbers), and a number with an "x 12" or "ext. 12" extension.
_EXCEL = r"^[0-9]+\.0$"
_PLAIN = r"^[+0-9 ().-]+$"
_SLASHED = r"^\+?[0-9]+(?:/[0-9]+)+$"
_EXTENSION = r"^(?P<number>\+?[0-9 ().-]*[0-9]) *(?i:x|ext\.?) *[0-9]{1,6}$"
_LONGEST = 24  # length table size: longer than any number the fast path sees
_COUNTRY_CODES = pa.array(sorted(str(c) for c in COUNTRY_CODE_TO_REGION_CODE))
_STRING = pa.large_string()


def _e164(text: str, region: str | None) -> str | None:
    """E.164 of the first possible number in ``text``, or None (libphonenumber, one value)."""
    for candidate in (text, *_SEVERAL.split(text)[:1]):
        try:
            number = phonenumbers.parse(candidate, region)
        except NumberParseException:
            continue
        if phonenumbers.is_possible_number_with_reason(number) == ValidationResult.IS_POSSIBLE:
            return phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return None


@dataclass(frozen=True)
class _Region:
    """One region's libphonenumber metadata, as the fast path uses it."""

    country_code: str
    idd: str | None  # international dialling prefix, anchored: "^(?:00)"
    prefix: str | None  # national prefix for parsing, anchored: "^(?:0)"
    general: str | None  # the national number pattern, anchored at both ends
    length: np.ndarray  # ValidationResult of a national number of each length
    fast: bool  # False: the national prefix is rewritten (transform rule); parse one by one


@functools.cache
def _region(code: str) -> _Region:
    meta = PhoneMetadata.metadata_for_region(code)
    if meta is None:  # callers pass regions libphonenumber itself named
        raise ValueError(f"libphonenumber has no metadata for region {code!r}")
    general = meta.general_desc.national_number_pattern if meta.general_desc else None
    # The length verdict depends on nothing but the length: libphonenumber's own check, once per
    # length, gives the table (so a library update that changes the rule changes it here too).
    length = np.array(
        [
            phonenumbers.phonenumberutil._test_number_length("5" * n, meta)
            for n in range(_LONGEST + 1)
        ],
        dtype=np.int64,
    )
    return _Region(
        country_code=str(meta.country_code),
        idd=f"^(?:{meta.international_prefix})" if meta.international_prefix else None,
        prefix=(
            f"^(?:{meta.national_prefix_for_parsing})" if meta.national_prefix_for_parsing else None
        ),
        general=f"^(?:{general})$" if general else None,
        length=length,
        fast=not meta.national_prefix_transform_rule,
    )


def _main_region(country_code: str) -> _Region | None:
    """The region libphonenumber takes a country code's metadata from; None for non-geographic
    codes (+800, +881, ...), which the fast path leaves to libphonenumber."""
    code = region_code_for_country_code(int(country_code))
    return _region(code) if code in _REGIONS else None


def _mask(values: pa.Array) -> np.ndarray:
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


def _full(numbers: pa.Array, region: _Region) -> np.ndarray:
    if region.general is None:
        return np.zeros(len(numbers), dtype=bool)
    return _mask(pc.match_substring_regex(numbers, region.general))


def _verdict(numbers: pa.Array, region: _Region) -> np.ndarray:
    lengths = pc.utf8_length(numbers).to_numpy(zero_copy_only=False)
    return region.length[np.minimum(lengths, _LONGEST)]


def _strip_national_prefix(numbers: pa.Array, region: _Region) -> pa.Array:
    """libphonenumber's ``_maybe_strip_national_prefix_carrier_code`` without a transform rule:
    the prefix goes unless the number fit the national pattern with it and no longer does."""
    if region.prefix is None:
        return numbers
    found = _mask(pc.match_substring_regex(numbers, region.prefix))
    if not found.any():
        return numbers
    rest = pc.replace_substring_regex(numbers, region.prefix, "", max_replacements=1)
    keep = _full(numbers, region) & ~_full(rest, region)
    return pc.if_else(pa.array(found & ~keep), rest, numbers)


class _Answers:
    """E.164 answers gathered group by group, put in the distinct values' order at the end."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.rows: list[np.ndarray] = []
        self.values: list[pa.Array] = []
        self.settled = np.zeros(n, dtype=bool)

    def add(self, rows: np.ndarray, values: pa.Array | None = None) -> None:
        if values is None:
            values = pa.nulls(len(rows), _STRING)
        self.rows.append(rows)
        self.values.append(values.cast(_STRING))
        self.settled[rows] = True

    def result(self) -> pa.Array:
        if not self.rows:
            return pa.nulls(self.n, _STRING)
        rows = np.concatenate(self.rows)
        values = pa.concat_arrays([*self.values, pa.nulls(1, _STRING)])
        where = np.full(self.n, len(values) - 1, dtype=np.int64)
        where[rows] = np.arange(len(rows))
        return values.take(pa.array(where))


def _finish(
    answers: _Answers,
    rows: np.ndarray,
    national: pa.Array,
    country_code: str,
    parsing: _Region,
    main: _Region,
) -> None:
    """The end of ``parse`` (national prefix, lengths) and ``is_possible_number`` for numbers
    whose country code is known: ``parsing`` is the metadata parse uses, ``main`` the one of the
    country code's main region that the possibility check uses."""
    stripped = _strip_national_prefix(national, parsing)
    take = np.isin(
        _verdict(stripped, parsing), (ValidationResult.IS_POSSIBLE, ValidationResult.TOO_LONG)
    )
    national = pc.if_else(pa.array(take), stripped, national)
    lengths = pc.utf8_length(national).to_numpy(zero_copy_only=False)
    possible = (
        (lengths >= _MIN_NSN)
        & (lengths <= _MAX_NSN)
        & (_verdict(national, main) == ValidationResult.IS_POSSIBLE)
    )
    national = national.cast(_STRING)
    e164 = pc.binary_join_element_wise(
        pa.scalar("+" + country_code, _STRING), national, pa.scalar("", _STRING)
    )
    answers.add(rows, pc.if_else(pa.array(possible), e164, pa.scalar(None, _STRING)))


def _with_plus(answers: _Answers, rows: np.ndarray, digits: pa.Array) -> None:
    """ "+<country code><national number>": the shortest known code among the first 1-3 digits."""
    code_length = np.zeros(len(rows), dtype=np.int64)
    for size in (3, 2, 1):
        head = pc.utf8_slice_codeunits(digits, 0, size)
        code_length[_mask(pc.is_in(head, _COUNTRY_CODES))] = size
    # No known code, or a leading 0: libphonenumber then retries without the "+"; left to it.
    code_length[_mask(pc.starts_with(digits, "0"))] = 0
    for size in (1, 2, 3):
        sized = np.flatnonzero(code_length == size)
        if not sized.size:
            continue
        subset = digits.take(pa.array(sized))
        code = pd.Series(pc.utf8_slice_codeunits(subset, 0, size).to_numpy(zero_copy_only=False))
        for value, where in code.groupby(code, sort=True).indices.items():
            main = _main_region(value)
            if main is None or not main.fast:
                continue
            national = pc.utf8_slice_codeunits(subset.take(pa.array(where)), size)
            _finish(answers, rows[sized[where]], national, value, main, main)


def _national(answers: _Answers, rows: np.ndarray, numbers: pa.Array, region: _Region) -> None:
    """Digits without "+" read in a default region, maybe starting with its country code."""
    if not region.fast:
        return
    if region.idd is not None:
        idd = _mask(pc.match_substring_regex(numbers, region.idd))
        if idd.any():  # "00 62 21 ...": left to libphonenumber
            rows, numbers = rows[~idd], numbers.filter(pa.array(~idd))
    code = region.country_code
    main = _main_region(code)
    if main is None:
        return
    # "6221555123" in ID: the country code written without "+" is dropped when the number fits
    # the national pattern only without it, or is too long with it.
    with_code = np.zeros(len(rows), dtype=bool)
    starts = _mask(pc.starts_with(numbers, code))
    if starts.any():
        candidates = numbers.filter(pa.array(starts))
        rest = _strip_national_prefix(pc.utf8_slice_codeunits(candidates, len(code)), region)
        drop = (~_full(candidates, region) & _full(rest, region)) | (
            _verdict(candidates, region) == ValidationResult.TOO_LONG
        )
        if drop.any():
            with_code[np.flatnonzero(starts)[drop]] = True
            if main.fast:
                _finish(answers, rows[with_code], rest.filter(pa.array(drop)), code, main, main)
    plain = ~with_code
    national = numbers.filter(pa.array(plain))
    lengths = pc.utf8_length(national).to_numpy(zero_copy_only=False)
    too_short = lengths < _MIN_NSN
    answers.add(rows[plain][too_short])
    keep = ~too_short
    _finish(answers, rows[plain][keep], national.filter(pa.array(keep)), code, region, main)


def _fast_e164(numbers: pa.Array, regions: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """E.164 (or null) of each number the fast path reads exactly as libphonenumber does, and
    which it settled. ``numbers`` are digits with an optional "+" (null: not for the fast path),
    ``regions`` supported region codes or NA."""
    answers = _Answers(len(numbers))
    shaped = _mask(pc.match_substring_regex(numbers, _FAST_SHAPE))
    plus = shaped & _mask(pc.starts_with(numbers, "+"))
    if plus.any():
        rows = np.flatnonzero(plus)
        _with_plus(answers, rows, pc.utf8_slice_codeunits(numbers.take(pa.array(rows)), 1))
    national = shaped & ~plus
    known = regions.notna().to_numpy() & national
    # No "+" and no region: libphonenumber refuses to guess.
    answers.add(np.flatnonzero(national & ~known))
    region_of = pd.Series(regions.to_numpy(dtype=object, na_value=None))[known]
    for code, where in region_of.groupby(region_of, sort=True).indices.items():
        rows = np.flatnonzero(known)[where]
        _national(answers, rows, numbers.take(pa.array(rows)), _region(code))
    return answers.result(), answers.settled


def _clean(text: pd.Series) -> pd.Series:
    text = text.str.strip()
    text = text.str.replace(r"^([0-9]+)\.0$", r"\1", regex=True)  # a number Excel stored as 1.0
    text = text.mask(~text.str.contains("[0-9]", regex=True).fillna(False))
    # "(02) 9555-1234" and "02 9555 1234" are one number: drop spacing and brackets (not from
    # values with letters, "ext. 5", or "/", which libphonenumber reads as they are).
    plain = text.str.fullmatch(r"[+0-9 ().-]+").fillna(False)
    return text.where(~plain, text.str.replace(r"[ ().-]", "", regex=True))


def _digits(text: pa.Array) -> pa.Array:
    """What libphonenumber reads of each value, where that is plain to see: the digits (and a
    leading "+") of "(02) 9555-1234", "2125550142.0" (a spreadsheet's number), "030/1234567" and
    "(212) 555-0142 x204" (the extension dropped); null for anything else. ``text`` is trimmed."""
    excel = _mask(pc.match_substring_regex(text, _EXCEL))
    if excel.any():
        text = where_some(text, excel, lambda v: pc.utf8_slice_codeunits(v, 0, -2))
    plain = _mask(pc.match_substring_regex(text, _PLAIN)) | _mask(
        pc.match_substring_regex(text, _SLASHED)
    )
    digits = pc.if_else(pa.array(plain), delete_ascii(text, " ().-/"), pa.scalar(None, _STRING))
    extension = ~plain & _mask(pc.match_substring(text, "x", ignore_case=True))
    if extension.any():

        def number(values: pa.Array) -> pa.Array:
            found = pc.extract_regex(values, _EXTENSION)
            return delete_ascii(pc.struct_field(found, "number"), " ().-")

        digits = where_some(digits, extension, number, source=text)
    return digits


def normalize_phones(phones: pd.Series, countries: pd.Series | None = None) -> pd.Series:
    """E.164 per phone, NA when missing, unreadable or not a possible number.

    ``countries`` (names or codes) gives the region for numbers written without "+".
    """
    raw = as_text(phones)
    if countries is None:
        region = pd.Series(pd.NA, index=phones.index, dtype=ARROW_TEXT)
    else:
        region = as_text(to_country_code(countries))
        region.index = phones.index
    region = region.where(region.isin(list(_REGIONS)).fillna(False))
    codes, first = unique_codes(raw, region)
    region = region.iloc[first].reset_index(drop=True)
    text = pc.utf8_trim_whitespace(as_array(raw.iloc[first]))
    digits = _digits(text)
    found, settled = _fast_e164(digits, region)
    settled |= _mask(pc.is_null(text))
    result = from_arrow(found, region.index)
    rest = np.flatnonzero(~settled)
    if rest.size:
        # libphonenumber, one call per distinct (number, region) the fast path left.
        left = _clean(from_arrow(text.take(pa.array(rest)), pd.RangeIndex(len(rest))))
        asked: dict[tuple[str, str | None], str | None] = {}
        values: list[str | None] = []
        for t, r in zip(left, region.iloc[rest], strict=True):
            if pd.isna(t):
                values.append(None)
                continue
            key = (str(t), None if pd.isna(r) else str(r))
            if key not in asked:
                asked[key] = _e164(*key)
            values.append(asked[key])
        result.iloc[rest] = pd.array(values, dtype=ARROW_TEXT)
    plain = pc.match_substring_regex(text, r"^[0-9 ().-]+$")
    digits = pc.if_else(pc.fill_null(plain, False), digits, pa.scalar(None, _STRING))
    result = _country_code_without_plus(result, digits, region)
    return expand(result, codes, phones.index).astype(TEXT_DTYPE)


def _country_code_without_plus(found: pd.Series, digits: pa.Array, region: pd.Series) -> pd.Series:
    """ "62614495418" of an Indonesian record is +62 61 4495418, not +62 62614495418.

    libphonenumber keeps a country code written without "+" when the whole still fits the
    national pattern. Where numbers dialled at home start with the trunk "0", digits that start
    with the country code and no "0" were written in international form: read them so when that
    gives a possible number. Only plain digits (spacing and brackets aside) are read again.
    """
    out = found.copy()
    values = as_array(found)
    regions = region.to_numpy(dtype=object, na_value=None)
    for code in region.dropna().unique():  # a few regions; never a loop over the numbers
        meta = PhoneMetadata.metadata_for_region(code)
        if meta is None or meta.national_prefix != "0":
            continue
        cc = _region(code).country_code
        rows = np.flatnonzero(regions == code)
        here = values.take(pa.array(rows))
        raw = digits.take(pa.array(rows))
        suspect = _mask(pc.starts_with(here, "+" + cc + cc)) & _mask(pc.starts_with(raw, cc))
        if not suspect.any():
            continue
        rows = rows[suspect]
        plus = pc.binary_join_element_wise(
            pa.scalar("+", _STRING),
            raw.filter(pa.array(suspect)).cast(_STRING),
            pa.scalar("", _STRING),
        )
        again, settled = _fast_e164(plus, pd.Series(pd.NA, index=range(len(rows)), dtype=object))
        answers = again.to_pylist()
        for i in np.flatnonzero(~settled):  # the few the fast path leaves
            answers[i] = _e164(plus[i].as_py(), None)
        take = np.array([a is not None for a in answers], dtype=bool)
        if take.any():
            out.iloc[rows[take]] = pd.array([a for a in answers if a is not None], dtype=ARROW_TEXT)
    return out
