"""The recon command line: parse options, set up logging, call the pipeline, map errors to exit codes.

Exit codes: 0 success, 1 findings (for commands asked to fail on them: new leakage, a re-run that
differs, quality findings with --fail-on), 2 bad input or configuration, 3 the outputs could not be
written or the report could not be delivered (``recon.report.staging``, ``recon.report.deliver``),
4 an unexpected error (re-run with --debug for the traceback), 130 interrupted (Ctrl-C).

Every command takes ``--json`` (``recon.report.json_summary``: one JSON document on stdout, the
notes on stderr) and ``--quiet``; the shared options are declared in ``recon.cli_options``, and
``recon.cli_help`` keeps ``--help`` free of Python type names.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer

from recon import __version__
from recon.cli_help import HelpCommand, HelpGroup
from recon.cli_options import (
    AcceptStoreOpt,
    AsOfOpt,
    ConfigOpt,
    DataDir,
    Delivery,
    LeakageFormatOpt,
    LoadFormatOpt,
    MatchFormatOpt,
    MonthendFormatOpt,
    OutOpt,
    QualityFormatOpt,
    RerunStoreOpt,
    ReviewStoreOpt,
    RunFormatOpt,
    SheetRowsOpt,
    StateOpt,
    StateOrStoreOpt,
    StoreOpt,
    delivers,
)
from recon.cli_outcome import CRASHED as CRASHED  # exit code 4, for tests and callers
from recon.cli_outcome import flags, handles_errors, os_reason, progress_bars
from recon.errors import OutputError, ReconError
from recon.progress import console, interactive, setup_logging
from recon.report import json_summary as js
from recon.report.json_summary import Summary
from recon.report.options import SHEET_ROWS

log = logging.getLogger(__name__)

app = typer.Typer(
    name="recon",
    help="Reconcile CRM companies and deals against ERP customers, orders and invoices.",
    no_args_is_help=True,
    cls=HelpGroup,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"recon {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            show_default=False,
            help="More log lines (-vv for debug).",
        ),
    ] = 0,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback of an error.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    flags.debug = debug
    setup_logging(verbose + (2 if debug else 0))


def _outputs(table_format: str, sheet_rows: int = SHEET_ROWS) -> Any:
    """The run's OutputOptions; a format recon does not write is exit code 2."""
    from recon.errors import ConfigError
    from recon.report.options import TABLE_FORMATS, OutputOptions

    chosen = table_format.strip().lower()
    if chosen not in TABLE_FORMATS:
        raise ConfigError(
            f"--format is '{table_format}' — expected one of {', '.join(TABLE_FORMATS)}"
        )
    return OutputOptions(table_format=chosen, sheet_rows=sheet_rows)  # type: ignore[arg-type]


def _stored_decisions(
    state: Path | None, inputs: Any, store: str | None = None
) -> tuple[str, list[Any]]:
    """Where the review decisions are kept (the state store given by ``--store``, else the CSV log
    in the state folder), and the current one of each pair."""
    from recon.state import open_decisions, state_dir

    opened = open_decisions(state_dir(state, inputs), store)
    return opened.location, opened.current()


