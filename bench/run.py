"""Benchmark: speed and memory of each stage on generated data, and accuracy against ground truth.

    python bench/run.py --entities 100000 --seed 1
    python bench/run.py --entities 1000000 --stages generate,load
    python bench/run.py --entities 100000 --stages leakage   (leakage time and precision/recall)

Figures are printed and written to bench/out/results-<entities>.json. Each stage runs in its own
process so its peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage_generate(entities: int, seed: int, data: Path) -> dict[str, Any]:
    from recon.sampledata import generate, write

    t0 = time.perf_counter()
    sample = generate(entities, seed)
    t1 = time.perf_counter()
    write(sample, data)
    t2 = time.perf_counter()
    rows = {name: len(frame) for name, frame in sample.tables.items()}
    return {"generate_s": t1 - t0, "write_s": t2 - t1, "rows": rows}


def stage_load(entities: int, seed: int, data: Path) -> dict[str, Any]:
    from recon.config.load import folder_config
    from recon.extract.load import load_all

    t0 = time.perf_counter()
    result = load_all(folder_config(data))
    seconds = time.perf_counter() - t0
    rows_read = sum(t.rows_read for t in result.tables.values())
    summary = result.summary()[["table", "rows_read", "rows_kept", "rows_quarantined"]]
    return {
        "load_s": seconds,
        "rows_read": rows_read,
        "rows_per_s": rows_read / seconds if seconds else None,
        "tables": summary.to_dict(orient="records"),
    }


def stage_match(entities: int, seed: int, data: Path) -> dict[str, Any]:
    import pandas as pd

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from accuracy import blocking_recall, entity_scores

    from recon.config.load import folder_config
    from recon.extract.load import load_all
    from recon.pipeline import match

    loaded = load_all(folder_config(data))
    t0 = time.perf_counter()
    result = match(loaded)
    seconds = time.perf_counter() - t0
    truth = pd.read_csv(data / "truth_entities.csv", dtype=str)
    predicted = pd.DataFrame(
        {
            "system": result.records["system"].astype(str),
            "record_id": result.records["record_id"].astype(str),
            "entity": result.entity.to_numpy(),
        }
    )
    scores = entity_scores(predicted, truth)
    pairs = result.scored[["left", "right"]]
    return {
        "match_s": seconds,
        "records": len(result.records),
        "timings_s": result.timings,
        "candidates": result.candidates,
        "candidates_per_record": result.candidates / max(len(result.records), 1),
        "candidates_by_pass": result.pass_counts,
        "blocking_recall": blocking_recall(pairs, result.records, truth),
        "cross": scores["cross"].__dict__,
        "duplicates": scores["duplicates"].__dict__,
        "counts": result.counts(),
    }


def stage_leakage(entities: int, seed: int, data: Path) -> dict[str, Any]:
    import datetime as dt

    import pandas as pd

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from accuracy import leakage_scores, matcher_affected_deals

    from recon.config.leakage import load_leakage_rules
    from recon.config.load import folder_config
    from recon.extract.load import load_all
    from recon.pipeline import leakage, match

    loaded = load_all(folder_config(data))
    matched = match(loaded)
    as_of = dt.date.fromisoformat(json.loads((data / "truth_meta.json").read_text())["as_of"])
    t0 = time.perf_counter()
    result = leakage(loaded, matched, load_leakage_rules(), as_of)
    seconds = time.perf_counter() - t0
    truth = pd.read_csv(data / "truth_leakage.csv", dtype=str)
    kinds = ("no_order", "under_billed", "pending", "no_erp_customer")
    # the same scores on the deals the matcher got right: what the leakage check itself decides
    affected = matcher_affected_deals(
        loaded.frame("crm_deals"),
        loaded.frame("erp_orders"),
        matched.xref,
        pd.read_csv(data / "truth_entities.csv", dtype=str),
        pd.read_csv(data / "truth_orders.csv", dtype=str),
    )
    findings = result.findings
    clean = findings.loc[~findings["deal_id"].astype(str).isin(affected)]
    return {
        "leakage_s": seconds,
        "findings": result.counts,
        "accuracy": leakage_scores(findings, truth, kinds),
        "matcher_affected_deals": len(affected),
        "accuracy_given_matcher": leakage_scores(
            clean, truth.loc[~truth["deal_id"].isin(affected)], kinds
        ),
    }


STAGES = {
    "generate": stage_generate,
    "load": stage_load,
    "match": stage_match,
    "leakage": stage_leakage,
}


def _child(stage: str, entities: int, seed: int, data: Path, queue: Any) -> None:
    try:
        figures = STAGES[stage](entities, seed, data)
        figures["peak_rss_mb"] = _peak_mb()
        queue.put(figures)
    except Exception as exc:  # report, do not hang the parent
        queue.put({"error": repr(exc)})


def run_stage(stage: str, entities: int, seed: int, data: Path) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(stage, entities, seed, data, queue))
    proc.start()
    figures = queue.get()
    proc.join()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--data", type=Path, help="data folder (default bench/out/data-N-seed)")
    args = parser.parse_args(argv)
    data = args.data or OUT / f"data-{args.entities}-{args.seed}"
    results: dict[str, Any] = {"entities": args.entities, "seed": args.seed}
    for stage in args.stages.split(","):
        if stage not in STAGES:
            parser.error(f"unknown stage {stage}; stages: {', '.join(STAGES)}")
        figures = run_stage(stage, args.entities, args.seed, data)
        results[stage] = figures
        print(f"{stage}: {json.dumps(figures, default=str)}", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"results-{args.entities}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
