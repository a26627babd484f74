"""The recon command line: parse options, set up logging, call the pipeline, map errors to exit codes.

Exit codes: 0 success, 1 findings (for commands asked to fail on them), 2 bad input or configuration,
3 the outputs could not be written or the report could not be delivered (``recon.report.staging``,
``recon.report.deliver``), 4 an unexpected error (re-run with --debug for the traceback).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from recon import __version__
from recon.errors import ReconError
from recon.progress import console, interactive, row_progress, setup_logging
from recon.report.options import MAX_SHEET_ROWS, SHEET_ROWS

log = logging.getLogger(__name__)

app = typer.Typer(
    name="recon",
    help="Reconcile CRM companies and deals against ERP customers, orders and invoices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state = {"debug": False}
CRASHED = 4  # an error recon did not foresee: its own fault, never "new findings" (1)
# typer's exits and usage errors pass through (its click may be vendored: found by name).
_CLI_EXITS = (
    typer.Exit,
    typer.Abort,
    *(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"),
)
F = TypeVar("F", bound=Callable[..., Any])


def handles_errors(func: F) -> F:
    """The one place ReconError becomes a message and an exit code (--debug shows the traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ReconError as exc:
            if _state["debug"]:
                raise
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except _CLI_EXITS:
            raise
        except OSError as exc:  # a file or folder the system refused: the input's or the setup's
            if _state["debug"]:
                raise
            typer.echo(f"error: {_os_reason(exc)}", err=True)
            raise typer.Exit(ReconError.exit_code) from None
        except Exception as exc:
            if _state["debug"]:
                raise
            text = (str(exc).strip().splitlines() or [""])[0][:300]
            typer.echo(
                f"error: unexpected {type(exc).__name__}: {text} — recon stopped; re-run with "
                "--debug for the traceback and report it",
                err=True,
            )
            raise typer.Exit(CRASHED) from None

    return wrapper  # type: ignore[return-value]


def _os_reason(exc: OSError) -> str:
    """``Permission denied: data/crm_deals.csv`` — what the system said, and of which path."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    return f"{reason}: {' → '.join(paths)}" if paths else reason


def _version(value: bool) -> None:
    if value:
        typer.echo(f"recon {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More log lines (-vv for debug).")
    ] = 0,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback of an error.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    _state["debug"] = debug
    setup_logging(verbose + (2 if debug else 0))


DataDir = Annotated[
    Path | None,
    typer.Argument(
        help="Folder holding crm_companies, crm_deals, erp_customers, erp_orders (.csv/.xlsx)."
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="recon.yaml saying where each table comes from."),
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out", "-o", help="Output folder (default: a new dated folder under ./recon-out/)."
    ),
]

FormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        help="Format of the large tables (xref, matches, duplicates, leakage, quality, "
        "month-end differences, quarantine, canonical tables): csv, parquet or both.",
        rich_help_panel="Outputs",
    ),
]
SheetRowsOpt = Annotated[
    int,
    typer.Option(
        "--sheet-rows",
        min=1,
        max=MAX_SHEET_ROWS,
        help="Rows each report.xlsx sheet holds, the most valuable first; the sheet names the "
        "file that holds them all.",
        rich_help_panel="Outputs",
    ),
]


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


StateOpt = Annotated[
    Path | None,
    typer.Option(
        "--state",
        help="Folder of recon's memory (review decisions); default: state_dir in recon.yaml, "
        "else ./recon-state. With --store the decisions live in the state store instead.",
    ),
]


def _stored_decisions(
    state: Path | None, inputs: Any, store: str | None = None
) -> tuple[str, list[Any]]:
    """Where the review decisions are kept (the state store given by ``--store``, else the CSV log
    in the state folder), and the current one of each pair."""
    from recon.state import open_decisions, state_dir

    opened = open_decisions(state_dir(state, inputs), store)
    return opened.location, opened.current()


EmailToOpt = Annotated[
    str | None,
    typer.Option(
        "--email-to",
        help="E-mail the report to these addresses (comma-separated): report.html as the body, "
        "report.xlsx attached. Credentials: environment variables RECON_SMTP_USER and "
        "RECON_SMTP_PASSWORD, never options.",
        rich_help_panel="Delivery",
    ),
]
EmailFromOpt = Annotated[
    str | None,
    typer.Option("--email-from", help="Sender address of the e-mail.", rich_help_panel="Delivery"),
]
SmtpHostOpt = Annotated[
    str | None,
    typer.Option("--smtp-host", help="SMTP server to send through.", rich_help_panel="Delivery"),
]
SmtpPortOpt = Annotated[
    int, typer.Option("--smtp-port", help="SMTP port.", rich_help_panel="Delivery")
]
StartTlsOpt = Annotated[
    bool,
    typer.Option(
        "--starttls/--no-starttls",
        help="Encrypt the SMTP session with STARTTLS (required when credentials are set).",
        rich_help_panel="Delivery",
    ),
]
DeliverToOpt = Annotated[
    Path | None,
    typer.Option(
        "--deliver-to",
        help="Copy report.html and report.xlsx into this folder (created if missing).",
        rich_help_panel="Delivery",
    ),
]
AttemptsOpt = Annotated[
    int,
    typer.Option(
        "--delivery-attempts",
        min=1,
        help="Tries per delivery before it counts as failed (exit code 3).",
        rich_help_panel="Delivery",
    ),
]
BackoffOpt = Annotated[
    float,
    typer.Option(
        "--delivery-backoff",
        min=0,
        help="Seconds to wait after the first failed try, doubled after each further one.",
        rich_help_panel="Delivery",
    ),
]


class _Delivery:
    """Where a run's report goes, checked before the run starts (a bad option is exit code 2)."""

    def __init__(
        self,
        email_to: str | None,
        email_from: str | None,
        smtp_host: str | None,
        smtp_port: int,
        starttls: bool,
        deliver_to: Path | None,
        attempts: int,
        backoff: float,
    ) -> None:
        from recon.errors import ConfigError
        from recon.report.deliver import Retry, email_settings

        if email_to is None and (email_from or smtp_host):
            raise ConfigError("--email-from and --smtp-host need --email-to, the recipients")
        self.email = (
            email_settings(email_to, email_from, smtp_host, smtp_port, starttls)
            if email_to is not None
            else None
        )
        if deliver_to is not None and deliver_to.exists() and not deliver_to.is_dir():
            raise ConfigError(f"--deliver-to {deliver_to} is a file; give a folder")
        self.folder = deliver_to
        self.retry = Retry(attempts, backoff)

    def __call__(self, out_dir: Path, subject: str) -> None:
        """Deliver report.html and report.xlsx; DeliveryError (exit code 3) when it failed."""
        from recon.report.deliver import DeliveryError, build_message, copy_to_folder, send_email
        from recon.report.write import EXCEL_NAME, HTML_NAME

        html, excel = out_dir / HTML_NAME, out_dir / EXCEL_NAME
        failures = []
        if self.folder is not None:
            try:
                copy_to_folder([html, excel], self.folder, self.retry)
                typer.echo(f"report copied to {self.folder}")
            except DeliveryError as exc:
                failures.append(str(exc))
        if self.email is not None:
            try:
                message = build_message(self.email, subject, html, [excel])
                tries = send_email(self.email, message, self.retry)
                typer.echo(
                    f"report e-mailed to {', '.join(self.email.to)}"
                    + (f" (after {tries} attempts)" if tries > 1 else "")
                )
            except DeliveryError as exc:
                failures.append(str(exc))
        if failures:
            raise DeliveryError("; ".join(failures))


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


@app.command()
@handles_errors
def load(
    data_dir: DataDir = None,
    config: ConfigOpt = None,
    out: OutOpt = None,
    table_format: FormatOpt = "csv",
) -> None:
    """Extract and validate the input tables; write canonical tables, quarantined rows and a summary."""
    from recon.config.load import resolve_inputs
    from recon.pipeline import run_load

    outputs = _outputs(table_format)
    inputs = resolve_inputs(data_dir, config)
    with row_progress() as progress:
        run = run_load(inputs, out or default_out("load"), progress, outputs)
    _print_summary(run)


@app.command("match")
@handles_errors
def match_command(
    data_dir: DataDir = None,
    config: ConfigOpt = None,
    out: OutOpt = None,
    state: StateOpt = None,
    table_format: FormatOpt = "csv",
) -> None:
    """Link CRM companies and ERP customers into entities; flag duplicates; write xref files."""
    from recon.config.load import resolve_inputs
    from recon.pipeline import run_match

    outputs = _outputs(table_format)
    inputs = resolve_inputs(data_dir, config)
    _, decisions = _stored_decisions(state, inputs)
    with row_progress() as progress:
        run = run_match(inputs, out or default_out("match"), progress, decisions, outputs)
    _print_match(run)


AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Day the checks count back from: YYYY-MM-DD, or today. Default: as_of in "
        "rules/leakage.yaml, else the data's own end (latest closed deal, order or invoice) when "
        "it is earlier than today, else today.",
    ),
]


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


