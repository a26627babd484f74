"""Benchmark month-end: time the links (leakage assignment) and the reconciliation on generated data.

    python bench/bench_monthend.py --entities 100000
    python bench/bench_monthend.py --data /tmp/me100k --from 2025-11 --to 2026-10
    python bench/bench_monthend.py --data /tmp/me100k --xref match   # run the matcher too

By default the entities come from truth_entities.csv, so the figure is month-end's own time and
not the matcher's (``xref_truth_s`` is the records' normalization, which month-end's deal–order
assignment reads); ``--xref match`` runs the whole pipeline stage by stage instead.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    from recon.checks.monthend import months_in
    from recon.config.load import folder_config
    from recon.extract.load import load_all
    from recon.pipeline import match, monthend
    from recon.sampledata import generate, write

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", "-n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=None, help="existing data folder to read")
    parser.add_argument("--from", dest="start", default="2025-11")
    parser.add_argument("--to", dest="end", default="2026-10")
    parser.add_argument("--xref", choices=("truth", "match"), default="truth")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    figures: dict[str, object] = {}
    folder = args.data
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="recon-monthend-"))
        t = time.perf_counter()
        write(generate(args.entities, args.seed), folder)
        figures["generate_s"] = round(time.perf_counter() - t, 2)
    months = months_in(start=args.start, end=args.end)

    t = time.perf_counter()
    loaded = load_all(folder_config(folder))
    figures["load_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    matched = match(loaded) if args.xref == "match" else _truth(loaded, folder)
    figures[f"xref_{args.xref}_s"] = round(time.perf_counter() - t, 2)

    t = time.perf_counter()
    result = monthend(loaded, matched, months)  # type: ignore[arg-type]  # _Xref stands in
    figures["monthend_s"] = round(time.perf_counter() - t, 2)  # links + reconciliation
    figures.update(
        {
            "data": str(folder),
            "months": len(months),
            "deals": len(loaded.frame("crm_deals")),  # type: ignore[arg-type]
            "orders": len(loaded.frame("erp_orders")),  # type: ignore[arg-type]
            "invoices": len(loaded.frame("erp_invoices")),  # type: ignore[arg-type]
            "difference_items": len(result.differences),
            "ties_out": bool(result.tie_out()["ties_out"].all()),
            "peak_rss_mb": round(_peak_mb()),
        }
    )
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:>18}: {value}")
    return 0


def _truth(loaded: object, folder: Path) -> _Xref:
    """The truth's entities as the cross-reference, with the records normalized as the matcher
    normalizes them."""
    from recon.match.records import build_records
    from recon.normalize import load_normalize_rules

    frame = loaded.frame  # type: ignore[attr-defined]
    records = build_records(
        frame("crm_companies"),
        frame("erp_customers"),
        crm_deals=frame("crm_deals"),
        erp_orders=frame("erp_orders"),
        rules=load_normalize_rules(),
    )
    truth = pd.read_csv(folder / "truth_entities.csv", dtype=str)
    return _Xref(truth.rename(columns={"entity_id": "xref_id"}), records)


class _Xref:
    """Stands in for a MatchResult: what month-end reads of one. The truth's entities as the
    ``xref``, the normalized ``records`` (countries for VAT, keys for the assignment) and no
    scored pairs, so an empty review list."""

    def __init__(self, xref: pd.DataFrame, records: pd.DataFrame) -> None:
        self.xref = xref
        self.records = records
        self.scored = pd.DataFrame(
            {
                "left": pd.Series(dtype="int64"),
                "right": pd.Series(dtype="int64"),
                "probability": pd.Series(dtype="float64"),
                "decision": pd.Series(dtype="string"),
                "reasons": pd.Series(dtype="string"),
            }
        )


if __name__ == "__main__":
    raise SystemExit(main())
