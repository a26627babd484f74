"""`recon rerun`, the pure part: what a run.json says to re-run, which recorded files changed since,
and where a re-run's xref and findings differ from the run's own.

No I/O here: ``recon.rerun`` reads run.json, hashes the files, runs the pipeline and reads the CSVs.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from recon.errors import ConfigError
from recon.models import ReviewDecision

OUTPUTS = ("xref.csv", "leakage.csv", "quality.csv")
SHOWN = 10  # differences listed before "… and N more"


@dataclass(frozen=True)
class RecordedFile:
    label: str  # what the messages call it: the path, or "rules/<file>"
    path: Path
    sha256: str


@dataclass(frozen=True)
class RunRecord:
    """What run.json says a re-run needs."""

    run_json: Path
    name: str  # "run 3" (the state store's id) or the run.json path
    source_kind: str  # "folder" or "config"
    source_path: Path
    source_sha256: str | None  # a recon.yaml's checksum
    inputs: tuple[RecordedFile, ...]  # the file tables; SQL tables are read as they are now
    sql_tables: tuple[str, ...]
    rules: Mapping[str, str]  # path under the rules folder → sha256
    as_of: dt.date | None
    months: tuple[str, ...]  # YYYY-MM
    started_at: dt.datetime | None
    store: str | None  # the state store the run was recorded in (password hidden)
    decisions_location: str  # a decisions.csv path or the store
    decisions_stored: int

    @property
    def out_dir(self) -> Path:
        return self.run_json.parent

    @property
    def decisions_in_store(self) -> bool:
        return self.store is not None and self.decisions_location == self.store


def parse_record(manifest: Mapping[str, Any], run_json: Path) -> RunRecord:
    """A run.json's content as a ``RunRecord``; ConfigError names what it lacks."""

    def need(key: str) -> Any:
        if key not in manifest:
            raise ConfigError(f"{run_json}: no '{key}' — not a run.json written by recon run")
        return manifest[key]

    source = manifest.get("source")
    if source is None:  # written before run.json recorded its source: the origin as given
        origin = Path(str(need("origin")))
        if not origin.is_absolute():
            raise ConfigError(
                f"{run_json}: records its inputs as '{origin}' relative to a folder it does not "
                "name (written by an older recon); re-run it with recon run"
            )
        source = {"kind": "folder" if origin.is_dir() else "config", "path": str(origin)}
    inputs, sql = [], []
    for entry in need("inputs"):
        if "path" in entry:
            path = Path(entry["path"])
            inputs.append(RecordedFile(str(path), path, entry["sha256"]))
        else:
            sql.append(entry["table"])
    counts = manifest.get("counts", {})
    months = manifest.get("months") or counts.get("monthend", {}).get("months") or ()
    state = manifest.get("state") or {}
    decisions = manifest.get("decisions") or {}
    started = manifest.get("started_at")
    return RunRecord(
        run_json=run_json,
        name=f"run {state['run_id']}" if "run_id" in state else str(run_json),
        source_kind=source["kind"],
        source_path=Path(source["path"]),
        source_sha256=source.get("sha256"),
        inputs=tuple(inputs),
        sql_tables=tuple(sql),
        rules={r["path"]: r["sha256"] for r in need("rules")},
        as_of=dt.date.fromisoformat(manifest["as_of"]) if manifest.get("as_of") else None,
        months=tuple(str(m) for m in months),
        started_at=dt.datetime.fromisoformat(started) if started else None,
        store=state.get("store"),
        decisions_location=str(manifest.get("decisions_location") or decisions.get("store") or ""),
        decisions_stored=int(decisions.get("stored", 0)),
    )


def file_changes(
    recorded: Iterable[RecordedFile], now: Mapping[str, str | None], name: str
) -> list[str]:
    """One phrase per recorded file whose checksum ``now`` (label → sha256, None: missing) differs."""
    out = []
    for file in recorded:
        current = now.get(file.label)
        if current is None:
            out.append(f"{file.label} is missing (it was read by {name})")
        elif current != file.sha256:
            out.append(
                f"{file.label} changed since {name} "
                f"(sha256 {file.sha256[:12]}… then, {current[:12]}… now)"
            )
    return out


