"""Scoring the leakage check against the generator's truth, shared by bench/leakage_errors.py and
bench/robustness.py: the check's cached inputs, each won deal's true and reported kind, precision
and recall over a set of kinds, and the recall ceiling.

A won deal in scope (won stage, closed on or before the as-of day, amount above zero) has a true
kind (truth_leakage.csv, else ``fulfilled``) and a reported kind (its finding, credit holds aside,
else ``fulfilled``). For a set of kinds, a deal reported as one of them is right when its true kind
is one of them too: ``{"under_billed"}`` scores that kind alone, ``{"no_order", "under_billed"}``
counts a no_order deal reported as under_billed as found.

The ceiling: the planted deals that an order made for no deal (repeat business) makes look like
another kind, whatever the check does. A no_order deal with such an order in its window at a share
inside the generator's under-billing range reads exactly like a planted under-billed deal (which
is far commoner, see bench/README.md), and one at a share that matches the deal reads like a
fulfilled deal; an under_billed deal whose own orders plus such an order match it reads like a
fulfilled split. Recall cannot exceed (planted - contradicted) / planted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "out"
FOCUS = ("no_order", "under_billed")
CHECK_TABLES = ("crm_deals", "crm_companies", "erp_customers", "erp_orders", "fx_rates")


def check_inputs(data: Path, cache: Path) -> dict:
    """The leakage check's inputs after load and match, cached (the match takes a while); the
    tables also hold erp_invoices, for reading the data's end."""
    if cache.exists() and cache.stat().st_mtime > (data / "crm_deals.csv").stat().st_mtime:
        return pickle.loads(cache.read_bytes())
    from recon.config.load import folder_config
    from recon.extract.load import load_all
    from recon.pipeline import match

    loaded = load_all(folder_config(data))
    matched = match(loaded)
    from recon.pipeline import record_keys

    xref = matched.xref[["system", "record_id", "xref_id"]].astype(str)
    xref = xref.merge(record_keys(matched), on=["system", "record_id"], how="left")
    tables = {name: loaded.frame(name) for name in CHECK_TABLES}
    invoices = loaded.frame("erp_invoices")
    if invoices is not None:
        tables["erp_invoices"] = invoices
    inputs = {
        "tables": tables,
        "xref": xref,
        "base": loaded.base_currency,
        "won_stages": loaded.won_stages,
        "cancelled": loaded.tables["erp_orders"].cancelled_statuses,
    }
    cache.write_bytes(pickle.dumps(inputs))
    return inputs


def check_frames(inputs: dict) -> Any:
    """The check's ``Frames`` from cached inputs."""
    from recon.checks.leakage import Frames

    t = inputs["tables"]
    return Frames(
        t["crm_deals"], t["crm_companies"], t["erp_customers"], t["erp_orders"], t["fx_rates"],
        inputs["xref"],
    )  # fmt: skip


def check_kwargs(inputs: dict, as_of: dt.date | None) -> dict[str, Any]:
    return {
        "as_of": as_of,
        "base_currency": inputs["base"],
        "won_stages": inputs["won_stages"],
        "cancelled_statuses": inputs["cancelled"],
    }


def won_in_scope(deals: pd.DataFrame, won_stages: Iterable[str], as_of: dt.date) -> pd.DataFrame:
    """Won deals closed on or before ``as_of`` with an amount above zero."""
    deals = deals.astype({"deal_id": str, "company_id": str})
    return deals.loc[
        deals["stage"].astype(str).str.casefold().isin([s.casefold() for s in won_stages])
        & (deals["close_date"] <= pd.Timestamp(as_of))
        & (deals["amount"].astype(float) > 0)
    ]


