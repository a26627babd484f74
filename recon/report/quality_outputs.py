"""Write the quality stage's files: every finding, and the counts and scores."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from recon.checks.quality import QualityResult
from recon.report.csvfiles import write_csv, write_table
from recon.report.options import TableFormat


def summary_table(result: QualityResult) -> pd.DataFrame:
    """Counts by rule and severity, then one score row per system and table (``section``)."""
    rules = result.by_rule.assign(section="by rule", score=pd.NA)
    scores = result.scores.rename(columns={"records_with_errors": "records_flagged"}).assign(
        section="score", rule=pd.NA, severity="error"
    )
    columns = [
        "section",
        "system",
        "table",
        "rule",
        "severity",
        "findings",
        "records",
        "records_flagged",
        "score",
    ]
    return pd.concat([rules[columns], scores[columns]], ignore_index=True)


def write_quality_outputs(
    result: QualityResult, out_dir: Path, table_format: TableFormat = "csv"
) -> list[Path]:
    """``table_format``: quality.csv, quality.parquet or both (the summaries are CSV and JSON)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [
        *write_table(result.findings, out_dir / "quality.csv", table_format),
        write_csv(summary_table(result), out_dir / "quality_summary.csv"),
    ]
    payload = {
        "as_of": result.as_of.isoformat(),
        "counts": result.counts(),
        "score": result.score_basis,
        "scores": result.scores.to_dict(orient="records"),
        "notes": list(result.notes),
        "timings_s": result.timings,
    }
    path = out_dir / "quality_summary.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    files.append(path)
    return files