def rule_changes(recorded: Mapping[str, str], now: Mapping[str, str], name: str) -> list[str]:
    """Rule files changed, removed or added since the run (a new preset changes the rules too)."""
    out = []
    for path in sorted(recorded.keys() | now.keys()):
        label = f"rules/{path}"
        if path not in now:
            out.append(f"{label} is missing (it was used by {name})")
        elif path not in recorded:
            out.append(f"{label} is new since {name}")
        elif now[path] != recorded[path]:
            out.append(f"{label} changed since {name}")
    return out


def decisions_at(
    decisions: Sequence[ReviewDecision], when: dt.datetime | None
) -> list[ReviewDecision]:
    """The review decisions as they stood at ``when``: the ones applied later are left out."""
    if when is None:
        return list(decisions)

    def before(d: ReviewDecision) -> bool:
        if d.applied_at is None:
            return True
        applied = d.applied_at if d.applied_at.tzinfo else d.applied_at.astimezone()
        return applied <= when

    return [d for d in decisions if before(d)]


def _keyed(frame: pd.DataFrame, key: Sequence[str], values: Sequence[str]) -> dict[Any, Any]:
    cols = [c for c in values if c in frame.columns]
    return {
        tuple(row[k] for k in key): tuple(row[c] for c in cols)
        for row in frame[[*key, *cols]].to_dict(orient="records")
    }


def _diff_keyed(
    what: str, then: Mapping[Any, Any], now: Mapping[Any, Any], key_names: Sequence[str]
) -> list[str]:
    out = []

    def show(key: Any) -> str:
        return ", ".join(f"{n} {v}" for n, v in zip(key_names, key, strict=True) if v != "")

    for key in sorted(then.keys() | now.keys()):
        if key not in now:
            out.append(f"{what} {show(key)}: {' '.join(then[key])} in the run, absent now")
        elif key not in then:
            out.append(f"{what} {show(key)}: absent in the run, {' '.join(now[key])} now")
        elif then[key] != now[key]:
            out.append(f"{what} {show(key)}: {' '.join(then[key])} then, {' '.join(now[key])} now")
    return out


def compare_xref(then: pd.DataFrame, now: pd.DataFrame) -> list[str]:
    """Every (system, record_id) whose xref_id differs, appeared or disappeared."""
    key = ("system", "record_id")
    return _diff_keyed("xref", _keyed(then, key, ["xref_id"]), _keyed(now, key, ["xref_id"]), key)


def compare_leakage(then: pd.DataFrame, now: pd.DataFrame) -> list[str]:
    """finding_id and kind per deal and orders; the lifecycle columns and resolved rows (which
    depend on the store's earlier runs) are left out."""
    key = ("deal_id", "order_ids")
    values = [c for c in ("finding_id", "kind") if c in then.columns and c in now.columns]

    def live(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["change"] != "resolved"] if "change" in frame.columns else frame

    return _diff_keyed(
        "leakage", _keyed(live(then), key, values), _keyed(live(now), key, values), key
    )


def compare_quality(then: pd.DataFrame, now: pd.DataFrame) -> list[str]:
    """quality.csv's rows as a multiset (every column the two share)."""
    cols = [c for c in then.columns if c in now.columns]
    counted_then = Counter(map(tuple, then[cols].itertuples(index=False)))
    counted_now = Counter(map(tuple, now[cols].itertuples(index=False)))
    out = []
    for row, n in sorted((counted_then - counted_now).items()):
        out.append(f"quality row in the run only (x{n}): {', '.join(map(str, row[:7]))}")
    for row, n in sorted((counted_now - counted_then).items()):
        out.append(f"quality row in the re-run only (x{n}): {', '.join(map(str, row[:7]))}")
    return out


def compare_outputs(then: Mapping[str, pd.DataFrame], now: Mapping[str, pd.DataFrame]) -> list[str]:
    """Every difference in xref ids and findings between a run's outputs and a re-run's (each
    frame read as text, empty cells as "")."""
    return [
        *compare_xref(then["xref.csv"], now["xref.csv"]),
        *compare_leakage(then["leakage.csv"], now["leakage.csv"]),
        *compare_quality(then["quality.csv"], now["quality.csv"]),
    ]


def summary(differences: Sequence[str], name: str, shown: int = SHOWN) -> list[str]:
    """The lines to print: "same …" or the first differences."""
    if not differences:
        return [f"same xref ids and findings as {name}"]
    lines = [f"{len(differences):,} difference(s) from {name}:"]
    lines += [f"  {d}" for d in differences[:shown]]
    if len(differences) > shown:
        lines.append(f"  … and {len(differences) - shown:,} more")
    return lines
