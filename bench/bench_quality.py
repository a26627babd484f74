"""Time the quality stage (record and deal checks, field drift) on generated data.

    python bench/bench_quality.py --entities 100000 --seed 1
    python bench/bench_quality.py --entities 1000000 --seed 1

Uses the data folder bench/run.py uses (bench/out/data-N-S, generated when missing, or --data),
loads and matches it as ``recon quality`` does, then times ``pipeline.quality`` alone: what the
stage adds to a run. Prints the seconds (wall and CPU), the findings by severity and rule, and
writes bench/out/quality-N.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def _data(entities: int, seed: int, folder: Path | None) -> Path:
    data = folder or OUT / f"data-{entities}-{seed}"
    if not (data / "crm_companies.csv").is_file():
        from recon.sampledata import generate, write

        print(f"generating {entities:,} entities into {data}")
        write(generate(entities, seed), data)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, help="data folder (default bench/out/data-N-seed)")
    parser.add_argument("--as-of", default="2026-10-31")
    args = parser.parse_args(argv)

    from recon.config.load import folder_config
    from recon.config.quality import load_quality_rules
    from recon.extract.load import load_all
    from recon.pipeline import match, quality

    data = _data(args.entities, args.seed, args.data)
    t0 = time.perf_counter()
    loaded = load_all(folder_config(data))
    t1 = time.perf_counter()
    matched = match(loaded)
    t2 = time.perf_counter()
    rules = load_quality_rules()
    wall, cpu = time.perf_counter(), time.process_time()
    result = quality(loaded, matched, rules, dt.date.fromisoformat(args.as_of))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu

    records = {t: len(loaded.frame(t)) for t in ("crm_companies", "erp_customers", "crm_deals")}
    by_rule = result.findings.groupby(["rule", "severity"]).size()
    figures = {
        "entities": args.entities,
        "records": records,
        "load_s": round(t1 - t0, 1),
        "match_s": round(t2 - t1, 1),
        "quality_s": round(wall, 2),
        "quality_cpu_s": round(cpu, 2),
        "quality_steps_s": result.timings,
        "findings": result.counts(),
        "by_rule": {f"{r} ({s})": int(n) for (r, s), n in by_rule.items()},
        "scores": result.scores.to_dict(orient="records"),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(
        f"{args.entities:,} entities ({sum(records.values()):,} records): quality {wall:.1f} s "
        f"wall, {cpu:.1f} s CPU; {len(result.findings):,} findings {result.counts()}"
    )
    print(f"(load {t1 - t0:.1f} s, match {t2 - t1:.1f} s, not part of the quality stage)")
    for name, n in figures["by_rule"].items():
        print(f"  {name:40} {n:>10,}")
    OUT.mkdir(exist_ok=True)
    path = OUT / f"quality-{args.entities}.json"
    path.write_text(json.dumps(figures, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
