"""Vectorized parsing of exported text into recon's canonical amounts, dates, ids and booleans.

Every parser takes a text Series (missing = NA) and returns a :class:`Parsed`: the typed values, a
``bad`` mask (non-empty text that could not be read; blank text is missing, not bad) with a short
reason per bad value, and an optional ``note`` for the load summary. The work is done by Arrow's
compute kernels (RE2 regular expressions) and numpy over whole columns, never row by row. Dates and
amounts are read once per distinct text (a column of two million dates holds a few thousand), and
the votes that decide a column's decimal mark or day/month order still count rows.

Decisions, so the tests and the summary can say the same thing:

Amounts
    * Accepted: ``1234.56``, ``1,234.56``, ``1.234,56``, ``1234,56``, grouping by space, no-break
      space, narrow no-break space or apostrophe (``1'234.56``), Indian lakh grouping with commas
      (``1,23,456.78``), currency codes (three capitals such as ``IDR``) or symbols (``$ € Rp ...``)
      before or after the number, negatives as ``-1``, ``1-`` or ``(1)``, a leading ``+``, and an
      Excel accounting zero (``-`` or ``$ -``), read as 0.
    * Grouping must be regular (a first group of 1-3 digits not starting with 0, then groups of 3):
      ``1,23,4.5`` is bad.
    * Scientific notation (``1.5E+3``) is read only in its plain form: digits, the column's decimal
      separator, an exponent of at most two digits; no grouping. It is exact (no float round trip).
    * More than 4 decimals are rounded half-to-even to the 4 decimals of ``AMOUNT_DTYPE`` and the
      note says how many were rounded; float noise (``0.30000000000000004``) is common in exports.
    * Decimal separator ``auto``: each value is checked under both readings. A value valid only with
      ``,`` (``1.234,56``, ``1234,5``, ``1.234.567``) votes for ``,``; one valid only with ``.``
      (``1,234.56``, ``1234.5``, ``1,234,567``) votes for ``.``; ``1,234`` and ``1.234`` do not
      vote. The majority wins; the minority's deciding values are bad (never read the other
      way). A tie makes every value that reads differently under the two separators bad. With no
      vote at all, ``.`` is used and, if some value was ambiguous, the note says so; when the
      majority decided an ambiguous value, the note says so too, with an example.
    * Currencies without minor units (ISO 4217's zero-decimal ones such as JPY, KRW, VND, CLP,
      and IDR, exported as whole rupiah), named by the value's marker (``Rp``, ``IDR``, ``₩``) or
      by the row's currency column: a number made only of thousands groups (``Rp 1.000``,
      ``1,234,567``) is a whole number whatever the column's decimal separator, does not vote,
      and the note says when that reading differs from the column's separator.

Dates
    * ISO is always read: ``2026-12-31``, ``2026/12/31``, ``20261231``, with an optional time and
      UTC offset. Times and offsets are dropped and the date is kept as written (local date).
    * Day/month order for ``31/12/2026``, ``31.12.2026``, ``31-12-2026`` (two-digit years too):
      ``dmy``/``mdy`` as configured, or ``auto``: a value valid only day-first votes dmy, only
      month-first votes mdy. The majority wins and the minority's deciding values are bad; a tie
      makes all deciding and ambiguous values bad; with no vote the ambiguous values (01/02/2026)
      are bad and never guessed. 05/05/2026 reads the same either way and is accepted.
    * Month names in English, German and Indonesian: ``31-Dec-2026``, ``31 Desember 2026``,
      ``Dec 31, 2026``, ``Thursday, December 31, 2026``.
    * Two-digit years follow POSIX and Python: 69-99 are 1969-1999, 00-68 are 2000-2068.
    * Dates must fall in 1678-2261, the span ``datetime64[ns]`` can hold; ``9999-12-31`` is bad.
    * Excel serials (only when asked): 1 = 1900-01-01; 60 is Excel's non-existent 1900-02-29 and is
      bad; from 61 the origin is 1899-12-30. Fractions (times) are dropped. Serials run from 1 to
      132219 (2261-12-31), the last day ``datetime64[ns]`` holds in whole years.
    * ``formats`` (strftime patterns) are tried first, each in one vectorized pass over the values
      still unparsed.

Ids
    * Surrounding whitespace is removed, inner text and leading zeros kept, blank is missing.
    * A float rendering ``12345.0`` (digits, then exactly ``.0``) becomes ``12345``; nothing else is
      rewritten. Scientific notation with a signed exponent (``1.23457E+15``, ``1.2e+15``) is bad:
      the spreadsheet already lost the digits.

Booleans
    * true/false, t/f, yes/no, y/n, 1/0, 1.0/0.0, x (true), German ja/nein and wahr/falsch,
      Indonesian ya/tidak and benar/salah, in any case.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.schema import AMOUNT_DTYPE, BOOL_DTYPE, DATE_DTYPE, TEXT_DTYPE

logger = logging.getLogger(__name__)

__all__ = [
    "Parsed",
    "detect_decimal",
    "parse_amounts",
    "parse_bools",
    "parse_dates",
    "parse_ids",
]

DecimalMark = Literal[".", ","]

# Python's str.isspace() characters, plus zero-width space and the byte-order mark that spreadsheets
# leave in front of the first cell.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\u200b\ufeff"
)
_WS_CLASS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE) + "]"
_SHOWN_MAX = 60  # longest value quoted in a reason
_NULL = pa.scalar(None, pa.string())


@dataclass(frozen=True)
class Parsed:
    """The result of parsing one text column.

    ``values`` has the canonical dtype and the input's index, missing where the input was blank or
    bad; ``bad`` is True where the input had text that could not be read, and ``reason`` then says
    why in plain words (NA elsewhere); ``note`` is a line for the load summary, or None.
    """

    values: pd.Series
    bad: pd.Series
    reason: pd.Series
    note: str | None = None

    @property
    def n_bad(self) -> int:
        return int(self.bad.sum())


# --- shared helpers ---------------------------------------------------------------------------


def _text(values: pd.Series) -> pa.Array:
    """The column as an Arrow string array, trimmed, with blank text turned into null."""
    arr = pa.array(values.astype(TEXT_DTYPE), from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = pc.utf8_trim(pc.cast(arr, pa.string()), characters=WHITESPACE)
    return pc.if_else(pc.equal(arr, ""), _NULL, arr)


def _np(mask: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An Arrow boolean array as a numpy bool array, null counted as False."""
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _shown(text: pa.Array) -> pa.Array:
    """The value as quoted in a reason: ``'TBD'``, shortened when long."""
    short = pc.if_else(
        pc.greater(pc.utf8_length(text), _SHOWN_MAX),
        pc.binary_join_element_wise(pc.utf8_slice_codeunits(text, 0, _SHOWN_MAX - 1), "…", ""),
        text,
    )
    return pc.binary_join_element_wise("'", short, "'", "")


