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
children id, parent, month, date, base, fx_missing, at_parent, tax, xref_id, owner, currency,
         orphan_kind, orphan_note   (``at_parent``: the amount converted at the parent's date)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from recon.checks import amounts as A
from recon.checks.leakage.prepare import positions, take_at
from recon.checks.monthend_prep import join_by

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


@dataclass(frozen=True)
class StepNames:
    step: str  # "won→ordered"
    parent: str  # "deal"
    child: str  # "order"
    parent_col: str  # "deal_id"
    child_col: str  # "order_id"


def _s(values: object, index: pd.Index) -> pd.Series:
    if isinstance(values, pd.Series):
        return values.astype("string").fillna("")
    return pd.Series(str(values), index=index, dtype="string")


def _text(index: pd.Index, *parts: object) -> pd.Series:
    out = pd.Series("", index=index, dtype="string")
    for part in parts:
        out = out + _s(part, index)
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
    # each child's parent by position: one hash join, then integer takes and group keys
    at = (
        positions(children["parent"], parents["id"]) if len(parents) else np.full(len(children), -1)
    )
    counted = at >= 0
    linked, orphans, at = children[counted], children[~counted], at[counted]
    parts = [_orphans(orphans, names), *_timing(parents, linked, at, names)]
    parts += _residuals(parents, linked, at, names, rounding)
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_items()
    frame = pd.concat(parts, ignore_index=True)
    return frame[frame["month"].isin(list(months))].reset_index(drop=True)


def empty_items() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="string") for c in ITEM_COLUMNS})
    frame["month"] = pd.Series(dtype="period[M]")
    frame["amount_base"] = A.amounts([])
    return frame


def _orphans(orphans: pd.DataFrame, names: StepNames) -> pd.DataFrame:
    missing = orphans["fx_missing"].to_numpy(dtype=bool)
    kind = orphans["orphan_kind"].astype("string").mask(missing, "fx_missing")
    note = _text(
        orphans.index,
        orphans["orphan_note"],
        pd.Series(
            [f" — no {names.child} fx rate, not counted" if m else "" for m in missing],
            index=orphans.index,
        ),
    )
    return items(names, kind, orphans["month"], None, orphans["id"], orphans, orphans["base"], note)


def _timing(
    parents: pd.DataFrame, linked: pd.DataFrame, at: np.ndarray, names: StepNames
) -> list[pd.DataFrame]:
    """``at``: the position of each linked child's parent in ``parents``."""
    if not len(linked):
        return []
    parent_month = take_at(parents["month"], at).set_axis(linked.index)
    shift = ((linked["month"] != parent_month) & (A.filled(linked["base"]) != 0)).to_numpy(bool)
    moved, moved_at = linked[shift], at[shift]
    if not len(moved):
        return []
    p_month = parent_month[moved.index]
    child_side = items(
        names,
        "timing",
        moved["month"],
        moved["parent"],
        moved["id"],
        moved,
        moved["base"],
        _text(
            moved.index,
            f"{names.child} ",
            moved["id"],
            " dated ",
            moved["date"].dt.strftime("%Y-%m-%d"),
            f" is for {names.parent} ",
            moved["parent"],
            " of ",
            p_month.astype("string"),
        ),
    )
    parent_dims = pd.DataFrame(
        {d: take_at(parents[d], moved_at).set_axis(moved.index) for d in DIMS}
    )
    parent_side = items(
        names,
        "timing",
        p_month,
        moved["parent"],
        moved["id"],
        parent_dims,
        A.neg(moved["base"]),
        _text(
            moved.index,
            f"{names.child} ",
            moved["id"],
            f" for this {names.parent} is dated ",
            moved["date"].dt.strftime("%Y-%m-%d"),
            ", in ",
            moved["month"].astype("string"),
        ),
    )
    return [child_side, parent_side]


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
    group = pd.DataFrame(
        {
            "base": base,
            "fx": A.filled(fx_each),
            "tax": A.filled(linked["tax"]),
            "missing": linked["fx_missing"].astype(bool),
        }
    ).groupby(at, sort=False)
    p = parents.set_index("id", drop=False)
    every = pd.RangeIndex(len(p))

    def per_parent(values: pd.Series) -> pd.Series:
        return values.reindex(every).set_axis(p.index)

    child_sum = A.filled(per_parent(group["base"].sum()))
    fx = A.filled(per_parent(group["fx"].sum()))
    tax = A.filled(per_parent(group["tax"].sum()))
    any_missing = per_parent(group["missing"].any()).fillna(False).astype(bool)
    ids = per_parent(join_by(pd.Series(at), linked["id"]))
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
            _text(p.index[u], note, "; its ", plural, ids[u].fillna(""), " total ",
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
        note = _text(
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
            text = _text(
                p.index[r],
                plural,
                ids[r],
                " total ",
                A.text(A.sub(child_sum[r], A.add(fx[r], tax[r]))),
                f" against the {names.parent}'s ",
                A.text(p.loc[r, "base"]),
            )
        else:
            text = _text(p.index[r], plural, ids[r], note)
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
    rows = invoices[invoices["month"].isin(list(months))]
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
    due = rows["due_date"].dt.strftime("%Y-%m-%d").astype("string").fillna("?")
    note = _text(
        rows.index,
        "invoice ",
        rows["id"],
        " of ",
        rows["date"].dt.strftime("%Y-%m-%d"),
        ", due ",
        due,
        ": paid ",
        A.text(paid),
        " of ",
        A.text(A.filled(rows["base"])),
    ).mask(
        missing,
        _text(
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