def default_out(command: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y-%m-%d_%H%M%S")
    path = Path("recon-out") / f"{stamp}_{command}"
    n = 2
    while path.exists():
        path = Path("recon-out") / f"{stamp}_{command}_{n}"
        n += 1
    return path


def _print_summary(run: Any) -> None:
    from recon.report.console import print_load_summary

    print_load_summary(run.result, run.out_dir, color=interactive())


@app.command(cls=HelpCommand)
@handles_errors
def load(
    data_dir: DataDir = None,
    config: ConfigOpt = None,
    out: OutOpt = None,
    table_format: LoadFormatOpt = "csv",
    *,
    summary: Summary,
) -> None:
    """Extract and validate the input tables; write canonical tables, quarantined rows and a summary."""
    from recon.config.load import resolve_inputs
    from recon.pipeline import run_load

    outputs = _outputs(table_format)
    inputs = resolve_inputs(data_dir, config)
    with progress_bars() as progress:
        run = run_load(inputs, out or default_out("load"), progress, outputs)
    summary.add(js.outputs, run.out_dir, run.files)
    summary.add(js.loaded, run.result)
    _print_summary(run)


@app.command("match", cls=HelpCommand)
@handles_errors
def match_command(
    data_dir: DataDir = None,
    config: ConfigOpt = None,
    out: OutOpt = None,
    state: StateOpt = None,
    table_format: MatchFormatOpt = "csv",
    *,
    summary: Summary,
) -> None:
    """Link CRM companies and ERP customers into entities; flag duplicates; write xref files."""
    from recon.config.load import resolve_inputs
    from recon.pipeline import run_match

    outputs = _outputs(table_format)
    inputs = resolve_inputs(data_dir, config)
    _, decisions = _stored_decisions(state, inputs)
    with progress_bars() as progress:
        run = run_match(inputs, out or default_out("match"), progress, decisions, outputs)
    _add_match(summary, run)
    _print_match(run)


def _add_match(summary: Summary, run: Any) -> None:
    """The outputs, the load and the matching of ``run`` into the JSON summary."""
    summary.add(js.outputs, run.out_dir, run.files)
    summary.add(js.loaded, run.load)
    summary.add(js.matched, run.match)


def _print_as_of(as_of: Any) -> None:
    """One line when the as-of day was taken from the data rather than given or today."""
    if as_of is not None and as_of.from_data:
        typer.echo(as_of.line())


def _print_full_run(run: Any) -> None:
    """What `recon run` and `recon demo` print: matching, quality, month-end, leakage."""
    from recon.report.monthend_console import print_monthend_summary
    from recon.report.quality_console import print_quality_summary

    _print_as_of(run.as_of)
    _print_match(run)
    print_quality_summary(run.checks["quality"], run.out_dir, color=interactive())
    print_monthend_summary(run.checks["monthend"], run.out_dir, color=interactive())
    typer.echo(_leakage_line(run.checks["leakage"]))


def _print_match(run: Any) -> None:
    from recon.report.console import print_load_summary, print_match_summary

    print_load_summary(run.load, run.out_dir, color=interactive(), footer=False)
    print_match_summary(run.match, run.out_dir, color=interactive())
    _print_reviews(run.match)


@app.command(cls=HelpCommand)
@handles_errors
def demo(
    out: OutOpt = None,
    state: StateOpt = None,
    table_format: RunFormatOpt = "csv",
    sheet_rows: SheetRowsOpt = SHEET_ROWS,
    *,
    summary: Summary,
) -> None:
    """Run recon end to end on the bundled sample data: what `recon run` does, as of its last day."""
    import json

    from recon.config.load import folder_config
    from recon.pipeline import run_all
    from recon.resources import sample_data_dir

    outputs = _outputs(table_format, sheet_rows)
    folder = sample_data_dir()
    inputs = folder_config(folder)
    # The sample's history ends on its as-of day; leakage and month-end count back from it.
    meta = json.loads((folder / "truth_meta.json").read_text(encoding="utf-8"))
    location, decisions = _stored_decisions(state, inputs)
    with progress_bars() as progress:
        run = run_all(
            inputs,
            out or default_out("demo"),
            progress,
            decisions,
            decisions_store=location,
            as_of=dt.date.fromisoformat(meta["as_of"]),
            outputs=outputs,
        )
    summary.add(js.full_run, run)
    _print_full_run(run)
    typer.echo(f"report: {run.out_dir / 'report.html'}")


@app.command("sample-data", cls=HelpCommand)
@handles_errors
def sample_data(
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="DIR", help="Folder to write the CSV files into.")
    ],
    entities: Annotated[
        int,
        typer.Option(
            "--entities", "-n", min=1, metavar="N", help="Number of real-world companies."
        ),
    ] = 300,
    seed: Annotated[
        int,
        typer.Option(
            "--seed", metavar="N", help="Random seed; the same seed gives the same files."
        ),
    ] = 42,
    as_of: Annotated[
        str,
        typer.Option(
            "--as-of",
            metavar="DAY",
            help="Last day of the generated history (YYYY-MM-DD, or today).",
        ),
    ] = "2026-10-31",
    habit: Annotated[
        list[str] | None,
        typer.Option(
            "--habit",
            metavar="NAME=VALUE",
            help="A billing habit of the generated business, e.g. instalments=0.3, "
            "instalment_gap_days=[60,100], ref_first_only=true, go_live_days=500 "
            "(repeat the option; see recon.sampledata.Habits).",
        ),
    ] = None,
    *,
    summary: Summary,
) -> None:
    """Generate realistic CRM and ERP sample data with ground-truth files."""
    from recon.asof import parse_option
    from recon.report.staging import check_out_dir
    from recon.sampledata import generate, write

    option = parse_option(as_of)
    day = option if isinstance(option, dt.date) else dt.date.today()
    habits = _habits(habit or [])
    check_out_dir(out)  # a file or a folder recon may not write in: exit code 2, before any work
    spinning = interactive() and not flags.quiet
    with console.status("generating", spinner="dots") if spinning else nullcontext():
        try:
            data = generate(entities, seed, as_of=day, habits=habits)
        except ValueError as exc:
            raise ReconError(f"--habit: {exc}") from None
        try:
            paths = write(data, out)
        except OSError as exc:  # a full disk half-way: exit code 3, as for the other commands
            raise OutputError(
                f"could not write the sample data to {out}: {os_reason(exc)}"
            ) from exc
    summary.add(js.outputs, out, paths)
    summary.add(lambda: {"counts": {"sample_data": {"entities": entities, "seed": seed}}})
    typer.echo(f"wrote {len(paths)} files for {entities} entities (seed {seed}) to {out}")


