"""Month-end inputs as the steps read them: won deals, orders and invoices in base currency,
each with its month, entity, owner and the record it belongs to (see ``monthend_steps``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.checks import amounts as A
from recon.checks.leakage.prepare import positions, take_at

Convert = Callable[[pd.Series, pd.Series, pd.Series], pd.DataFrame]


def already_base(amount: pd.Series, currency: pd.Series, on: pd.Series) -> pd.DataFrame:
    """The converter for amounts that are already in the base currency."""
    return pd.DataFrame({"amount_base": A.filled(amount), "fx_missing": False}, index=amount.index)


def _column(frame: pd.DataFrame, name: str, default: object = pd.NA) -> pd.Series:
    if name in frame:
        return frame[name]
    return pd.Series(default, index=frame.index, dtype="string")


def _folded(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().str.casefold()


def is_in(values: pd.Series, choices: Sequence[str]) -> pd.Series:
    """Membership ignoring case and surrounding spaces; missing is never in. Each distinct value
    is folded once (a column holds a handful of stages or statuses)."""
    codes, uniques = pd.factorize(values.astype("string"))
    folded = _folded(pd.Series(uniques, dtype="string"))
    hit = folded.isin([c.strip().casefold() for c in choices]).fillna(False).to_numpy(dtype=bool)
    return pd.Series(np.append(hit, False)[codes], index=values.index)  # code -1: missing


def _ids(values: object) -> pd.Series | pd.Index:
    if isinstance(values, pd.Series | pd.Index):
        return values
    return pd.Series(values, dtype="string")


def member(values: pd.Series | pd.Index, pool: object) -> np.ndarray:
    """``values.isin(pool)`` for id columns, compared as text through an Arrow hash join (pandas
    hashes Arrow text as Python objects, one at a time)."""
    return at(values, _ids(pool)) >= 0


def lookup(keys: pd.Series, table: pd.Series) -> pd.Series:
    """``keys.map(table)`` for id keys (``table`` indexed by unique ids), through the same Arrow
    hash join; NA where a key is not in ``table``."""
    if not len(table) or not len(keys):
        return keys.map(table)
    return take_at(table, at(keys, table.index)).set_axis(keys.index)


def join_by(keys: pd.Series, values: pd.Series, sep: str = ";") -> pd.Series:
    """``values`` joined per key in order of appearance, indexed by key — in Arrow (a list per
    key, then one join), with no Python per key."""
    codes, uniques = pd.factorize(keys)
    if not len(uniques):
        return pd.Series(dtype="string")
    keep = codes >= 0
    codes = codes[keep]
    order = np.argsort(codes, kind="stable")  # stable: appearance order inside each key
    text = pa.chunked_array(pa.array(values.astype("string").array)).combine_chunks()
    text = pc.cast(text, pa.string()).filter(pa.array(keep)).take(pa.array(order))
    offsets = np.r_[0, np.cumsum(np.bincount(codes, minlength=len(uniques)))].astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), text)
    joined = pc.binary_join(lists, sep)
    return pd.Series(pd.array(joined, dtype="string"), index=pd.Index(uniques))


def _strings(values: pd.Series | pd.Index) -> pa.Array:
    """Values as one Arrow string array, as ``positions`` compares them."""
    if values.dtype == object:
        values = values.astype("string")
    arrow = pa.array(values)
    arrow = arrow.combine_chunks() if isinstance(arrow, pa.ChunkedArray) else arrow
    return arrow if arrow.type == pa.string() else pc.cast(arrow, pa.string())


def at(keys: pd.Series, pool: pd.Series | pd.Index) -> np.ndarray:
    """Position in ``pool`` of each key (the first where ``pool`` repeats one; -1 where none), so
    that every column of the pool's frame is then an integer take, not another hash join.
    Building a hash table costs about ten times probing one, so for a few keys among many (the
    orphans among millions of deals) the table is built on the keys' distinct values instead."""
    if not len(pool) or not len(keys):
        return np.full(len(keys), -1, dtype=np.int64)
    if 3 * len(keys) >= len(pool):
        return positions(keys, pool)
    encoded = pc.dictionary_encode(_strings(keys))  # a missing key stays missing
    found = pc.index_in(_strings(pool), value_set=encoded.dictionary).fill_null(-1).to_numpy()
    rows = np.flatnonzero(found >= 0)
    first = np.full(len(encoded.dictionary) + 1, -1, dtype=np.int64)  # last slot: missing key
    distinct, where = np.unique(found[rows], return_index=True)
    first[distinct] = rows[where]
    missing = np.flatnonzero(pd.isna(pool))
    first[-1] = missing[0] if len(missing) else -1  # as positions(): missing matches missing
    return first[encoded.indices.fill_null(-1).to_numpy()]


