"""`recon quality` end to end on the bundled sample data, and a malformed rules file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from recon.checks.quality import FINDING_COLUMNS
from recon.cli import app
from recon.resources import rules_dir, sample_data_dir

runner = CliRunner()


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("quality") / "out"
    state = out.parent / "state"
    args = ["quality", str(sample_data_dir()), "--out", str(out), "--state", str(state)]
    result = runner.invoke(app, [*args, "--as-of", "2026-10-31"])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_quality_writes_findings_and_summary(sample_run: tuple[Path, str]) -> None:
    out, output = sample_run
    findings = pd.read_csv(out / "quality.csv", dtype=str, keep_default_na=False)
    assert tuple(findings.columns) == FINDING_COLUMNS
    assert {"required", "field_drift", "country_not_iso", "stale_record"} <= set(findings["rule"])
    assert set(findings["severity"]) <= {"error", "warning", "info"}
    drift = findings[findings["rule"] == "field_drift"]
    assert (drift["owner_system"] != drift["system"]).all() and drift["xref_id"].ne("").all()
    xref = pd.read_csv(out / "xref.csv", dtype=str)
    assert set(drift["xref_id"]) <= set(xref["xref_id"])
    summary = pd.read_csv(out / "quality_summary.csv")
    scores = summary[summary["section"] == "score"].set_index("table")
    assert set(scores.index) == {"crm_companies", "erp_customers", "crm_deals"}
    assert scores["score"].between(0, 1).all()
    assert "Data quality (as of 2026-10-31)" in output and "score: share of records" in output


def test_malformed_rules_file_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    data = yaml.safe_load((rules_dir() / "quality.yaml").read_text(encoding="utf-8"))
    data["checks"]["stale_record"]["months"] = "two years"
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "quality.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    args = [
        "quality",
        str(sample_data_dir()),
        "--out",
        str(tmp_path / "out"),
        "--rules",
        str(folder),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert 'quality.yaml: checks.stale_record.months is "two years"' in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_bad_as_of_is_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["quality", str(sample_data_dir()), "--as-of", "31/10/2026"])
    assert result.exit_code == 2
    assert "--as-of is '31/10/2026'" in result.output
