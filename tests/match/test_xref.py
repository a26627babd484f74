"""Cross-reference ids, duplicates with a suggested survivor, the import files, and the rules file
rules/survivorship.yaml they follow."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from recon.config.survivorship import (
    EntityRules,
    default_entity_rules,
    load_entity_rules,
)
from recon.errors import ConfigError
from recon.match.cluster import Clustering, cluster_records
from recon.match.xref import TIE, assign_xref

RULES = default_entity_rules()
KEY_FIELDS = ["domain", "phone_e164", "address_norm", "postcode_norm", "city_norm", "country_code"]


def make_records(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """One dict per record: system and record_id, and whatever differs from a bare record."""
    frame = pd.DataFrame(
        {
            "system": pd.array([r["system"] for r in rows], dtype="str"),
            "record_id": pd.array([r["record_id"] for r in rows], dtype="str"),
            "name": pd.array([r.get("name", "Acme") for r in rows], dtype="str"),
            "tax_id_norm": pd.array([r.get("tax_id_norm") for r in rows], dtype="str"),
            "ref_id": pd.array([r.get("ref_id") for r in rows], dtype="str"),
            "name_marker": pd.array([r.get("name_marker") for r in rows], dtype="str"),
            "activity": np.array([r.get("activity", 0) for r in rows], dtype=np.int64),
            "created_at": pd.to_datetime(pd.Series([r.get("created_at") for r in rows])).astype(
                "datetime64[ns]"
            ),
        }
    )
    for field in KEY_FIELDS:
        frame[field] = pd.array([r.get(field) for r in rows], dtype="str")
    return frame


def one_entity(records: pd.DataFrame, cross: list[tuple[int, int]] | None = None) -> Clustering:
    """Every record in entity 0; ``cross`` lists the auto links between them."""
    cross = cross or []
    pairs = pd.DataFrame(
        {
            "left": np.array([min(p) for p in cross], dtype=np.int64),
            "right": np.array([max(p) for p in cross], dtype=np.int64),
            "weight": 10.0,
            "probability": 0.99,
            "decision": pd.array(["auto"] * len(cross), dtype="str"),
            "reasons": pd.array([""] * len(cross), dtype="str"),
            "decision_reason": pd.array([""] * len(cross), dtype="str"),
        }
    )
    return Clustering(pd.Series(np.zeros(len(records), dtype=np.int64)), pairs)


def with_survivorship(**update: Any) -> EntityRules:
    """The bundled rules with some survivorship settings changed (and validated)."""
    data = RULES.model_dump()
    data["survivorship"].update(update)
    return EntityRules.model_validate(data)


def survivor_row(result: Any, system: str = "crm") -> pd.Series:
    dups = result.duplicates[result.duplicates["system"] == system]
    return dups[dups["is_survivor"]].iloc[0]


# --- xref ids


def scored_pairs(edges: list[tuple[int, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "left": np.array([min(e) for e in edges], dtype=np.int64),
            "right": np.array([max(e) for e in edges], dtype=np.int64),
            "weight": 10.0,
            "probability": 0.99,
            "decision": pd.array(["auto"] * len(edges), dtype="str"),
            "reasons": pd.array([""] * len(edges), dtype="str"),
        }
    )


def test_xref_ids_follow_the_entities_smallest_system_and_record_id() -> None:
    records = make_records(
        [
            {"system": "erp", "record_id": "E-1"},
            {"system": "crm", "record_id": "C-9"},
            {"system": "crm", "record_id": "C-2"},
            {"system": "erp", "record_id": "E-0"},
        ]
    )
    clustering = cluster_records(records, scored_pairs([(0, 1)]), RULES)
    got = assign_xref(records, clustering, RULES).xref
    assert got.to_dict("list") == {
        "xref_id": ["XR-000001", "XR-000002", "XR-000002", "XR-000003"],
        "system": ["crm", "crm", "erp", "erp"],
        "record_id": ["C-2", "C-9", "E-1", "E-0"],
        "name": ["Acme"] * 4,
        "entity_size": [1, 2, 2, 1],
    }


def random_case(seed: int, n: int = 60) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = random.Random(seed)
    rows = [
        {
            "system": rng.choice(["crm", "erp"]),
            "record_id": f"R{i:03d}",
            "activity": rng.randint(0, 2),
            "domain": rng.choice([None, "acme.com"]),
            "created_at": rng.choice([None, "2020-01-01", "2021-06-30"]),
        }
        for i in range(n)
    ]
    edges = {tuple(sorted(rng.sample(range(n), 2))) for _ in range(n)}
    return make_records(rows), scored_pairs(sorted(edges))  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(5))
def test_shuffled_rows_give_the_same_frames_byte_for_byte(seed: int) -> None:
    records, scored = random_case(seed)
    first = assign_xref(records, cluster_records(records, scored, RULES), RULES)

    perm = list(range(len(records)))
    random.Random(seed + 100).shuffle(perm)
    new_of = np.empty(len(perm), dtype=np.int64)
    new_of[perm] = np.arange(len(perm))
    shuffled = records.iloc[perm].reset_index(drop=True)
    a, b = new_of[scored["left"].to_numpy()], new_of[scored["right"].to_numpy()]
    moved = scored.assign(left=np.minimum(a, b), right=np.maximum(a, b))
    moved = moved.sort_values(["left", "right"]).reset_index(drop=True)
    second = assign_xref(shuffled, cluster_records(shuffled, moved, RULES), RULES)

    for name in ("xref", "duplicates", "crm_import", "erp_import"):
        assert getattr(first, name).to_csv(index=False) == getattr(second, name).to_csv(index=False)
    assert len(first.duplicates) > 0


def test_same_result_without_the_rank_kept_by_cluster_records() -> None:
    records, scored = random_case(7)
    clustering = cluster_records(records, scored, RULES)
    bare = Clustering(clustering.entity, clustering.pairs)
    for name in ("xref", "duplicates", "crm_import", "erp_import"):
        got = getattr(assign_xref(records, bare, RULES), name)
        assert got.equals(getattr(assign_xref(records, clustering, RULES), name))


@pytest.mark.slow
def test_xref_ids_widen_past_six_digits() -> None:
    n = 1_000_000
    records = pd.DataFrame(
        {
            "system": pd.array(["crm"] * n, dtype="str"),
            "record_id": pd.Series(np.arange(n)).astype("str").str.zfill(7),
            "name": pd.array(["x"] * n, dtype="str"),
            "ref_id": pd.array([None] * n, dtype="str"),
            "activity": np.zeros(n, dtype=np.int64),
            "created_at": pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]"),
        }
    )
    for field in RULES.survivorship.completeness_fields:
        records[field] = pd.array([None] * n, dtype="str")
    clustering = Clustering(pd.Series(np.arange(n, dtype=np.int64)), scored_pairs([]))
    xref = assign_xref(records, clustering, RULES).xref
    assert xref["xref_id"].iloc[0] == "XR-0000001"
    assert xref["xref_id"].iloc[-1] == "XR-1000000"


# --- Survivorship: each rule decides a case; the order of the rules matters; a tie names nobody

# Two CRM duplicates and one ERP record; each case makes one rule the first that tells them apart.
SURVIVOR_CASES = {
    "unmarked": (
        {"record_id": "MASTER-1", "activity": 9, "name_marker": "*DUPLICATE*"},
        {"record_id": "C-2", "activity": 1},
        "C-2",
        "survivor by no duplicate marker in its name",
    ),
    "system_of_record": (
        {"record_id": "C-100", "activity": 9},
        {"record_id": "MASTER-7", "activity": 1},
        "MASTER-7",
        'survivor by system-of-record id (matches "^MASTER-")',
    ),
    "linked": (
        {"record_id": "C-1", "activity": 9},
        {"record_id": "C-2", "activity": 1, "linked": True},
        "C-2",
        "survivor by link to the ERP",
    ),
    "linked by reference": (
        {"record_id": "C-1", "activity": 9},
        {"record_id": "C-2", "ref_id": "E-1"},
        "C-2",
        "survivor by link to the ERP",
    ),
    "activity": (
        {"record_id": "C-1", "activity": 2, "domain": "a.com"},
        {"record_id": "C-2", "activity": 5},
        "C-2",
        "survivor by most deals (5 vs 2)",
    ),
    "completeness": (
        {"record_id": "C-1", "domain": "a.com", "city_norm": "jakarta", "created_at": "2001-01-01"},
        {"record_id": "C-2", "domain": "a.com", "city_norm": "jakarta", "phone_e164": "+6221"},
        "C-2",
        "survivor by most complete (3 vs 2 key fields)",
    ),
    "oldest": (
        {"record_id": "C-1", "created_at": "2022-05-01"},
        {"record_id": "C-2", "created_at": "2019-03-04"},
        "C-2",
        "survivor by oldest (created 2019-03-04 vs 2022-05-01)",
    ),
    "oldest, one without a date": (
        {"record_id": "C-1"},
        {"record_id": "C-2", "created_at": "2019-03-04"},
        "C-2",
        "survivor by oldest (created 2019-03-04 vs unknown)",
    ),
}
MASTER_RULES = with_survivorship(systems={"crm": {"system_of_record": ["^MASTER-", "^C-"]}})


def crm_pair_and_erp(
    first: dict[str, Any], second: dict[str, Any]
) -> tuple[pd.DataFrame, Clustering]:
    rows = [
        {"system": "crm", **{k: v for k, v in first.items() if k != "linked"}},
        {"system": "crm", **{k: v for k, v in second.items() if k != "linked"}},
        {"system": "erp", "record_id": "E-1"},
    ]
    cross = [(i, 2) for i, r in enumerate((first, second)) if r.get("linked")]
    records = make_records(rows)
    return records, one_entity(records, cross)


@pytest.mark.parametrize("case", SURVIVOR_CASES)
def test_each_rule_decides_a_case(case: str) -> None:
    first, second, winner, reason = SURVIVOR_CASES[case]
    records, clustering = crm_pair_and_erp(first, second)
    result = assign_xref(records, clustering, MASTER_RULES)
    dups = result.duplicates
    assert dups["record_id"].tolist() == [winner, first["record_id"]]  # survivor first
    assert dups["is_survivor"].tolist() == [True, False]
    assert dups["survivor_record_id"].tolist() == [winner, winner]
    assert dups["reasons"].iloc[0] == reason
    assert dups["reasons"].iloc[1] == f"duplicate of {winner}, " + reason
    assert dups["xref_id"].unique().tolist() == ["XR-000001"]
    # The ERP customer's CRM company is the survivor; both companies point to the one customer.
    assert result.erp_import.to_dict("list") == {"customer_id": ["E-1"], "crm_company_id": [winner]}
    assert result.crm_import["erp_customer_id"].tolist() == ["E-1", "E-1"]


def test_the_order_of_the_rules_decides() -> None:
    records, clustering = crm_pair_and_erp(
        {"record_id": "C-1", "activity": 9}, {"record_id": "C-2", "activity": 1, "linked": True}
    )
    assert survivor_row(assign_xref(records, clustering, RULES))["record_id"] == "C-2"
    activity_first = with_survivorship(order=("activity", "linked"))
    got = survivor_row(assign_xref(records, clustering, activity_first))
    assert (got["record_id"], got["reasons"]) == ("C-1", "survivor by most deals (9 vs 1)")


def test_a_tie_after_all_rules_names_no_survivor() -> None:
    records = make_records(
        [
            {"system": "crm", "record_id": "C-1"},
            {"system": "erp", "record_id": "E-1", "activity": 3},
            {"system": "erp", "record_id": "E-2", "activity": 3},
            {"system": "erp", "record_id": "E-3", "activity": 1},
        ]
    )
    result = assign_xref(records, one_entity(records), RULES)
    erp = result.duplicates[result.duplicates["system"] == "erp"]
    assert erp["record_id"].tolist() == ["E-1", "E-2", "E-3"]
    assert not erp["is_survivor"].any()
    assert erp["survivor_record_id"].isna().all()
    assert (erp["reasons"] == TIE).all()
    assert result.crm_import["erp_customer_id"].isna().all()  # no survivor: blank
    assert result.erp_import["crm_company_id"].tolist() == ["C-1"] * 3


def test_a_loser_is_told_the_rule_it_lost_on_to_the_survivor() -> None:
    """Survivor C-1 beats C-2 on activity and C-3 already on the link (E-9 names C-1)."""
    records = make_records(
        [
            {"system": "crm", "record_id": "C-1", "activity": 5},
            {"system": "crm", "record_id": "C-2", "activity": 2},
            {"system": "crm", "record_id": "C-3", "activity": 7},
            {"system": "erp", "record_id": "E-1", "ref_id": "C-2"},
            {"system": "erp", "record_id": "E-9", "ref_id": "C-1"},
        ]
    )
    result = assign_xref(records, one_entity(records), RULES)
    crm = result.duplicates[result.duplicates["system"] == "crm"].set_index("record_id")
    assert crm.loc["C-1", "reasons"] == "survivor by most deals (5 vs 2)"
    assert crm.loc["C-2", "reasons"] == "duplicate of C-1, survivor by most deals (5 vs 2)"
    assert crm.loc["C-3", "reasons"] == "duplicate of C-1, survivor by link to the ERP"
    erp = result.duplicates[result.duplicates["system"] == "erp"]
    assert (erp["reasons"] == TIE).all()  # both referenced, nothing else to tell them apart


def test_import_files_give_the_only_record_or_the_survivor_or_blank() -> None:
    records = make_records(
        [
            {"system": "crm", "record_id": "C-1"},  # with E-1 only
            {"system": "erp", "record_id": "E-1"},
            {"system": "crm", "record_id": "C-2"},  # with E-2 and E-3, E-3 the survivor
            {"system": "erp", "record_id": "E-2"},
            {"system": "erp", "record_id": "E-3", "activity": 4},
            {"system": "crm", "record_id": "C-3"},  # alone
        ]
    )
    entity = pd.Series(np.array([0, 0, 1, 1, 1, 2], dtype=np.int64))
    clustering = Clustering(entity, one_entity(records).pairs)
    result = assign_xref(records, clustering, RULES)
    assert result.crm_import["company_id"].tolist() == ["C-1", "C-2", "C-3"]
    assert result.crm_import["erp_customer_id"].tolist()[:2] == ["E-1", "E-3"]
    assert pd.isna(result.crm_import["erp_customer_id"].iloc[2])
    assert result.erp_import.to_dict("list") == {
        "customer_id": ["E-1", "E-2", "E-3"],
        "crm_company_id": ["C-1", "C-2", "C-2"],
    }
    assert result.duplicates["record_id"].tolist() == ["E-3", "E-2"]


# --- Property: the survivor is the best record on the rules, in their order


@st.composite
def duplicate_groups(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(2, 6))
    rows = []
    for i in range(n):
        rows.append(
            {
                "system": "crm",
                "record_id": f"C-{i}",
                "activity": draw(st.integers(0, 2)),
                "domain": draw(st.sampled_from([None, "a.com"])),
                "phone_e164": draw(st.sampled_from([None, "+1"])),
                "created_at": draw(st.sampled_from([None, "2020-01-01", "2021-01-01"])),
                "linked": draw(st.booleans()),
            }
        )
    return rows


@settings(max_examples=200, deadline=None)
@given(duplicate_groups(), st.randoms(use_true_random=False))
def test_survivor_is_the_best_on_the_rules_in_order(
    rows: list[dict[str, Any]], rnd: random.Random
) -> None:
    rnd.shuffle(rows)
    records = make_records(
        [{k: v for k, v in r.items() if k != "linked"} for r in rows]
        + [{"system": "erp", "record_id": "E-1"}]
    )
    erp = len(rows)
    clustering = one_entity(records, [(i, erp) for i, r in enumerate(rows) if r["linked"]])
    result = assign_xref(records, clustering, RULES)

    def key(r: dict[str, Any]) -> tuple[int, int, int, str]:
        filled = (r["domain"] is not None) + (r["phone_e164"] is not None)
        return (not r["linked"], -r["activity"], -filled, r["created_at"] or "9999")

    ranked = sorted(rows, key=key)
    dups = result.duplicates
    assert sorted(dups["record_id"]) == sorted(r["record_id"] for r in rows)
    assert dups["is_survivor"].sum() <= 1
    if key(ranked[0]) == key(ranked[1]):
        assert (dups["reasons"] == TIE).all()
        assert dups["survivor_record_id"].isna().all()
    else:
        best = ranked[0]["record_id"]
        assert dups["record_id"].iloc[0] == best
        assert dups["is_survivor"].tolist() == [True] + [False] * (len(rows) - 1)
        assert (dups["survivor_record_id"] == best).all()
        assert result.erp_import["crm_company_id"].tolist() == [best]
        assert dups["reasons"].iloc[1:].str.startswith(f"duplicate of {best}, survivor by ").all()


# --- rules/survivorship.yaml


def test_bundled_rules_load_and_name_every_rule() -> None:
    rules = load_entity_rules()
    assert set(rules.survivorship.order) == {
        "unmarked",
        "system_of_record",
        "linked",
        "activity",
        "completeness",
        "oldest",
    }
    assert 0 < rules.clustering.min_support <= 1


def write_rules(tmp_path: Path, change: dict[str, Any]) -> Path:
    bundled = Path(__file__).parents[2] / "rules" / "survivorship.yaml"
    data = yaml.safe_load(bundled.read_text(encoding="utf-8"))
    for path, value in change.items():
        node = data
        *parents, last = path.split(".")
        for part in parents:
            node = node[part]
        node[last] = value
    (tmp_path / "survivorship.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return tmp_path


def test_every_problem_in_the_file_is_reported_at_once(tmp_path: Path) -> None:
    folder = write_rules(
        tmp_path,
        {
            "clustering.min_support": 1.5,
            "clustering.split_chain": True,
            "survivorship.order": ["linked", "newest", "linked"],
            "survivorship.completeness_fields": ["domain", "colour"],
            "survivorship.systems": {"erp": {"system_of_record": ["^C[0-9"]}},
        },
    )
    with pytest.raises(ConfigError) as err:
        load_entity_rules(folder)
    message = str(err.value)
    assert "survivorship.yaml: clustering.min_support: 1.5 is not a share" in message
    assert "clustering.split_chain is not a known setting" in message
    assert "survivorship.order[1] is \"newest\" — expected one of 'unmarked'" in message
    assert 'survivorship.completeness_fields[1] is "colour" — expected one of' in message
    assert (
        'survivorship.systems.erp.system_of_record[0]: "^C[0-9" is not a valid pattern' in message
    )


def test_a_rule_named_twice_is_refused(tmp_path: Path) -> None:
    folder = write_rules(tmp_path, {"survivorship.order": ["linked", "activity", "linked"]})
    with pytest.raises(ConfigError, match="linked is listed more than once"):
        load_entity_rules(folder)


def test_an_empty_or_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_entity_rules(tmp_path)
    (tmp_path / "survivorship.yaml").write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected settings such as 'survivorship:'"):
        load_entity_rules(tmp_path)
