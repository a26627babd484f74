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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from recon import __version__
from recon.match.stable_ids import carry_xref_ids, xref_number
from recon.models import MatchResult
from recon.state import findings_io, registry, tables
from recon.state.keys import KEEPS_ROWS, keyed_findings
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
        return _restamp(frame, XrefMap.of(self.xref_map), column)

    def counted(self) -> RunRecord:
        """This record cut to what ``counts`` and ``stable`` read: once the lifecycle is read back
        the outputs need no more of it, and at a million records the per-record ids and the
        findings' keys and payloads hold a gigabyte (``xref_by_record`` is left empty)."""
        return replace(
            self,
            xref_by_record=self.xref_by_record.iloc[:0],
            changes=self.changes[["kind"]],
            findings=self.findings[["change"]],
        )

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            "xref_changes": self.changes["kind"].value_counts().to_dict(),
            "findings": self.findings["change"].value_counts().to_dict(),
        }


class XrefMap(Mapping[str, str]):
    """This run's xref ids and their stable ones, as two aligned Arrow arrays (a million
    entities make no dict unless one is asked for)."""

    def __init__(self, local: pa.Array, stable: pa.Array) -> None:
        self.local = local
        self.stable = stable
        self._dict: dict[str, str] | None = None
        self._at: np.ndarray | None = None

    @classmethod
    def of(cls, mapping: Mapping[str, str]) -> XrefMap:
        if isinstance(mapping, XrefMap):
            return mapping
        return cls(
            pa.array(list(mapping.keys()), type=pa.large_string()),
            pa.array(list(mapping.values()), type=pa.large_string()),
        )

    def positions(self, ids: pa.Array) -> pa.Array:
        """Where each of ``ids`` is in ``local`` (null: not there). The matcher numbers its ids
        ``XR-…``: their numbers index an array, with no hashing of text."""
        if self._at is None:
            numbers = _numbers(self.local)
            if numbers is None or not len(numbers) or numbers.max() > 4 * len(numbers) + 1000:
                return pc.index_in(ids, value_set=self.local)
            self._at = np.full(int(numbers.max()) + 1, -1, dtype=np.int64)
            self._at[numbers[::-1]] = np.arange(len(numbers))[::-1]  # the first of repeats
        numbers = _numbers(ids, partial=True)
        assert numbers is not None
        inside = (numbers >= 0) & (numbers < len(self._at))
        at = np.where(inside, self._at[np.where(inside, numbers, 0)], -1)
        # The same number in other digits (XR-12 for XR-000012) is another id.
        same = pc.equal(ids, self.local.take(pa.array(np.maximum(at, 0))))
        at[~pc.fill_null(same, False).to_numpy(zero_copy_only=False)] = -1
        return pa.array(at, mask=at < 0)

    def _pairs(self) -> dict[str, str]:
        if self._dict is None:
            self._dict = dict(zip(self.local.to_pylist(), self.stable.to_pylist(), strict=True))
        return self._dict

    def __getitem__(self, key: str) -> str:
        return self._pairs()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.local.to_pylist())

    def __len__(self) -> int:
        return len(self.local)


