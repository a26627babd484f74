"""Deals and orders ready for matching: entity number, base amounts, VAT rate, what is in scope.

Entities come from the matcher's xref (system, record_id, xref_id): a deal belongs to the entity of
its CRM company, an order to the entity of its ERP customer, so a deal on a duplicate CRM company
still meets an order on a duplicate ERP customer. A deal or order whose company or customer is not
in the xref is an entity of its own.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from recon.checks.leakage.refs import parse_deal_refs
from recon.config.leakage import LeakageRules
from recon.fx import currency_codes, to_base
from recon.normalize.countries import to_country_code
from recon.normalize.names import on_distinct
from recon.schema import AMOUNT_DTYPE, TEXT_DTYPE

log = logging.getLogger(__name__)

GO_LIVE_MONTH_DAYS = 30
GO_LIVE_SHARE = 0.25  # of the orders of a typical 30 days: from there on the ERP is live


@dataclass(frozen=True)
class Frames:
    """The canonical tables the check reads (``fx_rates`` and ``erp_customers`` may be None)."""

    deals: pd.DataFrame
    companies: pd.DataFrame
    customers: pd.DataFrame | None
    orders: pd.DataFrame
    fx_rates: pd.DataFrame | None
    xref: pd.DataFrame  # system, record_id, xref_id[, country_code, country_inferred]
    # CRM–ERP pairs on the matcher's review list: crm_id, erp_id, crm_name, erp_name, score
    review: pd.DataFrame | None = None


@dataclass(frozen=True)
class Prepared:
    won: pd.DataFrame  # won deals closed on or before as_of
    open_deals: pd.DataFrame  # deals neither won nor lost
    orders: pd.DataFrame  # orders dated on or before as_of that are not cancelled
    entity_has_erp: np.ndarray  # per entity number
    entity_has_crm: np.ndarray
    hold_customer: pd.Series  # entity number → an ERP customer id of it on credit hold
    xref_ids: np.ndarray  # entity number → xref_id (None for a record outside the xref)
    as_of: pd.Timestamp
    base: str
    go_live: pd.Timestamp | None
    go_live_source: str
    # entity number → "; ... is on the review list ..." for entities of one system only
    review_hint: pd.Series = field(default_factory=lambda: pd.Series(dtype="string"))
    # won deals closed by as_of but left out, by why: "without an amount", "with a negative amount"
    left_out: dict[str, int] = field(default_factory=dict)


def _folded(values: pd.Series) -> pd.Series:
    """Stripped and casefolded, once per distinct value (a stage or status column has a handful;
    casefold runs in Python)."""
    return on_distinct(lambda v: v.str.strip().str.casefold(), values.astype("string"))


def _col(frame: pd.DataFrame | None, name: str, n: int) -> pd.Series:
    if frame is None or name not in frame.columns:
        return pd.Series(pd.NA, index=range(n), dtype=TEXT_DTYPE)
    return frame[name].reset_index(drop=True)


def _text(values: pd.Series | pd.Index | np.ndarray) -> pa.Array:
    """Values as an Arrow string array (zero-copy for Arrow-backed text)."""
    if isinstance(values, pd.Series | pd.Index) and values.dtype == object:
        values = values.astype("string[pyarrow]")
    arr = pa.array(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr if arr.type == pa.string() else pc.cast(arr, pa.string())


def positions(keys: pd.Series | np.ndarray, index: pd.Series | pd.Index | np.ndarray) -> np.ndarray:
    """Position in ``index`` of each key, compared as text (the first where ``index`` repeats a
    value; -1 where a key is missing or null). A hash join in Arrow: no Python per row."""
    found = pc.index_in(_text(keys), value_set=_text(index))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def take_at(values: pd.Series, at: np.ndarray) -> pd.Series:
    """``values`` at positions ``at`` (NA where -1), as a fresh RangeIndex series."""
    if len(values) == 0:  # NaN for numbers, as ``where`` gives them below
        numeric = pd.api.types.is_numeric_dtype(values.dtype)
        return pd.Series(np.nan if numeric else pd.NA, index=range(len(at)), dtype=object)
    out = values.reset_index(drop=True).take(np.maximum(at, 0)).reset_index(drop=True)
    return out.where(pd.Series(at >= 0))


def _entities(frames: Frames) -> tuple[pd.Series, pd.Series, pd.DataFrame]:
    """Entity number of each deal and each order, and the xref rows with their number."""
    xref = frames.xref[["system", "record_id", "xref_id"]].astype(str).copy()
    codes, uniques = pd.factorize(xref["xref_id"])
    xref["ent"] = codes
    crm = xref.loc[xref["system"] == "crm"]
    erp = xref.loc[xref["system"] == "erp"]
    deal_ent = take_at(crm["ent"], positions(frames.deals["company_id"], crm["record_id"]))
    order_ent = take_at(erp["ent"], positions(frames.orders["customer_id"], erp["record_id"]))
    # Records outside the xref: one entity per company or customer id, after the known ones.
    n = len(uniques)
    lone_deals = pd.factorize(frames.deals["company_id"].astype(str).where(deal_ent.isna()))[0]
    deal_ent = deal_ent.fillna(pd.Series(n + lone_deals, index=deal_ent.index)).astype(np.int64)
    n = int(max(n, deal_ent.max() + 1 if len(deal_ent) else 0))
    lone_orders = pd.factorize(frames.orders["customer_id"].astype(str).where(order_ent.isna()))[0]
    order_ent = order_ent.fillna(pd.Series(n + lone_orders, index=order_ent.index))
    return deal_ent, order_ent.astype(np.int64), xref


def _joined_by_refs(
    named: np.ndarray,
    deal_ent: pd.Series,
    order_ent: pd.Series,
    has_erp: np.ndarray,
    has_crm: np.ndarray,
) -> np.ndarray:
    """Entity number → entity number after joining a CRM-only entity and an ERP-only entity when
    an order of the one names a deal of the other: the matcher missed that link, the reference
    shows it. Entities linked elsewhere are left as the matcher made them. ``named``: per order,
    the position of the deal its reference names (-1 for none)."""
    has = named >= 0
    a = deal_ent.to_numpy()[named[has]]
    b = order_ent.to_numpy()[has]
    join = (a != b) & ~has_erp[a] & ~has_crm[b]
    n = len(has_erp)
    if not join.any():
        return np.arange(n)
    graph = coo_matrix((np.ones(int(join.sum())), (a[join], b[join])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    # keep the number of the entity with a CRM record, so its xref id stays with its deals
    nodes = np.arange(n)
    crm_first = np.full(label.max() + 1, n)
    np.minimum.at(crm_first, label, np.where(has_crm, nodes, n))
    lowest = np.full(label.max() + 1, n)
    np.minimum.at(lowest, label, nodes)
    return np.where(crm_first[label] < n, crm_first[label], lowest[label])


def join_entities(prep: Prepared, a: np.ndarray, b: np.ndarray) -> Prepared:
    """``prep`` with entity ``a[i]`` and ``b[i]`` joined, for each i (evidence of one company the
    matcher missed): the joined entity keeps the number of ``a`` (its CRM side, so its xref id
    stays with its deals), has the records of both, and loses the review hints of either."""
    if len(a) == 0:
        return prep
    n = len(prep.entity_has_erp)
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    nodes = np.arange(n)
    keep = np.full(label.max() + 1, n)
    np.minimum.at(keep, label, np.where(prep.entity_has_crm, nodes, n))
    lowest = np.full(label.max() + 1, n)
    np.minimum.at(lowest, label, nodes)
    to = np.where(keep[label] < n, keep[label], lowest[label])
    has_erp = np.bincount(to, weights=prep.entity_has_erp, minlength=n) > 0
    has_crm = np.bincount(to, weights=prep.entity_has_crm, minlength=n) > 0
    won = prep.won.assign(ent=to[prep.won["ent"].to_numpy()])
    won["has_erp"] = has_erp[won["ent"].to_numpy()]
    orders = prep.orders.assign(ent=to[prep.orders["ent"].to_numpy()])
    orders["has_crm"] = has_crm[orders["ent"].to_numpy()]
    hold = prep.hold_customer
    hold = pd.Series(hold.to_numpy(), index=to[hold.index.to_numpy(dtype=np.int64)])
    hint = prep.review_hint
    moved = np.flatnonzero(to != nodes)
    touched = np.union1d(moved, to[moved])
    hint = hint.loc[~hint.index.isin(touched)]
    return replace(
        prep,
        won=won,
        open_deals=prep.open_deals.assign(ent=to[prep.open_deals["ent"].to_numpy()]),
        orders=orders,
        entity_has_erp=has_erp,
        entity_has_crm=has_crm,
        hold_customer=hold[~hold.index.duplicated()],
        review_hint=hint,
    )


def _systems(xref: pd.DataFrame, n_ent: int) -> tuple[np.ndarray, np.ndarray]:
    """Per entity: has an ERP record, has a CRM record."""
    system = xref["system"].to_numpy()
    has_erp = np.zeros(n_ent, dtype=bool)
    has_crm = np.zeros(n_ent, dtype=bool)
    has_erp[xref["ent"].to_numpy()[system == "erp"]] = True
    has_crm[xref["ent"].to_numpy()[system == "crm"]] = True
    return has_erp, has_crm


def _entity_flags(
    frames: Frames, xref: pd.DataFrame, n_ent: int, rules: LeakageRules
) -> tuple[np.ndarray, np.ndarray, pd.Series, np.ndarray, np.ndarray]:
    """Per entity: has an ERP record, has a CRM record, a customer on credit hold, VAT rate, and
    whether that rate comes from a known country."""
    has_erp, has_crm = _systems(xref, n_ent)
    hold = pd.Series(dtype=object)
    vat = np.zeros(n_ent, dtype=float)
    customers = frames.customers
    erp = xref.loc[xref["system"] == "erp", ["record_id", "ent"]]
    if customers is not None and "credit_hold" in customers.columns:
        on_hold = customers.loc[customers["credit_hold"].fillna(False).astype(bool), "customer_id"]
        held = erp.loc[erp["record_id"].isin(on_hold.astype(str))].drop_duplicates("ent")
        hold = pd.Series(held["record_id"].to_numpy(), index=held["ent"].to_numpy())
    country = _countries(frames, xref)
    inferred = (
        frames.xref["country_inferred"].reset_index(drop=True).astype("string")
        if "country_inferred" in frames.xref.columns
        else pd.Series(pd.NA, index=xref.index, dtype="string")
    )
    # A stated country first (ERP billing country, then the CRM company's), then one read from
    # the records' phone, domain, legal form or city in the same order; the first rate wins.
    rank = np.where(xref["system"].to_numpy() == "erp", 0, 1)
    rate = np.r_[_rates(country, rules), _rates(inferred, rules)]
    ent = np.tile(xref["ent"].to_numpy(dtype=np.int64), 2)
    rank = np.r_[rank, rank + 2]
    keep = ~np.isnan(rate)
    ent, rank, rate = ent[keep], rank[keep], rate[keep]
    order = np.lexsort((rank, ent))
    ents, first = np.unique(ent[order], return_index=True)
    vat[ents] = rate[order][first]
    known = np.zeros(n_ent, dtype=bool)
    known[ents] = True
    return has_erp, has_crm, hold, vat, known


def _rates(codes: pd.Series, rules: LeakageRules) -> np.ndarray:
    """VAT rate per country code (NaN when unknown), looked up once per distinct code."""
    found = on_distinct(lambda c: c.astype(object).map(rules.tax_rates).astype(float), codes)
    return found.to_numpy(dtype=float)


def _countries(frames: Frames, xref: pd.DataFrame) -> pd.Series:
    """ISO country code per xref row: the matcher's when it gave one, else read from the tables
    (a record the matcher gave no country may still name one the table spells oddly)."""
    out = pd.Series(pd.NA, index=xref.index, dtype="string")
    if "country_code" in frames.xref.columns:
        out = frames.xref["country_code"].reset_index(drop=True).astype("string")
    for system, frame, key in (
        ("crm", frames.companies, "company_id"),
        ("erp", frames.customers, "customer_id"),
    ):
        rows = (xref["system"] == system).to_numpy() & out.isna().to_numpy(dtype=bool)
        if frame is None or "country" not in frame.columns or not rows.any():
            continue
        codes = to_country_code(frame["country"]).astype("string")
        at = positions(xref.loc[rows, "record_id"], frame[key])
        out[rows] = take_at(codes, at).astype("string").to_numpy()
    return out


def _vat_by_currency(
    vat: np.ndarray,
    known: np.ndarray,
    ents: tuple[np.ndarray, ...],
    currencies: tuple[pd.Series, ...],
    rules: LeakageRules,
) -> np.ndarray:
    """The VAT rate of entities whose records name no country, from the country of the currency
    they trade in (``tax_rates.yaml: currencies``, single-country currencies only): orders first,
    then deals. An entity trading only in USD or EUR keeps no rate."""
    out = vat.copy()
    done = known.copy()
    for ent, currency in zip(ents, currencies, strict=True):
        country = on_distinct(  # few currencies
            lambda c: c.astype("string").str.upper().map(rules.tax_currency_countries),
            currency,
        )
        rate = _rates(country, rules)
        use = ~np.isnan(rate) & ~done[ent]
        first = pd.DataFrame({"ent": ent[use], "rate": rate[use]}).drop_duplicates("ent")
        out[first["ent"].to_numpy()] = first["rate"].to_numpy()
        done[first["ent"].to_numpy()] = True
    return out


def prepare(
    frames: Frames,
    rules: LeakageRules,
    *,
    as_of: dt.date,
    base: str,
    won_stages: tuple[str, ...],
    cancelled_statuses: tuple[str, ...] = (),
) -> Prepared:
    """Won and open deals and live orders with entity, base amounts and VAT rate."""
    deals = frames.deals.reset_index(drop=True)
    orders = frames.orders.reset_index(drop=True)
    frames = replace(frames, deals=deals, orders=orders)
    cutoff = pd.Timestamp(as_of)
    deal_ent, order_ent, xref = _entities(frames)
    n_ent = (
        int(max(deal_ent.max() if len(deal_ent) else -1, order_ent.max() if len(order_ent) else -1))
        + 1
    )
    n_ent = max(n_ent, int(xref["ent"].max()) + 1 if len(xref) else 0)
    has_erp, has_crm = _systems(xref, n_ent)
    refs = parse_deal_refs(_col(orders, "crm_deal_ref", len(orders)))
    named = positions(refs, deals["deal_id"])  # the deal each order names
    joined = _joined_by_refs(named, deal_ent, order_ent, has_erp, has_crm)
    deal_ent, order_ent = pd.Series(joined[deal_ent]), pd.Series(joined[order_ent])
    xref["ent"] = joined[xref["ent"].to_numpy()]
    has_erp, has_crm, hold, vat, known = _entity_flags(frames, xref, n_ent, rules)
    vat = _vat_by_currency(
        vat,
        known,
        (order_ent.to_numpy(), deal_ent.to_numpy()),
        (_col(orders, "currency", len(orders)), _col(deals, "currency", len(deals))),
        rules,
    )
    xref_ids = np.full(n_ent, None, dtype=object)
    first = xref.drop_duplicates("ent")
    xref_ids[first["ent"].to_numpy()] = first["xref_id"].to_numpy()

    stage = _folded(deals["stage"])
    won = stage.isin([s.casefold() for s in won_stages]).to_numpy(dtype=bool)
    lost = stage.isin([s.casefold() for s in rules.lost_stages]).to_numpy(dtype=bool)
    companies = frames.companies
    company_id = deals["company_id"].astype(TEXT_DTYPE)
    company_at = positions(company_id, companies["company_id"])
    owner = _col(deals, "owner", len(deals))
    if "owner" in companies.columns:  # a deal without an owner falls to its company's
        owner = owner.fillna(take_at(companies["owner"], company_at))
    deal_frame = pd.DataFrame(
        {
            "deal_id": deals["deal_id"].astype(TEXT_DTYPE),
            "company_id": company_id.astype(TEXT_DTYPE),
            "company": take_at(companies["name"], company_at).astype(TEXT_DTYPE),
            "ent": deal_ent.to_numpy(),
            "owner": owner.astype(TEXT_DTYPE),
            "stage": deals["stage"].astype(TEXT_DTYPE),
            "close_date": deals["close_date"],
            "currency": currency_codes(_col(deals, "currency", len(deals)), base).astype(
                TEXT_DTYPE
            ),
            "deal_amount": deals["amount"].astype(AMOUNT_DTYPE),
        }
    )
    deal_frame["vat"] = vat[deal_frame["ent"].to_numpy()]
    # A won deal of zero or below (a credit) has nothing to bill, one without an amount cannot be
    # compared to its orders: they are left out, counted in ``left_out`` (quality flags them).
    amount = deal_frame["deal_amount"]
    positive = (amount > 0).fillna(False).to_numpy(dtype=bool)
    closed = won & (deal_frame["close_date"] <= cutoff).to_numpy(dtype=bool)
    in_scope = closed & positive
    no_amount = closed & amount.isna().to_numpy(dtype=bool)
    negative = closed & (amount < 0).fillna(False).to_numpy(dtype=bool)
    left_out = {
        "without an amount": int(no_amount.sum()),
        "with a negative amount": int(negative.sum()),
    }
    won_frame = deal_frame.loc[in_scope].reset_index(drop=True)
    converted = to_base(
        won_frame["deal_amount"],
        won_frame["currency"],
        won_frame["close_date"],
        frames.fx_rates,
        base,
    )
    won_frame["deal_amount_base"] = converted["amount_base"]
    won_frame["deal_fx_missing"] = converted["fx_missing"].to_numpy()
    won_frame["has_erp"] = has_erp[won_frame["ent"].to_numpy()]
    won_frame["d"] = np.arange(len(won_frame))
    open_frame = deal_frame.loc[~won & ~lost].reset_index(drop=True)

    status = _folded(_col(orders, "status", len(orders)))
    cancelled = {s.casefold() for s in (*rules.cancelled_statuses, *cancelled_statuses)}
    live = ~status.isin(cancelled).to_numpy(dtype=bool) & (orders["order_date"] <= cutoff).to_numpy(
        dtype=bool
    )
    # An order naming a deal left out pays that deal: it must not pay another one of the company.
    names_left_out = np.zeros(len(orders), dtype=bool)
    names_left_out[named >= 0] = (no_amount | negative)[named[named >= 0]]
    left_out["orders naming them"] = int((live & names_left_out).sum())
    live &= ~names_left_out
    customers = frames.customers
    customer = (
        take_at(customers["name"], positions(orders["customer_id"], customers["customer_id"]))
        if customers is not None
        else pd.Series(pd.NA, index=range(len(orders)))
    )
    order_frame = (
        pd.DataFrame(
            {
                "order_id": orders["order_id"].astype(TEXT_DTYPE),
                "customer_id": orders["customer_id"].astype(TEXT_DTYPE),
                "customer": customer.astype(TEXT_DTYPE).to_numpy(),
                "ent": order_ent.to_numpy(),
                "order_date": orders["order_date"],
                "amount": orders["amount"].astype(AMOUNT_DTYPE),
                "currency": currency_codes(_col(orders, "currency", len(orders)), base).astype(
                    TEXT_DTYPE
                ),
                "ref": refs.to_numpy(),
            }
        )
        .loc[live]
        .reset_index(drop=True)
    )
    order_frame["o"] = np.arange(len(order_frame))
    order_frame["has_crm"] = has_crm[order_frame["ent"].to_numpy()]

    go_live, source = _go_live(rules, orders)
    log.info(
        "leakage: %d won deals, %d live orders, ERP go-live %s (%s)",
        len(won_frame),
        len(order_frame),
        go_live,
        source,
    )
    return Prepared(
        won=won_frame,
        open_deals=open_frame,
        orders=order_frame,
        entity_has_erp=has_erp,
        entity_has_crm=has_crm,
        hold_customer=hold,
        xref_ids=xref_ids,
        as_of=cutoff,
        base=base.upper(),
        go_live=go_live,
        go_live_source=source,
        review_hint=_review_hints(frames.review, xref, has_erp, has_crm),
        left_out=left_out,
    )


def left_out_note(left_out: dict[str, int]) -> str:
    """The won deals left out and the orders naming them, as one line for the notes, such as
    "3 without an amount, 1 with a negative amount: not compared to orders, nor the 2 order(s)
    naming them (quality.csv lists the deals)"; "" when none was left out."""
    orders = left_out.get("orders naming them", 0)
    parts = [f"{n:,} {why}" for why, n in left_out.items() if n and why != "orders naming them"]
    if not parts:
        return ""
    also = f", nor the {orders:,} order(s) naming them" if orders else ""
    return f"{', '.join(parts)}: not compared to orders{also} (quality.csv lists the deals)"


