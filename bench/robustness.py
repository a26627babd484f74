"""Leakage precision and recall across businesses' billing habits (issue 14).

    python bench/robustness.py --entities 20000                   # every point of the grid
    python bench/robustness.py --entities 20000 --points baseline,instalments --seed 2

Each point of the grid is one set of habits of the sample-data generator (``recon.sampledata.
habits``: instalments, references on first parts only, order lags, the share of named orders, an
ERP go-live, repeat business, an export taken before today). For each, the data is generated into
bench/out/robust-<name>-<entities>-<seed>/ (kept, and made again only when its habits differ),
loaded and matched once (cached beside it, as bench/leakage_errors.py does), and the leakage check
(``recon.checks.leakage.find_leakage`` with the rules in rules/) is scored against
truth_leakage.csv with bench/scoring.py:

    no_order, under_billed, no_erp_customer   a finding of that kind on a deal planted as it
    order+under                               a no_order or under_billed finding on a deal
                                              planted as either
    all three                                 any of the three on a deal planted as any of them

plus the recall ceiling of bench/leakage_errors.py. The as-of day the check counts from is the
generator's, passed to the check, except where a point says otherwise: ``data`` reads it from
the loaded tables with recon.asof (when that module exists; else the generator's), ``today``
passes none (the check's own default). The table shows one row per point and the worst point
per column; bench/out/robustness-<entities>.json holds everything, with the commonest errors
(truth → reported) per point.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scoring import (
    OUT,
    check_frames,
    check_inputs,
    check_kwargs,
    deal_kinds,
    precision_recall,
    recall_ceiling,
    sweep_args,
    won_in_scope,
    write_points,
)

SCORED = {
    "no_order": ("no_order",),
    "under_billed": ("under_billed",),
    "no_erp_customer": ("no_erp_customer",),
    "order+under": ("no_order", "under_billed"),
    "all three": ("no_order", "under_billed", "no_erp_customer"),
}
EXPORT_DAY = dt.date(2025, 6, 30)
GO_LIVE = {"history_days": 900, "go_live_days": 500, "pre_go_live_crm_only": 0.3}
INSTALMENTS = {"instalments": 0.3, "instalment_parts": (3, 3), "instalment_gap_days": (60, 100)}


@dataclass(frozen=True)
class Point:
    name: str
    what: str
    habits: dict[str, Any] = field(default_factory=dict)
    as_of: dt.date | None = None  # the generator's; None = its default
    check_as_of: str = "given"  # given | data | today (see the module docstring)
    data: str | None = None  # another point's data, read as it is
    reference: bool = False  # shown for comparison (a setting users opt into), not in the worst


POINTS = (
    Point("baseline", "the generator's own habits"),
    Point("ref-first-only", "later parts of splits name no deal", {"ref_first_only": True}),
    Point(
        "instalments",
        "30% of deals in 3 equal parts 60-100 days apart; later parts name no deal",
        {**INSTALMENTS, "ref_first_only": True},
    ),
    Point(
        "milestones",
        "30% of deals in 2-4 milestone parts (30/40/30, ...) 60-100 days apart",
        {**INSTALMENTS, "instalment_parts": (2, 4), "instalment_amounts": "milestones"},
    ),
    Point(
        "instalments-stop",
        "as instalments, named; a quarter of those with 2+ parts due stop paying",
        {**INSTALMENTS, "instalments_stopped": 0.25},
    ),
    Point(
        "wide-lags",
        "first order -3..90 days after close, 10% at 92..120",
        {"lag_scale": 2.0, "delayed": 0.1},
    ),
    Point("named-0.2", "20% of deal orders name their deal", {"deal_ref": 0.2}),
    Point("named-0.6", "60% of deal orders name their deal", {"deal_ref": 0.6}),
    Point(
        "go-live-none",
        "900 days of deals, ERP live 500 days; no orders for deals before it",
        {**GO_LIVE, "pre_go_live": "none"},
    ),
    Point(
        "go-live-window",
        "as go-live-none, but orders on or after go-live for deals before it",
        {**GO_LIVE, "pre_go_live": "window"},
    ),
    Point("repeat-1.5", "1.5 orders without a deal per ERP record", {"repeat_orders": 1.5}),
    Point(
        "export-2025",
        "exported 2025-06-30, analysed later; as-of read from the data",
        as_of=EXPORT_DAY,
        check_as_of="data",
    ),
    Point(
        "export-2025-today",
        "the export-2025 data with no as-of given to the check",
        as_of=EXPORT_DAY,
        check_as_of="today",
        data="export-2025",
        reference=True,
    ),
    Point(
        "independent-like",
        "go-live-none + instalments (first part named) + 30% named + exported 2025-06-30",
        {**GO_LIVE, "pre_go_live": "none", **INSTALMENTS, "ref_first_only": True, "deal_ref": 0.3},
        as_of=EXPORT_DAY,
        check_as_of="data",
    ),
)


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def ensure_data(point: Point, entities: int, seed: int) -> tuple[Path, float]:
    """The point's generated folder, made unless it holds these habits already; seconds taken."""
    from recon.sampledata import generate, write
    from recon.sampledata.generate import DEFAULT_AS_OF
    from recon.sampledata.habits import habits_of

    as_of = point.as_of or DEFAULT_AS_OF
    data = OUT / f"robust-{point.data or point.name}-{entities}-{seed}"
    habits = habits_of(point.habits)
    meta_file = data / "truth_meta.json"
    if meta_file.exists():
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        knobs = {k: v for k, v in meta.get("habits", {}).items() if k not in ("go_live", "counts")}
        same = (meta["entities"], meta["seed"], meta["as_of"]) == (entities, seed, str(as_of))
        if same and (knobs or None) == (None if habits.default else _json(asdict(habits))):
            return data, 0.0
        shutil.rmtree(data)
    t0 = time.perf_counter()
    write(generate(entities, seed, as_of=as_of, habits=habits), data)
    return data, time.perf_counter() - t0