@app.command()
@handles_errors
def demo(
    out: OutOpt = None,
    state: StateOpt = None,
    table_format: FormatOpt = "csv",
    sheet_rows: SheetRowsOpt = SHEET_ROWS,
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
    with row_progress() as progress:
        run = run_all(
            inputs,
            out or default_out("demo"),
            progress,
            decisions,
            decisions_store=location,
            as_of=dt.date.fromisoformat(meta["as_of"]),
            outputs=outputs,
        )
    _print_full_run(run)
    typer.echo(f"report: {run.out_dir / 'report.html'}")


@app.command("sample-data")
@handles_errors
def sample_data(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the CSV files into.")],
    entities: Annotated[
        int, typer.Option("--entities", "-n", min=1, help="Number of real-world companies.")
    ] = 300,
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed; the same seed gives the same files.")
    ] = 42,
    as_of: Annotated[
        str,
        typer.Option("--as-of", help="Last day of the generated history (YYYY-MM-DD, or today)."),
    ] = "2026-10-31",
    habit: Annotated[
        list[str] | None,
        typer.Option(
            "--habit",
            help="A billing habit of the generated business as NAME=VALUE, e.g. instalments=0.3, "
            "instalment_gap_days=[60,100], ref_first_only=true, go_live_days=500 "
            "(repeat the option; see recon.sampledata.Habits).",
        ),
    ] = None,
) -> None:
    """Generate realistic CRM and ERP sample data with ground-truth files."""
    from recon.asof import parse_option
    from recon.sampledata import generate, write

    option = parse_option(as_of)
    day = option if isinstance(option, dt.date) else dt.date.today()
    habits = _habits(habit or [])
    with console.status("generating", spinner="dots") if interactive() else _nullcontext():
        try:
            data = generate(entities, seed, as_of=day, habits=habits)
        except ValueError as exc:
            raise ReconError(f"--habit: {exc}") from None
        paths = write(data, out)
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
)
app.add_typer(review_app, name="review")


