"""One reconciliation step (won→ordered or ordered→invoiced) explained row by row.

A step compares *parents* (the records one step counts, e.g. won deals by close month) with
*children* (the next step's records, e.g. orders by order month), each child naming at most one
parent. The month's difference is Σ children − Σ parents, and every bit of it lands in exactly one
item, which is why the tie-out holds by construction:

* an orphan child (no counted parent) adds its whole amount in its own month;
* a child in another month than its parent is a timing item twice: +amount in the child's month,
  −amount in the parent's month;
* in the parent's month the rest of the group, Σ all children − parent, is split into fx (children
  converted at their own date rather than the parent's), tax (included in the children but not the
  parent) and the remaining amount difference — or, when the parent has no children, one item of
  the parent's ``empty_kind`` ("no_order", "cancelled_order", "not_invoiced", ...); when any amount
  of the group has no fx rate, the rest is one ``fx_missing`` item instead;
* a parent whose own amount is unknown (``amount_missing``: a won deal without an amount, counted
  as 0) has its rest as one ``amount_unknown`` item, even when it is 0: it is listed, not
  compared.

Input frames (all ids text, amounts ``AMOUNT_DTYPE`` in base currency, 0 where no rate was found):
parents  id, month, date, base, fx_missing, xref_id, owner, currency, empty_kind, empty_note
         [, amount_missing]
children id, parent, parent_at, month, date, base, fx_missing, at_parent, tax, xref_id, owner,
         currency, orphan_kind, orphan_note   (``parent_at``: the position of the child's parent
         in ``parents``, -1 for none; ``at_parent``: the amount converted at the parent's date)

A note (``empty_note``, ``orphan_note``) need only be there for a row it can explain; elsewhere it
may be missing. Only the rows of the requested months are worked on: a parent's residual needs
all its children, a child in another month only its parent's month.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa

from recon.checks import amounts as A
from recon.checks.leakage.prepare import take_at
from recon.checks.monthend_prep import day_text, join_by, joined

ITEM_COLUMNS = [
    "month",
    "step",
    "kind",
    "deal_id",
    "order_id",
    "invoice_id",
    "xref_id",
    "owner",
    "currency",
    "amount_base",
    "explanation",
]
DIMS = ["xref_id", "owner", "currency"]
PARENT_COLUMNS = [
    "id", "month", "base", "fx_missing", "amount_missing", "empty_kind", "empty_note", *DIMS
]  # fmt: skip


@dataclass(frozen=True)
class StepNames:
    step: str  # "won→ordered"
    parent: str  # "deal"
    child: str  # "order"
    parent_col: str  # "deal_id"
    child_col: str  # "order_id"


def month_text(months: pd.Series) -> pd.Series:
    """'2026-10' per month, formatting each distinct month once."""
    codes, uniques = pd.factorize(months)
    if not len(uniques):
        return pd.Series(pd.NA, index=months.index, dtype="string")
    labels = pd.Series(uniques.astype(str), dtype="string")
    return take_at(labels, codes).set_axis(months.index).astype("string")


def sums_by(at: np.ndarray, n: int, *values: pd.Series) -> list[pd.Series]:
    """Per group ``0 .. n-1`` (``at``: each row's group), the sum of each amount column, missing
    for a group without rows: one Arrow hash aggregation on the integer key."""
    table = pa.table(
        {"g": pa.array(at, pa.int64())}
        | {f"v{i}": pa.chunked_array(v.array.__arrow_array__()) for i, v in enumerate(values)}
    )
    sums = table.group_by("g").aggregate([(f"v{i}", "sum") for i in range(len(values))])
    slot = np.full(n, len(sums), dtype=np.int64)  # groups without rows take the null at the end
    slot[sums["g"].to_numpy()] = np.arange(len(sums))
    out = []
    for i in range(len(values)):
        column = sums[f"v{i}_sum"]
        pool = pa.chunked_array([*column.chunks, pa.nulls(1, column.type)], column.type)
        out.append(pd.Series(pd.array(pool.take(pa.array(slot)), dtype=A.AMOUNT_DTYPE)))
    return out


def items(
    names: StepNames,
    kind: pd.Series | str,
    month: pd.Series,
    parent_id: pd.Series | None,
    child_id: pd.Series | None,
    dims: pd.DataFrame,
    amount: pd.Series,
    explanation: pd.Series,
) -> pd.DataFrame:
    """Item rows in ``ITEM_COLUMNS`` order; ids go to the column of their record type."""
    index = amount.index
    none = pd.Series(pd.NA, index=index, dtype="string")
    frame = pd.DataFrame(
        {
            "month": month,
            "step": names.step,
            "kind": kind,
            "deal_id": none,
            "order_id": none,
            "invoice_id": none,
            **{d: dims[d].astype("string") for d in DIMS},
            "amount_base": amount,
            "explanation": explanation,
        },
        index=index,
    )
    if parent_id is not None:
        frame[names.parent_col] = parent_id.astype("string")
    if child_id is not None:
        frame[names.child_col] = child_id.astype("string")
    return frame.astype({"kind": "string", "step": "string"})


def explain_step(
    parents: pd.DataFrame,
    children: pd.DataFrame,
    names: StepNames,
    months: Sequence[pd.Period],
    rounding: Decimal = Decimal("0.01"),
) -> pd.DataFrame:
    """Every item of the step's difference in ``months`` (Σ items = Σ children − Σ parents).
    An amount difference smaller than ``rounding`` is kind ``rounding`` (conversion to base)."""
    at = children["parent_at"].to_numpy(dtype=np.int64)
    counted = at >= 0
    wanted = list(months)
    child_in = children["month"].isin(wanted).to_numpy(dtype=bool)
    parent_in = parents["month"].isin(wanted).to_numpy(dtype=bool)
    with_parent_in = np.zeros(len(children), dtype=bool)
    with_parent_in[counted] = parent_in[at[counted]]
    parent_cols = [c for c in PARENT_COLUMNS if c in parents]
    renumber = np.cumsum(parent_in) - 1  # residuals: the parents in the months, renumbered
    parts = [
        _orphans(children[~counted & child_in], names),
        *_timing(parents, children, at, child_in, with_parent_in, names),
        *_residuals(
            parents.loc[parent_in, parent_cols],
            children.loc[with_parent_in, ["id", "base", "at_parent", "tax", "fx_missing"]],
            renumber[at[with_parent_in]],
            names,
            rounding,
        ),
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_items()
    return pd.concat(parts, ignore_index=True)


def empty_items() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="string") for c in ITEM_COLUMNS})
    frame["month"] = pd.Series(dtype="period[M]")
    frame["amount_base"] = A.amounts([])
    return frame


def _orphans(orphans: pd.DataFrame, names: StepNames) -> pd.DataFrame:
    missing = orphans["fx_missing"].to_numpy(dtype=bool)
    kind = orphans["orphan_kind"].astype("string").mask(missing, "fx_missing")
    no_rate = pd.Series(pd.NA, index=orphans.index, dtype="string")
    no_rate[missing] = f" — no {names.child} fx rate, not counted"
    note = joined(orphans.index, orphans["orphan_note"], no_rate)
    return items(names, kind, orphans["month"], None, orphans["id"], orphans, orphans["base"], note)


def _timing(
    parents: pd.DataFrame,
    children: pd.DataFrame,
    at: np.ndarray,
    child_in: np.ndarray,
    parent_in: np.ndarray,
    names: StepNames,
) -> list[pd.DataFrame]:
    """A child in another month than its parent: +amount in the child's month (when in the
    months, ``child_in``), −amount in the parent's (when in the months, ``parent_in``).
    ``at``: the position of each child's parent in ``parents`` (-1: none)."""
    counted = at >= 0
    months = parents["month"].array.asi8
    parent_month = np.where(counted, months[np.maximum(at, 0)] if len(months) else 0, 0)
    shift = (
        counted
        & (children["month"].array.asi8 != parent_month)
        & (A.filled(children["base"]) != 0).to_numpy(dtype=bool)
    )
    out = []
    cols = ["id", "parent", "month", "date", "base", *DIMS]
    c = children.loc[shift & child_in, cols]
    if len(c):
        p_month = take_at(parents["month"], at[shift & child_in]).set_axis(c.index)
        note = joined(
            c.index,
            f"{names.child} ", c["id"], " dated ", day_text(c["date"]),
            f" is for {names.parent} ", c["parent"], " of ", month_text(p_month),
        )  # fmt: skip
        out.append(items(names, "timing", c["month"], c["parent"], c["id"], c, c["base"], note))
    p = children.loc[shift & parent_in, cols]
    if len(p):
        p_at = at[shift & parent_in]
        p_month = take_at(parents["month"], p_at).set_axis(p.index)
        dims = pd.DataFrame({d: take_at(parents[d], p_at).set_axis(p.index) for d in DIMS})
        note = joined(
            p.index,
            f"{names.child} ", p["id"], f" for this {names.parent} is dated ",
            day_text(p["date"]), ", in ", month_text(p["month"]),
        )  # fmt: skip
        out.append(
            items(names, "timing", p_month, p["parent"], p["id"], dims, A.neg(p["base"]), note)
        )
    return out


