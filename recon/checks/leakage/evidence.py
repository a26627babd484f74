"""Orders as evidence of a link the matcher missed.

A won deal of a CRM company that has no ERP customer, and an order of an ERP customer that has no
CRM company, of the same amount (to the cent, as booked or with the deal's VAT) dated within the
learned order window after the close: the two records are probably one company. When the names
agree too (a token-set similarity of at least ``min_name_similarity``, so "Hayford" meets "HAYFORD
& DUNSHAW INC"; or the records share a web domain or a phone number; or two of the company's deals
meet two of the customer's orders so) and one customer fits best, the two entities are joined for the check, so the
deal meets its order; otherwise the candidate is named on the finding. Every candidate is listed
in ``Evidence.pairs`` for the data team (and for the matcher to learn from).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process, utils

from recon.checks.amounts import floats
from recon.checks.leakage.findings import day_text, money
from recon.checks.leakage.habits import Window
from recon.checks.leakage.prepare import Prepared, join_entities, positions, take_at
from recon.normalize.names import fold_text

EVIDENCE_COLUMNS = {
    "deal_id": "string",
    "company_id": "string",
    "company": "string",
    "order_id": "string",
    "customer_id": "string",
    "customer": "string",
    "currency": "string",
    "amount": "float64",
    "lag_days": "int64",
    "name_similarity": "float64",
    "agreement": "string",  # names, web domain or phone, repeated (deals and orders), or none
    "linked": "bool",
}


@dataclass(frozen=True)
class Evidence:
    prep: Prepared  # with the linked entities joined
    pairs: pd.DataFrame  # EVIDENCE_COLUMNS, one row per candidate (deal, order)
    hint: pd.Series  # won-deal index → "; order SO1 of ERP customer ... fits this deal"


def _cents(amount: np.ndarray) -> np.ndarray:
    return np.round(amount * 100).astype(np.int64)


def _candidates(prep: Prepared, window: Window, skip: np.ndarray) -> pd.DataFrame:
    """(d, o) of CRM-only deals and ERP-only orders of one amount, in the deal's window."""
    won, orders = prep.won, prep.orders
    use = ~won["has_erp"].to_numpy() & ~skip
    deals = won.loc[use]
    amount = floats(deals["deal_amount"])
    vat = deals["vat"].to_numpy(dtype=float)
    with_tax = amount * (1 + vat)
    lone = orders.loc[~orders["has_crm"].to_numpy()]
    # currency codes and amounts in cents: a hash join on numbers, not on text
    codes, _ = pd.factorize(
        np.r_[deals["currency"].to_numpy(dtype=object), lone["currency"].to_numpy(dtype=object)]
    )
    deal_code, order_code = codes[: len(deals)], codes[len(deals) :]
    # as booked, with VAT to the cent, with VAT to whole units (IDR)
    cents = np.r_[_cents(amount), _cents(with_tax), _cents(np.round(with_tax))]
    keys = pd.DataFrame(
        {"d": np.tile(deals["d"].to_numpy(), 3), "cur": np.tile(deal_code, 3), "cents": cents}
    ).drop_duplicates()
    keyed = pd.DataFrame(
        {"o": lone["o"].to_numpy(), "cur": order_code, "cents": _cents(floats(lone["amount"]))}
    )
    pairs = keys.merge(keyed, on=["cur", "cents"], how="inner").drop_duplicates(["d", "o"])
    d, o = pairs["d"].to_numpy(), pairs["o"].to_numpy()
    close = won["close_date"].to_numpy(dtype="datetime64[D]")[d]
    lag = (orders["order_date"].to_numpy(dtype="datetime64[D]")[o] - close).astype(np.int64)
    keep = (lag >= -window.before) & (lag <= window.first)
    return pd.DataFrame({"d": d[keep], "o": o[keep], "lag": lag[keep]})


def _keys(frames_xref: pd.DataFrame | None, system: str, ids: pd.Series) -> pd.DataFrame:
    """The matcher's keys of each record (normalized name, web domain unless free-mail, phone),
    NA where the xref does not carry them."""
    out = pd.DataFrame(index=range(len(ids)))
    for column in ("name_norm", "domain", "phone_e164"):
        out[column] = pd.Series(pd.NA, index=out.index, dtype="string")
    if frames_xref is None or not set(out.columns) <= set(frames_xref.columns):
        return out
    rows = frames_xref.loc[frames_xref["system"].astype(str) == system].reset_index(drop=True)
    at = positions(ids.reset_index(drop=True), rows["record_id"])
    for column in out.columns:
        values = rows[column].astype("string")
        if column == "domain" and "freemail" in rows.columns:
            values = values.mask(rows["freemail"].fillna(False).astype(bool))
        out[column] = take_at(values, at).astype("string").to_numpy()
    return out


