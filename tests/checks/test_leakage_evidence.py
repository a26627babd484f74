"""Orders as evidence of a link the matcher missed: a won deal of a CRM company with no ERP
customer and an order of an ERP customer with no CRM company, of one amount, days apart."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd

from recon.checks.leakage import Frames
from tests.checks.leakage_helpers import frames, rules_with, run

CLOSE = dt.date(2026, 5, 4)
CRM_NAME = "Hayford"
ERP_NAME = "HAYFORD & DUNSHAW INC"


def _apart(
    order_amount: float = 12345,
    days: int = 10,
    erp_name: str = ERP_NAME,
    rivals: int = 0,
    keys: dict[str, tuple[str, str]] | None = None,
    twice: bool = False,
) -> Frames:
    """CRM company A (CRM only, one won deal D1 of 12,345) and ERP customer B (ERP only, order
    SO1 ``days`` after the close); ``rivals`` more ERP-only customers with the same order."""
    deals = [{"deal_id": "D1", "company": "A", "amount": 12345, "close_date": CLOSE}]
    customers = ["B"] + [f"R{i}" for i in range(rivals)]
    orders = [
        {"order_id": f"SO-{c}", "customer": c, "amount": order_amount,
         "order_date": CLOSE + dt.timedelta(days=days)}
        for c in customers
    ]  # fmt: skip
    if twice:  # a second deal of A, 7,777 five months later, and its order on B
        later = CLOSE + dt.timedelta(days=150)
        deals.append({"deal_id": "D2", "company": "A", "amount": 7777, "close_date": later})
        orders.append({"order_id": "SO-B2", "customer": "B", "amount": 7777,
                       "order_date": later + dt.timedelta(days=days)})  # fmt: skip
    built = frames(deals, orders, crm_only=("A",), countries={"A": "GB", "B": "GB"})
    # the ERP customers have no CRM company: the matcher left them apart
    xref = built.xref.loc[~built.xref["record_id"].isin([f"c-{c}" for c in customers])]
    companies = built.companies.loc[built.companies["company_id"] == "c-A"].assign(name=CRM_NAME)
    names = {"e-B": erp_name} | {f"e-R{i}": f"{ERP_NAME} {i}" for i in range(rivals)}
    customers_frame = built.customers.assign(name=built.customers["customer_id"].map(names))
    if keys:
        xref = xref.assign(
            name_norm=pd.Series(pd.NA, index=xref.index, dtype="string"),
            domain=xref["record_id"].map({r: k[0] for r, k in keys.items()}).astype("string"),
            freemail=False,
            phone_e164=xref["record_id"].map({r: k[1] for r, k in keys.items()}).astype("string"),
        )
    return replace(built, xref=xref, companies=companies, customers=customers_frame)


def _kinds(result) -> dict[str, str]:
    found = result.findings
    deals = found.loc[found["deal_id"].notna()].set_index("deal_id")["kind"].to_dict()
    orders = found.loc[found["kind"] == "orphan_order"].set_index("order_ids")["kind"].to_dict()
    return deals | orders


def test_a_deal_and_an_order_of_one_amount_with_names_that_agree_are_one_company() -> None:
    result = run(_apart())
    assert _kinds(result) == {}  # no no_erp_customer, no orphan order: the deal met its order
    row = result.evidence.iloc[0]
    assert (row["deal_id"], row["order_id"], row["customer_id"], bool(row["linked"])) == (
        "D1", "SO-B", "e-B", True,
    )  # fmt: skip
    assert row["lag_days"] == 10 and row["name_similarity"] >= 60


def test_the_order_may_include_the_deals_vat() -> None:
    assert _kinds(run(_apart(order_amount=14814))) == {}  # 12,345 plus 20% GB VAT


def test_names_that_differ_leave_the_records_apart_and_name_the_candidate() -> None:
    result = run(_apart(erp_name="ZEPHYR MINING PTY LTD"))
    assert _kinds(result) == {"D1": "no_erp_customer", "customer:e-B": "orphan_order"}
    reason = result.findings.set_index("kind").loc["no_erp_customer", "reason"]
    assert reason.endswith(
        "; order SO-B of ERP customer e-B ZEPHYR MINING PTY LTD, USD 12,345.00 on 2026-05-14, "
        "fits this deal in amount and date: the same company? (not linked: the names differ)"
    )
    assert not result.evidence["linked"].any()


def test_a_shared_web_domain_or_phone_counts_as_names_that_agree() -> None:
    keys = {"c-A": ("zephyr.com.au", "+61290000000"), "e-B": ("zephyr.com.au", "+61290000001")}
    assert _kinds(run(_apart(erp_name="ZEPHYR MINING PTY LTD", keys=keys))) == {}
    keys["e-B"] = ("other.com.au", "+61290000000")
    assert _kinds(run(_apart(erp_name="ZEPHYR MINING PTY LTD", keys=keys))) == {}


def test_two_deals_meeting_two_orders_join_records_whose_names_differ() -> None:
    """A trade name against the legal name: one coincidence is a hint, two are a link."""
    once = run(_apart(erp_name="ZEPHYR MINING PTY LTD"))
    assert _kinds(once)["D1"] == "no_erp_customer"
    result = run(_apart(erp_name="ZEPHYR MINING PTY LTD", twice=True))
    assert _kinds(result) == {}
    assert set(result.evidence["agreement"]) == {"repeated"}
    assert result.evidence["linked"].all()


def test_two_customers_that_fit_as_well_are_not_guessed_between() -> None:
    result = run(_apart(rivals=1))
    assert _kinds(result)["D1"] == "no_erp_customer"
    assert "(not linked: another customer's order fits as well)" in str(
        result.findings.set_index("kind").loc["no_erp_customer", "reason"]
    )


def test_an_order_outside_the_window_or_of_another_amount_is_no_evidence() -> None:
    assert len(run(_apart(days=400)).evidence) == 0
    assert len(run(_apart(order_amount=12000)).evidence) == 0


def test_linking_can_be_turned_off() -> None:
    result = run(_apart(), rules_with({"order_evidence.link": False}))
    assert _kinds(result) == {"D1": "no_erp_customer", "customer:e-B": "orphan_order"}
    assert len(result.evidence) == 1 and not result.evidence["linked"].any()


def test_the_command_links_them_and_says_what_it_learned(tmp_path) -> None:
    """End to end: the link is listed in leakage_evidence.csv and counted in the summary, which
    (like the console) says what was learned of the billing habits and from how many deals."""
    import json

    from typer.testing import CliRunner

    from recon.cli import app
    from tests.checks.test_leakage_review_hint import FILES

    files = {
        **FILES,  # the review-hint case, with an order of the deal's amount
        "erp_orders.csv": (
            "order_id,customer_id,order_date,amount,currency,status\n"
            "O1,K1,2026-06-10,10000,USD,Billed\n"
        ),
    }
    folder = tmp_path / "data"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["leakage", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output  # no leakage: the deal met its order
    assert "days_after_close: 60 days (fallback: only 0 deals whose orders name them)" in (
        result.output
    )
    assert "order evidence: 1 won deals met their order" in result.output
    evidence = pd.read_csv(out / "leakage_evidence.csv", dtype=str)
    assert evidence[["deal_id", "order_id", "linked"]].values.tolist() == [["D1", "O1", "true"]]
    summary = json.loads((out / "leakage_summary.json").read_text(encoding="utf-8"))
    assert summary["order_evidence"] == {"candidates": 1, "linked": 1, "crm_companies_linked": 1}
    assert set(summary["habits"]) == {
        "days_after_close", "later_part_gap_days", "later_parts_days_after_close",
        "instalments", "pre_go_live_orders",
    }  # fmt: skip
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Billing habits learned from this data" in html
