"""Tax readings set to auto are decided from the deals whose orders name them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from recon.checks.leakage.taxes import MIN_DEALS, tax_readings
from recon.config.leakage import load_leakage_rules
from recon.errors import ConfigError
from recon.resources import rules_dir

VAT = 0.2


def named(as_booked: int, with_order_tax: int, with_deal_tax: int) -> pd.DataFrame:
    """One named order per deal whose share of the deal fits one reading only."""
    shares = [1.0] * as_booked + [1 + VAT] * with_order_tax + [1 / (1 + VAT)] * with_deal_tax
    n = len(shares)
    return pd.DataFrame({"d": np.arange(n), "ref": np.ones(n, bool), "share": shares})


def decide(pairs: pd.DataFrame, orders: bool | str = "auto", deals: bool | str = "auto"):
    n = int(pairs["d"].max()) + 1
    return tax_readings(pairs, np.full(n, 0.05), np.full(n, VAT), orders, deals)


def test_a_reading_the_named_orders_show_is_allowed_and_one_they_never_show_is_not() -> None:
    got = decide(named(900, 100, 1))  # 1 deal in 1,001 fits only with the deal's tax off
    assert got.orders_with_tax and not got.deals_with_tax
    assert "deal amounts including tax: not allowed (auto; 1 of 1,001" in got.note
    shown = decide(named(900, 0, 100))
    assert shown.deals_with_tax and not shown.orders_with_tax


def test_unnamed_orders_say_nothing() -> None:
    pairs = named(900, 0, 0)
    chance = pd.DataFrame({"d": np.arange(900), "ref": np.zeros(900, bool), "share": 1 / 1.2})
    got = decide(pd.concat([pairs, chance], ignore_index=True))
    assert not got.deals_with_tax


def test_too_few_named_orders_allow_both_and_settings_are_obeyed() -> None:
    few = named(MIN_DEALS - 1, 0, 0)
    assert decide(few).deals_with_tax and decide(few).orders_with_tax
    assert "only 199 deals" in decide(few).note
    many = named(900, 100, 100)
    fixed = decide(many, orders=False, deals=False)
    assert not fixed.orders_with_tax and not fixed.deals_with_tax
    assert "(rules/leakage.yaml)" in fixed.note


def test_auto_in_the_rules_file_and_a_wrong_word_named(tmp_path: Path) -> None:
    assert load_leakage_rules().taxes.deals_may_include_tax == "auto"
    data = yaml.safe_load((rules_dir() / "leakage.yaml").read_text(encoding="utf-8"))
    data["taxes"]["deals_may_include_tax"] = "maybe"
    path = tmp_path / "leakage.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    (tmp_path / "tax_rates.yaml").write_text("rates: {GB: 20}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_leakage_rules(path)
    assert 'taxes.deals_may_include_tax is "maybe" — expected true, false or auto' in str(err.value)
