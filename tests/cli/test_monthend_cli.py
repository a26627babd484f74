"""``recon monthend`` end to end on the bundled sample data: exit codes, files, tie-out in the CSVs."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from recon.cli import app
from recon.resources import sample_data_dir

runner = CliRunner()
FILES = (
    "monthend_summary.csv",
    "monthend_differences.csv",
    "monthend_by_entity.csv",
    "monthend_by_owner.csv",
    "monthend_by_currency.csv",
    "ar_overview.csv",
)
STEPS = {
    "won→ordered": "won_to_ordered",
    "ordered→invoiced": "ordered_to_invoiced",
    "invoiced→paid": "invoiced_to_paid",
}


def test_monthend_writes_files_that_tie_out(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["monthend", str(sample_data_dir()), "--from", "2026-09", "--to", "2026-10"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Month-end 2026-09 to 2026-10 (USD)" in result.output
    assert "tie-out" in result.output and "month-end files written to" in result.output
    for name in FILES:
        assert (out / name).is_file(), name
    summary = pd.read_csv(out / "monthend_summary.csv", dtype=str)
    assert summary["month"].tolist() == ["2026-09", "2026-10"]
    diffs = pd.read_csv(out / "monthend_differences.csv", dtype=str)
    for row in summary.itertuples():
        for step, column in STEPS.items():
            rows = diffs[(diffs["month"] == row.month) & (diffs["step"] == step)]
            explained = sum((Decimal(v) for v in rows["amount_base"]), Decimal(0))
            assert explained == Decimal(getattr(row, column)), (row.month, step)
    assert diffs["explanation"].notna().all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--period", "2026-13"],
            "error: --period is '2026-13' — expected a month such as 2026-10",
        ),
        (["--from", "2026-10", "--to", "2026-08"], "error: --to 2026-08 is before --from 2026-10"),
        (
            ["--period", "2026-10", "--from", "2026-08"],
            "error: give either --period or --from/--to",
        ),
        ([], "error: give --period YYYY-MM"),
    ],
)
def test_bad_period_exits_2_with_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    cmd = ["monthend", str(sample_data_dir()), *args, "--out", str(tmp_path / "o")]
    result = runner.invoke(app, cmd)
    assert result.exit_code == 2
    assert result.output.startswith(message)
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
