"""Tests for recon.extract.parse: one table of cases per format, and hypothesis round trips.

Every expected value is written out; a case fails if its format stops being read, or is read as a
different number or date.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from recon.extract.parse import (
    WHITESPACE,
    Parsed,
    detect_decimal,
    parse_amounts,
    parse_bools,
    parse_dates,
    parse_ids,
)
from recon.schema import AMOUNT_DTYPE, BOOL_DTYPE, DATE_DTYPE, TEXT_DTYPE

NBSP, NNBSP = "\u00a0", "\u202f"


def col(*values: str | None) -> pd.Series:
    return pd.Series(list(values), dtype=TEXT_DTYPE)


def amounts(result: Parsed) -> list[Decimal | None]:
    return [None if pd.isna(v) else Decimal(v) for v in result.values]


def dates(result: Parsed) -> list[dt.date | None]:
    return [None if pd.isna(v) else v.date() for v in result.values]


def reasons(result: Parsed) -> list[str | None]:
    return [None if pd.isna(r) else r for r in result.reason]


# --- shared behaviour -------------------------------------------------------------------------

PARSERS: dict[str, Callable[[pd.Series], Parsed]] = {
    "amounts": parse_amounts,
    "dates": parse_dates,
    "ids": parse_ids,
    "bools": parse_bools,
}


@pytest.mark.parametrize("name", PARSERS)
def test_blank_is_missing_not_bad(name: str) -> None:
    result = PARSERS[name](col("", "   ", None, f"{NBSP}\t", "\ufeff"))
    assert result.values.isna().all()
    assert not result.bad.any()
    assert result.reason.isna().all()


@pytest.mark.parametrize(
    ("name", "good", "bad", "dtype"),
    [
        ("amounts", "1.5", "??", AMOUNT_DTYPE),
        ("dates", "2026-12-31", "??", np.dtype(DATE_DTYPE)),
        ("ids", "A1", "1E+15", TEXT_DTYPE),
        ("bools", "yes", "??", pd.BooleanDtype()),
    ],
)
def test_result_keeps_index_and_dtypes(name: str, good: str, bad: str, dtype: object) -> None:
    values = pd.Series([good, bad, None], index=[10, 20, 30], dtype=TEXT_DTYPE, name="col")
    result = PARSERS[name](values)
    assert result.values.name == "col"
    for part in (result.values, result.bad, result.reason):
        assert list(part.index) == [10, 20, 30]
    assert result.values.dtype == dtype
    assert result.bad.dtype == bool
    assert result.reason.dtype == TEXT_DTYPE
    assert list(result.bad) == [False, True, False]
    assert result.n_bad == 1
    assert pd.isna(result.reason[10]) and pd.isna(result.reason[30])
    assert f"'{bad}' " in result.reason[20]


@pytest.mark.parametrize("name", PARSERS)
def test_empty_column(name: str) -> None:
    result = PARSERS[name](col())
    assert len(result.values) == len(result.bad) == len(result.reason) == 0
    assert result.note is None


def test_whitespace_covers_python_whitespace() -> None:
    python_ws = {chr(c) for c in range(0x110000) if chr(c).isspace()}
    assert python_ws <= set(WHITESPACE)
    assert BOOL_DTYPE == "boolean"


def test_long_values_are_shortened_in_reasons() -> None:
    result = parse_amounts(col("x" * 200))
    assert result.reason[0] == "'" + "x" * 59 + "…' is not an amount"


# --- amounts ----------------------------------------------------------------------------------

AMOUNT_CASES = [
    # (text, decimal setting, expected)
    ("1234.56", "auto", "1234.56"),
    ("1,234.56", "auto", "1234.56"),
    ("1.234,56", "auto", "1234.56"),
    ("1234,56", "auto", "1234.56"),
    ("1234,5", "auto", "1234.5"),
    ("1 234,56", "auto", "1234.56"),
    (f"1{NBSP}234,56", "auto", "1234.56"),
    (f"1{NNBSP}234,56", "auto", "1234.56"),
    ("1 234 567,89", "auto", "1234567.89"),
    ("1'234.56", "auto", "1234.56"),
    ("1’234.56", "auto", "1234.56"),
    ("CHF 1'234.50", "auto", "1234.5"),
    ("$1,234.56", "auto", "1234.56"),
    ("Rp 1.234.567", "auto", "1234567"),
    ("Rp. 1.234.567", "auto", "1234567"),
    ("IDR 1,000,000", "auto", "1000000"),
    ("€ 1.234,56", "auto", "1234.56"),
    ("1.234,56 €", "auto", "1234.56"),
    (f"1.234,56{NBSP}€", "auto", "1234.56"),
    ("AUD 99.90", "auto", "99.9"),
    ("99.90 AUD", "auto", "99.9"),
    ("(1,234.56)", "auto", "-1234.56"),
    ("($1,234.56)", "auto", "-1234.56"),
    ("$(1,234.56)", "auto", "-1234.56"),
    ("-1,234.56", "auto", "-1234.56"),
    ("-$1,234.56", "auto", "-1234.56"),
    ("$-1,234.56", "auto", "-1234.56"),
    ("USD -5", "auto", "-5"),
    ("−5", "auto", "-5"),  # U+2212 minus sign
    ("1,234.56-", "auto", "-1234.56"),
    ("1.234,56 €-", "auto", "-1234.56"),
    ("+5", "auto", "5"),
    ("0", "auto", "0"),
    ("-0", "auto", "0"),
    ("000123.4", "auto", "123.4"),
    (".5", "auto", "0.5"),
    ("1,23,456.78", "auto", "123456.78"),  # Indian lakh grouping
    ("12,34,56,789", "auto", "123456789"),
    ("1.5E+3", "auto", "1500"),
    ("2.5e-3", "auto", "0.0025"),
    ("1E3", "auto", "1000"),
    ("$ -", "auto", "0"),  # Excel accounting format for zero
    ("-", "auto", "0"),
    ("  42  ", "auto", "42"),
    # ambiguous on their own: '.' unless set
    ("1,234", "auto", "1234"),
    ("1.234", "auto", "1.234"),
    ("1,234", ".", "1234"),
    ("1,234", ",", "1.234"),
    ("1.234", ",", "1234"),
    ("1.234", ".", "1.234"),
    ("1234,5", ",", "1234.5"),
    ("0,123", "auto", "0.123"),  # a first group of 0 cannot be grouping
    # more than 4 decimals: rounded half-to-even
    ("0.30000000000000004", "auto", "0.3"),
    ("1.00005", "auto", "1.0000"),
    ("1.00015", "auto", "1.0002"),
    ("1.000050001", "auto", "1.0001"),
    ("-1.00005", "auto", "-1.0000"),
    ("-1.00015", "auto", "-1.0002"),
    ("2.00025", "auto", "2.0002"),
    ("1,2345678", ",", "1.2346"),
    ("1e-7", "auto", "0"),
    ("123456789012345678901234567890.12", "auto", "123456789012345678901234567890.12"),
]


@pytest.mark.parametrize(("text", "decimal", "expected"), AMOUNT_CASES)
def test_amount_formats(text: str, decimal: str, expected: str) -> None:
    result = parse_amounts(col(text), decimal)  # type: ignore[arg-type]
    assert reasons(result) == [None]
    assert amounts(result) == [Decimal(expected)]


BAD_AMOUNTS = [
    ("TBD", "auto", "'TBD' is not an amount"),
    ("USD", "auto", "'USD' is not an amount"),
    ("12 %", "auto", "'12 %' is not an amount"),
    ("(5", "auto", "'(5' is not an amount"),
    ("5)", "auto", "'5)' is not an amount"),
    ("(-5)", "auto", "'(-5)' is not an amount"),
    ("--5", "auto", "'--5' is not an amount"),
    ("-5-", "auto", "'-5-' is not an amount"),
    ("$5 €", "auto", "'$5 €' is not an amount"),
    ("USD 5 EUR", "auto", "'USD 5 EUR' is not an amount"),
    ("1,234.", "auto", "'1,234.' is not an amount"),
    (
        "1,23,4.5",
        "auto",
        "'1,23,4.5' is not a valid amount (check the digit grouping and separators)",
    ),
    (
        "1.2.3,4,5",
        "auto",
        "'1.2.3,4,5' is not a valid amount (check the digit grouping and separators)",
    ),
    (
        "01,234.5",
        "auto",
        "'01,234.5' is not a valid amount (check the digit grouping and separators)",
    ),
    ("1  234", "auto", "'1  234' is not a valid amount (check the digit grouping and separators)"),
    ("1e100", "auto", "'1e100' is not a valid amount (check the digit grouping and separators)"),
    (
        "1.234,56",
        ".",
        "'1.234,56' is not an amount with '.' as the decimal separator (csv.decimal)",
    ),
    (
        "1,234.56",
        ",",
        "'1,234.56' is not an amount with ',' as the decimal separator (csv.decimal)",
    ),
    ("9" * 31, "auto", f"'{'9' * 31}' is too large for an amount"),
]


@pytest.mark.parametrize(("text", "decimal", "reason"), BAD_AMOUNTS)
def test_bad_amounts(text: str, decimal: str, reason: str) -> None:
    result = parse_amounts(col(text), decimal)  # type: ignore[arg-type]
    assert list(result.bad) == [True]
    assert amounts(result) == [None]
    assert reasons(result) == [reason]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1.234,56"], ","),
        (["1234,5"], ","),
        (["1 234,56"], ","),
        (["Rp 1.234.567"], ","),  # two dots cannot be a decimal point
        (["1,234.56"], "."),
        (["1234.5"], "."),
        (["1,234,567"], "."),
        (["1'234.56"], "."),
        (["1,234"], None),
        (["1.234"], None),
        (["1234", "1 234", "-7"], None),
        ([], None),
        (["1.234", "1.234,56"], ","),
        (["1,234", "99.9"], "."),
        (["1.234,56", "9.876,54", "1,234.56"], ","),  # the majority
        (["1.234,56", "1,234.56"], None),  # a tie decides nothing
        (["TBD", None, ""], None),
    ],
)
def test_detect_decimal(values: list[str | None], expected: str | None) -> None:
    assert detect_decimal(col(*values)) == expected


def test_column_with_decimal_comma_reads_grouping_dots() -> None:
    """'1.234' is never 1.234 in a column that shows ',' as the decimal separator elsewhere."""
    result = parse_amounts(col("1.234", "5,50", "2.000.000"))
    assert amounts(result) == [Decimal(1234), Decimal("5.5"), Decimal(2000000)]
    assert result.note is not None
    assert result.note.startswith("decimal comma detected (e.g. '5,50'); 1 amount that could be")
    assert "(e.g. '1.234' is 1234)" in result.note


def test_undecided_column_reads_point_and_says_so() -> None:
    result = parse_amounts(col("1,234", "1.234", "7"))
    assert amounts(result) == [Decimal(1234), Decimal("1.234"), Decimal(7)]
    assert not result.bad.any()
    assert result.note is not None
    assert result.note.startswith("no amount shows the decimal separator; read with '.'")


def test_integers_alone_need_no_note() -> None:
    result = parse_amounts(col("1234", "1 234", "-7"))
    assert amounts(result) == [Decimal(1234), Decimal(1234), Decimal(-7)]
    assert result.note is None


def test_mixed_decimal_separators_minority_is_bad() -> None:
    result = parse_amounts(col("1.234,56", "2.000,00", "1,234.56", "1.234", "10"))
    assert amounts(result) == [Decimal("1234.56"), Decimal(2000), None, Decimal(1234), Decimal(10)]
    assert reasons(result) == [
        None,
        None,
        "'1,234.56' uses '.' as the decimal separator, but most amounts in this column use ','",
        None,
        None,
    ]
    assert result.note is not None
    assert (
        "mixed decimal separators: 1 amount written with '.' as the decimal separator marked bad"
        in result.note
    )


def test_decimal_separator_tie_marks_differing_values_bad() -> None:
    result = parse_amounts(col("1.234,56", "1,234.56", "1,000", "1000"))
    assert list(result.bad) == [True, True, True, False]
    assert amounts(result)[3] == Decimal(1000)
    tie = (
        "is ambiguous: this column uses '.' and ',' as the decimal separator equally often; "
        "set csv.decimal in recon.yaml"
    )
    assert reasons(result)[:3] == [f"'{v}' {tie}" for v in ("1.234,56", "1,234.56", "1,000")]
    assert result.note is not None and result.note.startswith("decimal separator undecided")


def test_amount_notes() -> None:
    result = parse_amounts(col("$1.00", "€2.00", "0.123456", "1.5E+3", "-"))
    assert result.note == (
        "1 amount in scientific notation read exactly; "
        "1 amount with more than 4 decimals rounded half-to-even (e.g. '0.123456'); "
        "currency markers ignored: $, €; "
        "'-' read as 0 (spreadsheet accounting format)"
    )


def test_explicit_decimal_ignores_column_votes() -> None:
    result = parse_amounts(col("1.234", "1,5"), decimal=".")
    assert amounts(result) == [Decimal("1.234"), None]


# Hypothesis: any amount with at most two decimals, written the way exports write it, reads back.

STYLES = {
    # name: (grouping, decimal separator)
    "1,234.56": (",", "."),
    "1.234,56": (".", ","),
    "1 234,56": (" ", ","),
    "1\u00a0234,56": (NBSP, ","),
    "1\u202f234,56": (NNBSP, ","),
    "1'234.56": ("'", "."),
    "1234.56": ("", "."),
    "1234,56": ("", ","),
}
CURRENCIES = ["", "$", "€ ", "USD ", "Rp ", " €", " IDR", " kr"]
NEGATIVES = ["-{}", "({})", "{}-"]

money = st.decimals(
    min_value=Decimal("-1e15"),
    max_value=Decimal("1e15"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)


def write(value: Decimal, style: str, currency: str, negative: str, decimals: bool = True) -> str:
    grouping, sep = STYLES[style]
    whole, frac = f"{abs(value):.2f}".split(".")
    body = f"{int(whole):,}".replace(",", grouping)
    if decimals:
        body += sep + frac
    body = currency + body if not currency.startswith(" ") else body + currency
    return negative.format(body) if value < 0 else body


@given(
    value=money,
    style=st.sampled_from(list(STYLES)),
    currency=st.sampled_from(CURRENCIES),
    negative=st.sampled_from(NEGATIVES),
)
@example(Decimal("-1234.56"), "1.234,56", "€ ", "({})")
@example(Decimal("0.05"), "1,234.56", "", "-{}")
@example(Decimal("1000000"), "1 234,56", " €", "-{}")
def test_amount_round_trip(value: Decimal, style: str, currency: str, negative: str) -> None:
    text = write(value, style, currency, negative)
    sep = STYLES[style][1]
    # With the separator given, and with auto: two written decimals always show the separator.
    for decimal in (sep, "auto"):
        result = parse_amounts(col(text), decimal)  # type: ignore[arg-type]
        assert amounts(result) == [value], (text, decimal, reasons(result))


@given(
    whole=st.lists(st.integers(min_value=-(10**12), max_value=10**12), min_size=1, max_size=20),
    decider=money,
    style=st.sampled_from(list(STYLES)),
)
def test_amount_column_round_trip(whole: list[int], decider: Decimal, style: str) -> None:
    """Whole amounts written without decimals (1.234) follow the column's one deciding value."""
    texts = [write(Decimal(v), style, "", "-{}", decimals=False) for v in whole]
    texts.append(write(decider, style, "", "-{}"))
    result = parse_amounts(col(*texts))
    assert amounts(result) == [Decimal(v) for v in whole] + [decider]


