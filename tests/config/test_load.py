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


# --- YAML that would eat the machine ------------------------------------------------------------


def alias_bomb(levels: int = 9) -> str:
    """ "Billion laughs": each level names the one below nine times; 9**9 values in 11 lines."""
    out = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        out.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(out) + "\n"


def test_alias_bomb_is_refused_before_it_is_built(tmp_path: Path) -> None:
    path = write(tmp_path, alias_bomb() + "tables: {crm_companies: {file: c.csv, csv: *l9}}\n")
    with pytest.raises(ConfigError, match=r"recon\.yaml: refused: with its aliases expanded"):
        load_config(path)


def test_an_alias_inside_itself_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="an alias refers to a block that contains it"):
        load_config(write(tmp_path, "tables: &t {crm_companies: *t}\n"))


def test_a_few_aliases_are_still_fine(tmp_path: Path) -> None:
    text = (
        "csv_defaults: &semi {delimiter: ';', decimal: ','}\n"
        "tables:\n"
        "  crm_companies: {file: c.csv, csv: *semi}\n"
        "  crm_deals: {file: d.csv, csv: *semi}\n"
        "  erp_customers: {file: e.csv}\n"
        "  erp_orders: {file: o.csv}\n"
    )
    with pytest.raises(ConfigError) as err:  # only the unknown key, not the aliases
        load_config(write(tmp_path, text))
    assert "csv_defaults is not a known setting" in str(err.value)
    assert "refused" not in str(err.value)


def test_an_oversized_yaml_file_is_refused_unread(tmp_path: Path) -> None:
    path = write(tmp_path, "# padding\n" * 600_000)
    with pytest.raises(ConfigError, match=r"recon\.yaml: is 6,000,000 bytes"):
        load_config(path)


def test_rule_files_go_through_the_same_guard(tmp_path: Path) -> None:
    from recon.config.matching import load_matching_rules

    path = tmp_path / "matching.yaml"
    path.write_text(alias_bomb(), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"matching\.yaml: refused"):
        load_matching_rules(path)


# --- folder entries that are not files ----------------------------------------------------------


def _minimal_folder(tmp_path: Path) -> Path:
    for name in ("crm_companies", "crm_deals", "erp_customers", "erp_orders"):
        (tmp_path / f"{name}.csv").write_text("x\n", encoding="utf-8")
    return tmp_path


def test_optional_table_that_is_a_folder_or_loop_is_noted(tmp_path: Path) -> None:
    folder = _minimal_folder(tmp_path)
    (folder / "erp_invoices.csv").mkdir()
    (folder / "fx_rates.csv").symlink_to("fx_rates.csv")
    inputs = folder_config(folder)
    assert "erp_invoices" not in inputs.config.tables
    assert inputs.notes == (
        f"{folder / 'erp_invoices.csv'} is a folder, not a data file; erp_invoices was not loaded "
        "(it is optional)",
        f"{folder / 'fx_rates.csv'} is a symbolic link that leads to no file (it loops or its "
        "target is gone); fx_rates was not loaded (it is optional)",
    )


def test_required_table_that_is_a_folder_is_an_error_naming_it(tmp_path: Path) -> None:
    folder = _minimal_folder(tmp_path)
    (folder / "crm_deals.csv").unlink()
    (folder / "crm_deals.csv").mkdir()
    with pytest.raises(SourceError, match=r"crm_deals\.csv: is a folder, not a data file"):
        folder_config(folder)