def _numbers(ids: pa.Array, partial: bool = False) -> np.ndarray | None:
    """The number of each ``XR-123`` id; -1 for another form (``partial``), else None when any
    id has another form."""
    ok = pc.fill_null(pc.match_substring_regex(ids, r"^XR-[0-9]{1,15}$"), False)
    if not partial and not pc.all(ok).as_py():
        return None
    digits = pc.utf8_slice_codeunits(pc.if_else(ok, ids, pa.scalar("XR-0", ids.type)), 3)
    return np.where(ok.to_numpy(zero_copy_only=False), pc.cast(digits, pa.int64()).to_numpy(), -1)


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
            "system": records["system"].astype("str").reset_index(drop=True),
            "record_id": records["record_id"].astype("str").reset_index(drop=True),
            "entity": match_result.entity.to_numpy(),
        }
    )
    families = {"duplicate": match_result.duplicates, **findings_by_family}
    with store.transaction() as conn:
        run_id = _insert_run(conn, run_info, as_of, sorted(families))
        stored = registry.load(conn)
        active = stored.loc[stored["active"].to_numpy(), ["system", "record_id"]]
        numbers = stored.loc[stored["active"].to_numpy(), "xref_number"].to_numpy()
        xref, changes = carry_xref_ids(
            active.assign(xref_id=numbers),
            current,
            registry.next_number(conn),
        )
        written = registry.write(
            conn, run_id, stored, current.assign(xref_number=xref_number(xref)), changes
        )
        del stored, active
        xref_map = _xref_map(match_result.xref, current, xref)
        del current
        every, kept = _keyed(families, xref_map)
        lifecycle = findings_io.update(conn, run_id, as_of, every, set(families), kept)
        findings_written = lifecycle.attrs.pop("written", {})
        record = RunRecord(
            run_id,
            xref,
            xref_map,
            changes,
            lifecycle,
            {"xref_registry": written, "findings": findings_written},
        )
        state = record.counts()
        counts = {**run_info.counts, "state": state}
        conn.execute(
            sa.update(tables.runs)
            .where(tables.runs.c.run_id == run_id)
            .values(finished_at=utc_now(), counts=json.loads(json.dumps(counts, default=str)))
        )
    log.info("state store %s: run %d recorded; %s", store.location, run_id, state)
    return record


def _keyed(
    families: Mapping[str, pd.DataFrame], xref_map: XrefMap
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Every family's findings keyed (``keyed_findings``) in one frame, and the rows kept of
    ``KEEPS_ROWS`` with their ``finding_id`` (with the stable ids). The per-family frames go
    when this returns: at a million records they hold millions of keys."""
    keyed, kept = [], None
    for family, frame in families.items():
        if family in KEEPS_ROWS:  # its rows are kept: with the stable ids
            frame = _restamp(frame, xref_map)
        keyed.append(keyed_findings(family, frame))
        if family in KEEPS_ROWS:
            kept = frame.reset_index(drop=True)
            kept.insert(0, "finding_id", keyed[-1]["finding_id"].to_numpy())
    return pd.concat(keyed, ignore_index=True), kept


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


def _xref_map(xref: pd.DataFrame, current: pd.DataFrame, stable: pd.Series) -> XrefMap:
    """Each of this run's xref ids (``xref``: system, record_id, xref_id) and the stable id of
    its first record found in ``current``."""
    at = pc.index_in(_record_keys(xref), value_set=_record_keys(current))
    known = pc.is_valid(at)
    local = _text(xref["xref_id"]).filter(known)
    target = _text(stable).take(at.filter(known))
    codes, _ = pd.factorize(local.to_numpy(zero_copy_only=False))
    first = np.full(codes.max() + 1 if len(codes) else 0, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))
    first = pa.array(np.sort(first))
    return XrefMap(local.take(first), target.take(first))


def _restamp(frame: pd.DataFrame, xmap: XrefMap, column: str = "xref_id") -> pd.DataFrame:
    if column not in frame.columns:
        return frame
    ids = frame[column]
    text = _text(ids)
    at = xmap.positions(text)
    restamped = pc.if_else(pc.is_valid(at), xmap.stable.take(at), text)
    if ids.dtype == object:
        values = pd.Series(
            restamped.to_numpy(zero_copy_only=False), index=frame.index, dtype=object
        )
    else:
        values = pd.Series(pd.array(restamped, dtype="str"), index=frame.index)
    return frame.assign(**{column: values.astype(ids.dtype)})


def _record_keys(frame: pd.DataFrame) -> pa.Array:
    return pc.binary_join_element_wise(
        _text(frame["system"]), _text(frame["record_id"]), pa.scalar("\x1f", pa.large_string())
    )


def _text(values: pd.Series) -> pa.Array:
    """A column as Arrow text (missing values null)."""
    array = pa.array(values.astype("str").array)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(pa.large_string())


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers)
        return "unknown"