# --- dates ------------------------------------------------------------------------------------

DATE_CASES = [
    # (text, order, expected)
    ("2026-12-31", "auto", "2026-12-31"),
    ("2026-1-5", "auto", "2026-01-05"),
    ("2026-12-31T13:45:00", "auto", "2026-12-31"),
    ("2026-12-31T13:45:00.123456Z", "auto", "2026-12-31"),
    ("2026-12-31 13:45:00+07:00", "auto", "2026-12-31"),
    ("2026-12-31 23:30:00-05:00", "auto", "2026-12-31"),  # local date, not UTC's 2027-01-01
    ("2026-12-31 13:45", "auto", "2026-12-31"),
    ("2026/12/31", "auto", "2026-12-31"),
    ("2026.12.31", "auto", "2026-12-31"),
    ("20261231", "auto", "2026-12-31"),
    ("31/12/2026", "auto", "2026-12-31"),
    ("12/31/2026", "auto", "2026-12-31"),
    ("31.12.2026", "auto", "2026-12-31"),
    ("31-12-2026", "auto", "2026-12-31"),
    ("31/12/26", "auto", "2026-12-31"),
    ("31/12/69", "auto", "1969-12-31"),
    ("31/12/68", "auto", "2068-12-31"),
    ("12/31/2026 1:45 PM", "auto", "2026-12-31"),
    ("31/12/2026 23:59:59", "auto", "2026-12-31"),
    ("01/02/2026", "dmy", "2026-02-01"),
    ("01/02/2026", "mdy", "2026-01-02"),
    ("1/2/26", "mdy", "2026-01-02"),
    ("05/05/2026", "auto", "2026-05-05"),  # reads the same either way
    ("31-Dec-2026", "auto", "2026-12-31"),
    ("31-dec-26", "auto", "2026-12-31"),
    ("31 Dec 2026", "auto", "2026-12-31"),
    ("31 December 2026", "auto", "2026-12-31"),
    ("31st December 2026", "auto", "2026-12-31"),
    ("Dec 31, 2026", "auto", "2026-12-31"),
    ("December 31 2026", "auto", "2026-12-31"),
    ("Sept 30, 2026", "auto", "2026-09-30"),
    ("Thursday, December 31, 2026", "auto", "2026-12-31"),
    ("Thu, 31 Dec 2026 13:45:00 +0000", "auto", "2026-12-31"),
    ("31. Dezember 2026", "auto", "2026-12-31"),
    ("1. März 2026", "auto", "2026-03-01"),
    ("31 Desember 2026", "auto", "2026-12-31"),
    ("17 Agustus 1945", "auto", "1945-08-17"),
    ("1 Mei 2026", "auto", "2026-05-01"),
    ("29/02/2024", "auto", "2024-02-29"),
    ("2000-02-29", "auto", "2000-02-29"),
    (" 2026-12-31 ", "auto", "2026-12-31"),
]


