"""The command line's contract with scripts and schedulers: exit codes, `--json`, `--quiet`,
`--fail-on`, `python -m recon`, shell completion and help text.

Every command is run for real (CliRunner, or a subprocess where the process boundary matters);
an unforeseen failure is forced by replacing one function the command calls.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from recon import __version__
from recon.cli import app
from recon.cli_help import one_line_paragraphs
from recon.sampledata import generate, write

runner = CliRunner()
AS_OF = "2026-10-31"

# A tiny export whose quality findings are written down: one e-mail address that is not one (a
# warning) and, in the variant with errors, one company without a country (an error).
COMPANIES = (
    "company_id,name,country,email\n1,Acme Pty Ltd,AU,not-an-email\n2,Beta GmbH,DE,info@beta.de\n"
)
NO_COUNTRY = "3,Gamma Ltd,,\n"
DEALS = "deal_id,company_id,stage,amount,close_date\nD1,1,closedwon,100.00,2026-10-01\n"
CUSTOMERS = "customer_id,name,country\nC1,Acme Pty Ltd,AU\n"
ORDERS = "order_id,customer_id,order_date,amount\nO1,C1,2026-10-03,100\n"
WARNINGS, ERRORS = 1, 1  # in the variant with errors; the other has no error


def tiny(tmp_path: Path, *, with_error: bool = False) -> Path:
    data = tmp_path / ("with-error" if with_error else "warnings-only")
    data.mkdir()
    files = {
        "crm_companies": COMPANIES + (NO_COUNTRY if with_error else ""),
        "crm_deals": DEALS,
        "erp_customers": CUSTOMERS,
        "erp_orders": ORDERS,
    }
    for name, text in files.items():
        (data / f"{name}.csv").write_text(text, encoding="utf-8")
    return data


@pytest.fixture(scope="module")
def business(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated business with leakage, invoices and rates: what `recon run` reads."""
    folder = tmp_path_factory.mktemp("business")
    write(generate(60, seed=5), folder)
    return folder


def document(result: Any) -> dict[str, Any]:
    """The JSON summary: stdout holds it and nothing else."""
    return json.loads(result.stdout)


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("error:")]


# Each pipeline command with the arguments it needs besides --out.
PIPELINE = {
    "load": ["{data}"],
    "match": ["{data}"],
    "quality": ["{data}", "--as-of", AS_OF],
    "monthend": ["{data}", "--period", "2026-10"],
    "leakage": ["{data}", "--as-of", AS_OF],
    "run": ["{data}", "--as-of", AS_OF, "--period", "2026-10"],
}


def pipeline_args(command: str, data: Path, out: Path) -> list[str]:
    return [command, *(a.format(data=data) for a in PIPELINE[command]), "--out", str(out)]


# --- exit code 4: an error recon did not foresee ------------------------------------------------


def _broken(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("an invariant broke")


@pytest.mark.parametrize("command", list(PIPELINE))
def test_an_unexpected_error_in_any_pipeline_command_is_exit_code_4(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("recon.config.load.resolve_inputs", _broken)
    result = runner.invoke(app, pipeline_args(command, tiny(tmp_path), tmp_path / "out"))
    assert result.exit_code == 4, result.output
    assert error_lines(result.stderr) == [
        "error: unexpected RuntimeError: an invariant broke — recon stopped; re-run with --debug "
        "for the traceback and report it"
    ]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "target"),
    [
        (["demo"], "recon.config.load.folder_config"),
        (["sample-data", "-n", "5"], "recon.sampledata.generate"),
        (["review", "apply", "reviewed.csv", "--demo"], "recon.pipeline.apply_review"),
        (
            ["accept", "F-1", "--reason", "ok", "--until", "2999-01-01"],
            "recon.state.store.Store.open",
        ),
        (["rerun", "run.json"], "recon.rerun.rerun"),
    ],
    ids=["demo", "sample-data", "review-apply", "accept", "rerun"],
)
def test_an_unexpected_error_in_the_other_commands_is_exit_code_4(
    args: list[str], target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reviewed.csv").write_text("decision\n", encoding="utf-8")
    monkeypatch.setattr(target, _broken)
    out = [] if args[0] in ("accept", "review") else ["--out", str(tmp_path / "out")]
    result = runner.invoke(app, [*args, *out, "--json"])
    assert result.exit_code == 4, result.output
    assert len(error_lines(result.stderr)) == 1 and "--debug" in result.stderr
    summary = document(result)
    assert summary["exit_code"] == 4 and summary["exit_reason"] == "unexpected_error"
    assert summary["message"].startswith("unexpected RuntimeError: an invariant broke")


def test_an_unexpected_error_while_writing_the_outputs_is_exit_code_4_and_keeps_the_old_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, out = tiny(tmp_path), tmp_path / "out"
    assert runner.invoke(app, ["load", str(data), "--out", str(out)]).exit_code == 0
    before = (out / "load_summary.csv").read_bytes()
    monkeypatch.setattr("recon.pipeline.write_load_outputs", _broken)
    result = runner.invoke(app, ["load", str(data), "--out", str(out), "--json"])
    assert result.exit_code == 4, result.output
    assert document(result)["exit_reason"] == "unexpected_error"
    assert (out / "load_summary.csv").read_bytes() == before


def test_a_full_disk_while_writing_the_outputs_is_exit_code_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*args: Any, **kwargs: Any) -> Any:
        raise OSError(28, "No space left on device", "quarantine.csv")

    monkeypatch.setattr("recon.pipeline.write_load_outputs", disk_full)
    result = runner.invoke(
        app, ["load", str(tiny(tmp_path)), "--out", str(tmp_path / "o"), "--json"]
    )
    assert result.exit_code == 3, result.output
    (line,) = error_lines(result.stderr)
    assert "could not write the outputs" in line and "No space left on device" in line
    assert document(result)["exit_reason"] == "outputs_not_written"


