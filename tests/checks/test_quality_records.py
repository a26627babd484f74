"""Each record check on written-down good and bad values, per country where the rule depends on it."""

from __future__ import annotations

import pytest
from checks.quality_helpers import (
    RULES,
    companies,
    customers,
    flagged,
    frame,
    one_field,
    run,
)

# (country, good postcodes, bad postcodes). Good ones include what normalization settles: a
# spreadsheet's lost leading zero, a state prefix, GB without its space.
POSTCODES = [
    ("ID", ["12190", "40111", "80361"], ["1219", "121900", "ABCDE"]),
    ("AU", ["2000", "800", "NSW 2000", "6000"], ["20000", "200A"]),
    ("NZ", ["6011", "1010", "9016"], ["60111", "60A1"]),
    ("US", ["10001", "02116-7354", "2116", "021167354"], ["1000123", "ABCDE", "1000A"]),
    ("GB", ["SW1A 1AA", "sw1a1aa", "EC1A 1BB", "M1 1AE", "B15 4ZG"], ["SW1A", "12345", "SW1A 1A"]),
    ("DE", ["10115", "1067", "D-10115"], ["101155", "1011A"]),
]


@pytest.mark.parametrize(("country", "good", "bad"), POSTCODES, ids=[c for c, _, _ in POSTCODES])
def test_postcode_format_per_country(country: str, good: list[str], bad: list[str]) -> None:
    found = one_field("postcode_format", "postcode", good + bad, country=country)
    assert found == [f"C{i}" for i in range(len(good) + 1, len(good) + len(bad) + 1)]


def test_postcode_of_an_unlisted_country_or_without_country_is_not_judged() -> None:
    assert one_field("postcode_format", "postcode", ["ABC"], country="BR") == []
    assert one_field("postcode_format", "postcode", ["ABC"], country=None) == []


def test_postcode_finding_shows_the_raw_value_and_the_expected_format() -> None:
    result = run(companies({"postcode": "20000", "country": "Australia"}))
    row = result.findings.set_index("rule").loc["postcode_format"]
    assert (row["value"], row["expected"], row["severity"]) == (
        "20000",
        "4 digits, such as 2000",
        "warning",
    )


PHONES = [
    ("ID", ["+62 21 5551234", "021 5551234", "0812 3456 7890"], ["123", "021"]),
    ("AU", ["(02) 9555 1234", "0412 345 678", "+61 2 9555 1234"], ["9555 1234", "0555 1234"]),
    ("NZ", ["09 555 1234", "021 123 4567"], ["09 55", "+64 1234"]),
    ("US", ["(212) 555-0142", "+1 212 555 0142", "212.555.0142 x12"], ["555-0142", "212 555 01"]),
    ("GB", ["020 7946 0018", "+44 7700 900123"], ["7946 0018", "020 794"]),
    ("DE", ["030 1234567", "+49 89 1234567", "0911-5739945"], ["030 12", "12"]),
]


@pytest.mark.parametrize(("country", "good", "bad"), PHONES, ids=[c for c, _, _ in PHONES])
def test_phone_valid_for_its_country(country: str, good: list[str], bad: list[str]) -> None:
    found = one_field("phone_format", "phone", good + bad, country=country)
    assert found == [f"C{i}" for i in range(len(good) + 1, len(good) + len(bad) + 1)]


def test_phone_without_country_needs_its_country_code() -> None:
    found = one_field("phone_format", "phone", ["+44 20 7946 0018", "020 7946 0018"], country=None)
    assert found == ["C2"]


def test_phone_text_without_digits_is_left_to_the_required_check() -> None:
    assert one_field("phone_format", "phone", ["n/a", "", None]) == []


EMAILS_GOOD = ["finance@majujaya.co.id", "a.b+c@acme.com", "  AP@Acme.COM  ", "o'brien@acme.ie"]
EMAILS_BAD = [
    "finance@majujaya",
    "finance majujaya.co.id",
    "a@b@acme.com",
    "Finance <finance@acme.com>",
    "a@acme.com; b@acme.com",
    "@acme.com",
]


def test_email_syntax() -> None:
    found = one_field("email_syntax", "email", EMAILS_GOOD + EMAILS_BAD)
    first_bad = len(EMAILS_GOOD) + 1
    assert found == [f"C{i}" for i in range(first_bad, first_bad + len(EMAILS_BAD))]


