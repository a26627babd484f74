"""Generated records look like real exports: names, legal forms, addresses, postcodes, phones,
tax ids, domains and e-mail, countries and owners vary the way they do in the wild."""

from __future__ import annotations

import re

import pandas as pd
import phonenumbers
import pytest
from sampledata.sampledata_helpers import clean

from recon.sampledata import SampleData, vocab

SPELLING_TO_CODE = {s: code for code, options in vocab.COUNTRY_NAMES.items() for s, *_ in options}
FREEMAIL = {d for options in vocab.FREEMAIL.values() for d, _ in options}
POSTCODE = {
    "ID": r"\d{5}",
    "AU": r"\d{4}",
    "NZ": r"\d{4}",
    "US": r"\d{5}(-\d{4})?",
    "GB": r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}",
    "DE": r"\d{5}",
}


@pytest.fixture(scope="module")
def records(medium: SampleData) -> pd.DataFrame:
    """CRM and ERP records side by side, with system, entity and country code."""
    crm = clean(medium, "crm_companies").rename(columns={"company_id": "record_id"})
    erp = clean(medium, "erp_customers").rename(
        columns={"customer_id": "record_id", "billing_address": "address"}
    )
    both = pd.concat([crm.assign(system="crm"), erp.assign(system="erp")], ignore_index=True)
    both = both.merge(medium.truth_entities, on=["system", "record_id"])
    return both.assign(code=both["country"].map(SPELLING_TO_CODE))


# --- names ---------------------------------------------------------------------------------------


def test_erp_names_are_often_in_capitals(records: pd.DataFrame) -> None:
    names = records["name"]
    caps = names == names.str.upper()
    assert caps[records["system"] == "erp"].mean() == pytest.approx(0.40, abs=0.05)
    assert caps[records["system"] == "crm"].mean() < 0.08


@pytest.mark.parametrize(
    ("pattern", "meaning"),
    [
        (r"^PT\. ", "PT. prefix"),
        (r"^PT ", "PT prefix"),
        (r", PT$", "PT after a comma"),
        (r"\bTbk\.?$|\bTBK$", "Tbk"),
        (r"^CV\.? ", "CV"),
        (r" Pty\. Ltd\.$", "Pty. Ltd."),
        (r" Pty Limited$", "Pty Limited"),
        (r" PTY LTD$", "PTY LTD"),
        (r", Inc\.?$", ", Inc."),
        (r" Incorporated$", "Incorporated"),
        (r" LLC$", "LLC"),
        (r" GmbH$", "GmbH"),
        (r" GmbH & Co\.? KG$", "GmbH & Co. KG"),
        (r" (?:plc|PLC)$", "plc"),
        (r"\b(?:Intl|Mfg|Svcs|Bros|Corp)\b", "an abbreviation"),
    ],
)
def test_legal_forms_and_abbreviations_are_written_many_ways(
    records: pd.DataFrame, pattern: str, meaning: str
) -> None:
    assert records["name"].str.contains(pattern, regex=True).any(), meaning


def test_one_entity_is_named_differently_in_its_records(records: pd.DataFrame) -> None:
    per_entity = records.groupby("entity_id")["name"].agg(["nunique", "size"])
    several = per_entity[per_entity["size"] > 1]
    assert (several["nunique"] > 1).mean() > 0.6
    de = records[records["code"] == "DE"]
    umlaut = set(de.loc[de["name"].str.contains("[üöä]", regex=True), "entity_id"])
    folded = set(de.loc[de["name"].str.contains("ue|oe|ae", regex=True), "entity_id"])
    assert umlaut & folded  # Müller in one record, Mueller in another


# --- addresses -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "forms"),
    [
        ("ID", [r"^Jl\. ", r"^Jalan ", r"No\. ?\d", r"Lt\. ?\d|Lantai \d"]),
        ("AU", [r" St$", r" Street$", r"^Unit \d+, |^\d+/\d+ ", r"^Level \d+, "]),
        ("US", [r" Ave$", r" Avenue$", r", Suite \d+| Ste \d+| #\d+"]),
        ("GB", [r" Rd$", r" Road$"]),
        ("DE", [r"str\. \d+", r"straße \d+", r"(?i)strasse \d+"]),
    ],
)
def test_street_addresses_are_spelled_many_ways(
    records: pd.DataFrame, code: str, forms: list[str]
) -> None:
    lines = records.loc[records["code"] == code, "address"].dropna()
    for form in forms:
        assert lines.str.contains(form, regex=True).any(), form


