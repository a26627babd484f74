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
    ids = _ids(pool)
    if not len(ids) or not len(values):
        return np.zeros(len(values), dtype=bool)
    return positions(values, ids) >= 0


def lookup(keys: pd.Series, table: pd.Series) -> pd.Series:
    """``keys.map(table)`` for id keys (``table`` indexed by unique ids), through the same Arrow
    hash join; NA where a key is not in ``table``."""
    if not len(table) or not len(keys):
        return keys.map(table)
    out = take_at(table, positions(keys, table.index))
    return out.set_axis(keys.index)


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


def entity_owner(companies: pd.DataFrame | None, xref: pd.DataFrame) -> pd.Series:
    """xref_id → the owner of the entity's first CRM company that has one (for ERP-only rows)."""
    if companies is None or "owner" not in companies:
        return pd.Series(dtype="string")
    owners = companies[["company_id", "owner"]].dropna().astype(str).sort_values("company_id")
    owners["xref_id"] = lookup(owners["company_id"], entity_of(xref, "crm"))
    return owners.dropna().groupby("xref_id")["owner"].first().astype("string")


def _when(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.strftime("%Y-%m-%d").astype("string")


def won_deals(
    deals: pd.DataFrame,
    xref: pd.DataFrame,
    won_stages: Sequence[str],
    convert_fn: Convert,
    companies: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Won deals as parents of the won→ordered step (``empty_kind`` is set by ``orders``).
    A deal without an owner falls to its company's, as in the leakage findings. A deal without
    an amount counts 0 in won, flagged ``amount_missing``: its amount is unknown, not zero."""
    won = deals[is_in(deals["stage"], won_stages).to_numpy()]
    owner = _column(won, "owner").astype("string")
    if companies is not None and "owner" in companies:
        by_company = companies.drop_duplicates("company_id").set_index(
            companies["company_id"].drop_duplicates().astype(str)
        )["owner"]
        owner = owner.fillna(lookup(won["company_id"], by_company).astype("string"))
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
            "xref_id": lookup(won["company_id"], entity_of(xref, "crm")),
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
    xref: pd.DataFrame,
    owners: pd.Series,
    cancelled_statuses: Sequence[str],
    convert_fn: Convert,
) -> pd.DataFrame:
    """All orders, with their deal (``parent``), cancelled flag and orphan explanations."""
    link = links.astype({"deal_id": str, "order_id": str}).drop_duplicates("order_id")
    deal_of = link.set_index("order_id")["deal_id"]
    ids = frame["order_id"].astype(str)
    parent = lookup(ids, deal_of).astype("string")
    date = pd.to_datetime(frame["order_date"])
    currency = _column(frame, "currency").astype("string")
    base, missing = convert(convert_fn, frame["amount"], currency, date)
    by_deal = won.set_index("id")
    to_won = member(parent, by_deal.index)
    at_parent = pd.Series(pd.NA, index=frame.index, dtype=base.dtype)
    if to_won.any():
        close = lookup(parent[to_won], by_deal["date"])
        conv = convert_fn(frame["amount"][to_won], currency[to_won], close)
        at_parent[to_won] = conv["amount_base"].where(~conv["fx_missing"].astype(bool))
    xref_id = lookup(frame["customer_id"], entity_of(xref, "erp")).astype("string")
    # won deals carry their owner with the company fallback; other deals their own field
    other = _column(deals, "owner").astype("string").set_axis(deals["deal_id"].astype(str))
    other = other[~member(other.index.to_series(), by_deal.index)]
    deal_owner = lookup(parent, pd.concat([by_deal["owner"].astype("string"), other]))
    out = pd.DataFrame(
        {
            "id": ids,
            "parent": parent,
            "customer_id": frame["customer_id"].astype(str),
            "month": date.dt.to_period("M"),
            "date": date,
            "amount": frame["amount"],
            "base": base,
            "fx_missing": missing,
            "at_parent": at_parent,
            "xref_id": xref_id,
            # An order of a won deal takes the deal's owner even when blank, so by-owner
            # differences tie out; other orders fall back to the entity's CRM owner.
            "owner": deal_owner.astype("string").where(
                to_won, deal_owner.astype("string").fillna(lookup(xref_id, owners).astype("string"))
            ),
            "currency": currency,
            "cancelled": is_in(_column(frame, "status"), cancelled_statuses).to_numpy(),
        }
    )
    stage = lookup(parent, deals.set_index(deals["deal_id"].astype(str))["stage"]).astype("string")
    known = stage.notna()
    out["orphan_kind"] = pd.Series("orphan_order", index=out.index, dtype="string").mask(
        known & ~pd.Series(to_won, index=out.index), "deal_not_won"
    )
    head = "order " + ids + " (" + A.text(frame["amount"]) + " " + currency.fillna("") + ")"
    out["orphan_note"] = (
        (head + " has no CRM deal")
        .mask(parent.notna() & ~known, head + " names deal " + parent + ", not in the CRM export")
        .mask(known, head + " is for deal " + parent + " in stage '" + stage + "'")
    )
    return out.reset_index(drop=True)


def mark_empty_deals(won: pd.DataFrame, orders_: pd.DataFrame) -> pd.DataFrame:
    """Say why a won deal has no counted order: none at all, or only cancelled ones."""
    cancelled = orders_[orders_["cancelled"]]
    cancelled_ids = join_by(
        cancelled["parent"].dropna(), cancelled["id"][cancelled["parent"].notna()]
    )
    which = lookup(won["id"], cancelled_ids).astype("string")
    won_on = "deal " + won["id"] + " won " + _when(won["date"])
    head = won_on + " (" + A.text(won["amount"]) + " " + won["currency"].fillna("") + ")"
    missing = _column(won, "amount_missing", False).fillna(False).astype(bool)
    unknown = won_on + " has no amount in the CRM: amount unknown, counted as 0 in won"
    return won.assign(
        empty_kind=pd.Series("no_order", index=won.index, dtype="string")
        .mask(which.notna(), "cancelled_order")
        .mask(missing, AMOUNT_UNKNOWN),
        empty_note=(head + " has no ERP order")
        .mask(which.notna(), head + ": its order(s) " + which + " were cancelled")
        .mask(missing, unknown),
    )


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
    ok = orders_["at_parent"].notna() & ~orders_["cancelled"] & member(orders_["parent"], won["id"])
    rows = orders_[ok.to_numpy(dtype=bool)]
    if not len(rows):
        return tax
    gross = rows["at_parent"]
    rate = A.filled(lookup(rows["customer_id"], rate_of_customer))
    less = A.sub(gross, A.ex_tax(gross, rate))
    more = A.times_rate(gross, rate)
    sums = pd.DataFrame({"parent": rows["parent"], "s": gross, "less": less, "more": more})
    g = sums.groupby("parent").sum()
    deal = A.filled(lookup(g.index.to_series(), won.set_index("id")["base"]))
    as_booked = A.absolute(A.sub(g["s"], deal))
    minus = A.absolute(A.sub(A.sub(g["s"], g["less"]), deal))
    plus = A.absolute(A.add(A.add(g["s"], g["more"]), deal.pipe(A.neg)))
    orders_inc = ((minus < as_booked) & (minus <= plus)).to_numpy(dtype=bool)
    deal_inc = ((plus < as_booked) & (plus < minus)).to_numpy(dtype=bool)
    inc = pd.Series(
        member(rows["parent"], g.index[orders_inc]) & orders_may_include_tax, index=rows.index
    )
    dinc = pd.Series(
        member(rows["parent"], g.index[deal_inc]) & deals_may_include_tax, index=rows.index
    )
    tax[inc[inc].index] = less[inc]
    tax[dinc[dinc].index] = A.neg(more[dinc])
    return tax


def invoices(
    frame: pd.DataFrame | None,
    orders_: pd.DataFrame,
    xref: pd.DataFrame,
    owners: pd.Series,
    void_statuses: Sequence[str],
    convert_fn: Convert,
) -> pd.DataFrame:
    """Counted invoices (not void), with their order (``parent``), paid amount and due date."""
    columns = ["invoice_id", "customer_id", "invoice_date", "amount", "order_id"]
    if frame is None:
        frame = pd.DataFrame({c: pd.Series(dtype="string") for c in columns})
        frame["amount"] = A.amounts([])
        frame["invoice_date"] = pd.Series(dtype="datetime64[ns]")
    frame = frame[~is_in(_column(frame, "status"), void_statuses).to_numpy()]
    ids = frame["invoice_id"].astype(str)
    parent = _column(frame, "order_id").astype("string")
    date = pd.to_datetime(frame["invoice_date"])
    currency = _column(frame, "currency").astype("string")
    base, missing = convert(convert_fn, frame["amount"], currency, date)
    paid_amount = A.filled(_column(frame, "paid_amount").astype(base.dtype))
    paid, _ = convert(convert_fn, paid_amount, currency, date)
    by_order = orders_.set_index("id")
    counted = by_order[~by_order["cancelled"]]
    to_order = member(parent, counted.index)
    at_parent = pd.Series(pd.NA, index=frame.index, dtype=base.dtype)
    if to_order.any():
        conv = convert_fn(
            frame["amount"][to_order], currency[to_order], lookup(parent[to_order], counted["date"])
        )
        at_parent[to_order] = conv["amount_base"].where(~conv["fx_missing"].astype(bool))
    xref_id = lookup(frame["customer_id"], entity_of(xref, "erp")).astype("string")
    head = "invoice " + ids + " (" + A.text(frame["amount"]) + " " + currency.fillna("") + ")"
    order_owner = lookup(parent, by_order["owner"]).astype("string")
    cancelled = pd.Series(
        member(parent, by_order.index[by_order["cancelled"].to_numpy(dtype=bool)]),
        index=parent.index,
    )
    known = pd.Series(member(parent, by_order.index), index=parent.index)
    out = pd.DataFrame(
        {
            "id": ids,
            "parent": parent,
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
            "owner": order_owner.where(
                to_order, order_owner.fillna(lookup(xref_id, owners).astype("string"))
            ),
            "currency": currency,
            "orphan_kind": pd.Series(
                "invoice_without_order", index=frame.index, dtype="string"
            ).mask(cancelled, "invoice_of_cancelled_order"),
            "orphan_note": (head + " has no ERP order")
            .mask(
                parent.notna() & ~known, head + " names order " + parent + ", not in the ERP orders"
            )
            .mask(cancelled, head + " is for cancelled order " + parent),
        }
    )
    return out.reset_index(drop=True)


def mark_uninvoiced(orders_: pd.DataFrame) -> pd.DataFrame:
    head = "order " + orders_["id"] + " of " + _when(orders_["date"]) + " ("
    head = head + A.text(orders_["amount"]) + " " + orders_["currency"].fillna("") + ")"
    return orders_.assign(empty_kind="not_invoiced", empty_note=head + " has no invoice")


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
