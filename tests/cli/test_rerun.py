"""`recon rerun RUN_JSON`: a recorded run re-runs to the same xref ids and findings; a changed input
or rule file stops it (exit 2) by name; a differing output is listed (exit 1)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from recon import resources
from recon.cli import app
from recon.resources import sample_data_dir

runner = CliRunner()
AS_OF = json.loads((sample_data_dir() / "truth_meta.json").read_text(encoding="utf-8"))["as_of"]
MONTHS = ["2026-08", "2026-09"]  # not the default twelve: the re-run must take them from run.json


@pytest.fixture
def ran(tmp_path: Path) -> Path:
    """A `recon run` of a copy of the sample data; its run.json."""
    data = tmp_path / "data"
    shutil.copytree(sample_data_dir(), data)
    out = tmp_path / "out"
    args = [str(data), "--out", str(out), "--state", str(tmp_path / "state"), "--as-of", AS_OF]
    result = runner.invoke(app, ["run", *args, "--from", MONTHS[0], "--to", MONTHS[-1]])
    assert result.exit_code == 0, result.output
    return out / "run.json"


def rerun(run_json: Path, out: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["rerun", str(run_json), "--out", str(out)])
    return result.exit_code, result.output


def xref_ids(folder: Path) -> dict[tuple[str, str], str]:
    frame = pd.read_csv(folder / "xref.csv", dtype=str)
    return dict(zip(zip(frame["system"], frame["record_id"], strict=True), frame["xref_id"],
                    strict=True))  # fmt: skip


def test_rerun_of_an_unchanged_run_gives_the_same_xref_and_findings(
    ran: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    code, output = rerun(ran, again)

    assert code == 0, output
    assert f"same xref ids and findings as run 1 ({ran})" in output
    assert xref_ids(again) == xref_ids(ran.parent)
    first = json.loads(ran.read_text(encoding="utf-8"))
    second = json.loads((again / "run.json").read_text(encoding="utf-8"))
    assert second["as_of"] == first["as_of"] == AS_OF
    assert second["months"] == first["months"] == MONTHS
    assert second["inputs"] == first["inputs"]
    # recorded in a copy of the run's store: the live store keeps its one run
    assert second["state"]["store"] == f"sqlite:///{again.resolve() / 'recon-state.sqlite'}"
    assert second["state"]["previous_run"] == 1


@pytest.mark.parametrize("change", ["edit", "delete"])
def test_an_input_file_changed_since_the_run_stops_the_rerun(
    ran: Path, tmp_path: Path, change: str
) -> None:
    deals = tmp_path / "data" / "crm_deals.csv"
    if change == "edit":
        deals.write_text(deals.read_text(encoding="utf-8").replace(",", ";", 1), encoding="utf-8")
    else:
        deals.unlink()

    code, output = rerun(ran, tmp_path / "again")

    assert code == 2, output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    said = "changed since run 1" if change == "edit" else "is missing"
    assert f"{deals.resolve()} {said}" in errors[0]
    assert "erp_orders" not in errors[0]  # only the file that changed is named
    assert not (tmp_path / "again").exists()


def test_a_rule_file_changed_since_the_run_stops_the_rerun(
    ran: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(resources.rules_dir(), rules)
    leakage = rules / "leakage.yaml"
    leakage.write_text(leakage.read_text(encoding="utf-8") + "\n# tuned\n", encoding="utf-8")
    monkeypatch.setattr(resources, "rules_dir", lambda: rules)

    code, output = rerun(ran, tmp_path / "again")

    assert code == 2, output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    assert "rules/leakage.yaml changed since run 1" in errors[0]
    assert "matching.yaml" not in errors[0]


def test_a_run_whose_outputs_differ_from_the_rerun_lists_the_differences(
    ran: Path, tmp_path: Path
) -> None:
    xref = ran.parent / "xref.csv"
    frame = pd.read_csv(xref, dtype=str, keep_default_na=False)
    system, record_id, was = frame.loc[0, ["system", "record_id", "xref_id"]]
    frame.loc[0, "xref_id"] = "XR-999999"
    frame.to_csv(xref, index=False)

    code, output = rerun(ran, tmp_path / "again")

    assert code == 1, output
    assert "1 difference(s) from run 1" in output
    assert f"xref system {system}, record_id {record_id}: XR-999999 then, {was} now" in output
