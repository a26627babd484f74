"""Findings and acceptances in the store, inside the caller's transaction.

A finding is one row for its whole life (first seen, last seen, resolved), and a run writes only
what changed: findings new to the store or back after being resolved, findings whose status,
first run or payload changed (its ``digest``, see ``recon.state.keys``), and findings it resolved.
A finding still found leaves its row alone: while it is live, the runs that check its family see
it, so its last sighting is the latest of those runs (``Store.findings`` fills it in). A second
run over unchanged data writes nothing here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import numpy as np
import pandas as pd
import sqlalchemy as sa

from recon.errors import StateError
from recon.state import bulk, lifecycle, tables
from recon.state.migrations import utc_now
from recon.state.store import (
    check_fits,
    first_few,
    frame,
    last_checked,
    seen_until,
    shown_id,
    writing,
)

_F = tables.findings
_A = tables.acceptances
# The stored columns after the id, and what a run writes with them.
_WRITTEN = [*lifecycle.STORED_COLUMNS[1:], "payload", "value", "digest", "payload_run"]


def update(
    conn: sa.Connection,
    run_id: int,
    as_of: dt.date,
    keyed: pd.DataFrame,
    families: Collection[str],
) -> pd.DataFrame:
    """Classify this run's findings against the live ones of the same families; store what
    changed. ``keyed``: ``recon.state.keys.keyed_findings`` of every family checked. Returns
    the lifecycle frame (``lifecycle.RESULT_COLUMNS``)."""
    names = sorted(families)
    # The live findings, without their keys: only those resolved now need one (read below).
    brief = [c for c in lifecycle.STORED_COLUMNS if c not in ("key", "kind")]
    live = bulk.read(
        conn,
        sa.select(*(_F.c[c] for c in brief), _F.c.digest).where(
            # "not resolved", not "open or accepted": most rows are live, and a scan reads them
            # faster than the status index would (which SQLite picks for an IN).
            _F.c.family.in_(names),
            _F.c.status != lifecycle.RESOLVED,
        ),
    )
    live["key"] = live["kind"] = None
    live["last_seen_run"] = seen_until(live, last_checked(conn, before=run_id))
    accepted = frame(conn, sa.select(_A.c.finding_id, _A.c.until))
    runs = frame(
        conn, sa.select(tables.runs.c.run_id, tables.runs.c.started_at, tables.runs.c.status)
    )
    result = lifecycle.classify(
        live[lifecycle.STORED_COLUMNS], keyed, accepted, run_id=run_id, as_of=as_of, runs=runs
    )

    gone = (result["change"] == lifecycle.RESOLVED).to_numpy()
    if gone.any():  # their key and kind, as stored
        stored = bulk.read_ids(
            conn, _F.c.finding_id, result.loc[gone, "finding_id"], _F.c.key, _F.c.kind
        )
        stored = stored.set_index("finding_id").reindex(result.loc[gone, "finding_id"])
        result.loc[gone, "key"] = stored["key"].to_numpy(dtype=object)
        result.loc[gone, "kind"] = stored["kind"].to_numpy(dtype=object)
        order = (
            result[["family", "key"]].astype("str").sort_values(["family", "key"], kind="stable")
        )
        result = result.iloc[order.index.to_numpy()].reset_index(drop=True)
    ids = result["finding_id"]
    before = live.drop_duplicates("finding_id").set_index("finding_id").reindex(ids)
    digest = keyed.drop_duplicates("finding_id").set_index("finding_id")["digest"].reindex(ids)
    found = (result["change"] != lifecycle.RESOLVED).to_numpy()
    was_live = before["status"].notna().to_numpy()
    moved = (
        _differs(result["status"], before["status"])
        | _differs(result["first_seen_run"], before["first_seen_run"])
        | _differs(digest, before["digest"])
    )
    rows = result.assign(
        digest=digest.to_numpy(dtype=object),
        payload_run=np.where(result["payload"].notna(), run_id, None),
    )
    fresh = found & ~was_live
    resolved = _resolved_ids(conn, names, ids[fresh])
    back = fresh & ids.isin(resolved).to_numpy()
    new = rows[fresh & ~back]
    full = rows[back | (found & was_live & moved)]
    gone = rows.loc[~found, ["finding_id", "status", "resolved_run", "last_seen_run"]]
    check_fits(_F, pd.concat([new, full]), _finding)
    if len(new):
        with writing(conn, f"{len(new)} new finding(s), {first_few(new, _finding)}"):
            ordered = new.sort_values("finding_id")  # appends to the id index, in order
            bulk.insert(conn, _F, _typed(ordered[["finding_id", *_WRITTEN]]))
    if len(full):
        with writing(conn, f"{len(full)} finding(s), {first_few(full, _finding)}"):
            bulk.update(conn, _F, ["finding_id"], _typed(full[["finding_id", *_WRITTEN]]))
    if len(gone):
        with writing(conn, f"{len(gone)} resolved finding(s), {first_few(gone, _finding)}"):
            bulk.update(conn, _F, ["finding_id"], _typed(gone))
    # What was written, for RunRecord.written (taken off by record_run).
    result.attrs["written"] = {"new": len(new), "changed": len(full), "resolved": len(gone)}
    return result


def _differs(now: pd.Series, before: pd.Series) -> np.ndarray:
    """Where two aligned columns hold different values (both missing counts as the same)."""
    a, b = now.astype(object).to_numpy(), before.astype(object).to_numpy()
    a_na, b_na = pd.isna(a), pd.isna(b)
    same = (a_na & b_na) | (~a_na & ~b_na & (a == b))
    return ~same


def _resolved_ids(conn: sa.Connection, families: list[str], fresh: pd.Series) -> set[str]:
    """Which of the ``fresh`` finding ids are stored, resolved (they come back: an UPDATE)."""
    if not len(fresh):
        return set()
    stored = conn.execute(
        sa.select(_F.c.finding_id).where(
            _F.c.family.in_(families), _F.c.status == lifecycle.RESOLVED
        )
    ).scalars()
    return set(stored)


def _typed(rows: pd.DataFrame) -> pd.DataFrame:
    """Run ids as integers with NA (COPY and the drivers take no ``3.0``), digests as int64."""
    out = rows.copy()
    for column in ("first_seen_run", "last_seen_run", "resolved_run", "payload_run"):
        if column in out:
            out[column] = pd.array(out[column], dtype="Int64")
    if "digest" in out:
        out["digest"] = pd.array(out["digest"], dtype="Int64")
    return out


def _finding(row: pd.Series) -> str:
    family = row.get("family", "")
    return f"finding {row['finding_id']} ({family} {row.get('kind', '')}: {shown_id(row.get('key', ''))})"


def accept(
    conn: sa.Connection,
    finding_id: str,
    *,
    reason: str,
    owner: str,
    until: dt.date,
    today: dt.date,
) -> dict[str, object]:
    """Store an acceptance of a known finding and take it out of the open list until ``until``."""
    if until < today:
        raise StateError(f"--until {until.isoformat()} is in the past; give today or a later date")
    if not reason.strip():
        raise StateError("--reason is empty; say why the finding is accepted")
    row = conn.execute(
        sa.select(_F.c.finding_id, _F.c.family, _F.c.kind, _F.c.key, _F.c.status).where(
            _F.c.finding_id == finding_id
        )
    ).first()
    if row is None:
        raise StateError(
            f"unknown finding id {finding_id}; the finding ids are in the findings of a run "
            "recorded in this store"
        )
    conn.execute(
        sa.insert(_A).values(
            finding_id=finding_id,
            reason=reason.strip(),
            owner=owner,
            until=until,
            created_at=utc_now(),
        )
    )
    if row.status == lifecycle.OPEN:
        conn.execute(
            sa.update(_F).where(_F.c.finding_id == finding_id).values(status=lifecycle.ACCEPTED)
        )
    return {"finding_id": finding_id, "family": row.family, "kind": row.kind, "key": row.key}
