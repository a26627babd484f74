"""Month-end reads VAT differences as the leakage check does: with ``auto``, a reading the named
orders never show (here: deal amounts including VAT) explains no difference in either report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from recon.cli import app

N = 200  # deals whose orders name them and match exactly: enough for auto to decide


def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    ids = [f"{i:03d}" for i in range(N + 1)]
    companies = pd.DataFrame(
        {
            "company_id": [f"C{i}" for i in ids],
            "name": [f"Company {i} Ltd" for i in ids],
            "country": "GB",
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": [f"K{i}" for i in ids],
            "name": [f"Company {i} Ltd" for i in ids],
            "country": "GB",
            "crm_company_id": [f"C{i}" for i in ids],
        }
    )
    amounts = [1000 + 10 * k for k in range(N)] + [10000]
    deals = pd.DataFrame(
        {
            "deal_id": [f"D{i}" for i in ids],
            "company_id": [f"C{i}" for i in ids],
            "stage": "closedwon",
            "amount": amounts,
            "close_date": "2026-06-05",
            "currency": "GBP",
        }
    )
    # the last deal's order is the deal less 20% VAT: under-billed, unless deals include VAT
    orders = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in ids],
            "customer_id": [f"K{i}" for i in ids],
            "order_date": "2026-06-12",
            "amount": [*amounts[:-1], 8333.33],
            "currency": "GBP",
            "status": "Billed",
            "crm_deal_ref": [f"D{i}" for i in ids],
        }
    )
    for name, frame in (
        ("crm_companies", companies),
        ("erp_customers", customers),
        ("crm_deals", deals),
        ("erp_orders", orders),
    ):
        frame.to_csv(folder / f"{name}.csv", index=False)
    (folder / "fx_rates.csv").write_text("currency,rate,date\nGBP,0.78,2026-06-01\n")
    return folder


def test_a_vat_reading_auto_did_not_allow_explains_nothing_in_month_end(tmp_path: Path) -> None:
    folder = data(tmp_path)
    last = f"D{N:03d}"
    runner = CliRunner()
    result = runner.invoke(
        app, ["monthend", str(folder), "--period", "2026-06", "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 0, result.output
    assert "deal amounts including tax: not allowed (auto" in result.output
    diffs = pd.read_csv(tmp_path / "m" / "monthend_differences.csv", dtype=str)
    step = diffs.loc[diffs["step"] == "won→ordered"]
    assert step.loc[step["deal_id"] == last, "kind"].tolist() == ["amount_difference"]
    assert "tax" not in set(step["kind"])

    args = ["leakage", str(folder), "--as-of", "2026-10-31", "--out", str(tmp_path / "l")]
    result = runner.invoke(app, args)
    findings = pd.read_csv(tmp_path / "l" / "leakage.csv", dtype=str)
    assert findings.loc[findings["deal_id"] == last, "kind"].tolist() == ["under_billed"]
