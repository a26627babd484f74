"""Typed, frozen model of rules/leakage.yaml (and the tax_rates.yaml it names) and its loader.

Every number the leakage check uses lives in the YAML files, so the models have no numeric
defaults: a file that leaves a setting out is reported, naming the file and the key. All problems
of a file are reported at once, each reading like
``rules/leakage.yaml: amount_tolerance.percent is "five" — expected a number such as 5 (meaning 5%)``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from recon.config.messages import describe, read_yaml
from recon.errors import ConfigError
from recon.resources import rules_dir as default_rules_dir

LEAKAGE_FILE = "leakage.yaml"


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _number(low: float, high: float, *, whole: bool = False, expected: str) -> BeforeValidator:
    """A number from ``low`` to ``high`` (both included); YAML's true/false and "5" are refused."""

    def check(value: Any) -> float | int:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and (float(value).is_integer() or not whole) and low <= value <= high
        if not ok:
            raise ValueError(f"is {_shown(value)} — expected {expected}")
        return int(value) if whole else float(value)

    return BeforeValidator(check)


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"is {_shown(value)} — expected a date such as 2026-10-31, or null")


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"is {_shown(value)} — expected true or false")
    return value


def _flag_or_auto(value: Any) -> bool | str:
    if isinstance(value, str) and value.strip().casefold() == "auto":
        return "auto"
    if not isinstance(value, bool):
        raise ValueError(f"is {_shown(value)} — expected true, false or auto")
    return value


def _days_or_auto(value: Any) -> int | str:
    if isinstance(value, str) and value.strip().casefold() == "auto":
        return "auto"
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not (ok and float(value).is_integer() and 0 <= value <= 3650):
        raise ValueError(
            f"is {_shown(value)} — expected a whole number of days such as 60, or auto"
        )
    return int(value)


def _words(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f'is {_shown(value)} — expected a list of names such as ["Cancelled"]')
    return tuple(value)


