"""Benchmark the sample-data generator: time generate() and write(), rows per second, peak memory.

    python bench/bench_sampledata.py --entities 1000000
    python bench/bench_sampledata.py --entities 100000 --out /tmp/sample --keep

Peak memory is the process's maximum resident set size (getrusage), which counts Arrow's buffers
as well as Python objects; Arrow's own peak is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", "-n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="folder to write (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the written files")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    from recon.sampledata import generate, write

    out = args.out or Path(tempfile.mkdtemp(prefix="recon-sample-"))
    start_mb = _peak_mb()
    t0 = time.perf_counter()
    data = generate(args.entities, args.seed)
    t1 = time.perf_counter()
    generate_peak = _peak_mb()
    paths = write(data, out)
    t2 = time.perf_counter()
    rows = {name: len(frame) for name, frame in data.tables.items()}
    total = sum(rows.values())
    figures = {
        "entities": args.entities,
        "seed": args.seed,
        "rows": rows,
        "rows_total": total,
        "generate_s": round(t1 - t0, 2),
        "write_s": round(t2 - t1, 2),
        "total_s": round(t2 - t0, 2),
        "rows_per_s": round(total / (t2 - t0)),
        "bytes_written": sum(p.stat().st_size for p in paths),
        "peak_rss_mb_after_import": round(start_mb),
        "peak_rss_mb_generate": round(generate_peak),
        "peak_rss_mb": round(_peak_mb()),
        "arrow_peak_mb": round(pa.default_memory_pool().max_memory() / 1e6),
    }
    if not args.keep and args.out is None:
        shutil.rmtree(out)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"entities        {args.entities:,} (seed {args.seed})")
        for name, n in rows.items():
            print(f"  {name:<14}{n:>12,} rows")
        print(f"generate        {figures['generate_s']:>8.1f} s")
        print(
            f"write           {figures['write_s']:>8.1f} s  ({figures['bytes_written'] / 1e6:,.0f} MB)"
        )
        print(f"total           {figures['total_s']:>8.1f} s  {figures['rows_per_s']:,} rows/s")
        print(
            f"peak memory     {figures['peak_rss_mb']:>8,} MB RSS  (Arrow {figures['arrow_peak_mb']:,} MB)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
