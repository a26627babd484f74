"""The state store for real on SQLite, PostgreSQL and MariaDB: schema and versions, stable xref ids
over runs of changed data (the real matcher on generated data), the findings' lifecycle, and
transactions that a failure, a SIGKILL or a second run cannot break."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from store_urls import isolated_store_url

from recon.config.load import folder_config
from recon.errors import StateError
from recon.extract.load import load_all
from recon.match.stable_ids import xref_number
from recon.models import MatchResult
from recon.pipeline import match
from recon.sampledata import generate, write
from recon.state import findings_io, migrations, tables
from recon.state.record import RunInfo, record_run
from recon.state.store import Store

WORKER = Path(__file__).with_name("store_worker.py")
REMOVED_CRM = range(10, 15)  # positions of CRM companies and ERP customers the second run lacks
REMOVED_ERP = range(10, 15)
ADDED_CRM = 3  # brand-new companies in the second run
EDITED_CRM = 20  # a company renamed in the second run


@pytest.fixture
def store_url(db_url: str) -> Iterator[str]:
    """A store location of this test's own: the SQLite file, or a new schema / database."""
    with isolated_store_url(db_url) as url:
        yield url


def changed(sample: Any) -> Any:
    """The sample with CRM and ERP records removed, companies added and one company renamed."""
    crm = sample.tables["crm_companies"]
    erp = sample.tables["erp_customers"]
    new = crm.iloc[[0] * ADDED_CRM].copy()
    new["company_id"] = [f"99999999{i:02d}" for i in range(ADDED_CRM)]
    new["name"] = [f"Quixotic Zebra Lantern {w} Co" for w in ("Alpha", "Bravo", "Charlie")]
    for column in ("domain", "website", "email", "phone", "address", "erp_customer_id"):
        new[column] = pd.NA
    crm = pd.concat([crm.drop(crm.index[list(REMOVED_CRM)]), new], ignore_index=True)
    crm.loc[EDITED_CRM, "name"] = str(crm.loc[EDITED_CRM, "name"]) + " Trading"
    erp = erp.drop(erp.index[list(REMOVED_ERP)]).reset_index(drop=True)
    tables_ = {**sample.tables, "crm_companies": crm, "erp_customers": erp}
    return dataclasses.replace(sample, tables=tables_)


@pytest.fixture(scope="module")
def matched(tmp_path_factory: pytest.TempPathFactory) -> dict[str, MatchResult]:
    """The real matcher over generated data (``a``) and over the changed data (``b``)."""
    root = tmp_path_factory.mktemp("stable")
    sample = generate(250, seed=11)
    out = {}
    for name, data in (("a", sample), ("b", changed(sample))):
        write(data, root / name)
        out[name] = match(load_all(folder_config(root / name)))
    return out


def ids_of(result: MatchResult, record: Any) -> dict[str, str]:
    keys = result.records["system"].astype(str) + ":" + result.records["record_id"].astype(str)
    return dict(zip(keys, record.xref_by_record, strict=True))


def groups(result: MatchResult) -> dict[frozenset[str], str]:
    """Each entity's set of records → its run-local xref id."""
    keys = result.records["system"].astype(str) + ":" + result.records["record_id"].astype(str)
    local = result.xref.assign(key=result.xref["system"] + ":" + result.xref["record_id"])
    by = local.groupby("xref_id")["key"].agg(frozenset)
    assert set(keys) == set(local["key"])
    return {members: xref for xref, members in by.items()}


def snapshot(store: Store) -> dict[str, list[dict[str, Any]]]:
    def rows(table: sa.Table) -> list[dict[str, Any]]:
        key = list(table.primary_key.columns)
        return store.read(sa.select(table).order_by(*key)).to_dict(orient="records")

    return {t.name: rows(t) for t in tables.metadata.sorted_tables}


# --- schema ----------------------------------------------------------------------------------


def test_open_creates_the_schema_once_and_records_its_version(store_url: str) -> None:
    with Store.open(store_url) as store:
        assert store.schema_version() == migrations.CURRENT
    with Store.open(store_url) as store:  # a second open migrates nothing
        versions = store.read(sa.select(tables.schema_version))
        assert versions["version"].tolist() == list(range(1, migrations.CURRENT + 1))
        names = set(sa.inspect(store.engine).get_table_names())
    assert {t.name for t in tables.metadata.sorted_tables} <= names


