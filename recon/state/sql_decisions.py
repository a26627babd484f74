"""Review decisions in the SQL state store (``recon_decisions``), behind the ``DecisionStore``
protocol: ``recon review apply --store URL`` writes here and the runs given the same ``--store``
read from here. Like the CSV log it is append-only: the newest row of a pair is its decision."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

import sqlalchemy as sa

from recon.models import ReviewDecision
from recon.state import tables
from recon.state.decisions import AddSummary, latest_per_pair, same_decision
from recon.state.store import Store, frame

log = logging.getLogger(__name__)

_D = tables.decisions
_COLUMNS = (
    "left_system",
    "left_id",
    "right_system",
    "right_id",
    "decision",
    "reviewer",
    "reviewed_on",
    "comment",
    "source",
    "applied_at",
)


class SqlDecisionStore:
    """The decision log as rows of ``recon_decisions``; every call opens the store briefly."""

    def __init__(self, url: str) -> None:
        self.url = url
        with Store.open(url) as store:  # creates or migrates the schema; checks the URL early
            self.location = store.location

    def history(self) -> list[ReviewDecision]:
        with Store.open(self.url) as store, store.transaction() as conn:
            return _history(conn)

    def current(self) -> list[ReviewDecision]:
        return latest_per_pair(self.history())

    def add(self, decisions: Sequence[ReviewDecision]) -> AddSummary:
        """All of ``decisions`` in one transaction, read and written under the store lock."""
        with Store.open(self.url) as store, store.transaction() as conn:
            before: dict[tuple[str, str, str, str], ReviewDecision] = {}
            for d in _history(conn):
                before[d.pair] = d
            new = [d for d in decisions if not same_decision(before.get(d.pair), d)]
            if new:
                conn.execute(sa.insert(_D), [_row(d) for d in new])
        log.info("%s: %d decisions added", self.location, len(new))
        return AddSummary(
            added=sum(d.pair not in before for d in new),
            changed=sum(d.pair in before and before[d.pair].decision != d.decision for d in new),
            unchanged=len(decisions) - len(new),
        )


def _history(conn: sa.Connection) -> list[ReviewDecision]:
    rows = frame(conn, sa.select(*(_D.c[c] for c in _COLUMNS)).order_by(_D.c.decision_id))
    return [_decision(row) for row in rows.to_dict(orient="records")]


def _row(d: ReviewDecision) -> dict[str, object]:
    applied = d.applied_at
    if applied is not None and applied.tzinfo is not None:  # stored as UTC without a zone
        applied = applied.astimezone(dt.UTC).replace(tzinfo=None)
    return {
        "left_system": d.left_system,
        "left_id": d.left_id,
        "right_system": d.right_system,
        "right_id": d.right_id,
        "decision": d.decision,
        "reviewer": d.reviewer or "",
        "reviewed_on": d.reviewed_on,
        "comment": d.comment or "",
        "source": d.source or "",
        "applied_at": applied,
    }


def _decision(row: dict[str, object]) -> ReviewDecision:
    applied = row["applied_at"]
    if isinstance(applied, dt.datetime) and applied.tzinfo is None:
        applied = applied.replace(tzinfo=dt.UTC)
    reviewed = row["reviewed_on"]
    if isinstance(reviewed, dt.datetime):
        reviewed = reviewed.date()
    return ReviewDecision(
        left_system=str(row["left_system"]),
        left_id=str(row["left_id"]),
        right_system=str(row["right_system"]),
        right_id=str(row["right_id"]),
        decision=str(row["decision"]),
        reviewer=str(row["reviewer"] or ""),
        reviewed_on=reviewed if isinstance(reviewed, dt.date) else None,
        comment=str(row["comment"] or ""),
        source=str(row["source"] or ""),
        applied_at=applied if isinstance(applied, dt.datetime) else None,
    )