def _reasons(text: pa.Array, cases: Sequence[tuple[np.ndarray, str]]) -> pa.Array:
    """Reason text per row: the first case whose mask holds; ``{v}`` is the quoted value."""
    out = pa.nulls(len(text), pa.string())
    taken = np.zeros(len(text), dtype=bool)
    shown = None
    for mask, template in cases:
        rows = mask & ~taken
        if not rows.any():
            continue
        if shown is None:
            shown = _shown(text)
        before, after = template.split("{v}")
        out = pc.if_else(pa.array(rows), pc.binary_join_element_wise(before, shown, after, ""), out)
        taken |= rows
    return out


def _text_series(arr: pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(pd.array(arr, dtype=TEXT_DTYPE), index=index)


def _result(
    source: pd.Series, values: pd.Series, bad: np.ndarray, reason: pa.Array, notes: Sequence[str]
) -> Parsed:
    index = values.index
    if notes:
        logger.debug("%s: %s", source.name, "; ".join(notes))
    return Parsed(
        values=values.rename(source.name),
        bad=pd.Series(bad, index=index, dtype=bool),
        reason=_text_series(reason, index),
        note="; ".join(notes) or None,
    )


def _rows(mask: np.ndarray, weight: np.ndarray | None = None) -> int:
    """How many rows a mask over distinct values stands for (``weight``: rows per value)."""
    return int(mask.sum()) if weight is None else int(weight[mask].sum())


def _count(mask: np.ndarray, noun: str, weight: np.ndarray | None = None) -> str:
    n = _rows(mask, weight)
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@dataclass(frozen=True)
class _Distinct:
    """A column's distinct values (null last), each row's place among them, rows per value."""

    values: pa.Array
    place: np.ndarray
    weight: np.ndarray

    @classmethod
    def of(cls, text: pa.Array, key: np.ndarray | None = None) -> _Distinct:
        """``key`` (small ints per row, such as a flag) splits equal texts that must be read
        apart."""
        encoded = pc.dictionary_encode(text)
        values = pa.concat_arrays([encoded.dictionary, pa.nulls(1, pa.string())])
        place = np.asarray(pc.fill_null(encoded.indices, len(values) - 1).to_numpy(), np.int64)
        if key is not None:  # a hash of (text, key) pairs: no sort
            pairs = pc.dictionary_encode(pa.array(place * 2 + key))
            place = np.asarray(pairs.indices.to_numpy(), np.int64)
            values = values.take(pc.divide(pairs.dictionary, 2))
        return cls(values, place, np.bincount(place, minlength=len(values)))

    def spread(self, values: np.ndarray) -> np.ndarray:
        return values[self.place]

    def spread_arrow(self, values: pa.Array) -> pa.Array:
        return values.take(pa.array(self.place))


def _first(text: pa.Array, mask: np.ndarray, quote: bool = True) -> str:
    """One example value for a note (a single lookup, not a loop)."""
    value = str(text[int(np.flatnonzero(mask)[0])].as_py())
    return f"'{value}'" if quote else value


# --- amounts ----------------------------------------------------------------------------------

_CURRENCY = (
    r"US\$|HK\$|NZ\$|NT\$|[ACRS]\$|[A-Z]{3}|Rp\.?|RM|Rs\.?|[Kk]r\.?|S?Fr\.|z[łl]|K[čc]|Ft|lei|"
    r"[$€£¥₹₩₱฿₫₽₺₪₦₴₡₲₵]"
)
# The number with whatever sits before and after it (sign, bracket, currency), then the grammar of
# those two parts: brackets, signs and a currency marker may sit on either side of the number.
_AMOUNT_PARTS = (
    r"^(?P<pre>[^0-9]*?)(?P<num>[.,]?[0-9](?:[0-9.,' ]*[0-9])?(?:[eE][-+]?[0-9]+)?)"
    r"(?P<post>[^0-9]*)$"
)
_PRE = rf"^[-+(]?\s*(?:{_CURRENCY})?\s*[-+(]?\s*$"
_POST = rf"^\s*[-)]?\s*(?:{_CURRENCY})?\s*[-)]?$"
_PLAIN = r"^-?[0-9]+(?:\.[0-9]+)?$"  # what _AMOUNT_PARTS splits into "" or "-", the number, ""
_DASH_ZERO = rf"^(?:{_CURRENCY})?\s*-\s*(?:{_CURRENCY})?$"
_SPACES = r"[\x{a0}\x{1680}\x{2000}-\x{200a}\x{202f}\x{205f}\x{3000}]"
_DASHES = r"[\x{2012}\x{2013}\x{2014}\x{2212}\x{fe63}\x{ff0d}]"
_ODD_CHARS = _SPACES + "|" + _DASHES + "|’"
_INT_DIGITS_MAX = 30  # fits decimal128(38, 6), used while rounding, even after rounding up
# Currencies whose amounts carry no minor unit in practice: ISO 4217's zero-decimal currencies,
# and IDR, which keeps two decimals on paper but is exported as whole rupiah. Codes and the
# markers that name one of them alone (``¥`` is also the yuan, so it is not here).
_WHOLE_UNIT_CODES = [
    "BIF",
    "CLP",
    "DJF",
    "GNF",
    "IDR",
    "ISK",
    "JPY",
    "KMF",
    "KRW",
    "PYG",
    "RWF",
    "UGX",
    "UYI",
    "VND",
    "VUV",
    "XAF",
    "XOF",
    "XPF",
]
_WHOLE_MARKERS = pa.array([*_WHOLE_UNIT_CODES, "RP", "RP.", "₩", "₫"], pa.string())
# Only thousands groups, no decimals: ``1.000``, ``12,500``, ``1.234.567``.
_GROUPED = r"^[1-9][0-9]{0,2}(?:(?:\.[0-9]{3})+|(?:,[0-9]{3})+)$"


def _number_pattern(dec: str) -> str:
    """A valid number (no sign) when ``dec`` is the decimal separator."""
    grouping = "," if dec == "." else "."
    groups = "|".join(
        rf"[1-9][0-9]{{0,2}}(?:\{g}[0-9]{{3}})+" if g != " " else r"[1-9][0-9]{0,2}(?: [0-9]{3})+"
        for g in (grouping, " ", "'")
    )
    lakh = r"|[1-9][0-9]?(?:,[0-9]{2})+,[0-9]{3}" if dec == "." else ""
    d = "\\" + dec
    plain = rf"(?:[0-9]+|{groups}{lakh})(?:{d}[0-9]+)?|{d}[0-9]+"
    sci = rf"(?:[0-9]+(?:{d}[0-9]+)?|{d}[0-9]+)[eE][-+]?[0-9]{{1,2}}"
    return rf"^(?:{plain}|{sci})$"


_NUMBER = {".": _number_pattern("."), ",": _number_pattern(",")}


@dataclass(frozen=True)
class _AmountShape:
    text: pa.Array  # trimmed input, null where blank
    shaped: np.ndarray  # sign, brackets and currency well placed
    num: pa.Array  # the number part, null where not shaped
    negative: np.ndarray
    zero: np.ndarray  # an accounting-format dash
    pre: pa.Array  # text before the number: sign, bracket, currency
    post: pa.Array  # text after it
    valid: dict[str, np.ndarray]  # number valid with "." / "," as the decimal separator

    @property
    def votes(self) -> dict[str, int]:
        dot, comma = self.valid["."], self.valid[","]
        return {".": int((dot & ~comma).sum()), ",": int((comma & ~dot).sum())}

    @property
    def ambiguous(self) -> np.ndarray:
        """Valid both ways and read differently (``1,234``: 1234 or 1.234)."""
        seps = _np(pc.match_substring_regex(self.num, r"[.,]"))
        return self.valid["."] & self.valid[","] & seps


def _amount_shape(text: pa.Array) -> _AmountShape:
    norm = text
    if _np(pc.match_substring_regex(text, _ODD_CHARS)).any():
        norm = pc.replace_substring_regex(norm, _SPACES, " ")
        norm = pc.replace_substring_regex(norm, _DASHES, "-")
        norm = pc.replace_substring(norm, "’", "'")
    # One capturing pass splits what is before and after the number; the cheaper non-capturing
    # checks below validate those (short) parts. Plain numbers (most of an export) are split
    # without it: a capturing pattern costs several times a matching one.
    plain = pc.match_substring_regex(norm, _PLAIN)
    parts = pc.extract_regex(pc.if_else(plain, _NULL, norm), _AMOUNT_PARTS)
    pre, num, post = (pc.struct_field(parts, name) for name in ("pre", "num", "post"))
    if _np(plain).any():
        minus_sign = pc.starts_with(norm, "-")
        pre = pc.if_else(plain, pc.if_else(minus_sign, "-", ""), pre)
        num = pc.if_else(plain, pc.utf8_ltrim(norm, "-"), num)
        post = pc.if_else(plain, "", post)

    # The texts around the numbers take a handful of distinct values ("", "$", "-$", " €"): check
    # each distinct one, then spread the answers back over the rows, all in Arrow.
    pre_codes, post_codes = pc.dictionary_encode(pre), pc.dictionary_encode(post)

    def check(codes: pa.DictionaryArray, pattern: str) -> np.ndarray:
        return _np(pc.take(pc.match_substring_regex(codes.dictionary, pattern), codes.indices))

    def count(codes: pa.DictionaryArray, char: str) -> np.ndarray:
        counts = pc.take(pc.count_substring(codes.dictionary, char), codes.indices)
        return np.asarray(pc.fill_null(counts, 0).to_numpy())

    opens, closes = count(pre_codes, "("), count(post_codes, ")")
    minus = count(pre_codes, "-") + count(post_codes, "-")
    plus = count(pre_codes, "+")
    has_c1 = check(pre_codes, r"[^-+()\s]")
    has_c2 = check(post_codes, r"[^-+()\s]")
    shaped = (
        check(pre_codes, _PRE)
        & check(post_codes, _POST)
        & (opens == closes)
        & (opens <= 1)
        & ((opens > 0).astype(int) + minus + plus <= 1)
        & ~(has_c1 & has_c2)
    )
    keep = pa.array(shaped)
    num = pc.if_else(keep, num, _NULL)
    unmatched = pc.if_else(pc.is_valid(pre), _NULL, norm)
    zero = np.zeros(len(text), dtype=bool)
    if unmatched.null_count < len(text):
        zero = _np(pc.match_substring_regex(unmatched, _DASH_ZERO))
    valid = {dec: _np(pc.match_substring_regex(num, pat)) for dec, pat in _NUMBER.items()}
    return _AmountShape(
        text=text,
        shaped=shaped,
        num=num,
        negative=(opens + minus) > 0,
        zero=zero,
        pre=pc.if_else(keep, pre, _NULL),
        post=pc.if_else(keep, post, _NULL),
        valid=valid,
    )


def detect_decimal(values: pd.Series) -> Literal[".", ","] | None:
    """The decimal separator a column of amounts shows, or None if no value decides it (or a tie).

    A value decides when it is a valid amount under one separator only: ``1.234,56`` and ``1234,5``
    show ``,``; ``1,234.56`` and ``1234.5`` show ``.``. ``1,234`` alone decides nothing. When both
    appear, the more frequent wins.
    """
    votes = _amount_shape(_text(values)).votes
    if votes["."] == votes[","]:
        return None
    return "." if votes["."] > votes[","] else ","


def _plain_decimal(text: str) -> str:
    """Scientific notation to plain digits, exactly (``1.5E+3`` -> ``1500``); the number pattern
    admits only valid literals with at most a two-digit exponent."""
    return format(Decimal(text), "f")


def _whole_currency(currency: pd.Series | None) -> np.ndarray | None:
    """Rows whose currency column names a currency without minor units (IDR, JPY, ...)."""
    if currency is None:
        return None
    return _np(pc.is_in(pc.utf8_upper(_text(currency)), value_set=_WHOLE_MARKERS))


def _whole_units(shape: _AmountShape, whole_currency: np.ndarray | None) -> np.ndarray:
    """Values in a currency without minor units in practice, by the value's marker or its row's
    currency column (``Rp 1.000``, ``1.000 JPY``, or ``1.000`` with currency ``IDR``)."""
    marker = pc.utf8_upper(
        pc.utf8_trim(pc.binary_join_element_wise(shape.pre, shape.post, ""), "-+() \t")
    )
    whole = _np(pc.is_in(marker, value_set=_WHOLE_MARKERS))
    if whole_currency is not None:
        whole |= whole_currency
    return whole


def parse_amounts(
    values: pd.Series,
    decimal: Literal["auto", ".", ","] = "auto",
    currency: pd.Series | None = None,
) -> Parsed:
    """Read exported amounts (``1.234,56 €``, ``(1,234.56)``, ``Rp 1.234.567``) as decimals.

    ``currency`` is the row's currency code, when the table has one: amounts in a currency without
    minor units (IDR, JPY, ...) written with only thousands groups are read as whole numbers.
    """
    whole_currency = _whole_currency(currency)
    key = None if whole_currency is None else whole_currency.astype(np.int64)
    distinct = _Distinct.of(_text(values), key)
    flags = None if key is None else np.bincount(distinct.place, key, len(distinct.values)) > 0
    exact, bad, reason, notes = _amounts(distinct.values, distinct.weight, decimal, flags)
    out = pd.Series(
        pd.arrays.ArrowExtensionArray(distinct.spread_arrow(exact)),
        index=values.index,
        dtype=AMOUNT_DTYPE,
    )
    return _result(values, out, distinct.spread(bad), distinct.spread_arrow(reason), notes)


def _amounts(
    text: pa.Array,
    weight: np.ndarray,
    decimal: Literal["auto", ".", ","],
    whole_currency: np.ndarray | None,
) -> tuple[pa.Array, np.ndarray, pa.Array, list[str]]:
    """Decimals, bad mask, reasons and notes for distinct texts; ``weight``: rows per text."""
    shape = _amount_shape(text)
    n = len(text)
    notes: list[str] = []
    other: dict[str, DecimalMark] = {".": ",", ",": "."}
    # ``Rp 1.000`` and ``JPY 1,234,567``: groups of three in a whole-unit currency are thousands,
    # whichever separator they use; they neither vote on nor follow the column's decimal mark.
    whole = _whole_units(shape, whole_currency) & _np(pc.match_substring_regex(shape.num, _GROUPED))
    dot, comma = shape.valid["."] & ~whole, shape.valid[","] & ~whole
    votes = {".": _rows(dot & ~comma, weight), ",": _rows(comma & ~dot, weight)}
    ambiguous = shape.ambiguous & ~whole
    dec: DecimalMark
    tie = np.zeros(n, dtype=bool)
    minority = np.zeros(n, dtype=bool)
    if decimal != "auto":
        dec = decimal
    elif votes["."] == votes[","] and votes["."] > 0:
        dec = "."
        tie = (dot ^ comma) | ambiguous
        notes.append(
            f"decimal separator undecided: as many amounts use '.' as ',' ({votes['.']} each); "
            "those that read differently are marked bad; set csv.decimal in recon.yaml"
        )
    elif votes["."] == votes[","]:
        dec = "."
        if ambiguous.any():
            notes.append(
                f"no amount shows the decimal separator; read with '.', so "
                f"{_first(text, ambiguous)} is "
                f"{_first(shape.num, ambiguous, quote=False).replace(',', '')}"
                " (set csv.decimal in recon.yaml if that is wrong)"
            )
    else:
        dec = "." if votes["."] > votes[","] else ","
        minority = comma & ~dot if dec == "." else dot & ~comma
        if dec == ",":
            example = _first(text, comma & ~dot)
            notes.append(f"decimal comma detected (e.g. {example})")
        if minority.any():
            notes.append(
                f"mixed decimal separators: {_count(minority, 'amount', weight)} written with "
                f"'{other[dec]}' as the decimal separator marked bad"
            )
        if ambiguous.any():
            number = _first(shape.num, ambiguous, quote=False)
            reading = number.replace(other[dec], "").replace(",", ".")
            notes.append(
                f"{_count(ambiguous, 'amount', weight)} that could be read two ways read with "
                f"'{dec}' as the decimal separator, as the other amounts in this column show "
                f"(e.g. {_first(text, ambiguous)} is {reading}); set csv.decimal in recon.yaml "
                "if that is wrong"
            )

    ok = (shape.valid[dec] & ~tie) | (shape.zero & ~shape.shaped) | whole
    clean = shape.num
    for grouping in ("," if dec == "." else ".", " ", "'"):
        clean = pc.replace_substring(clean, grouping, "")
    if dec == ",":
        clean = pc.replace_substring(clean, ",", ".")
    if whole.any():
        clean = pc.if_else(
            pa.array(whole), pc.replace_substring_regex(shape.num, "[.,]", ""), clean
        )
        differs = whole & _np(pc.match_substring(shape.num, dec))
        if differs.any():
            notes.append(
                f"{_count(differs, 'amount', weight)} in a currency without minor units read with "
                f"'{dec}' as the thousands separator (e.g. {_first(text, differs)} is "
                f"{_first(clean, differs, quote=False)})"
            )
    clean = pc.if_else(pa.array(shape.zero & ~shape.shaped), "0", clean)
    clean = pc.if_else(pa.array(ok), clean, _NULL)

    sci = ok & (
        _np(pc.greater(pc.count_substring(clean, "e"), 0))
        | _np(pc.greater(pc.count_substring(clean, "E"), 0))
    )
    if sci.any():
        # Exact conversion of scientific notation through Python's Decimal, once per distinct
        # value: Arrow's decimal cast fails the whole column on one out-of-scale value, and these
        # values are rare (an exponent only appears in float noise or spreadsheet renderings).
        uniq = pc.unique(clean.filter(pa.array(sci)))
        plain = pa.array([_plain_decimal(s) for s in uniq.to_pylist()], pa.string())
        clean = pc.if_else(pa.array(sci), pc.take(plain, pc.index_in(clean, value_set=uniq)), clean)
        notes.append(f"{_count(sci, 'amount', weight)} in scientific notation read exactly")

    if _np(pc.starts_with(clean, "0")).any():
        clean = pc.replace_substring_regex(clean, r"^0+([0-9])", r"\1")
    if _np(pc.starts_with(clean, ".")).any():
        clean = pc.replace_substring_regex(clean, r"^\.", "0.")
    length = np.asarray(pc.fill_null(pc.binary_length(clean), 0).to_numpy())
    point = np.asarray(pc.fill_null(pc.find_substring(clean, "."), -1).to_numpy())
    too_large = ok & (np.where(point < 0, length, point) > _INT_DIGITS_MAX)
    ok &= ~too_large
    clean = pc.if_else(pa.array(ok), clean, _NULL)
    rounded = ok & (point >= 0) & (length - point - 1 > 4)
    if rounded.any():
        notes.append(
            f"{_count(rounded, 'amount', weight)} with more than 4 decimals rounded half-to-even "
            f"(e.g. {_first(text, rounded)})"
        )
        # Keep 4 decimals, the 5th, and a sticky 1 for any non-zero digit after it: enough to
        # round half-to-even exactly, and short enough for decimal128(38, 6).
        clean = pc.replace_substring_regex(clean, r"^([0-9]*\.[0-9]{5})0+$", r"\1")
        clean = pc.replace_substring_regex(clean, r"^([0-9]*\.[0-9]{5})[0-9]+$", r"\1" + "1")
    signed = pc.if_else(
        pa.array(shape.negative), pc.binary_join_element_wise("-", clean, ""), clean
    )
    wide = pc.cast(signed, pa.decimal128(38, 6))
    exact = pc.cast(
        pc.round(wide, ndigits=4, round_mode="half_to_even"), AMOUNT_DTYPE.pyarrow_dtype
    )

    # The distinct texts around the numbers are a handful ("$", "-$", " €"), not one per row.
    currencies = {
        side.strip("-+() \t")
        for part in (shape.pre, shape.post)
        for side in pc.unique(part.filter(pa.array(ok))).drop_null().to_pylist()
    } - {""}
    if currencies:
        notes.append(f"currency markers ignored: {', '.join(sorted(currencies))}")
    if (ok & shape.zero & ~shape.shaped).any():
        notes.append("'-' read as 0 (spreadsheet accounting format)")

    present = _np(text.is_valid())
    bad = present & ~ok
    shaped_bad = bad & shape.shaped
    reason = _reasons(
        text,
        [
            (bad & ~shape.shaped, "{v} is not an amount"),
            (too_large, "{v} is too large for an amount"),
            (
                shaped_bad & tie,
                "{v} is ambiguous: this column uses '.' and ',' as the decimal separator "
                "equally often; set csv.decimal in recon.yaml",
            ),
            (
                shaped_bad & minority,
                f"{{v}} uses '{other[dec]}' as the decimal separator, but most amounts in this "
                f"column use '{dec}'",
            ),
            (
                shaped_bad & shape.valid[other[dec]],
                f"{{v}} is not an amount with '{dec}' as the decimal separator (csv.decimal)",
            ),
            (bad, "{v} is not a valid amount (check the digit grouping and separators)"),
        ],
    )
    return exact, bad, reason, notes


# --- dates ------------------------------------------------------------------------------------

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "jan january januar januari",
        "feb february februar februari",
        "mar march märz maerz mär mrz maret",
        "apr april",
        "may mai mei",
        "jun june juni",
        "jul july juli",
        "aug august agustus agu agt",
        "sep sept september",
        "oct october okt oktober",
        "nov november",
        "dec december dez dezember des desember",
    ),
    start=1,
):
    _MONTHS.update(dict.fromkeys(_names.split(), _number))