def _currency(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{3}", value.strip()):
        raise ValueError(f"is {_shown(value)} — expected a currency code such as USD, or null")
    return value.strip().upper()


def _country(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{2}", value):
        raise ValueError(f"is {_shown(value)} — expected a country code such as GB")
    return value


Days = Annotated[int, _number(0, 3650, whole=True, expected="a whole number of days such as 60")]
DaysOrAuto = Annotated[int | Literal["auto"], BeforeValidator(_days_or_auto)]
Count = Annotated[int, _number(1, 1_000_000, whole=True, expected="a whole number such as 200")]
Percent = Annotated[
    float, _number(0, 100, expected="a number from 0 to 100 such as 5 (meaning 5%)")
]
Share = Annotated[
    float, _number(0, 10_000, expected="a percent such as 30 (meaning 30% of the deal)")
]
Amount = Annotated[
    float,
    _number(0, 1e15, expected="an amount in the base currency such as 100 (no currency sign)"),
]
Date = Annotated[dt.date, BeforeValidator(_date)]
Flag = Annotated[bool, BeforeValidator(_flag)]
FlagOrAuto = Annotated[bool | Literal["auto"], BeforeValidator(_flag_or_auto)]
Words = Annotated[tuple[str, ...], BeforeValidator(_words)]
Currency = Annotated[str, BeforeValidator(_currency)]
Country = Annotated[str, BeforeValidator(_country)]
TaxPercent = Annotated[
    float, _number(0, 99, expected="a rate in percent from 0 to 99 such as 20 (meaning 20%)")
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DateWindow(_Frozen):
    """Order dates that may belong to a deal, around its close date; ``auto`` = learned from the
    deals whose orders name them (see ``Learning``)."""

    days_before_close: Days
    days_after_close: DaysOrAuto
    later_parts_days_after_close: DaysOrAuto
    later_part_gap_days: DaysOrAuto

    @model_validator(mode="after")
    def _later_after(self) -> DateWindow:
        later, first = self.later_parts_days_after_close, self.days_after_close
        if isinstance(later, int) and isinstance(first, int) and later < first:
            raise ValueError(
                f"later_parts_days_after_close ({self.later_parts_days_after_close}) is below "
                f"days_after_close ({self.days_after_close}) — it must be at least as long"
            )
        return self


class LearnedDays(_Frozen):
    """A value for each learned window setting (fallbacks, caps)."""

    days_after_close: Days
    later_parts_days_after_close: Days
    later_part_gap_days: Days


class Learning(_Frozen):
    """How billing habits set to ``auto`` are learned from the deals whose orders name them."""

    min_deals: Count  # fewer such deals: the fallback is used, and said
    min_split_deals: Count  # fewer deals billed in several parts: the split fallback is used
    quantile_percent: Annotated[
        float, _number(50, 100, expected="a percent from 50 to 100 such as 99")
    ]
    margin_percent: Percent
    fallback: LearnedDays
    floors: LearnedDays
    caps: LearnedDays
    max_parts: Annotated[int, _number(2, 24, whole=True, expected="a whole number such as 6")]
    instalment_share_percent: Percent


class OrderEvidence(_Frozen):
    """Deals and orders of one amount as evidence of a link the matcher missed."""

    link: Flag
    min_name_similarity: Percent


class AmountTolerance(_Frozen):
    """How far orders may be from a deal and still match it: percent and/or an absolute amount."""

    percent: Percent | None = None
    absolute: Amount | None = None
    combine: Literal["looser", "stricter"]

    @model_validator(mode="after")
    def _one_given(self) -> AmountTolerance:
        if self.percent is None and self.absolute is None:
            raise ValueError("give percent, absolute or both — neither is set")
        return self

    def allowed(self, amount: np.ndarray) -> np.ndarray:
        """The tolerance in base currency for each (base-currency) amount."""
        amount = np.abs(np.asarray(amount, dtype=float))
        parts = []
        if self.percent is not None:
            parts.append(amount * self.percent / 100)
        if self.absolute is not None:
            parts.append(np.full(amount.shape, self.absolute))
        pick = np.maximum if self.combine == "looser" else np.minimum
        return functools.reduce(pick, parts)

    def describe(self, currency: str = "") -> str:
        """ "5% but at least USD 25" — how the tolerance reads in a finding's reason."""
        absolute = f"{currency} {self.absolute:,g}".strip() if self.absolute is not None else ""
        if self.percent is None:
            return absolute
        if self.absolute is None:
            return f"{self.percent:g}%"
        word = "at least" if self.combine == "looser" else "at most"
        return f"{self.percent:g}% but {word} {absolute}"


class GracePeriod(_Frozen):
    days: Days
    covers_under_billed: Flag


class Assignment(_Frozen):
    min_share_percent: Share
    max_share_percent: Share
    unnamed_orders_may_over_bill: FlagOrAuto

    @model_validator(mode="after")
    def _around_the_deal(self) -> Assignment:
        if not self.min_share_percent < 100 < self.max_share_percent:
            raise ValueError(
                f"min_share_percent ({self.min_share_percent:g}) must be below 100 and "
                f"max_share_percent ({self.max_share_percent:g}) above it"
            )
        return self


class CurrencyRules(_Frozen):
    base: Currency | None = None
    convert_at: Literal["close_date", "order_date"]


class Taxes(_Frozen):
    rates_file: str
    orders_may_include_tax: FlagOrAuto
    deals_may_include_tax: FlagOrAuto


class TaxRates(_Frozen):
    """rules/tax_rates.yaml: VAT/GST percent by ISO country code, and the country whose rate
    applies, by currency, to a customer whose records name no country."""

    rates: dict[Country, TaxPercent]
    currencies: dict[Currency, Country] = Field(default_factory=dict)


class LeakageRules(_Frozen):
    """rules/leakage.yaml, with the VAT/GST rates of the file it names in ``tax_rates``."""

    as_of: Date | None = None
    erp_go_live: Date | None = None
    pre_go_live_orders: FlagOrAuto
    instalments: FlagOrAuto
    date_window: DateWindow
    learning: Learning
    order_evidence: OrderEvidence
    amount_tolerance: AmountTolerance
    under_billed_below_percent: Annotated[
        float, _number(1, 100, expected="a percent from 1 to 100 such as 90 (meaning 90%)")
    ]
    grace_period: GracePeriod
    assignment: Assignment
    currency: CurrencyRules
    taxes: Taxes
    cancelled_statuses: Words
    lost_stages: Words
    # Filled by the loader from taxes.rates_file (a fraction: 0.2 for 20%), not written in YAML.
    tax_rates: dict[str, float] = Field(default_factory=dict, exclude=True)
    tax_currency_countries: dict[str, str] = Field(default_factory=dict, exclude=True)


def _display(path: Path) -> str:
    """The file as a user would type it: relative to the working folder when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _validate(model: type[BaseModel], data: Any, shown: str, example: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{shown}: expected settings such as '{example}:' at the top level")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = describe(shown, exc).splitlines()
        # our checks say "is X — expected ...": read "key is X", not "key: is X"
        lines = [ln.replace(".[key]:", ":").replace(": is ", " is ", 1) for ln in lines]
        raise ConfigError("\n".join(lines)) from None


def _tax_file(path: Path) -> TaxRates:
    return _validate(TaxRates, read_yaml(path), _display(path), "rates")


def load_tax_rates(path: Path) -> dict[str, float]:
    """VAT/GST rates by country as fractions (20% → 0.2); ConfigError naming file and key."""
    return {country: pct / 100 for country, pct in _tax_file(path).rates.items()}


def load_leakage_rules(path: Path | None = None) -> LeakageRules:
    """Read and check ``leakage.yaml`` (the bundled one by default) and the tax rates it names."""
    path = Path(path) if path is not None else default_rules_dir() / LEAKAGE_FILE
    shown = _display(path)
    data = read_yaml(path)
    if isinstance(data, dict) and "tax_rates" in data:
        raise ConfigError(
            f"{shown}: tax_rates is not a known setting — VAT rates live in the file named by "
            "taxes.rates_file"
        )
    rules: LeakageRules = _validate(LeakageRules, data, shown, "date_window")
    tax = _tax_file(path.parent / rules.taxes.rates_file)
    rates = {country: pct / 100 for country, pct in tax.rates.items()}
    return rules.model_copy(
        update={"tax_rates": rates, "tax_currency_countries": dict(tax.currencies)}
    )


@functools.cache
def default_leakage_rules() -> LeakageRules:
    """The bundled rules, read once per process."""
    return load_leakage_rules()
