"""A record's country read from its phone, domain, legal form and city when its column is empty."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recon.normalize.country_evidence import CITY_MIN_RECORDS, infer_countries
from recon.normalize.names import resolve_rules

RULES = resolve_rules(None)
FIELDS = ("country_code", "phone_e164", "domain", "legal_form", "city_norm")


def records(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame({f: pd.array([r.get(f) for r in rows], dtype="string") for f in FIELDS})


def one(**fields: str) -> str | None:
    got = infer_countries(records([fields]), RULES).iloc[0]
    return None if pd.isna(got) else got


@pytest.mark.parametrize(
    ("fields", "country"),
    [
        ({"phone_e164": "+4989123456"}, "DE"),
        ({"phone_e164": "+12125550123"}, "US"),  # area code 212: New York
        ({"phone_e164": "+14165550123"}, "CA"),  # area code 416: Toronto
        ({"phone_e164": "+622157555816"}, "ID"),
        ({"domain": "metallbau.de"}, "DE"),
        ({"domain": "oakline.co.uk"}, "GB"),
        ({"domain": "harapanraya.co.id"}, "ID"),
        ({"domain": "blueridge.com.au"}, "AU"),
        ({"legal_form": "PT TBK"}, "ID"),
        ({"legal_form": "LLC"}, "US"),
        ({"legal_form": "GMBH", "domain": "sonnenchem.de"}, "DE"),
        ({"legal_form": "GMBH", "phone_e164": "+43151234567"}, "AT"),
        ({"legal_form": "PTY_LTD", "phone_e164": "+61295225378"}, "AU"),
    ],
)
def test_evidence_that_names_one_country_gives_it(fields: dict, country: str) -> None:
    assert one(**fields) == country


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"domain": "westfield.com"},  # a generic domain
        {"domain": "pinewell.io"},  # a country domain used worldwide
        {"legal_form": "GMBH"},  # Germany, Austria or Switzerland
        {"legal_form": "INC"},  # US, Canada or the Philippines
        {"phone_e164": "+4989123456", "domain": "oakline.co.uk"},  # they disagree
        {"legal_form": "PT", "domain": "oakline.de"},  # they disagree
    ],
)
def test_no_country_when_evidence_is_silent_ambiguous_or_disagrees(fields: dict) -> None:
    assert one(**fields) is None


def test_a_stated_country_is_left_alone() -> None:
    got = infer_countries(records([{"country_code": "US", "domain": "metallbau.de"}]), RULES)
    assert got.isna().all()


def test_a_city_whose_records_all_name_one_country_gives_it() -> None:
    known = [{"country_code": "DE", "city_norm": "muenchen"}] * CITY_MIN_RECORDS
    mixed = [{"country_code": "AU", "city_norm": "perth"}] * CITY_MIN_RECORDS + [
        {"country_code": "GB", "city_norm": "perth"}
    ]
    few = [{"country_code": "NZ", "city_norm": "nelson"}] * (CITY_MIN_RECORDS - 1)
    asked = [{"city_norm": "muenchen"}, {"city_norm": "perth"}, {"city_norm": "nelson"}]
    got = infer_countries(records(known + mixed + few + asked), RULES).iloc[-3:]
    assert got.iloc[0] == "DE"
    assert got.iloc[1:].isna().all()  # a city of two countries; a city too few records name


def test_index_is_kept_and_only_empty_countries_get_one() -> None:
    frame = records([{"domain": "a.de"}, {"country_code": "GB", "domain": "b.de"}])
    frame.index = [10, 20]
    got = infer_countries(frame, RULES)
    assert list(got.index) == [10, 20]
    assert got.loc[10] == "DE" and pd.isna(got.loc[20])


EVIDENCE = {
    "phone_e164": {"+4989123456": {"DE"}, "+43151234567": {"AT"}, "+622157555816": {"ID"}},
    "domain": {"a.de": {"DE"}, "b.at": {"AT"}, "c.co.id": {"ID"}, "d.com": None},
    "legal_form": {"GMBH": {"DE", "AT", "CH"}, "PT": {"ID"}, "GMBH_CO_KG": {"DE", "AT"}},
}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries({k: st.sampled_from([None, *v]) for k, v in EVIDENCE.items()}), min_size=1, max_size=8))  # fmt: skip
def test_the_country_given_is_the_one_all_evidence_allows(rows: list[dict]) -> None:
    got = infer_countries(records(rows), RULES)
    for row, country in zip(rows, got, strict=True):
        sets = [EVIDENCE[k][v] for k, v in row.items() if v is not None and EVIDENCE[k][v]]
        allowed = set.intersection(*sets) if sets else set()
        expected = next(iter(allowed)) if len(allowed) == 1 else None
        assert (None if pd.isna(country) else country) == expected