@review_app.command("apply")
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
    state: StateOpt = None,
    demo: Annotated[
        bool,
        typer.Option("--demo", help="The files come from `recon demo`: check against its data."),
    ] = False,
    store: StoreOpt = None,
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
    typer.echo(_review_summary(applied))


def _review_summary(applied: Any) -> str:
    from recon.models import MATCH

    n = len(applied.decisions)
    if not n:
        return (
            f"no decisions found: {applied.undecided} row(s), each with an empty decision or "
            "skip; nothing was stored"
        )
    matches = sum(d.decision == MATCH for d in applied.decisions)
    return (
        f"stored {n} decision(s) ({matches} match, {n - matches} not a match) in {applied.store}: "
        f"{applied.added} new, {applied.changed} changed, {applied.unchanged} already stored; "
        f"{applied.undecided} row(s) without a decision (empty or skip) left out. "
        "The next recon match or recon run honours them."
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


@app.command("run")
@handles_errors
def run_command(
    data_dir: DataDir = None,
    config: ConfigOpt = None,
    out: OutOpt = None,
    state: StateOpt = None,
    as_of: AsOfOpt = None,
    period: Annotated[
        str | None, typer.Option("--period", help="Month-end: one month (YYYY-MM).")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="Month-end: first month of a range (YYYY-MM).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Month-end: last month of a range (YYYY-MM).")
    ] = None,
    store: StoreOpt = None,
    email_to: EmailToOpt = None,
    email_from: EmailFromOpt = None,
    smtp_host: SmtpHostOpt = None,
    smtp_port: SmtpPortOpt = 587,
    starttls: StartTlsOpt = True,
    deliver_to: DeliverToOpt = None,
    delivery_attempts: AttemptsOpt = 3,
    delivery_backoff: BackoffOpt = 5.0,
    table_format: FormatOpt = "csv",
    sheet_rows: SheetRowsOpt = SHEET_ROWS,
) -> None:
    """Run everything: load, match, checks, state store and reports, plus run.json (counts,
    timings, checksums, the store's run id).

    Month-end covers the twelve complete months up to the as-of day unless --period or
    --from/--to say.
    The run is recorded in the state store (--store; default recon-state.sqlite in --out, else
    the current folder); with --store the review decisions are read from it too. Exit codes:
    0 done, 2 bad input, 3 the report could not be delivered (the outputs are kept).
    """
    from recon.asof import parse_option
    from recon.checks.monthend import months_in
    from recon.config.load import resolve_inputs
    from recon.pipeline import run_all

    day = parse_option(as_of)  # a bad day stops here, before any data is read
    outputs = _outputs(table_format, sheet_rows)
    months = months_in(period, start, end) if (period or start or end) else None
    deliver = _Delivery(
        email_to, email_from, smtp_host, smtp_port, starttls, deliver_to,
        delivery_attempts, delivery_backoff,
    )  # fmt: skip
    inputs = resolve_inputs(data_dir, config)
    location, decisions = _stored_decisions(state, inputs, store)
    with row_progress() as progress:
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
    _print_full_run(run)
    if run.state is not None:
        typer.echo(_changes_line(run.state))
    typer.echo(f"run record: {run.manifest}")
    _deliver(deliver, run, f"recon report as of {run.checks['leakage'].as_of}")


