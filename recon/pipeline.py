"""The only module that orders the stages: extract, then (in later stages) match, checks, report."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from recon import __version__
from recon.config.load import Inputs
from recon.extract.load import Progress, load_all
from recon.models import LoadResult
from recon.report.csvfiles import write_csv

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadRun:
    result: LoadResult
    out_dir: Path
    files: tuple[Path, ...]
    seconds: float


def run_load(inputs: Inputs, out_dir: Path, progress: Progress | None = None) -> LoadRun:
    """Extract and validate every table; write the canonical tables, quarantine and summary."""
    started = time.perf_counter()
    result = load_all(inputs, progress)
    files = write_load_outputs(result, out_dir)
    seconds = time.perf_counter() - started
    log.info("load finished in %.1f s", seconds)
    return LoadRun(result, out_dir, tuple(files), seconds)


def write_load_outputs(result: LoadResult, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [
        write_csv(t.frame, out_dir / "canonical" / f"{name}.csv")
        for name, t in result.tables.items()
    ]
    files.append(write_csv(result.quarantine, out_dir / "quarantine.csv"))
    summary = result.summary()
    files.append(write_csv(summary, out_dir / "load_summary.csv"))
    payload = {
        "recon_version": __version__,
        "base_currency": result.base_currency,
        "won_stages": list(result.won_stages),
        "tables": summary.to_dict(orient="records"),
        "notes": list(result.notes),
    }
    path = out_dir / "load_summary.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    files.append(path)
    return files
