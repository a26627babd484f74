"""The summary printed at the end of a command: a table on a terminal, plain lines elsewhere."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from recon.models import LoadResult


def print_load_summary(result: LoadResult, out_dir: Path, *, color: bool) -> None:
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
    console.print(f"outputs written to {out_dir}")
