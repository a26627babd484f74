"""Stores that earlier versions of recon left, on SQLite, PostgreSQL and MariaDB: opened, they are
migrated to the current schema, and what they held carries on (xref ids, findings and their
lifecycle, acceptances, the leakage rows a report reads back)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from dbs import backend
from store_urls import isolated_store_url

from recon.config.load import folder_config
from recon.extract.load import load_all
from recon.models import MatchResult
from recon.pipeline import match
from recon.sampledata import generate, write
from recon.state import findings_io, migration_v4, migrations, tables
from recon.state.lifecycle import finding_id
from recon.state.migrations import utc_now
from recon.state.record import RunInfo, record_run
from recon.state.store import Store

UPPER, LOWER = "ABC-1", "abc-1"  # two records to the loader; one key to a case-blind collation
LONG_ID = "L" + "0" * 300  # 301 characters: one more than the first store's VARCHAR(255) held
LONG_NAME = ("Quasar Holdings " * 4500)[:70_000]  # over MariaDB TEXT's 64 KB
D1, D2, D3 = (finding_id("leakage", f"no_order|D{i}") for i in (1, 2, 3))
QUALITY = finding_id("quality", "crm|A|required|name")
FAR = dt.date(2099, 12, 31)

# The tables as earlier versions wrote them: the columns their rows were inserted with.
OLD_REGISTRY = sa.table(
    "recon_xref_registry",
    *map(sa.column, ("system", "record_id", "xref_id", "first_seen_run", "last_seen_run")),
    sa.column("active"),
)
OLD_FINDINGS = sa.table(
    "recon_findings",
    *map(sa.column, ("finding_id", "family", "key", "kind", "first_seen_run", "last_seen_run")),
    *map(sa.column, ("resolved_run", "status", "payload", "value", "digest", "payload_run")),
)
OLD_ACCEPTANCES = sa.table(
    "recon_acceptances", *map(sa.column, ("finding_id", "reason", "owner", "until", "created_at"))
)


@pytest.fixture
def store_url(db_url: str) -> Iterator[str]:
    with isolated_store_url(db_url) as url:
        yield url


@pytest.fixture(scope="module")
def matched(tmp_path_factory: pytest.TempPathFactory) -> MatchResult:
    folder = tmp_path_factory.mktemp("migrations")
    write(generate(20, seed=2), folder)
    return match(load_all(folder_config(folder)))


def old_store(url: str, version: int) -> sa.Engine:
    """An empty store of schema ``version`` (the migrations up to it, each recorded)."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        for v in range(1, version + 1):
            migrations.MIGRATIONS[v - 1](conn)
            conn.execute(
                sa.insert(tables.schema_version).values(
                    version=v, applied_at=utc_now(), recon_version=f"0.{v}"
                )
            )
    return engine


def old_run(conn: sa.Connection, recon_version: str, command: str, **extra: object) -> int:
    """A delivered run as an earlier schema recorded it; its id."""
    values = {"started_at": utc_now(), "user": "u", "host": "h", "status": "ok"}
    values |= {"recon_version": recon_version, "command": command, "rules_hash": ""}
    values |= {"inputs": [], "rules": [], "counts": {}, "timings": {}, **extra}
    return int(conn.execute(sa.insert(tables.runs).values(**values)).inserted_primary_key[0])


def registry_row(record_id: str, xref: str, run: int, active: bool = True) -> dict[str, object]:
    return {
        "system": "crm",
        "record_id": record_id,
        "xref_id": xref,
        "first_seen_run": run,
        "last_seen_run": run,
        "active": active,
    }


# --- version 1 ---------------------------------------------------------------------------------