def test_a_newer_schema_version_is_refused_with_both_versions(store_url: str) -> None:
    with Store.open(store_url) as store, store.transaction() as conn:
        conn.execute(
            sa.insert(tables.schema_version).values(
                version=99, applied_at=dt.datetime(2030, 1, 1), recon_version="9.0.0"
            )
        )
    with pytest.raises(StateError) as caught:
        Store.open(store_url)
    message = str(caught.value)
    assert "schema version 99" in message
    assert f"up to {migrations.CURRENT}" in message and "upgrade recon" in message


def test_opening_a_missing_store_without_create_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="no state store at"):
        Store.open(f"sqlite:///{tmp_path / 'none.sqlite'}", create=False)


@pytest.mark.db
@pytest.mark.parametrize("which", ["pg_url", "mysql_url"])
def test_bad_credentials_and_unreachable_servers_give_one_error_without_the_password(
    which: str, request: pytest.FixtureRequest
) -> None:
    good = sa.make_url(request.getfixturevalue(which))
    bad_user = good.set(username="recon_nobody", password="s3cret-pw")
    unreachable = good.set(password="s3cret-pw", port=1)
    for url in (bad_user, unreachable):
        with pytest.raises(StateError) as caught:
            Store.open(url.render_as_string(hide_password=False))
        message = str(caught.value)
        assert message.startswith("cannot open the state store")
        assert "s3cret-pw" not in message and "***" in message
        assert "\n" not in message


def test_store_url_reads_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECON_TEST_STORE_DIR", str(tmp_path))
    with Store.open("sqlite:///${RECON_TEST_STORE_DIR}/s.sqlite") as store:
        assert store.location == f"sqlite:///{tmp_path}/s.sqlite"
    with pytest.raises(StateError, match="RECON_TEST_UNSET_VAR is not set"):
        Store.open("sqlite:///${RECON_TEST_UNSET_VAR}/s.sqlite")


# --- stable ids over runs ------------------------------------------------------------------


def test_xref_ids_stay_stable_across_runs_with_added_removed_and_edited_records(
    store_url: str, matched: dict[str, MatchResult]
) -> None:
    a, b = matched["a"], matched["b"]
    with Store.open(store_url) as store:
        first = record_run(store, RunInfo("run"), a, {})
        again = record_run(store, RunInfo("run"), a, {})
        second = record_run(store, RunInfo("run"), b, {})
        back = record_run(store, RunInfo("run"), a, {})
        registry = store.registry()
        changes = store.changes()

    ids1, ids2, ids3 = ids_of(a, first), ids_of(b, second), ids_of(a, back)
    # The same data again: the same ids, nothing changed.
    assert ids_of(a, again) == ids1
    assert (changes["run_id"] == again.run_id).sum() == 0
    # Entities untouched by the changes keep their ids, though the matcher renumbered them.
    ga, gb = groups(a), groups(b)
    untouched = set(ga) & set(gb)
    assert len(untouched) > 0.8 * len(ga)
    renumbered = [g for g in untouched if ga[g] != gb[g]]
    assert renumbered, "the run-local ids should shift, or this test proves nothing"
    for group in untouched:
        assert {ids2[k] for k in group} == {ids1[next(iter(group))]}
        assert {ids3[k] for k in group} == {ids1[next(iter(group))]}
    # New entities get numbers above every id issued before; no id changes hands.
    top = max(xref_number(pd.Series(list(ids1.values()))))
    added = [f"crm:99999999{i:02d}" for i in range(ADDED_CRM)]
    assert all(xref_number(pd.Series([ids2[k]]))[0] > top for k in added)
    for xref in set(ids2.values()):
        if xref in set(ids1.values()):
            holders = {k for k, x in ids1.items() if x == xref}
            members = {k for k, x in ids2.items() if x == xref}
            assert holders & members, f"{xref} went to records that never held it"
    # What changed is recorded: the new companies, and ids whose records all left.
    second_changes = changes[changes["run_id"] == second.run_id]
    new_records = {
        k for ks in second_changes.loc[second_changes["kind"] == "new", "record_ids"] for k in ks
    }
    assert set(added) <= new_records
    assert (second_changes["kind"] == "retired").any()
    # The registry: every record ever seen, active when the latest run saw it.
    active = registry[registry["active"].astype(bool)]
    assert len(active) == len(a.records)
    assert len(registry) == len(set(ids1) | set(ids2))
    assert (active["last_seen_run"] == back.run_id).all()