_MONTH_NAMES = pa.array(list(_MONTHS), pa.string())
_MONTH_NUMBERS = pa.array(list(_MONTHS.values()), pa.int64())

_TIME = (
    r"(?:(?:t|\s)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d{1,9})?)?"
    r"\s?(?P<ap>[ap]\.?m\.?)?\s?(?:z|utc|gmt|[+-]\d{2}(?::?\d{2})?)?)?"
)
# Patterns run on lower-cased text. Month names are matched by a Latin-letter class: RE2's \pL is
# several times slower to capture with, and every month name recon knows is in the class.
_LETTERS = "[a-zäéöüß]+"
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s)?"
_DATE_PATTERNS = {
    "iso": (
        r"^(?P<y>\d{4})(?P<s1>[-/.])(?P<m>\d{1,2})(?P<s2>[-/.])(?P<d>\d{1,2})"
        rf"{_TIME}$"
    ),
    "compact": r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$",
    "numeric": (
        r"^(?P<a>\d{1,2})(?P<s1>[-/.])(?P<b>\d{1,2})(?P<s2>[-/.])(?P<y>\d{4}|\d{2})"
        rf"{_TIME}$"
    ),
    "day_month": (
        rf"^{_WEEKDAY}(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\.?[-\s/]?(?P<mon>{_LETTERS})\.?[-\s/,]?\s?"
        rf"(?P<y>\d{{4}}|\d{{2}}){_TIME}$"
    ),
    "month_day": (
        rf"^{_WEEKDAY}(?P<mon>{_LETTERS})\.?[-\s/]?(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?[-\s/]?\s?"
        rf"(?P<y>\d{{4}}){_TIME}$"
    ),
}
_SERIAL = r"^(?P<n>\d{1,7})(?:\.\d+)?$"
_YEAR_MIN, _YEAR_MAX = 1678, 2261  # whole years inside datetime64[ns]
_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
_SERIAL_MAX = int((np.datetime64(f"{_YEAR_MAX}-12-31", "D") - _EXCEL_EPOCH).astype(int))
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_ORDER_WORDS = {"dmy": "day/month/year", "mdy": "month/day/year"}