WEB_GOOD = [
    "www.acme.com",
    "https://acme.co.uk/contact-us",
    "acme.de",
    "HTTP://Shop.Acme.com:8080/",
]
WEB_BAD = ["acme", "http//acme.com", "www acme com", "https://", "acme.c"]


def test_website_syntax() -> None:
    found = one_field("website_syntax", "website", WEB_GOOD + WEB_BAD)
    first_bad = len(WEB_GOOD) + 1
    assert found == [f"C{i}" for i in range(first_bad, first_bad + len(WEB_BAD))]


def test_domain_column_is_held_to_the_website_syntax_too() -> None:
    assert one_field("website_syntax", "domain", ["acme.com", "acme"]) == ["C2"]


@pytest.mark.parametrize(
    ("field", "free", "own"),
    [
        ("email", ["x@gmail.com", "Budi@Yahoo.co.id", "a@mail.yahoo.com"], ["x@acme.com"]),
        ("website", ["https://www.bigpond.com/me"], ["www.acme.com.au", "notgmail.com"]),
        ("domain", ["web.de"], ["acme.de"]),
    ],
)
def test_freemail_domain(field: str, free: list[str], own: list[str]) -> None:
    found = one_field("freemail_domain", field, free + own)
    assert found == [f"C{i}" for i in range(1, len(free) + 1)]


def test_country_unknown_and_not_iso() -> None:
    values = ["Germany", "DE", "de", "Deutschland", "DEU", "Jakarta", "Atlantis", "GER", "n/a"]
    rows = [{"country": v} for v in values]
    result = run(companies(*rows))
    assert flagged(result, "country_unknown") == ["C6", "C7"]
    assert flagged(result, "country_not_iso") == ["C1", "C4", "C5", "C8"]
    expected = result.findings.loc[result.findings["rule"] == "country_not_iso", "expected"]
    assert expected.tolist() == ["DE", "DE", "DE", "DE"]


def test_required_fields_blank_or_missing_word() -> None:
    rows = [{"name": "Acme"}, {"name": ""}, {"name": "  n/a "}, {"name": "TBD"}, {"country": None}]
    result = run(companies(*rows))
    assert flagged(result, "required", "name") == ["C2", "C3", "C4"]
    assert flagged(result, "required", "country") == ["C5"]
    assert set(result.findings.loc[result.findings["rule"] == "required", "severity"]) == {"error"}


def test_an_empty_country_names_the_one_the_records_other_fields_give() -> None:
    rows = [
        {"name": "Bauer Holzbau GmbH", "website": "www.bauer-holzbau.de", "country": None},
        {"name": "Acme Trading", "country": None},  # nothing to read a country from
    ]
    found = run(companies(*rows)).findings
    found = found.loc[found["rule"] == "required"].set_index("record_id")
    assert found.loc["C1", "expected"] == "DE"
    assert found.loc["C1", "message"].endswith("legal form or city say Germany")
    assert (found.loc["C2", "expected"], found.loc["C2", "message"]) == (
        "a value",
        "country is empty",
    )


def test_required_fields_of_erp_customers_and_deals() -> None:
    erp = customers({"country": "ID"}, {"country": ""})
    deals = frame(
        "crm_deals",
        [
            {"deal_id": "D1", "company_id": "C1", "stage": "open", "amount": 5},
            {"deal_id": "D2", "company_id": "C1", "stage": "open", "close_date": "2026-01-01"},
        ],
    )
    result = run(erp=erp, deals=deals)
    assert flagged(result, "required", "country") == ["E2"]
    assert flagged(result, "required", "close_date") == ["D1"]
    assert flagged(result, "required", "amount") == ["D2"]


NAMES_CAPS = ["ACME PTY LTD", "PT MAJU JAYA", "MÜLLER GMBH"]
NAMES_NOT_CAPS = ["Acme Pty Ltd", "IBM", "3M", "123 LTD", "Maju Jaya, PT"]


def test_name_all_caps_counts_only_names_with_enough_letters() -> None:
    found = one_field("name_all_caps", "name", NAMES_CAPS + NAMES_NOT_CAPS)
    assert found == ["C1", "C2", "C3"]


@pytest.mark.parametrize(
    ("name", "only_form", "country"),
    [
        ("PT", True, "ID"),
        ("P.T.", True, "ID"),
        ("PT Tbk", True, "ID"),
        ("Pty Ltd", True, "AU"),
        ("GmbH", True, "DE"),
        ("Inc.", True, "US"),
        ("PT Maju Jaya", False, "ID"),
        ("Limited Editions Ltd", False, "GB"),
        ("Acme", False, "AU"),
    ],
)
def test_name_legal_form_only(name: str, only_form: bool, country: str) -> None:
    found = one_field("name_legal_form_only", "name", [name], country=country)
    assert found == (["C1"] if only_form else [])


