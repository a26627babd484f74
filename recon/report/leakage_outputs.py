"""Write the leakage check's files: leakage.csv, leakage_totals.csv and leakage_summary.json."""

from __future__ import annotations

import json
from pathlib import Path

from recon import __version__
from recon.checks.leakage import LeakageResult
from recon.checks.leakage.totals import totals_table
from recon.report.csvfiles import write_csv, write_table
from recon.report.options import TableFormat


def write_leakage_outputs(
    result: LeakageResult,
    out_dir: Path,
    new: int,
    *,
    as_of_source: str = "",
    table_format: TableFormat = "csv",
) -> list[Path]:
    """``table_format``: leakage.csv, leakage.parquet or both (the other files are CSV)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [
        *write_table(result.findings, out_dir / "leakage.csv", table_format),
        write_csv(totals_table(result.findings), out_dir / "leakage_totals.csv"),
        write_csv(result.evidence, out_dir / "leakage_evidence.csv"),
    ]
    evidence = result.evidence
    linked = evidence.loc[evidence["linked"]] if len(evidence) else evidence
    summary = {
        "recon_version": __version__,
        "as_of": result.as_of.isoformat(),
        "as_of_source": as_of_source,  # why that day (recon.asof): given, the rules, the data
        "base_currency": result.base_currency,
        "erp_go_live": result.go_live.isoformat() if result.go_live else None,
        "erp_go_live_source": result.go_live_source,
        "tax_readings": result.taxes,
        "over_billing": result.over_billing,
        # what was learned of the data's billing habits, and from how many deals
        "habits": result.habits,
        "order_evidence": {
            "candidates": len(evidence),
            "linked": len(linked),
            "crm_companies_linked": int(linked["company_id"].nunique()) if len(linked) else 0,
        },
        "findings_by_kind": result.counts,
        "new_leakage": new,
    }
    path = out_dir / "leakage_summary.json"
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    files.append(path)
    return files
