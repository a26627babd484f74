"""Leakage against the generator's planted truth: precision and recall per kind."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from recon.config.leakage import default_leakage_rules
from recon.config.load import folder_config
from recon.extract.load import load_all
from recon.pipeline import leakage, match
from recon.sampledata import generate, write

# Measured at 4,000 entities, seed 7; the benchmark (bench/run.py) reports the 100,000 figures.
# The floors leave room for the matcher's own errors (a missed or false CRM–ERP link moves a deal
# between no_erp_customer and no_order), which the leakage check cannot see.
FLOORS = {
    "no_order": (0.93, 0.93),
    "under_billed": (0.93, 0.93),
    "pending": (0.95, 0.95),
    "no_erp_customer": (0.95, 0.97),
}


@pytest.mark.slow
def test_precision_and_recall_per_kind(tmp_path: Path) -> None:
    sample = generate(4_000, 7)
    write(sample, tmp_path)
    loaded = load_all(folder_config(tmp_path))
    result = leakage(loaded, match(loaded), default_leakage_rules(), sample.as_of)
    found = result.findings.loc[result.findings["deal_id"].notna(), ["deal_id", "kind"]]
    truth = sample.truth_leakage.astype({"deal_id": str, "kind": str})
    for kind, (p_floor, r_floor) in FLOORS.items():
        predicted = set(found.loc[found["kind"] == kind, "deal_id"])
        planted = set(truth.loc[truth["kind"] == kind, "deal_id"])
        hit = len(predicted & planted)
        precision, recall = hit / max(len(predicted), 1), hit / max(len(planted), 1)
        assert len(planted) > 20, kind
        assert precision >= p_floor and recall >= r_floor, (kind, precision, recall)
    # fulfilled deals raise no deal-level finding other than credit hold
    fulfilled = set(pd.Series(sample.tables["crm_deals"]["deal_id"]).astype(str)) - set(
        truth["deal_id"]
    )
    flagged = found.loc[found["kind"].isin(["no_order", "under_billed", "over_billed"]), "deal_id"]
    assert len(set(flagged) & fulfilled) <= 0.01 * len(fulfilled)
