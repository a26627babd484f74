"""compare_pairs: levels per field from two records, checked against a per-pair oracle.

The cases below are two normalized records (only the fields that matter; the rest missing) and
the levels expected. Levels count up from 0 (the worst); -1 is missing. With the bundled
rules/matching.yaml: name levels are [different, short form, ≥0.75, ≥0.88, ≥0.95, exact], address
levels [different, ≥0.75, ≥0.90, exact]; city [different, ≥0.85, exact]; the others [different,
same].
"""

from __future__ import annotations

from collections.abc import Mapping
from unittest import mock

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from recon.config.matching import default_matching_rules
from recon.match import compare
from recon.match.compare import _bound, _Column, compare_pairs, lvl_column, sim_column
from recon.match.records import build_records

RULES = default_matching_rules()
TEXT_COLUMNS = (
    "record_id",
    "system",
    "name_core",
    "name_alt",
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
NAME_EXACT, NAME_95, NAME_88, NAME_75, NAME_SHORT, NAME_DIFFERENT = 5, 4, 3, 2, 1, 0


def records(*rows: Mapping[str, str | None]) -> pd.DataFrame:
    """A records frame (as build_records makes it) from partial rows; absent fields are NA."""
    frame = pd.DataFrame([{c: row.get(c) for c in TEXT_COLUMNS} for row in rows])
    for i, row in enumerate(rows):
        frame.loc[i, "record_id"] = row.get("record_id", f"R{i}")
        frame.loc[i, "system"] = row.get("system", "crm" if i % 2 == 0 else "erp")
    return frame.astype("string")


def compare_two(a: dict[str, str], b: dict[str, str]) -> pd.Series:
    pairs = pd.DataFrame({"left": [0], "right": [1]})
    return compare_pairs(records(a, b), pairs, RULES).iloc[0]


CASES = yaml.safe_load(
    """
- case: same name core
  a: {name_core: maju jaya}
  b: {name_core: maju jaya}
  levels: {name: 5, domain: -1, tax_id: -1}
  how: 0
- case: a typing slip is very similar
  a: {name_core: brightport strategic}
  b: {name_core: brightprt strategic}
  levels: {name: 4}
- case: word order does not matter, but is not exact
  a: {name_core: jaya maju}
  b: {name_core: maju jaya}
  levels: {name: 4}
- case: different names
  a: {name_core: pineworth prime electrical}
  b: {name_core: irongate}
  levels: {name: 0}
  how: 0
- case: a short form begins the longer name, word for word
  a: {name_core: hayford}
  b: {name_core: hayford and dunshaw}
  levels: {name: 1}
  how: 0
- case: two words of three are a short form too
  a: {name_core: black crow}
  b: {name_core: black crow facilities}
  levels: {name: 1}
- case: a name written as one word may be the first words of the other
  a: {name_core: northpointquality}
  b: {name_core: northpoint quality health services worldwide}
  levels: {name: 1}
- case: a word that only begins another word is no short form
  a: {name_core: hay}
  b: {name_core: hayford and dunshaw}
  levels: {name: 0}
- case: too short to be a short form
  a: {name_core: ab}
  b: {name_core: ab logistics}
  levels: {name: 0}
- case: a name written as one word, as its web domain is
  a: {name_core: mulyabangun}
  b: {name_core: mulya bangun}
  levels: {name: 4}
- case: a short name written as one word is very similar, not just similar
  a: {name_core: ecotech}
  b: {name_core: eco tech}
  levels: {name: 4}
  how: 1
- case: the other name after T/A is compared too
  a: {name_core: eleo laboratories}
  b: {name_core: woodland elmdale nominees, name_alt: eleo laboratories}
  levels: {name: 5}
  how: 2
- case: the other name on the left side
  a: {name_core: garrison holdings, name_alt: garrison family}
  b: {name_core: garrison familly}
  levels: {name: 4}
  how: 2
- case: a missing value on either side is missing
  a: {name_core: acme, domain: acme.com}
  b: {name_core: acme}
  levels: {domain: -1, phone: -1, address: -1, city: -1}
- case: same building, different street number
  a: {address_norm: 7 broad dr, street_number: "7", postcode_norm: "78711"}
  b: {address_norm: 9 broad dr, street_number: "9", postcode_norm: "78711"}
  levels: {address: 2, street_number: 0, postcode: 1}
- case: same address, different unit
  a: {address_norm: 3 harbour ln, street_number: "3", unit: suite 20}
  b: {address_norm: 3 harbour ln, street_number: "3", unit: suite 21}
  levels: {address: 3, street_number: 1, unit: 0}
- case: a district is not the city
  a: {city_norm: jakarta selatan}
  b: {city_norm: jakarta}
  levels: {city: 0}
- case: a city typo is similar
  a: {city_norm: melbourne}
  b: {city_norm: melbourn}
  levels: {city: 1}
- case: tax ids
  a: {tax_id_norm: "012345678901000"}
  b: {tax_id_norm: "012345678902000"}
  levels: {tax_id: 0}
- case: legal forms that share a code are compatible
  a: {legal_form: PT TBK}
  b: {legal_form: PT}
  levels: {legal_form: 1}
- case: legal forms that share none conflict
  a: {legal_form: PT}
  b: {legal_form: CV}
  levels: {legal_form: 0}
- case: an existing cross-reference claims the link
  a: {system: crm, record_id: "5001", ref_id: C7}
  b: {system: erp, record_id: C7}
  levels: {xref: 1}
- case: a cross-reference to another record
  a: {system: crm, record_id: "5001", ref_id: C8}
  b: {system: erp, record_id: C7}
  levels: {xref: 0}
- case: a claim from the ERP side counts as well
  a: {system: crm, record_id: "5001"}
  b: {system: erp, record_id: C7, ref_id: "5001"}
  levels: {xref: 1}
- case: records of one system have no cross-reference between them
  a: {system: crm, record_id: "5001", ref_id: C7}
  b: {system: crm, record_id: "5002", ref_id: C7}
  levels: {xref: -1}
- case: no reference on either side is missing
  a: {system: crm, record_id: "5001"}
  b: {system: erp, record_id: C7}
  levels: {xref: -1}
"""
)


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_levels_of_two_records(case: dict) -> None:
    got = compare_two(case["a"], case["b"])
    if "how" in case:
        assert got[compare.HOW] == case["how"]
    for field, level in case["levels"].items():
        assert got[lvl_column(field)] == level, field
        sim = got[sim_column(field)]
        assert np.isnan(sim) if level == -1 else 0.0 <= sim <= 1.0


def test_free_mail_never_counts() -> None:
    """Two companies whose only e-mail is at gmail.com have no domain to compare."""
    crm = pd.DataFrame(
        {"company_id": ["1"], "name": ["Maju Jaya"], "email": ["maju.jaya@gmail.com"]}
    )
    erp = pd.DataFrame(
        {"customer_id": ["C1"], "name": ["Sinar Abadi"], "email": ["sinar@gmail.com"]}
    )
    built = build_records(crm, erp)
    got = compare_pairs(built, pd.DataFrame({"left": [0], "right": [1]}), RULES).iloc[0]
    assert got[lvl_column("domain")] == -1
    assert np.isnan(got[sim_column("domain")])


def test_output_shape_order_and_types() -> None:
    frame = records(
        {"name_core": "maju jaya", "domain": "majujaya.co.id"},
        {"name_core": "maju jaya", "domain": "majujaya.co.id"},
        {"name_core": "abc trading"},
    )
    pairs = pd.DataFrame({"left": [1, 0, 0], "right": [2, 2, 1]}, index=[10, 11, 12])
    got = compare_pairs(frame, pairs, RULES)
    assert list(got.index) == [10, 11, 12]
    assert got[lvl_column("name")].tolist() == [NAME_DIFFERENT, NAME_DIFFERENT, NAME_EXACT]
    assert got[lvl_column("domain")].tolist() == [-1, -1, 1]
    for field in RULES.comparisons:
        assert got[sim_column(field)].dtype == np.float32
        assert got[lvl_column(field)].dtype == np.int8


def test_no_pairs_and_bad_positions() -> None:
    frame = records({"name_core": "a"}, {"name_core": "b"})
    empty = compare_pairs(frame, pd.DataFrame({"left": [], "right": []}, dtype="int64"), RULES)
    assert len(empty) == 0
    assert set(empty.columns) == {
        c for f in RULES.comparisons for c in (sim_column(f), lvl_column(f))
    } | {compare.HOW}
    with pytest.raises(ValueError, match="outside the records"):
        compare_pairs(frame, pd.DataFrame({"left": [0], "right": [2]}), RULES)


def test_missing_column_is_named() -> None:
    frame = records({"name_core": "a"}, {"name_core": "b"}).drop(columns="unit")
    with pytest.raises(ValueError, match="unit"):
        compare_pairs(frame, pd.DataFrame({"left": [0], "right": [1]}), RULES)


# --- oracle and properties -----------------------------------------------------------------------

WORDS = st.sampled_from(["maju", "jaya", "majo", "jaja", "abc", "trading", "sentosa", "sentausa"])
NAMES = st.lists(WORDS, min_size=1, max_size=3).map(" ".join)
MAYBE_NAMES = st.one_of(st.none(), NAMES)
ADDRESSES = st.one_of(
    st.none(),
    st.tuples(st.integers(1, 12), st.sampled_from(["broad dr", "broad rd", "jl merdeka"])).map(
        lambda t: f"{t[0]} {t[1]}" if "jl" not in t[1] else f"{t[1]} {t[0]}"
    ),
)


def _oracle_level(a: str | None, b: str | None, scorers: list, thresholds: tuple) -> int:
    """The level, one pair at a time, straight from rapidfuzz."""
    if a is None or b is None:
        return -1
    if a == b:
        return len(thresholds) + 1
    sim = max(scorer(a, b) for scorer in scorers) / 100
    return sum(sim >= t for t in thresholds)


def _oracle_name_level(a: str | None, b: str | None, thresholds: tuple) -> int:
    """The name level with its second looks (joined words, short form), one pair at a time."""
    if a is None or b is None:
        return -1
    if a == b:
        return len(thresholds) + 2

    def level(sim: float) -> int:
        t = sum(sim >= t for t in thresholds)
        return t + 1 if t else 0

    got = level(max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a, b)) / 100)
    wa, wb = len(a.split()), len(b.split())
    if got < len(thresholds) and min(wa, wb) == 1 and 1 < max(wa, wb) <= 4:
        got = max(got, level(fuzz.ratio(a.replace(" ", ""), b.replace(" ", "")) / 100))
    short, long = (a, b) if wa < wb else (b, a)
    words = len(short.split())
    if got == 0 and wa != wb and words <= 3 and len(short) >= 3:
        prefix = long.split()[:words] == short.split()
        joined = words == 1 and any("".join(long.split()[:k]) == short for k in range(2, 4))
        got = int(prefix or joined)
    return got


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(MAYBE_NAMES, min_size=2, max_size=12),
    addresses=st.lists(ADDRESSES, min_size=12, max_size=12),
)
@example(names=["maju jaya", "jaya maju"], addresses=["7 broad dr"] * 12)
def test_levels_match_a_per_pair_oracle_and_are_symmetric(
    names: list[str | None], addresses: list[str | None]
) -> None:
    # both ways of scoring: all pairs of few values at once, and bounded pair by pair
    for small in (0, compare._SMALL_VALUES):
        with mock.patch.object(compare, "_SMALL_VALUES", small):
            _check_against_oracle(names, addresses)


