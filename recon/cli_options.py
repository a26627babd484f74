"""The options recon's commands share, declared once: where the input and the outputs are, the
state, the output formats, and the delivery options of the commands that deliver a report.

Each option that takes a value names the kind of value (DIR, FILE, YYYY-MM-DD) in its metavar, so
``--help`` shows that instead of a Python type.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from recon.report.options import MAX_SHEET_ROWS

F = TypeVar("F", bound=Callable[..., Any])

DataDir = Annotated[
    Path | None,
    typer.Argument(
        metavar="DATA_DIR",
        help="Folder holding crm_companies, crm_deals, erp_customers, erp_orders (.csv/.xlsx).",
        show_default=False,
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", metavar="FILE", help="recon.yaml saying where each table comes from."
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        metavar="DIR",
        help="Output folder (default: a new dated folder under ./recon-out/).",
    ),
]
_STATE_HELP = (
    "Folder of recon's memory (review decisions); default: state_dir in recon.yaml, else "
    "./recon-state."
)
StateOpt = Annotated[Path | None, typer.Option("--state", metavar="DIR", help=_STATE_HELP)]
StateOrStoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--state",
        metavar="DIR",
        help=f"{_STATE_HELP} With --store the decisions live in the state store instead.",
    ),
]


def _store(use: str, default: str) -> Any:
    return typer.Option(
        "--store",
        metavar="URL",
        help=f"State store URL {use}(sqlite:///FILE, postgresql+psycopg://…, mysql+pymysql://…; "
        f"${{VAR}} reads the environment); {default}.",
    )


StoreOpt = Annotated[
    str | None,
    _store("", "default: recon-state.sqlite in the output folder, else the current folder"),
]
AcceptStoreOpt = Annotated[
    str | None, _store("", "default: recon-state.sqlite in the current folder")
]
ReviewStoreOpt = Annotated[
    str | None,
    _store("to keep the decisions in ", "default: decisions.csv in the --state folder"),
]
RerunStoreOpt = Annotated[
    str | None,
    _store("to re-run against ", "default: a copy of the SQLite store the run was recorded in"),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="DAY",
        help="Day the checks count back from: YYYY-MM-DD, or today. Default: as_of in "
        "rules/leakage.yaml, else the data's own end (latest closed deal, order or invoice) when "
        "it is earlier than today, else today.",
    ),
]


def _format(tables: str) -> Any:
    return typer.Option(
        "--format",
        metavar="FORMAT",
        help=f"Format of the large tables ({tables}): csv, parquet or both.",
        rich_help_panel="Outputs",
    )


_LOADED = "canonical tables, quarantine"
_MATCHED = f"xref, matches, duplicates, {_LOADED}"
LoadFormatOpt = Annotated[str, _format(_LOADED)]
MatchFormatOpt = Annotated[str, _format(_MATCHED)]
QualityFormatOpt = Annotated[str, _format(f"quality, {_MATCHED}")]
MonthendFormatOpt = Annotated[str, _format(f"month-end differences, {_MATCHED}")]
LeakageFormatOpt = Annotated[str, _format(f"leakage, {_MATCHED}")]
RunFormatOpt = Annotated[str, _format(f"leakage, quality, month-end differences, {_MATCHED}")]
SheetRowsOpt = Annotated[
    int,
    typer.Option(
        "--sheet-rows",
        min=1,
        max=MAX_SHEET_ROWS,
        metavar="N",
        help="Rows each report.xlsx sheet holds, the most valuable first; the sheet names the "
        "file that holds them all.",
        rich_help_panel="Outputs",
    ),
]


def with_params(
    wrapper: Callable[..., Any],
    func: Callable[..., Any],
    *,
    drop: Iterable[str] = (),
    add: Iterable[inspect.Parameter] = (),
) -> None:
    """Give ``wrapper`` the parameters typer reads from ``func``, less ``drop`` (what the wrapper
    hands ``func`` itself) and plus ``add`` (options the wrapper handles), keyword-only."""
    signature = inspect.signature(func, eval_str=True)
    dropped = set(drop)
    params = [p for p in signature.parameters.values() if p.name not in dropped]
    params += [p for p in add if p.name not in signature.parameters]
    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}


def _keyword(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


def _delivery(*decls: str, **kwargs: Any) -> Any:
    return typer.Option(*decls, rich_help_panel="Delivery", **kwargs)


# The delivery options of `recon run` and `recon leakage`, in the order --help lists them.
DELIVERY_PARAMS = (
    _keyword(
        "email_to",
        Annotated[
            str | None,
            _delivery(
                "--email-to",
                metavar="ADDRESSES",
                help="E-mail the report to these addresses (comma-separated): a short summary as "
                "the body, report.html and report.xlsx attached. Credentials: environment "
                "variables RECON_SMTP_USER and RECON_SMTP_PASSWORD, never options.",
            ),
        ],
        None,
    ),
    _keyword(
        "email_from",
        Annotated[
            str | None,
            _delivery("--email-from", metavar="ADDRESS", help="Sender address of the e-mail."),
        ],
        None,
    ),
    _keyword(
        "smtp_host",
        Annotated[
            str | None,
            _delivery("--smtp-host", metavar="HOST", help="SMTP server to send through."),
        ],
        None,
    ),
    _keyword(
        "smtp_port",
        Annotated[int, _delivery("--smtp-port", metavar="PORT", help="SMTP port.")],
        587,
    ),
    _keyword(
        "starttls",
        Annotated[
            bool,
            _delivery(
                "--starttls/--no-starttls",
                help="Encrypt the SMTP session with STARTTLS (required when credentials are set).",
            ),
        ],
        True,
    ),
    _keyword(
        "deliver_to",
        Annotated[
            Path | None,
            _delivery(
                "--deliver-to",
                metavar="DIR",
                help="Copy report.html and report.xlsx into this folder (created if missing).",
            ),
        ],
        None,
    ),
    _keyword(
        "delivery_attempts",
        Annotated[
            int,
            _delivery(
                "--delivery-attempts",
                min=1,
                metavar="N",
                help="Tries per delivery before it counts as failed (exit code 3).",
            ),
        ],
        3,
    ),
    _keyword(
        "delivery_backoff",
        Annotated[
            float,
            _delivery(
                "--delivery-backoff",
                min=0,
                metavar="SECONDS",
                help="Seconds to wait after the first failed try, doubled after each further one.",
            ),
        ],
        5.0,
    ),
)


class Delivery:
    """Where a run's report goes, checked before the run starts (a bad option is exit code 2)."""

    def __init__(
        self,
        email_to: str | None = None,
        email_from: str | None = None,
        smtp_host: str | None = None,
        smtp_port: int = 587,
        starttls: bool = True,
        deliver_to: Path | None = None,
        delivery_attempts: int = 3,
        delivery_backoff: float = 5.0,
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
        self.retry = Retry(delivery_attempts, delivery_backoff)

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


def delivers(func: F) -> F:
    """Give a command the delivery options and hand it one checked ``Delivery`` as ``deliver``:
    the options are declared once, for the commands that deliver a report."""
    names = [p.name for p in DELIVERY_PARAMS]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        options = {name: kwargs.pop(name) for name in names if name in kwargs}
        return func(*args, deliver=Delivery(**options), **kwargs)

    with_params(wrapper, func, drop=["deliver"], add=DELIVERY_PARAMS)
    return wrapper  # type: ignore[return-value]
