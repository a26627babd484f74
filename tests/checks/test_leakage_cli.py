"""`recon leakage` end to end on the bundled sample data: exit codes and files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from recon.cli import app
from recon.resources import sample_data_dir

runner = CliRunner()
AS_OF = "2026-10-31"  # the sample data's as-of date


def leakage(tmp_path: Path, *args: str):
    out = tmp_path / "out"
    result = runner.invoke(app, ["leakage", str(sample_data_dir()), "--out", str(out), *args])
    return result, out


def test_new_leakage_in_the_window_exits_1_and_writes_the_files(tmp_path: Path) -> None:
    result, out = leakage(tmp_path, "--as-of", AS_OF, "--since", "30d")
    assert result.exit_code == 1, result.output
    findings = pd.read_csv(out / "leakage.csv", dtype=str)
    truth = pd.read_csv(sample_data_dir() / "truth_leakage.csv", dtype=str)
    found = set(zip(findings["deal_id"], findings["kind"], strict=True))
    planted = set(zip(truth["deal_id"], truth["kind"], strict=True))
    assert len(found & planted) >= 0.95 * len(planted)
    summary = json.loads((out / "leakage_summary.json").read_text())
    assert summary["new_leakage"] > 0 and summary["as_of"] == AS_OF
    # what auto decided, and from how many deals with named orders
    assert summary["over_billing"].startswith("orders naming no deal over-billing it: ")
    assert (
        "(auto; " in summary["over_billing"]
        and "deals with named orders" in summary["over_billing"]
    )
    totals = pd.read_csv(out / "leakage_totals.csv")
    assert set(totals["by"]) == {"kind", "owner", "month"}


def test_nothing_new_in_a_short_window_exits_0(tmp_path: Path) -> None:
    result, _ = leakage(tmp_path, "--from", "2026-10-30", "--to", AS_OF)
    assert result.exit_code == 0, result.output
    assert "new leakage since 2026-10-30: 0" in result.output


def test_bad_input_exits_2_with_one_error_line(tmp_path: Path) -> None:
    for args, text in (
        (["--since", "7x"], "--since is '7x'"),
        (["--as-of", "31/10/2026"], "--as-of is '31/10/2026'"),
        (["--since", "7d", "--from", "2026-10-01"], "either --since or --from/--to"),
    ):
        result, _ = leakage(tmp_path, *args)
        assert result.exit_code == 2, result.output
        assert result.output.strip().startswith("error: ") and text in result.output
    bad = tmp_path / "rules" / "leakage.yaml"
    bad.parent.mkdir()
    bad.write_text("date_window: {days_before_close: lots}\n", encoding="utf-8")
    result, _ = leakage(tmp_path, "--rules", str(bad))
    assert result.exit_code == 2
    assert 'date_window.days_before_close is "lots"' in result.output
