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
makes look like another kind, whatever the check does, and the under-billed deals whose own
orders so far read as the first instalments of a deal whose next part is not yet due, where the
data shows instalment billing (see bench/scoring.py, which bench/robustness.py shares). Recall
cannot exceed (planted - contradicted) / planted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scoring import (
    FOCUS,
    OUT,
    check_frames,
    check_inputs,
    check_kwargs,
    deal_kinds,
    recall_ceiling,
    won_in_scope,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--examples", type=int, default=3)
    args = parser.parse_args(argv)
    data = args.data or OUT / f"data-{args.entities}-{args.seed}"

    from recon.checks.leakage import find_leakage, link_orders
    from recon.config.leakage import load_leakage_rules

    inputs = check_inputs(data, OUT / f"leakage-inputs-{args.entities}-{args.seed}.pkl")
    t = inputs["tables"]
    frames = check_frames(inputs)
    as_of = dt.date.fromisoformat(json.loads((data / "truth_meta.json").read_text())["as_of"])
    rules = load_leakage_rules()
    kw = check_kwargs(inputs, as_of)
    t0 = time.perf_counter()
    result = find_leakage(frames, rules, **kw)
    seconds = time.perf_counter() - t0
    links = link_orders(frames, rules, **kw)

    won = won_in_scope(t["crm_deals"], inputs["won_stages"], as_of)
    ids = won["deal_id"].to_numpy()
    truth = pd.read_csv(data / "truth_leakage.csv", dtype=str)
    true_kind, pred_kind = deal_kinds(ids, truth, result.findings)

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

    ceiling = recall_ceiling(frames, rules, kw, ids, true_kind, order_deal)

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
            f"another kind through an order made for no deal, or read as billing in progress; "
            f"recall at most "
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


if __name__ == "__main__":
    sys.exit(main())
