"""Outputs and delivery that fail: no alert lost, one `error:` line, the right exit code.

The weekly leakage run records its findings in the state store before it writes its outputs. A
run whose outputs could not be written (a full disk) or whose report could not be delivered (the
SMTP server down) is recorded so, and the findings it first saw are new again in the next run,
which therefore still exits 1 and alerts. Ordinary bad options and paths are one `error:` line
with exit code 2; a failure of the outputs or the delivery is exit code 3.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from recon.cli import CRASHED, handles_errors
from recon.cli import app as recon_app
from recon.sampledata import generate, write
from recon.state.store import Store

runner = CliRunner()
AS_OF = "2026-10-31"  # the generated data's last day
NEW_DEAL = "29999999901"  # a won deal with no ERP order, added after the first two runs


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two exports of one business: ``before``, and ``after`` with one more won deal, unbilled."""
    root = tmp_path_factory.mktemp("exports")
    before, after = root / "before", root / "after"
    write(generate(60, seed=5), before)
    write(generate(60, seed=5), after)
    deals = pd.read_csv(after / "crm_deals.csv", dtype=str, keep_default_na=False)
    deal = deals[deals["stage"] == "closedwon"].iloc[0].copy()
    deal[["deal_id", "amount", "close_date", "deal_name"]] = [
        NEW_DEAL, "43210.00", "2026-09-15", "New logo, never billed",
    ]  # fmt: skip
    pd.concat([deals, deal.to_frame().T]).to_csv(after / "crm_deals.csv", index=False)
    return before, after


def leakage(data: Path, out: Path, store: str, *args: str):
    return runner.invoke(
        recon_app,
        ["leakage", str(data), "--as-of", AS_OF, "--out", str(out), "--store", store, *args],
    )


def run_statuses(store: str) -> list[str]:
    with Store.open(store) as opened:
        return list(opened.runs().sort_values("run_id")["status"])


def new_deal_changes(out: Path) -> set[str]:
    found = pd.read_csv(out / "leakage.csv", dtype=str, keep_default_na=False)
    return set(found.loc[found["deal_id"] == NEW_DEAL, "change"])


@pytest.fixture
def nearly_full(tmp_path: Path) -> Iterator[Path]:
    """A folder on a 2 MB filesystem with about 60 KB left: too little for the outputs."""
    folder = tmp_path / "full"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        reason = f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run the disk-full case (it runs as root)")
        pytest.skip(reason)
    try:
        with (folder / "filler").open("wb") as filler:
            filler.write(b"\0" * (2 * 1024 * 1024 - 60 * 1024))
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_run_whose_outputs_did_not_fit_keeps_its_new_findings_new(
    data: tuple[Path, Path], nearly_full: Path, tmp_path: Path
) -> None:
    before, after = data
    store = f"sqlite:///{tmp_path / 'store.sqlite'}"
    assert leakage(before, tmp_path / "week1", store).exit_code == 1  # first run: all new
    assert leakage(before, tmp_path / "week2", store).exit_code == 0  # nothing new

    out = nearly_full / "week3"
    out.mkdir()
    (out / "report.html").write_text("last week's report", encoding="utf-8")
    third = leakage(after, out, store)
    assert third.exit_code == 3, third.output
    assert "error: could not write the outputs to" in third.output
    assert "No space left on device" in third.output
    assert "its new findings stay new until a run delivers them" in third.output
    assert "Traceback" not in third.output
    # The earlier outputs are as they were, and no half-written files are left behind.
    assert (out / "report.html").read_text(encoding="utf-8") == "last week's report"
    assert sorted(p.name for p in out.iterdir()) == ["report.html"]
    assert run_statuses(store) == ["ok", "ok", "not written"]

    fourth = leakage(after, tmp_path / "week4", store)
    assert fourth.exit_code == 1, fourth.output  # the alert the third run could not send
    assert new_deal_changes(tmp_path / "week4") == {"new"}
    assert "new leakage since run 2:" in fourth.output  # the last run that reached anyone
    assert run_statuses(store)[-1] == "ok"

    fifth = leakage(after, tmp_path / "week5", store)
    assert fifth.exit_code == 0, fifth.output  # delivered once: still open from now on
    assert new_deal_changes(tmp_path / "week5") == {"open"}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once the socket is closed


