"""generate(habits=...): each billing habit does what it says, and the defaults change nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sampledata.sampledata_helpers import amounts, clean, dates

from recon.sampledata import SampleData, generate
from recon.sampledata.habits import FIELDS, Habits, habits_of
from recon.sampledata.money import MILESTONES, Params
from recon.schema import TABLES

GO_LIVE = {"history_days": 900, "go_live_days": 500, "pre_go_live_crm_only": 0.3}
AS_OF = pd.Timestamp(dt.date(2026, 10, 31))
GO_LIVE_DAY = AS_OF - pd.Timedelta(days=500)
DEAL_ID = r"(\d{11})"  # deal ids are 11 digits (20_000_000_000 and up)
FAST = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _book(data: SampleData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed deals (with entity), and orders with the deal they were made for (``deal_id``)."""
    deals = clean(data, "crm_deals")
    deals = deals.assign(amount=amounts(deals["amount"]), close=dates(deals["close_date"]))
    entity = data.truth_entities.set_index(["system", "record_id"])["entity_id"]
    deals["entity"] = entity.loc["crm"].reindex(deals["company_id"]).to_numpy()
    orders = clean(data, "erp_orders").merge(data.truth_orders, on="order_id", how="left")
    orders = orders.assign(amount=amounts(orders["amount"]), date=dates(orders["order_date"]))
    return deals, orders


def _live_deal_orders(orders: pd.DataFrame) -> pd.DataFrame:
    live = orders[orders["deal_id"].notna() & (orders["status"] != "Cancelled")]
    return live.sort_values(["deal_id", "date", "order_id"])


# --- the defaults ---------------------------------------------------------------------------------


def test_default_habits_mirror_the_money_params() -> None:
    p = Params()
    h = Habits()
    for name in ("delayed", "deal_ref", "repeat_orders", "history_days"):
        assert getattr(h, name) == getattr(p, name), name
    assert h.params(p) is p
    assert h.default and habits_of(None) == h and habits_of({}) == h


@pytest.mark.parametrize("habits", [{}, Habits(), {"deal_ref": 0.5, "lag_scale": 1.0}])
def test_default_habits_give_the_same_data(small: SampleData, habits: Any) -> None:
    """small is generate(300, 42), which test_write_sample pins to the committed sample_data/."""
    again = generate(300, 42, habits=habits)
    for name in TABLES:
        pd.testing.assert_frame_equal(again.tables[name], small.tables[name])
    pd.testing.assert_frame_equal(again.truth_leakage, small.truth_leakage)
    pd.testing.assert_frame_equal(again.truth_orders, small.truth_orders)
    assert again.meta == small.meta
    assert "habits" not in again.meta


def test_other_habits_are_written_to_truth_meta() -> None:
    data = generate(200, 3, habits={**GO_LIVE, "instalments": 0.2, "deal_ref": 0.3})
    knobs = data.meta["habits"]
    assert knobs["instalments"] == 0.2 and knobs["go_live_days"] == 500
    assert knobs["go_live"] == "2025-06-18"
    assert data.meta["rates"]["money"]["deal_ref"] == 0.3
    assert data.meta["rates"]["money"]["history_days"] == 900
    assert set(knobs["counts"]) >= {"deals_instalments", "won_deals_before_go_live"}


# --- bad knobs ------------------------------------------------------------------------------------


def test_an_unknown_habit_names_itself_and_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown habit 'instalment'") as err:
        generate(20, 1, habits={"instalment": 0.3})
    for name in FIELDS:
        assert name in str(err.value)


