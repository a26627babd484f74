"""Fellegi–Sunter scoring: decisions and reasons for two records, the model's guarantees, EM,
term frequencies, and rules/matching.yaml errors.

The table-driven cases use MODEL, the parameters fitted on 1,000,000 generated companies
(bench/bench_score.py, rounded), so that a decision here is the decision at that scale; term
frequencies are off for them (two records alone would make every name look common).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from recon.config.matching import default_matching_rules, load_matching_rules
from recon.errors import ConfigError
from recon.match.compare import compare_pairs, lvl_column, sim_column
from recon.match.score import (
    FSModel,
    agreeing_pairs,
    estimate_u,
    explain,
    field_weights,
    fit_model,
    random_pairs,
    run_em,
    score_pairs,
)

RULES = default_matching_rules()
NO_TF = RULES.model_copy(update={"term_frequency": {}})
FIELDS = list(RULES.comparisons)

FITTED = {  # field: (m, u), level 0 first; conditional fields have their levels twice
    "tax_id": ([0.0053, 0.9947], [0.999999, 1e-06]),
    "domain": ([0.0001, 0.9999], [0.999999, 1e-06]),
    "name": (  # conditional on domain and phone: the second six where either agrees
        [
            0.0078,
            0.003,
            0.0209,
            0.0239,
            0.0704,
            0.874,
            0.0012,
            0.0027,
            0.0118,
            0.0268,
            0.0687,
            0.8888,
        ],
        [
            0.999251,
            2e-4,
            5.2e-4,
            1.7e-5,
            1e-06,
            1.1e-05,
            0.0048,
            0.0026,
            0.0169,
            0.0266,
            0.0681,
            0.881,
        ],
    ),
    "phone": ([0.0605, 0.9395], [0.999999, 1e-06]),
    "address": ([0.0995, 0.0322, 0.0052, 0.8631], [0.99603, 0.0022, 0.0015, 7.6e-05]),
    "street_number": ([0.0915, 0.9085, 1e-06, 0.999999], [0.975, 0.025, 1e-06, 0.999999]),
    "unit": ([0.0015, 0.9985], [0.993, 0.007]),
    "postcode": ([0.0047, 0.9953, 0.0044, 0.9956], [0.99984, 1.6e-4, 0.9936, 0.0064]),
    "city": (
        [0.1004, 0.0079, 0.8917, 0.1012, 0.0082, 0.8906],
        [0.98, 1.3e-4, 0.01987, 0.18, 0.0018, 0.8182],
    ),
    "country": ([1e-06, 0.999999, 1e-06, 0.999999], [0.8, 0.2, 0.041, 0.959]),
    "legal_form": ([0.005, 0.995], [0.86, 0.14]),
    "xref": ([0.0682, 0.9318], [0.999999, 1.1e-06]),
    "descriptor": ([0.0125, 0.9875], [0.502, 0.498]),
}


def fitted_model(prior: float = 5.4e-7) -> FSModel:
    fields = []
    for f, comp in RULES.comparisons.items():
        m, u = FITTED[f]
        fields.append(
            {
                "field": f,
                "labels": [f"level {i}" for i in range(len(m))],
                "m": m,
                "u": u,
                "weight_limit": comp.weight_limit,
                "conditional_on": list(comp.conditional_on),
            }
        )
    return FSModel.from_dict({"fields": fields, "prior": prior})


MODEL = fitted_model()
TEXT_COLUMNS = (
    "record_id",
    "system",
    "name_core",
    "name_generic",
    "legal_form",
    "domain",
    "address_norm",
    "street_number",
    "unit",
    "postcode_norm",
    "city_norm",
    "country_code",
    "phone_e164",
    "tax_id_norm",
    "ref_id",
)


def records(*rows: Mapping[str, str | None]) -> pd.DataFrame:
    frame = pd.DataFrame([{c: row.get(c) for c in TEXT_COLUMNS} for row in rows])
    for i, row in enumerate(rows):
        frame.loc[i, "record_id"] = row.get("record_id", f"R{i}")
        frame.loc[i, "system"] = row.get("system", "crm" if i % 2 == 0 else "erp")
    return frame.astype("string")


def score_two(a: dict, b: dict, model: FSModel = MODEL, rules=NO_TF) -> pd.Series:
    frame = records(a, b)
    pairs = pd.DataFrame({"left": [0], "right": [1]})
    compared = compare_pairs(frame, pairs, rules)
    return score_pairs(frame, pairs, compared, model, rules, explain_rejects=True).iloc[0]


CASES = yaml.safe_load(
    """