def take(values: pd.Series, where: np.ndarray, index: pd.Index) -> pd.Series:
    """``values`` at positions ``where`` (missing where -1), on ``index``."""
    if not len(values):
        return pd.Series(pd.NA, index=index, dtype=values.dtype)
    return take_at(values, where).set_axis(index)


def joined(index: pd.Index, *parts: object, fill: bool = True) -> pd.Series:
    """The parts joined row by row in one Arrow pass (a Series gives each row its value, anything
    else is repeated). With ``fill`` a missing part counts as ""; without, it makes the row
    missing, as ``+`` does."""
    if not any(isinstance(p, pd.Series) for p in parts):
        return pd.Series("".join(map(str, parts)), index=index, dtype="string")
    arrays = [
        pa.chunked_array(p.astype("string").array.__arrow_array__()).cast(pa.large_string())
        if isinstance(p, pd.Series)
        else pa.scalar(str(p), pa.large_string())
        for p in parts
    ]
    how = {"null_handling": "replace", "null_replacement": ""} if fill else {}
    out = pc.binary_join_element_wise(*arrays, pa.scalar("", pa.large_string()), **how)
    return pd.Series(pd.array(out, dtype="string"), index=index)


def spread(values: pd.Series, where: np.ndarray, index: pd.Index) -> pd.Series:
    """Text made for the rows ``where`` (a mask) only, as a column of all rows, missing elsewhere."""
    slot = np.full(len(where), len(values), dtype=np.int64)  # the null after the last value
    slot[where] = np.arange(len(values))
    arrow = pa.chunked_array(values.astype("string").array.__arrow_array__())
    pool = pa.chunked_array([*arrow.chunks, pa.nulls(1, arrow.type)], arrow.type)
    return pd.Series(pd.array(pool.take(pa.array(slot)), dtype="string"), index=index)


def day_text(values: pd.Series) -> pd.Series:
    """'2026-10-31' per date (missing stays missing), each distinct day formatted once."""
    codes, days = pd.factorize(pd.Series(pd.to_datetime(values)).astype("datetime64[ns]"))
    labels = pa.array(pd.DatetimeIndex(days).strftime("%Y-%m-%d"), pa.large_string())
    picked = labels.take(pa.array(codes, mask=codes < 0))
    return pd.Series(pd.array(picked, dtype="string"), index=values.index)


