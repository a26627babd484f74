"""The command line end to end: exit codes, outputs, messages without tracebacks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from recon import __version__
from recon.cli import app
from recon.errors import SourceError
from recon.resources import sample_data_dir

runner = CliRunner()

COMPANIES = "company_id,name\n1,Acme Pty Ltd\n2,Beta GmbH\n,Nameless\n"
DEALS = "deal_id,company_id,stage,amount,close_date\nD1,1,closedwon,100.00,2026-10-01\nD2,2,closedwon,=1+1,2026-10-02\n"
CUSTOMERS = "customer_id,name\nC1,ACME\n"
ORDERS = "order_id,customer_id,order_date,amount\nO1,C1,2026-10-03,100\n"
QUARANTINED = 2  # the company without an id and the deal with a formula as amount


def data_folder(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    for name, text in {
        "crm_companies": COMPANIES,
        "crm_deals": DEALS,
        "erp_customers": CUSTOMERS,
        "erp_orders": ORDERS,
    }.items():
        (data / f"{name}.csv").write_text(text, encoding="utf-8")
    return data


def test_load_writes_canonical_tables_quarantine_and_summary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["load", str(data_folder(tmp_path)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "crm_companies" in result.output and "outputs written to" in result.output
    companies = pd.read_csv(out / "canonical" / "crm_companies.csv", dtype=str)
    assert companies["company_id"].tolist() == ["1", "2"]
    quarantine = pd.read_csv(out / "quarantine.csv", dtype=str)
    assert len(quarantine) == QUARANTINED
    # The formula is kept as text and escaped so a spreadsheet does not run it.
    assert quarantine.loc[quarantine["table"] == "crm_deals", "value"].tolist() == ["'=1+1"]
    summary = pd.read_csv(out / "load_summary.csv")
    assert summary["rows_quarantined"].sum() == QUARANTINED
    assert (out / "load_summary.json").is_file()


def test_bad_input_exits_2_with_one_message(tmp_path: Path) -> None:
    data = data_folder(tmp_path)
    (data / "erp_orders.csv").write_text("order_id,customer_id\nO1,C1\n", encoding="utf-8")
    result = runner.invoke(app, ["load", str(data), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output.startswith("error: ")
    assert "erp_orders.csv" in result.output and "order_date" in result.output
    assert "Traceback" not in result.output


def test_match_reads_only_the_tables_matching_uses(tmp_path: Path) -> None:
    """Invoices are not read by ``recon match``: a broken invoice file does not stop it, and the
    load outputs list only what was read."""
    data = data_folder(tmp_path)
    (data / "erp_invoices.csv").write_text("invoice_id,customer_id\nI1,C1\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["match", str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(out / "load_summary.csv")
    assert sorted(summary["table"]) == ["crm_companies", "crm_deals", "erp_customers", "erp_orders"]
    assert not (out / "canonical" / "erp_invoices.csv").exists()
    # the same folder is bad input for a command that reads invoices
    result = runner.invoke(app, ["load", str(data), "--out", str(tmp_path / "load")])
    assert result.exit_code == 2 and "erp_invoices.csv" in result.output


def test_debug_shows_the_exception(tmp_path: Path) -> None:
    data = data_folder(tmp_path)
    (data / "erp_orders.csv").unlink()
    result = runner.invoke(app, ["--debug", "load", str(data), "--out", str(tmp_path / "o")])
    assert isinstance(result.exception, SourceError)


def test_missing_input_is_a_usage_message(tmp_path: Path) -> None:
    result = runner.invoke(app, ["load", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "give a data folder" in result.output


def test_default_out_is_a_dated_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = data_folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["load", str(data)])
    assert result.exit_code == 0, result.output
    (made,) = (tmp_path / "recon-out").iterdir()
    assert made.name.endswith("_load")
    assert (made / "load_summary.csv").is_file()


def test_demo_runs_on_bundled_sample_data(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    source = pd.read_csv(sample_data_dir() / "crm_companies.csv", dtype=str)
    loaded = pd.read_csv(out / "canonical" / "crm_companies.csv", dtype=str)
    quarantine = pd.read_csv(out / "quarantine.csv", dtype=str)
    in_quarantine = quarantine.loc[quarantine["table"] == "crm_companies", "row"].nunique()
    assert len(loaded) + in_quarantine == len(source)


def test_sample_data_is_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        result = runner.invoke(app, ["sample-data", "-n", "40", "--seed", "7", "--out", str(out)])
        assert result.exit_code == 0, result.output
    files = sorted(p.name for p in a.iterdir())
    assert "crm_companies.csv" in files and "truth_entities.csv" in files
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_sample_data_rejects_bad_date(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sample-data", "--as-of", "31/10/2026", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "--as-of is '31/10/2026'" in result.output


@pytest.mark.skipif(shutil.which("recon") is None, reason="recon console script not installed")
def test_console_script_is_installed() -> None:
    done = subprocess.run(["recon", "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert done.stdout.strip() == f"recon {__version__}"


def test_module_runs_without_console_script() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "recon.cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.strip() == f"recon {__version__}"