@pytest.mark.parametrize(("text", "order", "expected"), DATE_CASES)
def test_date_formats(text: str, order: str, expected: str) -> None:
    result = parse_dates(col(text), order)  # type: ignore[arg-type]
    assert reasons(result) == [None]
    assert dates(result) == [dt.date.fromisoformat(expected)]
    assert result.values.dtype == np.dtype(DATE_DTYPE)
    assert (result.values.dt.normalize() == result.values).all()


BAD_DATES = [
    ("31/02/2026", "auto", "'31/02/2026' is not a valid date"),
    ("29/02/2025", "auto", "'29/02/2025' is not a valid date"),
    ("2026-13-01", "auto", "'2026-13-01' is not a valid date"),
    ("2026-02-29", "auto", "'2026-02-29' is not a valid date"),
    ("1900-02-29", "auto", "'1900-02-29' is not a valid date"),
    ("2026-04-31", "auto", "'2026-04-31' is not a valid date"),
    ("2026-00-10", "auto", "'2026-00-10' is not a valid date"),
    ("2026-12-31 25:00", "auto", "'2026-12-31 25:00' is not a valid date"),
    ("12/31/2026 13:45 PM", "auto", "'12/31/2026 13:45 PM' is not a valid date"),
    ("2026-12/31", "auto", "'2026-12/31' is not a date"),
    ("31/12-2026", "auto", "'31/12-2026' is not a date"),
    ("31 Foo 2026", "auto", "'31 Foo 2026' is not a valid date"),
    ("Dec 2026", "auto", "'Dec 2026' is not a date"),
    ("TBD", "auto", "'TBD' is not a date"),
    ("45658", "auto", "'45658' is a number, not a date"),
    ("9999-12-31", "auto", "'9999-12-31' is outside the dates recon can hold (1678-2261)"),
    ("0001-01-01", "auto", "'0001-01-01' is outside the dates recon can hold (1678-2261)"),
    (
        "31/04/2026",
        "dmy",
        "'31/04/2026' is not a valid date (read as day/month/year, dates.order: dmy)",
    ),
    (
        "13/02/2026",
        "mdy",
        "'13/02/2026' is not a valid date (read as month/day/year, dates.order: mdy)",
    ),
]