@app.command("quality")
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
            help="Folder with your own quality.yaml and/or ownership.yaml (a file it lacks is "
            "taken from the bundled rules).",
        ),
    ] = None,
    as_of: AsOfOpt = None,
    table_format: FormatOpt = "csv",
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
    with row_progress() as progress:
        run = run_quality(
            inputs,
            out or default_out("quality"),
            progress,
            decisions,
            rules_dir=rules,
            as_of=day,
            outputs=outputs,
        )
    _print_as_of(run.as_of)
    _print_match(run)
    print_quality_summary(run.quality, run.out_dir, color=interactive())


@app.command("monthend")
@handles_errors
def monthend_command(
    data_dir: DataDir = None,
    config: ConfigOpt = None,
    out: OutOpt = None,
    period: Annotated[
        str | None, typer.Option("--period", help="The month to close (YYYY-MM, e.g. 2026-10).")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First month of a range (YYYY-MM).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last month of a range (YYYY-MM).")
    ] = None,
    state: StateOpt = None,
    table_format: FormatOpt = "csv",
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
    with row_progress() as progress:
        run = run_monthend(
            inputs,
            out or default_out("monthend"),
            months,
            progress,
            decisions=decisions,
            outputs=outputs,
        )
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


@app.command("leakage")
@handles_errors
def leakage_command(
    data_dir: DataDir = None,
    config: ConfigOpt = None,
    out: OutOpt = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Alert on leakage that became leakage in the last 7d / 2w."),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="Window start (YYYY-MM-DD) for new leakage.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Window end (YYYY-MM-DD); the as-of date by default.")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Look from this day: YYYY-MM-DD, or today. Default: --to, else as_of in the "
            "rules, else the data's own end when it is earlier than today, else today.",
        ),
    ] = None,
    rules: Annotated[
        Path | None, typer.Option("--rules", help="A leakage.yaml to use instead of the bundled.")
    ] = None,
    state: StateOpt = None,
    store: StoreOpt = None,
    email_to: EmailToOpt = None,
    email_from: EmailFromOpt = None,
    smtp_host: SmtpHostOpt = None,
    smtp_port: SmtpPortOpt = 587,
    starttls: StartTlsOpt = True,
    deliver_to: DeliverToOpt = None,
    delivery_attempts: AttemptsOpt = 3,
    delivery_backoff: BackoffOpt = 5.0,
    table_format: FormatOpt = "csv",
    sheet_rows: SheetRowsOpt = SHEET_ROWS,
) -> None:
    """Find revenue leakage: won deals without ERP orders, or ordered below or above the deal.

    The run is recorded in the state store (--store; default recon-state.sqlite in --out, else
    the current folder) and compared with the previous run there: new findings, still open (with
    age), resolved, accepted. On a store's first run "new" is decided by --since/--from/--to.
    Exit code 0 when no new leakage is found, 1 when there is new leakage (for a scheduler to
    alert on), 2 on bad input, 3 when the report could not be delivered (outputs kept).
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
    deliver = _Delivery(
        email_to, email_from, smtp_host, smtp_port, starttls, deliver_to,
        delivery_attempts, delivery_backoff,
    )  # fmt: skip
    inputs = resolve_inputs(data_dir, config)
    location, decisions = _stored_decisions(state, inputs, store)
    with row_progress() as progress:
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
    _print_as_of(run.as_of)
    typer.echo(_leakage_line(result))
    if run.state is not None and run.state.previous_run is not None:
        window = f"since run {run.state.previous_run}"
    else:
        window = f"since {run.since}" if run.since else "in total"
    typer.echo(f"new leakage {window}: {run.new:,}; outputs written to {run.out_dir}")
    if run.state is not None:
        typer.echo(_changes_line(run.state))
    subject = f"recon leakage as of {result.as_of}: {run.new:,} new"
    _deliver(deliver, run, subject)  # a failed delivery is exit code 3, even with new leakage
    if run.new:
        raise typer.Exit(1)


def _deliver(deliver: _Delivery, run: Any, subject: str) -> None:
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


class _nullcontext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="State store URL (sqlite:///FILE, postgresql+psycopg://…, mysql+pymysql://…; "
        "${VAR} reads the environment); default: recon-state.sqlite in the output folder, "
        "else the current folder.",
    ),
]


def store_url(store: str | None, out: Path | None = None) -> str:
    """``--store``, else ``sqlite:///<out or cwd>/recon-state.sqlite``."""
    from recon.state.store import default_store_url

    return store or default_store_url(out)


