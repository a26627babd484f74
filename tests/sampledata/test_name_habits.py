"""generate(names=...): each name habit plants its kind, truth stays right, the defaults change
nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from recon.cli import app
from recon.sampledata import SampleData, generate, vocab, write
from recon.sampledata.name_habits import FIELDS, NameHabits, split
from recon.schema import TABLES

N, SEED = 1500, 11  # every country, a few dozen duplicates and groups
FAST = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MARKERS = [(pre, post) for pre, post, _ in vocab.DUPLICATE_MARKERS]
TRADING = re.compile(r" (T/A|t/a|ATF|DBA|d/b/a|dba|qq|Inh\.) |\(|\) | - PT |GmbH(, | - )", re.I)


@pytest.fixture(scope="module")
def base() -> SampleData:
    return generate(N, SEED, bad_rows=False)


def _with(**knobs: float) -> SampleData:
    return generate(N, SEED, bad_rows=False, names=knobs)


def _by_id(data: SampleData, table: str, id_col: str) -> pd.DataFrame:
    frame = data.tables[table].set_index(id_col)
    return frame[~frame.index.duplicated()]


def _entity(data: SampleData, system: str) -> pd.Series:
    t = data.truth_entities
    return t[t["system"] == system].set_index("record_id")["entity_id"]


def _changed(base: SampleData, data: SampleData, table: str, id_col: str) -> pd.DataFrame:
    """Records whose name the habit changed: old and new name, and their entity."""
    old, new = _by_id(base, table, id_col), _by_id(data, table, id_col)
    diff = old.index[(old["name"] != new.loc[old.index, "name"]).fillna(True).to_numpy()]
    system = "crm" if table == "crm_companies" else "erp"
    return pd.DataFrame(
        {
            "old": old.loc[diff, "name"],
            "new": new.loc[diff, "name"],
            "entity": _entity(data, system).reindex(diff),
        }
    )


# --- the defaults ---------------------------------------------------------------------------------


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize(
    "kwargs",
    [{"names": NameHabits()}, {"names": {}}, {"habits": {"domain_names": 0, "short_names": 0.0}}],
)
def test_default_name_habits_write_the_same_bytes(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    write(generate(400, 5), tmp_path / "before")
    write(generate(400, 5, **kwargs), tmp_path / "after")
    assert _files(tmp_path / "before") == _files(tmp_path / "after")
    assert "name_habits" not in json.loads((tmp_path / "after" / "truth_meta.json").read_text())


def test_bad_knobs_are_refused_with_the_valid_names() -> None:
    with pytest.raises(ValueError, match=r"one_letter is 1\.5 — expected a share from 0 to 1"):
        NameHabits(one_letter=1.5)
    with pytest.raises(ValueError, match="expected a share"):
        NameHabits(short_names="lots")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="name habits: legal_form_spelled, one_letter"):
        split({"domain_name": 0.3}, None)
    h, nh = split({"instalments": 0.2, "domain_names": 0.3}, None)
    assert h.instalments == 0.2 and nh == NameHabits(domain_names=0.3)


# --- truth ----------------------------------------------------------------------------------------


@FAST
@given(
    knobs=st.dictionaries(st.sampled_from(FIELDS), st.floats(0.01, 1.0), min_size=1),
    seed=st.integers(0, 50),
)
def test_name_habits_change_names_never_entities(knobs: dict[str, float], seed: int) -> None:
    """The same records, in the same entities, with the same deals and orders: only names and
    the fields that tie them (domain, phone, city, address) move, so the truth stays right."""
    base, data = generate(250, seed), generate(250, seed, names=knobs)
    pd.testing.assert_frame_equal(base.truth_entities, data.truth_entities)
    for name in ("crm_deals", "erp_orders", "erp_invoices", "fx_rates"):
        # a deal is named after its company, so a branch's deals name the branch
        same = [c for c in base.tables[name].columns if c != "deal_name"]
        pd.testing.assert_frame_equal(base.tables[name][same], data.tables[name][same])
    for name in ("crm_companies", "erp_customers"):
        assert data.tables[name].columns.tolist() == list(TABLES[name].names)
        id_col = "company_id" if name == "crm_companies" else "customer_id"
        assert data.tables[name][id_col].equals(base.tables[name][id_col])
    meta = data.meta["name_habits"]
    assert {k: meta[k] for k in FIELDS} == {**dict.fromkeys(FIELDS, 0.0), **knobs}
    hard = data.truth_hard_negatives
    assert (hard["entity_a"] != hard["entity_b"]).all()


# --- each knob ------------------------------------------------------------------------------------


def test_dup_markers_mark_every_erp_duplicate_in_its_entity(base: SampleData) -> None:
    data = _with(dup_markers=1.0)
    customers = data.tables["erp_customers"]
    entity = _entity(data, "erp")
    # a duplicate is created after its main record, so its number is higher
    number = pd.to_numeric(customers["customer_id"].astype(object).str.lstrip("C"))
    frame = pd.DataFrame(
        {
            "name": customers["name"],
            "entity": entity.loc[customers["customer_id"]].to_numpy(),
            "number": number,
        }
    )
    dup = frame["number"] > frame.groupby("entity")["number"].transform("min")
    assert dup.sum() > 20

    def marked(name: str) -> bool:
        return any(
            name.startswith(pre) and name.endswith(post) and (pre or post) for pre, post in MARKERS
        )

    assert frame.loc[dup, "name"].map(marked).all()
    changed = _changed(base, data, "erp_customers", "customer_id")
    assert len(changed) == dup.sum() == data.meta["name_habits"]["counts"]["dup_marker_records"]
    # marked or not, the records stay in their entity
    assert _entity(data, "erp").equals(_entity(base, "erp"))


def test_legal_form_spelled_writes_it_out_in_capitals(base: SampleData) -> None:
    data = _with(legal_form_spelled=1.0)
    names = data.tables["erp_customers"]["name"]
    spelled = {
        (a + b).strip().upper().replace("Ä", "A").replace("Ü", "U")
        for a, b in vocab.LEGAL_FORMS_SPELLED.values()
    }
    assert names.str.upper().eq(names).all()
    assert not names.str.contains("[ÄÖÜäöü]").any()
    ends = tuple(f" {s}" for s in spelled) + tuple(s for s in spelled)
    assert names.map(
        lambda n: n.endswith(ends) or n.startswith(("PERSEROAN", "COMMANDITAIRE", "USAHA DAGANG"))
    ).all()
    assert names.str.contains("GESELLSCHAFT MIT BESCHRANKTER HAFTUNG").any()
    assert names.str.startswith("PERSEROAN TERBATAS ").any()


def test_one_letter_changes_one_letter_and_shows_domain_and_city(base: SampleData) -> None:
    data = _with(one_letter=1.0)
    changed = _changed(base, data, "crm_companies", "company_id")
    assert len(changed) > 300

    def one_substitution(a: str, b: str) -> bool:
        return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1

    ok = [one_substitution(a, b) for a, b in zip(changed["old"], changed["new"], strict=True)]
    assert sum(ok) >= 0.9 * len(ok)  # a typing slip on top may shift the rest
    crm = _by_id(data, "crm_companies", "company_id").loc[changed.index]
    assert crm["domain"].notna().all() and crm["city"].notna().all()


def test_domain_names_name_the_company_after_its_domain() -> None:
    data = _with(domain_names=1.0)
    crm = data.tables["crm_companies"]
    named = crm["name"].str.fullmatch(r"[a-z0-9-]+(\.[a-z]+)+").fillna(False)
    assert named.mean() > 0.8  # every company with a web domain of its own
    assert (crm.loc[named, "name"] == crm.loc[named, "domain"]).all()


def test_short_names_keep_the_first_word(base: SampleData) -> None:
    data = _with(short_names=1.0)
    changed = _changed(base, data, "crm_companies", "company_id")
    assert len(changed) > 500
    words = changed["new"].str.split().str.len()
    assert (words <= 2).all() and (words == 1).mean() > 0.9
    first = changed["new"].str.split().str[0].str.upper()
    found = [f in old.upper() for f, old in zip(first, changed["old"], strict=True)]
    assert sum(found) >= 0.85 * len(found)  # the rest had a slip or folded umlauts


def test_trading_names_name_the_owner_and_the_trading_name(base: SampleData) -> None:
    data = _with(trading_names=1.0)
    changed = _changed(base, data, "erp_customers", "customer_id")
    assert len(changed) > 500
    assert changed["new"].str.contains(TRADING).all()
    new = changed["new"].str.upper()
    assert new.str.contains(" T/A ").any() and new.str.contains(" ATF ").any()
    assert new.str.contains(" DBA | D/B/A ").any()


def test_trade_names_are_tied_by_domain_and_phone_only(base: SampleData) -> None:
    data = _with(trade_names=1.0)
    changed = _changed(base, data, "crm_companies", "company_id")
    assert len(changed) > 500
    kinds = tuple(" " + k for k in vocab.BRAND_KINDS)
    assert changed["new"].str.endswith(kinds).all()
    crm = _by_id(data, "crm_companies", "company_id").loc[changed.index]
    assert crm["domain"].notna().all() and crm["phone"].notna().all()
    # the main ERP record of each such entity has a phone
    erp = data.tables["erp_customers"].assign(
        entity=lambda f: _entity(data, "erp").loc[f["customer_id"]].to_numpy()
    )
    tied = erp[erp["entity"].isin(set(changed["entity"]))]
    first = tied.sort_values("customer_id").groupby("entity").head(1)
    assert first["phone"].notna().mean() > 0.95


def _records(data: SampleData, entity: pd.Series) -> pd.DataFrame:
    erp = data.tables["erp_customers"].assign(
        entity=lambda f: _entity(data, "erp").loc[f["customer_id"]].to_numpy()
    )
    return erp[erp["entity"].isin(set(entity))]


def test_group_branches_share_a_domain_and_stay_apart() -> None:
    data = _with(group_branches=0.1)
    pairs = data.truth_hard_negatives.query("kind == 'group_branch'")
    assert len(pairs) > 40
    assert (pairs["entity_a"] != pairs["entity_b"]).all()
    crm = data.tables["crm_companies"].assign(
        entity=lambda f: _entity(data, "crm").loc[f["company_id"]].to_numpy()
    )
    domain = (
        crm.dropna(subset=["domain"])
        .assign(d=lambda f: f["domain"].str.removeprefix("www."))
        .groupby("entity")["d"]
        .first()
    )
    city = crm.dropna(subset=["city"]).groupby("entity")["city"].first().str.upper()
    both = pairs[pairs["entity_a"].isin(domain.index) & pairs["entity_b"].isin(domain.index)]
    assert len(both) > 10
    assert (
        domain.loc[both["entity_a"]].to_numpy() == domain.loc[both["entity_b"]].to_numpy()
    ).all()
    cities = pairs[pairs["entity_a"].isin(city.index) & pairs["entity_b"].isin(city.index)]
    same_city = city.loc[cities["entity_a"]].to_numpy() == city.loc[cities["entity_b"]].to_numpy()
    assert same_city.mean() < 0.2  # other spellings of one city aside, each its own
    assert crm["name"].str.contains(r" - [A-Z]| \([A-Z][a-z]+\)$| Branch$").any()


def test_shared_address_puts_different_companies_at_one_address() -> None:
    data = _with(shared_address=0.1)
    pairs = data.truth_hard_negatives.query("kind == 'shared_address'")
    assert len(pairs) > 40
    erp = _records(data, pd.concat([pairs["entity_a"], pairs["entity_b"]]))
    post = (
        erp.dropna(subset=["postcode"])
        .groupby("entity")["postcode"]
        .first()
        .str.replace(r"-\d{4}$|\s", "", regex=True)
    )
    have = pairs[pairs["entity_a"].isin(post.index) & pairs["entity_b"].isin(post.index)]
    assert len(have) > 10
    assert (post.loc[have["entity_a"]].to_numpy() == post.loc[have["entity_b"]].to_numpy()).all()


# --- the command line -----------------------------------------------------------------------------


def test_sample_data_habit_option_reaches_the_name_habits(tmp_path: Path) -> None:
    out = tmp_path / "data"
    result = CliRunner().invoke(
        app, ["sample-data", "--entities", "200", "--seed", "3", "--out", str(out),
              "--habit", "domain_names=0.5", "--habit", "instalments=0.2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "truth_meta.json").read_text(encoding="utf-8"))
    assert meta["name_habits"]["domain_names"] == 0.5 and meta["habits"]["instalments"] == 0.2
    bad = CliRunner().invoke(
        app, ["sample-data", "--entities", "50", "--out", str(tmp_path / "x"), "--habit", "nope=1"]
    )
    assert bad.exit_code == 2 and "name habits: legal_form_spelled" in bad.output
