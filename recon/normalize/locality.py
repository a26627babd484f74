"""The city (and postcode) of a one-line address whose city column is empty, read from its tail.

ERP exports often hold the whole address in one line and leave city, region and postcode empty:
"4 bridge cct canberra act 2611" with no city, while the CRM record of the same company says
"4 bridge cct" in Canberra. ``_strip_locality`` (addresses.py) cuts a locality tail only with the
record's own city, region and postcode, which are empty here; ``fill_locality`` reads the tail
against the frame itself: the records that do have a city are the gazetteer.

Right to left, a tail is: an optional postcode (one word, or two for GB, CA and NL style codes)
that is valid for the record's country (any country when it has none); then up to three region
words, only when there is a postcode; then a known city of one to three words, a ``city_norm``
of another record of the same country (of any record when the row has no country). At least two
words must stay before the city ("12 london rd" keeps its street).

Of the cities a tail offers, the one farthest from the end wins: a region often repeats or holds
a city name ("hamburg hamburg 20119", "london greater london nw1 4wd", "seattle washington
98193"), and the nearest would leave the real city in the street. So that a street named after a
city ("1000 n washington st boston ma 02108") is not taken for it, region words hold no digit and,
but for the last (a state code such as "ct" may spell a street type), no street type word.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.normalize.addresses import _postcodes, _words, address_rules
from recon.normalize.kernels import STRING, as_array, scatter
from recon.normalize.names import from_arrow

if TYPE_CHECKING:
    from recon.normalize.rules import NormalizeRules

log = logging.getLogger(__name__)

_MAX_REGION_WORDS = 3
_MAX_CITY_WORDS = 3
_MIN_STREET_WORDS = 2
_ANY_COUNTRY = "*"
_SEP = "\x1f"
# Postcodes as address_norm spells them (lower case; "-" kept between digits).
_SPACED = {  # two-word codes, matched on the two words run together
    "GB": r"^[a-z]{1,2}[0-9][a-z0-9]?[0-9][a-z]{2}$",
    "CA": r"^[a-z][0-9][a-z][0-9][a-z][0-9]$",
    "NL": r"^[0-9]{4}[a-z]{2}$",
}
_ZIP4 = r"^[0-9]{5}-?[0-9]{4}$"
# A country with no postcode rule: a plausible run of digits, maybe in two parts ("100-0001").
_OTHER = r"^(?:[0-9]{4,7}|[0-9]{2,5}-[0-9]{3,4})$"


def _mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _matches(values: pa.Array, pattern: str) -> np.ndarray:
    return _mask(pc.match_substring_regex(values, pattern))


def _postcode_words(
    last: pa.Array, pair: pa.Array, country: pa.Array, digits: dict[str, int]
) -> np.ndarray:
    """How many trailing words (0, 1 or 2) are a postcode valid for the row's country.

    ``last`` is the last word, ``pair`` the last two run together (null without two words).
    """
    unknown = _mask(pc.is_null(country))
    two = np.zeros(len(last), dtype=bool)
    one = np.zeros(len(last), dtype=bool)
    for code, pattern in _SPACED.items():
        mine = unknown | _mask(pc.equal(country, code))
        one |= mine & _matches(last, pattern)
        two |= mine & _matches(pair, pattern)
    # All-digit codes of the rules' countries: one test of the digits, then the length by country.
    codes = sorted(set(digits) | set(_SPACED))
    at = pc.fill_null(pc.index_in(country, value_set=pa.array(codes, STRING)), -1)
    at = at.to_numpy(zero_copy_only=False)
    size = np.array([digits.get(code, 0) for code in codes] + [0], dtype=np.int64)[at]
    length = pc.fill_null(pc.utf8_length(last), 0).to_numpy(zero_copy_only=False)
    one |= (size > 0) & (length == size) & _matches(last, "^[0-9]+$")
    us = _mask(pc.equal(country, "US"))
    one |= (us | unknown) & _matches(last, _ZIP4)
    other = ~unknown & (at < 0)  # a country without a rule (or none): any plausible code
    one |= (other | unknown) & _matches(last, _OTHER)
    return np.where(two, 2, np.where(one, 1, 0))


def fill_locality(records: pd.DataFrame, rules: NormalizeRules | None = None) -> pd.DataFrame:
    """``records`` with the city (and a missing postcode) of one-line addresses filled in.

    For rows whose ``city_norm`` is NA and whose ``address_norm`` ends in a recognised locality
    (see the module docstring), ``city_norm`` gets the city, ``postcode_norm`` and
    ``postcode_full`` the tail's postcode (normalized as the postcode column is) where they were
    NA, and ``address_norm`` keeps the words before the city. A row whose postcode column holds
    another postcode than its tail is left alone, and so are rows with a city. Returns a new
    frame; ``records`` is not changed.
    """
    compiled = address_rules(rules)
    city = as_array(records["city_norm"])
    address = as_array(records["address_norm"])
    country = as_array(records["country_code"])
    todo = np.flatnonzero(_mask(pc.is_null(city)) & _mask(pc.is_valid(address)))
    known = _mask(pc.is_valid(city))
    if not todo.size or not known.any():
        return records
    # The gazetteer: "<country>\x1f<city>" for every record with a city, and "*\x1f<city>".
    sep = pa.scalar(_SEP, STRING)
    space = pa.scalar(" ", STRING)
    known_city = city.filter(pa.array(known))
    gazetteer = pc.unique(
        pa.concat_arrays(
            [
                pc.binary_join_element_wise(country.filter(pa.array(known)), known_city, sep),
                pc.binary_join_element_wise(pa.scalar(_ANY_COUNTRY, STRING), known_city, sep),
            ]
        ).drop_null()
    )

    taken = pa.array(todo)
    row_country = country.take(taken)
    prefix = pc.fill_null(row_country, pa.scalar(_ANY_COUNTRY, STRING))
    words, counts = _words(address.take(taken))
    m = len(todo)
    ends = np.cumsum(counts)  # one past each row's last word
    has_digit = _matches(words, "[0-9]")
    street_type = _mask(
        pc.is_in(words, value_set=pa.array(sorted(set(compiled.words.values())), STRING))
    )
    nothing = pa.nulls(m, STRING)

    def at(back: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat index of each row's word ``back`` places from its end, and whether it has it."""
        ok = back < counts
        return np.where(ok, ends - 1 - back, 0), ok

    def word(back: np.ndarray, rows: np.ndarray | None = None) -> pa.Array:
        """Each row's (of ``rows``, default all) word ``back`` places from its end, or null."""
        if rows is not None:
            back = back[rows]
        ok = back < (counts if rows is None else counts[rows])
        if not len(words):
            return pa.nulls(len(back), STRING)
        flat = (ends if rows is None else ends[rows]) - 1 - back
        return pc.if_else(
            pa.array(ok), words.take(pa.array(np.where(ok, flat, 0))), pa.scalar(None, STRING)
        )

    zero = np.zeros(m, dtype=np.int64)
    last, before_last = word(zero), word(zero + 1)
    pair = pc.binary_join_element_wise(before_last, last, pa.scalar("", STRING))
    postcode_words = _postcode_words(last, pair, row_country, compiled.postcode_digits)

    # A city's first and last words are among those of known cities: a test per word, once.
    city_words, city_counts = _words(pc.unique(known_city))
    city_ends = np.cumsum(city_counts)
    firsts = city_words.take(pa.array(city_ends - city_counts))
    lasts = city_words.take(pa.array(city_ends - 1))
    may_start = _mask(pc.is_in(words, value_set=pc.unique(firsts)))
    may_end = _mask(pc.is_in(words, value_set=pc.unique(lasts)))

    found = np.zeros(m, dtype=bool)
    cut = np.zeros(m, dtype=np.int64)  # trailing words that leave the address
    found_city = nothing
    region_ok = np.ones(m, dtype=bool)
    region_ok_by_r = [region_ok]
    for r in range(1, _MAX_REGION_WORDS + 1):
        where, ok = at(postcode_words + r - 1)
        bad = has_digit[where] | (street_type[where] & (r > 1))
        region_ok = region_ok & ok & ~bad
        region_ok_by_r.append(region_ok)
    # The city that starts farthest from the end first; of two that start at one word, the longer
    # ("jakarta selatan dki jakarta": "jakarta selatan", not "jakarta" and a region "selatan dki").
    shapes = [(r, c) for r in range(_MAX_REGION_WORDS + 1) for c in range(1, _MAX_CITY_WORDS + 1)]
    for r, c in sorted(shapes, key=lambda shape: (-(shape[0] + shape[1]), -shape[1])):
        tail = postcode_words + r + c
        open_rows = (
            ~found
            & region_ok_by_r[r]
            & ((postcode_words > 0) | (r == 0))
            & (counts - tail >= _MIN_STREET_WORDS)
        )
        open_rows &= may_start[at(tail - 1)[0]] & may_end[at(postcode_words + r)[0]]
        rows = np.flatnonzero(open_rows)
        if not rows.size:
            continue
        name = word(tail - 1, rows)
        for j in range(c - 2, -1, -1):
            name = pc.binary_join_element_wise(name, word(postcode_words + r + j, rows), space)
        key = pc.binary_join_element_wise(prefix.take(pa.array(rows)), name, sep)
        hit = _mask(pc.is_in(key, value_set=gazetteer))
        if not hit.any():
            continue
        rows = rows[hit]
        found[rows] = True
        cut[rows] = tail[rows]
        found_city = scatter(m, rows, name.filter(pa.array(hit)), found_city)
    if not found.any():
        return records
    if compiled.city_prefix:
        # "... 88 kota semarang jawa tengah 50123": the city column says "semarang" (its "kota"
        # dropped), so a "kota" or "city of" just before the city goes with it.
        pattern = compiled.city_prefix + "$"
        one = word(cut)
        two = pc.binary_join_element_wise(word(cut + 1), one, space)
        longer = np.zeros(m, dtype=np.int64)
        for size, words_before in ((2, two), (1, one)):
            spaced = pc.binary_join_element_wise(words_before, pa.scalar("", STRING), space)
            more = found & (longer == 0) & (counts - cut - size >= _MIN_STREET_WORDS)
            longer = np.where(more & _matches(spaced, pattern), size, longer)
        cut = cut + longer

    # From here on only the rows a city was found for.
    hits = np.flatnonzero(found)
    picked = pa.array(hits)
    two_words = pc.binary_join_element_wise(before_last.take(picked), last.take(picked), space)
    tail_postcode = pc.if_else(
        pa.array(postcode_words[hits] == 2),
        two_words,
        pc.if_else(pa.array(postcode_words[hits] == 1), last.take(picked), nothing.take(picked)),
    )
    # The tail's postcode, normalized as the postcode column is.
    index = pd.RangeIndex(len(hits))
    normalized = _postcodes(
        from_arrow(tail_postcode, index), from_arrow(row_country.take(picked), index), compiled
    )
    new_norm = as_array(normalized["postcode_norm"])
    new_full = as_array(normalized["postcode_full"])
    rows = todo[hits]
    old_norm = as_array(records["postcode_norm"]).take(pa.array(rows))
    old_full = as_array(records["postcode_full"]).take(pa.array(rows))
    # A postcode column that says otherwise than the tail: the tail is not moved, nothing is lost.
    clash = _mask(pc.is_valid(new_norm)) & _mask(pc.is_valid(old_norm))
    clash &= ~_mask(pc.equal(old_norm, new_norm))
    found[hits[clash]] = False
    if not found.any():
        return records

    row = np.repeat(np.arange(m, dtype=np.int64), counts)
    first = ends - counts
    keep_word = (np.arange(len(words)) - first[row]) < (counts - np.where(found, cut, 0))[row]
    kept_counts = np.where(found, counts - cut, counts)
    offsets = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(kept_counts, out=offsets[1:])
    street = pc.binary_join(
        pa.LargeListArray.from_arrays(pa.array(offsets), words.filter(pa.array(keep_word))),
        space,
    )
    keep = pa.array(~clash)
    updates = {
        "address_norm": street.take(picked),
        "city_norm": found_city.take(picked),
        "postcode_norm": pc.coalesce(old_norm, new_norm),
        "postcode_full": pc.coalesce(old_full, new_full),
    }
    rows = rows[~clash]
    log.debug("locality read from the address tail of %d records", len(rows))
    out = records.copy(deep=False)
    for column, values in updates.items():
        whole = scatter(len(records), rows, values.filter(keep), as_array(records[column]))
        out[column] = from_arrow(whole, records.index).astype(records[column].dtype)
    return out