def resolve_as_of(
    mode: str, inputs: dict, generated: dt.date, rules_as_of: dt.date | None
) -> tuple[dt.date | None, str]:
    """The as-of day to pass to the check, and where it came from."""
    if mode == "given":
        return generated, "the generator's (truth_meta.json)"
    if mode == "today":
        return None, "none given: the check's default (rules' as_of, else today)"
    try:
        from recon import asof
    except ImportError:
        return generated, "the generator's (truth_meta.json): recon.asof not found"
    tables, stages, today = inputs["tables"], inputs["won_stages"], dt.date.today()
    resolve = getattr(asof, "resolve_as_of", None)
    if resolve is not None:
        try:
            got = resolve(None, rules_as_of, tables, today, won_stages=stages)
            return got.day, f"recon.asof.resolve_as_of: {got.source}"
        except (TypeError, AttributeError) as exc:
            failed = f"resolve_as_of failed ({exc})"
    else:
        failed = "no resolve_as_of"
    end = getattr(asof, "data_end", None)
    if end is not None:
        try:
            day, what = end(tables, won_stages=stages, today=today)
            if day is not None:
                return day, f"recon.asof.data_end: {what} ({failed})"
        except (TypeError, ValueError) as exc:
            failed += f"; data_end failed ({exc})"
    return generated, f"the generator's (truth_meta.json): {failed}"


def score_point(point: Point, entities: int, seed: int) -> dict[str, Any]:
    from recon.checks.leakage import find_leakage
    from recon.config.leakage import load_leakage_rules

    data, gen_s = ensure_data(point, entities, seed)
    t0 = time.perf_counter()
    cache = OUT / f"robust-inputs-{point.data or point.name}-{entities}-{seed}.pkl"
    inputs = check_inputs(data, cache)
    match_s = time.perf_counter() - t0
    meta = json.loads((data / "truth_meta.json").read_text(encoding="utf-8"))
    rules = load_leakage_rules()
    generated = dt.date.fromisoformat(meta["as_of"])
    as_of, source = resolve_as_of(point.check_as_of, inputs, generated, rules.as_of)
    frames = check_frames(inputs)
    kw = check_kwargs(inputs, as_of)
    t0 = time.perf_counter()
    result = find_leakage(frames, rules, **kw)
    check_s = time.perf_counter() - t0

    used = result.as_of
    ids = won_in_scope(inputs["tables"]["crm_deals"], inputs["won_stages"], used)["deal_id"]
    ids = ids.to_numpy()
    truth = pd.read_csv(data / "truth_leakage.csv", dtype=str)
    true_kind, pred_kind = deal_kinds(ids, truth, result.findings)
    scores = {
        label: precision_recall(true_kind, pred_kind, kinds) for label, kinds in SCORED.items()
    }
    orders = pd.read_csv(data / "truth_orders.csv", dtype=str)
    t0 = time.perf_counter()
    ceiling = recall_ceiling(
        frames, rules, kw, ids, true_kind, orders.set_index("order_id")["deal_id"]
    )
    ceiling_s = time.perf_counter() - t0
    focus = set(SCORED["all three"])
    wrong = (true_kind != pred_kind) & (
        np.isin(true_kind, list(focus)) | np.isin(pred_kind, list(focus))
    )
    errors = Counter(f"{t} → {p}" for t, p in zip(true_kind[wrong], pred_kind[wrong], strict=True))
    return {
        "name": point.name,
        "reference": point.reference,
        "what": point.what,
        "habits": _json(point.habits),
        "data": str(data),
        "generated_as_of": meta["as_of"],
        "as_of": used.isoformat(),
        "as_of_source": source,
        "go_live": None if result.go_live is None else result.go_live.isoformat(),
        "go_live_source": result.go_live_source,
        "won_deals": len(ids),
        "scores": scores,
        "ceiling": {
            k: {"contradicted": c, "planted": n, "recall_at_most": (n - c) / n if n else 1.0}
            for k, (c, n) in ceiling.items()
        },
        "errors": dict(errors.most_common()),
        "findings": result.counts,
        "habit_counts": meta.get("habits", {}).get("counts", {}),
        "seconds": {
            "generate": gen_s,
            "load_match": match_s,
            "check": check_s,
            "ceiling": ceiling_s,
        },
    }


