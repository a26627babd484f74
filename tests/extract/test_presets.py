"""Source presets: every bundled preset loads, and maps its vendor's real export onto the model.

Each vendor case writes a CSV with the headers that vendor's export screen produces (see the
``notes:`` of each preset for where they were checked), with a UTF-8 BOM and some headers in odd
case and spacing, reads it the way the CSV reader does (text, empty = NA, ``_row``) and checks the
canonical values.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from recon import resources
from recon.errors import ConfigError, SourceError
from recon.extract.presets import (
    CANONICAL,
    MappedChunk,
    apply_preset,
    canonical_preset,
    known_presets,
    load_preset,
    normalize_header,
)
from recon.schema import TABLES

SOURCES = resources.rules_dir() / "sources"
BUNDLED = sorted(p.stem for p in SOURCES.glob("*.yaml") if p.stem != CANONICAL)


# --- fixture builders ---------------------------------------------------------------------------


def odd(headers: list[str]) -> list[str]:
    """Headers as a hand-edited export has them: odd case, stray and doubled spaces."""
    out = list(headers)
    out[0] = out[0].upper()
    if len(out) > 1:
        out[1] = f"  {out[1].lower()} "
    if len(out) > 2:
        out[2] = out[2].replace(" ", "  ") + " "
    return out


def write_csv(path: Path, headers: list[str], rows: list[list[str]]) -> Path:
    """A comma-separated export with a UTF-8 BOM, quoting every field."""
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows([headers, *rows])
    path.write_bytes(out.getvalue().encode("utf-8-sig"))
    return path


def write_export(path: Path, export: str) -> Path:
    """Write a vendor export with a BOM, its headers made odd as a hand-edited file has them."""
    headers, *rows = csv.reader(io.StringIO(export))
    return write_csv(path, odd(headers), rows)


def raw_chunk(path: Path) -> pd.DataFrame:
    """Read a CSV into the raw-chunk shape: source headers, text values, NA for empty, _row."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    frame = frame.astype("string")
    frame = frame.mask(frame == "")
    frame["_row"] = pd.Series(range(2, 2 + len(frame)), dtype="int64")
    return frame


def chunk(columns: dict[str, list[Any]]) -> pd.DataFrame:
    """A raw chunk built in memory, for headers a CSV reader would already have cleaned."""
    frame = pd.DataFrame(columns).astype("string")
    frame["_row"] = pd.Series(range(2, 2 + len(frame)), dtype="int64")
    return frame


def write_preset(rules: Path, name: str, body: str) -> Path:
    folder = rules / "sources"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(body, encoding="utf-8")
    return path


# --- every bundled preset -----------------------------------------------------------------------


def test_bundled_presets_are_known() -> None:
    names = known_presets()
    assert names[0] == CANONICAL
    for expected in (
        "hubspot_companies",
        "hubspot_deals",
        "salesforce_accounts",
        "salesforce_opportunities",
        "netsuite_customers",
        "netsuite_transactions",
        "netsuite_invoices",
        "odoo_customers",
        "odoo_sale_orders",
        "odoo_invoices",
    ):
        assert expected in names
    assert "canonical" not in BUNDLED  # the documentation file is not a second canonical


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_preset_loads_and_covers_the_required_columns(name: str) -> None:
    table = yaml.safe_load((SOURCES / f"{name}.yaml").read_text(encoding="utf-8"))["table"]
    preset = load_preset(name, table)
    assert preset.name == name
    assert preset.title and preset.notes
    for column in TABLES[table].required:
        assert preset.columns.get(column), f"{name} has no header for required {column}"
    for column, headers in preset.columns.items():
        normalized = [normalize_header(h) for h in headers]
        assert len(set(normalized)) == len(normalized), f"{name}: {column} repeats a header"
    assert name in known_presets(table=table)


