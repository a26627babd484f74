"""What a company name holds besides the name: duplicate markers, a second name, a web domain.

- **Duplicate markers** (rules/normalize.yaml ``duplicate_markers``): "ACME PTY LTD *DUPLICATE*",
  "ZZ Acme", "OLD - Acme", "Acme (2)", "Acme Ltd (USD)". Removed before legal forms are, so the
  legal form they hide is still found; kept as written.
- **A second name** (``second_names``): "X T/A Y", "X ATF Y", "X (formerly Y)". The first part
  stays the name: it is usually the legal entity and carries the legal form. The second part is
  returned apart, to be normalized the same way.
- **A web domain as the name** ("mulyabangun.co.id", "www.acme.com.au"): HubSpot names a company
  after the domain of a contact's e-mail. The name becomes the domain's registrable label with
  hyphens as spaces ("mulyabangun"), and the registrable domain is returned.

One RE2 pattern finds, in one pass over the distinct names, the few that may hold any of the
three; only those are taken apart, with RE2 patterns too (Arrow's ``extract_regex``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.normalize.kernels import STRING, as_array, scatter, where_some

if TYPE_CHECKING:
    from recon.normalize.names import NameRules
    from recon.normalize.rules import NormalizeRules

# Brackets and asterisks that enclose a marker: "(OLD)", "[DNU]", "*DUPLICATE*", "<INACTIVE>".
_OPEN = r"[(\[{<*]+"
_CLOSE = r"[)\]}>*]+"
_NOT_CLOSE = r"[^)\]}>*]"
# A dash with a space on at least one side, doubled dashes, a colon or a bar: "Acme - OLD",
# "OLD: Acme", "Acme -- CLOSED". A hyphen inside a word ("Old-Fashioned") sets nothing off.
_SET_OFF = r"(?:\s*[:|]+\s*|\s*[-–—~=]{2,}\s*|\s+[-–—~=]\s*|\s*[-–—~=]\s+)"
# What may separate a plain first or last marker word from the name.
_PLAIN_START = r"(?:\s+|\s*[_.:|]\s*|" + _SET_OFF + ")"
_PLAIN_END = r"(?:\s+|\s*[_.,:|/]\s*|" + _SET_OFF + ")"
_TRAILING = r"[\s.!*\-]*"
_NEVER = r"[^\s\S]"  # matches nothing (RE2 has no "(?!)")
# A hostname, maybe with a scheme, "www." or a final slash: the whole name, no spaces.
_HOST_LIKE = r"^\s*(?:https?://)?[\pL\pN_-]+(?:\.[\pL\pN_-]+)+/?\s*$"


def _phrase(text: str) -> str:
    """A rule word as a pattern that ignores case, dots, apostrophes and the space or punctuation
    between its words: "do not use" also finds "DO-NOT-USE" and "DONOTUSE", "a.k.a." "aka"."""
    words = [w for w in re.split(r"[\s.]+", text.strip().lower()) if w]
    out = []
    for word in words:
        chars = []
        for ch in word:
            if ch in "'’":
                chars.append("['’]?")
            elif ch == "/":
                chars.append(r"\s*/\s*")
            else:
                chars.append(re.escape(ch) + r"\.?")
        out.append("".join(chars))
    return r"[\s._-]*".join(out)


def _any(texts: list[str] | tuple[str, ...]) -> str:
    """One alternation of rule words, longest first (so "dupe" is tried before "dup")."""
    phrases = sorted({_phrase(t) for t in texts if t.strip()}, key=lambda p: (-len(p), p))
    return "(?:" + "|".join(phrases) + ")" if phrases else _NEVER


@dataclass(frozen=True)
class PartRules:
    """The RE2 patterns of the name rules, built once per rules object."""

    any_part: str  # the names that may hold any of the three (one pass over all names)
    # Each as (a quick test, the pattern with groups): extracting groups is many times slower
    # than testing, so only the values the test finds are taken apart.
    start: tuple[str, str]  # groups marker, rest
    end: tuple[str, str]  # groups rest, marker
    enclosed: tuple[str, str]  # groups before, marker, after
    keep_start: str  # names whose start is no marker ("ZZ Top ...")
    keep_end: str
    bracketed: tuple[str, str]  # groups name, alt, tail
    joined: tuple[str, str]  # groups name, alt


def part_rules(rules: NormalizeRules) -> PartRules:
    marks = rules.text.duplicate_markers
    every = _any((*marks.words, *marks.start_words, *marks.end_words))
    number = rf"[0-9]{{1,{marks.number_digits}}}" if marks.number_digits else _NEVER
    currency = _any(tuple(c.lower() for c in marks.currencies))
    # Enclosed: a listed word, a copy number or a currency code; or a longer note that opens
    # with an end word ("(DUPLICATE OF C1234)").
    enclosed = (
        rf"{_OPEN}\s*(?:{every}|#?\s*{number}|{currency}"
        rf"|{_any(marks.end_words)}(?:[^\pL\pN)\]}}>*]{_NOT_CLOSE}*)?)\s*{_CLOSE}"
    )
    start = rf"(?:{enclosed}|{every}{_SET_OFF}|{_any(marks.start_words)}{_PLAIN_START})"
    end = (
        rf"(?:{enclosed}|{_SET_OFF}(?:{every}|#?\s*{number}|{currency})|\s*#\s*{number}"
        rf"|{_PLAIN_END}{_any(marks.end_words)})"
    )
    connectors = _any(rules.text.second_names.connectors)
    kept = _any(marks.not_markers).replace(r"[\s._-]*", r"[^\pL\pN]+")
    word = r"[\pL\pN]"  # a letter or digit: what must be left of a name
    return PartRules(
        any_part=(
            rf"(?is)(?:^\s*{start}|{end}{_TRAILING}$|{enclosed}"
            rf"|(?:\s|[(\[])(?:{connectors})(?:[\s:.,]|$)|{_HOST_LIKE})"
        ),
        start=(
            rf"(?is)^\s*{start}.*{word}",
            rf"(?is)^(?P<marker>\s*{start})(?P<rest>.*{word}.*)$",
        ),
        end=(
            rf"(?is){word}.*{end}{_TRAILING}$",
            rf"(?is)^(?P<rest>.*?{word}.*?)(?P<marker>{end}){_TRAILING}$",
        ),
        enclosed=(
            rf"(?is){enclosed}",
            rf"(?is)^(?P<before>.*?)(?P<marker>{enclosed})(?P<after>.*)$",
        ),
        keep_start=rf"(?is)^[^\pL\pN]*{kept}(?:[^\pL\pN]|$)",
        keep_end=rf"(?is)(?:^|[^\pL\pN]){kept}[^\pL\pN]*$",
        bracketed=(
            rf"(?is){word}.*[(\[]\s*(?:{connectors})[\s:.,]",
            rf"(?is)^(?P<name>.*?{word}.*?)\s*[(\[]\s*(?:{connectors})[\s:.,]+"
            rf"(?P<alt>[^)\]]*{word}[^)\]]*)[)\]]?(?P<tail>.*)$",
        ),
        joined=(
            rf"(?is){word}.*\s(?:{connectors})[\s:.,]",
            rf"(?is)^(?P<name>.*?{word}.*?)[\s,;:\-–—]*\s(?:{connectors})[\s:.,]+"
            rf"(?P<alt>.*{word}.*)$",
        ),
    )


def _mask(values: pa.Array) -> np.ndarray:
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


def _extract(
    arr: pa.Array, pattern: tuple[str, str], skip: np.ndarray | None = None
) -> tuple[np.ndarray, pa.StructArray]:
    """The rows where ``pattern`` matches (less ``skip``), and its groups there."""
    quick, full = pattern
    hit = _mask(pc.match_substring_regex(arr, quick))
    if skip is not None:
        hit &= ~skip
    rows = np.flatnonzero(hit)
    found = pc.extract_regex(arr.take(pa.array(rows)), full)
    ok = _mask(pc.is_valid(found))
    return rows[ok], found.filter(pa.array(ok))


def _put(base: pa.Array, rows: np.ndarray, values: pa.Array) -> pa.Array:
    return scatter(len(base), rows, values, base)


_SPACE = pa.scalar(" ", STRING)


def _join(a: pa.Array, b: pa.Array) -> pa.Array:
    """``a`` and ``b`` joined by a space; a null side is left out, both null give null.

    (Arrow's own ``null_handling="skip"`` returns an empty array when every value is null.)
    """
    both = pc.binary_join_element_wise(pc.fill_null(a, ""), pc.fill_null(b, ""), _SPACE)
    none = pc.and_(pc.is_null(a), pc.is_null(b))
    return pc.if_else(none, pa.scalar(None, STRING), pc.utf8_trim_whitespace(both))


# --- duplicate markers ------------------------------------------------------------------------

# Markers stack ("ZZ Acme (OLD) - 2"): each round removes one at each end, until none is left.
_MAX_ROUNDS = 4


def strip_markers(names: pa.Array, parts: PartRules) -> tuple[pa.Array, pa.Array]:
    """Each name without its duplicate markers, and the markers as written (null for none).

    Never leaves a name without a letter or digit: "(OLD)" alone is a name.
    """
    text = as_array(names)
    none = pa.nulls(len(text), STRING)
    head, middle, tail = none, none, none
    keep_start = _mask(pc.match_substring_regex(text, parts.keep_start))
    keep_end = _mask(pc.match_substring_regex(text, parts.keep_end))
    for _ in range(_MAX_ROUNDS):
        rows, found = _extract(text, parts.start, keep_start)
        text = _put(text, rows, pc.struct_field(found, "rest"))
        head = _put(head, rows, _join(head.take(pa.array(rows)), _marker(found)))
        more, found = _extract(text, parts.end, keep_end)
        text = _put(text, more, pc.struct_field(found, "rest"))
        # End markers are found from the outside in: each goes before those found already.
        tail = _put(tail, more, _join(_marker(found), tail.take(pa.array(more))))
        if not (rows.size or more.size):
            break
    for _ in range(_MAX_ROUNDS):
        rows, found = _extract(text, parts.enclosed)
        rest = _join(pc.struct_field(found, "before"), pc.struct_field(found, "after"))
        ok = _mask(pc.match_substring_regex(rest, r"[\pL\pN]"))
        if not ok.any():
            break
        rows, keep = rows[ok], pa.array(ok)
        text = _put(text, rows, rest.filter(keep))
        middle = _put(middle, rows, _join(middle.take(pa.array(rows)), _marker(found).filter(keep)))
    return pc.utf8_trim_whitespace(text), _join(_join(head, middle), tail)


def _marker(found: pa.StructArray) -> pa.Array:
    """The marker as written, less what joined it to the name ("Acme Inc. DUPLICATE"); a dash
    or colon that sets it off is kept ("OLD -", "- 2")."""
    return pc.utf8_trim(pc.struct_field(found, "marker"), " \t.,;_/|")


# --- second names -----------------------------------------------------------------------------


def split_second_names(names: pa.Array, parts: PartRules) -> tuple[pa.Array, pa.Array]:
    """Each name as its first name and its second name (null for none). "X (formerly Y) Ltd":
    the bracket is the second name, the rest the first."""
    text = as_array(names)
    second = pa.nulls(len(text), STRING)
    rows, found = _extract(text, parts.bracketed)
    text = _put(text, rows, _join(pc.struct_field(found, "name"), pc.struct_field(found, "tail")))
    second = _put(second, rows, pc.struct_field(found, "alt"))
    done = np.zeros(len(text), dtype=bool)
    done[rows] = True
    rows, found = _extract(text, parts.joined, done)
    text = _put(text, rows, pc.struct_field(found, "name"))
    second = _put(second, rows, pc.struct_field(found, "alt"))
    return pc.utf8_trim_whitespace(text), pc.utf8_trim_whitespace(second)


# --- names that are web domains ---------------------------------------------------------------


def domain_names(names: pa.Array, compiled: NameRules, rules: NormalizeRules) -> pa.Array:
    """The registrable domain of each name that is a web domain, else null.

    A host whose public suffix is one label that is also a legal form ("Acme.Ltd", "Acme.Inc":
    real top-level domains, but far more often a missing space) is read as a name, unless the
    suffix is one of ``generic_country_domains`` (".co", ".io"), which companies use worldwide.
    """
    from recon.normalize.domains import domain_from_website

    arr = as_array(names)
    rows = np.flatnonzero(_mask(pc.match_substring_regex(arr, _HOST_LIKE)))
    if not rows.size:
        return pa.nulls(len(arr), STRING)
    hosts = pd.Series(pd.arrays.ArrowStringArray(arr.take(pa.array(rows))))
    found = as_array(domain_from_website(hosts).array)
    suffix = [d.rpartition(".")[2] if d else None for d in found.to_pylist()]
    legal = set(compiled.variant_code) - set(rules.text.generic_country_domains)
    word = [compiled.abbreviations.get(s, s) if s else None for s in suffix]
    plain = [w is not None and w not in legal for w in word]
    found = pc.if_else(pa.array(plain), found, pa.scalar(None, STRING))
    return scatter(len(arr), rows, found)


def domain_label(domains: pa.Array) -> pa.Array:
    """The first label of each registrable domain, hyphens as spaces: "bright-water.com.au" →
    "bright water"."""
    first = pc.list_element(pc.split_pattern(as_array(domains), ".", max_splits=1), 0)
    return pc.replace_substring(first, "-", " ")


# --- all three --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NameParts:
    """The names taken apart: ``text`` is every name as it is to be normalized; ``rows`` are the
    names that held a marker, a second name or a domain, and ``marker``, ``alt`` (the second
    name, as typed) and ``domain`` hold what was found, one value per row of ``rows``."""

    text: pa.Array
    rows: np.ndarray
    marker: pa.Array
    alt: pa.Array
    domain: pa.Array


def take_apart(names: pa.Array, compiled: NameRules, rules: NormalizeRules) -> NameParts:
    """Markers removed first, so the legal form or domain they hide is found; a name that is a
    domain read as its label; then a second name split off."""
    from recon.normalize.names import cached_for

    parts = cached_for(rules, "name_parts", part_rules)
    arr = as_array(names)
    # One pass over every name; the few it finds go through each step.
    rows = np.flatnonzero(_mask(pc.match_substring_regex(arr, parts.any_part)))
    some = arr.take(pa.array(rows))
    some, marker = strip_markers(some, parts)
    domain = domain_names(some, compiled, rules)
    some = where_some(some, _mask(pc.is_valid(domain)), domain_label, domain)
    some, alt = split_second_names(some, parts)
    text = scatter(len(arr), rows, some, arr) if rows.size else arr
    return NameParts(text=text, rows=rows, marker=marker, alt=alt, domain=domain)
