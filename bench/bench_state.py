"""Benchmark: the state store's step of ``recon run`` (``record_run`` plus the history reads) at a
given size, on SQLite and PostgreSQL, twice on the same data.

    python bench/bench_state.py --entities 100000 --seed 1
    python bench/bench_state.py --entities 1000000 --cache /tmp/cache1m --backends sqlite,postgresql

The pipeline's inputs to the state step (loaded, matched, leakage, quality) are computed once from
``bench/out/data-N-S`` and pickled under ``--cache`` (``loaded.pkl``, ``matched.pkl``,
``leakage.pkl``, ``quality.pkl``); later runs read the pickles. Each backend gets a fresh store;
the same run is recorded twice, and per run the script prints the seconds of ``record_run``, of
the history reads (the rest of ``pipeline.record_state``: acceptances, the leakage lifecycle and
resolved rows, the value-at-risk trend), of ``stable_ids`` and of the whole state step
(``record_state`` and ``stable_ids``), the rows each table gained or changed, and on SQLite the
file's size and each table's. The second run on unchanged data should write almost nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import pickle
import time
import uuid
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"
PG_URL = os.environ.get("RECON_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("RECON_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
PARTS = ("loaded", "matched", "leakage", "quality")


def prepare(data: Path, cache: Path) -> None:
    """Load, match, leakage and quality as ``pipeline.run_all`` does; pickle each result."""
    from recon.config.leakage import load_leakage_rules
    from recon.config.load import folder_config
    from recon.config.quality import load_quality_rules
    from recon.pipeline import leakage, load_all, match, quality, resolve_day

    cache.mkdir(parents=True, exist_ok=True)
    rules = load_leakage_rules()
    loaded = load_all(folder_config(data))
    day = resolve_day(None, loaded, rules, dt.date.today()).day
    matched = match(loaded)
    parts = {
        "loaded": loaded,
        "matched": matched,
        "leakage": leakage(loaded, matched, rules, day),
        "quality": quality(loaded, matched, load_quality_rules(), day),
    }
    for name, value in parts.items():
        (cache / f"{name}.pkl").write_bytes(pickle.dumps(value, protocol=5))


def load_parts(cache: Path) -> dict[str, Any]:
    """The pickled inputs; of ``loaded`` only the row counts the run manifest takes (its frames
    would hold gigabytes at a million entities for nothing)."""
    from types import SimpleNamespace

    parts: dict[str, Any] = {}
    for name in PARTS:
        with open(cache / f"{name}.pkl", "rb") as fh:
            value = pickle.load(fh)
        if name == "loaded":
            counts = ("rows_read", "rows_kept", "rows_quarantined")
            tables = {
                t: SimpleNamespace(**{c: getattr(table, c) for c in counts})
                for t, table in value.tables.items()
            }
            value = SimpleNamespace(tables=tables)
            gc.collect()
        parts[name] = value
    return parts


def table_rows(store: Any) -> dict[str, int]:
    import sqlalchemy as sa

    from recon.state import tables

    with store.transaction() as conn:
        return {
            t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
            for t in tables.metadata.sorted_tables
        }


def written_rows(store: Any, run_id: int) -> dict[str, int]:
    """Rows this run inserted or stamped: registry, changes, findings and kept-row blocks naming
    the run (in a run column: ``run_id`` or ``…_run``)."""
    import sqlalchemy as sa

    from recon.state import tables

    out = {}
    with store.transaction() as conn:
        for t in tables.metadata.sorted_tables:
            if t.name == "recon_runs":
                continue
            runs = [c for c in t.columns if c.name == "run_id" or c.name.endswith("_run")]
            if not runs:
                continue
            hit = sa.or_(*(c == run_id for c in runs))
            out[t.name] = int(
                conn.execute(sa.select(sa.func.count()).select_from(t).where(hit)).scalar_one()
            )
    return out


def sqlite_tables_mb(path: Path) -> dict[str, float]:
    """Megabytes per table and index of a SQLite file (its dbstat table, where built in)."""
    import sqlite3

    with sqlite3.connect(path) as conn:
        try:
            rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
        except sqlite3.OperationalError:
            return {}
    return {name: round(size / 1e6, 1) for name, size in sorted(rows, key=lambda r: -r[1])[:8]}


def one_backend(url: str, data: Path, parts: dict[str, Any], runs: int) -> list[dict[str, Any]]:
    import pandas as pd

    from recon.config.load import folder_config
    from recon.pipeline import record_state, stable_ids
    from recon.state import record
    from recon.state.lifecycle import DELIVERED
    from recon.state.store import Store

    inputs = folder_config(data)
    out = []
    recorded = record.record_run
    spent: list[float] = []

    def timed_record_run(*args: Any, **kwargs: Any) -> Any:  # record_state imports it per call
        started = time.perf_counter()
        try:
            return recorded(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    record.record_run = timed_record_run
    try:
        for n in range(1, runs + 1):
            gc.collect()
            spent.clear()
            t0 = time.perf_counter()
            state = record_state(
                url,
                "run",
                inputs,
                parts["loaded"],
                parts["matched"],
                parts["leakage"],
                {"quality": parts["quality"].findings},
                started_at=dt.datetime.now().astimezone(),
                timings={},
            )
            t1 = time.perf_counter()
            for name in ("matched", "leakage", "quality"):
                try:
                    stable_ids(parts[name], state.record)
                except AttributeError:  # a pickle of an older result class: its frames, then
                    for value in vars(parts[name]).values():
                        if isinstance(value, pd.DataFrame) and "xref_id" in value:
                            state.record.stable(value)
            t2 = time.perf_counter()
            state.finish(DELIVERED)  # as a run whose outputs got out
            with Store.open(url) as store:
                rows = table_rows(store)
                written = written_rows(store, state.run_id)
                figures = {
                    "run": n,
                    "record_run_s": round(spent[0], 2),
                    "history_s": round(t1 - t0 - spent[0], 2),
                    "record_state_s": round(t1 - t0, 2),
                    "stable_ids_s": round(t2 - t1, 2),
                    "state_step_s": round(t2 - t0, 2),
                    "written": {k: dict(v) for k, v in state.record.written.items()},
                    "rows": rows,
                    "rows_naming_run": written,
                    "changes": state.record.counts(),
                }
            if url.startswith("sqlite:///"):
                path = Path(url.removeprefix("sqlite:///"))
                figures["file_mb"] = round(path.stat().st_size / 1e6, 1)
                figures["tables_mb"] = sqlite_tables_mb(path)
            print(json.dumps(figures), flush=True)
            out.append(figures)
    finally:
        record.record_run = recorded
    return out


def fresh_url(backend: str, folder: Path) -> tuple[str, Any]:
    """A new, empty store of ``backend`` and how to drop it."""
    import sqlalchemy as sa

    if backend == "sqlite":
        path = folder / f"bench-state-{uuid.uuid4().hex[:8]}.sqlite"
        return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)
    name = f"recon_bench_{uuid.uuid4().hex[:8]}"
    base = sa.make_url(PG_URL if backend == "postgresql" else MYSQL_URL)
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE {'SCHEMA' if backend == 'postgresql' else 'DATABASE'} {name}")

    def drop() -> None:
        with engine.connect() as conn:
            what = "SCHEMA" if backend == "postgresql" else "DATABASE"
            conn.exec_driver_sql(
                f"DROP {what} {name}{' CASCADE' if backend == 'postgresql' else ''}"
            )
        engine.dispose()

    if backend == "postgresql":
        url = base.update_query_dict({"options": f"-csearch_path={name}"})
    else:
        url = base.set(database=name)
    return url.render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, help="folder of the pickled inputs")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--prepare-only", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the stores afterwards")
    args = parser.parse_args()
    data = OUT / f"data-{args.entities}-{args.seed}"
    cache = args.cache or Path(f"/tmp/state-helper/inputs-{args.entities}-{args.seed}")
    if not all((cache / f"{p}.pkl").is_file() for p in PARTS):
        print(f"computing the pipeline's inputs into {cache}", flush=True)
        prepare(data, cache)
    if args.prepare_only:
        return
    parts = load_parts(cache)
    print(
        f"{args.entities} entities: {len(parts['matched'].records)} records, "
        f"{len(parts['leakage'].findings)} leakage, {len(parts['quality'].findings)} quality, "
        f"{len(parts['matched'].duplicates)} duplicate findings",
        flush=True,
    )
    results: dict[str, Any] = {"entities": args.entities, "seed": args.seed}
    folder = Path("/tmp/state-helper")
    folder.mkdir(parents=True, exist_ok=True)
    for backend in args.backends.split(","):
        url, drop = fresh_url(backend, folder)
        print(f"--- {backend}", flush=True)
        try:
            results[backend] = one_backend(url, data, parts, args.runs)
        finally:
            if not args.keep:
                drop()
    OUT.mkdir(exist_ok=True)
    (OUT / f"state-{args.entities}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