def _review_hints(
    review: pd.DataFrame | None, xref: pd.DataFrame, has_erp: np.ndarray, has_crm: np.ndarray
) -> pd.Series:
    """Entity number → the best-scored record of the other system on the review list with one
    of its records, for entities with no record of that system: a CRM-only company's deals are
    no_erp_customer and an ERP-only customer's orders orphan_order until the pair is decided."""
    if review is None or review.empty:
        return pd.Series(dtype="string")
    crm = xref.loc[xref["system"] == "crm"]
    erp = xref.loc[xref["system"] == "erp"]
    crm_ent = take_at(crm["ent"], positions(review["crm_id"], crm["record_id"]))
    erp_ent = take_at(erp["ent"], positions(review["erp_id"], erp["record_id"]))
    score = review["score"].astype(float).map("{:.2f}".format)
    parts = []
    for ent, lacks, system, rid, name in (
        (crm_ent, ~has_erp, "ERP customer", review["erp_id"], review["erp_name"]),
        (erp_ent, ~has_crm, "CRM company", review["crm_id"], review["crm_name"]),
    ):
        known = ent.notna().to_numpy()
        ents = ent.fillna(0).astype(np.int64).to_numpy()
        use = known & lacks[np.minimum(ents, len(lacks) - 1)]
        text = (
            f"; {system} "
            + rid.astype("string")
            + " "
            + name.astype("string").fillna("")
            + " is on the review list as a possible match (score "
            + score
            + ")"
        )
        parts.append(
            pd.DataFrame(
                {
                    "ent": ents[use],
                    "score": review["score"].to_numpy(float)[use],
                    "text": text.to_numpy(dtype=object)[use],
                }
            )
        )
    best = pd.concat(parts).sort_values(["ent", "score"], ascending=[True, False], kind="stable")
    best = best.drop_duplicates("ent")
    return pd.Series(best["text"].to_numpy(), index=best["ent"].to_numpy(), dtype="string")


def _go_live(rules: LeakageRules, orders: pd.DataFrame) -> tuple[pd.Timestamp | None, str]:
    if rules.erp_go_live is not None:
        return pd.Timestamp(rules.erp_go_live), "configured in rules/leakage.yaml (erp_go_live)"
    days = orders["order_date"].dropna().to_numpy(dtype="datetime64[D]").astype(np.int64)
    if len(days) == 0:
        return None, "unknown: no ERP orders"
    days.sort()
    # the first order from which a month holds a fair share of a typical month's orders: a few
    # test or hand-migrated orders dated earlier are not the go-live
    month = np.searchsorted(days, days + GO_LIVE_MONTH_DAYS) - np.arange(len(days))
    typical = np.median(month)
    first = int(np.argmax(month >= GO_LIVE_SHARE * typical))
    day = pd.Timestamp(np.datetime64(int(days[first]), "D"))
    if first == 0:
        return day, "inferred: the earliest ERP order"
    return day, (
        f"inferred: the first ERP order from which a month holds a quarter of a typical month's "
        f"orders ({first:,} earlier orders left out)"
    )
