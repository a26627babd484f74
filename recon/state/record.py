"""Record one run in the state store: the run, stable xref ids, and the findings' lifecycle.

``record_run`` is the one call a command makes after its checks. Everything it writes happens in
one transaction under the store lock, and what it reads (the registry, the findings) is read
inside that transaction: two runs that finish at once are recorded one after the other, the second
against the first's ids, and a run that fails half-way leaves the store as it was.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import logging
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from recon import __version__
from recon.match.stable_ids import carry_xref_ids
from recon.models import MatchResult
from recon.state import findings_io, registry, tables
from recon.state.keys import keyed_findings
from recon.state.lifecycle import DELIVERED
from recon.state.migrations import utc_now
from recon.state.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunInfo:
    """What ran: the command, when, on which inputs and rules; counts and timings as run.json has
    them. ``as_of`` dates the findings (acceptance expiry, ages); default: today."""

    command: str
    started_at: dt.datetime | None = None
    as_of: dt.date | None = None
    inputs: Sequence[Mapping[str, Any]] = ()
    rules: Sequence[Mapping[str, Any]] = ()
    counts: Mapping[str, Any] = field(default_factory=dict)
    timings: Mapping[str, Any] = field(default_factory=dict)
    status: str = DELIVERED  # a command records PENDING, then finish_run says how it ended
    user: str = ""
    recon_version: str = __version__

    @property
    def rules_hash(self) -> str:
        """sha256 over every rule file's path and sha256, in path order."""
        lines = sorted(f"{r.get('path', '')} {r.get('sha256', '')}" for r in self.rules)
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any], command: str) -> RunInfo:
        """From the dict ``recon.report.run_manifest.run_manifest`` builds (run.json)."""
        started = manifest.get("started_at")
        as_of = manifest.get("as_of")
        return cls(
            command=command,
            started_at=dt.datetime.fromisoformat(started) if started else None,
            as_of=dt.date.fromisoformat(as_of) if as_of else None,
            inputs=manifest.get("inputs", ()),
            rules=manifest.get("rules", ()),
            counts=manifest.get("counts", {}),
            timings=manifest.get("timings_s", {}),
        )


@dataclass(frozen=True)
class RunRecord:
    """What ``record_run`` stored and decided.

    ``xref_by_record``: the stable xref_id of each record, aligned with ``match.records``.
    ``xref_map``: this run's xref_id → its stable xref_id (``stable()`` rewrites a frame with it).
    ``changes``: kind (new, merge, split, retired), from_xref, to_xref, records, record_ids.
    ``findings``: the lifecycle frame (``recon.state.lifecycle.RESULT_COLUMNS``): every finding
    found now or live before, with its status, change, ages and acceptance.
    """

    run_id: int
    xref_by_record: pd.Series
    xref_map: Mapping[str, str]
    changes: pd.DataFrame
    findings: pd.DataFrame
    # Rows the run wrote per table and what happened to them (new, moved, gone, ...).
    written: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def stable(self, frame: pd.DataFrame, column: str = "xref_id") -> pd.DataFrame:
        """``frame`` with ``column`` rewritten from this run's xref ids to the stable ones."""
        return _restamp(frame, _lookup(self.xref_map), column)

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            "xref_changes": self.changes["kind"].value_counts().to_dict(),
            "findings": self.findings["change"].value_counts().to_dict(),
        }


