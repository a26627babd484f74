"""The decisions file: exact round trip, newest decision wins, history kept, where it lives."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from recon.config.load import folder_config, load_config
from recon.errors import StateError
from recon.models import MATCH, NOT_A_MATCH, ReviewDecision
from recon.state import open_decisions, state_dir
from recon.state.decisions import DEFAULT_STATE_DIR, FILE_NAME

APPLIED = dt.datetime(2026, 11, 3, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))


def decision(right_id: str = "C1", verdict: str = MATCH, **changes: object) -> ReviewDecision:
    values: dict[str, object] = {
        "left_system": "crm",
        "left_id": "0042",
        "right_system": "erp",
        "right_id": right_id,
        "decision": verdict,
        "reviewer": "ana",
        "reviewed_on": dt.date(2026, 11, 2),
        "comment": "same tax id",
        "left_name": "Acme Pty Ltd",
        "right_name": "ACME",
        "source": "review.xlsx, sheet Review, row 2",
        "applied_at": APPLIED,
    }
    values.update(changes)
    return ReviewDecision(**values)  # type: ignore[arg-type]


def test_round_trip_is_exact_even_for_formula_like_and_quoted_text(tmp_path: Path) -> None:
    tricky = [
        decision("C1"),
        decision("C2", NOT_A_MATCH, comment='=HYPERLINK("x")', right_name="'=not a formula"),
        decision("C3", comment="-5% off, per 'Bo'", reviewed_on=None, right_name="'t Hooft BV"),
        decision("C4", comment="line one\nline two, with comma", left_name="@home"),
    ]
    store = open_decisions(tmp_path)
    summary = store.add(tricky)
    assert (summary.added, summary.changed, summary.unchanged) == (4, 0, 0)
    assert open_decisions(tmp_path).current() == tricky
    text = (tmp_path / FILE_NAME).read_text(encoding="utf-8")
    # A spreadsheet opening the file runs no formula: such cells start with an apostrophe.
    assert "'=HYPERLINK" in text and "'@home" in text and "''=not a formula" in text


def test_newest_decision_wins_and_history_is_kept(tmp_path: Path) -> None:
    store = open_decisions(tmp_path)
    store.add([decision("C1", MATCH), decision("C2", MATCH)])
    later = decision("C1", NOT_A_MATCH, reviewer="bo", source="second.csv, row 2")
    summary = store.add([later, decision("C2", MATCH)])
    assert (summary.added, summary.changed, summary.unchanged) == (0, 1, 1)
    current = {d.right_id: d for d in store.current()}
    assert current["C1"] == later and current["C2"].decision == MATCH
    history = store.history()  # type: ignore[attr-defined]
    assert [d.right_id for d in history] == ["C1", "C2", "C1"]


def test_reapplying_the_same_file_writes_nothing(tmp_path: Path) -> None:
    store = open_decisions(tmp_path)
    store.add([decision()])
    before = (tmp_path / FILE_NAME).read_bytes()
    again = decision(source="copy.xlsx, sheet Review, row 9", applied_at=APPLIED + dt.timedelta(1))
    assert store.add([again]).unchanged == 1
    assert (tmp_path / FILE_NAME).read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [FILE_NAME]  # no temporary file left


def test_no_file_means_no_decisions(tmp_path: Path) -> None:
    store = open_decisions(tmp_path / "not-yet")
    assert store.current() == []
    assert not (tmp_path / "not-yet").exists()


def test_a_damaged_file_is_a_state_error_naming_row_and_column(tmp_path: Path) -> None:
    store = open_decisions(tmp_path)
    store.add([decision()])
    path = tmp_path / FILE_NAME
    path.write_text(path.read_text().replace(",match,", ",maybe,"), encoding="utf-8")
    with pytest.raises(StateError, match=r"decisions.csv, row 2, column decision: 'maybe'"):
        store.current()
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(StateError, match="not a recon decisions file"):
        store.current()


def test_state_dir_option_then_recon_yaml_then_default(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("crm_companies", "crm_deals", "erp_customers", "erp_orders"):
        (data / f"{name}.csv").write_text("x\n", encoding="utf-8")
    project = tmp_path / "project"
    project.mkdir()
    tables = "\n".join(
        f"  {t}: {{file: ../data/{t}.csv}}"
        for t in ("crm_companies", "crm_deals", "erp_customers", "erp_orders")
    )
    (project / "recon.yaml").write_text(f"state_dir: memory\ntables:\n{tables}\n")
    from_yaml = load_config(project / "recon.yaml")
    assert state_dir(None, from_yaml) == project.resolve() / "memory"
    assert state_dir(tmp_path / "cli", from_yaml) == tmp_path / "cli"
    assert state_dir(None, folder_config(data)) == DEFAULT_STATE_DIR == Path("recon-state")
    assert state_dir(None, None) == DEFAULT_STATE_DIR