- case: same tax id, name spelled differently
  a: {system: erp, record_id: C1, name_core: maju jaya abadi, tax_id_norm: "012345678901000"}
  b: {system: erp, record_id: C2, name_core: majoe jaya abadi, tax_id_norm: "012345678901000"}
  decision: auto
  reasons: same tax id 012345678901000; name 90%
- case: different tax ids, identical names
  a: {system: erp, record_id: C1, name_core: maju jaya, tax_id_norm: "012345678901000",
      city_norm: jakarta, country_code: ID}
  b: {system: erp, record_id: C2, name_core: maju jaya, tax_id_norm: "012345678902000",
      city_norm: jakarta, country_code: ID}
  not: auto
  reasons: different tax id; same name; same city
- case: same building, different street number, different names
  a: {name_core: pineworth prime electrical, address_norm: 7 broad dr, street_number: "7",
      postcode_norm: "78711", city_norm: austin, country_code: US}
  b: {name_core: irongate, address_norm: 9 broad dr, street_number: "9",
      postcode_norm: "78711", city_norm: austin, country_code: US}
  decision: reject
  reasons: different name; address 90%; different street number; same postcode 78711; same city
- case: same address and postcode, different names and units
  a: {name_core: pineworth prime electrical, address_norm: 122 bridge cres, street_number: "122",
      unit: level 3, postcode_norm: RG1 9WW, city_norm: reading, country_code: GB}
  b: {name_core: irongate, address_norm: 122 bridge cres, street_number: "122",
      unit: level 4, postcode_norm: RG1 9WW, city_norm: reading, country_code: GB}
  decision: reject
  reasons: different name; same address; different unit; same postcode RG1 9WW; same city
- case: free-mail only, same name and city
  a: {name_core: sinar abadi, city_norm: bandung, country_code: ID}
  b: {name_core: sinar abadi, city_norm: bandung, country_code: ID}
  not: auto
  reasons: same name; same city
- case: same domain, similar name, same postcode, different city
  a: {name_core: maju jaya sentosa, domain: majujaya.co.id, postcode_norm: "12190",
      city_norm: jakarta selatan, country_code: ID}
  b: {name_core: maju jaya sentos, domain: majujaya.co.id, postcode_norm: "12190",
      city_norm: bandung, country_code: ID}
  decision: auto
  reasons: same domain majujaya.co.id; name 96%; same postcode 12190; different city
- case: an existing cross-reference and the same name
  a: {system: crm, record_id: "5001", ref_id: C7, name_core: clearridge creative packaging}
  b: {system: erp, record_id: C7, name_core: clearridge creative packaging}
  decision: auto
  reasons: same name; existing cross-reference
- case: a cross-reference to another record
  a: {system: crm, record_id: "5001", ref_id: C8, name_core: clearridge creative packaging}
  b: {system: erp, record_id: C7, name_core: clearridge creative packaging}
  not: auto
  reasons: same name; cross-reference points elsewhere
- case: sister companies share a core name, not their descriptor
  a: {system: crm, record_id: "1", name_core: hillgate, name_generic: system, city_norm: london}
  b: {system: erp, record_id: C1, name_core: hillgate, name_generic: technology, city_norm: london}
  decision: reject
  reasons: same name; different descriptor; same city
