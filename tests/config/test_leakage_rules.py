"""rules/leakage.yaml and rules/tax_rates.yaml: typed, and every mistake named with file and key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from recon.config.leakage import load_leakage_rules
from recon.errors import ConfigError
from recon.resources import rules_dir


def bundled() -> dict:
    return yaml.safe_load((rules_dir() / "leakage.yaml").read_text(encoding="utf-8"))


def write(tmp_path: Path, data: dict, tax: str = "rates: {GB: 20, NO: 25}\n") -> Path:
    path = tmp_path / "leakage.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    (tmp_path / "tax_rates.yaml").write_text(tax, encoding="utf-8")
    return path


def test_bundled_rules_hold_the_documented_defaults() -> None:
    rules = load_leakage_rules()
    window = rules.date_window
    assert (window.days_before_close, window.days_after_close) == (7, "auto")
    assert (window.later_part_gap_days, window.later_parts_days_after_close) == ("auto", "auto")
    fallback = rules.learning.fallback
    assert (fallback.days_after_close, fallback.later_part_gap_days) == (60, 60)
    assert fallback.later_parts_days_after_close == 180
    assert (rules.pre_go_live_orders, rules.instalments) == ("auto", "auto")
    assert rules.under_billed_below_percent == 90
    assert rules.tax_rates["ID"] == pytest.approx(0.11)
    assert rules.tax_rates["NO"] == pytest.approx(0.25)  # YAML's bare NO is false: quoted
    assert rules.amount_tolerance.describe("USD") == "5% but at least USD 25"


def test_tolerance_combines_percent_and_absolute_as_stated() -> None:
    tol = load_leakage_rules().amount_tolerance
    assert tol.allowed(np.array([100.0, 10_000.0])).tolist() == [25.0, 500.0]  # looser
    stricter = tol.model_copy(update={"combine": "stricter"})
    assert stricter.allowed(np.array([100.0, 10_000.0])).tolist() == [5.0, 25.0]


def test_every_problem_is_reported_at_once_with_file_key_and_value(tmp_path: Path) -> None:
    data = bundled()
    data["amount_tolerance"]["percent"] = "five"
    data["as_of"] = "31/10/2026"
    data["currency"]["convert_at"] = "today"
    data["grace_perod"] = {"days": 3}
    data["assignment"]["unnamed_orders_may_over_bill"] = "sometimes"
    del data["lost_stages"]
    with pytest.raises(ConfigError) as err:
        load_leakage_rules(write(tmp_path, data))
    message = str(err.value)
    assert (
        'amount_tolerance.percent is "five" — expected a number from 0 to 100 such as 5' in message
    )
    assert 'as_of is "31/10/2026" — expected a date such as 2026-10-31' in message
    assert (
        "currency.convert_at is \"today\" — expected one of 'close_date' or 'order_date'" in message
    )
    assert "grace_perod is not a known setting" in message
    assert "lost_stages is missing" in message
    assert (
        'assignment.unnamed_orders_may_over_bill is "sometimes" — expected true, false or auto'
        in message
    )
    assert all(line.startswith(str(tmp_path)) for line in message.splitlines())


def test_cross_field_checks(tmp_path: Path) -> None:
    data = bundled()
    data["amount_tolerance"] = {"combine": "looser"}
    data["date_window"]["later_parts_days_after_close"] = 30
    data["date_window"]["days_after_close"] = 60
    with pytest.raises(ConfigError) as err:
        load_leakage_rules(write(tmp_path, data))
    assert "give percent, absolute or both" in str(err.value)
    assert "later_parts_days_after_close (30) is below days_after_close (60)" in str(err.value)


def test_bad_tax_rates_name_their_own_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_leakage_rules(write(tmp_path, bundled(), "rates: {gb: 20, DE: nineteen}\n"))
    assert 'tax_rates.yaml: rates.gb is "gb" — expected a country code such as GB' in str(err.value)
    assert 'rates.DE is "nineteen" — expected a rate in percent' in str(err.value)


def test_learned_settings_take_days_or_auto_and_name_what_is_wrong(tmp_path: Path) -> None:
    data = bundled()
    data["date_window"]["days_after_close"] = "lots"
    data["date_window"]["later_part_gap_days"] = -3
    data["learning"]["caps"]["days_after_close"] = "a year"
    data["instalments"] = "often"
    data["order_evidence"]["min_name_similarity"] = 180
    del data["learning"]["fallback"]
    with pytest.raises(ConfigError) as err:
        load_leakage_rules(write(tmp_path, data))
    message = str(err.value)
    expected = "expected a whole number of days such as 60, or auto"
    assert f'date_window.days_after_close is "lots" — {expected}' in message
    assert f"date_window.later_part_gap_days is -3 — {expected}" in message
    assert 'learning.caps.days_after_close is "a year" — expected a whole number' in message
    assert 'instalments is "often" — expected true, false or auto' in message
    assert "order_evidence.min_name_similarity is 180 — expected a number from 0 to 100" in message
    assert "learning.fallback is missing" in message
    assert all(line.startswith(str(tmp_path)) for line in message.splitlines())
