"""`recon rerun RUN_JSON`: re-run a recorded run from its inputs and rules, and compare.

The I/O around ``recon.report.rerun``: read run.json, check every recorded file against its
checksum (a changed or missing one stops here, exit code 2), rebuild the inputs, run
``pipeline.run_all`` with the recorded as-of day, months and review decisions, then read both runs'
xref.csv, leakage.csv and quality.csv for the comparison.

The state store: ``--store`` when given (the re-run is recorded there as a new run); else a copy
of the SQLite store the run was recorded in, made in the new output folder, so the re-run sees the
same xref registry and finding ids without adding a run to the live store's weekly history.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from recon.config.load import Inputs, folder_config, load_config
from recon.errors import ConfigError, SourceError, StateError
from recon.extract.load import Progress
from recon.report import rerun as pure
from recon.report.rerun import RunRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rerun:
    record: RunRecord
    run: Any  # pipeline.FullRun
    differences: tuple[str, ...]


def load_record(run_json: Path) -> RunRecord:
    try:
        manifest = json.loads(run_json.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{run_json}: not found; give the run.json of a recon run") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{run_json}: cannot be read as run.json ({exc})") from exc
    if not isinstance(manifest, dict):
        raise ConfigError(f"{run_json}: not a run.json written by recon run")
    return pure.parse_record(manifest, run_json.resolve())


def _sha256(path: Path) -> str | None:
    from recon.report.run_manifest import sha256_file

    return sha256_file(path) if path.is_file() else None


def check_unchanged(record: RunRecord, rules_dir: Path) -> None:
    """SourceError (exit 2), one line, when an input, the recon.yaml or a rule file changed."""
    from recon.report.run_manifest import rule_files

    files = list(record.inputs)
    if record.source_kind == "config" and record.source_sha256:
        files.insert(0, pure.RecordedFile(str(record.source_path), record.source_path,
                                          record.source_sha256))  # fmt: skip
    problems = pure.file_changes(files, {f.label: _sha256(f.path) for f in files}, record.name)
    now = {r["path"]: r["sha256"] for r in rule_files(rules_dir)}
    problems += pure.rule_changes(record.rules, now, record.name)
    if problems:
        raise SourceError("; ".join(problems) + " — the re-run would not read what the run read")
    if record.sql_tables:
        log.warning(
            "tables %s come from SQL and are read as they are now (no checksum was recorded)",
            ", ".join(record.sql_tables),
        )


def rebuild_inputs(record: RunRecord) -> Inputs:
    """The inputs as the run saw them: the same tables from the same files."""
    if record.source_kind == "folder":
        inputs = folder_config(record.source_path)
    else:
        inputs = load_config(record.source_path)
    now = {
        str(inputs.base_dir / source.file)
        for source in inputs.config.tables.values()
        if source.file is not None
    }
    recorded = {f.label for f in record.inputs}
    if now != recorded:
        told = [f"{p} is new" for p in sorted(now - recorded)]
        told += [f"{p} is no longer read" for p in sorted(recorded - now)]
        raise SourceError(
            f"{record.source_path} now reads other files than {record.name} ({'; '.join(told)})"
        )
    return inputs


def rerun_store(record: RunRecord, store: str | None, out_dir: Path) -> str | None:
    """``--store``, else a snapshot of the SQLite store the run was recorded in (None: the run
    was not recorded in a store)."""
    if store:
        return store
    if record.store is None:
        return None
    prefix = "sqlite:///"
    if not record.store.startswith(prefix):
        raise ConfigError(
            f"{record.name} was recorded in {record.store}; give --store URL for the re-run "
            "(it is recorded there as a new run)"
        )
    source = Path(record.store.removeprefix(prefix))
    if not source.is_file():
        raise StateError(f"{source}: the state store {record.name} was recorded in is missing")
    out_dir.mkdir(parents=True, exist_ok=True)
    copy = out_dir / "recon-state.sqlite"
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(copy)) as dst:
        src.backup(dst)  # a consistent snapshot even while another run writes
    log.info("re-running against a copy of %s: %s", source, copy)
    return f"{prefix}{copy.resolve()}"


def recorded_decisions(record: RunRecord, store: str | None) -> tuple[str, list[Any]]:
    """Where the run read its review decisions, and those applied before the run started."""
    from recon.state.decisions import CsvDecisionStore
    from recon.state.sql_decisions import SqlDecisionStore

    opened: Any
    if record.decisions_in_store and store:
        opened = SqlDecisionStore(store)
    elif record.decisions_location and "://" not in record.decisions_location:
        opened = CsvDecisionStore(Path(record.decisions_location))
    else:
        return "", []
    decisions = pure.decisions_at(opened.current(), record.started_at)
    if len(decisions) != record.decisions_stored:
        log.warning(
            "%s used %d stored review decision(s); %s now has %d from before it",
            record.name, record.decisions_stored, opened.location, len(decisions),
        )  # fmt: skip
    return opened.location, decisions


def read_outputs(folder: Path) -> dict[str, pd.DataFrame]:
    frames = {}
    for name in pure.OUTPUTS:
        path = folder / name
        if not path.is_file():
            raise SourceError(f"{path} is missing: cannot compare with the run's {name}")
        frames[name] = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frames


def rerun(
    run_json: Path, out_dir: Path, store: str | None = None, progress: Progress | None = None
) -> Rerun:
    """Check, re-run into ``out_dir`` and compare; the differences are empty when they agree."""
    from recon.pipeline import run_all
    from recon.resources import rules_dir

    record = load_record(run_json)
    check_unchanged(record, rules_dir())
    inputs = rebuild_inputs(record)
    original = read_outputs(record.out_dir)
    if out_dir.resolve() == record.out_dir:
        raise ConfigError(f"--out {out_dir} is the run's own folder; give a new one")
    url = rerun_store(record, store, out_dir)
    location, decisions = recorded_decisions(record, url)
    months = tuple(pd.Period(m, freq="M") for m in record.months) or None
    run = run_all(
        inputs,
        out_dir,
        progress,
        decisions,
        decisions_store=location,
        as_of=record.as_of,
        months=months,
        store=url,
    )
    if run.state is not None:  # a re-run delivers nothing: its outputs in place are all of it
        from recon.state.lifecycle import DELIVERED

        run.state.finish(DELIVERED)
    differences = pure.compare_outputs(original, read_outputs(out_dir))
    return Rerun(record, run, tuple(differences))
