"""The as-of day taken from the data (issue 14): without --as-of every command counts from the
data's own end when it is earlier than today, says so in one line, run.json and
leakage_summary.json record why, `--as-of today` forces today, and a bad day is exit code 2.

The data is generated with its history ending mid-month (GENERATED_END), so the month-end default
must stop at the month before; open deals carry expected close dates after it (some before today),
which must not count as the data's end.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from recon.cli import app
from recon.config.leakage import load_leakage_rules
from recon.sampledata import generate, write

runner = CliRunner()
GENERATED_END = dt.date(2026, 8, 15)  # the generated history's last day (mid-month)
DATA_LINE = "the data's own end"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("asof-data")
    write(generate(80, seed=7, as_of=GENERATED_END), folder)
    return folder


def canonical(out: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(out / "canonical" / f"{table}.csv", dtype=str, keep_default_na=False)


def expected_end(out: Path, today: dt.date) -> dt.date:
    """The data's end read from the canonical tables a run wrote: the latest order, invoice or won
    or lost deal on or before today."""
    rules = load_leakage_rules()
    load = json.loads((out / "load_summary.json").read_text(encoding="utf-8"))
    closed = {s.casefold() for s in (*load["won_stages"], *rules.lost_stages)}
    deals = canonical(out, "crm_deals")
    dates = [
        canonical(out, "erp_orders")["order_date"],
        canonical(out, "erp_invoices")["invoice_date"],
        deals.loc[deals["stage"].str.strip().str.casefold().isin(closed), "close_date"],
    ]
    stamps = pd.to_datetime(pd.concat(dates), errors="coerce").dropna()
    return max(d.date() for d in stamps if d.date() <= today)


def json_file(out: Path, name: str) -> dict[str, Any]:
    return json.loads((out / name).read_text(encoding="utf-8"))


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def test_run_counts_from_the_data_end_and_says_so(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    today = dt.date.today()
    result = invoke("run", str(data), "--out", str(out), "--state", str(tmp_path / "state"))
    assert result.exit_code == 0, result.output

    end = expected_end(out, today)
    assert end <= GENERATED_END < today  # open deals' later close dates did not count
    manifest = json_file(out, "run.json")
    assert manifest["as_of"] == end.isoformat()
    source = manifest["as_of_source"]
    assert source.startswith(f"{DATA_LINE} (latest ") and f"today is {today.isoformat()}" in source
    assert f"as of {end.isoformat()}, {source}" in result.output.splitlines()
    assert json_file(out, "leakage_summary.json")["as_of_source"] == source
    assert json_file(out, "leakage_summary.json")["as_of"] == end.isoformat()
    assert json_file(out, "quality_summary.json")["as_of"] == end.isoformat()
    assert f"leakage as of {end.isoformat()}:" in result.output
    assert f"As of {end.isoformat()}" in (out / "report.html").read_text(encoding="utf-8")

    # Month-end: the twelve complete months up to the data's end, not up to today.
    last = pd.Period(end + dt.timedelta(days=1), freq="M") - 1
    months = manifest["counts"]["monthend"]["months"]
    assert months == [str(p) for p in pd.period_range(last - 11, last, freq="M")]
    assert months[-1] < GENERATED_END.strftime("%Y-%m")  # 2026-08 is not complete in the data


def test_as_of_today_forces_today(data: Path, tmp_path: Path) -> None:
    today = dt.date.today().isoformat()
    out = tmp_path / "q"
    result = invoke("quality", str(data), "--out", str(out), "--as-of", "today")
    assert result.exit_code == 0, result.output
    assert f"Data quality (as of {today})" in result.output
    assert DATA_LINE not in result.output
    assert json_file(out, "quality_summary.json")["as_of"] == today

    leak = tmp_path / "l"
    result = invoke("leakage", str(data), "--out", str(leak), "--as-of", "TODAY", "--store",
                    f"sqlite:///{tmp_path / 'l.sqlite'}")  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    assert f"leakage as of {today}:" in result.output and DATA_LINE not in result.output
    summary = json_file(leak, "leakage_summary.json")
    assert (summary["as_of"], summary["as_of_source"]) == (today, "today, as --as-of today asks")
    manifest = json_file(leak, "run.json")
    assert (manifest["as_of"], manifest["as_of_source"]) == (today, summary["as_of_source"])


def test_quality_and_leakage_default_to_the_data_end(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "q"
    result = invoke("quality", str(data), "--out", str(out))
    assert result.exit_code == 0, result.output
    end = expected_end(out, dt.date.today())
    assert f"Data quality (as of {end.isoformat()})" in result.output
    assert sum(line.startswith(f"as of {end.isoformat()}, {DATA_LINE}")
               for line in result.output.splitlines()) == 1  # fmt: skip

    # --since counts back from the as-of day, here the data's end.
    leak = tmp_path / "l"
    result = invoke("leakage", str(data), "--out", str(leak), "--since", "2w")
    assert result.exit_code in (0, 1), result.output
    assert f"as of {end.isoformat()}, {DATA_LINE}" in result.output
    assert f"new leakage since {(end - dt.timedelta(days=14)).isoformat()}:" in result.output
    assert json_file(leak, "leakage_summary.json")["as_of"] == end.isoformat()

    # A given day is taken as it is, without the data line; --to is the default --as-of.
    given = tmp_path / "g"
    result = invoke("leakage", str(data), "--out", str(given), "--from", "2026-06-01",
                    "--to", "2026-06-30")  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    assert "leakage as of 2026-06-30:" in result.output and DATA_LINE not in result.output
    assert json_file(given, "run.json")["as_of_source"] == "given with --as-of"


@pytest.mark.parametrize(
    ("command", "value", "message"),
    [
        ("run", "2300-01-01", "error: --as-of is '2300-01-01' — after 2262-04-11"),
        ("run", "31/12/2025", "error: --as-of is '31/12/2025' — expected a date such as 2026-10-31, or today"),
        ("leakage", "2300-01-01", "error: --as-of is '2300-01-01' — after 2262-04-11"),
        ("leakage", "31/12/2025", "error: --as-of is '31/12/2025' — expected a date"),
        ("quality", "2300-01-01", "error: --as-of is '2300-01-01' — after 2262-04-11"),
        ("quality", "31/12/2025", "error: --as-of is '31/12/2025' — expected a date"),
        ("sample-data", "2300-01-01", "error: --as-of is '2300-01-01' — after 2262-04-11"),
    ],
)  # fmt: skip
def test_a_bad_as_of_is_one_line_and_exit_code_2(
    data: Path, tmp_path: Path, command: str, value: str, message: str
) -> None:
    out = tmp_path / "out"
    source = [] if command == "sample-data" else [str(data)]
    result = invoke(command, *source, "--out", str(out), "--as-of", value)
    assert result.exit_code == 2
    assert result.output.startswith(message)
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert not out.exists()


def test_rerun_reuses_the_as_of_taken_from_the_data(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["run", str(data), "--out", str(out), "--state", str(tmp_path / "s"), "--period"]
    result = invoke(*args, "2026-07")
    assert result.exit_code == 0, result.output
    first = json_file(out, "run.json")
    assert first["as_of_source"].startswith(DATA_LINE)

    again = tmp_path / "again"
    result = invoke("rerun", str(out / "run.json"), "--out", str(again))
    assert result.exit_code == 0, result.output
    second = json_file(again, "run.json")
    assert second["as_of"] == first["as_of"]
    assert second["months"] == first["months"] == ["2026-07"]