def test_postcodes_have_each_countrys_format(records: pd.DataFrame) -> None:
    known = records.dropna(subset=["code", "postcode"])
    for code, pattern in POSTCODE.items():
        values = known.loc[known["code"] == code, "postcode"]
        assert len(values) > 0
        assert values.str.fullmatch(pattern).all(), code
    assert known["postcode"].str.startswith("0").any()  # Boston, Leipzig, Darwin
    assert known["postcode"].str.fullmatch(r"\d{5}-\d{4}").any()  # ZIP+4


def test_countries_are_written_as_names_and_codes_in_mixed_case(records: pd.DataFrame) -> None:
    spellings = set(records["country"].dropna())
    assert {"Indonesia", "ID", "indonesia", "United Kingdom", "UK", "GB", "Deutschland", "DE"} <= (
        spellings
    )
    assert records["country"].isna().any()


# --- phones --------------------------------------------------------------------------------------


def test_phones_parse_as_numbers_of_their_country(records: pd.DataFrame) -> None:
    rows = records.dropna(subset=["phone", "code"])
    possible = valid = 0
    for phone, code in zip(rows["phone"], rows["code"], strict=True):
        number = phonenumbers.parse(phone, code)
        possible += phonenumbers.is_possible_number(number)
        valid += phonenumbers.is_valid_number(number)
    assert possible / len(rows) > 0.99
    assert valid / len(rows) > 0.97


@pytest.mark.parametrize(
    "pattern",
    [
        r"^\+62 21 \d{8}$",
        r"^0\d{2,3}-\d{6,8}$",
        r"^\(0\d\) \d{4} \d{4}$",
        r"^\+61 \d \d{4} \d{4}$",
        r"^\(\d{3}\) 555-\d{4}$",
        r"^\+44 20 \d{4} \d{4}$",
        r"^0\d{2,3} \d{6,8}$",
    ],
)
def test_phones_are_written_in_several_formats(records: pd.DataFrame, pattern: str) -> None:
    assert records["phone"].dropna().str.contains(pattern, regex=True).any()


def test_different_entities_never_share_a_phone_number(records: pd.DataFrame) -> None:
    digits = records.dropna(subset=["phone", "code"])
    national = digits.apply(
        lambda r: phonenumbers.parse(r["phone"], r["code"]).national_number, axis=1
    )
    owners = digits.groupby(national.to_numpy())["entity_id"].nunique()
    assert owners.max() == 1


# --- tax ids -------------------------------------------------------------------------------------


def _abn_ok(d: str) -> bool:
    w = [10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19]
    n = [int(c) for c in d]
    n[0] -= 1
    return sum(a * b for a, b in zip(n, w, strict=True)) % 89 == 0


def _de_ok(d: str) -> bool:
    product = 10
    for c in d[:8]:
        s = (int(c) + product) % 10 or 10
        product = (2 * s) % 11
    return (11 - product) % 10 == int(d[8])


def _gb_ok(d: str) -> bool:
    return (
        sum(int(c) * w for c, w in zip(d[:7], range(8, 1, -1), strict=True)) + int(d[7:])
    ) % 97 == 0


def _nzbn_ok(d: str) -> bool:
    total = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(d[:12]))
    return d.startswith("9429") and (10 - total % 10) % 10 == int(d[12])


def test_tax_ids_are_valid_and_spelled_differently(records: pd.DataFrame) -> None:
    erp = records[records["system"] == "erp"]
    assert erp["tax_id"].isna().mean() == pytest.approx(0.4, abs=0.05)
    assert records.loc[records["system"] == "crm", "tax_id"].isna().all()
    checks = {
        "AU": lambda d: len(d) == 11 and _abn_ok(d),
        "DE": lambda d: len(d) == 9 and _de_ok(d),
        "GB": lambda d: len(d) == 9 and _gb_ok(d),
        "NZ": lambda d: len(d) == 13 and _nzbn_ok(d),
        "US": lambda d: len(d) == 9 and int(d[:2]) in vocab.EIN_PREFIXES,
        "ID": lambda d: len(d) == 15 or (len(d) == 16 and d[0] == "0"),
    }
    with_id = erp.dropna(subset=["tax_id", "code"])
    for code, ok in checks.items():
        ids = with_id.loc[with_id["code"] == code, "tax_id"]
        digits = ids.str.replace(r"\D", "", regex=True)
        assert digits.map(ok).all(), code
        assert ids.nunique() > 0
    spelled = with_id["tax_id"]
    for form in (r"^\d{2}\.\d{3}\.\d{3}\.\d-\d{3}\.\d{3}$", r"^\d{2} \d{3} \d{3} \d{3}$",
                 r"^\d{2}-\d{7}$", r"^GB\d{9}$", r"^DE\d{9}$", r"^DE \d{3} \d{3} \d{3}$"):  # fmt: skip
        assert spelled.str.contains(form, regex=True).any(), form


