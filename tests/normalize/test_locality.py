"""The city and postcode of a one-line address whose city column is empty, read from its tail."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from recon.match.records import build_records
from recon.normalize import normalize_addresses
from recon.normalize.locality import fill_locality

COLUMNS = ("address_norm", "city_norm", "postcode_norm", "postcode_full", "country_code")

# Cities the CRM side knows, (city, country): the frame's own gazetteer.
KNOWN = [
    ("canberra", "AU"),
    ("los angeles", "US"),
    ("hamburg", "DE"),
    ("cambridge", "GB"),
    ("bandung", "ID"),
    ("seattle", "US"),
    ("washington", "US"),
    ("reading", "GB"),
    ("new york", "US"),
    ("york", "US"),
    ("london", "GB"),
    ("boston", "US"),
    ("bekasi", "ID"),
    ("jakarta", "ID"),
    ("jakarta selatan", "ID"),
]


def frame(rows: list[dict[str, str | None]], known: list[tuple[str, str]] = KNOWN) -> pd.DataFrame:
    """A records frame: ``rows`` first, then one street-only record per known city."""
    known_rows = [
        {"address_norm": "1 other st", "city_norm": c, "country_code": k} for c, k in known
    ]
    out = pd.DataFrame([*rows, *known_rows], columns=list(COLUMNS)).astype("string")
    out["system"] = pd.Series(["erp"] * len(rows) + ["crm"] * len(known_rows), dtype="string")
    return out


def one(address: str, country: str | None, **more: str | None) -> dict[str, str | None]:
    row = {c: None for c in COLUMNS}
    row.update(address_norm=address, country_code=country, **more)
    return row


def first(out: pd.DataFrame) -> dict[str, str | None]:
    return {c: (None if pd.isna(v) else v) for c, v in out.iloc[0][list(COLUMNS)].items()}


EXAMPLES = [
    # address_norm, country, street, city, postcode_norm, postcode_full
    ("4 bridge cct canberra act 2611", "AU", "4 bridge cct", "canberra", "2611", "2611"),
    ("4594 lincoln ave los angeles ca 90015", "US", "4594 lincoln ave", "los angeles", "90015",
     "90015"),
    ("beethovenstr 2 hamburg hamburg 20119", "DE", "beethovenstr 2", "hamburg", "20119", "20119"),
    ("187 wellington cl cambridge cambs cb4 7ah", "GB", "187 wellington cl", "cambridge",
     "CB4 7AH", "CB4 7AH"),
    ("jl asia afrika 18 bandung jawa barat 40122", "ID", "jl asia afrika 18", "bandung", "40122",
     "40122"),
    ("8905 franklin hwy seattle washington 98193-9565", "US", "8905 franklin hwy", "seattle",
     "98193", "98193-9565"),
    ("3 princes pl reading berkshire rg1 9wd", "GB", "3 princes pl", "reading", "RG1 9WD",
     "RG1 9WD"),
    ("187 oak ln new york ny 10038", "US", "187 oak ln", "new york", "10038", "10038"),
    ("58 park way london greater london nw1 4wd", "GB", "58 park way", "london", "NW1 4WD",
     "NW1 4WD"),
    # No postcode: the city as the last words still counts.
    ("4 bridge cct canberra", "AU", "4 bridge cct", "canberra", None, None),
    # No country: any record's city counts, any country's postcode form.
    ("4 bridge cct canberra act 2611", None, "4 bridge cct", "canberra", "2611", "2611"),
    ("3 princes pl reading berkshire rg19wd", None, "3 princes pl", "reading", "RG1 9WD",
     "RG1 9WD"),
    # A street named after a city is not the city: a region holds no street type before its end.
    ("1000 n washington st boston ma 02108", "US", "1000 n washington st", "boston", "02108",
     "02108"),
    # Of two cities starting at one word, the longer.
    ("jl pahlawan 7 jakarta selatan dki jakarta 12871", "ID", "jl pahlawan 7", "jakarta selatan",
     "12871", "12871"),
    # "Kota Bekasi" is Bekasi (its city column drops the "kota"): the prefix goes with the city.
    ("jl merdeka 6 kota bekasi jawa barat 17111", "ID", "jl merdeka 6", "bekasi", "17111", "17111"),
]  # fmt: skip


@pytest.mark.parametrize(("address", "country", "street", "city", "norm", "full"), EXAMPLES)
def test_the_locality_tail_of_a_one_line_address_fills_city_and_postcode(
    address, country, street, city, norm, full
) -> None:
    got = first(fill_locality(frame([one(address, country)])))
    assert got == {
        "address_norm": street,
        "city_norm": city,
        "postcode_norm": norm,
        "postcode_full": full,
        "country_code": country,
    }


def same_row(address: str, country: str | None, **more: str | None) -> None:
    """The row comes back as it went in."""
    row = one(address, country, **more)
    assert first(fill_locality(frame([row]))) == row


def test_two_words_stay_before_the_city() -> None:
    same_row("12 london rd", "GB")
    same_row("12 london", "GB")
    same_row("12 london nw1 4wd", "GB")
    same_row("london rd nw1 4wd", "GB")


def test_a_row_with_a_city_is_left_alone() -> None:
    same_row("4 bridge cct canberra act 2611", "AU", city_norm="sydney")


def test_a_city_the_frame_does_not_know_is_left_alone() -> None:
    same_row("4 bridge cct darwin nt 0800", "AU")


def test_a_city_known_only_in_another_country_is_left_alone() -> None:
    row = one("4 bridge cct canberra act 2611", "AU")
    assert first(fill_locality(frame([row], known=[("canberra", "US")]))) == row


def test_region_words_only_before_a_postcode() -> None:
    same_row("4 bridge cct canberra act", "AU")


def test_a_postcode_not_valid_for_the_country_is_no_postcode() -> None:
    # A 5-digit number is no Australian postcode, so "act 26110" is not a region and a postcode.
    same_row("4 bridge cct canberra act 26110", "AU")


def test_a_postcode_column_that_says_otherwise_keeps_the_tail() -> None:
    same_row("4 bridge cct canberra act 2611", "AU", postcode_norm="2000", postcode_full="2000")


def test_a_postcode_column_already_set_is_kept() -> None:
    row = one("4 bridge cct canberra act 2611", "AU", postcode_norm="2611", postcode_full="2611")
    got = first(fill_locality(frame([row])))
    assert (got["address_norm"], got["city_norm"], got["postcode_norm"]) == (
        "4 bridge cct",
        "canberra",
        "2611",
    )


@pytest.mark.parametrize(
    ("tail_postcode", "country"),
    [
        ("cb4 7ah", "GB"),
        ("cb47ah", "GB"),
        ("98193-9565", "US"),
        ("981939565", "US"),
        ("02108", "US"),
        ("2611", "AU"),
        ("1012 ab", "NL"),
        ("k1a 0b1", "CA"),
        ("40122", "ID"),
        ("cb4 7ah", None),
    ],
)
def test_the_tail_postcode_is_normalized_as_the_postcode_column(tail_postcode, country) -> None:
    known = [("london", "GB"), ("boston", "US"), ("canberra", "AU"), ("amsterdam", "NL")]
    known += [("ottawa", "CA"), ("bandung", "ID"), ("seattle", "US")]
    city = {"GB": "london", "US": "boston", "AU": "canberra", "NL": "amsterdam", "CA": "ottawa"}
    city |= {"ID": "bandung", None: "london"}
    row = one(f"4 bridge cct {city[country]} {tail_postcode}", country)
    got = first(fill_locality(frame([row], known=known)))
    column = normalize_addresses(
        pd.Series(["4 bridge cct"], dtype="string"),
        postcode=pd.Series([tail_postcode], dtype="string"),
        country=pd.Series([country], dtype="string"),
    ).iloc[0]
    assert got["city_norm"] == city[country]
    assert got["postcode_norm"] == column["postcode_norm"]
    assert got["postcode_full"] == column["postcode_full"]


def test_the_input_frame_is_not_changed() -> None:
    records = frame([one("4 bridge cct canberra act 2611", "AU")])
    before = records.copy()
    fill_locality(records)
    pd.testing.assert_frame_equal(records, before)


def test_build_records_gives_an_erp_one_liner_the_city_of_crm_records() -> None:
    crm = pd.DataFrame(
        {
            "company_id": ["1"],
            "name": ["Bridge Pty Ltd"],
            "address": ["4 Bridge Circuit"],
            "city": ["Canberra"],
            "country": ["Australia"],
        }
    )
    erp = pd.DataFrame(
        {
            "customer_id": ["C1"],
            "name": ["BRIDGE PTY LTD"],
            "billing_address": ["4 Bridge Cct, Canberra ACT 2611"],
            "country": ["AU"],
        }
    )
    built = build_records(crm, erp)
    assert built["address_norm"].tolist() == ["4 bridge cct", "4 bridge cct"]
    assert built["city_norm"].tolist() == ["canberra", "canberra"]
    assert built["postcode_norm"].iloc[1] == "2611"


# --- property: nothing is lost --------------------------------------------------------------

WORDS = ["4", "12", "bridge", "cct", "st", "london", "greater", "new", "york", "canberra", "act"]
WORDS += ["2611", "10038", "nw1", "4wd", "kota", "ny", "98193-9565", "washington"]
CITIES = ["london", "new york", "york", "canberra", "greater london", "washington", "act"]


@st.composite
def records(draw) -> pd.DataFrame:
    size = draw(st.integers(1, 12))
    rows = []
    for _ in range(size):
        words = draw(st.lists(st.sampled_from(WORDS), min_size=0, max_size=10))
        rows.append(
            {
                "address_norm": " ".join(words) if words else draw(st.sampled_from([None, ""])),
                "city_norm": draw(st.one_of(st.none(), st.sampled_from(CITIES))),
                "postcode_norm": draw(st.sampled_from([None, None, "2611", "NW1 4WD"])),
                "postcode_full": None,
                "country_code": draw(st.sampled_from([None, "GB", "US", "AU"])),
            }
        )
    out = pd.DataFrame(rows, columns=list(COLUMNS)).astype("string")
    out["postcode_full"] = out["postcode_norm"]
    return out


@settings(max_examples=300, deadline=None)
@given(records())
@example(frame([one("4 bridge cct canberra act 2611", "AU")]).drop(columns="system"))
@example(frame([one("58 park way london greater london nw1 4wd", "GB")]).drop(columns="system"))
def test_rows_with_a_city_stay_and_a_filled_row_only_moves_its_tail(records) -> None:
    got = fill_locality(records)
    assert list(got.columns) == list(records.columns)
    assert got.index.equals(records.index)
    assert (got.dtypes == records.dtypes).all()
    pd.testing.assert_frame_equal(
        got[records["city_norm"].notna()], records[records["city_norm"].notna()]
    )
    pd.testing.assert_series_equal(got["country_code"], records["country_code"])
    for i in range(len(records)):
        before = {c: (None if pd.isna(v) else v) for c, v in records.iloc[i].items()}
        after = {c: (None if pd.isna(v) else v) for c, v in got.iloc[i].items()}
        if after == before:
            continue
        assert before["city_norm"] is None
        words = before["address_norm"].split(" ")
        street = after["address_norm"].split(" ")
        tail = words[len(street) :]
        # The street is the address's first words (at least two); the rest is the tail.
        assert len(street) >= 2
        assert words[: len(street)] == street
        assert street + tail == words
        # The city is in the tail, with at most "kota" before it, and at most three region
        # and two postcode words after it.
        city = after["city_norm"].split(" ")
        starts = [k for k in range(len(tail)) if tail[k : k + len(city)] == city]
        assert starts and starts[0] <= 1
        assert len(tail) - starts[0] - len(city) <= 5
        assert tail[: starts[0]] in ([], ["kota"])
        # The city is one another record of the country (any, for a row without one) has.
        known = records[records["city_norm"] == after["city_norm"]]
        if before["country_code"] is not None:
            known = known[known["country_code"] == before["country_code"]]
        assert len(known)
        # A postcode that was there stays; one that came came from the tail.
        if before["postcode_norm"] is not None:
            assert after["postcode_norm"] == before["postcode_norm"]
        elif after["postcode_norm"] is not None:
            compact = after["postcode_full"].replace(" ", "").replace("-", "").lower()
            assert compact == "".join(tail[-2:]).replace("-", "")[-len(compact) :]
        assert after["postcode_full"] is None or after["postcode_norm"] is not None
