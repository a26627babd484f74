"""End to end: a German customer whose records state no country, ordering 19% VAT on top in EUR.

Its phone (+49), domain (.de) and legal form (GmbH) say Germany, so leakage reads the order as the
deal plus VAT and month-end labels the difference as tax; the same order from a US customer is
over-billed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from recon.cli import app

runner = CliRunner()

FILES = {
    "crm_companies.csv": """company_id,name,domain,phone,address,city,country
C1,Bauer Holzbau GmbH,bauer-holzbau.de,+49 89 1234567,Hauptstrasse 5,Muenchen,
C2,Hartley Timber LLC,hartleytimber.com,+1 212 555 0123,5 Main St,New York,United States
""",
    "erp_customers.csv": """customer_id,name,phone,email,billing_address,city,country,crm_company_id
K1,BAUER HOLZBAU GMBH,+49 89 1234567,buchhaltung@bauer-holzbau.de,Hauptstrasse 5,Muenchen,,C1
K2,Hartley Timber LLC,+1 212 555 0123,ap@hartleytimber.com,5 Main St,New York,US,C2
""",
    "crm_deals.csv": """deal_id,company_id,stage,amount,close_date,currency
D1,C1,closedwon,10000,2026-06-01,EUR
D2,C2,closedwon,10000,2026-06-01,EUR
""",
    "erp_orders.csv": """order_id,customer_id,order_date,amount,currency,status
O1,K1,2026-06-10,11900,EUR,Billed
O2,K2,2026-06-10,11900,EUR,Billed
""",
    "fx_rates.csv": "currency,rate,date\nEUR,0.92,2026-06-01\n",
}


def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_leakage_and_monthend_tax_a_customer_by_the_country_its_records_show(
    tmp_path: Path,
) -> None:
    folder = data(tmp_path)
    out = tmp_path / "leakage"
    result = runner.invoke(
        app, ["leakage", str(folder), "--as-of", "2026-10-31", "--out", str(out)]
    )
    assert result.exit_code == 1, result.output  # D2's over-billing is new leakage
    findings = pd.read_csv(out / "leakage.csv", dtype=str)
    assert findings[["deal_id", "kind"]].dropna().values.tolist() == [["D2", "over_billed"]]
    xref = pd.read_csv(out / "xref.csv", dtype=str).set_index("record_id")
    assert xref.loc[["C1", "K1"], "country_inferred"].tolist() == ["DE", "DE"]
    assert xref.loc[["C2", "K2"], "country_inferred"].isna().all()  # their country is stated

    out = tmp_path / "monthend"
    result = runner.invoke(app, ["monthend", str(folder), "--period", "2026-06", "--out", str(out)])
    assert result.exit_code == 0, result.output
    diffs = pd.read_csv(out / "monthend_differences.csv", dtype=str)
    won = diffs.loc[diffs["step"] == "won→ordered"].set_index("deal_id")["kind"]
    assert won.to_dict() == {"D1": "tax", "D2": "amount_difference"}