def _agreement(
    prep: Prepared, pairs: pd.DataFrame, keys: pd.DataFrame | None
) -> tuple[np.ndarray, np.ndarray]:
    """(name similarity 0–100, same web domain or phone) of each candidate's two records."""
    won, orders = prep.won, prep.orders
    d, o = pairs["d"].to_numpy(), pairs["o"].to_numpy()
    crm = _keys(keys, "crm", won["company_id"].iloc[d])
    erp = _keys(keys, "erp", orders["customer_id"].iloc[o])
    raw_left = fold_text(won["company"].iloc[d].reset_index(drop=True)).fillna("")
    raw_right = fold_text(orders["customer"].iloc[o].reset_index(drop=True)).fillna("")
    # the matcher's normalized names (legal forms taken off) where it gave them
    left = crm["name_norm"].fillna(raw_left).tolist()
    right = erp["name_norm"].fillna(raw_right).tolist()
    similarity = np.zeros(len(pairs))
    if len(pairs):
        for a, b in ((left, right), (raw_left.tolist(), raw_right.tolist())):
            found = process.cpdist(
                a, b, scorer=fuzz.token_set_ratio, processor=utils.default_process
            )
            similarity = np.maximum(similarity, np.asarray(found, dtype=float))
    same = np.zeros(len(pairs), dtype=bool)
    for column in ("domain", "phone_e164"):
        same |= (crm[column] == erp[column]).fillna(False).to_numpy(dtype=bool)
    return similarity, same


def order_evidence(
    prep: Prepared,
    window: Window,
    skip: np.ndarray,
    min_name_similarity: float,
    keys: pd.DataFrame | None = None,
) -> Evidence:
    """Candidates, the entities joined where the names (or web domain, or phone) agree, and the
    hints for the others. ``keys``: the xref with the matcher's name_norm, domain, freemail and
    phone_e164 per record (optional; without them raw names are compared)."""
    pairs = _candidates(prep, window, skip)
    won, orders = prep.won, prep.orders
    d, o = pairs["d"].to_numpy(), pairs["o"].to_numpy()
    similarity, same = _agreement(prep, pairs, keys)
    pairs["similarity"] = similarity
    pairs["d_ent"] = won["ent"].to_numpy()[d]
    pairs["o_ent"] = orders["ent"].to_numpy()[o]
    # the two agree when the names do, or they share a web domain or phone number, or their
    # deals and orders coincide twice or more (two deals, two orders): then names may differ
    # outright (a trade name against the legal one)
    per_pair = pairs.groupby(["d_ent", "o_ent"])
    repeated = (per_pair["d"].transform("nunique") >= 2) & (per_pair["o"].transform("nunique") >= 2)
    pairs["agree"] = (similarity >= min_name_similarity) | same | repeated.to_numpy()
    pairs["why"] = np.select(
        [similarity >= min_name_similarity, same, repeated.to_numpy()],
        ["names", "web domain or phone", "repeated"],
        default="",
    )
    # per deal the best candidate; linked when the two agree and no other customer's order
    # fits as well
    ranked = pairs.sort_values(
        ["d", "agree", "similarity", "lag"], ascending=[True, False, False, True]
    )
    best = ranked.drop_duplicates("d")
    rivals = ranked.loc[ranked["agree"]].groupby("d")["o_ent"].nunique()
    unique = rivals.reindex(best["d"]).fillna(0).to_numpy() == 1
    link = best.loc[best["agree"].to_numpy() & unique]
    linked = np.isin(pairs["d"].to_numpy(), link["d"].to_numpy()) & np.isin(
        pairs["o"].to_numpy(), link["o"].to_numpy()
    )
    joined = join_entities(prep, link["d_ent"].to_numpy(), link["o_ent"].to_numpy())
    hinted = best.loc[~np.isin(best["d"].to_numpy(), link["d"].to_numpy())]
    why = np.where(
        hinted["agree"].to_numpy(), "another customer's order fits as well", "the names differ"
    )
    return Evidence(joined, _table(prep, pairs, linked), _hints(prep, hinted, why))


def _table(prep: Prepared, pairs: pd.DataFrame, linked: np.ndarray) -> pd.DataFrame:
    won, orders = prep.won, prep.orders
    d, o = pairs["d"].to_numpy(), pairs["o"].to_numpy()
    return pd.DataFrame(
        {
            "deal_id": won["deal_id"].to_numpy()[d],
            "company_id": won["company_id"].to_numpy()[d],
            "company": won["company"].to_numpy()[d],
            "order_id": orders["order_id"].to_numpy()[o],
            "customer_id": orders["customer_id"].to_numpy()[o],
            "customer": orders["customer"].to_numpy()[o],
            "currency": orders["currency"].to_numpy()[o],
            "amount": floats(orders["amount"])[o],
            "lag_days": pairs["lag"].to_numpy(),
            "name_similarity": pairs["similarity"].to_numpy(),
            "agreement": pairs["why"].to_numpy(),
            "linked": linked,
        }
    ).astype(EVIDENCE_COLUMNS)


def _hints(prep: Prepared, best: pd.DataFrame, why: np.ndarray) -> pd.Series:
    """ "; order SO123 of ERP customer C9 Name, IDR 1,900.00 on 2026-10-26, fits this deal"."""
    if best.empty:
        return pd.Series(dtype="string")
    orders = prep.orders.iloc[best["o"].to_numpy()].reset_index(drop=True)
    text = (
        "; order "
        + orders["order_id"].astype("string").to_numpy()
        + " of ERP customer "
        + orders["customer_id"].astype("string").to_numpy()
        + " "
        + orders["customer"].astype("string").fillna("").to_numpy()
        + ", "
        + np.array(money(orders["currency"], floats(orders["amount"])), dtype=object)
        + " on "
        + day_text(orders["order_date"]).to_numpy()
        + ", fits this deal in amount and date: the same company? (not linked: "
        + why
        + ")"
    )
    return pd.Series(text, index=best["d"].to_numpy(), dtype="string")