@pytest.mark.parametrize("table", list(TABLES))
def test_canonical_maps_every_column_to_itself(table: str) -> None:
    preset = load_preset(CANONICAL, table)
    assert preset == canonical_preset(table)
    assert preset.columns == {c: (c,) for c in TABLES[table].names}
    raw = chunk({c.upper(): ["x"] for c in TABLES[table].names})
    mapped = apply_preset(raw, preset, {}, source=f"{table}.csv")
    assert list(mapped.frame.columns) == [*TABLES[table].names, "_row"]
    assert mapped.missing_optional == () and mapped.unused_columns == ()


# --- vendor exports -----------------------------------------------------------------------------

# Each export as the vendor writes it (header row, one record), and the canonical values expected.
VENDOR_CASES: dict[str, dict[str, Any]] = {
    "hubspot_companies": {
        "csv": (
            "Record ID,Company name,Company Domain Name,Website URL,Phone Number,Street Address,"
            "City,State/Region,Postal Code,Country/Region,Company owner,Create Date,"
            "Last Modified Date,Industry\n"
            "9001,Bluebay Gaming Ltd,bluebay.example,https://www.bluebay.example,"
            "+44 20 7946 0000,1 Example Street,London,,EC1A 1BB,United Kingdom,Sam Sales,"
            "2024-02-01 09:30,2026-01-15 10:00,Gaming\n"
        ),
        "expect": {
            "company_id": "9001",
            "name": "Bluebay Gaming Ltd",
            "domain": "bluebay.example",
            "website": "https://www.bluebay.example",
            "postcode": "EC1A 1BB",
            "country": "United Kingdom",
            "region": pd.NA,
            "owner": "Sam Sales",
            "created_at": "2024-02-01 09:30",
            "erp_customer_id": pd.NA,
        },
        "unused": ["Industry"],
    },
    "hubspot_deals": {
        "csv": (
            "Record ID,Deal Name,Deal Stage,Amount,Close Date,Deal owner,Pipeline,Currency,"
            "Associated Company IDs,Last Activity Date\n"
            "18000000001,Bluebay - New Business,Closed Won,25000,2026-10-31,Sam Sales,"
            "Sales Pipeline,GBP,9001;9002,2026-10-20\n"
        ),
        "expect": {
            "deal_id": "18000000001",
            "company_id": "9001",
            "stage": "Closed Won",
            "amount": "25000",
            "close_date": "2026-10-31",
            "currency": "GBP",
            "pipeline": "Sales Pipeline",
            "owner": "Sam Sales",
        },
        "unused": ["Last Activity Date"],
    },
    "salesforce_accounts": {
        "csv": (
            '"Account Owner","Account Name","Account ID","Type","Website","Phone",'
            '"Billing Street","Billing City","Billing State/Province","Billing Zip/Postal Code",'
            '"Billing Country","Created Date","Last Modified Date"\n'
            '"Carolyn Philips","Acme Corp","001A0000006Vm9r","Customer","acme.example",'
            '"(415) 555-0100","1 Market St","San Francisco","CA","94105","United States",'
            '"3/30/2026","4/1/2026"\n'
        ),
        "expect": {
            "company_id": "001A0000006Vm9rIAC",
            "name": "Acme Corp",
            "website": "acme.example",
            "address": "1 Market St",
            "region": "CA",
            "postcode": "94105",
            "owner": "Carolyn Philips",
            "updated_at": "4/1/2026",
            "domain": pd.NA,
        },
        "unused": ["Type"],
    },
    "salesforce_opportunities": {
        "csv": (
            '"Opportunity Owner","Account Name","Opportunity Name","Stage","Amount","Close Date",'
            '"Opportunity ID","Account ID","Opportunity Currency"\n'
            '"Carolyn Philips","Acme Corp","Acme renewal","Closed Won","42000","10/31/2026",'
            '"006E200000aIb6Z","001A0000006Vm9r","USD"\n'
        ),
        "expect": {
            "deal_id": "006E200000aIb6ZIAS",
            "company_id": "001A0000006Vm9rIAC",
            "stage": "Closed Won",
            "amount": "42000",
            "close_date": "10/31/2026",
            "deal_name": "Acme renewal",
            "currency": "USD",
            "pipeline": pd.NA,
        },
        "unused": ["Account Name"],
    },
    "netsuite_customers": {
        "csv": (
            "Internal ID,Name,Company Name,Email,Phone,Billing Address 1,Billing City,"
            "Billing State/Province,Billing Zip,Billing Country,Tax Number,Credit Limit,Terms,"
            "Balance\n"
            "1234,Acme Corp,Acme Corporation,ap@acme.example,415-555-0100,1 Market St,"
            'San Francisco,CA,94105,United States,94-1234567,"50,000.00",Net 30,"1,250.00"\n'
        ),
        "expect": {
            "customer_id": "Acme Corp",
            "name": "Acme Corporation",
            "tax_id": "94-1234567",
            "credit_limit": "50,000.00",
            "payment_terms": "Net 30",
            "ar_balance": "1,250.00",
            "billing_address": "1 Market St",
            "postcode": "94105",
            "crm_company_id": pd.NA,
        },
        "unused": ["Internal ID"],
    },
    "netsuite_transactions": {
        "csv": (
            "Internal ID,Date,Type,Document Number,Name,Account,PO/Check Number,Status,Memo,"
            "Currency,Amount (Foreign Currency),Amount\n"
            "5501,10/3/2026,Sales Order,SO1001,Acme Corp,Sales,PO-77,Pending Fulfillment,"
            'HS deal 18000000001,EUR,"1,000.00","1,085.00"\n'
        ),
        "expect": {
            "order_id": "SO1001",
            "customer_id": "Acme Corp",
            "order_date": "10/3/2026",
            "amount": "1,000.00",
            "currency": "EUR",
            "status": "Pending Fulfillment",
            "crm_deal_ref": "HS deal 18000000001",
        },
        "unused": ["Internal ID", "Type", "Account", "PO/Check Number", "Amount"],
    },
    "netsuite_invoices": {
        "csv": (
            "Internal ID,Date,Document Number,Name,Due Date/Receive By,Amount,Amount Paid,"
            "Amount Remaining,Currency,Status\n"
            '7701,10/5/2026,INV2001,Acme Corp,11/4/2026,"1,000.00",400.00,600.00,USD,Open\n'
        ),
        "expect": {
            "invoice_id": "INV2001",
            "customer_id": "Acme Corp",
            "invoice_date": "10/5/2026",
            "amount": "1,000.00",
            "due_date": "11/4/2026",
            "paid_amount": "400.00",
            "status": "Open",
            "order_id": pd.NA,
        },
        "unused": ["Internal ID", "Amount Remaining"],
    },
    "odoo_customers": {
        "csv": (
            '"Complete Name","Name","Email","Phone","Website Link","Street","City","State","Zip",'
            '"Country","Tax ID","Credit Limit","Customer Payment Terms","Total Receivable"\n'
            '"Deco Addict","Deco Addict","deco.addict82@example.com","(603)-996-3829",'
            '"http://www.deco-addict.com","77 Santa Barbara Rd","Pleasant Hill",'
            '"California (US)","94523","United States","BE0477472701","10000.0","30 Days",'
            '"1350.5"\n'
        ),
        "expect": {
            "customer_id": "Deco Addict",
            "name": "Deco Addict",
            "website": "http://www.deco-addict.com",
            "region": "California (US)",
            "tax_id": "BE0477472701",
            "payment_terms": "30 Days",
            "ar_balance": "1350.5",
        },
        "unused": [],
    },
    "odoo_sale_orders": {
        "csv": (
            '"Order Reference","Order Date","Customer","Salesperson","Total","Currency","Status",'
            '"Customer Reference","Source Document"\n'
            '"S00012","2026-10-03 14:30:00","Deco Addict","Mitchell Admin","1740.0","USD",'
            '"Sales Order","PO-4411","HS-18000000001"\n'
        ),
        "expect": {
            "order_id": "S00012",
            "customer_id": "Deco Addict",
            "order_date": "2026-10-03 14:30:00",
            "amount": "1740.0",
            "currency": "USD",
            "status": "Sales Order",
            "crm_deal_ref": "HS-18000000001",
        },
        "unused": ["Salesperson", "Customer Reference"],
    },
    "odoo_invoices": {
        "csv": (
            '"Number","Partner","Invoice/Bill Date","Due Date","Total","Amount Due","Currency",'
            '"Status","Origin"\n'
            '"INV/2026/00007","Deco Addict","2026-10-05","2026-11-04","1740.0","0.0","USD",'
            '"Posted","S00012, S00013"\n'
        ),
        "expect": {
            "invoice_id": "INV/2026/00007",
            "customer_id": "Deco Addict",
            "invoice_date": "2026-10-05",
            "order_id": "S00012",
            "status": "Posted",
            "paid_amount": pd.NA,
        },
        "unused": ["Amount Due"],
    },
}