def _habits(items: list[str]) -> dict[str, object]:
    """``NAME=VALUE`` options as a mapping, each value read as YAML (numbers, true, [60, 100])."""
    import yaml

    out: dict[str, object] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ReconError(f'--habit "{item}" — expected NAME=VALUE such as instalments=0.3')
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            raise ReconError(
                f'--habit "{item}" — the value is not a number, true/false or list'
            ) from None
        out[name.strip()] = tuple(parsed) if isinstance(parsed, list) else parsed
    return out


review_app = typer.Typer(
    help="Take review decisions back from a reviewed workbook or review.csv.",
    no_args_is_help=True,
    add_completion=False,
    cls=HelpGroup,
)
app.add_typer(review_app, name="review")


@review_app.command("apply", cls=HelpCommand)
@handles_errors
def review_apply(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="REVIEWED",
            help="Reviewed .xlsx or .csv file(s), then the data folder of the run they came from "
            "(or give --config).",
            show_default=False,
        ),
    ],
    config: ConfigOpt = None,
    state: StateOrStoreOpt = None,
    demo: Annotated[
        bool,
        typer.Option("--demo", help="The files come from `recon demo`: check against its data."),
    ] = False,
    store: ReviewStoreOpt = None,
    *,
    summary: Summary,
) -> None:
    """Check reviewed decisions against the data and store them; the next match or run honours them.

    recon review apply REVIEWED.xlsx [MORE.csv ...] DATA_DIR (or --config recon.yaml, or --demo).
    Nothing is stored when any row is wrong: every problem is listed with its file, sheet, row and
    column, and the fixed file can be applied again.
    """
    from recon.config.load import folder_config, resolve_inputs
    from recon.errors import ConfigError
    from recon.pipeline import apply_review
    from recon.resources import sample_data_dir
    from recon.state import open_decisions, state_dir

    folders = [p for p in paths if p.is_dir()]
    files = [p for p in paths if not p.is_dir()]
    if len(folders) > 1:
        raise ConfigError(f"give one data folder; got {', '.join(map(str, folders))}")
    if not files:
        raise ConfigError("give the reviewed .xlsx or .csv file(s) to apply, then the data folder")
    if demo and (folders or config):
        raise ConfigError("--demo checks against the bundled sample data; give no data folder")
    data_dir = folders[0] if folders else None
    inputs = folder_config(sample_data_dir()) if demo else resolve_inputs(data_dir, config)
    applied = apply_review(files, inputs, open_decisions(state_dir(state, inputs), store))
    summary.add(_review_counts, applied)
    typer.echo(_review_summary(applied))


def _review_counts(applied: Any) -> dict[str, Any]:
    """The counts the review line prints, for the JSON summary."""
    from recon.models import MATCH

    matches = sum(d.decision == MATCH for d in applied.decisions)
    counts = {
        "decisions": len(applied.decisions),
        "match": matches,
        "not_a_match": len(applied.decisions) - matches,
        "added": applied.added,
        "changed": applied.changed,
        "unchanged": applied.unchanged,
        "undecided": applied.undecided,
    }
    return {"counts": {"review": counts}, "decisions_store": applied.store}


