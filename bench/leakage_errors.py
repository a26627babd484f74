"""Leakage errors against the generator's truth, per kind and cause (see bench/run.py for scores).

    python bench/leakage_errors.py --entities 100000            # load + match once, then cached
    python bench/leakage_errors.py --entities 100000 --examples 5

Every won deal gets a truth kind (truth_leakage.csv, else ``fulfilled``) and a predicted kind (the
check's finding, else ``fulfilled``). Each disagreement that touches no_order or under_billed is
put in one cause class, using truth_entities.csv (does the company have an ERP customer, is it in
the entity of the orders) and truth_orders.csv (which deal each order was made for):

    matcher: ...            the matcher's entities differ from the truth (not the check's error)
    took repeat order       the deal was given an order made for no deal (repeat business)
    took other deal's order the deal was given an order made for another deal
    own order not linked    an order made for the deal went to another deal or to none

It also prints a ceiling: the planted deals that an order made for no deal (repeat business)
makes look like another kind, whatever the check does. A no_order deal with such an order in its
window at a share inside the generator's under-billing range reads exactly like a planted
under-billed deal (which is far commoner, see bench/README.md), and one at a share that matches
the deal reads like a fulfilled deal; an under_billed deal whose own orders plus such an order
match it reads like a fulfilled split. Recall cannot exceed (planted - contradicted) / planted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pickle
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "out"
FOCUS = ("no_order", "under_billed")


def _inputs(data: Path, cache: Path) -> dict:
    """The leakage check's inputs after load and match, cached (the match takes a while)."""
    if cache.exists() and cache.stat().st_mtime > (data / "crm_deals.csv").stat().st_mtime:
        return pickle.loads(cache.read_bytes())
    from recon.config.load import folder_config
    from recon.extract.load import load_all
    from recon.pipeline import match

    loaded = load_all(folder_config(data))
    matched = match(loaded)
    countries = matched.records[["system", "record_id", "country_code", "country_inferred"]].astype(
        {"system": str, "record_id": str}
    )
    xref = matched.xref[["system", "record_id", "xref_id"]].astype(str)
    xref = xref.merge(countries, on=["system", "record_id"], how="left")
    inputs = {
        "tables": {
            name: loaded.frame(name)
            for name in ("crm_deals", "crm_companies", "erp_customers", "erp_orders", "fx_rates")
        },
        "xref": xref,
        "base": loaded.base_currency,
        "won_stages": loaded.won_stages,
        "cancelled": loaded.tables["erp_orders"].cancelled_statuses,
    }
    cache.write_bytes(pickle.dumps(inputs))
    return inputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--examples", type=int, default=3)
    args = parser.parse_args(argv)
    data = args.data or OUT / f"data-{args.entities}-{args.seed}"

    from recon.checks.leakage import Frames, find_leakage, link_orders
    from recon.config.leakage import load_leakage_rules

    inputs = _inputs(data, OUT / f"leakage-inputs-{args.entities}-{args.seed}.pkl")
    t = inputs["tables"]
    frames = Frames(
        t["crm_deals"], t["crm_companies"], t["erp_customers"], t["erp_orders"], t["fx_rates"],
        inputs["xref"],
    )  # fmt: skip
    as_of = dt.date.fromisoformat(json.loads((data / "truth_meta.json").read_text())["as_of"])
    rules = load_leakage_rules()
    kw = {
        "as_of": as_of,
        "base_currency": inputs["base"],
        "won_stages": inputs["won_stages"],
        "cancelled_statuses": inputs["cancelled"],
    }
    t0 = time.perf_counter()
    result = find_leakage(frames, rules, **kw)
    seconds = time.perf_counter() - t0
    links = link_orders(frames, rules, **kw)

    deals = t["crm_deals"].astype({"deal_id": str, "company_id": str})
    won = deals.loc[
        deals["stage"].astype(str).str.casefold().isin([s.casefold() for s in inputs["won_stages"]])
        & (deals["close_date"] <= pd.Timestamp(as_of))
        & (deals["amount"].astype(float) > 0)
    ]
    truth = pd.read_csv(data / "truth_leakage.csv", dtype=str).set_index("deal_id")["kind"]
    found = result.findings.loc[
        result.findings["deal_id"].notna() & (result.findings["kind"] != "credit_hold")
    ]
    found = found.astype({"deal_id": str}).set_index("deal_id")["kind"].astype(str)
    ids = won["deal_id"].to_numpy()
    true_kind = pd.Series(ids).map(truth).fillna("fulfilled").to_numpy()
    pred_kind = pd.Series(ids).map(found).fillna("fulfilled").to_numpy()

    ents = pd.read_csv(data / "truth_entities.csv", dtype=str)
    ent_of = ents.set_index(ents["system"] + ":" + ents["record_id"])["entity_id"]
    erp_ents = set(ents.loc[ents["system"] == "erp", "entity_id"])
    true_orders = pd.read_csv(data / "truth_orders.csv", dtype=str)
    order_deal = true_orders.set_index("order_id")["deal_id"]
    orders = t["erp_orders"].astype({"order_id": str, "customer_id": str})
    orders = orders.set_index("order_id")
    company = won.set_index("deal_id")["company_id"]
    won_amount = won.set_index("deal_id")["amount"]
    xref = inputs["xref"]
    pred_ent = xref.set_index(xref["system"] + ":" + xref["record_id"])["xref_id"]
    linked = links.astype({"deal_id": str, "order_id": str})
    orders_of_deal = linked.groupby("deal_id")["order_id"].agg(list)
    detail = linked.set_index("order_id")
    amount = orders["amount"].astype(float)
    deal_of_linked = linked.set_index("order_id")["deal_id"]
    true_orders_of = true_orders.dropna().groupby("deal_id")["order_id"].agg(list)

    def cause(deal: str, t_kind: str, p_kind: str) -> tuple[str, str]:
        ent = ent_of.get("crm:" + company[deal])
        in_erp = ent in erp_ents
        if t_kind == "no_erp_customer" or p_kind == "no_erp_customer":
            side = "false link" if not in_erp else "missed link"
            return f"matcher: {side}", ""
        got = orders_of_deal.get(deal, [])
        foreign = [o for o in got if order_deal.get(o) != deal]
        mine = [o for o in true_orders_of.get(deal, []) if o in orders.index]
        live_mine = [
            o for o in mine if str(orders.at[o, "status"]).casefold() not in ("cancelled",)
        ]
        missing = [o for o in live_mine if o not in got]
        shown = [
            f"{o}({'ref ' if detail.at[o, 'by_reference'] else ''}"
            f"{detail.at[o, 'lag_days']}d {detail.at[o, 'share']:.2f})"
            for o in got
        ]
        note = f"got {shown} mine {live_mine} amount {float(won_amount[deal]):g}"
        note += " mine: " + ", ".join(f"{amount[o]:g}" for o in live_mine)
        if foreign:
            repeat = [o for o in foreign if pd.isna(order_deal.get(o))]
            if repeat:
                return "took repeat order", note
            return "took other deal's order", note + f" (of {order_deal.get(foreign[0])})"
        if missing:
            o = missing[0]
            other = deal_of_linked.get(o)
            d_ent = pred_ent.get("crm:" + company[deal])
            o_ent = pred_ent.get("erp:" + orders.at[o, "customer_id"])
            if other is not None:
                return "own order went to another deal", note + f" (to {other})"
            if d_ent != o_ent:
                return "matcher: own order in another entity", note
            return "own order not linked", note
        return "other", note

    table = Counter()
    examples: dict[tuple[str, str, str], list[str]] = {}
    wrong = np.flatnonzero(true_kind != pred_kind)
    for i in wrong:
        tk, pk = true_kind[i], pred_kind[i]
        if tk not in FOCUS and pk not in FOCUS:
            continue
        c, note = cause(ids[i], tk, pk)
        key = (tk, pk, c)
        table[key] += 1
        examples.setdefault(key, [])
        if len(examples[key]) < args.examples:
            examples[key].append(f"{ids[i]}: {note}")

    ceiling = _ceiling(frames, rules, kw, ids, true_kind, order_deal, true_orders)

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from accuracy import matcher_affected_deals

    affected = matcher_affected_deals(
        t["crm_deals"], t["erp_orders"], xref, ents, true_orders
    )  # fmt: skip
    clean = ~pd.Series(ids).isin(affected).to_numpy()
    print(f"leakage: {seconds:.1f} s, {len(won):,} won deals in scope")
    print(f"deals the matcher got wrong (entity or an order's customer): {(~clean).sum():,}")
    for kind in FOCUS:
        for label, keep in (("all deals", np.ones(len(ids), bool)), ("given matcher", clean)):
            predicted = (pred_kind == kind) & keep
            planted = (true_kind == kind) & keep
            hit = int((predicted & planted).sum())
            print(
                f"{kind:>12} {label:<13}: precision {hit / max(predicted.sum(), 1):.4f} recall "
                f"{hit / max(planted.sum(), 1):.4f} (predicted {predicted.sum()}, planted "
                f"{planted.sum()})"
            )
    for kind, (contradicted, planted) in ceiling.items():
        print(
            f"{kind:>12} {'ceiling':<13}: {contradicted} of {planted} planted deals look like "
            f"another kind through an order made for no deal; recall at most "
            f"{(planted - contradicted) / max(planted, 1):.4f}"
        )
    # what a finance user sees: the deal flagged as leakage at all, whichever of the two kinds
    predicted = np.isin(pred_kind, FOCUS)
    planted = np.isin(true_kind, FOCUS)
    hit = int((predicted & planted).sum())
    print(
        f"{'either kind':>12} {'all deals':<13}: precision {hit / max(predicted.sum(), 1):.4f} "
        f"recall {hit / max(planted.sum(), 1):.4f} (no_order or under_billed, flagged as one of "
        "them)"
    )
    # the order links month-end builds on: live orders made for a won deal in scope
    made = true_orders.dropna().astype(str)
    made = made.loc[made["order_id"].isin(orders.index[live_status(orders)])]
    made = made.loc[made["deal_id"].isin(set(ids))]
    truth_links = set(zip(made["deal_id"], made["order_id"], strict=True))
    got_links = set(zip(linked["deal_id"], linked["order_id"], strict=True))
    hit = len(truth_links & got_links)
    print(
        f"{'order links':>12} {'all deals':<13}: precision {hit / max(len(got_links), 1):.4f} "
        f"recall {hit / max(len(truth_links), 1):.4f} ({len(got_links - truth_links)} wrong, "
        f"{len(truth_links - got_links)} missed, of {len(truth_links):,} orders made for won deals)"
    )
    print("\ntruth → predicted, cause: count")
    for (tk, pk, c), n in sorted(table.items(), key=lambda kv: -kv[1]):
        print(f"  {tk:>15} → {pk:<15} {c:<32} {n:5d}")
        for line in examples[(tk, pk, c)]:
            print(f"        {line}")
    return 0


