"""The weekly leakage run against one state store, end to end, on SQLite, PostgreSQL and MariaDB.

Week 1's data lacks the only order of deal ``RESOLVED`` (so it is leakage); week 2's has it back
(resolved), adds a won deal ``NEW_DEAL`` for a company without an ERP customer (new leakage) and a
CRM company whose id sorts first (so the matcher's own entity numbers shift). Between the weeks
one finding is accepted with `recon accept`: it stays out of the open list. Exit codes: 1 when
something is new, 0 when nothing is, 2 on bad input.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from report.smtp_server import Inbox, trusted_smtp_server
from store_urls import isolated_store_url
from typer.testing import CliRunner

from recon.checks.leakage.findings import LEAKAGE_KINDS
from recon.cli import app
from recon.models import NOT_A_MATCH
from recon.report.check_sections import AT_RISK_KINDS
from recon.sampledata import generate, write
from recon.state.store import Store

runner = CliRunner()
AS_OF = "2026-10-31"  # the generated data's last day
NEXT_YEAR = (dt.date.today() + dt.timedelta(days=365)).isoformat()
NEW_DEAL = "29999999901"  # added in week 2: won, company without an ERP customer
NEW_COMPANY = "1000000001"  # added in week 2: sorts before every other company id


@dataclass(frozen=True)
class Weeks:
    week1: Path
    week2: Path
    resolved_deal: str  # leakage in week 1 (its order missing), fine in week 2


def read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def weeks(tmp_path_factory: pytest.TempPathFactory) -> Weeks:
    root = tmp_path_factory.mktemp("weekly")
    week2 = root / "week2"
    write(generate(60, seed=5), week2)
    deals, orders = read(week2, "crm_deals.csv"), read(week2, "erp_orders.csv")
    won = deals[(deals["stage"] == "closedwon") & (deals["close_date"] <= "2026-08-31")]
    ref = orders["crm_deal_ref"].str.extract(r"(\d{11})")[0]
    per_customer = orders["customer_id"].map(orders["customer_id"].value_counts())
    only = orders[ref.isin(won["deal_id"]).to_numpy() & (per_customer == 1).to_numpy()]
    order = only.iloc[0]
    resolved = str(ref[order.name])

    # Week 2: a won deal for a company that has no ERP customer, and a company sorting first.
    companies = read(week2, "crm_companies.csv")
    no_erp = companies[companies["erp_customer_id"] == ""]
    no_erp = no_erp[no_erp["company_id"].isin(won["company_id"])]
    deal = won[won["company_id"] == no_erp["company_id"].iloc[0]].iloc[0].copy()
    deal[["deal_id", "amount", "close_date", "deal_name"]] = [
        NEW_DEAL, "43210.00", "2026-09-15", "Weekly test - new logo",
    ]  # fmt: skip
    pd.concat([deals, deal.to_frame().T]).to_csv(week2 / "crm_deals.csv", index=False)
    company = companies.iloc[0].copy()
    company[["company_id", "name", "domain", "website", "email", "phone"]] = [
        NEW_COMPANY, "Aardvark Quixotic Lanterns Pty", "", "", "", "",
    ]  # fmt: skip
    pd.concat([company.to_frame().T, companies]).to_csv(week2 / "crm_companies.csv", index=False)

    # Week 1: the original data without that deal's only order.
    week1 = root / "week1"
    write(generate(60, seed=5), week1)
    orders.drop(index=order.name).to_csv(week1 / "erp_orders.csv", index=False)
    return Weeks(week1, week2, resolved)


@pytest.fixture
def store_url(db_url: str) -> Iterator[str]:
    with isolated_store_url(db_url) as url:
        yield url


def leakage(data: Path, out: Path, store: str, *args: str):
    return runner.invoke(
        app,
        ["leakage", str(data), "--as-of", AS_OF, "--out", str(out), "--store", store,
         "--state", str(out.parent / "csv-state"), *args],
    )  # fmt: skip


def by_deal(out: Path) -> pd.DataFrame:
    found = read(out, "leakage.csv")
    return found[found["deal_id"] != ""].set_index(["deal_id", "kind"])


def xref_ids(out: Path) -> pd.Series:
    xref = read(out, "xref.csv")
    return xref.set_index(xref["system"] + ":" + xref["record_id"])["xref_id"]


def test_two_weeks_new_resolved_accepted_and_stable_ids(
    weeks: Weeks, store_url: str, tmp_path: Path
) -> None:
    out1, out2, out3 = tmp_path / "week1", tmp_path / "week2", tmp_path / "week3"
    first = leakage(weeks.week1, out1, store_url)
    assert first.exit_code == 1, first.output  # a store's first run: every leakage counts as new
    week1 = by_deal(out1)
    assert set(week1["change"]) == {"new"}
    resolved = week1.xs(weeks.resolved_deal, level="deal_id")
    assert len(resolved) == 1 and resolved.index[0] in LEAKAGE_KINDS
    manifest = json.loads((out1 / "run.json").read_text(encoding="utf-8"))
    assert manifest["state"]["store"] == Store.open(store_url).location
    assert manifest["state"]["previous_run"] is None
    run1 = manifest["state"]["run_id"]

    accepted = accept_one(week1, weeks, store_url)

    second = leakage(weeks.week2, out2, store_url, "--since", "7d")
    assert second.exit_code == 1, second.output
    assert f"new leakage since run {run1}: 1;" in second.output
    assert "1 new" in second.output and "1 accepted" in second.output
    assert "1 resolved" in second.output
    week2 = by_deal(out2)
    assert week2.loc[(NEW_DEAL, "no_erp_customer"), "change"] == "new"
    assert week2.xs(weeks.resolved_deal, level="deal_id")["change"].tolist() == ["resolved"]
    assert week2.set_index("finding_id").loc[accepted["finding_id"], "change"] == "accepted"
    assert week2.set_index("finding_id").loc[accepted["finding_id"], "accepted_until"] == NEXT_YEAR
    still = week2[week2["change"] == "open"]
    expected = set(week1["finding_id"]) - {resolved["finding_id"].iloc[0], accepted["finding_id"]}
    assert set(still["finding_id"]) == expected
    assert set(still["first_seen"]) == {dt.date.today().isoformat()}
    assert still["days_open"].astype(int).ge(0).all()
    # the finding ids are stable: the same finding keeps its id from week to week
    assert (still["finding_id"] == week1.loc[still.index, "finding_id"]).all()

    # Stable xref ids: every record keeps its week-1 id, though the matcher numbers afresh.
    ids1, ids2 = xref_ids(out1), xref_ids(out2)
    common = ids1.index.intersection(ids2.index)
    assert len(common) == len(ids1)
    assert (ids1[common] == ids2[common]).all()
    assert (week1.loc[still.index, "xref_id"] == still["xref_id"]).all()

    # Value at risk leaves accepted and resolved findings out, and is what the trend shows.
    live = week2[~week2["change"].isin(["accepted", "resolved"])]
    counted = live.index.get_level_values("kind").isin(AT_RISK_KINDS)
    value = round(live.loc[counted, "gap_amount"].astype(float).abs().sum(), 2)
    with Store.open(store_url) as opened:
        runs = opened.runs()
    counts = runs.set_index("command")["counts"]
    stored = [json.loads(c) if isinstance(c, str) else c for c in counts]
    assert stored[-1]["leakage"]["value_at_risk"] == pytest.approx(value, abs=0.01)

    sheet = openpyxl.load_workbook(out2 / "report.xlsx")["Leakage"]
    summary = str(sheet["A1"].value)
    assert summary.startswith(
        f"What changed since last week: compared with the previous run ({AS_OF}, run {run1})"
    )
    assert "new: 1 (" in summary and "resolved: 1 (" in summary and "accepted: 1 (" in summary
    assert sheet["A2"].value == "finding_id" and sheet["B2"].value == "change"
    html = (out2 / "report.html").read_text(encoding="utf-8")
    section = html[html.index('<section id="leakage"') :]
    section = section[: section.index("</section>")]
    assert section.index("What changed since last week") < section.index("value at risk by")
    assert "Leakage value at risk over the last runs" in section
    run2 = json.loads((out2 / "run.json").read_text(encoding="utf-8"))["state"]["run_id"]
    assert f"{AS_OF} #{run1}" in section and f"{AS_OF} #{run2}" in section

    third = leakage(weeks.week2, out3, store_url, "--since", "7d")
    assert third.exit_code == 0, third.output  # nothing new since week 2
    assert f"new leakage since run {run2}: 0;" in third.output
    week3 = by_deal(out3)
    assert week3.set_index("finding_id").loc[accepted["finding_id"], "change"] == "accepted"
    assert "resolved" not in set(week3["change"])  # resolved once, not again
    assert (xref_ids(out3)[common] == ids1[common]).all()


def test_without_the_store_the_matchers_numbers_would_shift(weeks: Weeks, tmp_path: Path) -> None:
    """The guard of the test above: the ids only agree because the store carries them."""
    one = leakage(weeks.week1, tmp_path / "a" / "out", f"sqlite:///{tmp_path / 'a.sqlite'}")
    two = leakage(weeks.week2, tmp_path / "b" / "out", f"sqlite:///{tmp_path / 'b.sqlite'}")
    assert one.exit_code == 1 and two.exit_code == 1
    ids1, ids2 = xref_ids(tmp_path / "a" / "out"), xref_ids(tmp_path / "b" / "out")
    common = ids1.index.intersection(ids2.index)
    assert (ids1[common] != ids2[common]).any()


def test_bad_input_with_a_store_exits_2_and_records_nothing(
    weeks: Weeks, store_url: str, tmp_path: Path
) -> None:
    result = leakage(weeks.week1, tmp_path / "out", store_url, "--since", "7x")
    assert result.exit_code == 2
    assert result.output.startswith("error: --since is '7x'")
    with Store.open(store_url) as opened:
        assert opened.runs().empty


def test_a_decision_applied_to_the_store_is_honoured_by_the_next_run(
    weeks: Weeks, store_url: str, tmp_path: Path
) -> None:
    first = tmp_path / "first"
    assert leakage(weeks.week1, first, store_url).exit_code == 1
    matches = read(first, "matches.csv")
    auto = matches[matches["decision"] == "auto"].iloc[0]
    crm, erp = f"crm:{auto['crm_company_id']}", f"erp:{auto['erp_customer_id']}"
    assert xref_ids(first)[crm] == xref_ids(first)[erp]
    reviewed = tmp_path / "reviewed.csv"
    pd.DataFrame(
        [
            {
                "left_system": "crm", "left_id": auto["crm_company_id"],
                "left_name": auto["crm_name"], "right_system": "erp",
                "right_id": auto["erp_customer_id"], "right_name": auto["erp_name"],
                "decision": NOT_A_MATCH, "reviewer": "ana", "reviewed_on": "2026-11-03",
                "comment": "different legal entities",
            }
        ]
    ).to_csv(reviewed, index=False)  # fmt: skip
    csv_state = tmp_path / "csv-state"
    applied = runner.invoke(
        app,
        ["review", "apply", str(reviewed), str(weeks.week1), "--store", store_url,
         "--state", str(csv_state)],
    )  # fmt: skip
    assert applied.exit_code == 0, applied.output
    location = Store.open(store_url).location
    assert f"stored 1 decision(s) (0 match, 1 not a match) in {location}" in applied.output
    assert not csv_state.exists()  # the store holds them, not the CSV log

    second = tmp_path / "second"
    result = leakage(weeks.week1, second, store_url)
    assert result.exit_code in (0, 1), result.output
    assert xref_ids(second)[crm] != xref_ids(second)[erp]
    manifest = json.loads((second / "run.json").read_text(encoding="utf-8"))
    assert manifest["decisions"]["store"] == location
    assert manifest["decisions"]["rejected"] == 1
    # a run given the CSV state folder instead does not see the store's decision
    plain = tmp_path / "plain"
    runner.invoke(
        app,
        ["leakage", str(weeks.week1), "--as-of", AS_OF, "--out", str(plain),
         "--state", str(csv_state)],
    )  # fmt: skip
    assert xref_ids(plain)[crm] == xref_ids(plain)[erp]


def test_recon_run_records_the_run_and_writes_the_stable_ids(weeks: Weeks, tmp_path: Path) -> None:
    out = tmp_path / "out"
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    result = runner.invoke(
        app,
        ["run", str(weeks.week2), "--as-of", AS_OF, "--out", str(out), "--store", url,
         "--state", str(tmp_path / "csv-state")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    state = json.loads((out / "run.json").read_text(encoding="utf-8"))["state"]
    with Store.open(url) as opened:
        registry = opened.registry()
        findings = opened.findings()
    assert state["store"] == opened.location and state["run_id"] == 1
    stored = registry.set_index(registry["system"] + ":" + registry["record_id"])["xref_id"]
    written = xref_ids(out)
    assert (written == stored[written.index]).all()
    assert set(findings["family"]) >= {"leakage", "quality"}
    leak = read(out, "leakage.csv")
    assert list(leak.columns[:5]) == [
        "finding_id", "change", "first_seen", "days_open", "accepted_until",
    ]  # fmt: skip
    assert set(leak["finding_id"]) <= set(findings["finding_id"])


def accept_one(week1: pd.DataFrame, weeks: Weeks, store: str) -> pd.Series:
    """Accept one no_erp_customer finding of week 1 (not the deal that resolves) through the CLI,
    as a controller would; returns its row."""
    accepted = week1[
        (week1.index.get_level_values("kind") == "no_erp_customer")
        & (week1.index.get_level_values("deal_id") != weeks.resolved_deal)
    ].iloc[0]
    result = runner.invoke(
        app,
        ["accept", accepted["finding_id"], "--reason", "credit note agreed", "--until", NEXT_YEAR,
         "--store", store],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return accepted


@pytest.fixture
def inbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A real SMTP server (aiosmtpd, STARTTLS, AUTH), trusted, with the credentials set."""
    with trusted_smtp_server(tmp_path, monkeypatch) as server:
        yield server


