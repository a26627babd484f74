"""run.json: what a run read, with which rules and code, what it found and how long each stage took.

Enough to tell later whether two runs saw the same inputs and rules (the checksums) and to re-run
one from its record.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from recon import __version__
from recon.config.load import Inputs
from recon.models import LoadResult, MatchResult

_HASH_BLOCK = 1 << 20


def sha256_file(path: Path) -> str:
    """The file's sha256; the state store and run.json both record it, so a file unchanged since
    (same size and modification time) is read once."""
    stat = path.stat()
    return _sha256(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def rule_files(rules_dir: Path) -> list[dict[str, str]]:
    """Every YAML rule file (presets included) with its sha256, in path order."""
    files = sorted(p for p in rules_dir.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    return [{"path": p.relative_to(rules_dir).as_posix(), "sha256": sha256_file(p)} for p in files]


def input_files(inputs: Inputs, load: LoadResult) -> list[dict[str, Any]]:
    """Per table: where it came from (file with sha256, or masked SQL source) and its row counts."""
    out = []
    for name, source in inputs.config.tables.items():
        entry: dict[str, Any] = {"table": name, "preset": source.preset}
        if source.file is not None:
            path = inputs.base_dir / source.file
            entry.update(path=str(path), sha256=sha256_file(path), bytes=path.stat().st_size)
            if source.sheet:
                entry["sheet"] = source.sheet
        elif source.sql is not None:
            entry["sql"] = _masked(source.sql.url)
            entry.update({"table_name": source.sql.table} if source.sql.table else {})
            entry.update({"query": source.sql.query} if source.sql.query else {})
        table = load.tables.get(name)
        if table is not None:
            entry.update(
                rows_read=table.rows_read,
                rows_kept=table.rows_kept,
                rows_quarantined=table.rows_quarantined,
            )
        out.append(entry)
    return out


def _masked(url: str) -> str:
    """A SQL URL without its password (``${VAR}`` placeholders are kept as written)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return "sql"


def check_counts(result: Any) -> dict[str, Any]:
    """A check's headline counts: its own ``counts()``, or for month-end the months and the
    differences that explain them."""
    if hasattr(result, "counts"):  # a method on some results, a plain dict on others
        counts = result.counts
        return dict(counts() if callable(counts) else counts)
    return {
        "months": [str(m) for m in result.months],
        "differences": len(result.differences),
    }


def input_source(inputs: Inputs) -> dict[str, str]:
    """Where the inputs were described, absolute, so ``recon rerun`` can rebuild them from any
    folder: a data folder, or a recon.yaml with its sha256 (its table list is part of the input)."""
    origin = Path(inputs.origin)
    if origin.is_dir():
        return {"kind": "folder", "path": str(origin.resolve())}
    return {"kind": "config", "path": str(origin.resolve()), "sha256": sha256_file(origin)}


def _location(store: str) -> str:
    """A decisions CSV path made absolute (a store URL is kept as it is)."""
    return store if not store or "://" in store else str(Path(store).resolve())


def run_manifest(
    *,
    inputs: Inputs,
    load: LoadResult,
    match: MatchResult,
    rules_dir: Path,
    started_at: dt.datetime,
    as_of: dt.date | None,
    timings: Mapping[str, float],
    decisions_store: str,
    checks: Mapping[str, Mapping[str, Any]],
    outputs: Sequence[Path],
    out_dir: Path,
    state: Mapping[str, Any] | None = None,
    as_of_source: str = "",
) -> dict[str, Any]:
    """run.json's content; ``state`` (store, run_id, previous_run, changes) when a state store
    recorded the run; ``as_of_source`` says why the run counted from ``as_of`` (``recon.asof``)."""
    manifest: dict[str, Any] = {
        "recon_version": __version__,
        "python": platform.python_version(),
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "origin": inputs.origin,
        "as_of": as_of.isoformat() if as_of else None,
        "as_of_source": as_of_source,
        "inputs": input_files(inputs, load),
        "rules_dir": str(rules_dir),
        "rules": rule_files(rules_dir),
        "counts": {
            "load": {
                "rows_read": sum(t.rows_read for t in load.tables.values()),
                "rows_kept": sum(t.rows_kept for t in load.tables.values()),
                "rows_quarantined": sum(t.rows_quarantined for t in load.tables.values()),
            },
            "match": match.counts(),
            **{name: dict(counts) for name, counts in checks.items()},
        },
        "timings_s": {**{k: round(v, 3) for k, v in timings.items()}, "match_steps": match.timings},
        "decisions": {"store": decisions_store, **match.reviews},
        "outputs": sorted(p.relative_to(out_dir).as_posix() for p in outputs),
    }
    if state is not None:
        manifest["state"] = dict(state)
    # What `recon rerun` needs beyond the above (added later; older run.json files lack them).
    manifest["source"] = input_source(inputs)
    if "monthend" in checks and "months" in checks["monthend"]:
        manifest["months"] = list(checks["monthend"]["months"])
    manifest["decisions_location"] = _location(decisions_store)
    return manifest


def write_run_manifest(manifest: Mapping[str, Any], out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "run.json"
    path.write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    return path