def test_every_bundled_preset_has_a_vendor_case() -> None:
    assert sorted(VENDOR_CASES) == BUNDLED


@pytest.mark.parametrize("name", sorted(VENDOR_CASES))
def test_vendor_export_maps_onto_the_canonical_table(name: str, tmp_path: Path) -> None:
    case = VENDOR_CASES[name]
    path = write_export(tmp_path / f"{name}.csv", case["csv"])
    raw = raw_chunk(path)
    table = next(t for t in TABLES if name in known_presets(table=t))
    preset = load_preset(name, table)

    mapped = apply_preset(raw, preset, {}, source=path.name)

    spec = TABLES[table]
    assert list(mapped.frame.columns) == [*spec.names, "_row"]
    assert all(mapped.frame[c].dtype == "string" for c in spec.names)
    assert mapped.frame["_row"].tolist() == [2]
    row = mapped.frame.iloc[0]
    for column, value in case["expect"].items():
        if value is pd.NA:
            assert pd.isna(row[column]), f"{name}: {column} should be missing"
        else:
            assert row[column] == value, f"{name}: {column}"
    assert [normalize_header(h) for h in mapped.unused_columns] == [
        normalize_header(h) for h in case["unused"]
    ]
    unmapped = [c for c in spec.names if c not in mapped.mapping]
    assert mapped.missing_optional == tuple(unmapped)
    assert set(mapped.mapping.values()) <= set(raw.columns)