@pytest.mark.parametrize(("text", "order", "reason"), BAD_DATES)
def test_bad_dates(text: str, order: str, reason: str) -> None:
    result = parse_dates(col(text), order)  # type: ignore[arg-type]
    assert list(result.bad) == [True]
    assert dates(result) == [None]
    assert reasons(result) == [reason]


def test_ambiguous_date_column_is_not_guessed() -> None:
    result = parse_dates(col("01/02/2026", "03/04/2026", "05/05/2026", "2026-07-01"))
    assert dates(result) == [None, None, dt.date(2026, 5, 5), dt.date(2026, 7, 1)]
    assert reasons(result) == [
        "ambiguous date '01/02/2026': set dates.order to dmy or mdy in recon.yaml",
        "ambiguous date '03/04/2026': set dates.order to dmy or mdy in recon.yaml",
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("decider", "first", "words"),
    [
        ("31/12/2026", dt.date(2026, 2, 1), "day/month/year"),
        ("12/31/2026", dt.date(2026, 1, 2), "month/day/year"),
    ],
)
def test_one_deciding_date_settles_the_column(decider: str, first: dt.date, words: str) -> None:
    result = parse_dates(col("01/02/2026", decider))
    assert dates(result) == [first, dt.date(2026, 12, 31)]
    assert result.note == f"dates read as {words} (e.g. '{decider}')"