- case: the same core name and descriptor
  a: {system: crm, record_id: "1", name_core: hillgate, name_generic: system, city_norm: london}
  b: {system: erp, record_id: C1, name_core: hillgate, name_generic: system, city_norm: london}
  decision: review
  reasons: same name; same city
- case: a legal form alone weighs little
  a: {name_core: brightport strategic, phone_e164: "+17375556309", legal_form: CORP,
      postcode_norm: "78701", city_norm: austin}
  b: {name_core: brightport strategic, phone_e164: "+17375556309", legal_form: LLC,
      postcode_norm: "78701", city_norm: austin}
  decision: auto
  reasons: same name; same phone +17375556309; same postcode 78701; same city; different legal form
"""
)


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_decision_and_reasons_of_two_records(case: dict) -> None:
    got = score_two(case["a"], case["b"])
    if "decision" in case:
        assert got["decision"] == case["decision"]
    if "not" in case:
        assert got["decision"] != case["not"]
    assert got["reasons"] == case["reasons"]


def test_a_shared_free_mail_domain_never_links() -> None:
    """Two different companies that both write from gmail.com: the domain is no evidence."""
    from recon.match.records import build_records

    crm = pd.DataFrame({"company_id": ["1"], "name": ["Maju Jaya"], "email": ["finance@gmail.com"]})
    erp = pd.DataFrame(
        {"customer_id": ["C1"], "name": ["Sinar Abadi"], "email": ["finance@gmail.com"]}
    )
    frame = build_records(crm, erp)
    pairs = pd.DataFrame({"left": [0], "right": [1]})
    compared = compare_pairs(frame, pairs, NO_TF)
    scored = score_pairs(frame, pairs, compared, MODEL, NO_TF, explain_rejects=True)
    assert compared[lvl_column("domain")].iloc[0] == -1
    assert scored["decision"].iloc[0] == "reject"
    assert "domain" not in scored["reasons"].iloc[0]


def test_rejected_pairs_are_explained_only_on_request() -> None:
    frame = records({"name_core": "maju jaya"}, {"name_core": "abc trading"})
    pairs = pd.DataFrame({"left": [0], "right": [1]})
    compared = compare_pairs(frame, pairs, NO_TF)
    scored = score_pairs(frame, pairs, compared, MODEL, NO_TF)
    assert scored["decision"].iloc[0] == "reject"
    assert pd.isna(scored["reasons"].iloc[0])
    assert explain(frame, pairs, compared, NO_TF).iloc[0] == "different name"


def test_reasons_land_on_their_own_pairs() -> None:
    frame = records(
        {"name_core": "maju jaya", "domain": "majujaya.co.id", "city_norm": "bandung"},
        {"name_core": "maju jaya", "domain": "majujaya.co.id", "city_norm": "bandung"},
        {"name_core": "abc trading"},
        {"name_core": "sinar abadi", "phone_e164": "+6221555", "city_norm": "bogor"},
        {"name_core": "sinar abadi", "phone_e164": "+6221555", "city_norm": "bogor"},
    )
    pairs = pd.DataFrame({"left": [0, 1, 3], "right": [1, 2, 4]})
    compared = compare_pairs(frame, pairs, NO_TF)
    scored = score_pairs(frame, pairs, compared, MODEL, NO_TF)
    assert scored["decision"].tolist() == ["auto", "reject", "auto"]
    assert scored["reasons"].iloc[0] == "same domain majujaya.co.id; same name; same city"
    assert pd.isna(scored["reasons"].iloc[1])
    assert scored["reasons"].iloc[2] == "same name; same phone +6221555; same city"
    everything = explain(frame, pairs, compared, NO_TF)
    assert everything.iloc[1] == "different name"


def test_postcode_counts_less_at_the_same_address() -> None:
    """Two records at one address share the postcode, match or not: it is judged apart there."""
    frame = records(
        {"address_norm": "1 main st", "postcode_norm": "2000"},
        {"address_norm": "1 main st", "postcode_norm": "2000"},
        {"address_norm": "9 high st", "postcode_norm": "2000"},
    )
    pairs = pd.DataFrame({"left": [0, 0], "right": [1, 2]})
    compared = compare_pairs(frame, pairs, NO_TF)
    bits = field_weights(frame, pairs, compared, MODEL, NO_TF)["postcode"]
    postcode = MODEL.field("postcode")
    assert bits[0] == pytest.approx(math.log2(postcode.m[3] / postcode.u[3]))
    assert bits[1] == pytest.approx(math.log2(postcode.m[1] / postcode.u[1]))
    assert bits[0] < bits[1]


def test_u_of_an_exact_level_is_counted_from_the_values() -> None:
    """u(same domain) = Σ c(c-1) / N(N-1): here (2·1 + 3·2) / (6·5), with no sampling error."""
    domains = ["a.com", "a.com", "b.com", "b.com", "b.com", "c.com", None]
    frame = records(*[{"domain": d} if d else {} for d in domains])
    u, _ = estimate_u(
        frame,
        RULES.model_copy(
            update={"u_sampling": RULES.u_sampling.model_copy(update={"pairs": 1000})}
        ),
    )
    assert u["domain"][1] == pytest.approx(8 / 30)
    assert u["domain"].sum() == pytest.approx(1.0)


def test_output_columns_and_types() -> None:
    frame = records({"name_core": "a b"}, {"name_core": "a b"}, {"name_core": "c"})
    pairs = pd.DataFrame({"left": [0, 1], "right": [1, 2]}, index=[7, 8])
    scored = score_pairs(frame, pairs, compare_pairs(frame, pairs, RULES), MODEL, RULES)
    assert list(scored.columns) == [
        "left",
        "right",
        "weight",
        "probability",
        "decision",
        "reasons",
    ]
    assert list(scored.index) == [7, 8]
    assert scored["left"].tolist() == [0, 1]
    assert list(scored["decision"].cat.categories) == ["reject", "review", "auto"]
    assert scored["reasons"].dtype == "string"


# --- properties ----------------------------------------------------------------------------------

VALUE = {
    "name_core": st.sampled_from(["maju jaya", "maju jaja", "jaya maju", "abc trading", "majoe"]),
    "domain": st.sampled_from(["majujaya.co.id", "abc.com"]),
    "phone_e164": st.sampled_from(["+6221555", "+6221556"]),
    "tax_id_norm": st.sampled_from(["0123456789", "0123456788"]),
    "address_norm": st.sampled_from(["7 broad dr", "9 broad dr", "jl merdeka 1"]),
    "street_number": st.sampled_from(["7", "9"]),
    "unit": st.sampled_from(["level 3", "level 4"]),
    "postcode_norm": st.sampled_from(["12190", "12191"]),
    "city_norm": st.sampled_from(["jakarta", "jakarta selatan", "bandung", "bandun"]),
    "country_code": st.sampled_from(["ID", "AU"]),
    "legal_form": st.sampled_from(["PT", "CV", "PT TBK"]),
    "ref_id": st.sampled_from(["R0", "R1", "R9"]),
}
RECORD = st.fixed_dictionaries({}, optional=VALUE)  # any subset of the fields


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(RECORD, min_size=2, max_size=6))
def test_swapping_left_and_right_changes_nothing(rows: list[dict]) -> None:
    frame = records(*rows)
    left, right = np.triu_indices(len(rows), k=1)
    pairs = pd.DataFrame({"left": left, "right": right})
    swapped = pd.DataFrame({"left": right, "right": left})
    a = compare_pairs(frame, pairs, RULES)
    b = compare_pairs(frame, swapped, RULES)
    pd.testing.assert_frame_equal(a, b)
    sa = score_pairs(frame, pairs, a, MODEL, RULES)
    sb = score_pairs(frame, swapped, b, MODEL, RULES)
    np.testing.assert_array_equal(sa["probability"], sb["probability"])
    assert ((sa["probability"] >= 0) & (sa["probability"] <= 1)).all()
    assert np.isfinite(sa["weight"]).all()


def _levels_frame(levels: dict[str, int]) -> pd.DataFrame:
    data: dict[str, list] = {}
    for f in FIELDS:
        lvl = levels.get(f, -1)
        data[sim_column(f)] = [np.nan if lvl < 0 else 1.0]
        data[lvl_column(f)] = [lvl]
    return pd.DataFrame(data).astype({lvl_column(f): "int8" for f in FIELDS})


def _weight(model: FSModel, levels: dict[str, int]) -> float:
    frame = records({}, {})
    pairs = pd.DataFrame({"left": [0], "right": [1]})
    compared = _levels_frame(levels)
    return float(score_pairs(frame, pairs, compared, model, NO_TF)["weight"].iloc[0])


PROBABILITY = st.floats(1e-6, 1.0)


@st.composite
def models(draw: st.DrawFn) -> FSModel:
    """Any m and u at all: the guarantees must not depend on EM having learned sensible ones."""
    fields = []
    for f, comp in RULES.comparisons.items():
        k = len(comp.levels) * (2 if comp.conditional_on else 1)
        m = [draw(PROBABILITY) for _ in range(k)]
        u = [draw(PROBABILITY) for _ in range(k)]
        fields.append(
            {
                "field": f,
                "labels": [str(i) for i in range(k)],
                "m": m,
                "u": u,
                "weight_limit": comp.weight_limit,
                "conditional_on": list(comp.conditional_on),
            }
        )
    return FSModel.from_dict({"fields": fields, "prior": draw(st.floats(1e-9, 0.5))})


LEVELS = st.fixed_dictionaries({f: st.integers(-1, RULES.levels(f) - 1) for f in FIELDS})
PARENTS = {p for c in RULES.comparisons.values() for p in c.conditional_on}


@settings(max_examples=150, deadline=None)
@given(model=models(), levels=LEVELS, field=st.sampled_from(FIELDS))
def test_more_agreement_never_lowers_the_probability(
    model: FSModel, levels: dict[str, int], field: str
) -> None:
    """A missing field that now agrees exactly never lowers a pair's weight; nor does raising
    the level of a field that no other field is conditional on."""
    before = _weight(model, levels)
    top = RULES.levels(field) - 1
    if levels[field] == -1:
        assert _weight(model, {**levels, field: top}) >= before - 1e-9
    if field not in PARENTS and 0 <= levels[field] < top:
        assert _weight(model, {**levels, field: levels[field] + 1}) >= before - 1e-9


@settings(max_examples=100, deadline=None)
@given(model=models(), levels=LEVELS, field=st.sampled_from(sorted(PARENTS)))
def test_a_field_others_depend_on_never_lowers_the_probability_by_agreeing(
    model: FSModel, levels: dict[str, int], field: str
) -> None:
    """Agreeing on the address moves the postcode to its own, weaker levels; the address must
    still add at least what the postcode loses."""
    missing = {**levels, field: -1}
    agreeing = {**levels, field: RULES.levels(field) - 1}
    assert _weight(model, agreeing) >= _weight(model, missing) - 1e-9


def test_weight_is_prior_plus_evidence() -> None:
    """log2(λ/(1-λ)) + Σ log2(m/u); missing fields add nothing; probability is base-2 sigmoid."""
    prior = MODEL.prior
    w = _weight(MODEL, {"tax_id": 1, "name": 0})
    tax, name = MODEL.field("tax_id"), MODEL.field("name")
    expected = (
        math.log2(prior / (1 - prior))
        + math.log2(tax.m[1] / tax.u[1])
        + math.log2(name.m[0] / name.u[0])
    )
    assert w == pytest.approx(expected, abs=1e-4)
    assert _weight(MODEL, {}) == pytest.approx(math.log2(prior / (1 - prior)), abs=1e-4)


def test_rare_exact_name_weighs_more_than_a_common_one() -> None:
    """Term frequencies: "maju jaya sentosa" held by 2 records beats "ashford" held by 10, by
    log2(10/2) bits, as u becomes the share of records with the name."""
    fields = MODEL.to_dict()["fields"]
    for f in fields:
        if f["field"] == "name":  # a world of about 2,000 records
            f["u"] = [0.989, 0.001, 0.005, 0.003, 0.0015, 0.0005] * 2
    model = FSModel.from_dict({"fields": fields, "prior": 1e-4})
    rows = [{"name_core": "maju jaya sentosa"}] * 2 + [{"name_core": "ashford"}] * 10
    rows += [{"name_core": f"filler {i}"} for i in range(2000)]
    frame = records(*rows)
    pairs = pd.DataFrame({"left": [0, 2], "right": [1, 3]})
    compared = compare_pairs(frame, pairs, RULES)
    assert compared[lvl_column("name")].tolist() == [5, 5]
    bits = field_weights(frame, pairs, compared, model, RULES)["name"]
    share = 2 / len(frame)
    exact = RULES.levels("name") - 1  # records with no domain or phone: the first set of levels
    assert bits[0] == pytest.approx(math.log2(model.field("name").m[exact] / share))
    assert bits[0] - bits[1] == pytest.approx(math.log2(10 / 2))
    scored = score_pairs(frame, pairs, compared, model, RULES)
    assert scored["probability"].iloc[0] > scored["probability"].iloc[1]


def test_a_common_exact_name_never_counts_less_than_a_near_one() -> None:
    rows = [{"name_core": "ashford"}] * 40 + [{"name_core": f"filler {i}"} for i in range(100)]
    frame = records(*rows)
    pairs = pd.DataFrame({"left": [0], "right": [1]})
    compared = compare_pairs(frame, pairs, RULES)
    bits = field_weights(frame, pairs, compared, MODEL, RULES)["name"]
    weights = MODEL.field("name").weights()
    below_exact = RULES.levels("name") - 2  # the first set of levels: no domain or phone here
    assert bits[0] == pytest.approx(max(weights[below_exact], 0.0))


def test_em_recovers_known_m_with_u_fixed() -> None:
    """Comparison vectors drawn from known m, u and a known share of matches: EM, started from
    uniform m and a wrong λ, finds m and λ again."""
    rng = np.random.default_rng(11)
    n, share = 100_000, 0.3
    true_m = {"name": [0.1, 0.2, 0.7], "domain": [0.1, 0.9], "phone": [0.2, 0.8]}
    true_u = {"name": [0.95, 0.04, 0.01], "domain": [0.99, 0.01], "phone": [0.98, 0.02]}
    match = rng.random(n) < share
    patterns = {
        f: np.where(
            match,
            rng.choice(len(true_m[f]), size=n, p=true_m[f]),
            rng.choice(len(true_u[f]), size=n, p=true_u[f]),
        ).astype(np.int8)
        for f in true_m
    }
    rules = load_matching_rules(_write(_RULES_ABC))
    start = {f: np.full(len(v), 1 / len(v)) for f, v in true_m.items()}
    u = {f: np.asarray(v) for f, v in true_u.items()}
    m, prior, _, converged = run_em(patterns, np.ones(n), u, start, 0.05, float(n), rules)
    assert converged
    assert prior == pytest.approx(share, rel=0.05)
    for f in true_m:
        np.testing.assert_allclose(m[f], true_m[f], atol=0.02)


_RULES_ABC = """
prior: {matches_per_record: 0.5}
thresholds: {auto: 0.9, review: 0.4}
em: {max_iterations: 500, tolerance: 1.0e-6}
comparisons:
  name:
    scorers: [ratio]
    levels:
      - {label: exact, m: 0.5}
      - {label: close, min_similarity: 0.9, m: 0.3}
      - {label: else, m: 0.2}
  domain:
    levels: [{label: same, m: 0.5}, {label: different, m: 0.5}]
  phone:
    levels: [{label: same, m: 0.5}, {label: different, m: 0.5}]
