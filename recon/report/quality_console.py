"""The quality summary printed at the end of ``recon quality``: findings by severity, scores."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from recon.checks.quality import SEVERITIES, QualityResult


def print_quality_summary(result: QualityResult, out_dir: Path, *, color: bool) -> None:
    console = Console(no_color=not color, highlight=False, soft_wrap=True)
    table = Table(title=f"Data quality (as of {result.as_of:%Y-%m-%d})")
    table.add_column("table", justify="left")
    table.add_column("records", justify="right")
    for severity in SEVERITIES:
        table.add_column(severity, justify="right")
    table.add_column("score", justify="right")
    counts = result.by_rule.groupby(["system", "table", "severity"])["findings"].sum()
    for row in result.scores.itertuples():
        found = [int(counts.get((row.system, row.table, s), 0)) for s in SEVERITIES]
        table.add_row(
            str(row.table),
            f"{row.records:,}",
            *(f"{n:,}" for n in found),
            f"{row.score:.1%}",
        )
    console.print(table)
    console.print(f"score: {result.score_basis}")
    for note in result.notes:
        console.print(f"note: {note}")
    console.print(f"quality findings written to {out_dir / 'quality.csv'}")
