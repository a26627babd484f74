"""Generate CRM and ERP sample data with ground truth. Pure: no file I/O (see ``write``).

``generate(entities, seed)`` draws that many real-world companies and renders the exports of a CRM
(HubSpot-like) and an ERP (NetSuite-like) that describe them, with the truth beside them:

truth_entities
    Every CRM company and ERP customer record and the entity it belongs to. Planted bad rows (see
    ``badrows``) are extra rows and are not listed; a record id appears in it exactly once.
truth_leakage
    Every planted leakage among won deals (see ``money``); won deals not listed are fulfilled.
truth_quarantine
    The planted bad rows: table, record id, spreadsheet row (header = row 1), column, problem.
truth_orders
    Which deal each order was made for (empty for repeat business and ERP-only customers);
    cancelled orders keep the deal they were entered for.
truth_hard_negatives
    Pairs of different entities planted to look alike, with the kind of likeness.

Rules of truth decided here:
    * An existing cross-reference (crm_companies.erp_customer_id, erp_customers.crm_company_id) is
      correct exactly when both records have the same entity_id in truth_entities; the numbers of
      wrong ones are in truth_meta.json.
    * A separately registered branch with its own tax id is its own entity, even when it shares the
      group's name stem or web domain with the head office.
    * Companies in the same building (same street address) are different entities.
    * A free-mail domain (gmail.com, bigpond.com, ...) is shared by unrelated entities.

Everything is drawn from ``numpy.random.Generator(PCG64)`` streams spawned from the seed, so the
same (entities, seed, as_of, habits) gives the same frames and, written, byte-identical files.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.sampledata import badrows, money, records, text, vocab
from recon.sampledata import entities as entity_draw
from recon.sampledata.habits import Habits
from recon.sampledata.name_habits import NameHabits, split
from recon.sampledata.names import Names
from recon.sampledata.records import CRM_STYLE, ERP_STYLE
from recon.sampledata.text import Text
from recon.schema import AMOUNT_DTYPE, TABLES, TEXT_DTYPE

log = logging.getLogger(__name__)

DEFAULT_AS_OF = dt.date(2026, 10, 31)


@dataclass(frozen=True)
class XrefParams:
    """Existing links between the systems; written to truth_meta.json."""

    crm_link: float = 0.30  # of CRM records whose entity is in the ERP: erp_customer_id filled
    crm_wrong: float = 0.03
    erp_link: float = 0.20  # of ERP records whose entity is in the CRM: crm_company_id filled
    erp_wrong: float = 0.04


@dataclass(frozen=True)
class RecordParams:
    """Dates, owners and ids of the records; written to truth_meta.json."""

    stale: float = 0.15  # last updated soon after creation, years ago for old records
    owner_blank: float = 0.03
    years: int = 6  # records created over this many years before as_of
    tax_id: float = 0.6  # of ERP customers with a tax id
    legacy_ids: float = 0.12  # of ERP customers with a numeric id such as 000123, no "C"


@dataclass(frozen=True)
class SampleData:
    """Generated tables and their truth.

    ``tables`` hold the export text exactly as written to the CSV files (``pd.StringDtype``, missing
    = empty cell), planted bad rows included; load them through ``recon.extract`` to get the
    canonical dtypes. The truth frames are typed.
    """

    tables: dict[str, pd.DataFrame]
    truth_entities: pd.DataFrame
    truth_leakage: pd.DataFrame
    as_of: dt.date
    truth_quarantine: pd.DataFrame = field(default_factory=badrows.empty_quarantine)
    truth_orders: pd.DataFrame = field(default_factory=pd.DataFrame)
    truth_hard_negatives: pd.DataFrame = field(default_factory=pd.DataFrame)
    meta: dict[str, Any] = field(default_factory=dict)


def generate(
    entities: int,
    seed: int,
    as_of: dt.date = DEFAULT_AS_OF,
    bad_rows: bool = True,
    habits: Habits | Mapping[str, Any] | None = None,
    names: NameHabits | Mapping[str, Any] | None = None,
) -> SampleData:
    """CRM and ERP exports of ``entities`` companies, deterministic per (entities, seed, as_of,
    habits, names). ``habits`` — a ``Habits`` or a mapping of its field names to values — say how
    the business bills (instalments, named orders, order lags, an ERP go-live, repeat business;
    see ``habits``); ``names`` — a ``NameHabits`` or a mapping — how the systems name companies
    (see ``name_habits``; a mapping of ``habits`` may hold these too). An unknown name raises
    ValueError naming the valid ones."""
    if entities < 1:
        raise ValueError(f"entities is {entities} — expected at least 1")
    h, nh = split(habits, names)
    # the 11th stream serves the habits only, so the defaults draw exactly what they always drew
    streams = [
        np.random.Generator(np.random.PCG64(s)) for s in np.random.SeedSequence(seed).spawn(11)
    ]
    day = int(np.datetime64(as_of, "D").astype(np.int64))
    ep, mp, xp, cp = entity_draw.Params(), h.params(money.Params()), XrefParams(), RecordParams()

    ent = entity_draw.draw(entities, streams[0], ep)
    named = None
    if not nh.default:  # streams of their own, after the 11, so the defaults draw as ever
        named, ent = Names.start(nh, seed, ent)
    crm_base = None if named is None else named.bases(ent, ent.n_crm, "crm")
    crm = records.render(ent, ent.n_crm, streams[1], CRM_STYLE, crm_base)
    if named is not None:
        named.rename(ent, crm, "crm", CRM_STYLE)

    rng = streams[3]
    created, updated = _crm_dates(rng, crm, day, cp)
    crm_seq, crm_rows = _sequence(rng, created)
    crm_ids = _numeric_ids(rng, crm_seq, 5_000_000_000, 1_000)
    crm_owner = records.owners(rng, ent.country[crm.entity], cp.owner_blank)

    # deals come before the ERP's records: a customer of the days before its go-live may never
    # have reached it (each stream still draws in its own order)
    fx = money.fx_rates(streams[5], np.datetime64(as_of, "D"), mp)
    dl = money.deals(streams[5], ent, crm, created, crm_owner, fx, day, mp)
    deal_seq, deal_rows = _sequence(streams[5], dl.created)
    deal_ids = _numeric_ids(streams[5], deal_seq, 20_000_000_000, 4_000)
    gone = None
    if h.go_live_days is not None and h.pre_go_live_crm_only > 0:
        gone = _never_reached_erp(streams[10], ent, dl, day - h.go_live_days, h)
        ent = dataclasses.replace(
            ent, in_erp=ent.in_erp & ~gone, n_erp=np.where(gone, 0, ent.n_erp)
        )

    erp_base = None if named is None else named.bases(ent, ent.n_erp, "erp")
    erp = records.render(ent, ent.n_erp, streams[2], ERP_STYLE, erp_base)
    if named is not None:
        named.rename(ent, erp, "erp", ERP_STYLE)
    log.debug("%d entities: %d CRM, %d ERP records", entities, len(crm.entity), len(erp.entity))
    erp_seq, erp_rows = _erp_sequence(rng, erp)
    erp_ids = _erp_ids(erp_seq, cp.legacy_ids)
    tax = records.tax_ids(rng, ent, erp, cp.tax_id)
    terms = text.choose(rng, text.weights(vocab.PAYMENT_TERMS), len(erp.entity))
    terms_days = np.array([t[1] for t in vocab.PAYMENT_TERMS])[terms]
    crm_xref, erp_xref, xref_counts = _xrefs(streams[4], ent, crm, erp, crm_ids, erp_ids, xp)

    currency = text.words(vocab.CURRENCIES)
    # Each table is built as soon as its columns are known, and the columns are let go at once.
    tables: dict[str, pd.DataFrame] = {}
    tables["crm_companies"] = _frame(
        "crm_companies",
        {
            **crm.columns,
            "company_id": crm_ids,
            "owner": crm_owner,
            "created_at": text.iso_dates(created),
            "updated_at": text.iso_dates(updated),
            "erp_customer_id": crm_xref,
        },
        crm_rows,
    )
    crm.columns.clear()
    del crm_owner, crm_xref

    orders, leak, order_counts, habit_counts = money.orders(
        streams[6], ent, erp, dl, fx, day, mp, h, streams[10], gone
    )
    rng = streams[7]
    inv = money.invoices(rng, orders, terms_days, day, mp)
    status = money.order_status(rng, orders, inv)
    refs = money.deal_refs(rng, orders, deal_ids)
    order_seq, order_rows = _sequence(rng, orders.date)
    order_ids = text.cat("SO", text.digits(order_seq + 1, 7))
    inv_seq, inv_rows = _sequence(rng, inv.date)
    invoice_ids = text.cat("INV", text.digits(inv_seq + 1, 7))

    tables["crm_deals"] = _frame(
        "crm_deals",
        {
            "deal_id": deal_ids,
            "company_id": text.take(crm_ids, dl.record),
            "stage": dl.stage,
            "amount": text.money(dl.cents),
            "close_date": text.iso_dates(dl.close),
            "deal_name": dl.name,
            "currency": text.take(currency, dl.currency),
            "owner": dl.owner,
            "pipeline": text.full(len(dl.record), "default"),
        },
        deal_rows,
    )
    dl.stage = dl.name = dl.owner = text.nulls(0)

    ar, hold, limit = _balances(streams[8], ent, erp, orders, inv, fx, day, mp)
    tables["erp_customers"] = _frame(
        "erp_customers",
        {
            **erp.columns,
            "customer_id": erp_ids,
            "billing_address": erp.columns["address"],
            "tax_id": tax,
            "credit_limit": limit,
            "payment_terms": text.pick([t[0] for t in vocab.PAYMENT_TERMS], terms),
            "ar_balance": text.money(ar),
            "credit_hold": text.where(hold, "true", "false"),
            "crm_company_id": erp_xref,
        },
        erp_rows,
    )
    erp.columns.clear()
    del tax, limit, erp_xref

    tables["erp_orders"] = _frame(
        "erp_orders",
        {
            "order_id": order_ids,
            "customer_id": text.take(erp_ids, orders.record),
            "order_date": text.iso_dates(orders.date),
            "amount": text.money(orders.cents),
            "currency": text.take(currency, orders.currency),
            "status": status,
            "crm_deal_ref": refs,
        },
        order_rows,
    )
    del status, refs
    tables["erp_invoices"] = _frame(
        "erp_invoices",
        {
            "invoice_id": invoice_ids,
            "customer_id": text.take(erp_ids, orders.record[inv.order]),
            "invoice_date": text.iso_dates(inv.date),
            "amount": text.money(inv.cents),
            "order_id": text.take(order_ids, inv.order),
            "due_date": text.iso_dates(inv.due),
            "paid_amount": text.money(inv.paid),
            "currency": text.take(currency, orders.currency[inv.order]),
            "status": text.where(inv.paid == inv.cents, "paid", "open"),
        },
        inv_rows,
    )
    tables["fx_rates"] = _fx_frame(fx)
    tables = {name: tables[name] for name in TABLES}

    truth_entities = pd.DataFrame(
        {
            "system": pd.array(["crm"] * len(crm_rows) + ["erp"] * len(erp_rows), dtype=TEXT_DTYPE),
            "record_id": _strings(
                pa.concat_arrays([text.take(crm_ids, crm_rows), text.take(erp_ids, erp_rows)])
            ),
            "entity_id": _strings(
                text.take(ent.entity_id, np.r_[crm.entity[crm_rows], erp.entity[erp_rows]])
            ),
        }
    )
    truth_leakage = _truth_leakage(leak, deal_ids)
    deal_of_order = text.take_or_null(deal_ids, orders.deal)
    truth_orders = pd.DataFrame(
        {
            "order_id": _strings(text.take(order_ids, order_rows)),
            "deal_id": _strings(text.take(deal_of_order, order_rows)),
        }
    )
    hard = ent.hard_negatives
    truth_hard = pd.DataFrame(
        {
            "entity_a": _strings(text.take(ent.entity_id, np.array([a for a, _, _ in hard], int))),
            "entity_b": _strings(text.take(ent.entity_id, np.array([b for _, b, _ in hard], int))),
            "kind": _strings(text.words([k for _, _, k in hard])),
        }
    )

    pa.default_memory_pool().release_unused()
    quarantine = badrows.empty_quarantine()
    if bad_rows:
        eligible = {
            "crm_deals": np.flatnonzero(~dl.won[deal_rows]),
            "erp_orders": np.flatnonzero(
                (orders.deal < 0)[order_rows] & ~orders.cancelled[order_rows]
            ),
            "erp_invoices": np.flatnonzero(orders.deal[inv.order][inv_rows] < 0),
            "fx_rates": np.flatnonzero(tables["fx_rates"]["currency"].to_numpy() != "USD"),
        }
        tables, quarantine = badrows.plant(streams[9], tables, eligible)

    counts = {
        "entities_in_crm": int(ent.in_crm.sum()),
        "entities_in_erp": int(ent.in_erp.sum()),
        "entities_in_both": int((ent.in_crm & ent.in_erp).sum()),
        "entities_with_crm_duplicates": int((ent.n_crm > 1).sum()),
        "entities_with_erp_duplicates": int((ent.n_erp > 1).sum()),
        "hard_negative_pairs": {
            k: sum(1 for h in hard if h[2] == k) for k in entity_draw.HARD_NEGATIVE_KINDS
        },
        "rows": {name: len(frame) for name, frame in tables.items()},
        "won_deals": int(dl.won.sum()),
        "leakage": {k: int((leak.kind == i).sum()) for i, k in enumerate(money.LEAKAGE_KINDS)},
        "bad_rows": {k: int((quarantine["table"] == k).sum()) for k in TABLES},
        **xref_counts,
        **order_counts,
    }
    meta = {
        "as_of": as_of.isoformat(),
        "seed": seed,
        "entities": entities,
        "bad_rows": bad_rows,
        "counts": counts,
        "rates": {
            "entities": asdict(ep),
            "crm_style": asdict(CRM_STYLE),
            "erp_style": asdict(ERP_STYLE),
            "duplicate_typo": records.DUPLICATE_TYPO,
            "duplicate_blanks": records.DUPLICATE_BLANKS,
            "records": asdict(cp),
            "cross_references": asdict(xp),
            "money": asdict(mp),
            "bad_rows_per_row": badrows.RATE,
        },
    }
    if not h.default:  # only then, so that the defaults write the same truth_meta.json as ever
        go_live = None if h.go_live_days is None else as_of - dt.timedelta(days=h.go_live_days)
        meta["habits"] = {
            **asdict(h),
            "go_live": None if go_live is None else go_live.isoformat(),
            "counts": {
                **habit_counts,
                "entities_never_reached_erp": 0 if gone is None else int(gone.sum()),
            },
        }
    if named is not None:  # only then, as with the billing habits
        meta["name_habits"] = named.meta()
    return SampleData(
        tables=tables,
        truth_entities=truth_entities,
        truth_leakage=truth_leakage,
        as_of=as_of,
        truth_quarantine=quarantine,
        truth_orders=truth_orders,
        truth_hard_negatives=truth_hard,
        meta=meta,
    )


# --- helpers --------------------------------------------------------------------------------------


def _never_reached_erp(
    rng: np.random.Generator, ent: entity_draw.Entities, dl: money.Deals, go_live: int, h: Habits
) -> np.ndarray:
    """Per entity: an old customer (in both systems, with deals, every one closed before the
    go-live) that never reached the ERP, for ``h.pre_go_live_crm_only`` of them."""
    last = np.full(ent.n, np.iinfo(np.int64).min)
    np.maximum.at(last, dl.entity, dl.close)
    old = ent.in_crm & ent.in_erp & (np.bincount(dl.entity, minlength=ent.n) > 0)
    old &= last < go_live
    return old & (rng.random(ent.n) < h.pre_go_live_crm_only)


def _strings(values: Text) -> pd.api.extensions.ExtensionArray:
    return pd.array(values.cast(pa.large_string()), dtype=TEXT_DTYPE)


def _frame(name: str, columns: dict[str, Text], rows: np.ndarray) -> pd.DataFrame:
    """The table's canonical columns in schema order, rows in ``rows`` order, all text."""
    n = len(rows)
    data = {
        col: _strings(text.take(columns[col], rows) if col in columns else text.nulls(n))
        for col in TABLES[name].names
    }
    return pd.DataFrame(data)