def _residuals(
    parents: pd.DataFrame,
    linked: pd.DataFrame,
    at: np.ndarray,
    names: StepNames,
    rounding: Decimal,
) -> list[pd.DataFrame]:
    """Σ children − parent in the parent's month, split into fx, tax and amount difference.
    ``at``: the position of each linked child's parent in ``parents`` (the group key)."""
    base = A.filled(linked["base"])
    at_parent = linked["at_parent"].astype(base.dtype)
    fx_each = A.sub(base, at_parent)  # NA (then 0) where no rate at the parent's date
    p = parents.set_index("id", drop=False)
    child_sum, fx, tax = (
        A.filled(s.set_axis(p.index))
        for s in sums_by(at, len(p), base, A.filled(fx_each), A.filled(linked["tax"]))
    )
    any_missing = np.zeros(len(p), dtype=bool)
    any_missing[at[linked["fx_missing"].to_numpy(dtype=bool)]] = True
    any_missing = pd.Series(any_missing, index=p.index)
    ids = join_by(pd.Series(at), linked["id"]).reindex(pd.RangeIndex(len(p))).set_axis(p.index)
    residual = A.sub(child_sum, A.filled(p["base"]))
    unknown = (
        p["amount_missing"].fillna(False).astype(bool)
        if "amount_missing" in p
        else pd.Series(False, index=p.index)
    )
    missing = (p["fx_missing"].astype(bool) | any_missing) & ~unknown
    empty = ids.isna() & ~missing & ~unknown
    rest = ~missing & ~empty & ~unknown
    out = []
    plural = f"{names.child}s "
    if unknown.any():
        u = unknown
        note = p.loc[u, "empty_note"].astype("string")
        with_children = ids[u].notna()
        note = note.mask(
            with_children,
            joined(p.index[u], note, "; its ", plural, ids[u].fillna(""), " total ",
                  A.text(child_sum[u]), ", not compared"),
        )  # fmt: skip
        out.append(
            items(
                names,
                p.loc[u, "empty_kind"],
                p.loc[u, "month"],
                p.loc[u, "id"],
                ids[u],
                p[u],
                residual[u],
                note,
            )
        )
    if missing.any():
        m = missing
        note = joined(
            p.index[m],
            f"fx rate missing for {names.parent} ",
            p.loc[m, "id"],
            " (",
            p.loc[m, "currency"],
            ") or its ",
            plural,
            ids[m],
            ": the amounts without a rate are not counted",
        )
        out.append(
            items(
                names,
                "fx_missing",
                p.loc[m, "month"],
                p.loc[m, "id"],
                ids[m],
                p[m],
                residual[m],
                note,
            )
        )
    nonzero = residual != 0
    if (empty & nonzero).any():
        e = empty & nonzero
        out.append(
            items(
                names,
                p.loc[e, "empty_kind"],
                p.loc[e, "month"],
                p.loc[e, "id"],
                None,
                p[e],
                residual[e],
                p.loc[e, "empty_note"].astype("string"),
            )
        )
    amount_diff = A.sub(A.sub(residual, fx), tax)
    for kind, values, note in (
        ("fx_conversion", fx, f" converted at their own date's rate, not the {names.parent}'s"),
        ("tax", tax, f" include tax that the {names.parent} does not"),
        ("amount_difference", amount_diff, None),
    ):
        r = rest & (values != 0)
        if not r.any():
            continue
        if note is None:
            text = joined(
                p.index[r],
                plural,
                ids[r],
                " total ",
                A.text(A.sub(child_sum[r], A.add(fx[r], tax[r]))),
                f" against the {names.parent}'s ",
                A.text(p.loc[r, "base"]),
            )
        else:
            text = joined(p.index[r], plural, ids[r], note)
        if kind == "amount_difference":
            tiny = (A.absolute(values[r]) < rounding).to_numpy(dtype=bool)
            kind = pd.Series(kind, index=text.index, dtype="string").mask(tiny, "rounding")
            text = text.mask(tiny, text + " (rounding in the conversion to base currency)")
        out.append(
            items(names, kind, p.loc[r, "month"], p.loc[r, "id"], ids[r], p[r], values[r], text)
        )
    return out


