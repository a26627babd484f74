"""The month-end summary printed at the end of ``recon monthend``: totals, causes, receivables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from recon.checks import amounts as A
from recon.checks.monthend import DIFFERENCES, STEPS, TOTALS, MonthendResult
from recon.checks.monthend_prep import AMOUNT_UNKNOWN

TOP_CAUSES = 8


def _money(value: object) -> str:
    return f"{float(str(value)):,.2f}"


def print_monthend_summary(result: MonthendResult, out_dir: Path, *, color: bool) -> None:
    console = Console(no_color=not color, highlight=False, soft_wrap=True)
    first, last = result.months[0], result.months[-1]
    span = str(first) if first == last else f"{first} to {last}"
    # Two narrow tables rather than one wide one: they fit an 80-column log.
    for title, columns in (
        (f"Month-end {span} ({result.base_currency})", TOTALS),
        ("Differences (next step − previous)", DIFFERENCES),
    ):
        table = Table(title=title)
        table.add_column("month", justify="left")
        for name in columns:
            table.add_column(name.replace("_to_", "→"), justify="right")
        for row in result.summary.itertuples(index=False):
            table.add_row(str(row.month), *(_money(getattr(row, c)) for c in columns))
        console.print(table)

    diffs = result.differences
    if len(diffs):
        causes = Table(title="Largest causes of the differences")
        for col, justify in (
            ("step", "left"),
            ("kind", "left"),
            ("items", "right"),
            ("amount", "right"),
        ):
            causes.add_column(col, justify=justify)  # type: ignore[arg-type]
        grouped = diffs.groupby(["step", "kind"])["amount_base"]
        frame = pd.DataFrame({"items": grouped.size(), "amount": grouped.sum()}).reset_index()
        frame["size"] = A.absolute(frame["amount"])
        frame["rank"] = frame["step"].map({s: i for i, s in enumerate(STEPS)})
        top = frame.sort_values("size", ascending=False).head(TOP_CAUSES)
        for row in top.sort_values(["rank", "size"], ascending=[True, False]).itertuples():
            causes.add_row(str(row.step), str(row.kind), f"{row.items:,}", _money(row.amount))
        console.print(causes)
    console.print(
        "tie-out: in every month and step the explained differences add up to the difference"
    )
    ar = result.ar
    if len(ar):
        console.print(
            f"receivables as of {result.as_of:%Y-%m-%d}: {_money(A.total(ar['open_balance']))} "
            f"open, {_money(A.total(ar['overdue_amount']))} overdue at "
            f"{int((ar['overdue_amount'] > 0).sum()):,} entities, "
            f"{int(ar['credit_hold'].sum()):,} on credit hold"
        )
    for note in (*result.notes, *_unknown_amounts(result)):
        console.print(f"note: {note}")
    console.print(f"month-end files written to {out_dir}")


def _unknown_amounts(result: MonthendResult) -> list[str]:
    """The won deals without an amount, unless the result's notes already say so."""
    if any(AMOUNT_UNKNOWN in note for note in result.notes):
        return []
    diffs = result.differences
    n = int(diffs.loc[diffs["kind"] == AMOUNT_UNKNOWN, "deal_id"].nunique())
    if not n:
        return []
    return [
        f"{n:,} won deal(s) have no amount in the CRM: counted as 0 in won and listed as "
        f"{AMOUNT_UNKNOWN} in the differences (quality.csv lists them to fix)"
    ]