@pytest.mark.parametrize(
    ("habits", "message"),
    [
        ({"instalments": 1.5}, "instalments is 1.5"),
        ({"instalment_parts": (1, 3)}, "instalment_parts"),
        ({"instalment_gap_days": (90, 60)}, "instalment_gap_days"),
        ({"instalment_amounts": "random"}, "equal, milestones"),
        ({"pre_go_live": "all"}, "none, window"),
        ({"lag_scale": 0}, "lag_scale"),
    ],
)
def test_a_bad_habit_value_is_refused(habits: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        habits_of(habits)


def test_lists_are_read_as_ranges() -> None:
    assert habits_of({"instalment_parts": [3, 5]}).instalment_parts == (3, 5)


# --- instalments ----------------------------------------------------------------------------------


@FAST
@given(
    seed=st.integers(0, 2**16),
    parts=st.tuples(st.integers(2, 5), st.integers(0, 2)).map(lambda t: (t[0], t[0] + t[1])),
    gap=st.tuples(st.integers(20, 90), st.integers(0, 40)).map(lambda t: (t[0], t[0] + t[1])),
    amounts_=st.sampled_from(["equal", "milestones"]),
)
def test_instalments_have_their_parts_and_gaps_and_none_after_as_of(
    seed: int, parts: tuple[int, int], gap: tuple[int, int], amounts_: str
) -> None:
    habits = {
        "instalments": 1.0,
        "instalment_parts": parts,
        "instalment_gap_days": gap,
        "instalment_amounts": amounts_,
    }
    data = generate(250, seed, habits=habits, bad_rows=False)
    orders = _book(data)[1]
    live = _live_deal_orders(orders)
    assert (orders["date"] <= AS_OF).all()
    # every fulfilled deal is billed in instalments; under-billed deals keep their own orders
    leak = set(data.truth_leakage["deal_id"])
    inst = live[~live["deal_id"].isin(leak)]
    assert len(inst)
    per_deal = inst.groupby("deal_id")
    count = per_deal.size()
    assert count.max() <= parts[1]
    steps = per_deal["date"].diff().dropna().dt.days
    assert steps.between(*gap).all()
    # a deal has fewer parts than the least it could have only when the next was not due yet
    last = per_deal["date"].max()
    short = count[count < parts[0]].index
    assert (last[short] + pd.Timedelta(days=gap[1]) > AS_OF).all()
    # amounts: equal parts (to the unit, the last taking the rounding), or a milestone schedule
    if amounts_ == "equal":
        assert (per_deal["amount"].agg(np.ptp) <= 3).all()
    complete = count[count == parts[1]].index  # every part billed
    if amounts_ == "milestones" and parts[1] in MILESTONES and len(complete):
        shares = {round(s, 2) for schedule in MILESTONES[parts[1]] for s in schedule}
        for deal_id in complete[:20]:
            values = inst.loc[inst["deal_id"] == deal_id, "amount"].to_numpy()
            got = values / values.sum()
            assert all(any(abs(g - s) < 0.011 for s in shares) for g in got), deal_id
    # nothing stopped: no instalment deal is leakage
    assert data.meta["habits"]["counts"]["instalments_stopped"] == 0


def test_instalments_not_yet_due_are_not_leakage() -> None:
    """Instalments draw from a stream of their own: the planted leakage is the same as without
    them, although many instalment deals have parts still to come."""
    without = generate(2000, 5, bad_rows=False)
    data = generate(2000, 5, habits=_three_parts(ref_first_only=True), bad_rows=False)
    assert data.meta["habits"]["counts"]["instalments_not_due"] > 100
    pd.testing.assert_frame_equal(data.truth_leakage, without.truth_leakage)
    count = _live_deal_orders(_book(data)[1]).groupby("deal_id").size()
    assert (count < 3).sum() > 100


def _three_parts(**extra: Any) -> dict[str, Any]:
    return {
        "instalments": 1.0,
        "instalment_parts": (3, 3),
        "instalment_gap_days": (60, 100),
        **extra,
    }


def test_stopped_instalments_are_under_billed_by_the_parts_missing() -> None:
    paying = generate(2000, 8, habits=_three_parts(), bad_rows=False)
    data = generate(2000, 8, habits=_three_parts(instalments_stopped=1.0), bad_rows=False)
    deals, orders = _book(data)
    deals = deals.set_index("deal_id")
    leak = data.truth_leakage.set_index("deal_id")
    stopped = leak.index.difference(paying.truth_leakage["deal_id"])
    assert len(stopped) == data.meta["habits"]["counts"]["instalments_stopped"] > 20
    assert (leak.loc[stopped, "kind"] == "under_billed").all()
    # 1 or 2 of the 3 equal parts billed, 1 or 2 that were due missing: the gap is a third or
    # two thirds of the deal (orders within 3% of the deal, at the close month's FX rate)
    share = leak.loc[stopped, "gap_amount"].astype(float) / deals.loc[stopped, "amount"]
    missing = np.round(share * 3)
    assert missing.isin([1, 2]).all()
    assert (share - missing / 3).abs().max() < 0.025
    billed = _live_deal_orders(orders).groupby("deal_id").size().reindex(stopped)
    assert billed.between(1, 2).all()
    assert (billed + missing <= 3).all()


# --- references on first parts only ---------------------------------------------------------------


@FAST
@given(seed=st.integers(0, 2**16), instalments=st.sampled_from([0.0, 0.5]))
def test_ref_first_only_leaves_later_parts_unnamed(seed: int, instalments: float) -> None:
    habits = {**_three_parts(instalments=instalments), "ref_first_only": True, "deal_ref": 0.9}
    data = generate(300, seed, habits=habits, bad_rows=False)
    _, orders = _book(data)
    live = _live_deal_orders(orders)
    later = live.groupby("deal_id").cumcount() > 0
    first_date = live.groupby("deal_id")["date"].transform("min")
    later &= live["date"] > first_date  # parts on one day (clamped to as_of) read as first
    assert live.loc[later, "crm_deal_ref"].isna().all()
    assert live.loc[~later, "crm_deal_ref"].notna().mean() > 0.8


def test_without_ref_first_only_later_parts_are_named_too() -> None:
    data = generate(2000, 4, habits=_three_parts(), bad_rows=False)
    live = _live_deal_orders(_book(data)[1])
    later = live.groupby("deal_id").cumcount() > 0
    assert live.loc[later, "crm_deal_ref"].notna().mean() == pytest.approx(0.5, abs=0.05)


# --- lags, named orders, repeat business ----------------------------------------------------------


def test_lag_scale_widens_the_lag_to_the_first_order() -> None:
    data = generate(3000, 2, habits={"lag_scale": 2.0, "delayed": 0.1}, bad_rows=False)
    deals, orders = _book(data)
    live = _live_deal_orders(orders)
    close = deals.set_index("deal_id")["close"]
    lag = (live.groupby("deal_id")["date"].min() - close.reindex(live["deal_id"].unique())).dt.days
    assert lag.max() <= 120 and lag.min() >= -3
    assert (lag > 60).mean() > 0.2  # the default puts fewer than 3% past 45 days
    assert data.meta["rates"]["money"]["order_lag_days"] == (-3, 90)
    assert data.meta["rates"]["money"]["delayed_lag_days"] == (92, 120)


@pytest.mark.parametrize("share", [0.2, 0.6])
def test_deal_ref_sets_the_share_of_named_orders(share: float) -> None:
    data = generate(3000, 6, habits={"deal_ref": share}, bad_rows=False)
    orders = _book(data)[1]
    for_deals = orders[orders["deal_id"].notna()]
    assert for_deals["crm_deal_ref"].notna().mean() == pytest.approx(share, abs=0.03)


def test_repeat_orders_sets_repeat_business_per_erp_record() -> None:
    data = generate(3000, 6, habits={"repeat_orders": 1.5}, bad_rows=False)
    truth = data.truth_entities
    in_crm = set(truth.query("system == 'crm'")["entity_id"])
    erp = truth.query("system == 'erp'").set_index("record_id")["entity_id"]
    orders = _book(data)[1]
    without = orders[orders["deal_id"].isna()]
    repeat = without["customer_id"].map(erp).isin(in_crm).sum()
    records = erp.isin(in_crm).sum()
    assert repeat / records == pytest.approx(1.5, abs=0.1)


# --- ERP go-live ----------------------------------------------------------------------------------


def _before_go_live(deals: pd.DataFrame) -> set[str]:
    return set(deals.loc[deals["close"] < GO_LIVE_DAY, "deal_id"])


@FAST
@given(seed=st.integers(0, 2**16), mode=st.sampled_from(["none", "window"]))
def test_go_live_leaves_no_order_before_it(seed: int, mode: str) -> None:
    data = generate(400, seed, habits={**GO_LIVE, "pre_go_live": mode}, bad_rows=False)
    deals, orders = _book(data)
    assert (orders["date"] >= GO_LIVE_DAY).all()  # repeat, ERP-only and deal orders alike
    invoices = clean(data, "erp_invoices")
    assert (dates(invoices["invoice_date"]) >= GO_LIVE_DAY).all()
    closed = deals[deals["stage"].isin(["closedwon", "closedlost"])]
    assert closed["close"].min() < GO_LIVE_DAY  # the CRM's history reaches further back
    before = _before_go_live(deals)
    if mode == "none":
        assert not set(orders["deal_id"].dropna()) & before
        named = orders["crm_deal_ref"].str.extract(DEAL_ID)[0].dropna()
        assert not set(named) & before
        assert not set(data.truth_leakage["deal_id"]) & before
    else:  # a deal before go-live is leakage only as its orders on or after go-live show it
        leak = data.truth_leakage.set_index("deal_id")["kind"]
        old_leak = leak[leak.index.isin(before)]
        has_orders = set(orders["deal_id"].dropna())
        assert set(old_leak[old_leak == "under_billed"].index) <= has_orders


def test_go_live_window_gives_orders_to_some_deals_before_it() -> None:
    habits = {**GO_LIVE, "pre_go_live": "window"}
    deals, orders = _book(generate(3000, 1, habits=habits, bad_rows=False))
    before = _before_go_live(deals)
    got = set(orders["deal_id"].dropna()) & before
    assert got
    live = orders[orders["deal_id"].isin(got)]
    assert (live["date"] >= GO_LIVE_DAY).all()


@pytest.mark.parametrize("mode", ["none", "window"])
def test_old_customers_that_never_reached_the_erp_are_not_leakage(mode: str) -> None:
    habits = {**GO_LIVE, "pre_go_live": mode}
    kept = generate(3000, 2, habits={**habits, "pre_go_live_crm_only": 0.0}, bad_rows=False)
    gone = generate(3000, 2, habits={**habits, "pre_go_live_crm_only": 1.0}, bad_rows=False)
    erp_entities = [
        set(d.truth_entities.query("system == 'erp'")["entity_id"]) for d in (kept, gone)
    ]
    lost = erp_entities[0] - erp_entities[1]
    assert len(lost) == gone.meta["habits"]["counts"]["entities_never_reached_erp"] > 0
    assert not erp_entities[1] - erp_entities[0]
    deals, _ = _book(gone)
    theirs = deals[deals["entity"].isin(lost)]
    assert (theirs["close"] < GO_LIVE_DAY).all()
    assert not set(theirs["deal_id"]) & set(gone.truth_leakage["deal_id"])
    # they are CRM-only now: no ERP record, and no CRM record links to one of theirs
    crm = clean(gone, "crm_companies")
    mine = crm[crm["company_id"].isin(theirs["company_id"])]
    assert mine["erp_customer_id"].isna().all()


# --- any mix --------------------------------------------------------------------------------------


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**16),
    entities=st.integers(1, 120),
    instalments=st.sampled_from([0.0, 0.4]),
    stopped=st.sampled_from([0.0, 0.5]),
    ref_first_only=st.booleans(),
    lag_scale=st.sampled_from([1.0, 2.5]),
    go_live=st.sampled_from([None, 30, 400]),
    mode=st.sampled_from(["none", "window"]),
)
def test_any_mix_of_habits_keeps_the_invariants(
    seed: int,
    entities: int,
    instalments: float,
    stopped: float,
    ref_first_only: bool,
    lag_scale: float,
    go_live: int | None,
    mode: str,
) -> None:
    habits = Habits(
        instalments=instalments,
        instalments_stopped=stopped,
        ref_first_only=ref_first_only,
        lag_scale=lag_scale,
        history_days=700,
        go_live_days=go_live,
        pre_go_live=mode,
        pre_go_live_crm_only=0.5,
    )
    a = generate(entities, seed, habits=habits)
    b = generate(entities, seed, habits=dataclasses.replace(habits))
    for name in TABLES:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    deals, orders = _book(a)
    won = set(deals.loc[deals["stage"] == "closedwon", "deal_id"])
    assert set(a.truth_leakage["deal_id"]) <= won
    assert a.truth_leakage["deal_id"].is_unique
    assert (orders["date"] <= AS_OF).all()
    assert set(orders["deal_id"].dropna()) <= won
    if go_live is not None:
        assert (orders["date"] >= AS_OF - pd.Timedelta(days=go_live)).all()


def test_the_sample_data_command_takes_habits(tmp_path) -> None:
    """``recon sample-data --habit NAME=VALUE``: the habit reaches the generator (truth_meta.json
    says so), and a wrong name or form is one error line with exit code 2."""
    import json

    from typer.testing import CliRunner

    from recon.cli import app

    out = tmp_path / "data"
    args = ["sample-data", "--out", str(out), "-n", "200", "--habit", "instalments=0.3",
            "--habit", "instalment_gap_days=[60, 100]", "--habit", "ref_first_only=true"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    habits = json.loads((out / "truth_meta.json").read_text(encoding="utf-8"))["habits"]
    assert (habits["instalments"], habits["instalment_gap_days"]) == (0.3, [60, 100])
    assert habits["ref_first_only"] is True
    bad = CliRunner().invoke(app, ["sample-data", "--out", str(out), "--habit", "nosuch=1"])
    assert bad.exit_code == 2 and "unknown habit 'nosuch'" in bad.output
    bad = CliRunner().invoke(app, ["sample-data", "--out", str(out), "--habit", "instalments"])
    assert bad.exit_code == 2 and "expected NAME=VALUE" in bad.output
