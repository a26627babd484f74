"""recon.asof: the data's own end, and the order that decides the as-of day (option, rules, data,
today)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from recon.asof import AsOf, data_end, parse_day, parse_option, resolve_as_of
from recon.errors import ConfigError

TODAY = dt.date(2026, 12, 7)
WON, LOST, OPEN = "closedwon", "closedlost", "contractsent"
STAGES = {"won_stages": (WON, "Closed Won"), "lost_stages": (LOST,)}

days = st.dates(dt.date(2000, 1, 1), dt.date(2040, 12, 31))
maybe_days = st.one_of(st.none(), days)


def tables(
    orders: Sequence[dt.date | None] = (),
    invoices: Sequence[dt.date | None] = (),
    deals: Sequence[tuple[str, dt.date | None]] = (),
) -> dict[str, pd.DataFrame]:
    """Tables as the loader gives them: datetime64 date columns, NaT for a missing date."""

    def stamps(values: Sequence[dt.date | None]) -> pd.Series:
        return pd.Series(pd.to_datetime(list(values)), dtype="datetime64[ns]")

    return {
        "erp_orders": pd.DataFrame({"order_id": range(len(orders)), "order_date": stamps(orders)}),
        "erp_invoices": pd.DataFrame({"invoice_date": stamps(invoices)}),
        "crm_deals": pd.DataFrame(
            {
                "stage": pd.Series([s for s, _ in deals], dtype="string"),
                "close_date": stamps([d for _, d in deals]),
            }
        ),
    }


table_sets = st.builds(
    tables,
    st.lists(maybe_days, max_size=6),
    st.lists(maybe_days, max_size=6),
    st.lists(st.tuples(st.sampled_from([WON, LOST, OPEN, "Closed Won"]), maybe_days), max_size=6),
)


def test_data_end_is_the_latest_closed_deal_order_or_invoice_up_to_today() -> None:
    data = tables(
        orders=[dt.date(2025, 6, 30), None, dt.date(2027, 1, 1)],  # a typo after today: ignored
        invoices=[dt.date(2025, 6, 2)],
        deals=[(WON, dt.date(2025, 6, 1)), (OPEN, dt.date(2026, 3, 1)), (LOST, None)],
    )
    assert data_end(data, today=TODAY, **STAGES) == (dt.date(2025, 6, 30), "latest order")

    # An open deal's close date is only expected: it is not the data's end, even before today.
    later = tables(orders=[dt.date(2025, 6, 30)], deals=[(OPEN, dt.date(2026, 3, 1))])
    assert data_end(later, today=TODAY, **STAGES) == (dt.date(2025, 6, 30), "latest order")
    # A lost deal is closed (stages matched as the leakage check does: case and spaces aside).
    lost = tables(orders=[dt.date(2025, 6, 30)], deals=[(" ClosedLost ", dt.date(2025, 7, 4))])
    assert data_end(lost, today=TODAY, **STAGES) == (dt.date(2025, 7, 4), "latest closed deal")
    # Without stages every deal counts, its dates after today left out like any other.
    assert data_end(later, today=TODAY) == (dt.date(2026, 3, 1), "latest closed deal")


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"erp_orders": None, "erp_invoices": None, "crm_deals": None},
        tables(),
        tables(orders=[None, None], deals=[(WON, None)]),
        {"erp_orders": pd.DataFrame({"order_id": ["1"]})},  # no date column
        tables(orders=[dt.date(2030, 1, 1)]),  # only future dates
    ],
    ids=["no tables", "None frames", "empty", "NaT only", "no date column", "future only"],
)
def test_data_end_without_usable_dates_is_none(data: dict[str, pd.DataFrame | None]) -> None:
    end, what = data_end(data, today=TODAY, **STAGES)
    assert end is None and "no closed deal, order or invoice" in what
    assert resolve_as_of(None, None, data, TODAY) == AsOf(TODAY, f"today ({what})", "default")


def test_data_end_reads_text_timestamps_and_time_zones() -> None:
    data = {
        "erp_orders": pd.DataFrame({"order_date": ["2025-06-30 17:45", "not a date", None]}),
        "erp_invoices": pd.DataFrame(
            {"invoice_date": pd.to_datetime(["2025-06-29T23:00:00+07:00"])}
        ),
    }
    assert data_end(data, today=TODAY) == (dt.date(2025, 6, 30), "latest order")


def test_resolve_from_the_data_says_so_in_one_line() -> None:
    data = tables(orders=[dt.date(2025, 6, 30)])
    resolved = resolve_as_of(None, None, data, TODAY)
    assert resolved.day == dt.date(2025, 6, 30) and resolved.from_data
    assert resolved.line() == (
        "as of 2025-06-30, the data's own end (latest order 2025-06-30); today is 2026-12-07 — "
        "give --as-of today to count to today"
    )
    assert "\n" not in resolved.line()


@given(option=days, rules=maybe_days, data=table_sets, today=days)
def test_a_given_day_wins(
    option: dt.date, rules: dt.date | None, data: dict[str, pd.DataFrame], today: dt.date
) -> None:
    resolved = resolve_as_of(option, rules, data, today, **STAGES)
    assert (resolved.day, resolved.kind) == (option, "option")
    assert resolve_as_of(option.isoformat(), rules, data, today, **STAGES).day == option


@given(rules=maybe_days, data=table_sets, today=days)
def test_as_of_today_forces_today(
    rules: dt.date | None, data: dict[str, pd.DataFrame], today: dt.date
) -> None:
    for option in ("today", " Today "):
        resolved = resolve_as_of(option, rules, data, today, **STAGES)
        assert (resolved.day, resolved.kind) == (today, "today")


@given(rules=days, data=table_sets, today=days)
def test_the_rules_beat_the_data(
    rules: dt.date, data: dict[str, pd.DataFrame], today: dt.date
) -> None:
    resolved = resolve_as_of(None, rules, data, today, **STAGES, rules_file="my/leakage.yaml")
    assert (resolved.day, resolved.source) == (rules, "as_of in my/leakage.yaml")


@given(data=table_sets, today=days)
@example(data=tables(), today=TODAY)
@example(data=tables(orders=[TODAY]), today=TODAY)
@example(data=tables(orders=[TODAY + dt.timedelta(days=1)]), today=TODAY)
def test_from_the_data_never_after_today(data: dict[str, pd.DataFrame], today: dt.date) -> None:
    resolved = resolve_as_of(None, None, data, today, **STAGES)
    end, _ = data_end(data, today=today, **STAGES)
    assert resolved.day <= today
    if end is None or end >= today:
        assert (resolved.day, resolved.from_data) == (today, False)
    else:
        assert (resolved.day, resolved.from_data) == (end, True)


@given(data=table_sets, today=days, future=st.lists(days, max_size=4))
def test_dates_after_today_never_move_the_data_end(
    data: dict[str, pd.DataFrame], today: dt.date, future: list[dt.date]
) -> None:
    end, _ = data_end(data, today=today, **STAGES)
    assert end is None or end <= today
    later = [d for d in future if d > today]
    orders = data["erp_orders"]["order_date"].dt.date.tolist() + later
    more = {**data, "erp_orders": tables(orders=orders)["erp_orders"]}
    assert data_end(more, today=today, **STAGES)[0] == end


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("31/12/2025", "--as-of is '31/12/2025' — expected a date such as 2026-10-31, or today"),
        ("2300-01-01", "--as-of is '2300-01-01' — after 2262-04-11, the last day pandas can hold"),
        ("1800-01-01", "--as-of is '1800-01-01' — before 1900-01-01"),
        ("yesterday", "--as-of is 'yesterday' — expected a date"),
    ],
)
def test_a_bad_option_names_itself(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match="^" + re.escape(message)):
        parse_option(value)
    with pytest.raises(ConfigError):
        resolve_as_of(value, None, {}, TODAY)


def test_parse_day_bounds_and_none() -> None:
    assert parse_option(None) is None and parse_day(None, "--to") is None
    assert parse_day(" 2262-04-11 ", "--to") == dt.date(2262, 4, 11)
    told = "--to is 'today' — expected a date such as 2026-10-31"
    with pytest.raises(ConfigError, match=f"^{re.escape(told)}$"):
        parse_day("today", "--to")