def test_sample_data_that_cannot_be_written_is_exit_code_3_and_an_out_that_is_a_file_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    refused = runner.invoke(app, ["sample-data", "-n", "5", "--out", str(a_file)])
    assert refused.exit_code == 2 and "is a file" in refused.stderr

    def disk_full(*args: Any, **kwargs: Any) -> Any:
        raise OSError(28, "No space left on device", "crm_deals.csv")

    monkeypatch.setattr("recon.sampledata.write", disk_full)
    result = runner.invoke(app, ["sample-data", "-n", "5", "--out", str(tmp_path / "s")])
    assert result.exit_code == 3, result.output
    assert error_lines(result.stderr) == [
        f"error: could not write the sample data to {tmp_path / 's'}: No space left on device: "
        "crm_deals.csv"
    ]


def test_an_interrupt_is_exit_code_130_not_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("recon.config.load.resolve_inputs", interrupted)
    result = runner.invoke(app, ["load", str(tiny(tmp_path)), "--out", str(tmp_path / "o")])
    assert result.exit_code == 130, result.output
    assert error_lines(result.stderr)[0].startswith("error: interrupted")


def test_debug_still_shows_the_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("recon.config.load.resolve_inputs", _broken)
    result = runner.invoke(
        app, ["--debug", "load", str(tiny(tmp_path)), "--out", str(tmp_path / "o"), "--json"]
    )
    assert isinstance(result.exception, RuntimeError)


# --- recon quality --fail-on ------------------------------------------------------------------


def test_quality_fails_on_the_severity_asked_for_or_worse(tmp_path: Path) -> None:
    warnings_only, with_error = tiny(tmp_path), tiny(tmp_path, with_error=True)

    def quality(data: Path, *args: str) -> Any:
        out = tmp_path / f"q{len(list(tmp_path.iterdir()))}"
        return runner.invoke(
            app, ["quality", str(data), "--as-of", AS_OF, "--out", str(out), *args]
        )

    assert quality(with_error).exit_code == 0  # without --fail-on: as before, whatever was found
    assert quality(warnings_only, "--fail-on", "error").exit_code == 0
    warned = quality(warnings_only, "--fail-on", "warning")
    assert warned.exit_code == 1, warned.output
    assert f"--fail-on warning: {WARNINGS} quality finding(s) of severity warning or worse" in (
        warned.stdout
    )
    failed = quality(with_error, "--fail-on", "ERROR", "--json")
    assert failed.exit_code == 1, failed.output
    summary = document(failed)
    assert (summary["exit_code"], summary["exit_reason"]) == (1, "findings")
    assert summary["counts"]["quality"]["error"] == ERRORS
    assert summary["message"] == f"{ERRORS} quality finding(s) of severity error"
    both = quality(with_error, "--fail-on", "warning", "--json")
    assert document(both)["message"] == (
        f"{ERRORS + WARNINGS} quality finding(s) of severity warning or worse"
    )


def test_quality_fail_on_an_unknown_severity_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["quality", str(tiny(tmp_path)), "--fail-on", "critical"])
    assert result.exit_code == 2
    assert "Invalid value for '--fail-on'" in result.stderr and "'critical'" in result.stderr
    assert not (tmp_path / "recon-out").exists()


# --- --json and --quiet -----------------------------------------------------------------------