def _cell(s: dict[str, float | int]) -> str:
    return f"{s['precision']:.3f} {s['recall']:.3f}"


def print_table(rows: list[dict[str, Any]]) -> None:
    head = f"{'point':<18} {'as_of':<10}  " + "  ".join(f"{k:>15}" for k in SCORED)
    head += f"  {'ceil no_order':>13} {'ceil under':>10}"
    print(f"{'':<30}  " + "  ".join(f"{'P     R':>15}" for _ in SCORED))
    print(head)
    for r in rows:
        name = r["name"] + ("*" if r.get("reference") else "")
        line = f"{name:<18} {r['as_of']:<10}  "
        line += "  ".join(f"{_cell(r['scores'][k]):>15}" for k in SCORED)
        line += f"  {r['ceiling']['no_order']['recall_at_most']:>13.4f}"
        line += f" {r['ceiling']['under_billed']['recall_at_most']:>10.4f}"
        print(line)
    print("\nworst point per column (reference points, marked *, left out):")
    counted = [r for r in rows if not r.get("reference")] or rows
    for k in SCORED:
        for measure in ("precision", "recall"):
            worst = min(counted, key=lambda r, k=k, m=measure: r["scores"][k][m])
            s = worst["scores"][k]
            print(
                f"  {k:>15} {measure:<9} {s[measure]:.4f}  {worst['name']} "
                f"(predicted {s['predicted']}, planted {s['planted']})"
            )
    print("recall below the ceiling, worst point per kind:")
    for k in ("no_order", "under_billed"):

        def gap(r: dict[str, Any], k: str = k) -> float:
            return r["scores"][k]["recall"] - r["ceiling"][k]["recall_at_most"]

        worst = min(counted, key=gap)
        print(f"  {k:>15} {gap(worst):+.4f}  {worst['name']}")


def main(argv: list[str] | None = None) -> int:
    by_name = {p.name: p for p in POINTS}
    args, names = sweep_args(argv, __doc__, by_name)
    rows = []
    for name in names:
        point = by_name[name]
        if point.data and point.data not in names:  # its data comes from that point
            ensure_data(by_name[point.data], args.entities, args.seed)
        t0 = time.perf_counter()
        row = score_point(point, args.entities, args.seed)
        row["seconds"]["total"] = time.perf_counter() - t0
        rows.append(row)
        sec = row["seconds"]
        print(
            f"{name}: as of {row['as_of']} — {row['as_of_source']}; go-live {row['go_live']} "
            f"({row['go_live_source']}); {sec['total']:.0f} s (generate {sec['generate']:.0f}, "
            f"load+match {sec['load_match']:.0f}, check {sec['check']:.1f}, ceiling "
            f"{sec['ceiling']:.1f})",
            flush=True,
        )
    print()
    print_table(rows)
    print("\ncommonest errors (truth → reported: deals):")
    for r in rows:
        top = ", ".join(f"{k} {n}" for k, n in list(r["errors"].items())[:4])
        print(f"  {r['name']:<18} {top}")
    out = OUT / f"robustness-{args.entities}.json"
    write_points(out, args.entities, args.seed, rows, by_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
