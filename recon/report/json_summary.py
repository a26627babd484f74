"""The summary ``--json`` prints: one JSON document on stdout saying what a command did — its
counts, its output files, its exit code and why — for a program or a pipeline (``| jq .``).

It reads the results the console summary prints, through the same methods
(``LoadResult.summary()``, ``MatchResult.counts()``, each check's counts as run.json records
them): no stage or check runs again, and the numbers are the console's. It is built only when
``--json`` asked for it, so a command without it pays nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from recon import __version__

# Exit codes and the word a program can branch on (README, "Exit codes").
OK, FINDINGS, BAD_INPUT, NOT_DELIVERED, CRASHED, INTERRUPTED = 0, 1, 2, 3, 4, 130
EXIT_REASONS = {
    OK: "ok",
    FINDINGS: "findings",
    BAD_INPUT: "bad_input",
    NOT_DELIVERED: "not_delivered",
    CRASHED: "unexpected_error",
    INTERRUPTED: "interrupted",
}
# Exit code 3 when the outputs, not the delivery, failed.
OUTPUTS_NOT_WRITTEN = "outputs_not_written"

Part = Callable[[], dict[str, Any]]


class Summary:
    """What one command did, filled while it runs: the results it produced (read when the JSON is
    printed) and how it ended."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.exit_code = OK
        self.exit_reason = EXIT_REASONS[OK]
        self.message = ""
        self._parts: list[Part] = []

    def add(self, build: Callable[..., dict[str, Any]], *results: Any) -> None:
        """``build(*results)`` becomes part of the document when it is printed."""
        self._parts.append(lambda: build(*results))

    def found(self, message: str) -> None:
        """The command found what it was asked to fail on: exit code 1."""
        self.ended(FINDINGS, message)

    def ended(self, code: int, message: str, reason: str | None = None) -> None:
        self.exit_code = code
        self.exit_reason = reason or EXIT_REASONS.get(code, "error")
        self.message = message

    def document(self, results: bool = True) -> dict[str, Any]:
        """The document; ``results=False``: what the command was and how it ended, alone."""
        doc: dict[str, Any] = {
            "command": self.command,
            "recon_version": __version__,
            "exit_code": self.exit_code,
            "exit_reason": self.exit_reason,
            "message": self.message,
        }
        for part in self._parts if results else ():
            _merge(doc, part())
        return doc

    def dumps(self, results: bool = True) -> str:
        return json.dumps(self.document(results), indent=2, ensure_ascii=False, default=_plain)


def _merge(doc: dict[str, Any], part: dict[str, Any]) -> None:
    """``part`` into ``doc``; the ``counts`` of several parts side by side."""
    for key, value in part.items():
        if isinstance(value, dict) and isinstance(doc.get(key), dict):
            doc[key] = {**doc[key], **value}
        else:
            doc[key] = value


def _plain(value: Any) -> Any:
    """What json cannot write itself: paths, dates, periods, numpy numbers."""
    if hasattr(value, "item"):  # numpy and pandas scalars
        return value.item()
    return str(value)


def outputs(out_dir: Path, files: Any = ()) -> dict[str, Any]:
    """The output folder and every file written (as the console's "outputs written to")."""
    return {"out_dir": str(out_dir), "outputs": [str(p) for p in files]}


def as_of(day: Any) -> dict[str, Any]:
    """The day the checks counted back from and why that day (``recon.asof.AsOf``)."""
    if day is None:
        return {}
    return {"as_of": day.day.isoformat(), "as_of_source": day.source}


def loaded(load: Any) -> dict[str, Any]:
    """Rows read, kept and quarantined per table: the load summary's table."""
    summary = load.summary()
    columns = ("rows_read", "rows_kept", "rows_quarantined")
    tables = {
        str(row["table"]): {c: int(row[c]) for c in columns}
        for row in summary.to_dict(orient="records")
    }
    totals = {c: sum(t[c] for t in tables.values()) for c in columns}
    return {"counts": {"load": {**totals, "tables": tables}}, "notes": list(load.notes)}


def matched(match: Any) -> dict[str, Any]:
    """The matcher's counts (the console's Matching table) and the review decisions applied."""
    return {"counts": {"match": dict(match.counts())}, "review_decisions": dict(match.reviews)}


def checked(name: str, result: Any) -> dict[str, Any]:
    """A check's counts as run.json records them (quality by severity, leakage by kind, month-end
    its months and differences)."""
    from recon.report.run_manifest import check_counts

    return {"counts": {name: check_counts(result)}}


def monthend(result: Any) -> dict[str, Any]:
    """Month-end counts and the totals of each month (the console's first table), in the base
    currency as decimal strings."""
    months = [
        {key: _amount(value) for key, value in row.items()}
        for row in result.summary.to_dict(orient="records")
    ]
    part = checked("monthend", result)
    part["counts"]["monthend"].update(base_currency=result.base_currency, totals=months)
    return part


def _amount(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value.quantize(Decimal('0.01')):f}"
    return value


def leakage(result: Any, new: int) -> dict[str, Any]:
    """Leakage findings by kind, and how many are new."""
    part = checked("leakage", result)
    part["counts"]["leakage"]["new"] = int(new)
    return part


def state(recorded: Any) -> dict[str, Any]:
    """Where the run was recorded, as which run, and the leakage findings by change."""
    if recorded is None:
        return {}
    return {
        "state": {
            "store": recorded.location,
            "run_id": recorded.run_id,
            "previous_run": recorded.previous_run,
            "leakage_changes": recorded.changes(),
        }
    }


def full_run(run: Any) -> dict[str, Any]:
    """``recon run`` and ``recon demo``: everything above, and run.json."""
    doc: dict[str, Any] = {}
    parts = [
        outputs(run.out_dir, run.files),
        as_of(run.as_of),
        loaded(run.load),
        matched(run.match),
        checked("quality", run.checks["quality"]),
        monthend(run.checks["monthend"]),
        checked("leakage", run.checks["leakage"]),
        state(run.state),
        {"run_json": str(run.manifest)},
    ]
    for part in parts:
        _merge(doc, part)
    return doc
