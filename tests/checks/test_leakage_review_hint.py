"""A deal reported as no_erp_customer (or an orphan order) names the record of the other system
that is on the review list with its company: the finding a reviewer's decision would settle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from recon.checks.leakage.prepare import _review_hints
from recon.cli import app

FILES = {
    "crm_companies.csv": "company_id,name,country\nC1,Bauer Holzbau GmbH,Germany\n",
    "erp_customers.csv": "customer_id,name,country\nK1,BAUER HOLZBAU GMBH,Germany\n",
    "crm_deals.csv": (
        "deal_id,company_id,stage,amount,close_date,currency\n"
        "D1,C1,closedwon,10000,2026-06-01,USD\n"
    ),
    "erp_orders.csv": (
        "order_id,customer_id,order_date,amount,currency,status\nO1,K1,2026-06-10,7000,USD,Billed\n"
    ),
}


def test_findings_name_the_review_candidate(tmp_path: Path) -> None:
    """Two records that share only a name: the matcher puts the pair on the review list. (The
    order is not of the deal's amount: one that were would link them, see test_leakage_evidence.)"""
    folder = tmp_path / "data"
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    args = ["leakage", str(folder), "--as-of", "2026-10-31", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    review = pd.read_csv(out / "review.csv", dtype=str)
    assert review[["left_id", "right_id"]].values.tolist() == [["C1", "K1"]]
    score = f"{float(review['score'].iloc[0]):.2f}"
    found = pd.read_csv(out / "leakage.csv", dtype=str).set_index("kind")["reason"]
    assert found["no_erp_customer"].endswith(
        f"; ERP customer K1 BAUER HOLZBAU GMBH is on the review list as a possible match "
        f"(score {score})"
    )
    assert found["orphan_order"].endswith(
        f"; CRM company C1 Bauer Holzbau GmbH is on the review list as a possible match "
        f"(score {score})"
    )


def test_the_best_scored_candidate_is_named_and_only_where_the_other_system_is_missing() -> None:
    # entities: 0 = CRM-only c1 and its duplicate c2; 1, 2 = ERP-only e1, e2; 3 = c3 with e3
    xref = pd.DataFrame(
        {
            "system": ["crm", "crm", "erp", "erp", "crm", "erp"],
            "record_id": ["c1", "c2", "e1", "e2", "c3", "e3"],
            "ent": [0, 0, 1, 2, 3, 3],
        }
    )
    has_erp = np.array([False, True, True, True])
    has_crm = np.array([True, False, False, True])
    review = pd.DataFrame(
        {
            "crm_id": ["c1", "c2", "c3"],
            "erp_id": ["e1", "e2", "e1"],
            "crm_name": ["One", "One Dup", "Three"],
            "erp_name": ["E One", "E Two", "E One"],
            "score": [0.55, 0.81, 0.9],
        }
    )
    hints = _review_hints(review, xref, has_erp, has_crm)
    assert (
        hints[0] == "; ERP customer e2 E Two is on the review list as a possible match (score 0.81)"
    )
    assert (
        hints[1] == "; CRM company c3 Three is on the review list as a possible match (score 0.90)"
    )
    assert (
        hints[2]
        == "; CRM company c2 One Dup is on the review list as a possible match (score 0.81)"
    )
    assert 3 not in hints.index  # c3 already has its ERP customer
    assert _review_hints(None, xref, has_erp, has_crm).empty
