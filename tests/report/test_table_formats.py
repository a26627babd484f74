"""--format csv | parquet | both for the large tables, and --sheet-rows for the workbook."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
from typer.testing import CliRunner

from recon.cli import app
from recon.report.csvfiles import write_table
from recon.resources import sample_data_dir
from recon.schema import AMOUNT_DTYPE

FRAME = pd.DataFrame(
    {
        "record_id": pd.array(["007", "=1+1"], dtype="string"),
        "amount": pd.array([Decimal("1234.5000"), None], dtype=AMOUNT_DTYPE),
        "day": pd.to_datetime(["2026-10-31", None]),
        "value": pd.Series(["n/a", 12], dtype=object),  # a quarantined cell: whatever was read
    }
)


def test_each_format_writes_its_files(tmp_path: Path) -> None:
    assert [p.name for p in write_table(FRAME, tmp_path / "a" / "t.csv")] == ["t.csv"]
    assert [p.name for p in write_table(FRAME, tmp_path / "b" / "t.csv", "parquet")] == [
        "t.parquet"
    ]
    both = write_table(FRAME, tmp_path / "c" / "t.csv", "both")
    assert [p.name for p in both] == ["t.csv", "t.parquet"]
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["t.csv", "t.parquet"]


def test_parquet_keeps_ids_exact_amounts_and_dates(tmp_path: Path) -> None:
    (path,) = write_table(FRAME, tmp_path / "t.csv", "parquet")
    table = pq.read_table(path)
    assert str(table.schema.field("amount").type) == "decimal128(38, 4)"
    read = table.to_pydict()
    assert read["record_id"] == ["007", "=1+1"]  # no apostrophe: Parquet runs no formulas
    assert read["amount"] == [Decimal("1234.5000"), None]
    assert [d.date().isoformat() if d else None for d in read["day"]] == ["2026-10-31", None]
    assert read["value"] == ["n/a", "12"]


def test_the_commands_take_format_and_sheet_rows(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--format", "both", "--sheet-rows", "5"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    for name in ("xref", "matches", "leakage", "quality", "quarantine", "canonical/erp_orders"):
        csv, parquet = out / f"{name}.csv", out / f"{name}.parquet"
        assert csv.is_file() and parquet.is_file(), name
        assert pq.read_metadata(parquet).num_rows == len(pd.read_csv(csv, dtype=str)), name
    assert not (out / "review.parquet").exists()  # read back by `recon review apply`: CSV only
    book = openpyxl.load_workbook(out / "report.xlsx")
    leakage = list(book["Leakage"].iter_rows(values_only=True))
    assert len(leakage) == 1 + 5  # the header, five findings
    assert leakage[0][-1].endswith("all of them are in leakage.csv and leakage.parquet.")

    load = tmp_path / "load"
    result = CliRunner().invoke(
        app, ["load", str(sample_data_dir()), "--out", str(load), "--format", "parquet"]
    )
    assert result.exit_code == 0, result.output
    assert (load / "canonical" / "crm_companies.parquet").is_file()
    assert not list(load.glob("**/crm_companies.csv"))


def test_an_unknown_format_is_exit_code_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["load", str(sample_data_dir()), "--out", str(tmp_path), "--format", "xlsx"]
    )
    assert result.exit_code == 2
    assert "error: --format is 'xlsx' — expected one of csv, parquet, both" in result.output
