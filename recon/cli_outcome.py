"""How a recon command ends: the one place its errors become an ``error:`` line and an exit code,
and where its notes and its ``--json`` summary go.

Exit codes (README, "Exit codes"): 0 success, 1 findings the command was asked to fail on (its
``Summary.found``), 2 bad input (a ReconError, a file the system refused), 3 the outputs could not
be written or the report not delivered, 4 an error recon did not foresee, 130 interrupted.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, redirect_stdout
from dataclasses import dataclass
from typing import Annotated, Any, TextIO, TypeVar

import typer

from recon.cli_options import with_params
from recon.errors import OutputError, ReconError
from recon.progress import RowCounter, row_progress
from recon.report.json_summary import (
    BAD_INPUT,
    CRASHED,
    INTERRUPTED,
    OUTPUTS_NOT_WRITTEN,
    Summary,
)

__all__ = ["CRASHED", "flags", "handles_errors", "os_reason", "progress_bars"]


@dataclass
class Flags:
    """The options of ``recon`` itself and of the running command that change how it reports."""

    debug: bool = False  # re-raise errors for their traceback
    quiet: bool = False  # no notes, no progress


flags = Flags()

# typer's exits and usage errors pass through (its click may be vendored: found by name).
_CLI_EXITS: tuple[type[BaseException], ...] = (
    typer.Exit,
    typer.Abort,
    *(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"),
)
F = TypeVar("F", bound=Callable[..., Any])

# The options handles_errors gives every command.
_OUTCOME_PARAMS = (
    inspect.Parameter(
        "json_summary",
        inspect.Parameter.KEYWORD_ONLY,
        default=False,
        annotation=Annotated[
            bool,
            typer.Option(
                "--json",
                help="Print a summary as one JSON document on stdout (counts, output files, exit "
                "code and reason); notes and progress go to stderr.",
            ),
        ],
    ),
    inspect.Parameter(
        "quiet",
        inspect.Parameter.KEYWORD_ONLY,
        default=False,
        annotation=Annotated[
            bool,
            typer.Option("--quiet", "-q", help="No notes or progress; errors still go to stderr."),
        ],
    ),
    inspect.Parameter("cli_context", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context),
)


def handles_errors(func: F) -> F:
    """The one place a command's outcome becomes its output and exit code.

    A ReconError is its message and exit code (2; 3 when the outputs or the delivery failed), a
    file the system refused exit code 2, anything recon did not foresee exit code 4 and Ctrl-C 130,
    each one ``error:`` line on stderr (``--debug`` re-raises for the traceback). Gives the command
    ``--json`` (its ``Summary`` as one JSON document on stdout, the notes on stderr) and
    ``--quiet`` (no notes, no progress), and hands it the Summary to fill as ``summary`` when it
    takes one; the command sets exit code 1 there when it found what it was asked to fail on.
    """
    takes_summary = "summary" in inspect.signature(func).parameters

    @functools.wraps(func)
    def wrapper(
        *args: Any, json_summary: bool, quiet: bool, cli_context: typer.Context, **kwargs: Any
    ) -> None:
        summary = Summary(_command_name(cli_context))
        if takes_summary:
            kwargs["summary"] = summary
        flags.quiet = quiet
        if quiet and not flags.debug:
            logging.getLogger("recon").setLevel(logging.ERROR)
        with _notes_to(json_summary, quiet) as stdout:
            with _reported(summary):
                func(*args, **kwargs)
            if json_summary:
                _print_json(summary, stdout)
        if summary.exit_code:
            raise typer.Exit(summary.exit_code)

    with_params(wrapper, func, drop=["summary"], add=_OUTCOME_PARAMS)
    return wrapper  # type: ignore[return-value]


@contextmanager
def _reported(summary: Summary) -> Iterator[None]:
    """Run the block; an error becomes one ``error:`` line and the summary's exit code."""
    try:
        yield
    except ReconError as exc:
        if flags.debug:
            raise
        reason = OUTPUTS_NOT_WRITTEN if isinstance(exc, OutputError) else None
        _failed(summary, exc.exit_code, str(exc), reason)
    except _CLI_EXITS:
        raise
    except OSError as exc:  # a file or folder the system refused: the input's or the setup's
        if flags.debug:
            raise
        _failed(summary, BAD_INPUT, os_reason(exc))
    except Exception as exc:
        if flags.debug:
            raise
        _failed(summary, CRASHED, _unexpected(exc))
    except KeyboardInterrupt:
        if flags.debug:
            raise
        _failed(summary, INTERRUPTED, "interrupted — the outputs of this run are incomplete")


def _failed(summary: Summary, code: int, message: str, reason: str | None = None) -> None:
    typer.echo(f"error: {message}", err=True)
    summary.ended(code, message, reason)


def _unexpected(exc: Exception) -> str:
    text = (str(exc).strip().splitlines() or [""])[0][:300]
    return (
        f"unexpected {type(exc).__name__}: {text} — recon stopped; re-run with --debug for the "
        "traceback and report it"
    )


def _print_json(summary: Summary, stdout: TextIO) -> None:
    """The summary on stdout; should reading the results fail, the exit code and reason alone."""
    try:
        text = summary.dumps()
    except Exception as exc:
        if flags.debug:
            raise
        _failed(summary, CRASHED, _unexpected(exc))
        text = summary.dumps(results=False)
    typer.echo(text, file=stdout)


@contextmanager
def _notes_to(json_summary: bool, quiet: bool) -> Iterator[TextIO]:
    """Where a command's notes (summary tables, "outputs written to") go: stdout, but stderr with
    --json so stdout holds the JSON alone, and nowhere with --quiet. Yields stdout as it was."""
    stdout = sys.stdout
    if quiet:
        with open(os.devnull, "w", encoding="utf-8") as sink, redirect_stdout(sink):
            yield stdout
    elif json_summary:
        with redirect_stdout(sys.stderr):
            yield stdout
    else:
        yield stdout


def _command_name(ctx: typer.Context) -> str:
    """``run``, ``review apply``: the command's names under ``recon``."""
    names: list[str] = []
    current: Any = ctx
    while current.parent is not None:
        names.append(current.info_name or "")
        current = current.parent
    return " ".join(reversed(names)) or (current.info_name or "")


def progress_bars() -> Any:
    """Progress bars (on a terminal only), unless --quiet."""
    return nullcontext(RowCounter(None)) if flags.quiet else row_progress()


def os_reason(exc: OSError) -> str:
    """``Permission denied: data/crm_deals.csv`` — what the system said, and of which path."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    return f"{reason}: {' → '.join(paths)}" if paths else reason