def live_status(orders: pd.DataFrame) -> np.ndarray:
    return ~orders["status"].astype(str).str.casefold().isin(["cancelled"]).to_numpy()


def _ceiling(
    frames, rules, kw: dict, ids: np.ndarray, true_kind: np.ndarray, order_deal: pd.Series,
    true_orders: pd.DataFrame,
) -> dict[str, tuple[int, int]]:  # fmt: skip
    """Per focus kind: (planted deals an order made for no deal makes look like another kind,
    planted deals), from the check's own candidate pairs (its entities, window and shares)."""
    from recon.checks.leakage import _solve
    from recon.checks.leakage.assign import fit
    from recon.sampledata.money import Params as Planted

    solved = _solve(frames, rules, **kw)
    prep, pairs, p = solved.prep, solved.pairs, solved.params
    deal_id = prep.won["deal_id"].astype(str).to_numpy()
    order_id = prep.orders["order_id"].astype(str).to_numpy()
    kind = pd.Series(true_kind, index=ids)
    made_for = pd.Series(order_id[pairs["o"]]).map(order_deal).to_numpy(dtype=object)
    deal = deal_id[pairs["d"]]
    repeat = ~pairs["ref"].to_numpy() & pd.isna(made_for)
    own = made_for == deal
    share = pairs["share"].to_numpy()
    d = pairs["d"].to_numpy()
    tol, vat = p.tol[d], p.vat[d]
    lo, hi = Planted().under_billed_range
    out = {}
    # no_order: a repeat order inside the window, at an under-billing share or matching the deal
    planted = kind.index[kind.to_numpy() == "no_order"]
    looks = repeat & ~pairs["late"].to_numpy()
    looks &= ((share >= lo) & (share <= hi)) | fit(share, tol, vat, p)[0]
    out["no_order"] = (int(pd.Index(deal[looks]).intersection(planted).nunique()), len(planted))
    # under_billed: its own orders plus one repeat order (window or later part) match the deal
    planted = kind.index[kind.to_numpy() == "under_billed"]
    own_total = pd.Series(share[own]).groupby(deal[own]).sum()
    base = pd.Series(deal[repeat]).map(own_total).fillna(0).to_numpy()
    looks = fit(base + share[repeat], tol[repeat], vat[repeat], p)[0]
    out["under_billed"] = (
        int(pd.Index(deal[repeat][looks]).intersection(planted).nunique()),
        len(planted),
    )
    del true_orders
    return out


if __name__ == "__main__":
    sys.exit(main())