def test_stage_and_status_values() -> None:
    hubspot = load_preset("hubspot_deals", "crm_deals")
    assert {"closedwon", "Closed Won"} <= set(hubspot.won_stages)
    assert {"closedlost", "Closed Lost"} <= set(hubspot.lost_stages)
    salesforce = load_preset("salesforce_opportunities", "crm_deals")
    assert "Closed Won" in salesforce.won_stages and "Closed Lost" in salesforce.lost_stages
    netsuite = load_preset("netsuite_transactions", "erp_orders")
    assert "Cancelled" in netsuite.cancelled_statuses
    assert "Closed" not in netsuite.cancelled_statuses  # closed orders may be partly billed
    odoo = load_preset("odoo_sale_orders", "erp_orders")
    assert {"cancel", "Cancelled"} <= set(odoo.cancelled_statuses)


def test_salesforce_report_and_data_loader_exports_give_the_same_ids(tmp_path: Path) -> None:
    preset = load_preset("salesforce_accounts", "crm_companies")
    report = raw_chunk(
        write_csv(tmp_path / "r.csv", ["Account ID", "Account Name"], [["001A0000006Vm9r", "A"]])
    )
    loader = chunk({"Id": ["001A0000006Vm9rIAC"], "Name": ["A"]})
    ids = [
        apply_preset(raw, preset, {}, source="x").frame["company_id"].tolist()
        for raw in (report, loader)
    ]
    assert ids == [["001A0000006Vm9rIAC"], ["001A0000006Vm9rIAC"]]


