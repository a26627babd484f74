"""Won deals and orders as evidence of a link: the habits learned from named orders, the levels
of pairs, and the bits learned from the pairs already linked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recon.match import order_evidence as oe

CLOSE = pd.Timestamp("2025-03-01")


def _named(lags: list[int], ratio: float = 1.0, stage: str = "closedwon"):
    """One won deal per lag, each named by one order ``lag`` days after its close."""
    n = len(lags)
    deals = pd.DataFrame(
        {
            "deal_id": [f"D{i}" for i in range(n)],
            "company_id": [f"A{i}" for i in range(n)],
            "stage": stage,
            "amount": [1000.0 + i for i in range(n)],
            "currency": "EUR",
            "close_date": CLOSE,
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(n)],
            "customer_id": [f"X{i}" for i in range(n)],
            "amount": [round((1000.0 + i) * ratio, 2) for i in range(n)],
            "currency": "EUR",
            "order_date": [CLOSE + pd.Timedelta(days=d) for d in lags],
            "crm_deal_ref": [f"D{i}" for i in range(n)],
        }
    )
    return deals, orders


def test_the_window_is_learned_from_the_orders_that_name_their_deal() -> None:
    deals, orders = _named(list(range(0, 200, 2)))  # lags 0..198 days
    habits = oe.learn_habits(deals, orders)
    assert habits.learned and habits.examples == 100
    assert habits.min_lag == 0
    # the 95th percentile (about 188 days) with a quarter more
    assert 230 <= habits.max_lag <= 240
    assert habits.tax_rates == ()


def test_too_few_named_orders_give_the_default_window() -> None:
    deals, orders = _named([5, 9, 12])
    habits = oe.learn_habits(deals, orders)
    assert not habits.learned
    assert (habits.min_lag, habits.max_lag) == oe.DEFAULT_LAGS


def test_a_recurring_ratio_above_one_is_a_tax_rate() -> None:
    deals, orders = _named([3] * 40, ratio=1.19)
    assert oe.learn_habits(deals, orders).tax_rates == (0.19,)


def test_orders_naming_no_won_deal_teach_nothing() -> None:
    deals, orders = _named([3] * 40)
    orders["crm_deal_ref"] = "nothing"
    assert not oe.learn_habits(deals, orders).learned


def test_won_deals_by_stage_in_any_case() -> None:
    deals = pd.DataFrame({"stage": ["Closed Won", "closedwon ", "closedlost", None]})
    assert len(oe.won_deals(deals, ("closed won", "ClosedWon"))) == 2


RECORDS = pd.DataFrame(
    {"system": ["crm", "crm", "erp", "erp"], "record_id": ["A0", "A1", "X0", "X1"]}
).astype("string")
IS_ERP = np.array([False, False, True, True])


def test_pairs_with_coincidences_get_their_level_and_records_without_deals_are_missing() -> None:
    deals, orders = _named([3, 3])
    deals["company_id"] = ["A0", "A0"]
    orders["customer_id"] = ["X0", "X0"]
    orders = pd.concat([orders, orders.assign(customer_id="X1", amount=5.0, order_id="O9")])
    found = oe.find(RECORDS, deals, orders, ("closedwon",), "EUR")
    pairs = pd.DataFrame({"left": [0, 0, 1, 0], "right": [2, 3, 2, 1]})
    level, count = oe.pair_levels(pairs, found, IS_ERP)
    # A0–X0: two deals met; A0–X1: both active, none met; A1 has no deals; A0–A1 is not CRM–ERP
    assert level.tolist() == [2, 0, -1, -1]
    assert count.tolist() == [2, 0, 0, 0]


def test_a_missing_currency_is_the_base_currency() -> None:
    deals, orders = _named([3, 3])
    deals["company_id"], orders["customer_id"] = "A0", "X0"
    deals["currency"], orders["currency"] = None, "eur"
    found = oe.find(RECORDS, deals, orders, ("closedwon",), "EUR")
    assert found.table["coincidences"].tolist() == [2]


def _found(table: list[tuple[int, int, int]], active: list[bool]) -> oe.OrderFound:
    frame = pd.DataFrame(table, columns=["left", "right", "coincidences"])
    return oe.OrderFound(frame, np.array(active), oe.OrderHabits(-7, 120, (), 0))


@settings(max_examples=40, deadline=None)
@given(
    linked_several=st.integers(30, 200),
    linked_none=st.integers(0, 200),
    chance=st.integers(0, 50),
)
def test_bits_follow_m_from_linked_pairs_and_u_from_the_rest(
    linked_several: int, linked_none: int, chance: int
) -> None:
    """Linked pairs with several coincidences make "several" strong evidence; coincidences among
    the other pairs (chance) weaken it, and the bits never pass the limit."""
    n_links = linked_several + linked_none
    n_crm = n_erp = n_links + chance + 10
    n = n_crm + n_erp
    is_erp = np.r_[np.zeros(n_crm, bool), np.ones(n_erp, bool)]
    left = np.arange(n_links)
    right = n_crm + np.arange(n_links)
    table = [(i, n_crm + i, 3) for i in range(linked_several)]
    table += [(n_links + k, n_crm + n_links + k, 2) for k in range(chance)]  # unlinked
    found = _found(table, [True] * n)
    pairs = pd.DataFrame({"left": left, "right": right})
    level, count = oe.pair_levels(pairs, found, is_erp)
    got = oe.order_bits(level, count, np.ones(n_links, bool), found, is_erp, weight_limit=15)
    bits = got.summary["bits"]
    assert got.summary["used"]
    assert bits[2] > 0 and abs(bits[2]) <= 15
    assert bits[0] <= 0
    m_several = linked_several / n_links
    u_several = chance / (n_crm * n_erp - n_links)
    expected = np.clip(np.log2(m_several / max(u_several, oe.U_FLOOR)), -15, 15)
    assert bits[2] == pytest.approx(expected, abs=0.01)
    texts = got.reasons.to_pylist()
    assert texts[0] == "3 won deals meet orders of the same amount"
    assert got.bits[0] == pytest.approx(expected, abs=0.01)


def test_too_few_linked_pairs_add_nothing_and_say_why() -> None:
    found = _found([(0, 2, 2)], [True] * 4)
    pairs = pd.DataFrame({"left": [0], "right": [2]})
    level, count = oe.pair_levels(pairs, found, IS_ERP)
    got = oe.order_bits(level, count, np.array([True]), found, IS_ERP, weight_limit=15)
    assert not got.summary["used"] and "need" in got.summary["why"]
    assert got.bits.tolist() == [0.0]
    assert got.reasons.null_count == 1