def test_a_run_whose_report_was_not_delivered_keeps_its_new_findings_new(
    data: tuple[Path, Path], tmp_path: Path
) -> None:
    before, after = data
    store = f"sqlite:///{tmp_path / 'store.sqlite'}"
    assert leakage(before, tmp_path / "week1", store).exit_code == 1
    smtp = ["--email-to", "finance@example.com", "--email-from", "recon@example.com",
            "--smtp-host", "127.0.0.1", "--smtp-port", str(_closed_port()), "--no-starttls",
            "--delivery-attempts", "1", "--delivery-backoff", "0"]  # fmt: skip
    second = leakage(after, tmp_path / "week2", store, *smtp)
    assert second.exit_code == 3, second.output
    assert "as not delivered: its new findings stay new" in second.output
    assert new_deal_changes(tmp_path / "week2") == {"new"}  # the outputs were written
    assert run_statuses(store) == ["ok", "not delivered"]

    third = leakage(after, tmp_path / "week3", store)
    assert third.exit_code == 1, third.output
    assert new_deal_changes(tmp_path / "week3") == {"new"}


# One row per case: what the user gave, the exit code, and a fragment of the one `error:` line.
CASES = [
    ("out is a file", ["quality", "{data}", "--out", "{file}"], 2, "is a file; give a folder"),
    ("out inside a file", ["load", "{data}", "--out", "{file}/out"], 2, "cannot write there"),
    ("as-of beyond pandas", ["leakage", "{data}", "--as-of", "2300-01-01"], 2, "2262-04-11"),
    ("period beyond pandas", ["monthend", "{data}", "--period", "2500-01"], 2, "outside 1677-10"),
    ("to beyond pandas", ["run", "{data}", "--from", "2026-01", "--to", "2999-01"], 2, "outside"),
    ("period before pandas", ["monthend", "{data}", "--period", "1600-01"], 2, "outside"),
    ("rules file missing", ["leakage", "{data}", "--rules", "{data}/none.yaml"], 2, "none.yaml"),
]


@pytest.mark.parametrize(("case", "args", "code", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_ordinary_failures_are_one_line(
    data: tuple[Path, Path], tmp_path: Path, case: str, args: list[str], code: int, fragment: str
) -> None:
    file = tmp_path / "a-file.txt"
    file.write_text("not a folder", encoding="utf-8")
    filled = [a.format(data=data[0], file=file) for a in args]
    if "--out" not in filled:
        filled += ["--out", str(tmp_path / "out")]
    result = runner.invoke(recon_app, filled)
    assert result.exit_code == code, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and fragment in errors[0], result.output
    assert "Traceback" not in result.output


def test_an_unexpected_error_has_its_own_exit_code_and_says_how_to_see_more() -> None:
    app = typer.Typer()

    @app.command()
    @handles_errors
    def broken(kind: str) -> None:
        if kind == "os":
            raise PermissionError(13, "Permission denied", "/data/crm_deals.csv")
        raise RuntimeError("an invariant broke\nsecond line")

    crashed = runner.invoke(app, ["bug"])
    assert crashed.exit_code == CRASHED
    assert CRASHED not in (0, 1, 2, 3)
    assert crashed.output.strip() == (
        "error: unexpected RuntimeError: an invariant broke — recon stopped; re-run with --debug "
        "for the traceback and report it"
    )
    refused = runner.invoke(app, ["os"])
    assert refused.exit_code == 2
    assert refused.output.strip() == "error: Permission denied: /data/crm_deals.csv"
