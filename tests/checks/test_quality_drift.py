"""Field drift between linked CRM companies and ERP customers: equal after normalization is no
finding; a real difference is one finding on the non-owner's record, naming the owner's value."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from checks.quality_helpers import RULES, companies, customers, run
from hypothesis import example, given, settings
from hypothesis import strategies as st

from recon.checks.quality import QualityResult
from recon.config.quality import QualityRules


def linked(crm: dict[str, Any], erp: dict[str, Any], rules: QualityRules = RULES) -> QualityResult:
    """One CRM company C1 and one ERP customer E1 in entity XR-000001."""
    xref = pd.DataFrame(
        {"xref_id": ["XR-000001"] * 2, "system": ["crm", "erp"], "record_id": ["C1", "E1"]}
    )
    return run(companies(crm), customers(erp), xref=xref, rules=rules)


def drift(result: QualityResult, field: str | None = None) -> pd.DataFrame:
    f = result.findings
    f = f[f["rule"] == "field_drift"]
    return f if field is None else f[f["field"] == field]


SAME = [
    ("name", {"name": "PT Maju Jaya Tbk"}, {"name": "Maju Jaya, PT"}, "ID"),
    ("name", {"name": "Acme Pty Ltd"}, {"name": "ACME PTY. LIMITED"}, "AU"),
    ("phone", {"phone": "+62 21 5551234"}, {"phone": "021-555-1234"}, "ID"),
    (
        "address",
        {"address": "Jl. Jend. Sudirman No. 5"},
        {"billing_address": "Jalan Jenderal Sudirman 5"},
        "ID",
    ),
    (
        "address",
        {"address": "5 Harbour Hwy"},
        {"billing_address": "5 Harbour Highway, Brisbane QLD 4069"},
        "AU",
    ),
    ("address", {"address": "Hauptstraße 5"}, {"billing_address": "HAUPTSTR. 5"}, "DE"),
    ("city", {"city": "München"}, {"city": "MUENCHEN"}, "DE"),
    ("postcode", {"postcode": "2116"}, {"postcode": "02116-7354"}, "US"),
    ("postcode", {"postcode": "sw1a1aa"}, {"postcode": "SW1A 1AA"}, "GB"),
    ("email", {"email": "AP@Acme.com "}, {"email": "ap@acme.com"}, "AU"),
    ("domain", {"website": "https://www.acme.com.au/contact"}, {"email": "ap@acme.com.au"}, "AU"),
]


@pytest.mark.parametrize(
    ("field", "crm", "erp", "country"), SAME, ids=[f"{s[0]}-{i}" for i, s in enumerate(SAME)]
)
def test_equal_after_normalization_is_not_drift(
    field: str, crm: dict, erp: dict, country: str
) -> None:
    result = linked({"country": country, **crm}, {"country": country, **erp})
    assert drift(result, field).empty


def test_country_spelled_differently_is_not_drift() -> None:
    assert drift(linked({"country": "Deutschland"}, {"country": "DE"}), "country").empty


def test_name_drift_sits_on_the_crm_record_and_names_the_erp_value_to_keep() -> None:
    result = linked({"name": "Maju Jaya"}, {"name": "PT Maju Makmur"})
    found = drift(result, "name")
    assert len(found) == 1
    row = found.iloc[0]
    assert (row["system"], row["record_id"], row["xref_id"]) == ("crm", "C1", "XR-000001")
    assert (row["value"], row["expected"], row["owner_system"]) == (
        "Maju Jaya",
        "PT Maju Makmur",
        "erp",
    )
    assert row["severity"] == "warning"
    assert "ERP record E1" in row["message"] and "differs" in row["message"]


def test_phone_drift_sits_on_the_erp_record_because_the_crm_owns_phones() -> None:
    result = linked(
        {"phone": "+62 21 5551234", "country": "ID"}, {"phone": "021-555-9999", "country": "ID"}
    )
    row = drift(result, "phone").iloc[0]
    assert (row["system"], row["record_id"], row["owner_system"]) == ("erp", "E1", "crm")
    assert (row["value"], row["expected"]) == ("021-555-9999", "+62 21 5551234")


def test_phone_of_a_record_without_country_is_read_with_the_linked_records_country() -> None:
    result = linked(
        {"phone": "020 7946 0018", "country": None}, {"phone": "+44 20 7946 0018", "country": "GB"}
    )
    assert drift(result, "phone").empty


def test_different_street_number_is_drift() -> None:
    result = linked({"address": "5 Harbour Hwy"}, {"billing_address": "7 Harbour Hwy"})
    assert drift(result, "address")["value"].tolist() == ["5 Harbour Hwy"]


def test_domain_drift_shows_the_domains() -> None:
    result = linked({"website": "www.acme.com.au"}, {"email": "ap@acme-trading.com.au"})
    row = drift(result, "domain").iloc[0]
    assert (row["system"], row["value"], row["expected"]) == (
        "erp",
        "acme-trading.com.au",
        "acme.com.au",
    )


def test_owner_filled_and_other_empty_is_reported_unless_switched_off() -> None:
    result = linked({"postcode": None}, {"postcode": "2000"})
    row = drift(result, "postcode").iloc[0]
    assert (row["record_id"], row["expected"]) == ("C1", "2000")
    assert "is empty; fill it from ERP record E1" in row["message"]
    quiet = RULES.model_copy(
        update={"ownership": RULES.ownership.model_copy(update={"report_missing": False})}
    )
    assert drift(linked({"postcode": None}, {"postcode": "2000"}, quiet), "postcode").empty


def test_owner_empty_is_never_reported() -> None:
    assert drift(linked({"postcode": "2000"}, {"postcode": None}), "postcode").empty


def test_unreadable_value_is_reported_as_such() -> None:
    row = drift(linked({"country": "Atlantis"}, {"country": "DE"}), "country").iloc[0]
    assert (row["value"], row["expected"]) == ("Atlantis", "DE")
    assert "cannot be read" in row["message"]


def test_field_severity_from_ownership_file() -> None:
    fields = dict(RULES.ownership.fields)
    fields["name"] = fields["name"].model_copy(update={"severity": "error"})
    rules = RULES.model_copy(
        update={"ownership": RULES.ownership.model_copy(update={"fields": fields})}
    )
    assert drift(linked({"name": "Maju"}, {"name": "Makmur"}, rules), "name")[
        "severity"
    ].tolist() == ["error"]


def test_fields_not_listed_are_not_compared() -> None:
    fields = {k: v for k, v in RULES.ownership.fields.items() if k != "name"}
    rules = RULES.model_copy(
        update={"ownership": RULES.ownership.model_copy(update={"fields": fields})}
    )
    assert drift(linked({"name": "Maju"}, {"name": "Makmur"}, rules)).empty


def test_only_records_sharing_an_xref_id_are_compared() -> None:
    xref = pd.DataFrame(
        {
            "xref_id": ["XR-000001", "XR-000001", "XR-000002", "XR-000003"],
            "system": ["crm", "crm", "crm", "erp"],
            "record_id": ["C1", "C2", "C3", "E1"],
        }
    )
    crm = companies({"name": "Maju"}, {"name": "Maju"}, {"name": "Makmur"})
    erp = customers({"name": "Makmur"}, {"name": "Other"})  # E2 has no xref id at all
    assert drift(run(crm, erp, xref=xref)).empty
    xref.loc[3, "xref_id"] = "XR-000001"  # E1 joins C1 and C2: both CRM duplicates drift
    assert sorted(drift(run(crm, erp, xref=xref), "name")["record_id"]) == ["C1", "C2"]


def test_no_xref_means_no_drift_and_a_note() -> None:
    result = run(companies({"name": "Maju"}), customers({"name": "Makmur"}))
    assert drift(result).empty
    assert any("drift not checked" in n for n in result.notes)


def test_fields_only_the_erp_holds_are_noted_not_compared() -> None:
    result = linked({}, {"credit_limit": "5000.00", "payment_terms": "Net 30"})
    assert drift(result, "credit_limit").empty
    assert any("credit_limit" in n for n in result.notes)


_FORMS = st.sampled_from(["PT {}", "{} PT", "PT. {} Tbk", "{}, PT", "P.T. {} TBK", "{} (PT)"])
_WORDS = st.lists(
    st.sampled_from(["maju", "jaya", "sinar", "abadi", "karya", "mulia"]),
    min_size=1,
    max_size=3,
    unique=True,
)


@settings(max_examples=30)
@given(words=_WORDS, crm_form=_FORMS, erp_form=_FORMS, shout=st.booleans())
@example(words=["maju", "jaya"], crm_form="PT {}", erp_form="{}, PT", shout=True)
def test_legal_form_placement_and_case_never_drift(
    words: list[str], crm_form: str, erp_form: str, shout: bool
) -> None:
    base = " ".join(w.title() for w in words)
    erp_name = erp_form.format(base)
    result = linked(
        {"name": crm_form.format(base), "country": "ID"},
        {"name": erp_name.upper() if shout else erp_name, "country": "ID"},
    )
    assert drift(result, "name").empty


@settings(max_examples=30)
@given(a=_WORDS, b=_WORDS)
def test_names_with_different_words_always_drift(a: list[str], b: list[str]) -> None:
    if sorted(a) == sorted(b) or a == b:
        return
    result = linked(
        {"name": "PT " + " ".join(a), "country": "ID"},
        {"name": " ".join(b) + " Tbk", "country": "ID"},
    )
    assert len(drift(result, "name")) == 1