def convert(
    convert_fn: Convert, amount: pd.Series, currency: pd.Series, on: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """Base amounts (0 where no rate applies, so totals leave them out) and the missing flags."""
    out = convert_fn(amount, currency, on)
    missing = out["fx_missing"].astype(bool)
    return A.filled(A.filled(out["amount_base"]).where(~missing)), missing  # 0 where missing


def entity_of(xref: pd.DataFrame, system: str) -> pd.Series:
    """record id → xref_id for one system."""
    rows = xref[xref["system"].astype(str) == system]
    ids = pd.Series(
        rows["xref_id"].astype("string").array, index=pd.Index(rows["record_id"].astype("string"))
    )
    ids = ids.dropna()  # as groupby().first(): the first id of each record that has one
    return ids[~ids.index.duplicated()]


def entity_owner(companies: pd.DataFrame | None, crm_entity: pd.Series) -> pd.Series:
    """xref_id → the owner of the entity's first CRM company that has one (for ERP-only rows).
    ``crm_entity``: ``entity_of(xref, "crm")``."""
    if companies is None or "owner" not in companies:
        return pd.Series(dtype="string")
    owners = companies[["company_id", "owner"]].dropna().astype(str).sort_values("company_id")
    owners["xref_id"] = lookup(owners["company_id"], crm_entity)
    return owners.dropna().groupby("xref_id")["owner"].first().astype("string")


def won_deals(
    deals: pd.DataFrame,
    crm_entity: pd.Series,
    won_stages: Sequence[str],
    convert_fn: Convert,
    companies: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Won deals as parents of the won→ordered step (``empty_kind`` is set by ``orders``).
    A deal without an owner falls to its company's, as in the leakage findings. A deal without
    an amount counts 0 in won, flagged ``amount_missing``: its amount is unknown, not zero."""
    won = deals[is_in(deals["stage"], won_stages).to_numpy()]
    owner = _column(won, "owner").astype("string")
    blank = owner.isna().to_numpy(dtype=bool)
    if companies is not None and "owner" in companies and blank.any():
        company_at = at(won["company_id"][blank], companies["company_id"].astype(str))
        owner[blank] = take(companies["owner"], company_at, owner.index[blank]).astype("string")
    date = pd.to_datetime(won["close_date"])
    currency = _column(won, "currency").astype("string")
    base, missing = convert(convert_fn, won["amount"], currency, date)
    return pd.DataFrame(
        {
            "id": won["deal_id"].astype(str),
            "month": date.dt.to_period("M"),
            "date": date,
            "amount": won["amount"],
            "base": base,
            "fx_missing": missing,
            "xref_id": lookup(won["company_id"], crm_entity),
            "owner": owner,
            "currency": currency,
            "amount_missing": won["amount"].isna().to_numpy(dtype=bool),
        }
    ).reset_index(drop=True)


AMOUNT_UNKNOWN = "amount_unknown"


def amount_unknown_note(won: pd.DataFrame, months: Sequence[pd.Period]) -> str | None:
    """ "2 won deals have no amount in the CRM: ..." for the deals of ``months``, or None."""
    missing = won["amount_missing"].to_numpy(dtype=bool) & won["month"].isin(list(months)).to_numpy(
        dtype=bool
    )
    n = int(missing.sum())
    if not n:
        return None
    return (
        f"{n:,} won deal(s) have no amount in the CRM: counted as 0 in won and listed as "
        f"{AMOUNT_UNKNOWN} in the differences (quality.csv lists them to fix)"
    )


def orders(
    frame: pd.DataFrame,
    links: pd.DataFrame,
    won: pd.DataFrame,
    deals: pd.DataFrame,
    erp_entity: pd.Series,
    owners: pd.Series,
    cancelled_statuses: Sequence[str],
    convert_fn: Convert,
) -> pd.DataFrame:
    """All orders, with their deal (``parent``, at ``parent_at`` in ``won``, -1 if not won),
    cancelled flag and orphan explanations. ``erp_entity``: ``entity_of(xref, "erp")``."""
    link = links.astype({"deal_id": str, "order_id": str}).drop_duplicates("order_id")
    deal_of = link.set_index("order_id")["deal_id"]
    ids = frame["order_id"].astype(str)
    parent = lookup(ids, deal_of).astype("string")
    date = pd.to_datetime(frame["order_date"])
    currency = _column(frame, "currency").astype("string")
    base, missing = convert(convert_fn, frame["amount"], currency, date)
    # one join into the won deals, then every won-deal column is a take
    won_at = at(parent, won["id"])
    to_won = won_at >= 0
    at_parent = pd.Series(pd.NA, index=frame.index, dtype=base.dtype)
    if to_won.any():
        close = pd.Series(won["date"].to_numpy()[won_at[to_won]], index=parent.index[to_won])
        conv = convert_fn(frame["amount"][to_won], currency[to_won], close)
        at_parent[to_won] = conv["amount_base"].where(~conv["fx_missing"].astype(bool))
    xref_id = lookup(frame["customer_id"], erp_entity).astype("string")
    # won deals carry their owner with the company fallback; other deals (joined only for the
    # orders without a won deal) their own field
    deal_at = np.full(len(frame), -1, dtype=np.int64)
    deal_at[~to_won] = at(parent[~to_won], deals["deal_id"].astype(str))
    deal_owner = take(won["owner"].astype("string"), won_at, frame.index).where(
        to_won, take(_column(deals, "owner").astype("string"), deal_at, frame.index)
    )
    # An order of a won deal takes the deal's owner even when blank, so by-owner differences tie
    # out; other orders fall back to the entity's CRM owner.
    fallback = ~to_won & deal_owner.isna().to_numpy(dtype=bool)
    owner = deal_owner.copy()
    if fallback.any():
        owner[fallback] = lookup(xref_id[fallback], owners).astype("string")
    stage = take(deals["stage"], deal_at, frame.index).astype("string")  # for orphans only
    known = stage.notna()
    out = pd.DataFrame(
        {
            "id": ids,
            "parent": parent,
            "parent_at": won_at,
            "customer_id": frame["customer_id"].astype(str),
            "month": date.dt.to_period("M"),
            "date": date,
            "amount": frame["amount"],
            "base": base,
            "fx_missing": missing,
            "at_parent": at_parent,
            "xref_id": xref_id,
            "owner": owner,
            "currency": currency,
            "cancelled": is_in(_column(frame, "status"), cancelled_statuses).to_numpy(),
        }
    )
    out["orphan_kind"] = pd.Series("orphan_order", index=out.index, dtype="string").mask(
        known & ~pd.Series(to_won, index=out.index), "deal_not_won"
    )
    # Only an order without a won deal can be an orphan: the note is written for those alone.
    o = ~to_won
    head = _item_head("order", ids[o], frame["amount"][o], currency[o])
    p_o, s_o = parent[o], stage[o]
    note = (
        joined(head.index, head, " has no CRM deal", fill=False)
        .mask(
            p_o.notna() & ~known[o],
            joined(head.index, head, " names deal ", p_o, ", not in the CRM export", fill=False),
        )
        .mask(
            known[o],
            joined(head.index, head, " is for deal ", p_o, " in stage '", s_o, "'", fill=False),
        )
    )
    out["orphan_note"] = spread(note, o, out.index)
    return out.reset_index(drop=True)


def linked_parents(children: pd.DataFrame, n_parents: int) -> np.ndarray:
    """Which parents have at least one of ``children`` (by its ``parent_at``)."""
    where = children["parent_at"].to_numpy()
    hit = np.zeros(n_parents, dtype=bool)
    hit[where[where >= 0]] = True
    return hit


def mark_empty_deals(won: pd.DataFrame, orders_: pd.DataFrame) -> pd.DataFrame:
    """Say why a won deal has no counted order: none at all, or only cancelled ones. The note is
    written only for the deals it can explain: those without a counted order or an amount."""
    cancelled = orders_[orders_["cancelled"]]
    cancelled_ids = join_by(
        cancelled["parent"].dropna(), cancelled["id"][cancelled["parent"].notna()]
    )
    which = lookup(won["id"], cancelled_ids).astype("string")
    missing = _column(won, "amount_missing", False).fillna(False).astype(bool)
    kind = (
        pd.Series("no_order", index=won.index, dtype="string")
        .mask(which.notna(), "cancelled_order")
        .mask(missing, AMOUNT_UNKNOWN)
    )
    counted = orders_[~orders_["cancelled"].to_numpy(dtype=bool)]
    shown = ~linked_parents(counted, len(won)) | missing.to_numpy(dtype=bool)
    w = won[shown]
    won_on = joined(w.index, "deal ", w["id"], " won ", day_text(w["date"]), fill=False)
    head = joined(
        w.index, won_on, " (", A.text(w["amount"]), " ", w["currency"].fillna(""), ")", fill=False
    )
    unknown = joined(
        w.index,
        won_on,
        " has no amount in the CRM: amount unknown, counted as 0 in won",
        fill=False,
    )
    note = (
        joined(w.index, head, " has no ERP order", fill=False)
        .mask(
            which[shown].notna(),
            joined(w.index, head, ": its order(s) ", which[shown], " were cancelled", fill=False),
        )
        .mask(missing[shown], unknown)
    )
    return won.assign(empty_kind=kind, empty_note=spread(note, shown, won.index))


def tax_included(
    won: pd.DataFrame,
    orders_: pd.DataFrame,
    rate_of_customer: pd.Series | None,
    orders_may_include_tax: bool = True,
    deals_may_include_tax: bool = True,
) -> pd.Series:
    """Tax per counted order (at the deal's rates): positive when orders carry tax the deal does
    not, negative when the deal carries tax the orders lack, NA otherwise. Read as taxed when the
    orders with the tax taken out (or added) come nearer the deal than as booked."""
    tax = pd.Series(pd.NA, index=orders_.index, dtype=A.zeros(orders_.index[:0]).dtype)
    if rate_of_customer is None or not len(rate_of_customer):
        return tax
    deal_at = orders_["parent_at"].to_numpy()
    ok = orders_["at_parent"].notna() & ~orders_["cancelled"] & (deal_at >= 0)
    rows = orders_[ok.to_numpy(dtype=bool)]
    if not len(rows):
        return tax
    gross = rows["at_parent"]
    rate = A.filled(lookup(rows["customer_id"], rate_of_customer))
    less = A.sub(gross, A.ex_tax(gross, rate))
    more = A.times_rate(gross, rate)
    sums = pd.DataFrame({"s": gross, "less": less, "more": more})
    g = sums.groupby(rows["parent_at"].to_numpy()).sum()  # per deal, by its position in won
    deal = A.filled(take(won["base"], g.index.to_numpy(), g.index))
    as_booked = A.absolute(A.sub(g["s"], deal))
    minus = A.absolute(A.sub(A.sub(g["s"], g["less"]), deal))
    plus = A.absolute(A.add(A.add(g["s"], g["more"]), deal.pipe(A.neg)))
    orders_inc = np.zeros(len(won), dtype=bool)
    deal_inc = np.zeros(len(won), dtype=bool)
    orders_inc[g.index] = ((minus < as_booked) & (minus <= plus)).to_numpy(dtype=bool)
    deal_inc[g.index] = ((plus < as_booked) & (plus < minus)).to_numpy(dtype=bool)
    where = rows["parent_at"].to_numpy()
    inc = pd.Series(orders_inc[where] & orders_may_include_tax, index=rows.index)
    dinc = pd.Series(deal_inc[where] & deals_may_include_tax, index=rows.index)
    tax[inc[inc].index] = less[inc]
    tax[dinc[dinc].index] = A.neg(more[dinc])
    return tax


def invoices(
    frame: pd.DataFrame | None,
    orders_: pd.DataFrame,
    erp_entity: pd.Series,
    owners: pd.Series,
    void_statuses: Sequence[str],
    convert_fn: Convert,
) -> pd.DataFrame:
    """Counted invoices (not void), with their order (``parent``, at ``parent_at`` among the
    counted orders, -1 if none), paid amount and due date."""
    columns = ["invoice_id", "customer_id", "invoice_date", "amount", "order_id"]
    if frame is None:
        frame = pd.DataFrame({c: pd.Series(dtype="string") for c in columns})
        frame["amount"] = A.amounts([])
        frame["invoice_date"] = pd.Series(dtype="datetime64[ns]")
    void = is_in(_column(frame, "status"), void_statuses).to_numpy()
    if void.any():  # filtering copies every column
        frame = frame[~void]
    ids = frame["invoice_id"].astype(str)
    parent = _column(frame, "order_id").astype("string")
    date = pd.to_datetime(frame["invoice_date"])
    currency = _column(frame, "currency").astype("string")
    base, missing = convert(convert_fn, frame["amount"], currency, date)
    paid_amount = A.filled(_column(frame, "paid_amount").astype(base.dtype))
    # most invoices are paid in full: their paid amount converts as their amount did
    in_full = (paid_amount == frame["amount"].astype(base.dtype)).fillna(False).to_numpy(dtype=bool)
    paid = base.copy()
    if not in_full.all():
        rest = ~in_full
        paid[rest] = convert(convert_fn, paid_amount[rest], currency[rest], date[rest])[0]
    is_cancelled = orders_["cancelled"].to_numpy(dtype=bool)
    counted = orders_[~is_cancelled]
    order_at = at(parent, counted["id"])  # the position in the counted orders, the step's parents
    to_order = order_at >= 0
    at_parent = pd.Series(pd.NA, index=frame.index, dtype=base.dtype)
    if to_order.any():
        on = pd.Series(counted["date"].to_numpy()[order_at[to_order]], index=parent.index[to_order])
        conv = convert_fn(frame["amount"][to_order], currency[to_order], on)
        at_parent[to_order] = conv["amount_base"].where(~conv["fx_missing"].astype(bool))
    xref_id = lookup(frame["customer_id"], erp_entity).astype("string")
    any_at = at(parent, orders_["id"])
    order_owner = take(orders_["owner"], any_at, frame.index).astype("string")
    fallback = ~to_order & order_owner.isna().to_numpy(dtype=bool)
    owner = order_owner.copy()
    if fallback.any():
        owner[fallback] = lookup(xref_id[fallback], owners).astype("string")
    # orphans only: an invoice of a cancelled or unknown order
    cancelled = pd.Series(False, index=parent.index)
    cancelled[~to_order] = member(parent[~to_order], orders_["id"][is_cancelled])
    known = pd.Series(any_at >= 0, index=parent.index)
    out = pd.DataFrame(
        {
            "id": ids,
            "parent": parent,
            "parent_at": order_at,
            "customer_id": frame["customer_id"].astype(str),
            "month": date.dt.to_period("M"),
            "date": date,
            "due_date": pd.to_datetime(_column(frame, "due_date")),
            "amount": frame["amount"],
            "base": base,
            "paid_base": paid,
            "fx_missing": missing,
            "at_parent": at_parent,
            "tax": pd.Series(pd.NA, index=frame.index, dtype=base.dtype),
            "xref_id": xref_id,
            "owner": owner,
            "currency": currency,
            "orphan_kind": pd.Series(
                "invoice_without_order", index=frame.index, dtype="string"
            ).mask(cancelled, "invoice_of_cancelled_order"),
        }
    )
    # Only an invoice without a counted order can be an orphan: the note is written for those.
    o = ~to_order
    head = _item_head("invoice", ids[o], frame["amount"][o], currency[o])
    p_o = parent[o]
    note = (
        joined(head.index, head, " has no ERP order", fill=False)
        .mask(
            p_o.notna() & ~known[o],
            joined(head.index, head, " names order ", p_o, ", not in the ERP orders", fill=False),
        )
        .mask(cancelled[o], joined(head.index, head, " is for cancelled order ", p_o, fill=False))
    )
    out["orphan_note"] = spread(note, o, out.index)
    return out.reset_index(drop=True)


def mark_uninvoiced(orders_: pd.DataFrame, invoices_: pd.DataFrame) -> pd.DataFrame:
    """The counted orders as parents of the ordered→invoiced step; the note only for those
    without an invoice, the only ones it can explain."""
    shown = ~linked_parents(invoices_, len(orders_))
    o = orders_[shown]
    note = joined(
        o.index,
        "order ", o["id"], " of ", day_text(o["date"]), " (", A.text(o["amount"]), " ",
        o["currency"].fillna(""), ") has no invoice",
        fill=False,
    )  # fmt: skip
    return orders_.assign(empty_kind="not_invoiced", empty_note=spread(note, shown, orders_.index))


def tax_rate_of_customers(
    customers: pd.DataFrame | None,
    rates: dict[str, float],
    normalize_rules: object = None,
    inferred: pd.Series | None = None,
) -> pd.Series:
    """customer id → VAT/GST rate (Decimal fraction) of its billing country, else of the country
    ``inferred`` (customer id → code, read from its phone, domain, legal form or city) gives it;
    0 when unlisted."""
    from decimal import Decimal

    from recon.normalize.countries import to_country_code

    if customers is None or not rates:
        return pd.Series(dtype=object)
    ids = customers["customer_id"].astype(str).to_numpy()
    codes = (
        to_country_code(customers["country"], normalize_rules)  # type: ignore[arg-type]
        if "country" in customers
        else pd.Series(pd.NA, index=customers.index, dtype="string")
    )
    if inferred is not None:
        guess = lookup(pd.Series(ids), inferred.astype(object)).to_numpy(dtype=object)
        codes = codes.astype(object).where(codes.notna().to_numpy(), guess)
    rate_of = pd.Series({code: Decimal(str(rate)) for code, rate in rates.items()}, dtype=object)
    found = lookup(pd.Series(codes.to_numpy(dtype=object)), rate_of).to_numpy(dtype=object)
    return pd.Series(found, index=ids).dropna()


def _item_head(word: str, ids: pd.Series, amount: pd.Series, currency: pd.Series) -> pd.Series:
    """How a note names the order or invoice it is about: "order SO1 (1200.00 EUR)"."""
    return joined(
        ids.index, word, " ", ids, " (", A.text(amount), " ", currency.fillna(""), ")", fill=False
    )
