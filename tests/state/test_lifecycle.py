"""The finding lifecycle, pure: new, still open with ages, resolved, accepted, expired; stable ids."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from recon.state import lifecycle, rows
from recon.state.keys import KEEPS_ROWS, VOLATILE, keyed_findings
from recon.state.lifecycle import CURRENT_COLUMNS, STORED_COLUMNS, classify, finding_id

RUN_DAYS = {1: "2026-10-01", 2: "2026-10-08", 3: "2026-10-15"}  # weekly runs
AS_OF = dt.date(2026, 10, 15)


def runs() -> pd.DataFrame:
    return pd.DataFrame(
        {"run_id": list(RUN_DAYS), "started_at": pd.to_datetime(list(RUN_DAYS.values()))}
    )


def current(*keys: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "finding_id": [finding_id("leakage", k) for k in keys],
            "family": "leakage",
            "key": list(keys),
            "kind": "no_order",
            "value": [None] * len(keys),
            "payload": ["{}"] * len(keys),
        },
        columns=CURRENT_COLUMNS,
    )


def stored(*rows: tuple[str, str, int]) -> pd.DataFrame:
    """(key, status, first_seen_run) per stored finding, last seen in run 2."""
    return pd.DataFrame(
        [
            (finding_id("leakage", k), "leakage", k, "no_order", s, first, 2, None)
            for k, s, first in rows
        ],
        columns=STORED_COLUMNS,
    )


def accepted(*rows: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "finding_id": [finding_id("leakage", k) for k, _ in rows],
            "until": [dt.date.fromisoformat(u) for _, u in rows],
        }
    )


def classified(prev: pd.DataFrame, cur: pd.DataFrame, acc: pd.DataFrame | None = None):
    acc = acc if acc is not None else accepted()
    out = classify(prev, cur, acc, run_id=3, as_of=AS_OF, runs=runs())
    return out.set_index("key")


def test_finding_id_is_a_short_stable_hash_of_family_and_key() -> None:
    assert finding_id("leakage", "no_order|D1") == finding_id("leakage", "no_order|D1")
    assert finding_id("leakage", "no_order|D1") != finding_id("quality", "no_order|D1")
    assert finding_id("leakage", "no_order|D1") != finding_id("leakage", "no_order|D2")
    assert len(finding_id("leakage", "x")) == 18 and finding_id("leakage", "x").startswith("F-")
    # Pinned: a change of the hash would orphan every stored finding and acceptance.
    assert (
        finding_id("leakage", "no_order|D1") == "F-d4253b1e1e47f871"
    )  # sha256("leakage\x1fno_order|D1")


def test_new_open_and_resolved() -> None:
    out = classified(stored(("a", "open", 1), ("b", "open", 2)), current("a", "c"))
    assert out.loc[
        "c", ["status", "change", "first_seen_run", "age_days", "age_runs"]
    ].tolist() == [
        "open",
        "new",
        3,
        0,
        0,
    ]
    assert out.loc[
        "a", ["status", "change", "first_seen_run", "age_days", "age_runs"]
    ].tolist() == [
        "open",
        "open",
        1,
        14,
        2,
    ]
    assert out.loc["b", ["status", "change", "last_seen_run"]].tolist() == [
        "resolved",
        "resolved",
        2,
    ]
    assert out.loc["b", "resolved_run"] == 3
    assert pd.isna(out.loc["a", "resolved_run"])


def test_a_resolved_finding_that_comes_back_is_new_again_and_old_resolved_ones_stay_out() -> None:
    out = classified(stored(("a", "resolved", 1), ("z", "resolved", 1)), current("a"))
    assert out.loc["a", ["status", "change", "first_seen_run"]].tolist() == ["open", "new", 3]
    assert "z" not in out.index


def test_accepted_until_a_date_then_open_again() -> None:
    prev = stored(("a", "accepted", 1), ("b", "accepted", 1), ("c", "open", 2))
    acc = accepted(("a", "2026-10-15"), ("b", "2026-10-14"), ("c", "2026-12-31"))
    out = classified(prev, current("a", "b", "c"), acc)
    assert out.loc["a", ["status", "change"]].tolist() == ["accepted", "accepted"]
    assert out.loc["a", "accepted_until"] == dt.date(2026, 10, 15)
    assert out.loc["b", ["status", "change"]].tolist() == ["open", "expired"]
    assert out.loc["c", ["status", "change"]].tolist() == ["accepted", "accepted"]


def test_the_newest_acceptance_counts() -> None:
    acc = accepted(("a", "2026-10-01"), ("a", "2026-11-30"))
    out = classified(stored(("a", "open", 1)), current("a"), acc)
    assert out.loc["a", "status"] == "accepted"


def test_an_accepted_finding_that_disappears_is_resolved() -> None:
    acc = accepted(("a", "2026-12-31"))
    out = classified(stored(("a", "accepted", 1)), current(), acc)
    assert out.loc["a", ["status", "change"]].tolist() == ["resolved", "resolved"]


def test_statuses_are_the_documented_ones() -> None:
    out = classified(stored(("a", "open", 1), ("b", "open", 1)), current("a", "c"))
    assert set(out["status"]) <= {lifecycle.OPEN, lifecycle.ACCEPTED, lifecycle.RESOLVED}


LEAKAGE = pd.DataFrame(
    {
        "deal_id": ["D1", None],
        "order_ids": [None, "SO9"],
        "kind": ["under_billed", "orphan_order"],
        "gap_amount": [1200.5, None],
        "close_date": pd.to_datetime(["2026-09-14", None]),
    }
)


def test_leakage_keys_name_the_deal_or_the_orphan_order_and_ignore_amounts() -> None:
    keyed = keyed_findings("leakage", LEAKAGE)
    assert keyed["key"].tolist() == ["under_billed|D1", "orphan_order|order:SO9"]
    edited = keyed_findings("leakage", LEAKAGE.assign(gap_amount=[99.0, None]))
    assert keyed["finding_id"].tolist() == edited["finding_id"].tolist()
    assert str(keyed["value"][0]) == "1200.5"


def test_the_store_keeps_ids_as_the_numbers_of_their_text() -> None:
    keyed = keyed_findings("leakage", LEAKAGE)
    text = [finding_id("leakage", k) for k in keyed["key"]]
    assert lifecycle.id_text(keyed["finding_id"].to_numpy()).to_pylist() == text
    assert lifecycle.id_numbers(text).tolist() == keyed["finding_id"].tolist()
    assert lifecycle.finding_ids("leakage", keyed["key"]).tolist() == text
    # 64 bits as a signed number: ids from F-8… up are negative, and come back alike.
    edge = ["F-0000000000000000", "F-7fffffffffffffff", "F-8000000000000000", "F-ffffffffffffffff"]
    numbers = lifecycle.id_numbers(edge)
    assert numbers.tolist() == [0, 2**63 - 1, -(2**63), -1]
    assert lifecycle.id_text(numbers).to_pylist() == edge
    with pytest.raises(ValueError, match="'F-1' is not a finding id"):
        lifecycle.id_numbers(["F-1"])


def kept(frame: pd.DataFrame) -> pa.Table:
    """``frame`` as the store gives back kept rows (``rows.read``): ids first, and their run."""
    ids = keyed_findings("leakage", frame)["finding_id"].to_numpy()
    table = pa.Table.from_pandas(frame.assign(finding_id=ids), preserve_index=False)
    return table.append_column("row_run", pa.array([1] * len(frame)))


def test_a_kept_row_changes_with_the_row_but_not_with_the_day() -> None:
    aged = LEAKAGE.assign(age_days=pd.array([10, None], dtype="Int64"))
    ids = keyed_findings("leakage", aged)["finding_id"].to_numpy()

    def changed(now: pd.DataFrame) -> list[bool]:
        current = now.assign(finding_id=ids)[["finding_id", *now.columns]]
        return rows.changed(kept(aged), current, VOLATILE).tolist()

    assert changed(aged.assign(age_days=pd.array([17, 3], dtype="Int64"))) == [False, False]
    assert changed(aged.assign(gap_amount=[99.0, None])) == [True, False]
    assert changed(aged.assign(reason="new column")) == [True, True]
    # A row the store does not keep yet has changed.
    assert rows.changed(kept(aged.iloc[:1]), aged.assign(finding_id=ids), VOLATILE).tolist() == [
        False,
        True,
    ]


def test_only_leakage_findings_keep_their_row() -> None:
    assert KEEPS_ROWS == ("leakage",)
    quality = pd.DataFrame(
        {"system": ["crm"], "record_id": ["7"], "rule": ["required"], "field": ["name"]}
    )
    assert keyed_findings("quality", quality)["payload"].isna().all()


def test_quality_and_duplicate_keys() -> None:
    quality = pd.DataFrame(
        {"system": ["crm"], "record_id": ["7"], "rule": ["required"], "field": ["name"]}
    )
    assert keyed_findings("quality", quality)["key"].tolist() == ["crm|7|required|name"]
    dup = pd.DataFrame({"system": ["erp"], "record_id": ["C1"], "xref_id": ["XR-000001"]})
    assert keyed_findings("duplicate", dup)["key"].tolist() == ["erp|C1"]
    with pytest.raises(ValueError, match="unknown finding family"):
        keyed_findings("monthend", dup)


@pytest.mark.parametrize("status", ["pending", "not written", "not delivered"])
def test_findings_first_seen_by_a_run_that_told_nobody_are_new_again(status: str) -> None:
    told = runs().assign(status=["ok", status, "pending"])  # run 3 is the one classifying
    prev = stored(("untold", "open", 2), ("told", "open", 1), ("gone", "open", 2))
    out = classify(
        prev, current("untold", "told"), accepted(), run_id=3, as_of=AS_OF, runs=told
    ).set_index("key")
    assert out.loc["untold", "change"] == "new" and out.loc["untold", "first_seen_run"] == 3
    assert out.loc["told", "change"] == "open" and out.loc["told", "first_seen_run"] == 1
    assert out.loc["gone", "change"] == "resolved"


def test_without_run_statuses_every_earlier_run_counts_as_delivered() -> None:
    out = classified(stored(("a", "open", 2)), current("a"))
    assert out.loc["a", "change"] == "open"