def test_a_version_1_store_is_migrated_and_keeps_what_the_loader_accepts(store_url: str) -> None:
    engine = old_store(store_url, 1)
    try:
        with engine.begin() as conn:
            run = old_run(conn, "0.1", "run")
            conn.execute(sa.insert(OLD_REGISTRY).values(registry_row(UPPER, "XR-000001", run)))
        if backend(store_url) == "mysql":  # the guard: version 1 merged ids that differ in case
            with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
                conn.execute(sa.insert(OLD_REGISTRY).values(registry_row(LOWER, "XR-000002", 1)))
    finally:
        engine.dispose()

    found = pd.DataFrame({"deal_id": [LONG_NAME], "order_ids": [None], "kind": ["no_order"]})
    found["company"] = LONG_NAME
    with Store.open(store_url) as store:
        assert store.schema_version() == migrations.CURRENT == 4
        with store.transaction() as conn:
            for record_id, number in ((LOWER, 2), (LONG_ID, 3)):
                conn.execute(
                    sa.insert(tables.xref_registry).values(
                        system="crm",
                        record_id=record_id,
                        xref_number=number,
                        first_seen_run=1,
                        last_seen_run=1,
                        active=True,
                    )
                )
            keyed = pd.DataFrame({"family": ["leakage"], "kind": ["no_order"]})
            findings_io.update(
                conn,
                1,
                dt.date.today(),
                keyed.assign(finding_id=[-5], key=[LONG_NAME], value=[None], payload=[None]),
                {"leakage"},
                found.assign(finding_id=[-5])[["finding_id", *found.columns]],
            )
        kept = store.registry()
        finding = store.findings().iloc[0]
    assert sorted(kept["record_id"]) == sorted([UPPER, LOWER, LONG_ID])
    assert kept.set_index("record_id").loc[UPPER, "xref_id"] == "XR-000001"
    assert json.loads(finding["payload"])["company"] == LONG_NAME
    assert finding["key"] == LONG_NAME
    with Store.open(store_url) as again:  # opening a migrated store changes nothing
        assert again.schema_version() == 4


# --- version 2 ---------------------------------------------------------------------------------


def v2_store(url: str) -> None:
    """A store as recon with schema version 2 left it: one delivered run that found leakage deal
    D1 and a quality finding, each with its row as payload."""
    engine = old_store(url, 2)
    try:
        with engine.begin() as conn:
            run = old_run(conn, "0.2", "leakage")
            for fid, family, key, payload in (
                (D1, "leakage", "no_order|D1", json.dumps({"deal_id": "D1", "age_days": 3})),
                ("F-00000000000000aa", "quality", "crm|1|required|name", json.dumps({"x": 1})),
            ):
                values = {"finding_id": fid, "family": family, "key": key, "payload": payload}
                values |= {"kind": key.split("|")[0], "status": "open"}
                values |= {"first_seen_run": run, "last_seen_run": run}
                conn.execute(sa.insert(OLD_FINDINGS).values(values))
    finally:
        engine.dispose()


def test_a_version_2_store_is_migrated_and_its_findings_carry_on(
    store_url: str, matched: MatchResult
) -> None:
    v2_store(store_url)
    with Store.open(store_url) as store:
        assert store.schema_version() == migrations.CURRENT == 4
        migrated = store.findings().set_index("finding_id")
        assert json.loads(migrated.loc[D1, "payload"])["deal_id"] == "D1"
        assert pd.isna(migrated.loc["F-00000000000000aa", "payload"])  # nobody reads it back
    found = pd.DataFrame(
        {"deal_id": ["D1"], "order_ids": [None], "kind": ["no_order"], "gap_amount": [5.0]}
    )
    with Store.open(store_url) as store:
        record = record_run(store, RunInfo("leakage", status="ok"), matched, {"leakage": found})
        again = record_run(store, RunInfo("leakage", status="ok"), matched, {"leakage": found})
        after = store.findings().set_index("finding_id")
    row = record.findings.set_index("finding_id").loc[D1]
    assert (row["change"], row["first_seen_run"]) == ("open", 1)  # not new: carried over
    assert record.written["findings"]["changed"] == 1  # its row rewritten once, as the check has it
    assert again.written["findings"] == {"new": 0, "changed": 0, "resolved": 0}
    assert after.loc[D1, "last_seen_run"] == again.run_id
    assert after.loc[D1, "payload_run"] == record.run_id
    assert after.loc["F-00000000000000aa", "status"] == "open"  # leakage runs leave quality be


# --- version 3 ---------------------------------------------------------------------------------