# --- header matching, overrides and transforms --------------------------------------------------


def test_headers_match_ignoring_bom_case_and_spacing() -> None:
    raw = chunk(
        {
            "\ufeffrecord id": ["1"],
            " DEAL   NAME ": ["D"],
            "deal stage": ["closedwon"],
            "Amount": ["5"],
            "close\tdate": ["2026-01-01"],
            "Associated Company IDs": ["9"],
        }
    )
    mapped = apply_preset(raw, load_preset("hubspot_deals", "crm_deals"), {}, source="d.csv")
    assert mapped.mapping["deal_id"] == "\ufeffrecord id"
    assert mapped.mapping["deal_name"] == " DEAL   NAME "
    assert mapped.frame.loc[0, "deal_id"] == "1"


def test_first_alternative_found_wins() -> None:
    raw = chunk(
        {
            "Associated Company IDs": ["1;2"],
            "Associated Company IDs (Primary)": ["2"],
            "Record ID": ["D1"],
            "Deal Stage": ["x"],
            "Amount": ["1"],
            "Close Date": ["2026-01-01"],
        }
    )
    mapped = apply_preset(raw, load_preset("hubspot_deals", "crm_deals"), {}, source="d.csv")
    assert mapped.mapping["company_id"] == "Associated Company IDs (Primary)"
    assert mapped.frame.loc[0, "company_id"] == "2"
    assert mapped.unused_columns == ("Associated Company IDs",)


def test_override_wins_over_the_preset() -> None:
    raw = chunk(
        {
            "Record ID": ["D1"],
            "HubSpot Company": ["77"],
            "Associated Company IDs": ["9001"],
            "Deal Stage": ["Closed Won"],
            "Amount": ["10"],
            "Close Date": ["2026-01-01"],
        }
    )
    preset = load_preset("hubspot_deals", "crm_deals")
    mapped = apply_preset(raw, preset, {"company_id": "hubspot company"}, source="d.csv")
    assert mapped.mapping["company_id"] == "HubSpot Company"
    assert mapped.frame.loc[0, "company_id"] == "77"
    assert "Associated Company IDs" in mapped.unused_columns


def test_override_fills_a_column_the_preset_does_not_know() -> None:
    raw = chunk({"company_id": ["1"], "name": ["A"], "NetSuite ID": ["C-9"]})
    mapped = apply_preset(
        raw, canonical_preset("crm_companies"), {"erp_customer_id": "NetSuite ID"}, source="c"
    )
    assert mapped.frame.loc[0, "erp_customer_id"] == "C-9"
    assert "erp_customer_id" not in mapped.missing_optional


def test_override_naming_an_absent_header_is_a_source_error() -> None:
    raw = chunk({"Record ID": ["D1"], "Deal Stage": ["x"]})
    with pytest.raises(SourceError) as err:
        apply_preset(
            raw,
            load_preset("hubspot_deals", "crm_deals"),
            {"amount": "Deal Value"},
            source="deals.csv",
        )
    assert str(err.value) == (
        'deals.csv: columns.amount in recon.yaml is "Deal Value", but the file has no such '
        "column; columns found: Record ID, Deal Stage"
    )


def test_override_naming_an_unknown_canonical_column_is_a_config_error() -> None:
    raw = chunk({"company_id": ["1"], "name": ["A"]})
    with pytest.raises(ConfigError, match="not canonical columns of crm_companies"):
        apply_preset(raw, canonical_preset("crm_companies"), {"company": "name"}, source="c.csv")