def test_run_record_rewrites_frames_to_the_stable_ids(
    store_url: str, matched: dict[str, MatchResult]
) -> None:
    a, b = matched["a"], matched["b"]
    with Store.open(store_url) as store:
        record_run(store, RunInfo("run"), a, {})
        second = record_run(store, RunInfo("run"), b, {})
    xref = second.stable(b.xref)
    by_key = dict(zip(xref["system"] + ":" + xref["record_id"], xref["xref_id"], strict=True))
    assert by_key == ids_of(b, second)


# --- findings --------------------------------------------------------------------------------


def leakage(*deals: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "deal_id": list(deals),
            "order_ids": [None] * len(deals),
            "kind": "no_order",
            "xref_id": [None] * len(deals),
            "gap_amount": [1000.25] * len(deals),
        }
    )


QUALITY = pd.DataFrame(
    {"system": ["crm"], "record_id": ["1"], "rule": ["required"], "field": ["name"]}
)


def test_findings_are_new_then_open_resolved_and_accepted_per_family(
    store_url: str, matched: dict[str, MatchResult]
) -> None:
    a = matched["a"]
    day = dt.date.today()
    with Store.open(store_url) as store:
        first = record_run(
            store,
            RunInfo("run", as_of=day),
            a,
            {"leakage": leakage("D1", "D2"), "quality": QUALITY},
        )
        # A leakage-only run leaves the quality findings alone.
        second = record_run(store, RunInfo("leakage", as_of=day), a, {"leakage": leakage("D1")})
        d1 = second.findings.set_index("key").loc["no_order|D1", "finding_id"]
        with store.transaction() as conn:
            findings_io.accept(
                conn, d1, reason="credit note agreed", owner="ana", until=day, today=day
            )
        third = record_run(store, RunInfo("leakage", as_of=day), a, {"leakage": leakage("D1")})
        later = day + dt.timedelta(days=1)
        fourth = record_run(store, RunInfo("leakage", as_of=later), a, {"leakage": leakage("D1")})
        stored = store.findings().set_index("key")

    def change(record: Any, key: str) -> str:
        return str(record.findings.set_index("key").loc[key, "change"])

    assert change(first, "no_order|D1") == "new" and change(first, "crm|1|required|name") == "new"
    assert change(second, "no_order|D1") == "open"
    assert change(second, "no_order|D2") == "resolved"
    assert "crm|1|required|name" not in set(second.findings["key"])
    assert change(third, "no_order|D1") == "accepted"
    assert change(fourth, "no_order|D1") == "expired"
    assert stored.loc["no_order|D1", "status"] == "open"
    assert stored.loc["no_order|D2", ["status", "resolved_run"]].tolist() == [
        "resolved",
        second.run_id,
    ]
    assert stored.loc["crm|1|required|name", "status"] == "open"
    assert float(stored.loc["no_order|D1", "value"]) == 1000.25
    assert stored.loc["no_order|D1", "first_seen_run"] == first.run_id


# --- transactions, crashes and concurrency --------------------------------------------------------


