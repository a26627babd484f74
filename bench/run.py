"""Benchmark: speed and memory of each stage on generated data, and accuracy against ground truth.

    python bench/run.py --entities 100000 --seed 1
    python bench/run.py --entities 1000000 --stages generate,load
    python bench/run.py --entities 100000 --stages leakage   (leakage time and precision/recall)
    python bench/run.py --entities 1000000 --stages run      (whole commands, as a user runs them)

Figures are printed and written to bench/out/results-<entities>.json. Each stage runs in its own
process so its peak memory (max RSS) is its own. The ``run`` stage times whole commands as
processes (``recon load``, ``recon match``, ``recon run``: wall time, peak memory, the sizes of
what they write, and ``recon run``'s own step timings from run.json), then, when Splink is
installed (``pip install -e ".[bench]"``), Splink's whole process on the same data: reading the
CSV files and normalizing (recon's code, as bench/bench_splink.py's ``records`` step), then
training, linking and clustering (its ``splink`` step).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import shutil
import subprocess
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


def timed_command(args: list[str], out: Path | None = None) -> dict[str, Any]:
    """One command as its own process: wall seconds, peak memory (its max RSS), exit code, and
    the sizes of the files it wrote under ``out``."""
    if out is not None:
        shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    figures: dict[str, Any] = {
        "command": " ".join(args),
        "exit_code": os.waitstatus_to_exitcode(status),
        "wall_s": round(seconds, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    if figures["exit_code"]:
        figures["stderr"] = stderr[-2000:]
    if out is not None and out.exists():
        sizes = {
            str(f.relative_to(out)): f.stat().st_size for f in sorted(out.rglob("*")) if f.is_file()
        }
        figures["outputs_mb"] = {k: round(v / 2**20, 1) for k, v in sizes.items() if v > 2**20}
        figures["outputs_total_mb"] = round(sum(sizes.values()) / 2**20, 1)
        manifest = out / "run.json"
        if manifest.exists():
            figures["steps_s"] = json.loads(manifest.read_text(encoding="utf-8")).get("timings")
    return figures


def stage_run(entities: int, seed: int, data: Path) -> dict[str, Any]:
    """Whole commands as a user runs them, then Splink's whole process on the same data."""
    work = OUT / f"commands-{entities}-{seed}"
    recon = [sys.executable, "-m", "recon.cli"]
    figures: dict[str, Any] = {}
    for command in ("load", "match", "run"):
        out = work / command
        figures[command] = timed_command([*recon, command, str(data), "--out", str(out)], out)
        print(f"  {command}: {json.dumps(figures[command])}", flush=True)
    try:
        import splink  # noqa: F401
    except ImportError:
        figures["splink"] = {"skipped": "Splink is not installed (pip install -e '.[bench]')"}
        return figures
    script = Path(__file__).resolve().parent / "bench_splink.py"
    args = ["--entities", str(entities), "--seed", str(seed), "--data", str(data)]
    whole = timed_command([sys.executable, str(script), *args, "--steps", "splink", "--fresh"])
    steps = json.loads((OUT / f"splink-{entities}.json").read_text(encoding="utf-8"))
    records, linked = steps["records"], steps["splink"]
    # Splink's own work at one threshold (the bench clusters at three and scores each; those
    # extra clusterings and the scoring are not a user's), plus reading and normalizing.
    own = linked["splink_s"]["0.9"]
    figures["splink"] = {
        "processes_wall_s": whole["wall_s"],
        "read_normalize_s": round(records["load_s"] + records["normalize_s"], 1),
        "train_link_cluster_s": own,
        "whole_s": round(records["load_s"] + records["normalize_s"] + own, 1),
        "peak_rss_mb": round(max(records["peak_rss_mb"], linked["peak_before_scoring_mb"])),
    }
    return figures


STAGES = {
    "generate": stage_generate,
    "load": stage_load,
    "match": stage_match,
    "leakage": stage_leakage,
    "run": stage_run,
}
# Stages that start processes of their own, so they run in this one.
IN_PARENT = {"run"}


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
        if stage in IN_PARENT:
            figures = STAGES[stage](args.entities, args.seed, data)
        else:
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