def _ints(parts: pa.StructArray, name: str) -> np.ndarray:
    """A captured group as int64, -1 where the row did not match or the group is empty."""
    field = pc.struct_field(parts, name)
    field = pc.if_else(pc.equal(field, ""), _NULL, field)
    return np.asarray(pc.fill_null(pc.cast(field, pa.int64()), -1).to_numpy(zero_copy_only=False))


def _calendar_ok(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    month_ok = (m >= 1) & (m <= 12)
    days = _DAYS_IN_MONTH[np.where(month_ok, m, 0)] + (month_ok & (m == 2) & leap)
    return (y >= 0) & month_ok & (d >= 1) & (d <= days)


def _days(y: np.ndarray, m: np.ndarray, d: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """datetime64[D] for valid rows, NaT elsewhere."""
    y, m, d = np.where(ok, y, 1970), np.where(ok, m, 1), np.where(ok, d, 1)
    months = (y - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (m - 1).astype(
        "timedelta64[M]"
    )
    days = months.astype("datetime64[D]") + (d - 1).astype("timedelta64[D]")
    return np.where(ok, days, np.datetime64("NaT", "D"))


def _time_ok(parts: pa.StructArray) -> np.ndarray:
    hour, minute, second = _ints(parts, "H"), _ints(parts, "M"), _ints(parts, "S")
    ampm = _np(pc.not_equal(pc.struct_field(parts, "ap"), ""))
    hour_ok = np.where(ampm, (hour >= 1) & (hour <= 12), hour <= 23)
    return (hour < 0) | (hour_ok & (minute <= 59) & (second <= 60))


def _two_digit(y: np.ndarray, written: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    short = _np(pc.equal(pc.utf8_length(written), 2))
    return np.where(short, np.where(y < 69, 2000 + y, 1900 + y), y), short


def _user_formats(text: pa.Array, formats: Sequence[str]) -> np.ndarray:
    """datetime64[D] for values matching one of the configured strftime patterns, NaT elsewhere."""
    out = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[D]")
    if not formats:
        return out
    series = pd.Series(pd.array(text, dtype=TEXT_DTYPE))
    lo, hi = np.datetime64(f"{_YEAR_MIN}-01-01"), np.datetime64(f"{_YEAR_MAX}-12-31")
    for fmt in formats:
        todo = series[series.notna().to_numpy() & np.isnat(out)]
        if todo.empty:
            break
        got = _to_datetime_local(todo, fmt).dt.normalize()
        days = got.to_numpy(dtype="datetime64[D]", na_value=np.datetime64("NaT"))
        days = np.where((days >= lo) & (days <= hi), days, np.datetime64("NaT"))
        out[todo.index.to_numpy()] = days
    return out


def _to_datetime_local(todo: pd.Series, fmt: str) -> pd.Series:
    """``pd.to_datetime`` with the wall-clock time kept when the pattern carries a UTC offset."""
    try:
        got = pd.to_datetime(todo, format=fmt, errors="coerce")
    except ValueError:
        # Mixed UTC offsets cannot share one tz-aware result: parse each distinct offset apart (a
        # handful of groups, not rows) so every value keeps its local date as written.
        key = todo.str.extract(r"([+-]\d{2}:?\d{2}|Z)\s*$", expand=False).fillna("")
        parts = [
            _naive(pd.to_datetime(g, format=fmt, errors="coerce")) for _, g in todo.groupby(key)
        ]
        return pd.concat(parts).reindex(todo.index)
    return _naive(got)


def _naive(got: pd.Series) -> pd.Series:
    if isinstance(got.dtype, pd.DatetimeTZDtype):
        return got.dt.tz_localize(None)
    return got


def parse_dates(
    values: pd.Series,
    order: Literal["auto", "dmy", "mdy"] = "auto",
    formats: Sequence[str] = (),
    excel_serial: bool = False,
) -> Parsed:
    """Read exported dates (ISO, 31/12/2026, 31-Dec-2026, Dec 31, 2026, Excel serials) as dates."""
    distinct = _Distinct.of(_text(values))
    days, bad, reason, notes = _dates(
        distinct.values, distinct.weight, order, formats, excel_serial
    )
    dates = pd.Series(distinct.spread(days).astype(DATE_DTYPE), index=values.index)
    return _result(values, dates, distinct.spread(bad), distinct.spread_arrow(reason), notes)


def _dates(
    text: pa.Array,
    weight: np.ndarray,
    order: Literal["auto", "dmy", "mdy"],
    formats: Sequence[str],
    excel_serial: bool,
) -> tuple[np.ndarray, np.ndarray, pa.Array, list[str]]:
    """Days, bad mask, reasons and notes for distinct texts; ``weight``: rows per text."""
    n = len(text)
    norm = pc.replace_substring_regex(text, _WS_CLASS + "+", " ")
    notes: list[str] = []
    user = _user_formats(text, formats)
    norm = pc.if_else(pa.array(np.isnat(user)), pc.utf8_lower(norm), _NULL)
    rest = norm  # values no pattern has matched yet

    y = np.full(n, -1)
    m = np.full(n, -1)
    d = np.full(n, -1)
    time_ok = np.ones(n, dtype=bool)
    matched = np.zeros(n, dtype=bool)
    short_year = np.zeros(n, dtype=bool)
    numeric: dict[str, np.ndarray] = {}
    for kind, pattern in _DATE_PATTERNS.items():
        if rest.null_count == n:
            break
        # A match without captures is several times cheaper; capture only where it matched.
        found = pc.match_substring_regex(rest, pattern)
        if not _np(found).any():
            continue
        parts = pc.extract_regex(pc.if_else(found, rest, _NULL), pattern)
        hit = _np(parts.is_valid())
        if kind in ("iso", "numeric"):
            hit &= _np(pc.equal(pc.struct_field(parts, "s1"), pc.struct_field(parts, "s2")))
        if not hit.any():
            continue
        rest = pc.if_else(pa.array(hit), _NULL, rest)
        if kind != "compact":
            time_ok = np.where(hit, _time_ok(parts), time_ok)
        year = _ints(parts, "y")
        if kind in ("numeric", "day_month"):
            year, short = _two_digit(year, pc.struct_field(parts, "y"))
            short_year |= hit & short
        y = np.where(hit, year, y)
        if kind == "numeric":
            numeric = {"a": _ints(parts, "a"), "b": _ints(parts, "b"), "hit": hit}
        elif kind in ("day_month", "month_day"):
            mon = pc.struct_field(parts, "mon")
            month = pc.take(_MONTH_NUMBERS, pc.index_in(mon, value_set=_MONTH_NAMES))
            m = np.where(hit, np.asarray(pc.fill_null(month, -1).to_numpy()), m)
            d = np.where(hit, _ints(parts, "d"), d)
        else:
            m = np.where(hit, _ints(parts, "m"), m)
            d = np.where(hit, _ints(parts, "d"), d)
        matched |= hit

    # Day/month order for 31/12/2026-style values.
    is_num = numeric.get("hit", np.zeros(n, dtype=bool))
    a, b = numeric.get("a", np.full(n, -1)), numeric.get("b", np.full(n, -1))
    dmy_ok = is_num & _calendar_ok(y, b, a)
    mdy_ok = is_num & _calendar_ok(y, a, b)
    dmy_only, mdy_only = dmy_ok & ~mdy_ok, mdy_ok & ~dmy_ok
    differ = dmy_ok & mdy_ok & (a != b)
    chosen = "dmy" if order == "auto" else order
    ambiguous = np.zeros(n, dtype=bool)  # no vote at all: never guess
    tie = np.zeros(n, dtype=bool)  # as many votes each way
    minority = np.zeros(n, dtype=bool)  # valid only in the losing order
    if order == "auto" and is_num.any():
        n_dmy, n_mdy = _rows(dmy_only, weight), _rows(mdy_only, weight)
        if n_dmy == n_mdy == 0:
            ambiguous = differ
        elif n_dmy == n_mdy:
            tie = dmy_only | mdy_only | differ
            notes.append(
                f"date order undecided: {n_dmy} dates are day-first and {n_mdy} month-first; "
                "set dates.order to dmy or mdy in recon.yaml"
            )
        else:
            chosen = "dmy" if n_dmy > n_mdy else "mdy"
            winner, loser = (dmy_only, mdy_only) if chosen == "dmy" else (mdy_only, dmy_only)
            minority = loser
            notes.append(f"dates read as {_ORDER_WORDS[chosen]} (e.g. {_first(text, winner)})")
            if loser.any():
                notes.append(
                    f"marked bad: {_count(loser, 'date', weight)} readable only as "
                    f"{_ORDER_WORDS['mdy' if chosen == 'dmy' else 'dmy']}"
                )
    day, month = (a, b) if chosen == "dmy" else (b, a)
    d = np.where(is_num, day, d)
    m = np.where(is_num, month, m)

    calendar_ok = matched & _calendar_ok(y, m, d) & time_ok
    in_range = (y >= _YEAR_MIN) & (y <= _YEAR_MAX)
    ok = calendar_ok & in_range & ~ambiguous & ~tie
    out = np.where(ok, _days(y, m, d, ok), user)
    if (ok & short_year).any():
        notes.append("two-digit years read as 1969-2068")

    serial_bad = np.zeros(n, dtype=bool)
    serial_60 = np.zeros(n, dtype=bool)
    serial_shape = _np(pc.match_substring_regex(norm, _SERIAL)) & ~matched
    if excel_serial and serial_shape.any():
        serial = _ints(pc.extract_regex(norm, _SERIAL), "n")
        serial_60 = serial_shape & (serial == 60)
        serial_ok = serial_shape & (serial >= 1) & (serial <= _SERIAL_MAX) & ~serial_60
        serial_bad = serial_shape & ~serial_ok & ~serial_60
        # Excel counts 1900-02-29 (serial 60), which never existed: below it, one day later.
        shift = np.where(serial < 60, 1, 0)
        days = _EXCEL_EPOCH + (np.where(serial_ok, serial, 0) + shift).astype("timedelta64[D]")
        out = np.where(serial_ok, days, out)
        ok |= serial_ok
        if serial_ok.any():
            notes.append(f"{_count(serial_ok, 'Excel date serial', weight)} converted")

    ok |= ~np.isnat(user)
    present = _np(text.is_valid())
    bad = present & ~ok
    dmy_words = _ORDER_WORDS[chosen]
    reason = _reasons(
        text,
        [
            (
                bad & ambiguous,
                "ambiguous date {v}: set dates.order to dmy or mdy in recon.yaml",
            ),
            (
                bad & tie,
                "ambiguous date {v}: this column has as many day-first as month-first dates; "
                "set dates.order to dmy or mdy in recon.yaml",
            ),
            (
                bad & minority,
                f"{{v}} reads only as {_ORDER_WORDS['mdy' if chosen == 'dmy' else 'dmy']}, but "
                f"most dates in this column are {dmy_words}",
            ),
            (
                bad & is_num & (order != "auto"),
                f"{{v}} is not a valid date (read as {dmy_words}, dates.order: {order})",
            ),
            (bad & calendar_ok & ~in_range, "{v} is outside the dates recon can hold (1678-2261)"),
            (bad & matched, "{v} is not a valid date"),
            (serial_60, "{v} is Excel's serial for 29 February 1900, a day that never existed"),
            (
                serial_bad,
                f"{{v}} is outside the Excel date serials recon reads (1 to {_SERIAL_MAX})",
            ),
            (bad & serial_shape, "{v} is a number, not a date"),
            (bad, "{v} is not a date"),
        ],
    )
    return out, bad, reason, notes


# --- ids --------------------------------------------------------------------------------------

_ID_SCIENTIFIC = r"^[-+]?[0-9]+(?:[.,][0-9]+)?[eE][-+][0-9]+$"
_ID_FLOAT_ZERO = r"^([0-9]+)\.0$"


def parse_ids(values: pd.Series) -> Parsed:
    """Identifiers as text: trimmed, leading zeros kept; spreadsheet damage flagged or undone."""
    text = _text(values)
    # Both shapes need a '.' or an exponent: literal searches find the few ids worth a pattern.
    odd = pc.or_(
        pc.match_substring(text, "."),
        pc.or_(pc.match_substring(text, "e"), pc.match_substring(text, "E")),
    )
    ids = text
    scientific = float_zero = np.zeros(len(text), dtype=bool)
    if _np(odd).any():
        some = pc.if_else(odd, text, _NULL)
        scientific = _np(pc.match_substring_regex(some, _ID_SCIENTIFIC))
        float_zero = _np(pc.match_substring_regex(some, _ID_FLOAT_ZERO))
    if float_zero.any():
        ids = pc.if_else(
            pa.array(float_zero), pc.replace_substring_regex(text, _ID_FLOAT_ZERO, r"\1"), ids
        )
    if scientific.any():
        ids = pc.if_else(pa.array(scientific), _NULL, ids)
    notes = []
    if float_zero.any():
        notes.append(
            f"{_count(float_zero, 'id')} written as floats lost their '.0' "
            f"(e.g. {_first(text, float_zero)})"
        )
    reason = _reasons(
        text,
        [
            (
                scientific,
                "id {v} was converted to a number in scientific notation by a spreadsheet; "
                "export the column as text",
            )
        ],
    )
    return _result(values, _text_series(ids, values.index), scientific, reason, notes)


# --- booleans ---------------------------------------------------------------------------------

_TRUE = ("true", "t", "yes", "y", "1", "1.0", "x", "ja", "wahr", "ya", "benar")
_FALSE = ("false", "f", "no", "n", "0", "0.0", "nein", "falsch", "tidak", "salah")
_BOOL_WORDS = pa.array(_TRUE + _FALSE, pa.string())


def parse_bools(values: pd.Series) -> Parsed:
    """Yes/no flags in English, German and Indonesian (and 1/0, x) as booleans."""
    text = _text(values)
    position = pc.index_in(pc.utf8_lower(text), value_set=_BOOL_WORDS)
    known = _np(position.is_valid())
    truth = _np(pc.less(position, len(_TRUE)))
    present = _np(text.is_valid())
    bad = present & ~known
    out = pd.Series(pd.arrays.BooleanArray(truth, ~known), index=values.index, dtype=BOOL_DTYPE)
    reason = _reasons(text, [(bad, "{v} is not a yes/no value")])
    return _result(values, out, bad, reason, [])
