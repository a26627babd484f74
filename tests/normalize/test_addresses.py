"""Address lines, units, street numbers, postcodes and cities."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from recon.normalize import default_rules, normalize_addresses

RULES = default_rules()


def parts(address: str | None, country: str | None = None, postcode: str | None = None):
    got = normalize_addresses(
        pd.Series([address], dtype="string"),
        None,
        pd.Series([postcode], dtype="string"),
        pd.Series([country], dtype="string"),
        RULES,
    ).iloc[0]
    return {k: (None if pd.isna(v) else v) for k, v in got.items()}


SAME_ADDRESS = [
    (
        [
            "Jl. Jend. Sudirman No. 5",
            "Jalan Jenderal Sudirman Nomor 5",
            "JL JEND SUDIRMAN #5",
            "Jln. Jend. Sudirman no.5",
        ],
        "jl jend sudirman 5",
    ),
    (
        [
            "Jl. Letjen S. Parman 4",
            "Jl Letnan Jend S Parman No. 4",
            "Jalan Letnan Jenderal S. Parman 4",
            "JL. LETJEN. S PARMAN NO.4",
        ],
        "jl letjen s parman 4",
    ),
    (["Jl. Mayjen Sungkono 12", "Jl. Mayor Jenderal Sungkono 12"], "jl mayjen sungkono 12"),
    (["12 Letnan St"], "12 letnan st"),  # one word of a street type's phrase alone stays
    (["Hauptstr. 5", "Hauptstraße 5", "Hauptstrasse 5", "HAUPTSTRASSE 5"], "hauptstr 5"),
    (["Berliner Straße 12a", "Berliner Str. 12a"], "berliner str 12a"),
    (
        [
            "1 George St",
            "1 George Street",
            "Level 12, 1 George St",
            "1 George Street, Level 12",
            "L12 1 George St",
        ],
        "1 george st",
    ),
    (
        ["100 Main St., Suite #200", "Suite 200, 100 Main Street", "100 Main St Ste 200"],
        "100 main st",
    ),
    (
        ["15 Smith St", "3/15 Smith St", "Unit 3/15 Smith Street", "U 3, 15 Smith Street"],
        "15 smith st",
    ),
    (["500 Fifth Ave", "12th Floor, 500 Fifth Avenue"], "500 fifth ave"),
    (["10 St Kilda Rd", "10 St. Kilda Road"], "10 st kilda rd"),
]


@pytest.mark.parametrize(("spellings", "expected"), SAME_ADDRESS)
def test_spellings_of_one_address_share_address_norm(spellings: list[str], expected: str) -> None:
    got = normalize_addresses(pd.Series(spellings), rules=RULES)
    assert got["address_norm"].tolist() == [expected] * len(spellings)


@pytest.mark.parametrize(
    ("address", "country", "postcode", "street_number", "unit"),
    [
        ("Jl. Jend. Sudirman No. 5", "ID", None, "5", None),
        ("Gedung Artha Lt. 3, Jl. Gatot Subroto Kav. 52-53", "ID", None, "52-53", "level 3"),
        ("Wisma 46 Lantai 20, Jl. Jend. Sudirman Kav. 1", "ID", None, "1", "level 20"),
        ("Blok A No. 7, Jl. Raya Bogor", "ID", None, "7", "block a"),
        ("Hauptstr. 5", "DE", "10115", "5", None),
        ("Hauptstr. 10115 Berlin", "DE", "10115", None, None),  # the postcode is no number
        ("Level 12, 1 George St", "AU", None, "1", "level 12"),
        ("Level 3, Suite 301, 1 George St", "AU", None, "1", "level 3 suite 301"),
        ("3/15 Smith St", "AU", None, "15", "unit 3"),
        ("Suite #200, 100 Main St.", "US", None, "100", "suite 200"),
        ("12th Floor, 500 Fifth Avenue", "US", None, "500", "level 12"),
        ("PO Box 123", "AU", None, None, None),
        ("Rue de la Paix 5", "FR", None, "5", None),  # "la" is no level
        ("L1, 5 Collins St", "AU", None, "5", "level 1"),
        ("12 Bold St Liverpool L1 9UR", "GB", None, "12", None),  # a postcode, not level 1
    ],
)
def test_street_number_and_unit(address, country, postcode, street_number, unit) -> None:
    got = parts(address, country, postcode)
    assert (got["street_number"], got["unit"]) == (street_number, unit)


@pytest.mark.parametrize(
    ("postcode", "country", "norm", "full"),
    [
        ("sw1a1aa", "GB", "SW1A 1AA", "SW1A 1AA"),
        (" SW1A 1aa ", "UK", "SW1A 1AA", "SW1A 1AA"),
        ("ec1a1bb", None, "EC1A 1BB", "EC1A 1BB"),  # unmistakably British without a country
        ("k1a0b1", "CA", "K1A 0B1", "K1A 0B1"),
        ("1234ab", "NL", "1234 AB", "1234 AB"),
        ("02134", "US", "02134", "02134"),
        ("2134", "US", "02134", "02134"),  # leading zero lost in a spreadsheet
        ("10001-1234", "US", "10001", "10001-1234"),
        ("100011234", "USA", "10001", "10001-1234"),
        ("CA 94105", "US", "94105", "94105"),
        ("800", "AU", "0800", "0800"),
        ("NSW 2000", "AU", "2000", "2000"),
        ("2000.0", "AU", "2000", "2000"),
        ("1067", "DE", "01067", "01067"),
        ("D-10115", "Germany", "10115", "10115"),
        ("10220", "ID", "10220", "10220"),
        ("1010", "NZ", "1010", "1010"),
        ("75002", None, "75002", "75002"),
        ("n/a", "GB", None, None),
        ("0", "US", None, None),
        ("-", None, None, None),
        (None, "US", None, None),
    ],
)
def test_postcodes(postcode, country, norm, full) -> None:
    got = parts(None, country, postcode)
    assert (got["postcode_norm"], got["postcode_full"]) == (norm, full)


def test_city_and_country_columns() -> None:
    got = normalize_addresses(
        pd.Series(["x", "x", "x", "x"]),
        pd.Series(["MÜNCHEN", "Jakarta Selatan 12190", " new  york ", "n/a"]),
        None,
        pd.Series(["Deutschland", "Republic of Indonesia", "U.S.", "Aotearoa"]),
        RULES,
    )
    assert got["city_norm"].tolist()[:3] == ["muenchen", "jakarta selatan", "new york"]
    assert pd.isna(got["city_norm"].iloc[3])
    assert got["country_code"].tolist() == ["DE", "ID", "US", "NZ"]


def test_columns_index_and_missing_inputs() -> None:
    got = normalize_addresses(pd.Series([None, "n/a", "-", ""], index=[3, 3, 1, 0]), rules=RULES)
    assert list(got.columns) == [
        "address_norm",
        "street_number",
        "unit",
        "postcode_norm",
        "postcode_full",
        "city_norm",
        "country_code",
    ]
    assert got.index.tolist() == [3, 3, 1, 0]
    assert got.isna().all().all()
    assert all(str(t) == "string" for t in got.dtypes)


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=9)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(WORD, min_size=1, max_size=3),
    st.integers(1, 999),
    st.sampled_from(["Street", "St", "St.", "STREET"]),
    st.sampled_from([", ", " ", "  "]),
)
def test_street_type_spelling_and_case_do_not_matter(words, number, street, separator) -> None:
    name = " ".join(words)
    assume(name.split()[-1] not in {"st", "str", "rd", "ave", "dr", "ln", "no"})
    got = normalize_addresses(
        pd.Series([f"{number} {name} St", f"{number}{separator}{name.upper()} {street}"]),
        rules=RULES,
    )
    assert got["address_norm"].iloc[0] == got["address_norm"].iloc[1]
    assert got["street_number"].tolist() == [str(number), str(number)]


@pytest.mark.parametrize(
    ("address", "city", "region", "postcode", "country", "expected"),
    [
        ("41 Ann Tce, Melbourne VIC 3075", "Melbourne", "VIC", "3075", "AU", "41 ann tce"),
        (
            "1 Baker Road, London Greater London EC2M 3FF",
            "London",
            "Greater London",
            "EC2M 3FF",
            "GB",
            "1 baker rd",
        ),
        (
            "Jl. Diponegoro 240, Surabaya Jatim 60119",
            "Surabaya",
            "Jatim",
            "60119",
            "ID",
            "jl diponegoro 240",
        ),
        ("58 Sunset Rd Miami FL 33173-4756", "Miami", "FL", "33173-4756", "US", "58 sunset rd"),
        ("5 King St, Melbourne", "Melbourne", None, None, "AU", "5 king st"),
        # The city's name inside the street line stays: only a trailing run of locality words goes.
        ("12 London Rd", "London", None, None, "GB", "12 london rd"),
        ("7 Melbourne St, Brisbane QLD 4000", "Brisbane", "QLD", "4000", "AU", "7 melbourne st"),
        # Only the region trails: not enough to tell it from a street word; kept.
        ("3 Victoria Pde VIC", "Melbourne", "VIC", None, "AU", "3 victoria pde vic"),
        # Cutting would leave a single word: kept.
        ("Melbourne VIC 3000", "Melbourne", "VIC", "3000", "AU", "melbourne vic 3000"),
        ("41 Ann Tce", None, None, None, "AU", "41 ann tce"),
    ],
)
def test_city_region_and_postcode_cut_from_one_line_addresses(
    address, city, region, postcode, country, expected
) -> None:
    def one(value: str | None) -> pd.Series:
        return pd.Series([value], dtype="string")

    got = normalize_addresses(
        one(address), one(city), one(postcode), one(country), region=one(region)
    )
    assert got["address_norm"].iloc[0] == expected


LOCALITIES = [
    ("Melbourne", "VIC", "3000", "AU"),
    ("London", "Greater London", "EC2M 3FF", "GB"),
    ("Jakarta Pusat", "DKI Jakarta", "10110", "ID"),
    ("Berlin", None, "10115", "DE"),
    ("Auckland", None, None, "NZ"),
]


@settings(max_examples=60, deadline=None)
@given(
    street=st.sampled_from(["41 Ann Tce", "Jl. Sudirman No. 5", "12 London Rd", "Hauptstr. 7"]),
    locality=st.sampled_from(LOCALITIES),
    with_region=st.booleans(),
    with_postcode=st.booleans(),
)
def test_one_line_address_compares_equal_to_its_street_line(
    street, locality, with_region, with_postcode
):
    """An ERP one-line address and a CRM street line of one record give one address_norm."""
    city, region, postcode, country = locality
    tail = [x for x, used in ((region, with_region), (postcode, with_postcode)) if x and used]
    line = ", ".join(p for p in (street, city, " ".join(tail)) if p)
    values = pd.Series([line, street], dtype="string")

    def both(value: str | None) -> pd.Series:
        return pd.Series([value, value], dtype="string")

    got = normalize_addresses(
        values, both(city), both(postcode), both(country), region=both(region)
    )
    assert got["address_norm"].iloc[0] == got["address_norm"].iloc[1]


@pytest.mark.parametrize(
    ("spellings", "expected"),
    [
        (["New York", "NYC", "New York City", "new york"], "new york"),
        (["Köln", "Koeln", "Koln", "Cologne"], "koeln"),
        (["Kota Bekasi", "Bekasi", "BEKASI"], "bekasi"),
        (["Jakarta Selatan", "Jakarta Sel.", "South Jakarta"], "jakarta selatan"),
        (["Kota"], "kota"),  # the prefix alone is a name, not nothing
    ],
)
def test_other_names_of_one_city_share_city_norm(spellings: list[str], expected: str) -> None:
    text = default_rules().text
    aliases = {
        "NYC": "New York",
        "New York City": "New York",
        "Koln": "Köln",
        "Cologne": "Köln",
        "Jakarta Sel.": "Jakarta Selatan",
        "South Jakarta": "Jakarta Selatan",
    }
    rules = default_rules().model_copy(
        update={"text": text.model_copy(update={"city_aliases": aliases})}
    )
    cities = pd.Series(spellings, dtype="string")
    got = normalize_addresses(
        pd.Series([None] * len(spellings), dtype="string"), city=cities, rules=rules
    )
    assert got["city_norm"].tolist() == [expected] * len(spellings)


@pytest.mark.parametrize(
    ("address", "street", "unit"),
    [
        ("Jl. Hayam Wuruk 110, RT/RW 006/002", "jl hayam wuruk 110", "rt/rw 6/2"),
        ("Jl. Veteran 134 RT.015/RW.002", "jl veteran 134", "rt/rw 15/2"),
        ("Jl. Raya 5, Lt. 3, RT 1 RW 2", "jl raya 5", "level 3 rt/rw 1/2"),
        ("Jl. Hayam Wuruk No. 110", "jl hayam wuruk 110", None),
    ],
)
def test_rt_rw_goes_with_the_unit_not_the_street_line(address, street, unit) -> None:
    got = normalize_addresses(pd.Series([address]), country=pd.Series(["ID"])).iloc[0]
    assert got["address_norm"] == street
    assert (None if pd.isna(got["unit"]) else got["unit"]) == unit
