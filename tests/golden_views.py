"""What the golden run pins, read from a ``recon run`` output folder: the parts that must not change
when code is only made faster or reorganised."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

LEAKAGE = ["finding_id", "deal_id", "kind", "order_ids", "deal_amount_base", "order_total_base"]
DIFFERENCES = ["month", "step", "kind", "deal_id", "order_id", "invoice_id", "amount_base"]


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns), ignore_index=True)


def _money(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.replace("", "0")).round(2).map("{:.2f}".format)


def views(out: Path) -> dict[str, pd.DataFrame]:
    """Cross-reference ids, leakage findings (orphan orders as totals per ERP-only entity, the
    grain they are reported at since issue 17) and month-end totals and differences."""
    xref = _read(out / "xref.csv")[["system", "record_id", "xref_id"]]
    leakage = _read(out / "leakage.csv")
    orphan = leakage["kind"] == "orphan_order"
    findings = leakage.loc[~orphan, LEAKAGE].copy()
    for column in ("deal_amount_base", "order_total_base"):
        findings[column] = _money(findings[column])
    orphans = leakage.loc[orphan].assign(total=pd.to_numeric(leakage["order_total_base"]))
    orphans = orphans.groupby("xref_id", as_index=False)["total"].sum()
    orphans["total"] = orphans["total"].round(2).map("{:.2f}".format)
    summary = _read(out / "monthend_summary.csv")
    for column in summary.columns.drop(["month", "fx_missing"]):
        summary[column] = _money(summary[column])
    differences = _read(out / "monthend_differences.csv")[DIFFERENCES].copy()
    differences["amount_base"] = _money(differences["amount_base"])
    return {
        "xref": _sorted(xref),
        "leakage": _sorted(findings),
        "orphan_totals": _sorted(orphans),
        "monthend_summary": _sorted(summary),
        "monthend_differences": _sorted(differences),
    }


if __name__ == "__main__":  # regenerate: python tests/golden_views.py OUT_FOLDER GOLDEN_FOLDER
    import sys

    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    target.mkdir(parents=True, exist_ok=True)
    for name, frame in views(source).items():
        frame.to_csv(target / f"{name}.csv", index=False, lineterminator="\n")
