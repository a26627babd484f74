"""recon.yaml and data-folder inputs: every problem named with file, key and expected value."""

from __future__ import annotations

from pathlib import Path

import pytest

from recon.config.load import folder_config, load_config, resolve_inputs
from recon.errors import ConfigError, SourceError

GOOD = """
base_currency: usd
tables:
  crm_companies: {file: companies.csv, preset: hubspot_companies}
  crm_deals: {file: deals.csv, preset: hubspot_deals, dates: {order: mdy}}
  erp_customers: {file: customers.xlsx, sheet: Customers}
  erp_orders:
    sql: {url: "sqlite:///erp.db", table: orders, chunk_rows: 1000}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "recon.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config_is_typed_and_relative_to_its_folder(tmp_path: Path) -> None:
    inputs = load_config(write(tmp_path, GOOD))
    config = inputs.config
    assert inputs.base_dir == tmp_path.resolve()
    assert config.tables["crm_deals"].dates.order == "mdy"
    assert config.tables["erp_orders"].sql is not None
    assert config.tables["erp_orders"].sql.chunk_rows == 1000
    assert config.tables["erp_customers"].preset == "canonical"


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = """
tables:
  crm_companies: {file: c.csv, csv: {decimal: ";"}}
  crm_deals: {file: d.csv, dates: {order: ymd}}
  erp_customers: {file: e.csv, shet: Customers}
  erp_orders: {sql: {url: "sqlite://", table: t, chunk_rows: many}}
"""
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    message = str(err.value)
    assert 'tables.crm_companies.csv.decimal is ";" — expected one of' in message
    assert 'tables.crm_deals.dates.order is "ymd" — expected one of' in message
    assert "tables.erp_customers.shet is not a known setting" in message
    assert 'tables.erp_orders.sql.chunk_rows is "many" — expected a whole number' in message
    assert message.count("recon.yaml") == 4


def test_missing_required_table_and_unknown_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no source given for erp_customers, erp_orders"):
        load_config(
            write(tmp_path, "tables:\n  crm_companies: {file: a.csv}\n  crm_deals: {file: b.csv}\n")
        )
    with pytest.raises(
        ConfigError, match="unknown table crm_contacts; known tables: crm_companies"
    ):
        load_config(write(tmp_path, GOOD + "  crm_contacts: {file: x.csv}\n"))


def test_file_and_sql_are_exclusive(tmp_path: Path) -> None:
    text = GOOD.replace("{file: companies.csv, preset: hubspot_companies}", "{preset: canonical}")
    with pytest.raises(ConfigError, match="crm_companies: give exactly one of 'file' or 'sql'"):
        load_config(write(tmp_path, text))


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"recon\.yaml: line 3, column \d+: not valid YAML"):
        load_config(write(tmp_path, "tables:\n  crm_companies: {file: a.csv\n  crm_deals: x\n"))


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"recon\.yaml: file not found"):
        load_config(tmp_path / "recon.yaml")


def test_folder_finds_tables_by_name_and_lists_what_it_found(tmp_path: Path) -> None:
    for name in ("crm_companies.csv", "CRM_DEALS.xlsx", "erp_customers.csv", "notes.csv"):
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    with pytest.raises(
        SourceError,
        match=r"no erp_orders\.csv or erp_orders\.xlsx; data files found: "
        r"CRM_DEALS\.xlsx, crm_companies\.csv, erp_customers\.csv, notes\.csv",
    ):
        folder_config(tmp_path)
    (tmp_path / "erp_orders.csv").write_text("x\n", encoding="utf-8")
    inputs = folder_config(tmp_path)
    assert inputs.config.tables["crm_deals"].file == "CRM_DEALS.xlsx"
    assert "erp_invoices" not in inputs.config.tables


def test_folder_with_two_files_for_one_table(tmp_path: Path) -> None:
    for name in ("crm_companies.csv", "crm_companies.xlsx"):
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"both crm_companies\.csv and crm_companies\.xlsx"):
        folder_config(tmp_path)


def test_inputs_need_exactly_one_way(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not both"):
        resolve_inputs(tmp_path, tmp_path / "recon.yaml")
    with pytest.raises(ConfigError, match="give a data folder"):
        resolve_inputs(None, None)
    with pytest.raises(SourceError, match="data folder not found"):
        resolve_inputs(tmp_path / "missing", None)
