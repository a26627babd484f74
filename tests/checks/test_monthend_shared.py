"""Month-end reads the deal–order assignment the leakage check of the same run made (``recon
run``), and makes it itself when run alone (``recon monthend``). Both must give the same month-end:
totals, every difference and its explanation, receivables and notes — so sharing the assignment
can never silently change a result."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from recon.checks.monthend import MonthendResult
from recon.config.leakage import load_leakage_rules
from recon.config.load import folder_config
from recon.extract.load import load_all
from recon.models import LoadResult, MatchResult
from recon.pipeline import default_months, leakage, match, monthend, resolve_day
from recon.resources import sample_data_dir
from recon.sampledata import generate, write

FRAMES = ("summary", "differences", "by_entity", "by_owner", "by_currency", "ar")


def _loaded(folder: Path) -> tuple[LoadResult, MatchResult]:
    loaded = load_all(folder_config(folder))
    return loaded, match(loaded)


@pytest.fixture(scope="module")
def sample() -> tuple[LoadResult, MatchResult, dt.date]:
    folder = sample_data_dir()
    meta = json.loads((folder / "truth_meta.json").read_text(encoding="utf-8"))
    return (*_loaded(folder), dt.date.fromisoformat(meta["as_of"]))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[LoadResult, MatchResult, None]:
    folder = tmp_path_factory.mktemp("monthend_shared")
    write(generate(1500, seed=11), folder)
    return (*_loaded(folder), None)


def assert_same(shared: MonthendResult, own: MonthendResult) -> None:
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(shared, name), getattr(own, name), obj=name)
    assert shared.notes == own.notes
    assert shared.tie_out()["ties_out"].all()


@pytest.mark.parametrize("data", ["sample", "generated"])
def test_month_end_given_the_leakage_result_equals_month_end_alone(
    data: str, request: pytest.FixtureRequest
) -> None:
    loaded, matched, as_of = request.getfixturevalue(data)
    rules = load_leakage_rules()
    day = resolve_day(as_of, loaded, rules, dt.date.today()).day
    months = default_months(day)
    found = leakage(loaded, matched, rules, day)
    assert len(found.links) and found.tax_readings is not None
    shared = monthend(loaded, matched, months, leakage=found)
    own = monthend(loaded, matched, months)  # as `recon monthend` does: assigns once itself
    assert_same(shared, own)
    assert (shared.summary["won_to_ordered"] != 0).any()  # there is something to explain


def test_a_leakage_result_that_left_orders_out_is_not_reused(
    sample: tuple[LoadResult, MatchResult, dt.date],
) -> None:
    """Leakage as of a day before the data's end leaves later orders out of its assignment;
    month-end still links them (a timing difference, not a missing order), so it assigns itself."""
    loaded, matched, as_of = sample
    rules = load_leakage_rules()
    months = default_months(as_of)
    early = leakage(loaded, matched, rules, as_of - dt.timedelta(days=60))
    tampered = replace(early, links=early.links.iloc[:0])  # would show if it were read
    assert_same(
        monthend(loaded, matched, months, leakage=tampered), monthend(loaded, matched, months)
    )
