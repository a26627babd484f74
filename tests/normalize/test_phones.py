"""Phone numbers to E.164 with the record's country as the default region."""

from __future__ import annotations

import pandas as pd
import pytest

from recon.normalize import normalize_phones
from recon.normalize import phones as phones_module


@pytest.mark.parametrize(
    ("phone", "country", "expected"),
    [
        ("+62 21 5551234", None, "+62215551234"),
        ("+62 21 5551234", "US", "+62215551234"),  # "+" wins over the record's country
        ("021-555-1234", "ID", "+62215551234"),
        ("021-555-1234", "Indonesia", "+62215551234"),
        ("(02) 9555 1234", "AU", "+61295551234"),
        ("(212) 555-0142", "US", "+12125550142"),  # fictional, possible: kept
        ("(212) 555-0142", "USA", "+12125550142"),
        ("+44 20 7946 0958", None, "+442079460958"),
        ("020 7946 0958", "UK", "+442079460958"),
        ("030 1234567", "DE", "+49301234567"),
        ("030/1234567", "Deutschland", "+49301234567"),
        ("030 1234567 ext. 12", "DE", "+49301234567"),  # extension dropped
        ("+1 212 555 0142 x204", None, "+12125550142"),
        ("09 555 1234", "NZ", "+6495551234"),
        ("021-5551234 / 0812-3456-789", "ID", "+62215551234"),  # first of several
        ("2125550142.0", "US", "+12125550142"),  # stored as a number by a spreadsheet
        ("021-555-1234", None, None),  # national format without a country: unknown region
        ("555 1234", "US", None),  # possible only locally: no area code
        ("12", "US", None),
        ("n/a", "US", None),
        ("", "US", None),
        (None, "US", None),
    ],
)
def test_normalize_phones(phone: str | None, country: str | None, expected: str | None) -> None:
    got = normalize_phones(pd.Series([phone], dtype="string"), pd.Series([country], dtype="string"))
    assert [None if pd.isna(v) else v for v in got] == [expected]


def test_without_countries_and_index_kept() -> None:
    got = normalize_phones(pd.Series(["+61 2 9555 1234", "02 9555 1234"], index=[4, 2]))
    assert got.index.tolist() == [4, 2]
    assert got.iloc[0] == "+61295551234" and pd.isna(got.iloc[1])


def test_libphonenumber_runs_once_per_distinct_number_and_country(monkeypatch) -> None:
    calls: list[tuple[str, str | None]] = []
    real = phones_module._e164

    def counting(text: str, region: str | None) -> str | None:
        calls.append((text, region))
        return real(text, region)

    monkeypatch.setattr(phones_module, "_e164", counting)
    phones = pd.Series(["(02) 9555 1234", "02 9555-1234", "02 9555 1234", None] * 500)
    countries = pd.Series(["AU", "Australia", "AU", "AU"] * 500)
    got = normalize_phones(phones, countries)
    assert set(got.dropna()) == {"+61295551234"}
    assert calls == [("0295551234", "AU")]
