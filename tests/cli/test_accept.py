"""`recon accept FINDING_ID --reason ... --until ...`: stores an acceptance of a known finding; an
unknown id, a past or malformed date, or a store that cannot be opened is one `error:` line, exit 2."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from store_urls import isolated_store_url
from typer.testing import CliRunner

from recon.cli import app
from recon.config.load import folder_config
from recon.extract.load import load_all
from recon.models import MatchResult
from recon.pipeline import match
from recon.sampledata import generate, write
from recon.state.record import RunInfo, record_run
from recon.state.store import DEFAULT_FILE, Store

runner = CliRunner()
NEXT_YEAR = (dt.date.today() + dt.timedelta(days=365)).isoformat()
LEAKAGE = pd.DataFrame(
    {"deal_id": ["D1"], "order_ids": [None], "kind": ["no_order"], "gap_amount": [500.0]}
)


@pytest.fixture(scope="module")
def matched(tmp_path_factory: pytest.TempPathFactory) -> MatchResult:
    data = tmp_path_factory.mktemp("accept") / "data"
    write(generate(60, seed=3), data)
    return match(load_all(folder_config(data)))


@pytest.fixture
def store(db_url: str, matched: MatchResult) -> Iterator[tuple[str, str]]:
    """A store of this test's own with one run, and the id of that run's leakage finding."""
    with isolated_store_url(db_url) as url:
        with Store.open(url) as opened:
            record = record_run(opened, RunInfo("leakage"), matched, {"leakage": LEAKAGE})
        found = record.findings.set_index("key").loc["no_order|D1", "finding_id"]
        yield url, str(found)


def accept(*args: str):
    return runner.invoke(app, ["accept", *args])


def test_accept_stores_the_acceptance_and_takes_the_finding_out_of_the_open_list(
    store: tuple[str, str],
) -> None:
    url, finding = store
    result = accept(
        finding, "--reason", "credit note agreed", "--until", NEXT_YEAR, "--owner", "ana",
        "--store", url,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"accepted {finding} (leakage no_order: no_order|D1) until {NEXT_YEAR}" in result.output
    with Store.open(url) as opened:
        acceptances = opened.acceptances()
        status = opened.findings().set_index("finding_id").loc[finding, "status"]
    assert acceptances[["finding_id", "reason", "owner"]].values.tolist() == [
        [finding, "credit note agreed", "ana"]
    ]
    assert str(acceptances.loc[0, "until"]) == NEXT_YEAR
    assert status == "accepted"


def test_the_default_store_is_in_the_current_folder(
    matched: MatchResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store.open(f"sqlite:///{tmp_path / DEFAULT_FILE}") as opened:
        record = record_run(opened, RunInfo("leakage"), matched, {"leakage": LEAKAGE})
    finding = str(record.findings["finding_id"].iloc[-1])
    monkeypatch.chdir(tmp_path)
    result = accept(finding, "--reason", "known", "--until", NEXT_YEAR)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["F-0000000000000000", "--until", NEXT_YEAR],
            "error: unknown finding id F-0000000000000000",
        ),
        (["{id}", "--until", "2020-01-31"], "error: --until 2020-01-31 is in the past"),
        (["{id}", "--until", "31/12/2030"], "error: --until '31/12/2030' is not a date"),
    ],
)
def test_bad_arguments_are_one_error_line_and_exit_2(
    store: tuple[str, str], args: list[str], message: str
) -> None:
    url, finding = store
    args = [a.format(id=finding) for a in args]
    result = accept(*args, "--reason", "r", "--store", url)
    assert result.exit_code == 2
    assert result.output.startswith(message)
    assert result.output.count("\n") == 1
    with Store.open(url) as opened:
        assert opened.acceptances().empty


def test_no_store_yet_or_an_unreachable_one_is_one_error_without_the_password(
    tmp_path: Path,
) -> None:
    missing = accept(
        "F-1", "--reason", "r", "--until", NEXT_YEAR, "--store", f"sqlite:///{tmp_path}/x.sqlite"
    )
    assert missing.exit_code == 2
    assert missing.output.startswith("error: no state store at")
    url = "postgresql+psycopg://recon:pa55word@127.0.0.1:1/state"
    down = accept("F-1", "--reason", "r", "--until", NEXT_YEAR, "--store", url)
    assert down.exit_code == 2
    assert down.output.startswith(
        "error: cannot open the state store postgresql+psycopg://recon:***@"
    )
    assert "pa55word" not in down.output