def test_the_weekly_email_says_what_changed_and_lists_the_new_leakage(
    weeks: Weeks, inbox: Inbox, tmp_path: Path
) -> None:
    """Week 2's e-mail: compared with week 1's run, 1 new (NEW_DEAL, the only one listed), the
    still-open ones, 1 resolved and 1 accepted — the counts the console and leakage.csv give."""
    store = f"sqlite:///{tmp_path / 'state.sqlite'}"
    out1, out2 = tmp_path / "week1", tmp_path / "week2"
    assert leakage(weeks.week1, out1, store).exit_code == 1
    week1 = by_deal(out1)
    accept_one(week1, weeks, store)

    second = leakage(
        weeks.week2, out2, store, "--email-to", "finance@example.com",
        "--email-from", "recon@example.com", "--smtp-host", inbox.host,
        "--smtp-port", str(inbox.port),
    )  # fmt: skip
    assert second.exit_code == 1, second.output
    (message,) = inbox.messages
    text = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    html = message.get_body(preferencelist=("html",)).get_content()
    assert text.startswith("recon leakage, run 2\n")
    assert f"As of {AS_OF}" in text
    assert f"compared with the previous run ({AS_OF}, run 1)" in text
    week2 = read(out2, "leakage.csv")["change"].replace("expired", "open").value_counts()
    counts = {
        label: int(n.replace(",", ""))
        for label, n in re.findall(
            r"^  (new|still open|resolved|accepted) +([\d,]+) findings", text, re.M
        )
    }
    assert counts == {
        "new": 1, "still open": int(week2["open"]), "resolved": 1, "accepted": 1,
    }  # fmt: skip
    assert "1 new" in second.output and "1 resolved" in second.output  # the console agrees
    listed = re.findall(r"^ *\d+\. (\w+): (\S+)", text, re.M)
    assert listed == [("no_erp_customer", NEW_DEAL)]
    assert "more in the attached report" not in text
    assert NEW_DEAL in html and "1 new finding, " in html
    assert [a.get_filename() for a in message.iter_attachments()] == ["report.html", "report.xlsx"]