def _check_against_oracle(names: list[str | None], addresses: list[str | None]) -> None:
    n = len(names)
    rows = [
        {"name_core": name, "address_norm": address}
        for name, address in zip(names, addresses[:n], strict=True)
    ]
    frame = records(*rows)
    left, right = np.triu_indices(n, k=1)
    pairs = pd.DataFrame({"left": left, "right": right})
    got = compare_pairs(frame, pairs, RULES)
    swapped = compare_pairs(frame, pairs.rename(columns={"left": "right", "right": "left"}), RULES)
    pd.testing.assert_frame_equal(got, swapped)
    for field, column in (("name", "name_core"), ("address", "address_norm")):
        thresholds = RULES.by_field[field].thresholds()
        values = [row[column] for row in rows]
        expected = [
            _oracle_name_level(values[i], values[j], thresholds)
            if field == "name"
            else _oracle_level(values[i], values[j], [fuzz.ratio], thresholds)
            for i, j in zip(left, right, strict=True)
        ]
        assert got[lvl_column(field)].tolist() == expected, field
        sims = got[sim_column(field)].to_numpy()
        present = ~np.isnan(sims)
        assert ((sims[present] >= 0) & (sims[present] <= 1)).all()
        assert (np.isnan(sims) == (np.array(expected) == -1)).all()