def deal_kinds(
    ids: np.ndarray, truth_leakage: pd.DataFrame, findings: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """(true kind, reported kind) of each deal in ``ids``; ``fulfilled`` where none."""
    truth = truth_leakage.astype({"deal_id": str}).set_index("deal_id")["kind"].astype(str)
    found = findings.loc[findings["deal_id"].notna() & (findings["kind"] != "credit_hold")]
    found = found.astype({"deal_id": str}).set_index("deal_id")["kind"].astype(str)
    true_kind = pd.Series(ids).map(truth).fillna("fulfilled").to_numpy()
    pred_kind = pd.Series(ids).map(found).fillna("fulfilled").to_numpy()
    return true_kind, pred_kind


def precision_recall(
    true_kind: np.ndarray, pred_kind: np.ndarray, kinds: Iterable[str]
) -> dict[str, float | int]:
    """Deals reported as one of ``kinds`` against deals planted as one of them (1.0 when none)."""
    kinds = list(kinds)
    predicted = np.isin(pred_kind, kinds)
    planted = np.isin(true_kind, kinds)
    hit = int((predicted & planted).sum())
    return {
        "precision": hit / predicted.sum() if predicted.any() else 1.0,
        "recall": hit / planted.sum() if planted.any() else 1.0,
        "predicted": int(predicted.sum()),
        "planted": int(planted.sum()),
        "hit": hit,
    }


def recall_ceiling(
    frames: Any,
    rules: Any,
    kw: dict[str, Any],
    ids: np.ndarray,
    true_kind: np.ndarray,
    order_deal: pd.Series,
) -> dict[str, tuple[int, int]]:
    """Per focus kind: (planted deals an order made for no deal makes look like another kind, or
    that read as billing in progress, planted deals), from the check's own candidate pairs (its
    entities, window and shares) and learned habits.
    ``order_deal`` maps order_id → the deal it was made for (truth_orders.csv, NaN for none)."""
    from recon.checks.leakage import _solve
    from recon.checks.leakage.assign import fit, instalment_parts, next_instalment_in_time
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
    contradicted = pd.Index(deal[repeat][looks]).intersection(planted)
    # ... or its own orders so far read as the first instalments (equal parts, or a milestone
    # plan the data shows) of a deal whose next part is not yet due: billing in progress
    if p.instalments and p.age is not None:
        frame = pd.DataFrame({"d": d[own], "s": share[own], "lag": pairs["lag"].to_numpy()[own]})
        per = (
            frame.assign(sq=frame["s"] ** 2)
            .groupby("d")
            .agg(n=("s", "size"), total=("s", "sum"), sq=("sq", "sum"), last=("lag", "max"))
        )
        at = per.index.to_numpy()
        parts = instalment_parts(
            per["total"].to_numpy(), per["n"].to_numpy(), per["sq"].to_numpy(), p.tol[at],
            p.vat[at], p,
        )  # fmt: skip
        progress = (parts > 0) & next_instalment_in_time(per["last"].to_numpy(), p.age[at], p)
        contradicted = contradicted.union(pd.Index(deal_id[at[progress]]).intersection(planted))
    out["under_billed"] = (int(contradicted.nunique()), len(planted))
    return out


def write_points(
    out: Path, entities: int, seed: int, rows: list[dict], order: Iterable[str]
) -> None:
    """A sweep's results to ``out``, merged with the points of an earlier run of the same size
    and seed (a run of a few points keeps the others), in the sweep's order of points."""
    previous = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    same_run = (previous.get("entities"), previous.get("seed")) == (entities, seed)
    points = {p["name"]: p for p in previous.get("points", [])} if same_run else {}
    points.update({r["name"]: r for r in rows})
    report = {
        "entities": entities,
        "seed": seed,
        "run": dt.datetime.now().isoformat(timespec="seconds"),
        "points": [points[n] for n in order if n in points],
    }
    out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")


def sweep_args(
    argv: list[str] | None, doc: str, point_names: Iterable[str]
) -> tuple[Any, list[str]]:
    """A sweep's command line (--entities, --seed, --points) and the points asked for, checked
    against ``point_names``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--entities", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--points", default="all", help="all, or names joined by commas")
    args = parser.parse_args(argv)
    known = list(point_names)
    names = known if args.points == "all" else args.points.split(",")
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"unknown point {', '.join(unknown)} — the points: {', '.join(known)}")
    OUT.mkdir(parents=True, exist_ok=True)
    return args, names