PAYMENTS = StepNames("invoiced→paid", "invoice", "invoice", "invoice_id", "invoice_id")


def explain_payments(invoices: pd.DataFrame, months: Sequence[pd.Period]) -> pd.DataFrame:
    """Paid − invoiced per invoice, in the invoice's month (exports carry no payment dates)."""
    cols = ["id", "parent", "month", "date", "due_date", "base", "paid_base", "fx_missing", *DIMS]
    rows = invoices.loc[invoices["month"].isin(list(months)).to_numpy(dtype=bool), cols]
    residual = A.sub(A.filled(rows["paid_base"]), A.filled(rows["base"]))
    missing = rows["fx_missing"].astype(bool)
    keep = missing | (residual != 0)
    rows, residual, missing = rows[keep], residual[keep], missing[keep]
    paid = A.filled(rows["paid_base"])
    kind = (
        pd.Series("partially_paid", index=rows.index, dtype="string")
        .mask(paid == 0, "unpaid")
        .mask(residual > 0, "overpaid")
        .mask(missing, "fx_missing")
    )
    due = day_text(rows["due_date"]).fillna("?")
    note = joined(
        rows.index,
        "invoice ",
        rows["id"],
        " of ",
        day_text(rows["date"]),
        ", due ",
        due,
        ": paid ",
        A.text(paid),
        " of ",
        A.text(A.filled(rows["base"])),
    ).mask(
        missing,
        joined(
            rows.index,
            "invoice ",
            rows["id"],
            " (",
            rows["currency"],
            ") has no fx rate: not counted",
        ),
    )
    frame = items(PAYMENTS, kind, rows["month"], None, rows["id"], rows, residual, note)
    frame["order_id"] = rows["parent"].astype("string")
    return frame.reset_index(drop=True)
