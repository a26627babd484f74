"""Country names, codes and aliases → ISO 3166-1 alpha-2."""

from __future__ import annotations

import pandas as pd
import phonenumbers
import pytest

from recon.normalize import default_rules, to_country_code
from recon.normalize.countries import COUNTRIES, ISO_ALPHA2

RULES = default_rules()


def codes(values: list[str | None]) -> list[str | None]:
    got = to_country_code(pd.Series(values, dtype="string"), RULES)
    return [None if pd.isna(v) else v for v in got]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("UK", "GB"),
        ("uk", "GB"),
        ("U.K.", "GB"),
        ("England", "GB"),
        ("Great Britain", "GB"),
        ("GBR", "GB"),
        ("United Kingdom", "GB"),
        ("USA", "US"),
        ("U.S.A.", "US"),
        ("U.S.", "US"),
        ("United States of America", "US"),
        ("united states", "US"),
        ("Deutschland", "DE"),
        ("GER", "DE"),
        ("Aust.", "AU"),
        ("RI", "ID"),
        ("Germany", "DE"),
        ("GERMANY", "DE"),
        ("deu", "DE"),
        ("Republic of Indonesia", "ID"),
        ("Indonesia", "ID"),
        ("IDN", "ID"),
        ("id", "ID"),
        ("NZ", "NZ"),
        ("Aotearoa", "NZ"),
        ("New Zealand", "NZ"),
        ("Australia", "AU"),
        ("AUS", "AU"),
        ("The Netherlands", "NL"),
        ("Côte d'Ivoire", "CI"),
        ("Österreich", "AT"),
        ("  Singapore ", "SG"),
        ("Viet Nam", "VN"),
        ("Türkiye", "TR"),
        ("n/a", None),
        ("NA", None),
        ("", None),
        ("-", None),
        ("Atlantis", None),
        (None, None),
    ],
)
def test_to_country_code(value: str | None, expected: str | None) -> None:
    assert codes([value]) == [expected]


def test_every_iso_entry_by_code_and_name_in_any_case() -> None:
    entries = [e for e in COUNTRIES if e[0] != "NA"]  # "NA" reads as "not available"
    for field in range(3):
        for transform in (str.upper, str.lower, str.title):
            got = codes([transform(e[field]) for e in entries])
            assert got == [e[0] for e in entries], (field, transform)


def test_table_covers_the_regions_libphonenumber_knows() -> None:
    regions = set(phonenumbers.SUPPORTED_REGIONS) - {"001", "AC", "TA"}
    assert regions <= ISO_ALPHA2
    assert len(ISO_ALPHA2) == len(COUNTRIES) == 250  # 249 ISO 3166-1 codes and XK


def test_index_is_kept() -> None:
    got = to_country_code(pd.Series(["UK", "UK", None], index=[9, 9, 2]), RULES)
    assert got.index.tolist() == [9, 9, 2]
    assert str(got.dtype) == "string"