def test_a_run_failing_half_way_leaves_the_store_as_it_was(
    store_url: str, matched: dict[str, MatchResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store.open(store_url) as store:
        record_run(store, RunInfo("run"), matched["a"], {"leakage": leakage("D1")})
        before = snapshot(store)

        def fail(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("disk full")  # after the run row and the registry are written

        monkeypatch.setattr(findings_io, "update", fail)
        with pytest.raises(RuntimeError, match="disk full"):
            record_run(store, RunInfo("run"), matched["b"], {"leakage": leakage("D2")})
        assert snapshot(store) == before


def start_worker(
    url: str, match_result: MatchResult, tmp_path: Path, hold: float
) -> subprocess.Popen[str]:
    pickled = tmp_path / "match.pickle"
    pickled.write_bytes(pickle.dumps(match_result))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    worker = subprocess.Popen(
        [sys.executable, str(WORKER), url, str(pickled), str(hold)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert worker.stdout is not None
    line = worker.stdout.readline()  # blocks until the worker holds the store mid-write
    if line.strip() != "holding":
        worker.kill()
        raise AssertionError(f"worker did not start: {line}{worker.stderr.read()}")  # type: ignore[union-attr]
    return worker


def test_a_run_killed_mid_write_leaves_the_store_consistent(
    store_url: str, matched: dict[str, MatchResult], tmp_path: Path
) -> None:
    with Store.open(store_url) as store:
        record_run(store, RunInfo("run"), matched["a"], {})
        before = snapshot(store)
    worker = start_worker(store_url, matched["b"], tmp_path, hold=600)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    with Store.open(store_url, lock_timeout=20) as store:
        assert snapshot(store) == before
        after = record_run(store, RunInfo("run"), matched["b"], {})  # the lock went with it
        assert after.run_id not in {r["run_id"] for r in before["recon_runs"]}


def test_a_second_run_is_refused_while_one_is_writing(
    store_url: str, matched: dict[str, MatchResult], tmp_path: Path
) -> None:
    Store.open(store_url).close()
    worker = start_worker(store_url, matched["a"], tmp_path, hold=600)
    try:
        started = time.monotonic()
        with pytest.raises(StateError) as caught, Store.open(store_url, lock_timeout=1) as store:
            record_run(store, RunInfo("run"), matched["a"], {})
        assert "another recon run is writing to the state store" in str(caught.value)
        assert time.monotonic() - started < 30
    finally:
        worker.kill()
        worker.wait(timeout=30)


def test_two_runs_at_once_are_serialized(
    store_url: str, matched: dict[str, MatchResult], tmp_path: Path
) -> None:
    Store.open(store_url).close()
    worker = start_worker(store_url, matched["a"], tmp_path, hold=3)
    try:
        with Store.open(store_url, lock_timeout=60) as store:
            mine = record_run(store, RunInfo("run"), matched["a"], {})
            runs = store.runs()
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
    finally:
        if worker.poll() is None:
            worker.kill()
    theirs = int(out.split("recorded ")[1])
    # The worker's run committed first, and this run was recorded against it: same data, same
    # ids, nothing new.
    assert theirs < mine.run_id
    assert runs["command"].tolist() == ["worker", "run"]
    assert mine.changes.empty


# --- differences, not copies --------------------------------------------------------------


def rows_naming(store: Store, run_id: int) -> dict[str, int]:
    """Rows of the registry, its changes and the findings that name ``run_id`` in any run column
    (what a run inserted or stamped)."""
    out = {}
    with store.transaction() as conn:
        for table in (
            tables.xref_registry,
            tables.xref_changes,
            tables.findings,
            tables.finding_rows,
        ):
            columns = [c for c in table.columns if c.name.endswith("run") or c.name == "run_id"]
            hit = sa.or_(*(c == run_id for c in columns))
            count = sa.select(sa.func.count()).select_from(table).where(hit)
            out[table.name] = int(conn.execute(count).scalar_one())
    return out


def test_a_second_run_on_unchanged_data_writes_no_registry_or_finding_rows(
    store_url: str, matched: dict[str, MatchResult]
) -> None:
    a = matched["a"]
    found = {"leakage": leakage("D1", "D2"), "quality": QUALITY}
    with Store.open(store_url) as store:
        first = record_run(store, RunInfo("run", status="ok"), a, found)
        before = {t: len(store.read(sa.select(tables.metadata.tables[t]))) for t in TABLES}
        second = record_run(store, RunInfo("run", status="ok"), a, found)
        after = {t: len(store.read(sa.select(tables.metadata.tables[t]))) for t in TABLES}
        written = rows_naming(store, second.run_id)
        registry = store.registry()
        findings = store.findings().set_index("key")
    assert rows_naming(store, first.run_id)["recon_xref_registry"] == len(a.records)
    assert after == before, "no row added anywhere but the run itself"
    assert written == {
        "recon_xref_registry": 0, "recon_xref_changes": 0, "recon_findings": 0,
        "recon_finding_rows": 0,
    }  # fmt: skip
    assert second.written["findings"] == {"new": 0, "changed": 0, "resolved": 0}
    assert second.written["xref_registry"] == {"new": 0, "moved": 0, "gone": 0, "changes": 0}
    # Still read as seen by the second run, though their rows were not rewritten.
    assert (registry["last_seen_run"] == second.run_id).all()
    assert (findings["last_seen_run"] == second.run_id).all()
    assert (findings["first_seen_run"] == first.run_id).all()
    assert set(second.findings["change"]) == {"open"}


TABLES = ("recon_xref_registry", "recon_xref_changes", "recon_findings", "recon_finding_rows")


def test_ranges_keep_last_seen_first_seen_and_resolved_through_runs(
    store_url: str, matched: dict[str, MatchResult]
) -> None:
    a, b = matched["a"], matched["b"]
    with Store.open(store_url) as store:
        one = record_run(store, RunInfo("run", status="ok"), a, {"leakage": leakage("D1", "D2")})
        two = record_run(store, RunInfo("run", status="ok"), a, {"leakage": leakage("D1")})
        # A quality-only family run leaves the leakage findings' last sighting at run two.
        three = record_run(store, RunInfo("quality", status="ok"), b, {"quality": QUALITY})
        four = record_run(store, RunInfo("run", status="ok"), a, {"leakage": leakage("D1", "D2")})
        findings = store.findings().set_index("key")
        registry = store.registry().set_index(["system", "record_id"])
    assert four.findings.set_index("key").loc["no_order|D2", "change"] == "new"  # back again
    d1, d2 = findings.loc["no_order|D1"], findings.loc["no_order|D2"]
    assert (d1["first_seen_run"], d1["last_seen_run"], d1["status"]) == (
        one.run_id,
        four.run_id,
        "open",
    )
    assert (d2["first_seen_run"], d2["last_seen_run"], d2["status"]) == (
        four.run_id,
        four.run_id,
        "open",
    )
    assert pd.isna(d2["resolved_run"])
    # Run four checked no quality: the quality finding stays open, last seen by run three.
    assert findings.loc["crm|1|required|name", "status"] == "open"
    assert findings.loc["crm|1|required|name", "last_seen_run"] == three.run_id
    # Records b lacks left in run three (last seen in run two) and came back in run four.
    assert registry["active"].astype(bool).sum() == len(a.records)
    assert (registry.loc[registry["active"].astype(bool), "last_seen_run"] == four.run_id).all()
    gone = registry[~registry["active"].astype(bool)]
    assert len(gone) and (gone["last_seen_run"] == three.run_id).all()  # b's own new records
    assert two.run_id < three.run_id


def test_a_kept_row_is_rewritten_when_it_changes_and_read_back_as_last_seen(
    store_url: str, matched: dict[str, MatchResult]
) -> None:
    a = matched["a"]
    day = dt.date(2026, 10, 15)
    one = leakage("D1", "D2").assign(age_days=[3, 4], reason="first")
    two = one.assign(age_days=[10, 11])  # a week on: nothing but the day moved
    three = one.iloc[:1].assign(reason="amended", age_days=[17])  # D1 amended, D2 resolved
    with Store.open(store_url) as store:
        record_run(store, RunInfo("leakage", as_of=day, status="ok"), a, {"leakage": one})
        blocks = store.read(sa.select(tables.finding_rows))
        second = record_run(store, RunInfo("leakage", as_of=day, status="ok"), a, {"leakage": two})
        third = record_run(store, RunInfo("leakage", as_of=day, status="ok"), a, {"leakage": three})
        after = store.read(sa.select(tables.finding_rows))
        d2 = third.findings.set_index("key").loc["no_order|D2", "finding_id"]
        resolved = store.kept_rows([d2]).iloc[0]
        d1 = store.findings().set_index("key").loc["no_order|D1"]
    assert second.written["findings"] == {"new": 0, "changed": 0, "resolved": 0}
    assert third.written["findings"] == {"new": 0, "changed": 1, "resolved": 1}
    assert len(blocks) == 1 and len(after) == 2  # the first block still holds D2's row
    assert (resolved["reason"], resolved["age_days"], resolved["row_run"]) == ("first", 4, 1)
    assert json.loads(d1["payload"])["reason"] == "amended" and d1["payload_run"] == third.run_id


def test_a_counted_record_keeps_its_counts_and_stable_ids(
    store_url: str, matched: dict[str, MatchResult]
) -> None:
    """What the outputs read of a record after the lifecycle: the counts and the id rewrite."""
    a = matched["a"]
    with Store.open(store_url) as store:
        record = record_run(store, RunInfo("run"), a, {"quality": QUALITY})
    counted = record.counted()
    assert counted.counts() == record.counts()
    assert counted.run_id == record.run_id
    pd.testing.assert_frame_equal(counted.stable(a.xref), record.stable(a.xref))
    assert list(counted.findings.columns) == ["change"] and counted.xref_by_record.empty