def test_erp_duplicates_usually_share_the_tax_id(records: pd.DataFrame) -> None:
    erp = records[records["system"] == "erp"].dropna(subset=["tax_id"])
    digits = erp["tax_id"].str.replace(r"\D", "", regex=True).str.lstrip("0")
    per_entity = digits.groupby(erp["entity_id"]).agg(["nunique", "size"])
    duplicated = per_entity[per_entity["size"] > 1]
    assert len(duplicated) > 0
    assert (duplicated["nunique"] == 1).all()


# --- web and e-mail ------------------------------------------------------------------------------


def test_domains_carry_the_countrys_suffix(records: pd.DataFrame) -> None:
    crm = records[records["system"] == "crm"].dropna(subset=["domain", "code"])
    for code, options in vocab.DOMAIN_SUFFIXES.items():
        domains = crm.loc[crm["code"] == code, "domain"]
        suffixes = tuple(s for s, _ in options)
        assert domains.map(lambda d, s=suffixes: d.endswith(s)).all(), code
    assert crm["domain"].str.endswith(".co.id").any() and crm["domain"].str.endswith(".de").any()


def test_websites_are_written_many_ways(records: pd.DataFrame) -> None:
    sites = records["website"].dropna()
    for pattern in (r"^https://www\.", r"^http://[^w]", r"^www\.", r"^[a-z0-9-]+\.", r"/about$"):
        assert sites.str.contains(pattern, regex=True).any(), pattern


def test_free_mail_is_in_both_systems_and_shared_by_unrelated_entities(
    records: pd.DataFrame,
) -> None:
    mail = records.dropna(subset=["email"])
    domain = mail["email"].str.split("@").str[1]
    free = mail[domain.isin(FREEMAIL)]
    assert set(free["system"]) == {"crm", "erp"}
    users = free.groupby(domain[domain.isin(FREEMAIL)])["entity_id"].nunique()
    assert users.max() > 1  # gmail.com is no evidence that two records are one company


def test_a_domain_is_a_website_on_one_side_and_an_email_on_the_other(
    records: pd.DataFrame,
) -> None:
    site = records["website"].str.extract(r"^(?:https?://)?(?:www\.)?([^/]+)")[0]
    mail = records["email"].str.split("@").str[1]
    crm_sites = set(zip(records["entity_id"][records["system"] == "crm"], site, strict=False))
    erp_mails = {
        (e, d)
        for e, d, s in zip(records["entity_id"], mail, records["system"], strict=True)
        if s == "erp" and isinstance(d, str) and d not in FREEMAIL
    }
    assert crm_sites & erp_mails


# --- CRM details -----------------------------------------------------------------------------------


def test_owners_and_dates(medium: SampleData) -> None:
    crm = clean(medium, "crm_companies")
    owners = set(crm["owner"].dropna())
    assert 10 <= len(owners) <= 14
    assert crm["owner"].isna().any()
    as_of = str(medium.as_of)
    assert (crm["created_at"] <= crm["updated_at"]).all()
    assert (crm["updated_at"] <= as_of).all()
    stale = crm["updated_at"] < str(medium.as_of.replace(year=medium.as_of.year - 2))
    assert 0.05 < stale.mean() < 0.2


def test_ids_look_like_the_systems_ids(medium: SampleData) -> None:
    crm = clean(medium, "crm_companies")["company_id"]
    assert crm.str.fullmatch(r"\d{10}").all()
    deals = clean(medium, "crm_deals")["deal_id"]
    assert deals.str.fullmatch(r"\d{11}").all()
    customers = clean(medium, "erp_customers")["customer_id"]
    assert customers.str.fullmatch(r"C?\d{6}").all()
    legacy = customers[~customers.str.startswith("C")]
    assert len(legacy) > 0 and legacy.str.startswith("0").all()
    assert clean(medium, "erp_orders")["order_id"].str.fullmatch(r"SO\d{7}").all()
    assert clean(medium, "erp_invoices")["invoice_id"].str.fullmatch(r"INV\d{7}").all()
    assert re.fullmatch(r"E\d{6}", medium.truth_entities["entity_id"].iloc[0])