def _review_summary(applied: Any) -> str:
    counts = _review_counts(applied)["counts"]["review"]
    n = counts["decisions"]
    if not n:
        return (
            f"no decisions found: {applied.undecided} row(s), each with an empty decision or "
            "skip; nothing was stored"
        )
    return (
        f"stored {n} decision(s) ({counts['match']} match, {counts['not_a_match']} not a match) "
        f"in {applied.store}: {applied.added} new, {applied.changed} changed, "
        f"{applied.unchanged} already stored; {applied.undecided} row(s) without a decision "
        "(empty or skip) left out. The next recon match or recon run honours them."
    )


def _print_reviews(result: Any) -> None:
    reviews = result.reviews
    if reviews.get("stored"):
        typer.echo(
            f"review decisions: {reviews['confirmed']} confirmed and {reviews['rejected']} "
            f"rejected pairs applied"
            + (
                f"; {reviews['not_applied']} name a record not in the data"
                if reviews["not_applied"]
                else ""
            )
        )


@app.command("run", cls=HelpCommand)
@handles_errors
@delivers
def run_command(
    data_dir: DataDir = None,
    config: ConfigOpt = None,
    out: OutOpt = None,
    state: StateOrStoreOpt = None,
    as_of: AsOfOpt = None,
    period: Annotated[
        str | None,
        typer.Option("--period", metavar="YYYY-MM", help="Month-end: one month."),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("--from", metavar="YYYY-MM", help="Month-end: first month of a range."),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", metavar="YYYY-MM", help="Month-end: last month of a range."),
    ] = None,
    store: StoreOpt = None,
    table_format: RunFormatOpt = "csv",
    sheet_rows: SheetRowsOpt = SHEET_ROWS,
    *,
    deliver: Delivery,
    summary: Summary,
) -> None:
    """Run everything: load, match, checks, state store and reports, plus run.json (counts,
    timings, checksums, the store's run id).

    Month-end covers the twelve complete months up to the as-of day unless --period or
    --from/--to say. The run is recorded in the state store (--store; default recon-state.sqlite
    in --out, else the current folder); with --store the review decisions are read from it too.

    Exit codes: 0 done, 2 bad input, 3 the outputs could not be written or the report could not be
    delivered (the outputs are kept), 4 an unexpected error.
    """
    from recon.asof import parse_option
    from recon.checks.monthend import months_in
    from recon.config.load import resolve_inputs
    from recon.pipeline import run_all

    day = parse_option(as_of)  # a bad day stops here, before any data is read
    outputs = _outputs(table_format, sheet_rows)
    months = months_in(period, start, end) if (period or start or end) else None
    inputs = resolve_inputs(data_dir, config)
    location, decisions = _stored_decisions(state, inputs, store)
    with progress_bars() as progress:
        run = run_all(
            inputs,
            out or default_out("run"),
            progress,
            decisions,
            decisions_store=location,
            as_of=day,
            months=months,
            store=store_url(store, out),
            outputs=outputs,
        )
    summary.add(js.full_run, run)
    _print_full_run(run)
    if run.state is not None:
        typer.echo(_changes_line(run.state))
    typer.echo(f"run record: {run.manifest}")
    _deliver(deliver, run, f"recon report as of {run.checks['leakage'].as_of}")


class FailOn(enum.StrEnum):
    """The least severe quality finding that makes `recon quality --fail-on` exit 1."""

    error = "error"
    warning = "warning"


def _failing(counts: dict[str, int], fail_on: FailOn) -> int:
    """Quality findings at ``fail_on`` or worse (an error is worse than a warning)."""
    return counts["error"] + (counts["warning"] if fail_on is FailOn.warning else 0)


