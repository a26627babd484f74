"""Progress bars on a terminal, silence elsewhere (cron, CI, pipes)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

# One console for bars and log lines, so log lines are printed above the bar instead of tearing it.
console = Console(stderr=True)


def interactive() -> bool:
    return sys.stderr.isatty()


def setup_logging(verbosity: int) -> None:
    """Configure only the ``recon`` logger: warnings by default, -v info, -vv debug."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logger = logging.getLogger("recon")
    logger.handlers.clear()
    handler: logging.Handler
    if interactive():
        handler = RichHandler(console=console, show_path=False, show_time=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = _CurrentStderr()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is now, so a replaced and closed stream is never used."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


class RowCounter:
    """Counts rows per step; draws them when the output is a terminal."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._tasks: dict[str, object] = {}

    def __call__(self, step: str, rows: int) -> None:
        if self._progress is None:
            return
        if step not in self._tasks:
            self._tasks[step] = self._progress.add_task(step, total=None)
        self._progress.advance(self._tasks[step], rows)  # type: ignore[arg-type]


@contextmanager
def row_progress() -> Iterator[RowCounter]:
    if not interactive():
        yield RowCounter(None)
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        yield RowCounter(progress)