def test_first_of_list_takes_the_first_id() -> None:
    values = ["123;456", "123, 456", " ;456", "789", None, ";", "12;"]
    raw = chunk(
        {
            "Record ID": [f"D{i}" for i in range(len(values))],
            "Associated Company IDs": values,
            "Deal Stage": ["x"] * len(values),
            "Amount": ["1"] * len(values),
            "Close Date": ["2026-01-01"] * len(values),
        }
    )
    mapped = apply_preset(raw, load_preset("hubspot_deals", "crm_deals"), {}, source="d.csv")
    assert mapped.frame["company_id"].tolist() == ["123", "123", "456", "789", pd.NA, pd.NA, "12"]


def test_transforms_run_in_order(tmp_path: Path) -> None:
    write_preset(
        tmp_path,
        "shouting",
        "name: shouting\ntitle: t\ntable: crm_companies\n"
        "columns: {company_id: Id, name: Name}\n"
        "transforms: {company_id: [strip, salesforce_id18], name: [strip, upper]}\n",
    )
    preset = load_preset("shouting", "crm_companies", tmp_path)
    raw = chunk({"Id": [" 001A0000006Vm9r "], "Name": ["  acme  "]})
    frame = apply_preset(raw, preset, {}, source="a.csv").frame
    assert frame.loc[0, "company_id"] == "001A0000006Vm9rIAC"
    assert frame.loc[0, "name"] == "ACME"


def test_header_only_chunk_maps_to_an_empty_frame() -> None:
    raw = chunk({"Order Reference": [], "Customer": [], "Order Date": [], "Total": []})
    mapped = apply_preset(raw, load_preset("odoo_sale_orders", "erp_orders"), {}, source="o")
    assert len(mapped.frame) == 0
    assert list(mapped.frame.columns) == [*TABLES["erp_orders"].names, "_row"]


def test_mapped_chunk_keeps_row_numbers_and_index() -> None:
    raw = chunk({"order_id": ["O1", "O2"], "customer_id": ["C"] * 2, "order_date": ["d"] * 2})
    raw["amount"] = pd.array(["1", None], dtype="string")
    raw["_row"] = pd.Series([5, 9], dtype="int64")
    mapped = apply_preset(raw, canonical_preset("erp_orders"), {}, source="o.csv")
    assert isinstance(mapped, MappedChunk)
    assert mapped.frame["_row"].tolist() == [5, 9]
    assert mapped.frame["_row"].dtype == "int64"
    assert mapped.frame["amount"].tolist() == ["1", pd.NA]
    assert mapped.missing_optional == ("currency", "status", "crm_deal_ref")


def test_a_large_chunk_maps_quickly() -> None:
    n = 200_000
    raw = chunk(
        {
            "Opportunity ID": ["006E200000aIb6Z"] * n,
            "Account ID": ["001A0000006Vm9r"] * n,
            "Stage": ["Closed Won"] * n,
            "Amount": ["1"] * n,
            "Close Date": ["1/2/2026"] * n,
        }
    )
    preset = load_preset("salesforce_opportunities", "crm_deals")
    frame = apply_preset(raw, preset, {}, source="o.csv").frame
    assert (frame["company_id"] == "001A0000006Vm9rIAC").all()


# --- messages -----------------------------------------------------------------------------------


def test_unknown_preset_names_the_known_ones_for_the_table() -> None:
    with pytest.raises(ConfigError) as err:
        load_preset("hubspot_deal", "crm_deals")
    assert str(err.value) == (
        "unknown preset 'hubspot_deal' for crm_deals; "
        "known presets for crm_deals: canonical, hubspot_deals, salesforce_opportunities"
    )


def test_a_name_that_is_not_a_file_name_is_unknown() -> None:
    with pytest.raises(ConfigError, match=r"unknown preset '\.\./hubspot_deals'"):
        load_preset("../hubspot_deals", "crm_deals")