@app.command("accept")
@handles_errors
def accept_command(
    finding_id: Annotated[str, typer.Argument(help="The finding's id, e.g. F-3f9a1c2b7d4e5a6b.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the difference is accepted.")],
    until: Annotated[
        str, typer.Option("--until", help="Last day the acceptance holds (YYYY-MM-DD).")
    ],
    owner: Annotated[
        str | None, typer.Option("--owner", help="Who owns it (default: your login name).")
    ] = None,
    store: StoreOpt = None,
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
    typer.echo(
        f"accepted {found['finding_id']} ({found['family']} {found['kind']}: {found['key']}) "
        f"until {last_day.isoformat()} in {opened.location}"
    )


@app.command("rerun")
@handles_errors
def rerun_command(
    run_json: Annotated[Path, typer.Argument(help="The run.json of the run to re-run.")],
    out: OutOpt = None,
    store: StoreOpt = None,
) -> None:
    """Re-run a recorded run from its inputs and rules and compare xref ids and findings.

    Every input file and rule file must still have the sha256 run.json recorded (else exit 2).
    The re-run uses the recorded as-of day, months and review decisions, and a copy of the
    recorded SQLite state store (or --store). Exit codes: 0 same xref ids and findings as the
    run, 1 differences (the first are listed), 2 bad input or changed files.
    """
    from recon.report.rerun import summary
    from recon.rerun import rerun

    with row_progress() as progress:
        done = rerun(run_json, out or default_out("rerun"), store, progress)
    for line in summary(done.differences, f"{done.record.name} ({done.record.run_json})"):
        typer.echo(line)
    typer.echo(f"re-run outputs: {done.run.out_dir}")
    if done.differences:
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