def test_date_order_minority_is_bad() -> None:
    result = parse_dates(col("31/12/2026", "30/11/2026", "01/02/2026", "12/31/2026"))
    assert dates(result) == [
        dt.date(2026, 12, 31),
        dt.date(2026, 11, 30),
        dt.date(2026, 2, 1),
        None,
    ]
    assert reasons(result)[3] == (
        "'12/31/2026' reads only as month/day/year, but most dates in this column are "
        "day/month/year"
    )
    assert result.note == (
        "dates read as day/month/year (e.g. '31/12/2026'); "
        "marked bad: 1 date readable only as month/day/year"
    )


def test_date_order_tie_marks_deciding_and_ambiguous_bad() -> None:
    result = parse_dates(col("31/12/2026", "12/31/2026", "01/02/2026", "05/05/2026"))
    assert list(result.bad) == [True, True, True, False]
    assert dates(result)[3] == dt.date(2026, 5, 5)
    assert reasons(result)[0] == (
        "ambiguous date '31/12/2026': this column has as many day-first as month-first dates; "
        "set dates.order to dmy or mdy in recon.yaml"
    )


def test_explicit_order_overrides_column_votes() -> None:
    result = parse_dates(col("01/02/2026", "31/12/2026"), order="mdy")
    assert dates(result) == [dt.date(2026, 1, 2), None]