def v3_store(url: str) -> None:
    """A store as recon with schema version 3 left it, after two delivered runs: records A
    (active) and GONE (left in run 2); leakage D1 open since run 1 with its row, D2 accepted
    until 2099, D3 resolved in run 2; quality finding crm|A|required|name open."""
    engine = old_store(url, 3)
    families = "duplicate,leakage,quality"
    try:
        with engine.begin() as conn:
            one = old_run(conn, "0.3", "run", families=families)
            two = old_run(conn, "0.3", "run", families=families)
            conn.execute(
                sa.insert(OLD_REGISTRY),
                [
                    registry_row("A", "XR-000001", one),
                    registry_row("GONE", "XR-000002", one, active=False),
                ],
            )
            conn.execute(
                sa.update(tables.counters).where(tables.counters.c.name == "next_xref"),
                {"value": 3},
            )
            row = {"deal_id": "D1", "order_ids": None, "kind": "no_order", "gap_amount": "5.0000"}
            for fid, family, key, status, payload in (
                (D1, "leakage", "no_order|D1", "open", json.dumps({**row, "age_days": 3})),
                (D2, "leakage", "no_order|D2", "accepted", json.dumps({**row, "deal_id": "D2"})),
                (D3, "leakage", "no_order|D3", "resolved", json.dumps({**row, "deal_id": "D3"})),
                (QUALITY, "quality", "crm|A|required|name", "open", None),
            ):
                values = {"finding_id": fid, "family": family, "key": key, "status": status}
                values |= {"kind": key.split("|")[2] if family == "quality" else "no_order"}
                values |= {"first_seen_run": one, "last_seen_run": one if fid == D3 else two}
                values |= {"resolved_run": two if fid == D3 else None, "payload": payload}
                values |= {"value": "5.0000" if payload else None, "digest": 7 if payload else None}
                values |= {"payload_run": two if payload else None}
                conn.execute(sa.insert(OLD_FINDINGS).values(values))
            conn.execute(
                sa.insert(OLD_ACCEPTANCES).values(
                    finding_id=D2,
                    reason="credit note",
                    owner="ana",
                    until=FAR,
                    created_at=utc_now(),
                )
            )
    finally:
        engine.dispose()


def check_v3_carried_on(store_url: str, matched: MatchResult) -> None:
    with Store.open(store_url) as store:
        assert store.schema_version() == migrations.CURRENT == 4
        registry = store.registry().set_index("record_id")
        findings = store.findings().set_index("finding_id")
        acceptances = store.acceptances()
    assert registry["xref_id"].to_dict() == {"A": "XR-000001", "GONE": "XR-000002"}
    assert registry["active"].astype(bool).to_dict() == {"A": True, "GONE": False}
    assert registry.loc["A", "last_seen_run"] == 2 and registry.loc["GONE", "last_seen_run"] == 1
    assert findings["status"].to_dict() == {
        D1: "open", D2: "accepted", D3: "resolved", QUALITY: "open",
    }  # fmt: skip
    assert findings.loc[QUALITY, ["family", "kind", "key"]].tolist() == [
        "quality", "required", "crm|A|required|name",
    ]  # fmt: skip
    assert findings.loc[D3, "resolved_run"] == 2
    assert json.loads(findings.loc[D1, "payload"])["age_days"] == 3
    assert findings.loc[D1, "payload_run"] == 2 and float(findings.loc[D1, "value"]) == 5
    assert acceptances[["finding_id", "owner"]].values.tolist() == [[D2, "ana"]]

    found = pd.DataFrame(
        {"deal_id": ["D1", "D2"], "order_ids": [None, None], "kind": "no_order", "gap_amount": 5}
    )
    with Store.open(store_url) as store:
        record = record_run(store, RunInfo("leakage", status="ok"), matched, {"leakage": found})
        with store.transaction() as conn:  # acceptances go on numbering after the migrated one
            findings_io.accept(
                conn, D1, reason="agreed", owner="bo", until=FAR, today=dt.date.today()
            )
        ids = store.acceptances()["acceptance_id"].tolist()
    leak = record.findings[record.findings["family"] == "leakage"]
    assert leak.set_index("finding_id")["change"].to_dict() == {D1: "open", D2: "accepted"}
    assert ids == sorted(set(ids)) and len(ids) == 2
    assert (record.xref_by_record.str.slice(3).astype(int) >= 3).all()  # never reissued


def test_a_version_3_store_is_migrated_and_its_state_carries_on(
    store_url: str, matched: MatchResult
) -> None:
    v3_store(store_url)
    check_v3_carried_on(store_url, matched)


@pytest.mark.db
@pytest.mark.parametrize("db_url", ["mysql"], indirect=True)
def test_a_mariadb_migration_stopped_half_way_starts_again_from_the_old_rows(
    store_url: str, matched: MatchResult, tmp_path: Path
) -> None:
    v3_store(store_url)
    engine = sa.create_engine(store_url, poolclass=sa.NullPool)
    try:  # each DDL statement committed by itself, then the migration stopped
        with engine.begin() as conn:
            for name in ("recon_acceptances", "recon_findings"):
                migration_v4._set_aside(conn, name)
            tables.finding_kinds.create(conn)
            tables.findings.create(conn)
    finally:
        engine.dispose()
    check_v3_carried_on(store_url, matched)
