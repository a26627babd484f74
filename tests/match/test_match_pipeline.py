"""The whole matcher on generated data: accuracy against ground truth, outputs, determinism."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from recon.cli import app
from recon.config.load import folder_config
from recon.extract.load import load_all
from recon.pipeline import match
from recon.sampledata import generate, write

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from accuracy import entity_scores

runner = CliRunner()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    write(generate(2_000, seed=5), folder)
    return folder


def test_accuracy_on_generated_data(data: Path) -> None:
    result = match(load_all(folder_config(data)))
    truth = pd.read_csv(data / "truth_entities.csv", dtype=str)
    predicted = pd.DataFrame(
        {
            "system": result.records["system"].astype(str),
            "record_id": result.records["record_id"].astype(str),
            "entity": result.entity.to_numpy(),
        }
    )
    scores = entity_scores(predicted, truth)
    # The benchmark's targets at scale are F1 0.97 (precision 0.98) and duplicate F1 0.93; a small
    # set has few pairs, so the test keeps a margin and still fails if matching breaks.
    assert scores["cross"].precision >= 0.97
    assert scores["cross"].f1 >= 0.95
    assert scores["duplicates"].f1 >= 0.9


def test_match_command_writes_every_output_identically_twice(data: Path, tmp_path: Path) -> None:
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        result = runner.invoke(app, ["match", str(data), "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert "CRM–ERP links (auto)" in result.output
    names = [
        "xref.csv",
        "matches.csv",
        "duplicates.csv",
        "review.csv",
        "crm_import.csv",
        "erp_import.csv",
        "xref_claims.csv",
    ]
    for name in names:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name

    out = outs[0]
    xref = pd.read_csv(out / "xref.csv", dtype=str)
    crm = pd.read_csv(out / "canonical" / "crm_companies.csv", dtype=str)
    erp = pd.read_csv(out / "canonical" / "erp_customers.csv", dtype=str)
    assert len(xref) == len(crm) + len(erp)
    assert not xref.duplicated(["system", "record_id"]).any()
    assert xref["xref_id"].str.fullmatch(r"XR-\d{6,}").all()

    matches = pd.read_csv(out / "matches.csv", dtype=str)
    assert set(matches["decision"]) <= {"auto", "review"}
    assert matches["reasons"].notna().all()
    linked = matches[matches["decision"] == "auto"]
    pair_xref = xref.set_index(["system", "record_id"])["xref_id"]
    left = pair_xref.loc[list(zip(["crm"] * len(linked), linked["crm_company_id"], strict=True))]
    right = pair_xref.loc[list(zip(["erp"] * len(linked), linked["erp_customer_id"], strict=True))]
    assert (left.to_numpy() == right.to_numpy()).all()  # an auto link means one xref id

    review = pd.read_csv(out / "review.csv", dtype=str, keep_default_na=False)
    assert {"decision", "reviewer", "comment"} <= set(review.columns)
    assert (review["decision"] == "").all()

    crm_import = pd.read_csv(out / "crm_import.csv", dtype=str)
    assert sorted(crm_import["company_id"]) == sorted(crm["company_id"])