"""


def _write(text: str, name: str = "matching.yaml") -> Path:
    import tempfile

    folder = Path(tempfile.mkdtemp())
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_model_round_trips_through_json() -> None:
    again = FSModel.from_dict(json.loads(json.dumps(MODEL.to_dict())))
    assert again == MODEL


def test_random_and_agreeing_pairs() -> None:
    pairs = random_pairs(50, 10_000, seed=1)
    assert (pairs["left"] < pairs["right"]).all()
    assert pairs["right"].max() < 50
    frame = records(*[{"postcode_norm": str(i % 4)} for i in range(40)] + [{}] * 5)
    same = agreeing_pairs(frame, "postcode", 2_000, seed=2)
    codes = frame["postcode_norm"].to_numpy()
    assert (same["left"] < same["right"]).all()
    assert (codes[same["left"]] == codes[same["right"]]).all()
    assert len(agreeing_pairs(records({}, {}), "postcode", 10, seed=0)) == 0


def test_fit_on_generated_data_links_what_it_should() -> None:
    """End to end on a small generated world: EM converges, and auto links are right."""
    from recon.match.records import build_records
    from recon.sampledata import generate

    sample = generate(1500, 5, bad_rows=False)
    frame = build_records(sample.tables["crm_companies"], sample.tables["erp_customers"])
    truth = sample.truth_entities
    entity = dict(
        zip(
            truth["system"].astype(str) + ":" + truth["record_id"].astype(str),
            truth["entity_id"].astype(str),
            strict=True,
        )
    )
    ids = (frame["system"].astype(str) + ":" + frame["record_id"].astype(str)).map(entity)
    # candidates: pairs sharing the name's first word or the domain
    first = frame["name_core"].str.split(" ").str[0]
    keys = pd.concat([first, frame["domain"]], ignore_index=True)
    rows = np.tile(np.arange(len(frame)), 2)
    grouped = pd.DataFrame({"k": keys, "r": rows}).dropna()
    merged = grouped.merge(grouped, on="k")
    merged = merged[merged["r_x"] < merged["r_y"]].drop_duplicates(["r_x", "r_y"])
    pairs = pd.DataFrame({"left": merged["r_x"].to_numpy(), "right": merged["r_y"].to_numpy()})
    rules = RULES.model_copy(
        update={"u_sampling": RULES.u_sampling.model_copy(update={"pairs": 200_000})}
    )
    compared = compare_pairs(frame, pairs, rules)
    model = fit_model(frame, compared, rules, seed=1)
    assert model.converged
    assert 0 < model.prior < 0.01
    scored = score_pairs(frame, pairs, compared, model, rules)
    same = ids.to_numpy()[pairs["left"]] == ids.to_numpy()[pairs["right"]]
    auto = (scored["decision"] == "auto").to_numpy()
    assert (auto & same).sum() / auto.sum() >= 0.98
    assert (auto & same).sum() / same.sum() >= 0.9


# --- rules/matching.yaml -------------------------------------------------------------------------


def test_bundled_rules_load() -> None:
    rules = load_matching_rules()
    assert rules.thresholds.review <= rules.thresholds.auto
    assert rules.comparisons["name"].thresholds() == (0.95, 0.88, 0.75)


BAD = [
    ("thresholds:\n  auto: high", 'thresholds.auto is "high" — expected a probability'),
    ("thresholds:\n  auto: 0.5\n  review: 0.9", "review (0.9) is above auto (0.5)"),
    ("em:\n  max_iteration: 5", "em.max_iteration is not a known setting"),
    (
        "comparisons:\n  nickname:\n    levels: [{label: same, m: 0.5}, {label: other, m: 0.5}]",
        "comparisons.nickname",
    ),
    (
        "comparisons:\n  domain:\n    levels: [{label: same, m: 0.5}]",
        "comparisons.domain.levels has 1 levels — expected 2",
    ),
    (
        "comparisons:\n  name:\n    scorers: [ratio]\n    levels:\n"
        "      - {label: exact, m: 0.5}\n      - {label: close, m: 0.3}\n"
        "      - {label: else, m: 0.2}",
        "comparisons.name.levels[1].min_similarity is missing",
    ),
    (
        "comparisons:\n  name:\n    scorers: [soundex]\n    levels:\n"
        "      - {label: exact, m: 0.5}\n      - {label: else, m: 0.5}",
        'comparisons.name.scorers[0] is "soundex" — expected one of',
    ),
    (
        "comparisons:\n  city:\n    conditional_on: [zipcode]\n    levels:\n"
        "      - {label: exact, m: 0.5}\n      - {label: else, m: 0.5}",
        "comparisons.city.conditional_on[0]",
    ),
    (
        "comparisons:\n  domain:\n    levels: [{label: same, m: 1.5}, {label: other, m: 0.5}]",
        "comparisons.domain.levels[0].m is 1.5 — expected a probability",
    ),
]


@pytest.mark.parametrize(("change", "message"), BAD, ids=[b[1][:40] for b in BAD])
def test_config_errors_name_the_file_and_key(change: str, message: str) -> None:
    base = yaml.safe_load(_RULES_ABC)
    base.pop("em")
    for key, value in yaml.safe_load(change).items():  # merge one level deep
        base[key] = {**base[key], **value} if isinstance(base.get(key), dict) else value
    path = _write(yaml.safe_dump(base, sort_keys=False))
    with pytest.raises(ConfigError) as err:
        load_matching_rules(path)
    text = str(err.value)
    assert message in text
    assert all(line.startswith(f"{path}:") for line in text.splitlines())


def test_config_file_problems() -> None:
    missing = _write("x: 1").parent / "nothing.yaml"
    with pytest.raises(ConfigError, match=r"nothing\.yaml: file not found"):
        load_matching_rules(missing)
    with pytest.raises(ConfigError, match=r"matching\.yaml: line 2, column \d+: not valid YAML"):
        load_matching_rules(_write("prior:\n  - [unclosed"))
    with pytest.raises(ConfigError, match="expected settings such as 'comparisons:'"):
        load_matching_rules(_write("- a list"))
    with pytest.raises(ConfigError, match="prior is missing"):
        load_matching_rules(_write("thresholds: {auto: 0.9, review: 0.4}\ncomparisons: {}"))


def test_a_pair_that_no_field_explains_keeps_its_row_of_reasons() -> None:
    """Every field's reason is empty here (pyarrow 26 dropped such rows when joining reasons)."""
    fields = []
    for f, comp in RULES.comparisons.items():
        k = len(comp.levels) * (2 if comp.conditional_on else 1)
        fields.append(
            {"field": f, "labels": [str(i) for i in range(k)], "m": [1.0] * k, "u": [1.0] * k,
             "weight_limit": comp.weight_limit, "conditional_on": list(comp.conditional_on)}
        )  # fmt: skip
    model = FSModel.from_dict({"fields": fields, "prior": 0.5})
    levels = {f: -1 for f in FIELDS} | {"tax_id": 1, "domain": 1, "phone": 1, "unit": 1}
    frame = records({}, {})
    pairs = pd.DataFrame({"left": [0], "right": [1]})
    scored = score_pairs(frame, pairs, _levels_frame(levels), model, NO_TF, explain_rejects=True)
    assert len(scored) == 1 and scored["reasons"].iloc[0] == ""