def test_missing_required_column_message(tmp_path: Path) -> None:
    write_preset(
        tmp_path,
        "hubspot_deals",
        "name: hubspot_deals\ntitle: t\ntable: crm_deals\n"
        "columns:\n  deal_id: [Record ID, Deal ID]\n  company_id: [Deal Name]\n"
        "  stage: [Deal Name]\n  amount: [Amount]\n  close_date: [Close Date]\n",
    )
    raw = chunk({"Deal Name": ["x"], "Amount": ["1"], "Close Date": ["2026-01-01"]})
    with pytest.raises(SourceError) as err:
        apply_preset(
            raw, load_preset("hubspot_deals", "crm_deals", tmp_path), {}, source="deals.csv"
        )
    assert str(err.value) == (
        'deals.csv: no column for deal_id (the hubspot_deals preset looks for "Record ID" or '
        '"Deal ID"); columns found: Deal Name, Amount, Close Date'
    )


def test_every_missing_required_column_is_named_at_once() -> None:
    raw = chunk({"Deal Name": ["x"], "Amount": ["1"], "Close Date": ["2026-01-01"]})
    with pytest.raises(SourceError) as err:
        apply_preset(raw, load_preset("hubspot_deals", "crm_deals"), {}, source="deals.csv")
    message = str(err.value)
    assert message.startswith(
        'deals.csv: no column for deal_id (the hubspot_deals preset looks for "Record ID", '
        '"Deal ID" or "hs_object_id"); no column for company_id'
    )
    assert "no column for stage" in message
    assert message.endswith("; columns found: Deal Name, Amount, Close Date")


def test_required_column_without_preset_headers_points_to_recon_yaml(tmp_path: Path) -> None:
    write_preset(tmp_path, "thin", "name: thin\ntitle: t\ntable: fx_rates\ncolumns: {rate: Rate}\n")
    with pytest.raises(SourceError, match=r"has no header for it; name one with columns\.currency"):
        apply_preset(
            chunk({"Rate": ["1"]}), load_preset("thin", "fx_rates", tmp_path), {}, source="f"
        )


def test_headers_equal_after_normalizing_are_ambiguous() -> None:
    raw = chunk({"Amount": ["1"], "amount ": ["2"], "Record ID": ["D"]})
    with pytest.raises(SourceError, match='columns "Amount" and "amount " differ only in case'):
        apply_preset(raw, load_preset("hubspot_deals", "crm_deals"), {}, source="d.csv")


def test_malformed_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write_preset(tmp_path, "broken", "name: broken\ncolumns: [unclosed\n")
    with pytest.raises(ConfigError) as err:
        load_preset("broken", "crm_deals", tmp_path)
    assert str(err.value).startswith(f"{path}: line ")
    assert "not valid YAML" in str(err.value)


def test_preset_failing_validation_names_the_file_and_key(tmp_path: Path) -> None:
    path = write_preset(
        tmp_path,
        "bad",
        "name: bad\ntitle: t\ntable: crm_deals\ncolumns: {deal_id: Id, dealname: Name}\n"
        "transforms: {deal_id: [titlecase]}\nwon_stage: [Won]\n",
    )
    with pytest.raises(ConfigError) as err:
        load_preset("bad", "crm_deals", tmp_path)
    message = str(err.value)
    assert f'{path}: transforms.deal_id[0] is "titlecase" — expected one of' in message
    assert f"{path}: won_stage is not a known setting (check its spelling)" in message


