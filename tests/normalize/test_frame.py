"""normalize_records on canonical CRM and ERP frames, and tax-id normalization."""

from __future__ import annotations

import pandas as pd
import pytest

from recon.normalize import COLUMNS, default_rules, normalize_records, normalize_tax_ids

RULES = default_rules()

CRM = pd.DataFrame(
    {
        "company_id": ["0012", "0013", "0014"],
        "name": ["PT Maju Jaya Tbk", "Müller GmbH", "Acme Pty. Ltd."],
        "domain": [None, "mueller.de", None],
        "website": ["https://www.majujaya.co.id/about?x=1", None, "WWW.ACME.COM.AU"],
        "email": ["x@gmail.com", None, "ap@gmail.com"],
        "phone": ["021-555-1234", "030 1234567", "(02) 9555 1234"],
        "address": ["Jl. Jend. Sudirman No. 5", "Hauptstraße 5", "Level 3, 1 George St"],
        "city": ["Jakarta", "Berlin", "Sydney"],
        "postcode": ["10220", "10115", "2000"],
        "country": ["Indonesia", "Deutschland", "AU"],
        "owner": ["a", "b", "c"],
    },
    index=[5, 6, 7],
)
ERP = pd.DataFrame(
    {
        "customer_id": ["C-1", "C-2"],
        "name": ["MAJU JAYA, PT", "Acme Pty Limited"],
        "billing_address": ["Jalan Jenderal Sudirman Nomor 5", "1 George Street, Level 3"],
        "tax_id": ["01.234.567.8-901.000", "ABN 51 824 753 556"],
        "country": ["ID", "Australia"],
    }
)


def test_crm_frame() -> None:
    got = normalize_records(CRM, "crm", RULES)
    assert list(got.columns) == list(COLUMNS)
    assert got.index.tolist() == [5, 6, 7]
    assert got["record_id"].tolist() == ["0012", "0013", "0014"]  # ids stay text
    assert set(got["system"]) == {"crm"}
    assert got["name"].tolist() == CRM["name"].tolist()
    assert got["name_norm"].tolist() == ["maju jaya", "mueller", "acme"]
    assert got["legal_form"].tolist() == ["PT TBK", "GMBH", "PTY_LTD"]
    assert got["domain"].tolist() == ["majujaya.co.id", "mueller.de", "acme.com.au"]
    assert got["domain_source"].tolist() == ["website", "domain", "website"]
    assert got["address_norm"].tolist() == ["jl jend sudirman 5", "hauptstr 5", "1 george st"]
    assert got["unit"].tolist()[2] == "level 3"
    assert got["country_code"].tolist() == ["ID", "DE", "AU"]
    assert got["phone_e164"].tolist() == ["+62215551234", "+49301234567", "+61295551234"]
    assert got["tax_id_norm"].isna().all()  # the CRM has no tax id
    assert str(got["freemail"].dtype) == "boolean"
    assert all(str(got[c].dtype) == "string" for c in COLUMNS if c != "freemail")


def test_erp_frame_with_missing_optional_columns() -> None:
    got = normalize_records(ERP, "erp", RULES)
    assert list(got.columns) == list(COLUMNS)
    assert got["name_norm"].tolist() == ["maju jaya", "acme"]
    assert got["address_norm"].tolist() == ["jl jend sudirman 5", "1 george st"]  # billing_address
    assert got["tax_id_norm"].tolist() == ["012345678901000", "51824753556"]
    for column in ("domain", "domain_source", "phone_e164", "postcode_norm", "city_norm"):
        assert got[column].isna().all(), column
    assert got["freemail"].tolist() == [False, False]


def test_crm_and_erp_keys_meet() -> None:
    crm = normalize_records(CRM, "crm", RULES).set_index("name_norm")
    erp = normalize_records(ERP, "erp", RULES).set_index("name_norm")
    for key in ("maju jaya", "acme"):
        assert crm.loc[key, "address_norm"] == erp.loc[key, "address_norm"]
        assert crm.loc[key, "country_code"] == erp.loc[key, "country_code"]


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="name"):
        normalize_records(CRM.drop(columns="name"), "crm", RULES)
    with pytest.raises(ValueError, match="system"):
        normalize_records(CRM, "sap", RULES)  # type: ignore[arg-type]


def test_empty_frame() -> None:
    got = normalize_records(CRM.iloc[:0], "crm", RULES)
    assert list(got.columns) == list(COLUMNS) and len(got) == 0


@pytest.mark.parametrize(
    ("tax_id", "country", "expected"),
    [
        ("GB123456789", "GB", "123456789"),
        ("123456789", "GB", "123456789"),
        ("GB 123 4567 89", "UK", "123456789"),
        ("VAT: GB123456789", "GB", "123456789"),
        ("GB123456789", None, "123456789"),  # no country: any VAT prefix before digits goes
        ("DE 123456789", "DE", "123456789"),
        ("DE123456789", "GB", "DE123456789"),  # another country's prefix is kept
        ("EL123456789", "GR", "123456789"),
        ("CHE-123.456.789 MWST", "CH", "123456789"),
        ("NL123456789B01", "NL", "123456789B01"),
        ("01.234.567.8-901.000", "ID", "012345678901000"),  # NPWP
        ("0012345678901000", "ID", "012345678901000"),  # its 16-digit form
        ("NPWP: 01.234.567.8-901.000", "Indonesia", "012345678901000"),
        ("ABN 51 824 753 556", "AU", "51824753556"),
        ("12-3456789", "US", "123456789"),
        ("n/a", None, None),
        ("000000", None, None),
        ("-", "GB", None),
        (None, "GB", None),
    ],
)
def test_normalize_tax_ids(tax_id, country, expected) -> None:
    got = normalize_tax_ids(pd.Series([tax_id], dtype="string"), pd.Series([country]), RULES)
    assert [None if pd.isna(v) else v for v in got] == [expected]


def test_text_longer_than_the_cap_is_cut_before_it_is_normalized(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 5 MB name and address cost what a normal one does: only their start is normalized."""
    from recon.normalize.frame import MAX_COMPARED_CHARS, cap_text

    crm = CRM.copy()
    crm.loc[5, "name"] = "PT Maju Jaya " + "x" * 5_000_000
    crm.loc[6, "address"] = "Hauptstraße 5 " * 400_000
    with caplog.at_level("WARNING", logger="recon.normalize.frame"):
        got = normalize_records(crm, "crm", RULES)
    assert got["name_norm"].str.len().max() <= MAX_COMPARED_CHARS
    assert got["address_norm"].str.len().max() <= MAX_COMPARED_CHARS
    assert got.loc[5, "name_norm"].startswith("maju jaya x")
    assert got.loc[5, "name"] == crm.loc[5, "name"]  # the record keeps its whole value
    assert got.loc[7, "name_norm"] == normalize_records(CRM, "crm", RULES).loc[7, "name_norm"]
    assert "1 address, 1 name longer than 500 characters" in caplog.text
    capped, n = cap_text(pd.Series(["a" * 501, "b" * 500, None]))
    assert (capped.str.len().fillna(-1).tolist(), n) == ([500, 500, -1], 1)