EXCEL_SERIALS = [
    ("45658", dt.date(2025, 1, 1)),
    ("46022", dt.date(2025, 12, 31)),
    ("46022.5", dt.date(2025, 12, 31)),
    ("61", dt.date(1900, 3, 1)),
    ("59", dt.date(1900, 2, 28)),
    ("1", dt.date(1900, 1, 1)),
    ("25569", dt.date(1970, 1, 1)),
]


@pytest.mark.parametrize(("text", "expected"), EXCEL_SERIALS)
def test_excel_serials(text: str, expected: dt.date) -> None:
    result = parse_dates(col(text), excel_serial=True)
    assert reasons(result) == [None]
    assert dates(result) == [expected]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("60", "'60' is Excel's serial for 29 February 1900, a day that never existed"),
        ("0", "'0' is outside the Excel date serials recon reads (1 to 132219)"),
        ("2958465", "'2958465' is outside the Excel date serials recon reads (1 to 132219)"),
    ],
)
def test_bad_excel_serials(text: str, reason: str) -> None:
    result = parse_dates(col(text), excel_serial=True)
    assert reasons(result) == [reason]


def test_excel_serials_and_text_dates_mix() -> None:
    result = parse_dates(col("45658", "2026-12-31", "20261231"), excel_serial=True)
    assert dates(result) == [dt.date(2025, 1, 1), dt.date(2026, 12, 31), dt.date(2026, 12, 31)]
    assert result.note == "1 Excel date serial converted"


def test_user_formats_are_tried_first() -> None:
    result = parse_dates(
        col("31|12|2026 23h", "01/02/2026", "2026-12-31", "nope"),
        formats=["%d|%m|%Y %Hh", "%m/%d/%Y"],
    )
    # 01/02/2026 is not ambiguous here: the configured pattern reads it first.
    assert dates(result) == [
        dt.date(2026, 12, 31),
        dt.date(2026, 1, 2),
        dt.date(2026, 12, 31),
        None,
    ]
    assert reasons(result)[3] == "'nope' is not a date"


def test_user_format_with_mixed_offsets_keeps_local_date() -> None:
    result = parse_dates(
        col("31|12|2026 23:30 +0700", "31|12|2026 23:30 -0500"), formats=["%d|%m|%Y %H:%M %z"]
    )
    assert dates(result) == [dt.date(2026, 12, 31), dt.date(2026, 12, 31)]


def test_two_digit_year_note() -> None:
    assert parse_dates(col("31/12/26")).note == (
        "dates read as day/month/year (e.g. '31/12/26'); two-digit years read as 1969-2068"
    )


# Hypothesis: any date 1950-2100, written in each format, reads back under the matching order.