def test_load_json_is_the_load_summary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["load", str(tiny(tmp_path, with_error=True)), "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = document(result)
    assert summary["command"] == "load" and summary["recon_version"] == __version__
    assert (summary["exit_code"], summary["exit_reason"], summary["message"]) == (0, "ok", "")
    assert summary["out_dir"] == str(out)
    assert str(out / "load_summary.csv") in summary["outputs"]
    assert all(Path(p).is_file() for p in summary["outputs"])
    written = json.loads((out / "load_summary.json").read_text(encoding="utf-8"))["tables"]
    for table in written:
        counts = summary["counts"]["load"]["tables"][table["table"]]
        assert counts["rows_read"] == table["rows_read"]
        assert counts["rows_quarantined"] == table["rows_quarantined"]
    # the notes go to stderr: stdout is the JSON alone
    assert "Load summary" in result.stderr and "outputs written to" in result.stderr


def test_every_command_prints_one_json_document(tmp_path: Path, business: Path) -> None:
    """Each command, run for real once, with --json: stdout parses, names the command and agrees
    with the exit code."""
    outs = iter(tmp_path / f"out{i}" for i in range(100))
    store = f"sqlite:///{tmp_path / 'state.sqlite'}"
    data = tiny(tmp_path)
    runs = {
        "load": [str(data)],
        "match": [str(data)],
        "quality": [str(data), "--as-of", AS_OF],
        "monthend": [str(data), "--period", "2026-10"],
        "sample-data": ["-n", "5"],
        "leakage": [str(business), "--as-of", AS_OF, "--store", store],
    }
    for command, args in runs.items():
        out = next(outs)
        result = runner.invoke(app, [command, *args, "--out", str(out), "--json"])
        summary = document(result)
        assert summary["command"] == command
        assert summary["exit_code"] == result.exit_code, result.output
        assert summary["out_dir"] == str(out)
    finding = pd.read_csv(out / "leakage.csv", dtype=str)["finding_id"].iloc[0]  # the last run's
    accepted = runner.invoke(
        app,
        ["accept", finding, "--reason", "billed by hand", "--until", "2999-12-31",
         "--store", store, "--json"],
    )  # fmt: skip
    assert accepted.exit_code == 0, accepted.output
    assert document(accepted)["accepted"]["finding_id"] == finding
    assert document(accepted)["accepted"]["until"] == "2999-12-31"


def test_run_json_agrees_with_run_json_file_and_goes_through_jq_like_a_pipe(
    tmp_path: Path, business: Path
) -> None:
    """`recon run … --json | jq .` in a real process: stdout is one JSON document with the
    counts run.json records; the notes are on stderr."""
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "recon", "run", str(business), "--as-of", AS_OF,
         "--period", "2026-10", "--out", str(out), "--json"],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert summary["command"] == "run" and summary["exit_reason"] == "ok"
    assert summary["run_json"] == str(out / "run.json")
    for name in ("match", "quality", "leakage"):
        assert summary["counts"][name] == manifest["counts"][name], name
    assert summary["counts"]["load"]["rows_read"] == manifest["counts"]["load"]["rows_read"]
    assert summary["counts"]["monthend"]["months"] == manifest["counts"]["monthend"]["months"]
    assert summary["state"]["run_id"] == manifest["state"]["run_id"]
    written = sorted(Path(p).relative_to(out).as_posix() for p in summary["outputs"])
    assert written == sorted([*manifest["outputs"], "run.json"])
    assert "run record:" in done.stderr and "Matching" in done.stderr


def test_leakage_json_with_new_leakage_is_exit_code_1(tmp_path: Path, business: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["leakage", str(business), "--as-of", AS_OF, "--out", str(out), "--json"]
    )
    assert result.exit_code == 1, result.output
    summary = document(result)
    written = json.loads((out / "leakage_summary.json").read_text(encoding="utf-8"))
    assert (summary["exit_code"], summary["exit_reason"]) == (1, "findings")
    assert summary["counts"]["leakage"]["new"] == written["new_leakage"] > 0
    assert summary["message"] == f"{written['new_leakage']} new leakage finding(s) in total"


