"""Leakage decisions from written-down cases (leakage_cases.yaml): deals, orders, rule, verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from checks.leakage_helpers import AS_OF, frames, rules_with, run

from recon.checks.leakage import link_orders

CASES = yaml.safe_load((Path(__file__).parent / "leakage_cases.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    built = frames(
        case["deals"],
        case["orders"],
        crm_only=tuple(case.get("crm_only", ())),
        countries=case.get("countries"),
        inferred=case.get("inferred"),
        fx=case.get("fx"),
    )
    findings = run(built, rules_with(case.get("rules"))).findings
    deals = findings.loc[findings["deal_id"].notna() & (findings["kind"] != "credit_hold")]
    got = dict(zip(deals["deal_id"], zip(deals["kind"], deals["reason"], strict=True), strict=True))
    assert sorted(got) == sorted(case["expect"]), got
    for deal_id, (kind, text) in case["expect"].items():
        assert got[deal_id][0] == kind, got[deal_id]
        assert text in got[deal_id][1], got[deal_id][1]


@pytest.mark.parametrize(
    "case", [c for c in CASES if "links" in c], ids=[c["name"] for c in CASES if "links" in c]
)
def test_links(case: dict[str, Any]) -> None:
    """``links``: order id → the deal it pays, through the public ``link_orders``."""
    built = frames(
        case["deals"], case["orders"], countries=case.get("countries"), fx=case.get("fx")
    )
    links = link_orders(built, rules_with(case.get("rules")), as_of=AS_OF)
    got = dict(zip(links["order_id"], links["deal_id"], strict=True))
    assert got == case["links"]
