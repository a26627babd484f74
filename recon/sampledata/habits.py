"""A business's billing habits: the knobs a robustness sweep turns (see bench/robustness.py).

``Habits()`` are the generator's own habits, and ``generate`` without ``habits`` writes the same
bytes as before the knobs existed: every draw a knob adds comes from a stream of its own, drawn
only when the knob is set, and truth_meta.json gains a ``habits`` section only then.

Instalments
    A share of the fulfilled deals (never an under-billed one) is billed in ``instalment_parts``
    parts, ``instalment_gap_days`` apart, in equal parts or as milestones (30/70, 30/40/30, ...).
    The first part comes when a single order would have; a part dated after as_of is not billed
    yet, and the deal is not leakage (it is fine so far). ``instalments_stopped`` of the deals
    with two or more parts due stop paying after one of them: under_billed, the gap being the
    parts due and not billed (ex tax, in the deal currency). The generator's own splits (2-3
    parts 7-60 days apart) stay as they are for the other deals.
ref_first_only
    Later parts of a split or instalment deal never carry crm_deal_ref.
lag_scale, delayed
    The lag from close to the first order is uniform on (-3, 45 x scale) days, and ``delayed`` of
    the deals come at (46, 60) x scale days.
deal_ref, repeat_orders, history_days
    money.Params' share of named orders, repeat business per ERP record, and days of deal history.
ERP go-live (``go_live_days`` before as_of, None = the ERP has always been there)
    No repeat or ERP-only order is dated before it. ``pre_go_live``:

    * ``none``: a deal closed before go-live has no ERP order and is not leakage, whatever it
      would have been (a CRM-only company's too);
    * ``window``: a deal closed before go-live gets the orders that fall on or after go-live,
      and is planted as usual when its first order does (or, with none planted, would); the
      others get no order dated before go-live and are not leakage (billed in the old system).

    Orders of deals in the ERP's era are never dated before go-live. ``pre_go_live_crm_only`` of
    the old customers (in both systems, every deal closed before go-live) never reached the ERP:
    they are CRM-only, and none of their deals is leakage.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from recon.sampledata.money import Params

INSTALMENT_AMOUNTS = ("equal", "milestones")
PRE_GO_LIVE = ("none", "window")


@dataclass(frozen=True)
class Habits:
    """How the business bills; defaults are the generator's own (see the module docstring)."""

    instalments: float = 0.0  # of fulfilled deals
    instalment_parts: tuple[int, int] = (2, 4)
    instalment_gap_days: tuple[int, int] = (60, 100)
    instalment_amounts: str = "equal"  # or "milestones"
    instalments_stopped: float = 0.0  # of instalment deals with two or more parts due
    ref_first_only: bool = False
    lag_scale: float = 1.0
    delayed: float = Params.delayed
    deal_ref: float = Params.deal_ref
    repeat_orders: float = Params.repeat_orders
    history_days: int = Params.history_days
    go_live_days: int | None = None  # before as_of
    pre_go_live: str = "none"  # or "window"
    pre_go_live_crm_only: float = 0.0  # of old customers

    def __post_init__(self) -> None:
        problems = []
        for name in ("instalments", "instalments_stopped", "delayed", "deal_ref",
                     "pre_go_live_crm_only"):  # fmt: skip
            value = getattr(self, name)
            if not 0 <= value <= 1:
                problems.append(f"{name} is {value!r} — expected a share from 0 to 1")
        for name, low in (("instalment_parts", 2), ("instalment_gap_days", 1)):
            lo, hi = getattr(self, name)
            if not low <= lo <= hi:
                problems.append(
                    f"{name} is {(lo, hi)!r} — expected (low, high), {low} ≤ low ≤ high"
                )
        if self.instalment_amounts not in INSTALMENT_AMOUNTS:
            problems.append(
                f"instalment_amounts is {self.instalment_amounts!r} — expected one of "
                f"{', '.join(INSTALMENT_AMOUNTS)}"
            )
        if self.pre_go_live not in PRE_GO_LIVE:
            problems.append(
                f"pre_go_live is {self.pre_go_live!r} — expected one of {', '.join(PRE_GO_LIVE)}"
            )
        if self.lag_scale <= 0:
            problems.append(f"lag_scale is {self.lag_scale!r} — expected a number above 0")
        if self.repeat_orders < 0:
            problems.append(f"repeat_orders is {self.repeat_orders!r} — expected 0 or more")
        if self.history_days < 1:
            problems.append(f"history_days is {self.history_days!r} — expected at least 1")
        if self.go_live_days is not None and self.go_live_days < 0:
            problems.append(f"go_live_days is {self.go_live_days!r} — expected 0 or more, or None")
        if problems:
            raise ValueError("habits: " + "; ".join(problems))

    @property
    def default(self) -> bool:
        return self == DEFAULT

    def params(self, p: Params) -> Params:
        """money.Params with these habits; ``p`` itself when they are the defaults."""
        if self.default:
            return p
        lo, hi = p.order_lag_days
        d_lo, d_hi = p.delayed_lag_days
        s = self.lag_scale
        return dataclasses.replace(
            p,
            order_lag_days=(lo, round(hi * s)),
            delayed=self.delayed,
            delayed_lag_days=(round(d_lo * s), round(d_hi * s)),
            deal_ref=self.deal_ref,
            repeat_orders=self.repeat_orders,
            history_days=self.history_days,
        )


DEFAULT = Habits()
FIELDS = tuple(f.name for f in dataclasses.fields(Habits))


def habits_of(habits: Habits | Mapping[str, Any] | None) -> Habits:
    """``habits`` as Habits: None = the defaults; a mapping overrides them by name (lists are
    read as the (low, high) pairs)."""
    if habits is None:
        return DEFAULT
    if isinstance(habits, Habits):
        return habits
    unknown = [k for k in habits if k not in FIELDS]
    if unknown:
        raise ValueError(
            f"unknown habit {', '.join(map(repr, unknown))} — valid habits: {', '.join(FIELDS)}"
        )
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in habits.items()}
    return Habits(**values)