@app.command("quality", cls=HelpCommand)
@handles_errors
def quality_command(
    data_dir: DataDir = None,
    config: ConfigOpt = None,
    out: OutOpt = None,
    state: StateOpt = None,
    rules: Annotated[
        Path | None,
        typer.Option(
            "--rules",
            metavar="DIR",
            help="Folder with your own quality.yaml and/or ownership.yaml (a file it lacks is "
            "taken from the bundled rules).",
        ),
    ] = None,
    as_of: AsOfOpt = None,
    fail_on: Annotated[
        FailOn | None,
        typer.Option(
            "--fail-on",
            metavar="SEVERITY",
            case_sensitive=False,
            help="Exit code 1 when there are findings of this severity or worse: error, or "
            "warning (warnings and errors). Without it the exit code is 0 whatever was found.",
        ),
    ] = None,
    table_format: QualityFormatOpt = "csv",
    *,
    summary: Summary,
) -> None:
    """Check data quality per record and rule, and field drift between linked CRM and ERP records."""
    from recon.asof import parse_option
    from recon.config.load import resolve_inputs
    from recon.config.quality import load_quality_rules
    from recon.pipeline import run_quality
    from recon.report.quality_console import print_quality_summary

    day = parse_option(as_of)
    outputs = _outputs(table_format)
    load_quality_rules(rules)  # a bad rule file stops here, before any data or state is read
    inputs = resolve_inputs(data_dir, config)
    _, decisions = _stored_decisions(state, inputs)
    with progress_bars() as progress:
        run = run_quality(
            inputs,
            out or default_out("quality"),
            progress,
            decisions,
            rules_dir=rules,
            as_of=day,
            outputs=outputs,
        )
    _add_match(summary, run)
    summary.add(js.as_of, run.as_of)
    summary.add(js.checked, "quality", run.quality)
    _print_as_of(run.as_of)
    _print_match(run)
    print_quality_summary(run.quality, run.out_dir, color=interactive())
    if fail_on is not None:
        counts = run.quality.counts()
        failing = _failing(counts, fail_on)
        if failing:
            worse = "" if fail_on is FailOn.error else " or worse"
            summary.found(f"{failing:,} quality finding(s) of severity {fail_on.value}{worse}")
            typer.echo(f"--fail-on {fail_on.value}: {summary.message}")


@app.command("monthend", cls=HelpCommand)
@handles_errors
def monthend_command(
    data_dir: DataDir = None,
    config: ConfigOpt = None,
    out: OutOpt = None,
    period: Annotated[
        str | None,
        typer.Option("--period", metavar="YYYY-MM", help="The month to close (e.g. 2026-10)."),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", metavar="YYYY-MM", help="First month of a range.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", metavar="YYYY-MM", help="Last month of a range.")
    ] = None,
    state: StateOpt = None,
    table_format: MonthendFormatOpt = "csv",
    *,
    summary: Summary,
) -> None:
    """Reconcile CRM closed-won against ERP orders, invoices and payments month by month."""
    from recon.checks.monthend import months_in
    from recon.config.load import resolve_inputs
    from recon.pipeline import run_monthend
    from recon.report.monthend_console import print_monthend_summary

    months = months_in(period, start, end)  # a bad period stops here, before any data is read
    outputs = _outputs(table_format)
    inputs = resolve_inputs(data_dir, config)
    _, decisions = _stored_decisions(state, inputs)
    with progress_bars() as progress:
        run = run_monthend(
            inputs,
            out or default_out("monthend"),
            months,
            progress,
            decisions=decisions,
            outputs=outputs,
        )
    _add_match(summary, run)
    summary.add(js.monthend, run.monthend)
    print_monthend_summary(run.monthend, run.out_dir, color=interactive())


def _day(value: str | None, option: str) -> dt.date | None:
    from recon.asof import parse_day

    return parse_day(value, option)


def _since_days(value: str) -> int:
    """``7d`` → 7, ``2w`` → 14, ``10`` → 10."""
    import re

    from recon.errors import ConfigError

    found = re.fullmatch(r"\s*(\d+)\s*([dw]?)\s*", value.lower())
    if not found:
        raise ConfigError(f"--since is '{value}' — expected days or weeks such as 7d or 2w")
    return int(found.group(1)) * (7 if found.group(2) == "w" else 1)


