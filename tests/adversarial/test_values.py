"""Bad values that load cleanly: recon never crashes on them, never drops them in silence, and says
what it could not use.

One case per row of :data:`CASES`: how a clean generated export is spoiled, the command run, the
exit code it must give, and a fragment it must write — in its console output or in one of its
files. Every case is spoiled from the same generated folder, so the differences are the ones
written here.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from recon.cli import app
from recon.extract.review import REQUIRED
from recon.sampledata import generate, write

runner = CliRunner()
HUGE_NAME = 5_000_000  # characters: the 5 MB cell that once made compare take 39 s


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clean")
    write(generate(80, seed=7), folder)
    for truth in folder.glob("truth_*"):
        truth.unlink()
    return folder


def _table(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)


def _first_won(deals: pd.DataFrame) -> int:
    """The first won deal closed in 2026-10 (a month month-end is run for)."""
    won = deals.index[(deals["stage"] == "closedwon") & deals["close_date"].str.startswith("2026-")]
    return int(won[-1])


def _won_amount(amount: str) -> Callable[[Path], dict[str, str]]:
    """Give one won deal ``amount`` ("" for an empty cell); its month is the run's period."""

    def spoil(folder: Path) -> dict[str, str]:
        deals = _table(folder, "crm_deals")
        at = _first_won(deals)
        deals.loc[at, "amount"] = amount
        deals.to_csv(folder / "crm_deals.csv", index=False)
        return {"period": deals.loc[at, "close_date"][:7], "deal": deals.loc[at, "deal_id"]}

    return spoil


def _huge_name(folder: Path) -> dict[str, str]:
    companies = _table(folder, "crm_companies")
    companies.loc[0, "name"] = "Maju Jaya " + "x" * HUGE_NAME
    companies.to_csv(folder / "crm_companies.csv", index=False)
    return {}


def _formula_decision(folder: Path) -> dict[str, str]:
    """A review workbook a script wrote: the decision is a formula, its value never saved."""
    companies, customers = _table(folder, "crm_companies"), _table(folder, "erp_customers")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Review"
    sheet.append(list(REQUIRED))
    sheet.append(
        [
            "crm",
            companies.loc[0, "company_id"],
            companies.loc[0, "name"],
            "erp",
            customers.loc[0, "customer_id"],
            customers.loc[0, "name"],
            '=IF(1,"match","")',
            "ana",
        ]
    )
    path = folder.parent / f"{folder.name}-reviewed.xlsx"
    book.save(path)
    return {"workbook": str(path)}


@dataclass(frozen=True)
class Case:
    name: str
    spoil: Callable[[Path], dict[str, str]]  # edits the folder; returns values for ``args``
    args: tuple[str, ...]  # {data}, {out} and what ``spoil`` returned are filled in
    exit_code: int
    where: str  # "output" (console) or a file in {out}
    fragment: str  # {…} filled in as in ``args``


CASES = [
    Case(
        "formula decision with no saved value",
        _formula_decision,
        ("review", "apply", "{workbook}", "{data}", "--state", "{out}/state"),
        2,
        "output",
        "sheet Review, row 2, column decision: decision is a formula with no saved value: open "
        "and save the file in Excel or LibreOffice, or type the decision",
    ),
    Case(
        "negative won deal: quality",
        _won_amount("-1500.00"),
        ("quality", "{data}", "--out", "{out}"),
        0,
        "quality.csv",
        "won_deal_negative,amount,'-1500.00,\"an amount above zero",
    ),
    Case(
        "negative won deal: leakage",
        _won_amount("-1500.00"),
        ("leakage", "{data}", "--out", "{out}"),
        1,  # the data has leakage findings, as generated
        "output",
        "won deals left out: 1 with a negative amount: not compared to orders",
    ),
    Case(
        "won deal without amount: quality",
        _won_amount(""),
        ("quality", "{data}", "--out", "{out}"),
        0,
        "quality.csv",
        "won_deal_amount,amount,,an amount above zero,,error,won deal without amount",
    ),
    Case(
        "won deal without amount: leakage",
        _won_amount(""),
        ("leakage", "{data}", "--out", "{out}"),
        1,  # the data has leakage findings, as generated
        "output",
        "won deals left out: 1 without an amount: not compared to orders",
    ),
    Case(
        "won deal without amount: month-end",
        _won_amount(""),
        ("monthend", "{data}", "--out", "{out}", "--period", "{period}"),
        0,
        "monthend_differences.csv",
        "won→ordered,amount_unknown,{deal},",
    ),
    Case(
        "won deal without amount: month-end says so",
        _won_amount(""),
        ("monthend", "{data}", "--out", "{out}", "--period", "{period}"),
        0,
        "output",
        "1 won deal(s) have no amount in the CRM",
    ),
    Case(
        "5 MB company name",
        _huge_name,
        ("quality", "{data}", "--out", "{out}"),
        0,
        "quality.csv",
        "value_too_long,name,Maju Jaya xxx",
    ),
]


def minimal_csv(path: Path) -> str:
    """The file's rows written again with quotes only where needed, so a fragment reads the same
    however the writer quotes."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    return text.getvalue()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_value(case: Case, clean: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(clean, data)
    values = {"data": str(data), "out": str(tmp_path / "out"), **case.spoil(data)}
    result = runner.invoke(app, [a.format(**values) for a in case.args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    assert result.exit_code == case.exit_code, result.output
    if case.where == "output":
        text = " ".join(result.output.split())  # rich wraps long lines
    else:
        text = minimal_csv(tmp_path / "out" / case.where)
    assert case.fragment.format(**values) in text
