"""The summary printed at the end of a command: a table on a terminal, plain lines elsewhere."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from recon.models import LoadResult, MatchResult


def print_load_summary(
    result: LoadResult, out_dir: Path, *, color: bool, footer: bool = True
) -> None:
    console = Console(no_color=not color, highlight=False, soft_wrap=True)
    summary = result.summary()
    table = Table(title="Load summary", show_lines=False)
    for col, justify in (
        ("table", "left"),
        ("rows read", "right"),
        ("kept", "right"),
        ("quarantined", "right"),
        ("reasons", "left"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for row in summary.itertuples():
        table.add_row(
            str(row.table),
            f"{row.rows_read:,}",
            f"{row.rows_kept:,}",
            f"{row.rows_quarantined:,}",
            str(row.quarantine_reasons),
        )
    console.print(table)
    for row in summary.itertuples():
        if row.skipped_features:
            console.print(
                f"{row.table}: skipped (missing optional columns) — {row.skipped_features}"
            )
        if row.notes:
            console.print(f"{row.table}: {row.notes}")
    for note in result.notes:
        console.print(f"note: {note}")
    if footer:
        console.print(f"outputs written to {out_dir}")


def print_match_summary(result: MatchResult, out_dir: Path, *, color: bool) -> None:
    console = Console(no_color=not color, highlight=False, soft_wrap=True)
    counts = result.counts()
    table = Table(title="Matching")
    table.add_column("", justify="left")
    table.add_column("count", justify="right")
    labels = {
        "crm_records": "CRM companies",
        "erp_records": "ERP customers",
        "candidate_pairs": "candidate pairs",
        "auto_links": "CRM–ERP links (auto)",
        "review_pairs": "pairs to review",
        "entities": "entities (xref ids)",
        "duplicate_records": "records in duplicate groups",
        "supported_claims": "existing cross-references supported",
        "suspect_claims": "existing cross-references suspect",
    }
    for key, label in labels.items():
        table.add_row(label, f"{counts[key]:,}")
    console.print(table)
    seconds = sum(result.timings.values())
    console.print(f"matched in {seconds:.1f} s; outputs written to {out_dir}")
