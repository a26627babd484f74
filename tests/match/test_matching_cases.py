"""The matching cases of matching_cases.yaml, decided by the whole matcher on generated data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from recon.config.load import folder_config
from recon.extract.load import load_all
from recon.models import MatchResult
from recon.pipeline import match
from recon.sampledata import generate, write

CASES = yaml.safe_load((Path(__file__).parent / "matching_cases.yaml").read_text("utf-8"))
FILES = {"crm": ("crm_companies.csv", "company_id"), "erp": ("erp_customers.csv", "customer_id")}


def _case_id(i: int, side: str) -> str:
    return f"CASE{i:03d}{side}"


@pytest.fixture(scope="module")
def matched(tmp_path_factory: pytest.TempPathFactory) -> MatchResult:
    folder = tmp_path_factory.mktemp("cases")
    write(generate(2_000, seed=11), folder)
    for system, (file, key) in FILES.items():
        frame = pd.read_csv(folder / file, dtype=str, keep_default_na=False)
        added = [
            {**{c: "" for c in frame.columns}, **fields, key: _case_id(i, side)}
            for i, case in enumerate(CASES)
            for side in ("a", "b")
            if (fields := {k: v for k, v in case[side].items() if k != "system"})
            and case[side]["system"] == system
        ]
        pd.concat([frame, pd.DataFrame(added)]).to_csv(folder / file, index=False)
    _add_transactions(folder)
    return match(load_all(folder_config(folder)))


def _add_transactions(folder: Path) -> None:
    """The cases' won deals (of record a) and orders (of record b)."""
    deals = pd.read_csv(folder / "crm_deals.csv", dtype=str, keep_default_na=False)
    orders = pd.read_csv(folder / "erp_orders.csv", dtype=str, keep_default_na=False)
    new_deals, new_orders = [], []
    for i, case in enumerate(CASES):
        for j, deal in enumerate(case.get("deals", [])):
            new_deals.append({**{c: "" for c in deals.columns}, **deal, "stage": "closedwon",
                              "deal_id": f"CASE{i:03d}D{j}", "company_id": _case_id(i, "a")})  # fmt: skip
        for j, order in enumerate(case.get("orders", [])):
            new_orders.append({**{c: "" for c in orders.columns}, **order, "status": "Closed",
                               "order_id": f"CASE{i:03d}O{j}", "customer_id": _case_id(i, "b")})  # fmt: skip
    pd.concat([deals, pd.DataFrame(new_deals)]).to_csv(folder / "crm_deals.csv", index=False)
    pd.concat([orders, pd.DataFrame(new_orders)]).to_csv(folder / "erp_orders.csv", index=False)


def test_cases_have_unique_names() -> None:
    names = [case[side]["name"] for case in CASES for side in ("a", "b")]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("i", range(len(CASES)), ids=[c["case"] for c in CASES])
def test_case(matched: MatchResult, i: int) -> None:
    case = CASES[i]
    records = matched.records
    key = records["system"].astype(str) + ":" + records["record_id"].astype(str)
    position = pd.Series(range(len(records)), index=key.to_numpy())
    a = int(position[f"{case['a']['system']}:{_case_id(i, 'a')}"])
    b = int(position[f"{case['b']['system']}:{_case_id(i, 'b')}"])
    entity = matched.entity.to_numpy()
    scored = matched.scored
    pair = scored[(scored["left"] == min(a, b)) & (scored["right"] == max(a, b))]
    shown = "not proposed" if pair.empty else pair.iloc[0][["decision", "probability", "reasons"]]
    assert (entity[a] == entity[b]) == case["same_entity"], shown
    if case.get("proposed"):
        assert not pair.empty
    if "decision" in case:
        assert not pair.empty and pair["decision"].iloc[0] == case["decision"], shown
    for text in case.get("reasons", []):
        assert not pair.empty and text in str(pair["reasons"].iloc[0]), shown
