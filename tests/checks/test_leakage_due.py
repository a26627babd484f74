"""When a deal billed k of N instalments so far has missed its next one (checks/leakage/due.py):
from how many such deals wait just after a part against how many sit long past the latest gap."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from recon.checks.leakage.due import overdue_after

GAPS = np.sort(np.arange(60, 101, dtype=float).repeat(5))  # instalments 60-100 days apart
GRACE, LATEST = 14, 110


def _deals(waiting: int, stopped: int, seed: int = 0) -> np.ndarray:
    """Days since the last part: ``waiting`` deals in progress (their last part up to the gap
    they will wait ago, spread evenly), ``stopped`` deals spread over 0-500 days."""
    rng = np.random.default_rng(seed)
    gap = rng.choice(GAPS, waiting)
    in_progress = rng.uniform(0, 1, waiting) * (gap + GRACE)
    return np.r_[in_progress, rng.uniform(0, 500, stopped)]


def test_where_no_deal_stops_the_next_part_is_missing_only_after_the_longest_gap_seen() -> None:
    due = overdue_after(_deals(2000, 0), GAPS, GRACE, LATEST)
    assert due.days == GAPS.max() + GRACE
    assert due.note.startswith(f"{GAPS.max() + GRACE:.0f} days after the last part (learned: 0 ")


def test_where_deals_often_stop_a_missing_part_is_called_sooner() -> None:
    rare = overdue_after(_deals(2000, 60), GAPS, GRACE, LATEST).days
    common = overdue_after(_deals(2000, 1500), GAPS, GRACE, LATEST).days
    assert GRACE + 60 <= common < rare <= LATEST + GRACE


def test_too_few_deals_just_after_a_part_fall_back_to_the_latest_gap_and_say_so() -> None:
    due = overdue_after(np.array([5.0, 300.0]), GAPS, GRACE, LATEST)
    assert due.days == LATEST + GRACE
    assert "only 1 deal billed in part just after a part" in due.note
    assert overdue_after(np.array([1.0] * 50), np.zeros(0), GRACE, LATEST).days == LATEST + GRACE


@settings(max_examples=40, deadline=None)
@given(
    waiting=st.integers(0, 3000),
    stopped=st.integers(0, 3000),
    more=st.integers(1, 2000),
    seed=st.integers(0, 10),
)
def test_more_stopped_deals_never_make_the_due_day_later(
    waiting: int, stopped: int, more: int, seed: int
) -> None:
    """Within 0 .. latest + grace, and no later when more deals sit past the latest gap."""
    since = _deals(waiting, stopped, seed)
    extra = np.r_[since, np.full(more, LATEST + GRACE + 10.0)]
    first = overdue_after(since, GAPS, GRACE, LATEST).days
    second = overdue_after(extra, GAPS, GRACE, LATEST).days
    assert 0 <= second <= LATEST + GRACE and 0 <= first <= LATEST + GRACE
    assert second <= first