def test_a_failed_delivery_in_json_mode_is_exit_code_3_with_the_counts(
    tmp_path: Path, business: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recon.report.deliver import DeliveryError

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise DeliveryError("delivery failed: the share is read-only")

    monkeypatch.setattr("recon.report.deliver.copy_to_folder", refused)
    result = runner.invoke(
        app,
        ["leakage", str(business), "--as-of", AS_OF, "--out", str(tmp_path / "out"),
         "--deliver-to", str(tmp_path / "share"), "--json"],
    )  # fmt: skip
    assert result.exit_code == 3, result.output
    summary = document(result)
    assert (summary["exit_code"], summary["exit_reason"]) == (3, "not_delivered")
    assert summary["message"] == "delivery failed: the share is read-only"
    assert summary["counts"]["leakage"]["new"] > 0  # what was found is still told


def test_an_error_in_json_mode_is_json_on_stdout_and_one_line_on_stderr(tmp_path: Path) -> None:
    result = runner.invoke(app, ["load", str(tmp_path / "missing"), "--json"])
    assert result.exit_code == 2
    summary = document(result)
    assert (summary["exit_code"], summary["exit_reason"]) == (2, "bad_input")
    assert error_lines(result.stderr) == [f"error: {summary['message']}"]
    assert "missing" in summary["message"]


def test_quiet_prints_nothing_but_errors(tmp_path: Path) -> None:
    data, out = tiny(tmp_path), tmp_path / "out"
    quiet = runner.invoke(app, ["load", str(data), "--out", str(out), "--quiet"])
    assert quiet.exit_code == 0 and quiet.output == ""
    assert (out / "load_summary.csv").is_file()
    both = runner.invoke(app, ["load", str(data), "--out", str(out), "-q", "--json"])
    assert both.stderr == "" and document(both)["exit_code"] == 0
    failed = runner.invoke(app, ["load", str(tmp_path / "missing"), "--quiet"])
    assert failed.exit_code == 2 and failed.stdout == ""
    assert failed.stderr.startswith("error: ")


# --- python -m recon, shell completion -------------------------------------------------------


def test_python_m_recon_runs_the_command_line(tmp_path: Path) -> None:
    version = subprocess.run(
        [sys.executable, "-m", "recon", "--version"], capture_output=True, text=True, check=False
    )
    assert version.returncode == 0 and version.stdout.strip() == f"recon {__version__}"
    bad = subprocess.run(
        [sys.executable, "-m", "recon", "load", str(tmp_path / "missing")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.startswith("error: ")


def test_shell_completion_is_offered_and_completes_commands_and_options() -> None:
    """What the installed completion script asks recon (click's protocol), answered for real."""
    listed = runner.invoke(app, ["--help"]).stdout
    assert "--install-completion" in listed and "--show-completion" in listed

    def complete(words: str) -> list[str]:
        env = {"_RECON_COMPLETE": "complete_bash", "COMP_WORDS": words}
        env["COMP_CWORD"] = str(len(words.split()) - 1)
        done = runner.invoke(app, [], prog_name="recon", env=env)
        assert done.exit_code == 0, done.output
        return done.stdout.split()

    assert complete("recon qu") == ["quality"]
    assert complete("recon quality --fail") == ["--fail-on"]


# --- help text --------------------------------------------------------------------------------

COMMANDS = [
    ["load"], ["match"], ["quality"], ["monthend"], ["leakage"], ["run"], ["demo"],
    ["review", "apply"], ["accept"], ["rerun"], ["sample-data"], ["review"], [],
]  # fmt: skip
DELIVERY = ("--email-to", "--email-from", "--smtp-host", "--smtp-port", "--starttls",
            "--deliver-to", "--delivery-attempts", "--delivery-backoff")  # fmt: skip


def help_text(command: list[str]) -> str:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "recon")
def test_help_names_kinds_of_values_not_python_types(command: list[str]) -> None:
    text = help_text(command)
    assert not re.search(r"<[a-z]+(\[[A-Za-z]+\])?( range)?>", text), text
    assert "--help" in text and "Show this message and exit." in text
    if command and command != ["review"]:
        assert "--json" in text and "--quiet" in text


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "recon")
def test_help_shows_only_the_options_a_command_uses(command: list[str]) -> None:
    text = help_text(command)
    delivers = command in (["run"], ["leakage"])
    for option in DELIVERY:
        assert (option in text) == delivers, option
    leaf = command not in ([], ["review"])
    if leaf and "--store" not in text:  # a command without a state store does not talk about one
        assert "state store" not in text
    if command == ["load"]:
        assert "canonical tables, quarantine" in text and "leakage" not in text


def test_help_sentences_are_not_broken_where_the_source_line_ended() -> None:
    """Each paragraph of a command's help is one line in the help, wrapped only to the screen."""
    command = typer.main.get_command(app)
    seen = 0
    for name, sub in command.commands.items():  # type: ignore[attr-defined]
        subs = getattr(sub, "commands", {name: sub})
        for each in subs.values():
            for paragraph in (each.help or "").split("\n\n"):
                assert "\n" not in paragraph, (name, paragraph)
            seen += 1
    assert seen == 11
    # as printed: the run command's first paragraph flows on in the command list
    listing = re.sub(r"[│\s]+", " ", help_text([]))  # the words, without the table's borders
    assert "plus run.json (counts, timings, checksums, the store's run id)" in listing


def test_one_line_paragraphs_keeps_paragraphs_apart() -> None:
    assert one_line_paragraphs("One sentence\nacross lines.\n\nAnother\none.") == (
        "One sentence across lines.\n\nAnother one."
    )