@app.command("leakage", cls=HelpCommand)
@handles_errors
@delivers
def leakage_command(
    data_dir: DataDir = None,
    config: ConfigOpt = None,
    out: OutOpt = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="DAYS",
            help="Alert on leakage that became leakage in the last 7d / 2w.",
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("--from", metavar="YYYY-MM-DD", help="Window start for new leakage."),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", metavar="YYYY-MM-DD", help="Window end; the as-of date by default."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="DAY",
            help="Look from this day: YYYY-MM-DD, or today. Default: --to, else as_of in the "
            "rules, else the data's own end when it is earlier than today, else today.",
        ),
    ] = None,
    rules: Annotated[
        Path | None,
        typer.Option(
            "--rules", metavar="FILE", help="A leakage.yaml to use instead of the bundled."
        ),
    ] = None,
    state: StateOrStoreOpt = None,
    store: StoreOpt = None,
    table_format: LeakageFormatOpt = "csv",
    sheet_rows: SheetRowsOpt = SHEET_ROWS,
    *,
    deliver: Delivery,
    summary: Summary,
) -> None:
    """Find revenue leakage: won deals without ERP orders, or ordered below or above the deal.

    The run is recorded in the state store (--store; default recon-state.sqlite in --out, else
    the current folder) and compared with the previous run there: new findings, still open (with
    age), resolved, accepted. On a store's first run "new" is decided by --since/--from/--to.

    Exit codes: 0 no new leakage, 1 new leakage (for a scheduler to alert on), 2 bad input, 3 the
    outputs could not be written or the report could not be delivered (also when there was new
    leakage), 4 an unexpected error.
    """
    from recon.asof import parse_option
    from recon.config.load import resolve_inputs
    from recon.errors import ConfigError
    from recon.pipeline import run_leakage

    if since is not None and (start is not None or end is not None):
        raise ConfigError("give either --since or --from/--to, not both")
    first, last, day = _day(start, "--from"), _day(end, "--to"), parse_option(as_of)
    outputs = _outputs(table_format, sheet_rows)
    day = day or last
    days = _since_days(since) if since is not None else None  # counted back from the as-of day
    if first is not None and last is not None and first > last:
        raise ConfigError(f"--from {first} is after --to {last}")
    inputs = resolve_inputs(data_dir, config)
    location, decisions = _stored_decisions(state, inputs, store)
    with progress_bars() as progress:
        run = run_leakage(
            inputs,
            out or default_out("leakage"),
            progress,
            as_of=day,
            since=first,
            since_days=days,
            rules_path=rules,
            decisions=decisions,
            store=store_url(store, out),
            decisions_store=location,
            outputs=outputs,
        )
    result = run.leakage
    summary.add(js.outputs, run.out_dir, run.files)
    summary.add(js.as_of, run.as_of)
    summary.add(js.loaded, run.load)
    summary.add(js.matched, run.match)
    summary.add(js.leakage, result, run.new)
    summary.add(js.state, run.state)
    summary.add(lambda: {"run_json": str(run.manifest) if run.manifest else None})
    _print_as_of(run.as_of)
    typer.echo(_leakage_line(result))
    if run.state is not None and run.state.previous_run is not None:
        window = f"since run {run.state.previous_run}"
    else:
        window = f"since {run.since}" if run.since else "in total"
    typer.echo(f"new leakage {window}: {run.new:,}; outputs written to {run.out_dir}")
    if run.state is not None:
        typer.echo(_changes_line(run.state))
    if run.new:  # exit code 1, unless the delivery fails (3)
        summary.found(f"{run.new:,} new leakage finding(s) {window}")
    subject = f"recon leakage as of {result.as_of}: {run.new:,} new"
    _deliver(deliver, run, subject)


def _deliver(deliver: Delivery, run: Any, subject: str) -> None:
    """Send the report where asked, then record in the state store whether the run reached anyone:
    the findings of a run that did not stay new until one does (``recon.state.lifecycle``)."""
    from recon.state.lifecycle import DELIVERED, NOT_DELIVERED

    try:
        deliver(run.out_dir, subject)
    except ReconError:
        if run.state is not None:
            typer.echo(run.state.finish(NOT_DELIVERED), err=True)
        raise
    if run.state is not None:
        run.state.finish(DELIVERED)


def _changes_line(state: Any) -> str:
    """The leakage lifecycle in one line, and where the run was recorded."""
    counts = state.changes()
    told = ", ".join(
        f"{counts.get(k, 0):,} {label}"
        for k, label in (
            ("new", "new"),
            ("open", "still open"),
            ("expired", "open again (acceptance expired)"),
            ("accepted", "accepted"),
            ("resolved", "resolved"),
        )
        if counts.get(k, 0) or k in ("new", "open", "resolved")
    )
    return f"leakage findings: {told}; recorded as run {state.run_id} in {state.location}"