def _sequence(rng: np.random.Generator, when: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Creation order: each record's 0-based number, and the records in that order."""
    rows = np.lexsort((rng.random(len(when)), when))
    seq = np.empty(len(when), dtype=np.int64)
    seq[rows] = np.arange(len(when))
    return seq, rows


def _numeric_ids(rng: np.random.Generator, seq: np.ndarray, start: int, gap: int) -> Text:
    """HubSpot-style numeric ids that grow, with gaps, in creation order."""
    values = start + np.cumsum(rng.integers(1, gap, len(seq)))
    return text.digits(values[seq])


def _crm_dates(
    rng: np.random.Generator, crm: records.Records, day: int, cp: RecordParams
) -> tuple[np.ndarray, np.ndarray]:
    n = len(crm.entity)
    main = np.arange(n) - crm.rank
    first = day - (60 + np.floor(rng.random(n) * (cp.years * 365 - 60))).astype(np.int64)
    later = np.minimum(first[main] + rng.integers(30, 900, n), day - 1)
    created = np.where(crm.rank == 0, first, later)
    stale = rng.random(n) < cp.stale
    recent = np.maximum(created, day - 365)
    updated = np.where(
        stale,
        np.minimum(created + rng.integers(0, 60, n), day),
        recent + np.floor(rng.random(n) * (day - recent + 1)).astype(np.int64),
    )
    return created, updated


def _erp_sequence(rng: np.random.Generator, erp: records.Records) -> tuple[np.ndarray, np.ndarray]:
    """ERP customers are numbered as created; a duplicate is created after its main record."""
    n = len(erp.entity)
    main = np.arange(n) - erp.rank
    t = rng.random(n)
    t = np.where(erp.rank == 0, t, t[main] + rng.random(n) * (1 - t[main]))
    return _sequence(rng, t)


def _erp_ids(seq: np.ndarray, legacy: float) -> Text:
    """``C000123``; the oldest customers, migrated from an older system, are ``000123``."""
    n = len(seq)
    number = text.digits(seq + 1, max(6, len(str(n))))
    old = seq < max(2, round(legacy * n))
    return text.where(old, number, text.cat("C", number))


def _xrefs(
    rng: np.random.Generator,
    ent: entity_draw.Entities,
    crm: records.Records,
    erp: records.Records,
    crm_ids: Text,
    erp_ids: Text,
    xp: XrefParams,
) -> tuple[Text, Text, dict[str, int]]:
    """Existing links between the systems: mostly to the entity's main record, a few wrong."""
    counts = {}
    out = []
    sides = (
        ("crm", crm, erp, erp_ids, ent.n_erp, xp.crm_link, xp.crm_wrong),
        ("erp", erp, crm, crm_ids, ent.n_crm, xp.erp_link, xp.erp_wrong),
    )
    for side, recs, other, other_ids, other_copies, link, wrong_rate in sides:
        n = len(recs.entity)
        first = np.cumsum(other_copies) - other_copies
        linked = (other_copies[recs.entity] > 0) & (rng.random(n) < link)
        e = recs.entity[linked]
        k = len(e)
        pick = np.where(rng.random(k) < 0.85, 0, rng.random(k) * other_copies[e]).astype(np.int64)
        target = first[e] + pick
        w = np.flatnonzero(rng.random(k) < wrong_rate)
        for _ in range(50):  # a wrong link names a record of another entity
            if not len(w) or len(other.entity) < 2:
                break
            target[w] = rng.integers(0, len(other.entity), len(w))
            w = w[other.entity[target[w]] == e[w]]
        out.append(text.put(text.nulls(n), linked, text.take(other_ids, target)))
        counts[f"{side}_links"] = k
        counts[f"{side}_links_wrong"] = int((other.entity[target] != e).sum())
    return out[0], out[1], counts


def _balances(
    rng: np.random.Generator,
    ent: entity_draw.Entities,
    erp: records.Records,
    orders: money.Orders,
    inv: money.Invoices,
    fx: money.Fx,
    day: int,
    mp: money.Params,
) -> tuple[np.ndarray, np.ndarray, Text]:
    """AR balance (open invoice amounts), credit hold, and credit limit per ERP customer."""
    n = len(erp.entity)
    rec = orders.record[inv.order]
    open_ = inv.cents - inv.paid
    ar = np.zeros(n, dtype=np.int64)
    np.add.at(ar, rec, open_)
    overdue = np.zeros(n, dtype=bool)
    overdue[rec[(open_ > 0) & (inv.due < day)]] = True
    hold = (overdue & (rng.random(n) < mp.credit_hold)) | (rng.random(n) < 0.01)
    cur = money.LOCAL[ent.country[erp.entity]]
    usd = np.array([5e3, 1e4, 2.5e4, 5e4, 1e5, 2.5e5])[rng.integers(0, 6, n)]
    local = usd * fx.rates[cur, -1]
    magnitude = 10 ** np.floor(np.log10(local) - 1)
    cents = (np.round(local / magnitude) * magnitude * 100).astype(np.int64)
    limit = text.put(text.money(cents), rng.random(n) >= mp.credit_limit, None)
    return ar, hold, limit


def _fx_frame(fx: money.Fx) -> pd.DataFrame:
    k, m = fx.rates.shape
    rate = text.decimals(np.round(fx.rates.T.ravel() * 10_000).astype(np.int64), 4)
    return pd.DataFrame(
        {
            "currency": _strings(text.pick(vocab.CURRENCIES, np.tile(np.arange(k), m))),
            "rate": _strings(rate),
            "date": _strings(
                text.take(text.iso_dates(fx.months.astype(np.int64)), np.repeat(np.arange(m), k))
            ),
        }
    )


def _truth_leakage(leak: money.Leakage, deal_ids: Text) -> pd.DataFrame:
    ids = text.take(deal_ids, leak.deal)
    order = np.argsort(ids.to_numpy(zero_copy_only=False).astype(str), kind="stable")
    gap = text.money(leak.gap_cents[order])
    return pd.DataFrame(
        {
            "deal_id": _strings(text.take(ids, order)),
            "kind": _strings(text.pick(money.LEAKAGE_KINDS, leak.kind[order])),
            "gap_amount": pd.array(pc.cast(gap, AMOUNT_DTYPE.pyarrow_dtype), dtype=AMOUNT_DTYPE),
        }
    )