@settings(max_examples=200, deadline=None)
@given(
    a=st.text(alphabet=st.sampled_from("abcdeéü 0123xyz"), max_size=40),
    b=st.text(alphabet=st.sampled_from("abcdeéü 0123xyz"), max_size=40),
)
@example(a="a" * 200, b="a" * 150)
@example(a="x x", b="x 03dédbdy")  # a word twice: token_set_ratio reads "x" once
@example(a="0", b="0 ")  # extra spaces: the token scorers ignore them
def test_letter_bound_is_never_below_the_scorers(a: str, b: str) -> None:
    """The cheap bound that skips scoring must never hide a pair that reaches a threshold.
    Texts are scored with single spaces between words; equal texts are exact, never bounded."""
    na, nb = " ".join(a.split()), " ".join(b.split())
    assume(na != nb)
    column = _Column(np.array([0, 1]), np.array([a, b], dtype=object))
    lo, hi = np.array([0]), np.array([1])
    for scorers, truth in (
        (("ratio", "token_sort_ratio"), max(fuzz.ratio(na, nb), fuzz.token_sort_ratio(na, nb))),
        (("ratio", "token_set_ratio"), max(fuzz.ratio(na, nb), fuzz.token_set_ratio(na, nb))),
    ):
        assert _bound(column, lo, hi, scorers)[0] >= truth / 100 - 1e-6