def record_run(
    store: Store,
    run_info: RunInfo,
    match_result: MatchResult,
    findings_by_family: Mapping[str, pd.DataFrame],
) -> RunRecord:
    """Register the run, carry the xref ids, update the findings: one transaction, all or nothing.

    ``findings_by_family``: ``{"leakage": leakage.findings, "quality": quality.findings}`` — only
    the families given (plus ``duplicate``, from the match) are classified, so a ``recon leakage``
    run does not resolve the quality findings of an earlier ``recon run``.
    """
    as_of = run_info.as_of or dt.date.today()
    records = match_result.records
    current = pd.DataFrame(
        {
            "system": records["system"].astype("str").to_numpy(),
            "record_id": records["record_id"].astype("str").to_numpy(),
            "entity": match_result.entity.to_numpy(),
        }
    )
    families = {"duplicate": match_result.duplicates, **findings_by_family}
    with store.transaction() as conn:
        run_id = _insert_run(conn, run_info, as_of, sorted(families))
        stored = registry.load(conn)
        xref, changes = carry_xref_ids(
            stored.loc[stored["active"], ["system", "record_id", "xref_id"]],
            current,
            registry.next_number(conn),
        )
        written = registry.write(
            conn, run_id, stored, current.assign(xref_id=xref.to_numpy()), changes
        )
        xref_map = _xref_map(match_result.xref, current, xref)
        lookup = _lookup(xref_map)
        keyed = pd.concat(
            [keyed_findings(f, _restamp(frame, lookup)) for f, frame in families.items()],
            ignore_index=True,
        )
        lifecycle = findings_io.update(conn, run_id, as_of, keyed, set(families))
        findings_written = lifecycle.attrs.pop("written", {})
        record = RunRecord(
            run_id,
            xref,
            xref_map,
            changes,
            lifecycle,
            {"xref_registry": written, "findings": findings_written},
        )
        counts = {**run_info.counts, "state": record.counts()}
        conn.execute(
            sa.update(tables.runs)
            .where(tables.runs.c.run_id == run_id)
            .values(finished_at=utc_now(), counts=json.loads(json.dumps(counts, default=str)))
        )
    log.info("state store %s: run %d recorded; %s", store.location, run_id, record.counts())
    return record


def finish_run(store: Store, run_id: int, status: str) -> None:
    """Set a recorded run's status once its outputs and delivery are known (``DELIVERED``,
    ``NOT_WRITTEN`` or ``NOT_DELIVERED``)."""
    with store.transaction() as conn:
        conn.execute(
            sa.update(tables.runs).where(tables.runs.c.run_id == run_id).values(status=status)
        )
    log.info("state store %s: run %d %s", store.location, run_id, status)


def _insert_run(conn: sa.Connection, info: RunInfo, as_of: dt.date, families: Sequence[str]) -> int:
    started = info.started_at or dt.datetime.now(dt.UTC)
    if started.tzinfo is not None:
        started = started.astimezone(dt.UTC).replace(tzinfo=None)
    values = {
        "started_at": started.replace(microsecond=0),
        "user": info.user or _user(),
        "host": socket.gethostname(),
        "recon_version": info.recon_version,
        "command": info.command,
        "as_of": as_of,
        "inputs": _json(info.inputs),
        "rules_hash": info.rules_hash,
        "rules": _json(info.rules),
        "counts": _json(info.counts),
        "timings": _json(info.timings),
        "status": info.status,
        "families": ",".join(families),
    }
    key = conn.execute(sa.insert(tables.runs).values(values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def _xref_map(xref: pd.DataFrame, current: pd.DataFrame, stable: pd.Series) -> dict[str, str]:
    keyed = current[["system", "record_id"]].assign(stable=stable.to_numpy())
    local = xref[["system", "record_id", "xref_id"]].astype({"system": str, "record_id": str})
    pairs = local.merge(keyed, on=["system", "record_id"]).drop_duplicates("xref_id")
    return dict(zip(pairs["xref_id"], pairs["stable"], strict=True))


def _lookup(xref_map: Mapping[str, str]) -> pd.Series:
    """The map as a Series indexed by this run's ids (one vectorized lookup per frame)."""
    index = pd.Index(list(xref_map.keys()), dtype="str")
    return pd.Series(list(xref_map.values()), index=index, dtype=object)


def _restamp(frame: pd.DataFrame, lookup: pd.Series, column: str = "xref_id") -> pd.DataFrame:
    if column not in frame.columns:
        return frame
    ids = frame[column]
    position = lookup.index.get_indexer(ids.astype("str"))
    stable = lookup.to_numpy()[np.maximum(position, 0)] if len(lookup) else ids.to_numpy()
    restamped = np.where(position >= 0, stable, ids.astype(object).to_numpy())
    return frame.assign(**{column: pd.Series(restamped, index=frame.index).astype(ids.dtype)})


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers)
        return "unknown"