DATE_WRITERS: dict[str, tuple[Callable[[dt.date], str], str]] = {
    "iso": (lambda d: d.isoformat(), "auto"),
    "iso slash": (lambda d: d.strftime("%Y/%m/%d"), "auto"),
    "iso time": (lambda d: d.strftime("%Y-%m-%dT23:59:59"), "auto"),
    "iso offset": (lambda d: d.strftime("%Y-%m-%d 23:30:00-05:00"), "auto"),
    "compact": (lambda d: d.strftime("%Y%m%d"), "auto"),
    "dd/mm/yyyy": (lambda d: d.strftime("%d/%m/%Y"), "dmy"),
    "dd.mm.yyyy": (lambda d: d.strftime("%d.%m.%Y"), "dmy"),
    "dd-mm-yyyy": (lambda d: d.strftime("%d-%m-%Y"), "dmy"),
    "d/m/yyyy": (lambda d: f"{d.day}/{d.month}/{d.year}", "dmy"),
    "mm/dd/yyyy": (lambda d: d.strftime("%m/%d/%Y"), "mdy"),
    "m/d/yyyy h:mm AM": (lambda d: f"{d.month}/{d.day}/{d.year} 9:05 AM", "mdy"),
    "dd-Mon-yyyy": (lambda d: d.strftime("%d-%b-%Y"), "auto"),
    "Mon dd, yyyy": (lambda d: d.strftime("%b %d, %Y"), "auto"),
    "dd Month yyyy": (lambda d: d.strftime("%d %B %Y"), "auto"),
    "Month d, yyyy": (lambda d: f"{d:%B} {d.day}, {d.year}", "auto"),
    "Weekday, Month dd, yyyy": (lambda d: d.strftime("%A, %B %d, %Y"), "auto"),
}
SHORT_YEAR_WRITERS: dict[str, tuple[Callable[[dt.date], str], str]] = {
    "dd/mm/yy": (lambda d: d.strftime("%d/%m/%y"), "dmy"),
    "mm/dd/yy": (lambda d: d.strftime("%m/%d/%y"), "mdy"),
    "dd-Mon-yy": (lambda d: d.strftime("%d-%b-%y"), "auto"),
}


@given(
    day=st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 12, 31)),
    writer=st.sampled_from(list(DATE_WRITERS)),
)
@example(dt.date(2000, 2, 29), "dd/mm/yyyy")
@example(dt.date(2100, 12, 31), "mm/dd/yyyy")
def test_date_round_trip(day: dt.date, writer: str) -> None:
    write_date, order = DATE_WRITERS[writer]
    result = parse_dates(col(write_date(day)), order)  # type: ignore[arg-type]
    assert dates(result) == [day], (write_date(day), reasons(result))


@given(
    day=st.dates(min_value=dt.date(1969, 1, 1), max_value=dt.date(2068, 12, 31)),
    writer=st.sampled_from(list(SHORT_YEAR_WRITERS)),
)
def test_two_digit_year_round_trip(day: dt.date, writer: str) -> None:
    write_date, order = SHORT_YEAR_WRITERS[writer]
    result = parse_dates(col(write_date(day)), order)  # type: ignore[arg-type]
    assert dates(result) == [day], write_date(day)


@given(
    days=st.lists(
        st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 12, 31)), max_size=20
    ),
    decider=st.dates(min_value=dt.date(1950, 1, 13), max_value=dt.date(2100, 12, 31)).filter(
        lambda d: d.day > 12
    ),
    order=st.sampled_from(["dmy", "mdy"]),
)
def test_date_column_order_detected(days: list[dt.date], decider: dt.date, order: str) -> None:
    """With one value whose day is over 12, ``auto`` reads every date of the column right."""
    pattern = "%d/%m/%Y" if order == "dmy" else "%m/%d/%Y"
    result = parse_dates(col(*(d.strftime(pattern) for d in [*days, decider])))
    assert dates(result) == [*days, decider]


# --- ids --------------------------------------------------------------------------------------

ID_CASES = [
    ("00123", "00123"),
    ("  00123  ", "00123"),
    (f"{NBSP}A-7 / b{NBSP}", "A-7 / b"),
    ("12345.0", "12345"),
    ("0012.0", "0012"),
    ("12345.00", "12345.00"),
    ("12345.5", "12345.5"),
    ("1.0.0", "1.0.0"),
    ("A12345.0", "A12345.0"),
    ("10E5", "10E5"),  # no signed exponent: a code, not a spreadsheet number
    ("0015g00000ABCdE", "0015g00000ABCdE"),
]


@pytest.mark.parametrize(("text", "expected"), ID_CASES)
def test_ids(text: str, expected: str) -> None:
    result = parse_ids(col(text))
    assert list(result.values) == [expected]
    assert not result.bad.any()


@pytest.mark.parametrize("text", ["1.23457E+15", "1.2e+15", "1,23457E+15", "4E+11", "1.5E-05"])
def test_ids_in_scientific_notation_are_bad(text: str) -> None:
    result = parse_ids(col(text))
    assert list(result.bad) == [True]
    assert result.values.isna().all()
    assert reasons(result) == [
        f"id '{text}' was converted to a number in scientific notation by a spreadsheet; "
        "export the column as text"
    ]