def _leakage_line(result: Any) -> str:
    """The findings by kind, then what the check learned of the data's billing habits."""
    counts = ", ".join(f"{n:,} {k}" for k, n in result.counts.items() if n) or "no findings"
    learned = "".join(f"\n  {k}: {v}" for k, v in result.habits.items())
    linked = int(result.evidence["linked"].sum()) if len(result.evidence) else 0
    if linked:
        learned += (
            f"\n  order evidence: {linked:,} won deals met their order on an ERP customer the "
            "matcher left apart (leakage_evidence.csv)"
        )
    head = "\nbilling habits (rules/leakage.yaml; auto = learned from this data):"
    return f"leakage as of {result.as_of}: {counts}" + (head + learned if learned else "")


def store_url(store: str | None, out: Path | None = None) -> str:
    """``--store``, else ``sqlite:///<out or cwd>/recon-state.sqlite``."""
    from recon.state.store import default_store_url

    return store or default_store_url(out)


@app.command("accept", cls=HelpCommand)
@handles_errors
def accept_command(
    finding_id: Annotated[
        str,
        typer.Argument(
            metavar="FINDING_ID",
            help="The finding's id, e.g. F-3f9a1c2b7d4e5a6b.",
            show_default=False,
        ),
    ],
    reason: Annotated[
        str, typer.Option("--reason", metavar="TEXT", help="Why the difference is accepted.")
    ],
    until: Annotated[
        str,
        typer.Option("--until", metavar="YYYY-MM-DD", help="Last day the acceptance holds."),
    ],
    owner: Annotated[
        str | None,
        typer.Option("--owner", metavar="NAME", help="Who owns it (default: your login name)."),
    ] = None,
    store: AcceptStoreOpt = None,
    *,
    summary: Summary,
) -> None:
    """Accept a finding: it stays out of the open list until --until, then opens again."""
    import getpass

    from recon.errors import StateError
    from recon.state.findings_io import accept
    from recon.state.store import Store

    try:
        last_day = dt.date.fromisoformat(until.strip())
    except ValueError:
        raise StateError(f"--until '{until}' is not a date; give YYYY-MM-DD") from None
    if last_day < dt.date.today():
        raise StateError(f"--until {last_day.isoformat()} is in the past; give today or later")
    with Store.open(store_url(store), create=False) as opened, opened.transaction() as conn:
        found = accept(
            conn,
            finding_id.strip(),
            reason=reason,
            owner=owner or getpass.getuser(),
            until=last_day,
            today=dt.date.today(),
        )
    accepted = {
        "finding_id": found["finding_id"],
        "family": found["family"],
        "kind": found["kind"],
        "key": found["key"],
        "until": last_day.isoformat(),
        "store": opened.location,
    }
    summary.add(lambda: {"accepted": accepted})
    typer.echo(
        f"accepted {found['finding_id']} ({found['family']} {found['kind']}: {found['key']}) "
        f"until {last_day.isoformat()} in {opened.location}"
    )


@app.command("rerun", cls=HelpCommand)
@handles_errors
def rerun_command(
    run_json: Annotated[
        Path,
        typer.Argument(
            metavar="RUN_JSON", help="The run.json of the run to re-run.", show_default=False
        ),
    ],
    out: OutOpt = None,
    store: RerunStoreOpt = None,
    *,
    summary: Summary,
) -> None:
    """Re-run a recorded run from its inputs and rules and compare xref ids and findings.

    Every input file and rule file must still have the sha256 run.json recorded (else exit 2).
    The re-run uses the recorded as-of day, months and review decisions, and a copy of the
    recorded SQLite state store (or --store).

    Exit codes: 0 same xref ids and findings as the run, 1 differences (the first are listed),
    2 bad input or changed files, 4 an unexpected error.
    """
    from recon.report.rerun import SHOWN
    from recon.report.rerun import summary as rerun_lines
    from recon.rerun import rerun

    with progress_bars() as progress:
        done = rerun(run_json, out or default_out("rerun"), store, progress)
    differences = list(done.differences)
    summary.add(js.full_run, done.run)
    summary.add(
        lambda: {
            "rerun_of": str(done.record.run_json),
            "counts": {"differences": len(differences)},
            "differences": differences[:SHOWN],
        }
    )
    for line in rerun_lines(done.differences, f"{done.record.name} ({done.record.run_json})"):
        typer.echo(line)
    typer.echo(f"re-run outputs: {done.run.out_dir}")
    if differences:
        summary.found(f"{len(differences):,} difference(s) from {done.record.name}")


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