def test_stale_records_count_back_from_the_as_of_date() -> None:
    # 24 months before 2026-10-31 is 2024-10-31: a record updated that day is not stale.
    dates = ["2024-10-30", "2024-10-31", "2026-10-01", None]
    found = one_field("stale_record", "updated_at", dates)
    assert found == ["C1"]


def test_won_deals_with_zero_or_missing_amount() -> None:
    deals = frame(
        "crm_deals",
        [
            {"deal_id": "D1", "company_id": "C1", "stage": "closedwon", "amount": 0},
            {"deal_id": "D2", "company_id": "C1", "stage": "Closed Won", "amount": None},
            {"deal_id": "D3", "company_id": "C1", "stage": "closedlost", "amount": 0},
            {"deal_id": "D4", "company_id": "C1", "stage": "closedwon", "amount": "100.00"},
            {"deal_id": "D5", "company_id": "C1", "stage": " WON ", "amount": "0.00"},
        ],
    )
    result = run(deals=deals)
    assert flagged(result, "won_deal_amount") == ["D1", "D2", "D5"]
    values = result.findings.loc[result.findings["rule"] == "won_deal_amount", "value"]
    assert values.fillna("").tolist() == ["0.00", "", "0.00"]


def test_won_deal_without_amount_and_negative_won_deal_say_which() -> None:
    deals = frame(
        "crm_deals",
        [
            {"deal_id": "D1", "company_id": "C1", "stage": "closedwon", "amount": None},
            {"deal_id": "D2", "company_id": "C1", "stage": "closedwon", "amount": "-250.00"},
            {"deal_id": "D3", "company_id": "C1", "stage": "closedlost", "amount": "-250.00"},
            {"deal_id": "D4", "company_id": "C1", "stage": "closedwon", "amount": "0"},
        ],
    )
    result = run(deals=deals)
    assert flagged(result, "won_deal_negative") == ["D2"]
    rows = result.findings.set_index(["rule", "record_id"])
    negative = rows.loc[("won_deal_negative", "D2")]
    assert (negative["value"], negative["severity"]) == ("-250.00", "error")
    assert (
        "negative amount" in negative["message"] and "leakage leaves it out" in negative["message"]
    )
    assert rows.loc[("won_deal_amount", "D1"), "message"].startswith("won deal without amount")
    assert rows.loc[("won_deal_amount", "D4"), "message"] == "deal is won but its amount is zero"


def test_a_value_longer_than_the_matcher_compares_is_flagged_with_its_start() -> None:
    from recon.normalize.frame import MAX_COMPARED_CHARS

    long = "Acme " + "x" * (5 * MAX_COMPARED_CHARS)
    found = one_field("value_too_long", "name", ["Acme", long, "y" * MAX_COMPARED_CHARS])
    assert found == ["C2"]
    row = run(companies({"name": long})).findings.set_index("rule").loc["value_too_long"]
    assert row["severity"] == "warning"
    assert row["value"] == long[:80] + "…"
    assert row["message"] == (
        f"name is {len(long):,} characters long; only its first {MAX_COMPARED_CHARS} were "
        "compared to match the record"
    )


def test_disabled_check_finds_nothing() -> None:
    checks = RULES.checks.model_copy(
        update={"name_all_caps": RULES.checks.name_all_caps.model_copy(update={"enabled": False})}
    )
    rules = RULES.model_copy(update={"checks": checks})
    result = run(companies({"name": "ACME TRADING"}), rules=rules)
    assert flagged(result, "name_all_caps") == []


def test_findings_carry_every_column_and_the_xref_id() -> None:
    import pandas as pd

    from recon.checks.quality import FINDING_COLUMNS

    xref = pd.DataFrame({"xref_id": ["XR-000001"], "system": ["crm"], "record_id": ["C1"]})
    result = run(companies({"name": "ACME TRADING"}), xref=xref)
    assert tuple(result.findings.columns) == FINDING_COLUMNS
    row = result.findings.set_index("rule").loc["name_all_caps"]
    assert (row["system"], row["table"], row["xref_id"]) == ("crm", "crm_companies", "XR-000001")