def test_ids_float_zero_note() -> None:
    result = parse_ids(col("12345.0", "678.0", "9"))
    assert result.note == "2 ids written as floats lost their '.0' (e.g. '12345.0')"


id_text = st.text(
    alphabet=st.sampled_from([*"0123456789.eE+-,aZ_/ ", *WHITESPACE]), max_size=20
) | st.text(max_size=20)


@given(st.lists(id_text, max_size=20))
@example(["0012.0", " 007 ", "1.2e+15", "\ufeff42", "\x1c5\x85"])
def test_parse_ids_idempotent_and_keeps_digits(texts: list[str]) -> None:
    first = parse_ids(col(*texts))
    again = parse_ids(first.values)
    assert again.values.equals(first.values)
    assert not again.bad.any()
    for text, out in zip(texts, first.values, strict=True):
        stripped = text.strip(WHITESPACE)
        if pd.isna(out):
            assert stripped == "" or re.fullmatch(r"[-+]?\d+([.,]\d+)?[eE][-+]\d+", stripped)
        elif re.fullmatch(r"[0-9]+\.0", stripped):
            assert out == stripped[:-2]
        else:
            assert out == stripped


# --- booleans ---------------------------------------------------------------------------------

TRUE_WORDS = ["true", "TRUE", "True", "t", "T", "yes", "Yes", "Y", "y", "1", "1.0", "x", "X"]
TRUE_WORDS += ["ja", "Ja", "JA", "wahr", "ya", "Ya", "benar", " yes "]
FALSE_WORDS = ["false", "FALSE", "f", "F", "no", "No", "N", "n", "0", "0.0"]
FALSE_WORDS += ["nein", "Nein", "falsch", "tidak", "Tidak", "salah"]


def test_bools() -> None:
    result = parse_bools(col(*TRUE_WORDS, *FALSE_WORDS))
    assert list(result.values) == [True] * len(TRUE_WORDS) + [False] * len(FALSE_WORDS)
    assert not result.bad.any()
    assert result.values.dtype == pd.BooleanDtype()


@pytest.mark.parametrize("text", ["maybe", "2", "yes!", "oui", "-1", "nope"])
def test_bad_bools(text: str) -> None:
    result = parse_bools(col(text))
    assert list(result.bad) == [True]
    assert result.values.isna().all()
    assert reasons(result) == [f"'{text}' is not a yes/no value"]


# --- currencies without minor units -------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "currency", "expected"),
    [
        (["Rp 1.000", "1,234.56"], None, [Decimal(1000), Decimal("1234.56")]),
        (["1.000", "1,234.56"], ["IDR", "USD"], [Decimal(1000), Decimal("1234.56")]),
        (["1,000", "2.50"], ["jpy", "USD"], [Decimal(1000), Decimal("2.5")]),
        (["₩ 12.500", "7"], None, [Decimal(12500), Decimal(7)]),
        # Grouped by '.' in rupiah, by ',' in dollars: no tie, both whole numbers as written.
        (["Rp 1.234.567", "$1,234.56"], None, [Decimal(1234567), Decimal("1234.56")]),
        # Not thousands groups: read as the column reads them.
        (["IDR 112321645.00", "1.5"], None, [Decimal(112321645), Decimal("1.5")]),
    ],
)
def test_whole_unit_currencies_read_groups_of_three_as_thousands(
    values: list[str], currency: list[str] | None, expected: list[Decimal]
) -> None:
    result = parse_amounts(col(*values), currency=None if currency is None else col(*currency))
    assert amounts(result) == expected
    assert not result.bad.any()


def test_whole_unit_reading_is_noted_with_an_example() -> None:
    result = parse_amounts(col("Rp 1.000", "10.50", "3.25"))
    assert result.note is not None
    assert (
        "1 amount in a currency without minor units read with '.' as the thousands separator "
        "(e.g. 'Rp 1.000' is 1000)"
    ) in result.note


def test_a_dollar_1_000_is_still_read_by_the_column() -> None:
    """Only a whole-unit currency turns '1.000' into a thousand; the note says how it was read."""
    result = parse_amounts(col("1.000", "10.50", "3.25"), currency=col("USD", "USD", "USD"))
    assert amounts(result) == [Decimal(1), Decimal("10.5"), Decimal("3.25")]
    assert result.note is not None
    assert "1 amount that could be read two ways read with '.' as the decimal separator" in (
        result.note
    )
    assert "(e.g. '1.000' is 1.000)" in result.note
