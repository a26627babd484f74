"""Review decisions in the SQL state store, on SQLite, PostgreSQL and MariaDB: the same
``DecisionStore`` behaviour as the CSV log (newest decision per pair; exact repeats left out; a
changed decision counted), chosen by ``open_decisions`` when a store URL is given."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_urls import isolated_store_url

from recon.errors import StateError
from recon.models import MATCH, NOT_A_MATCH, ReviewDecision
from recon.state import open_decisions
from recon.state.decisions import CsvDecisionStore
from recon.state.sql_decisions import SqlDecisionStore
from recon.state.store import Store

APPLIED = dt.datetime(2026, 11, 3, 9, 30, tzinfo=dt.UTC)


def decision(right: str, word: str, comment: str = "", reviewer: str = "ana") -> ReviewDecision:
    return ReviewDecision(
        "crm", "5000000809", "erp", right, word, reviewer, dt.date(2026, 11, 2), comment,
        source="reviewed.xlsx, sheet Review, row 7", applied_at=APPLIED,
    )  # fmt: skip


@pytest.fixture
def store_url(db_url: str) -> Iterator[str]:
    with isolated_store_url(db_url) as url:
        yield url


def test_open_decisions_picks_the_store_when_a_url_is_given(store_url: str, tmp_path: Path) -> None:
    assert isinstance(open_decisions(tmp_path), CsvDecisionStore)
    chosen = open_decisions(tmp_path, store_url)
    assert isinstance(chosen, SqlDecisionStore)
    assert chosen.location == Store.open(store_url).location
    assert not (tmp_path / "decisions.csv").exists()


def test_newest_decision_per_pair_repeats_left_out_changes_counted(store_url: str) -> None:
    store = SqlDecisionStore(store_url)
    assert store.current() == []
    first = store.add([decision("C1", MATCH, "same tax id"), decision("C2", NOT_A_MATCH)])
    assert (first.added, first.changed, first.unchanged) == (2, 0, 0)
    again = store.add([decision("C1", MATCH, "same tax id")])
    assert (again.added, again.changed, again.unchanged) == (0, 0, 1)
    changed = store.add([decision("C1", NOT_A_MATCH, "different entity", reviewer="bo")])
    assert (changed.added, changed.changed, changed.unchanged) == (0, 1, 0)

    reopened = SqlDecisionStore(store_url)  # a later process reads what was stored
    current = {d.right_id: d for d in reopened.current()}
    assert set(current) == {"C1", "C2"}
    assert current["C1"].decision == NOT_A_MATCH and current["C1"].reviewer == "bo"
    assert current["C1"].comment == "different entity"
    assert current["C2"].reviewed_on == dt.date(2026, 11, 2)
    assert current["C2"].source == "reviewed.xlsx, sheet Review, row 7"
    assert current["C2"].applied_at == APPLIED
    assert len(reopened.history()) == 3  # the log keeps every decision applied


def test_a_failed_add_stores_none_of_the_decisions(store_url: str) -> None:
    store = SqlDecisionStore(store_url)
    broken = dataclasses.replace(decision("C2", MATCH), left_system=None)  # NOT NULL column
    with pytest.raises(StateError):
        store.add([decision("C1", MATCH), broken])
    assert store.current() == []