def test_preset_with_an_unknown_column_names_it(tmp_path: Path) -> None:
    path = write_preset(
        tmp_path, "bad", "name: bad\ntitle: t\ntable: crm_deals\ncolumns: {dealname: Name}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_preset("bad", "crm_deals", tmp_path)
    assert str(err.value).startswith(f"{path}: ")
    assert "dealname are not canonical columns of crm_deals" in str(err.value)


def test_preset_for_another_table_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        load_preset("hubspot_companies", "crm_deals")
    assert "preset 'hubspot_companies' is for crm_companies, not crm_deals" in str(err.value)
    assert "known presets for crm_deals: canonical, hubspot_deals" in str(err.value)


def test_name_must_match_the_file_name(tmp_path: Path) -> None:
    write_preset(tmp_path, "mine", "name: yours\ntitle: t\ntable: fx_rates\ncolumns: {rate: R}\n")
    with pytest.raises(ConfigError, match='name is "yours" — expected "mine"'):
        load_preset("mine", "fx_rates", tmp_path)


def test_transforms_must_name_canonical_columns(tmp_path: Path) -> None:
    write_preset(
        tmp_path,
        "mine",
        "name: mine\ntitle: t\ntable: fx_rates\ncolumns: {rate: R}\ntransforms: {fx: [upper]}\n",
    )
    with pytest.raises(ConfigError, match="transforms name fx, which are not canonical columns"):
        load_preset("mine", "fx_rates", tmp_path)


def test_a_preset_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    write_preset(tmp_path, "list", "- a\n- b\n")
    with pytest.raises(ConfigError, match="expected a preset with name, title, table and columns"):
        load_preset("list", "crm_deals", tmp_path)


def test_known_presets_skip_unreadable_files_when_filtering(tmp_path: Path) -> None:
    write_preset(tmp_path, "good", "name: good\ntitle: t\ntable: fx_rates\ncolumns: {rate: R}\n")
    write_preset(tmp_path, "broken", "name: [\n")
    assert known_presets(tmp_path) == ["canonical", "broken", "good"]
    assert known_presets(tmp_path, table="fx_rates") == ["canonical", "good"]
    assert known_presets(tmp_path / "nowhere") == ["canonical"]


def test_unknown_table_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown table 'deals'"):
        load_preset(CANONICAL, "deals")


@pytest.mark.parametrize("name", ["hubspot_deals", "netsuite_transactions", "odoo_invoices"])
def test_chunks_from_the_csv_reader_map_the_same(name: str, tmp_path: Path) -> None:
    from recon.config.models import CsvOptions
    from recon.extract.files import read_csv_chunks

    path = write_export(tmp_path / f"{name}.csv", VENDOR_CASES[name]["csv"])
    table = next(t for t in TABLES if name in known_presets(table=t))
    preset = load_preset(name, table)
    (read,) = list(read_csv_chunks(path, CsvOptions()))
    ours = apply_preset(raw_chunk(path), preset, {}, source="x").frame
    theirs = apply_preset(read, preset, {}, source="x").frame
    pd.testing.assert_frame_equal(theirs[ours.columns], ours)


def test_columns_found_shows_a_few_names_each_cut_short() -> None:
    names = ["Deal Name", "Amount"] + [f"Custom property {i} " + "x" * 50 for i in range(20)]
    raw = chunk({n: ["v"] for n in names})
    with pytest.raises(SourceError) as err:
        apply_preset(raw, load_preset("hubspot_deals", "crm_deals"), {}, source="deals.csv")
    found = str(err.value).split("; columns found: ")[1]
    shown = found.split(" and ")[0].split(", ")
    assert len(shown) == 8
    assert shown[:3] == ["Deal Name", "Amount", "Custom property 0 xxxxxxxxxxxxxxxxxxxxx…"]
    assert all(len(name) <= 40 for name in shown)
    assert found.endswith(" and 14 more")


def test_a_first_line_that_is_no_header_is_not_quoted() -> None:
    """The first line of /proc/self/environ or a binary file is content, not column names."""
    raw = chunk({"SECRET_TOKEN=hunter2": ["x"], "PATH=/usr/bin\x00HOME=/root": ["y"]})
    with pytest.raises(SourceError) as err:
        apply_preset(raw, load_preset(CANONICAL, "erp_customers"), {}, source="c.csv")
    message = str(err.value)
    assert message.endswith(
        "; no header recon recognises (the first line is not a list of column names)"
    )
    assert "hunter2" not in message and "PATH" not in message
