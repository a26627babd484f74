"""Where review decisions are kept between runs, behind a small interface.

A CSV file, ``<state dir>/decisions.csv``: an append-only log, one row per decision applied,
so the history of who decided what stays readable; the newest row of a pair is its decision. With
``--store URL`` the SQL state store keeps them instead (``sql_decisions.SqlDecisionStore``, the same
``DecisionStore`` protocol), so ``review apply`` and the runs read and write one place.

The state folder is ``--state DIR``, else ``state_dir:`` in recon.yaml (relative to the file),
else ``./recon-state``: ``review apply`` and ``match``/``demo``/``run`` resolve it the same way.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Protocol

from recon.config.load import Inputs
from recon.errors import StateError
from recon.models import MATCH, NOT_A_MATCH, ReviewDecision
from recon.report.csvfiles import FORMULA_START

log = logging.getLogger(__name__)

DEFAULT_STATE_DIR = Path("recon-state")
FILE_NAME = "decisions.csv"
COLUMNS = [f.name for f in fields(ReviewDecision)]


@dataclass(frozen=True)
class AddSummary:
    """What ``add`` did: new pairs, pairs whose decision changed, and exact repeats left out."""

    added: int
    changed: int
    unchanged: int


class DecisionStore(Protocol):
    location: str

    def current(self) -> list[ReviewDecision]:
        """The newest decision of every pair."""
        ...

    def add(self, decisions: Sequence[ReviewDecision]) -> AddSummary:
        """Store all of ``decisions`` or, on error, none of them."""
        ...


def state_dir(option: Path | None, inputs: Inputs | None) -> Path:
    """``--state`` wins, then ``state_dir:`` of recon.yaml, then ./recon-state."""
    if option is not None:
        return option
    configured = inputs.config.state_dir if inputs is not None else None
    if configured:
        return inputs.base_dir / configured  # type: ignore[union-attr]
    return DEFAULT_STATE_DIR


def open_decisions(folder: Path, store: str | None = None) -> DecisionStore:
    """The SQL state store's decisions when a store URL is given (``--store``), else the CSV log
    in ``folder``."""
    if store:
        from recon.state.sql_decisions import SqlDecisionStore

        return SqlDecisionStore(store)
    return CsvDecisionStore(folder / FILE_NAME)


class CsvDecisionStore:
    """The decision log as a CSV file, rewritten whole through a temporary file (never half written)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)

    def history(self) -> list[ReviewDecision]:
        if not self.path.is_file():
            return []
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise StateError(f"{self.path}: cannot be read ({exc})") from exc
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in ("left_system", "left_id", "right_system", "right_id", "decision")]
        missing = [c for c in missing if c not in (reader.fieldnames or [])]
        if missing:
            raise StateError(
                f"{self.path}: not a recon decisions file (no column {', '.join(missing)})"
            )
        return [_decision(self.path, n, row) for n, row in enumerate(reader, start=2)]

    def current(self) -> list[ReviewDecision]:
        return latest_per_pair(self.history())

    def add(self, decisions: Sequence[ReviewDecision]) -> AddSummary:
        before = {d.pair: d for d in self.current()}
        new = [d for d in decisions if not same_decision(before.get(d.pair), d)]
        changed = sum(d.pair in before and before[d.pair].decision != d.decision for d in new)
        summary = AddSummary(
            added=sum(d.pair not in before for d in new),
            changed=changed,
            unchanged=len(decisions) - len(new),
        )
        if new:
            self._write(new)
        return summary

    def _write(self, new: Sequence[ReviewDecision]) -> None:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        exists = self.path.is_file() and self.path.stat().st_size > 0
        if not exists:
            writer.writerow(COLUMNS)
        for d in new:
            writer.writerow([_escape(_text(getattr(d, c))) for c in COLUMNS])
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            old = self.path.read_text(encoding="utf-8") if exists else ""
            fd, tmp = tempfile.mkstemp(prefix=".decisions-", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(old + out.getvalue())
            os.replace(tmp, self.path)
        except OSError as exc:
            raise StateError(f"{self.path}: cannot write the decisions ({exc})") from exc
        log.info("%s: %d decisions added", self.path, len(new))


def same_decision(a: ReviewDecision | None, b: ReviewDecision) -> bool:
    """The same decision again (a re-applied file): only where it came from and when differ."""
    keys = ("decision", "reviewer", "reviewed_on", "comment")
    return a is not None and all(getattr(a, k) == getattr(b, k) for k in keys)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _escape(text: str) -> str:
    """Make a cell a spreadsheet would run as a formula inert. Text starting with an apostrophe
    gets one more, so that ``_unescape`` (drop one leading apostrophe) is its exact inverse."""
    return "'" + text if text.startswith("'") or FORMULA_START.match(text) else text


def _unescape(text: str) -> str:
    return text[1:] if text.startswith("'") else text


def _decision(path: Path, row: int, cells: dict[str, str | None]) -> ReviewDecision:
    def get(column: str) -> str:
        return _unescape(cells.get(column) or "")

    try:
        reviewed_on = get("reviewed_on")
        applied_at = get("applied_at")
        decision = ReviewDecision(
            left_system=get("left_system"),
            left_id=get("left_id"),
            right_system=get("right_system"),
            right_id=get("right_id"),
            decision=get("decision"),
            reviewer=get("reviewer"),
            reviewed_on=dt.date.fromisoformat(reviewed_on) if reviewed_on else None,
            comment=get("comment"),
            left_name=get("left_name"),
            right_name=get("right_name"),
            source=get("source"),
            applied_at=dt.datetime.fromisoformat(applied_at) if applied_at else None,
        )
    except ValueError as exc:
        raise StateError(f"{path}, row {row}: {exc}") from exc
    if decision.decision not in (MATCH, NOT_A_MATCH):
        raise StateError(
            f"{path}, row {row}, column decision: '{decision.decision}' — "
            f"expected '{MATCH}' or '{NOT_A_MATCH}'"
        )
    return decision


def latest_per_pair(history: Sequence[ReviewDecision]) -> list[ReviewDecision]:
    """The current decision of each pair: the last one in ``history`` (oldest first)."""
    latest: dict[tuple[str, str, str, str], ReviewDecision] = {}
    for decision in history:
        latest[decision.pair] = decision
    return list(latest.values())
