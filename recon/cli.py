"""The recon command line: parse options, set up logging, call the pipeline, map errors to exit codes.

Exit codes: 0 success, 1 findings (for commands asked to fail on them), 2 bad input or configuration.
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

log = logging.getLogger(__name__)

app = typer.Typer(
    name="recon",
    help="Reconcile CRM companies and deals against ERP customers, orders and invoices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state = {"debug": False}
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

    return wrapper  # type: ignore[return-value]


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
def load(data_dir: DataDir = None, config: ConfigOpt = None, out: OutOpt = None) -> None:
    """Extract and validate the input tables; write canonical tables, quarantined rows and a summary."""
    from recon.config.load import resolve_inputs
    from recon.pipeline import run_load

    inputs = resolve_inputs(data_dir, config)
    with row_progress() as progress:
        run = run_load(inputs, out or default_out("load"), progress)
    _print_summary(run)


@app.command("match")
@handles_errors
def match_command(data_dir: DataDir = None, config: ConfigOpt = None, out: OutOpt = None) -> None:
    """Link CRM companies and ERP customers into entities; flag duplicates; write xref files."""
    from recon.config.load import resolve_inputs
    from recon.pipeline import run_match

    inputs = resolve_inputs(data_dir, config)
    with row_progress() as progress:
        run = run_match(inputs, out or default_out("match"), progress)
    _print_match(run)


def _print_match(run: Any) -> None:
    from recon.report.console import print_load_summary, print_match_summary

    print_load_summary(run.load, run.out_dir, color=interactive(), footer=False)
    print_match_summary(run.match, run.out_dir, color=interactive())


@app.command()
@handles_errors
def demo(out: OutOpt = None) -> None:
    """Run recon end to end on the bundled sample data."""
    from recon.config.load import folder_config
    from recon.pipeline import run_match
    from recon.resources import sample_data_dir

    inputs = folder_config(sample_data_dir())
    with row_progress() as progress:
        run = run_match(inputs, out or default_out("demo"), progress)
    _print_match(run)


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
        str, typer.Option("--as-of", help="Last day of the generated history (YYYY-MM-DD).")
    ] = "2026-10-31",
) -> None:
    """Generate realistic CRM and ERP sample data with ground-truth files."""
    from recon.errors import ConfigError
    from recon.sampledata import generate, write

    try:
        day = dt.date.fromisoformat(as_of)
    except ValueError:
        raise ConfigError(f"--as-of is '{as_of}' — expected a date such as 2026-10-31") from None
    with console.status("generating", spinner="dots") if interactive() else _nullcontext():
        data = generate(entities, seed, as_of=day)
        paths = write(data, out)
    typer.echo(f"wrote {len(paths)} files for {entities} entities (seed {seed}) to {out}")


class _nullcontext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
