"""`recon run`: every stage's files plus run.json, whose counts, checksums and decisions are checked
against the files themselves."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from recon import __version__
from recon.cli import app
from recon.models import NOT_A_MATCH, ReviewDecision
from recon.resources import rules_dir
from recon.sampledata import generate, write
from recon.state import open_decisions

runner = CliRunner()
TABLES = ("crm_companies", "crm_deals", "erp_customers", "erp_orders", "erp_invoices", "fx_rates")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    write(generate(300, seed=42), folder)
    return folder


def run(args: list[str]) -> dict[str, Any]:
    result = runner.invoke(app, ["run", *args])
    assert result.exit_code == 0, result.output
    out = Path(args[args.index("--out") + 1])
    assert f"run record: {out / 'run.json'}" in result.output
    return json.loads((out / "run.json").read_text(encoding="utf-8"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_run_writes_every_stage_and_a_truthful_run_json(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    manifest = run([str(data), "--out", str(out), "--state", str(tmp_path / "state")])

    assert manifest["recon_version"] == __version__
    inputs = {entry["table"]: entry for entry in manifest["inputs"]}
    assert set(inputs) == set(TABLES)
    for table in TABLES:
        path = data / f"{table}.csv"
        assert inputs[table]["sha256"] == sha256(path)
        assert inputs[table]["rows_read"] == len(pd.read_csv(path, dtype=str))
    summary = pd.read_csv(out / "load_summary.csv").set_index("table")
    assert (
        inputs["crm_companies"]["rows_quarantined"]
        == summary.loc["crm_companies", "rows_quarantined"]
    )

    rules = {entry["path"]: entry["sha256"] for entry in manifest["rules"]}
    assert rules["matching.yaml"] == sha256(rules_dir() / "matching.yaml")
    assert any(path.startswith("sources/") for path in rules)  # presets are rules too

    match_summary = json.loads((out / "match_summary.json").read_text())
    assert manifest["counts"]["match"] == match_summary["counts"]
    assert manifest["counts"]["load"]["rows_read"] == sum(i["rows_read"] for i in inputs.values())
    for stage in ("load", "match", "report", "total"):
        assert manifest["timings_s"][stage] >= 0
    assert manifest["timings_s"]["match_steps"] == match_summary["timings_s"]
    assert manifest["decisions"] == {
        "store": str(tmp_path / "state" / "decisions.csv"),
        "stored": 0,
        "confirmed": 0,
        "rejected": 0,
        "not_applied": 0,
    }
    names = ("xref.csv", "review.csv", "canonical/crm_companies.csv", "report.html", "report.xlsx")
    for name in names:
        assert name in manifest["outputs"]
    assert all((out / name).is_file() for name in manifest["outputs"])


def test_run_includes_quality_and_monthend_as_of_the_day_given(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [str(data), "--out", str(out), "--state", str(tmp_path / "state")]
    result = runner.invoke(app, ["run", *args, "--as-of", "2026-10-31"])
    assert result.exit_code == 0, result.output
    assert "Data quality (as of 2026-10-31)" in result.output
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert manifest["as_of"] == "2026-10-31"
    findings = pd.read_csv(out / "quality.csv", dtype=str)
    assert manifest["counts"]["quality"]["findings"] == len(findings)
    # Month-end: the twelve complete months up to --as-of.
    months = manifest["counts"]["monthend"]["months"]
    assert (len(months), months[0], months[-1]) == (12, "2025-11", "2026-10")
    summary = pd.read_csv(out / "monthend_summary.csv", dtype=str)
    assert summary["month"].tolist() == months
    differences = pd.read_csv(out / "monthend_differences.csv", dtype=str)
    assert manifest["counts"]["monthend"]["differences"] == len(differences)
    for stage in ("quality", "monthend"):
        assert manifest["timings_s"][stage] >= 0

    bad = runner.invoke(app, ["run", *args, "--as-of", "31/10/2026"])
    assert bad.exit_code == 2 and "--as-of is '31/10/2026'" in bad.output


def test_run_month_end_period(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    manifest = run(
        [str(data), "--out", str(out), "--state", str(tmp_path / "s"), "--period", "2026-09"]
    )
    assert manifest["counts"]["monthend"]["months"] == ["2026-09"]
    bad = runner.invoke(app, ["run", str(data), "--out", str(out), "--period", "Sept"])
    assert bad.exit_code == 2 and "--period is 'Sept'" in bad.output


def test_run_honours_and_records_stored_decisions(data: Path, tmp_path: Path) -> None:
    first = tmp_path / "first"
    run([str(data), "--out", str(first), "--state", str(tmp_path / "empty")])
    matches = pd.read_csv(first / "matches.csv", dtype=str)
    auto = matches.loc[matches["decision"] == "auto"].iloc[0]
    state = tmp_path / "state"
    open_decisions(state).add(
        [
            ReviewDecision(
                "crm", auto["crm_company_id"], "erp", auto["erp_customer_id"], NOT_A_MATCH, "ana"
            ),
            # A record deleted from the source since it was reviewed: kept, but not applied.
            ReviewDecision("crm", "gone-1", "erp", auto["erp_customer_id"], NOT_A_MATCH, "ana"),
        ]
    )
    second = tmp_path / "second"
    result = runner.invoke(app, ["run", str(data), "--out", str(second), "--state", str(state)])
    assert result.exit_code == 0, result.output
    assert "0 confirmed and 1 rejected pairs applied; 1 name a record not in the data" in (
        result.output
    )
    manifest = json.loads((second / "run.json").read_text())
    assert manifest["decisions"]["stored"] == 2
    assert manifest["decisions"]["rejected"] == 1 and manifest["decisions"]["not_applied"] == 1
    xref = pd.read_csv(second / "xref.csv", dtype=str).set_index(["system", "record_id"])["xref_id"]
    assert xref[("crm", auto["crm_company_id"])] != xref[("erp", auto["erp_customer_id"])]


def test_run_from_recon_yaml(data: Path, tmp_path: Path) -> None:
    tables = "\n".join(f"  {t}: {{file: {data / t}.csv}}" for t in TABLES)
    config = tmp_path / "recon.yaml"
    config.write_text(f"state_dir: memory\ntables:\n{tables}\n", encoding="utf-8")
    out = tmp_path / "out"
    manifest = run(["--config", str(config), "--out", str(out)])
    assert manifest["origin"] == str(config)
    assert manifest["decisions"]["store"] == str(tmp_path.resolve() / "memory" / "decisions.csv")
    assert {e["table"] for e in manifest["inputs"]} == set(TABLES)


def test_run_with_bad_input_exits_2_and_writes_no_run_json(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "crm_companies.csv").write_text("company_id,name\n1,Acme\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(data), "--out", str(out)])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "crm_deals" in result.output
    assert not (out / "run.json").exists()
