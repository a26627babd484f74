"""The as-of day every check counts back from, decided once per command (pure, no I/O).

Exports are analysed weeks or months after they were taken. Counting to the day of the analysis
would age every recent deal by that gap and leave the latest months empty, so without a day given
recon takes the data's own end: the latest closed deal, order or invoice dated on or before today.

Order: ``--as-of YYYY-MM-DD``; ``--as-of today``; ``as_of:`` in rules/leakage.yaml; the data's end
when it is earlier than today; else today.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from recon.errors import ConfigError

TODAY: Literal["today"] = "today"
# pandas holds days up to 2262-04-11 (nanosecond timestamps), and the checks count in them; they
# also count windows back from the as-of day, so a day near pandas' first (1677) is refused too.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = pd.Timestamp.max.floor("D").date()

Option = dt.date | Literal["today"] | None
Kind = Literal["option", "today", "rules", "data", "default"]

# Where the data's end is read: table, date column, and what the line calls it. On a tie the
# first named wins.
_DATED = (
    ("erp_orders", "order_date", "latest order"),
    ("erp_invoices", "invoice_date", "latest invoice"),
    ("crm_deals", "close_date", "latest closed deal"),
)


@dataclass(frozen=True)
class AsOf:
    """The resolved as-of day and, in one line, where it came from."""

    day: dt.date
    source: str
    kind: Kind = "option"

    @property
    def from_data(self) -> bool:
        return self.kind == "data"

    def line(self) -> str:
        """``as of 2026-10-31, the data's own end (latest order 2026-10-31); …``"""
        return f"as of {self.day.isoformat()}, {self.source}"


def parse_day(
    value: str | None, option: str, *, expected: str = "a date such as 2026-10-31"
) -> dt.date | None:
    """``YYYY-MM-DD`` → a date pandas can hold; ConfigError (exit code 2) naming the option."""
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(f"{option} is '{value}' — expected {expected}") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        limit = (
            f"after {LAST_DAY}, the last day pandas can hold"
            if day > LAST_DAY
            else f"before {FIRST_DAY}, the first day recon counts from"
        )
        raise ConfigError(f"{option} is '{value}' — {limit}; give a date such as 2026-10-31")
    return day


def parse_option(value: str | None, option: str = "--as-of") -> Option:
    """``--as-of``: ``today`` (any case), a ``YYYY-MM-DD`` date, or None when not given."""
    if value is not None and value.strip().casefold() == TODAY:
        return TODAY
    return parse_day(value, option, expected="a date such as 2026-10-31, or today")


def _dates(frame: pd.DataFrame | None, column: str) -> pd.Series:
    """A column as naive timestamps at midnight, unparseable and missing values dropped."""
    if frame is None or column not in frame.columns or frame.empty:
        return pd.Series([], dtype="datetime64[ns]")
    values = pd.to_datetime(frame[column], errors="coerce")
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    return values.dropna().dt.normalize()


def _folded(values: Iterable[str]) -> set[str]:
    return {str(v).strip().casefold() for v in values}


def data_end(
    tables: Mapping[str, pd.DataFrame | None],
    *,
    won_stages: Iterable[str] = (),
    lost_stages: Iterable[str] = (),
    today: dt.date | None = None,
) -> tuple[dt.date | None, str]:
    """The data's own end and what it is (``"latest order"``): the latest of closed-deal close
    dates, order dates and invoice dates, ignoring dates after ``today`` (typos, future-dated).

    Closed deals are those in the won or lost stages (an open deal's close date is an expected
    one); without stages every deal counts, its future dates left out like any other.
    ``(None, why)`` when no such date exists.
    """
    today = today or dt.date.today()
    cutoff = pd.Timestamp(today)
    closed = _folded(won_stages) | _folded(lost_stages)
    best: tuple[pd.Timestamp, str] | None = None
    for name, column, what in _DATED:
        frame = tables.get(name)
        if name == "crm_deals" and frame is not None and closed and "stage" in frame.columns:
            stage = frame["stage"].astype("string").str.strip().str.casefold()
            frame = frame[stage.isin(closed).fillna(False).to_numpy(dtype=bool)]
        dates = _dates(frame, column)
        dates = dates[(dates <= cutoff).to_numpy(dtype=bool)]
        if len(dates) and (best is None or dates.max() > best[0]):
            best = (dates.max(), what)
    if best is None:
        return None, f"no closed deal, order or invoice dated on or before {today.isoformat()}"
    return best[0].date(), best[1]


def resolve_as_of(
    option: dt.date | str | None,
    rules_as_of: dt.date | None,
    tables: Mapping[str, pd.DataFrame | None],
    today: dt.date,
    *,
    won_stages: Iterable[str] = (),
    lost_stages: Iterable[str] = (),
    rules_file: str = "rules/leakage.yaml",
) -> AsOf:
    """The as-of day: ``--as-of`` (a date, or ``today``), else ``as_of`` in the leakage rules,
    else the data's end when earlier than ``today``, else ``today``."""
    if isinstance(option, str):
        option = parse_option(option)
    if option == TODAY:
        return AsOf(today, "today, as --as-of today asks", "today")
    if isinstance(option, dt.date):
        return AsOf(option, "given with --as-of", "option")
    if rules_as_of is not None:
        return AsOf(rules_as_of, f"as_of in {rules_file}", "rules")
    end, what = data_end(tables, won_stages=won_stages, lost_stages=lost_stages, today=today)
    if end is None:
        return AsOf(today, f"today ({what})", "default")
    if end < today:
        source = (
            f"the data's own end ({what} {end.isoformat()}); today is {today.isoformat()} — "
            "give --as-of today to count to today"
        )
        return AsOf(end, source, "data")
    return AsOf(today, f"today, the data's own end too ({what} {end.isoformat()})", "default")
