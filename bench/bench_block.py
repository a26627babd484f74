"""Blocking on generated data: candidates per pass, pair recall, time and memory.

    python bench/bench_block.py --entities 100000 --seed 1
    python bench/bench_block.py --entities 1000000 --repeat 3 --minhash

The records frame (generated, written as CSV, loaded and normalized as a real run would) is cached
in bench/out/block-records-<entities>-<seed>.parquet with its ground truth, because normalizing a
million entities takes about a minute; ``--fresh`` builds it again.

Recall is the share of true pairs (two records of one truth entity, within or across systems)
that blocking proposed, overall, cross-system (CRM ↔ ERP) and within-system (duplicates). Time is
the best of ``--repeat`` runs (wall and CPU, CPU counting both threads); memory is the peak
traced by tracemalloc during one more run (numpy arrays and Python objects; Arrow buffers are not
traced) and the growth of the process's peak RSS.
"""

from __future__ import annotations

import argparse
import logging
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from recon.config.blocking import load_blocking_rules
from recon.match.block import PASSES, candidate_pairs, pass_counts

OUT = Path(__file__).resolve().parent / "out"


def build(entities: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generate, write and load the sample as a real run would, then build the records frame."""
    from recon.config.load import folder_config
    from recon.extract.load import load_table
    from recon.match.records import build_records
    from recon.sampledata import generate, write

    started = time.perf_counter()
    sample = generate(entities, seed)
    folder = Path(tempfile.mkdtemp(prefix="bench-block-"))
    try:
        write(sample, folder)
        inputs = folder_config(folder)
        crm, erp = (
            load_table(name, inputs.config.tables[name], inputs).frame
            for name in ("crm_companies", "erp_customers")
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    records = build_records(crm, erp)
    print(f"built {len(records):,} records in {time.perf_counter() - started:.1f}s", flush=True)
    return records, sample.truth_entities


def cached(entities: int, seed: int, fresh: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    records_path = OUT / f"block-records-{entities}-{seed}.parquet"
    truth_path = OUT / f"block-truth-{entities}-{seed}.parquet"
    if fresh or not (records_path.exists() and truth_path.exists()):
        records, truth = build(entities, seed)
        OUT.mkdir(parents=True, exist_ok=True)
        records.to_parquet(records_path)
        truth.to_parquet(truth_path)
    return pd.read_parquet(records_path), pd.read_parquet(truth_path)


def true_pairs(records: pd.DataFrame, truth: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(sorted codes ``left * n + right`` of the true pairs, whether each is cross-system)."""
    n = len(records)
    key = records["system"].astype(str) + ":" + records["record_id"].astype(str)
    position = pd.Series(np.arange(n), index=key.to_numpy())
    truth_key = truth["system"].astype(str) + ":" + truth["record_id"].astype(str)
    present = truth_key.isin(position.index).to_numpy()
    found = pd.DataFrame(
        {
            "entity": truth["entity_id"].to_numpy()[present],
            "p": position[truth_key[present].to_numpy()].to_numpy(),
        }
    )
    pairs = found.merge(found, on="entity")
    pairs = pairs[pairs["p_x"] < pairs["p_y"]]
    left, right = pairs["p_x"].to_numpy(), pairs["p_y"].to_numpy()
    system = records["system"].astype(str).to_numpy()
    codes = left * n + right
    order = np.argsort(codes)
    return codes[order], (system[left] != system[right])[order]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="timed runs; the best is shown")
    parser.add_argument("--rules", type=Path, help="rules folder (default: the bundled rules)")
    parser.add_argument("--minhash", action="store_true", help="switch the MinHash LSH on")
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached records")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(format="%(relativeCreated)7.0f ms  %(message)s")
    levels = {0: logging.WARNING, 1: logging.INFO}
    logging.getLogger("recon").setLevel(levels.get(args.verbose, logging.DEBUG))

    records, truth = cached(args.entities, args.seed, args.fresh)
    rules = load_blocking_rules(args.rules)
    if args.minhash:
        fuzzy = rules.fuzzy.model_copy(
            update={"minhash": rules.fuzzy.minhash.model_copy(update={"enabled": True})}
        )
        rules = rules.model_copy(update={"fuzzy": fuzzy})
    n = len(records)
    print(f"{args.entities:,} entities, seed {args.seed}: {n:,} records", flush=True)

    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    walls, cpus = [], []
    pairs = pd.DataFrame()
    for _ in range(max(args.repeat, 1)):
        wall, cpu = time.perf_counter(), time.process_time()
        pairs = candidate_pairs(records, rules)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)

    tracemalloc.start()
    candidate_pairs(records, rules)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    codes = pairs["left"].to_numpy() * n + pairs["right"].to_numpy()
    truth_codes, cross = true_pairs(records, truth)
    hit = np.isin(truth_codes, codes, assume_unique=True)
    bits = pairs["passes"].to_numpy()
    found_by = np.zeros(len(truth_codes), dtype=np.int16)
    found_by[hit] = bits[np.searchsorted(codes, truth_codes[hit])]

    print(
        f"{'pass':16s} {'candidates':>12s} {'per record':>10s} {'true pairs':>10s} {'only it':>8s}"
    )
    for name, count in pass_counts(pairs).items():
        bit = PASSES[name]
        share = ((found_by & bit) != 0).mean() if len(found_by) else 0.0
        only = int((found_by == bit).sum())
        print(f"{name:16s} {count:12,d} {count / n:10.2f} {share:10.2%} {only:8,d}")
    print(f"{'total':16s} {len(pairs):12,d} {len(pairs) / n:10.2f}")
    print(
        f"recall {hit.mean():.4%} (cross-system {hit[cross].mean():.4%} of {int(cross.sum()):,}, "
        f"within-system {hit[~cross].mean():.4%} of {int((~cross).sum()):,}); "
        f"{int((~hit).sum()):,} true pairs missed"
    )
    print(
        f"time {min(walls):.2f}s wall, {min(cpus):.2f}s CPU (best of {len(walls)}; "
        f"all: {', '.join(f'{w:.2f}' for w in walls)})"
    )
    print(
        f"memory: traced peak {traced_peak / 2**20:,.0f} MB; "
        f"peak RSS {rss_after:,.0f} MB (+{rss_after - rss_loaded:,.0f} MB over the loaded records)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
