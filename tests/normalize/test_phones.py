"""Phone numbers to E.164 with the record's country as the default region."""

from __future__ import annotations

import random

import pandas as pd
import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from recon.normalize import normalize_phones, to_country_code
from recon.normalize import phones as phones_module
from recon.sampledata import generate

REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)


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
        ("62614495418", "ID", "+62614495418"),  # international form without "+": code once
        ("62 21 5551234", "Indonesia", "+62215551234"),
        ("0614495418", "ID", "+62614495418"),
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


def test_libphonenumber_reads_only_what_the_fast_path_leaves_once_each(monkeypatch) -> None:
    calls: list[tuple[str, str | None]] = []
    real = phones_module._e164

    def counting(text: str, region: str | None) -> str | None:
        calls.append((text, region))
        return real(text, region)

    monkeypatch.setattr(phones_module, "_e164", counting)
    phones = pd.Series(
        ["(02) 9555 1234", "02 9555-1234", "02 9555 1234", "0011 61 2 9555 1234", None] * 500
    )
    countries = pd.Series(["AU", "Australia", "AU", "AU", "AU"] * 500)
    got = normalize_phones(phones, countries)
    assert set(got.dropna()) == {"+61295551234"}
    # Digits in the default region are read without libphonenumber; an international dialling
    # prefix ("0011") is left to it, once per distinct (number, region).
    assert calls == [("001161295551234", "AU")]  # spacing dropped first, as before


# --- the fast path gives what libphonenumber gives -----------------------------------------


def oracle(phones: pd.Series, countries: pd.Series) -> list[str | None]:
    """libphonenumber on every value, one by one: what normalize_phones did before its fast path,
    plus recon's one rule on top (``_international_without_plus``)."""
    text = phones_module._clean(phones.astype("string[pyarrow]"))
    region = to_country_code(countries)
    out = []
    for t, r in zip(text, region, strict=True):
        r = str(r) if pd.notna(r) and str(r) in REGIONS else None
        found = None if pd.isna(t) else phones_module._e164(str(t), r)
        out.append(_international_without_plus(None if pd.isna(t) else str(t), r, found))
    return out


def _international_without_plus(text: str | None, region: str | None, found: str | None):
    """Plain digits that start with the country code, in a region whose home numbers start with
    the trunk "0", are read as international when libphonenumber kept the code twice."""
    if text is None or found is None or region is None or not text.isdigit():
        return found
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    code = str(meta.country_code)
    if meta.national_prefix != "0" or not found.startswith(f"+{code}{code}"):
        return found
    if not text.startswith(code):
        return found
    return phones_module._e164("+" + text, None) or found


def values(series: pd.Series) -> list[str | None]:
    return [None if pd.isna(v) else v for v in series]


@pytest.fixture(scope="module")
def sample_phones() -> pd.DataFrame:
    """Phones of generated CRM and ERP records (their formats mimic real exports)."""
    tables = generate(3000, seed=11).tables
    return pd.concat(
        [tables[t][["phone", "country"]] for t in ("crm_companies", "erp_customers")],
        ignore_index=True,
    )


def test_generated_phones_match_libphonenumber(sample_phones: pd.DataFrame) -> None:
    phones, countries = sample_phones["phone"], sample_phones["country"]
    got = normalize_phones(phones, countries)
    assert values(got) == oracle(phones, countries)
    assert got.notna().mean() > 0.5  # the sample has numbers, not only blanks


def _random_numbers(count: int, seed: int) -> tuple[list[str], list[str | None]]:
    """Numbers in every region: with "+", "00", a trunk 0, the country code without "+", too
    short or too long, spaced, bracketed, slashed, with extensions or a spreadsheet's ".0"."""
    rng = random.Random(seed)
    regions = [*sorted(REGIONS), None, "ZZ"]
    codes = sorted(str(c) for c in COUNTRY_CODE_TO_REGION_CODE)
    numbers, countries = [], []
    for _ in range(count):
        region = rng.choice(regions)
        code = rng.choice(codes)
        if region in REGIONS and rng.random() < 0.6:
            code = str(phonenumbers.country_code_for_region(region))
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 15)))
        number = rng.choice(
            [
                f"+{code}{digits}",
                f"00{code}{digits}",
                f"0{digits}",
                f"{code}{digits}",
                digits,
                f"+{code} (0){digits}",
                f"011{code}{digits}",
                f"+0{digits}",
            ]
        )
        shape = rng.randrange(6)
        if shape == 1 and len(number) > 4:
            number = f"{number[:3]} {number[3:]}"
        elif shape == 2 and len(number) > 6:
            number = f"({number[:3]}) {number[3:6]}-{number[6:]}"
        elif shape == 3 and len(number) > 4:
            number = f"{number[:4]}/{number[4:]}"
        elif shape == 4:
            number += f" x{rng.randint(1, 9999)}"
        elif shape == 5:
            number += ".0"
        numbers.append(number)
        countries.append(region)
    return numbers, countries


@pytest.mark.parametrize("seed", [1, 2])
def test_numbers_of_every_region_match_libphonenumber(seed: int) -> None:
    numbers, regions = _random_numbers(6000, seed)
    phones, countries = pd.Series(numbers, dtype="string"), pd.Series(regions, dtype="string")
    assert values(normalize_phones(phones, countries)) == oracle(phones, countries)


PIECES = st.sampled_from(["+", "00", "0", "(", ")", " ", "-", ".", "/", " x", " ext. ", ".0"])
NUMBER = st.lists(st.one_of(st.from_regex(r"[0-9]{1,6}", fullmatch=True), PIECES), max_size=8)
REGION = st.sampled_from(["ID", "AU", "US", "CA", "GB", "GG", "DE", "NZ", "IT", "AR", "BR", None])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(NUMBER.map("".join), REGION), min_size=1, max_size=20))
@example([("+44 (0)20 7946 0958", None), ("0044 20 7946 0958", "GB"), ("06 1234 5678", "IT")])
@example([("12125550142", "US"), ("6221555123", "ID"), ("+800 1234 5678", None), ("+0", "AU")])
@example([("030/1234567", "DE"), ("(212) 555-0142 x204", "US"), ("0 11", "AR"), ("1", "BR")])
def test_fast_path_matches_libphonenumber(pairs: list[tuple[str, str | None]]) -> None:
    phones = pd.Series([p for p, _ in pairs], dtype="string")
    countries = pd.Series([c for _, c in pairs], dtype="string")
    assert values(normalize_phones(phones, countries)) == oracle(phones, countries)
