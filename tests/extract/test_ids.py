"""Salesforce 15 → 18 character ids: published pairs, an independent oracle and properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from recon.extract.ids import salesforce_id18

# Pairs published with the algorithm: the first three are the Salesforce StackExchange examples
# ("How can I convert a 15 char Id value into an 18 char Id value?"), reused by many converters;
# 00558000001N0Ke is the salesforce_id_converter README example; the all-digit and single-capital
# ids are django-salesforce's test cases, where each capital's position is easy to check by hand.
KNOWN_PAIRS = [
    ("001A0000006Vm9r", "001A0000006Vm9rIAC"),
    ("003A0000005QB3A", "003A0000005QB3AIAW"),
    ("003A0000008qb1s", "003A0000008qb1sIAA"),
    ("00558000001N0Ke", "00558000001N0KeAAK"),
    ("00D50000000IZ3Z", "00D50000000IZ3ZEAW"),
    ("000000000000000", "000000000000000AAA"),
    ("00000000000000A", "00000000000000AAAQ"),
    ("0000A0000A0000A", "0000A0000A0000AQQQ"),
    ("000A0000A0000A0", "000A0000A0000A0III"),
    ("00A000000000000", "00A000000000000EAA"),
]

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
ids15 = st.text(alphabet=ID_CHARS, min_size=15, max_size=15)


def oracle(id15: str) -> str:
    """The algorithm written out character by character, as Salesforce documents it."""
    suffix = ""
    for block in range(3):
        bits = 0
        for i, char in enumerate(id15[block * 5 : block * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << i
        suffix += ALPHABET[bits]
    return id15 + suffix


def convert(*values: str | None) -> list[object]:
    return salesforce_id18(pd.Series(list(values), dtype="string")).tolist()


@pytest.mark.parametrize(("id15", "id18"), KNOWN_PAIRS)
def test_published_pairs(id15: str, id18: str) -> None:
    assert convert(id15) == [id18]
    assert oracle(id15) == id18


def test_18_character_ids_missing_values_and_non_ids_are_kept() -> None:
    assert convert("001A0000006Vm9rIAC", None, "abc", "006E200000aIb6-", "") == [
        "001A0000006Vm9rIAC",
        pd.NA,
        "abc",
        "006E200000aIb6-",
        "",
    ]


def test_result_keeps_index_name_and_text_dtype() -> None:
    values = pd.Series(["001A0000006Vm9r", None], index=[10, 20], name="Account ID", dtype="string")
    out = salesforce_id18(values)
    assert out.index.tolist() == [10, 20]
    assert out.name == "Account ID"
    assert out.dtype == "string"


def test_object_input_without_any_15_character_id() -> None:
    out = salesforce_id18(pd.Series(["x", None], dtype=object))
    assert out.tolist() == ["x", pd.NA]
    assert out.dtype == "string"


def test_a_large_column_matches_the_oracle() -> None:
    rng = np.random.default_rng(7)
    chars = np.array(list(ID_CHARS))
    values = ["".join(row) for row in rng.choice(chars, size=(20_000, 15))]
    assert salesforce_id18(pd.Series(values, dtype="string")).tolist() == [
        oracle(v) for v in values
    ]


@settings(max_examples=300)
@given(st.lists(ids15, min_size=1, max_size=50))
@example(["001A0000006Vm9r", "001a0000006vm9r"])
def test_matches_oracle_and_is_idempotent(values: list[str]) -> None:
    once = salesforce_id18(pd.Series(values, dtype="string"))
    assert once.tolist() == [oracle(v) for v in values]
    assert all(out[:15] == v for out, v in zip(once, values, strict=True))
    assert salesforce_id18(once).tolist() == once.tolist()


@settings(max_examples=300)
@given(ids15, ids15)
@example("001A0000006Vm9r", "001a0000006vm9r")
@example("0013000000ABCde", "0013000000abcDE")
def test_case_insensitively_equal_only_for_identical_ids(a: str, b: str) -> None:
    long_a, long_b = convert(a, b)
    assert (str(long_a).upper() == str(long_b).upper()) == (a == b)
