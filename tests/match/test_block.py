"""Blocking: each pass finds its pairs and sets its bit; limits hold; the output contract holds; an
oracle of the pass definitions agrees on random frames; recall on generated data; config errors."""

from __future__ import annotations

import importlib.util
import itertools
import logging
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recon.config.blocking import BlockingRules, load_blocking_rules
from recon.errors import ConfigError
from recon.match.block import PASSES, candidate_pairs, pass_counts
from recon.resources import rules_dir

RULES = load_blocking_rules()
TEXT = ("record_id", "system", "name_core", "name_norm", "domain", "phone_e164", "tax_id_norm")
MORE_TEXT = ("postcode_norm", "city_norm", "ref_id", "address_norm")


def records(*rows: dict[str, Any]) -> pd.DataFrame:
    """A records frame: each row a dict; record_id defaults to r<i>, system to crm, name_norm to
    name_core, free-mail to false, everything else to NA."""
    filled = []
    for i, row in enumerate(rows):
        row = {"record_id": f"r{i}", "system": "crm", "freemail": False, **row}
        row.setdefault("name_core", f"company{i}")
        row.setdefault("name_norm", row["name_core"])
        filled.append(row)
    frame = pd.DataFrame(filled)
    if "freemail" not in frame.columns:
        frame["freemail"] = False
    for column in TEXT + MORE_TEXT:
        if column not in frame.columns:
            frame[column] = pd.NA
        frame[column] = frame[column].astype("string")
    frame["freemail"] = frame["freemail"].astype("boolean")
    return frame


def only(*names: str, rules: BlockingRules = RULES, **changes: dict[str, Any]) -> BlockingRules:
    """The bundled rules with every pass but ``names`` switched off, and sections changed."""
    update: dict[str, Any] = {}
    for name in PASSES:
        section = getattr(rules, name)
        update[name] = section.model_copy(
            update={"enabled": name in names, **changes.get(name, {})}
        )
    return rules.model_copy(update=update)


def fuzzy(
    rules: BlockingRules = RULES, words: dict[str, Any] | None = None, **minhash: Any
) -> BlockingRules:
    """Only the fuzzy pass, with its word and MinHash settings changed."""
    section = rules.fuzzy.model_copy(
        update={
            "words": rules.fuzzy.words.model_copy(update=words or {}),
            "minhash": rules.fuzzy.minhash.model_copy(update=minhash),
        }
    )
    return only("fuzzy", rules=rules.model_copy(update={"fuzzy": section}))


def pairs_of(frame: pd.DataFrame, rules: BlockingRules) -> dict[tuple[int, int], int]:
    found = candidate_pairs(frame, rules)
    return {
        (int(a), int(b)): int(bits)
        for a, b, bits in zip(found["left"], found["right"], found["passes"], strict=True)
    }


# --- each pass ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "column", "value"),
    [
        ("domain", "domain", "majujaya.co.id"),
        ("phone", "phone_e164", "+622150001234"),
        ("tax_id", "tax_id_norm", "012345678901000"),
    ],
)
def test_a_shared_key_pairs_records_within_and_across_systems(
    name: str, column: str, value: str
) -> None:
    frame = records(
        {column: value},
        {column: "other", "system": "erp"},
        {column: value, "system": "erp"},
        {column: value},
        {column: pd.NA},
        {column: pd.NA},
        {column: ""},
        {column: ""},
    )
    assert pairs_of(frame, only(name)) == {
        (0, 2): PASSES[name],
        (0, 3): PASSES[name],
        (2, 3): PASSES[name],
    }


def test_free_mail_domains_never_block() -> None:
    frame = records(
        {"domain": "gmail.com", "freemail": True},
        {"domain": "gmail.com", "freemail": True},
        {"domain": "majujaya.co.id"},
        {"domain": "majujaya.co.id", "freemail": pd.NA},
    )
    assert pairs_of(frame, only("domain")) == {(2, 3): PASSES["domain"]}


def test_xref_pairs_a_record_with_the_record_it_names_in_the_other_system() -> None:
    frame = records(
        {"record_id": "5001", "ref_id": "C01"},  # CRM names ERP C01
        {"record_id": "C01", "system": "erp"},
        {"record_id": "C02", "system": "erp", "ref_id": "5003"},  # ERP names CRM 5003
        {"record_id": "5003"},
        {"record_id": "5004", "ref_id": "5003"},  # names a CRM record: not the other system
        {"record_id": "5005", "ref_id": "C99"},  # names no one
        {"record_id": "C03", "system": "erp", "ref_id": "C01"},
        {"record_id": "5006", "ref_id": "C04"},  # C04 is held by two ERP records: both
        {"record_id": "C04", "system": "erp"},
        {"record_id": "C04", "system": "erp"},
    )
    bit = PASSES["xref"]
    assert pairs_of(frame, only("xref")) == {(0, 1): bit, (2, 3): bit, (7, 8): bit, (7, 9): bit}


def test_rare_tokens_block_and_common_or_short_ones_do_not() -> None:
    common = [{"name_core": f"jaya company{i}"} for i in range(31)]  # 31 > max_frequency 30
    frame = records(
        {"name_core": "artamulia konstruksi"},
        {"name_core": "mas artamulia", "system": "erp"},
        {"name_core": "pt ab"},
        {"name_core": "ab cv"},  # "ab" is shorter than min_length 3
        *common,
    )
    found = pairs_of(frame, only("rare_token"))
    assert found == {(0, 1): PASSES["rare_token"]}


def test_a_word_twice_in_one_name_counts_once_towards_its_frequency() -> None:
    rules = only("rare_token", rare_token={"max_frequency": 2})
    frame = records({"name_core": "bau bau"}, {"name_core": "bau mas"})
    assert pairs_of(frame, rules) == {(0, 1): PASSES["rare_token"]}


def test_postcode_and_name_prefix() -> None:
    frame = records(
        {"postcode_norm": "10117", "name_core": "maju jaya"},
        {"postcode_norm": "10117", "name_core": "majuu jaya", "system": "erp"},
        {"postcode_norm": "10117", "name_core": "sentosa"},
        {"postcode_norm": "10118", "name_core": "maju jaya"},
        {"postcode_norm": pd.NA, "name_core": "maju jaya"},
    )
    assert pairs_of(frame, only("postcode_prefix")) == {(0, 1): PASSES["postcode_prefix"]}


# --- fuzzy ----------------------------------------------------------------------------------------


def test_same_name_spelled_loosely() -> None:
    frame = records(
        {"name_core": "mueller schaefer bau"},
        {"name_core": "muller schafer bau", "system": "erp"},  # umlauts not written out
        {"name_core": "indah raya"},
        {"name_core": "indahr aya"},  # a slipped space
        {"name_core": "indah raya"},
    )
    bit = PASSES["fuzzy"]
    assert pairs_of(frame, fuzzy(words={"enabled": False})) == {
        (0, 1): bit,
        (2, 3): bit,
        (2, 4): bit,
        (3, 4): bit,
    }


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("dharmasakti cemerlang konstruksi", "dharmasakti cemerlahg konstruksi"),  # changed
        ("redwater united packaging", "redwater united packagging"),  # added
        ("nusajaya sejati steel", "nusajyaa sejati steel"),  # swapped
        ("goldmark steel", "goldmak steel"),  # dropped
        ("summit engineering worldwide", "summit eng worldwide"),  # abbreviation
        ("fairridge modern foods", "fairridge modern foods limietd"),  # extra uncommon word
    ],
)
def test_names_one_word_apart(a: str, b: str) -> None:
    frame = records({"name_core": a}, {"name_core": b, "system": "erp"}, {"name_core": "other"})
    assert pairs_of(frame, fuzzy()) == {(0, 1): PASSES["fuzzy"]}
    assert pairs_of(frame, fuzzy(words={"enabled": False})) == {}


def test_names_differing_in_two_words_or_in_a_common_extra_word_are_not_one_word_apart() -> None:
    rules = fuzzy(words={"max_extra_word_frequency": 1})
    frame = records(
        {"name_core": "maju jaya abadi"},
        {"name_core": "maju jaua abadk"},  # two words changed
        {"name_core": "maju jaya"},  # "abadi" is used by 2 records: not uncommon here
        {"name_core": "sentosa abadi"},
    )
    assert pairs_of(frame, rules) == {}


def test_minhash_finds_a_slip_in_every_word() -> None:
    """The MinHash LSH of the fuzzy pass survives typing slips in every word of a name."""
    frame = records(
        {"name_core": "maju jaya abadi"},
        {"name_core": "majy jaua abadk", "system": "erp"},
        {"name_core": "sentosa makmur"},
        {"name_core": "hartley brothers"},
    )
    on = fuzzy(enabled=True, ngram=2, bands=30, rows=2, max_bucket_size=3)
    assert pairs_of(frame, on).get((0, 1)) == PASSES["fuzzy"]
    assert pairs_of(frame, fuzzy(enabled=False)) == {}


def test_bundled_minhash_settings_find_a_slip_in_every_word_when_switched_on() -> None:
    frame = records({"name_core": "maju jaya abadi"}, {"name_core": "majy jaua abadk"})
    assert pairs_of(frame, fuzzy(enabled=True)) == {(0, 1): PASSES["fuzzy"]}


# --- limits ---------------------------------------------------------------------------------------


def test_a_big_block_is_split_by_name_prefix_and_what_stays_too_big_is_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # 500 records share a phone: 480 have names of 10 prefixes (48 each, under the limit of 50),
    # 20 more share one prefix with 40 of them (60: too big even after the split).
    names = [f"{chr(97 + i % 10)}{chr(97 + i % 10)}x name{i}" for i in range(480)]
    names += [f"aax other{i}" for i in range(20)]
    frame = records(*({"phone_e164": "+6221500", "name_core": name} for name in names))
    logger = logging.getLogger("recon.match.block")
    logger.addHandler(caplog.handler)  # captured even when the CLI set "recon" not to propagate
    try:
        with caplog.at_level(logging.INFO, logger="recon.match.block"):
            found = candidate_pairs(frame, only("phone"))
    finally:
        logger.removeHandler(caplog.handler)
    assert len(found) == 9 * (48 * 47 // 2)  # the 9 prefixes other than "aax", all pairs
    prefix = np.array([name[:3] for name in names])
    assert (prefix[found["left"]] == prefix[found["right"]]).all()
    assert "aax" not in set(prefix[found["left"]])
    assert re.search(
        r"phone: 1 block.* more than 50 .*1 part.* skipped \(68 records unpaired\)", caplog.text
    )


def test_a_big_block_is_skipped_without_a_split() -> None:
    frame = records(*({"domain": "bigcorp.com"} for _ in range(51)), {"domain": "small.com"})
    rules = only("domain").model_copy(update={"split_prefix": 0})
    assert len(candidate_pairs(frame, rules)) == 0
    assert len(candidate_pairs(frame.iloc[:50], rules)) == 50 * 49 // 2


def test_a_name_carried_by_many_records_is_split_by_its_full_name() -> None:
    rows = [{"name_core": "ironwater", "name_norm": f"ironwater {w}"} for w in ("a", "b") * 30]
    frame = records(*rows)
    found = candidate_pairs(frame, fuzzy(words={"enabled": False}))
    assert len(found) == 2 * (30 * 29 // 2)
    norm = frame["name_norm"].to_numpy()
    assert (norm[found["left"]] == norm[found["right"]]).all()


# --- the output ---------------------------------------------------------------------------------


def check_contract(found: pd.DataFrame, n: int) -> None:
    assert list(found.columns) == ["left", "right", "passes"]
    assert found.dtypes.to_dict() == {
        "left": np.dtype("int64"),
        "right": np.dtype("int64"),
        "passes": np.dtype("int16"),
    }
    left, right = found["left"].to_numpy(), found["right"].to_numpy()
    assert ((left >= 0) & (left < right) & (right < n)).all()
    codes = left * n + right
    assert (np.diff(codes) > 0).all()  # sorted by (left, right) and unique
    assert ((found["passes"] > 0) & (found["passes"] < 2 ** len(PASSES))).all()


def test_passes_are_distinct_bits_and_counted() -> None:
    assert list(PASSES) == [
        "domain",
        "phone",
        "tax_id",
        "xref",
        "rare_token",
        "postcode_prefix",
        "fuzzy",
        "address",
        "orders",
    ]
    assert sorted(PASSES.values()) == [1 << i for i in range(len(PASSES))]
    frame = records(
        {"domain": "a.com", "phone_e164": "+1", "name_core": "maju jaya"},
        {"domain": "a.com", "phone_e164": "+1", "name_core": "maju jaya"},
        {"domain": "a.com"},
    )
    found = candidate_pairs(frame, RULES)
    check_contract(found, 3)
    bits = PASSES["domain"] | PASSES["phone"] | PASSES["rare_token"] | PASSES["fuzzy"]
    assert pairs_of(frame, RULES)[(0, 1)] == bits
    counts = pass_counts(found)
    assert counts["domain"] == 3
    assert counts["phone"] == 1
    assert counts["tax_id"] == 0


def test_empty_frame_and_an_index_that_is_not_positions() -> None:
    empty = candidate_pairs(records().iloc[:0], RULES)
    check_contract(empty, 1)
    assert len(empty) == 0
    frame = records({"phone_e164": "+1"}, {"phone_e164": "+2"}, {"phone_e164": "+1"})
    frame.index = [10, 20, 30]
    assert pairs_of(frame, only("phone")) == {(0, 2): PASSES["phone"]}


def test_a_missing_column_is_named() -> None:
    frame = records({"phone_e164": "+1"}).drop(columns="tax_id_norm")
    with pytest.raises(ValueError, match="tax_id_norm"):
        candidate_pairs(frame, RULES)
    assert len(candidate_pairs(frame, only("phone"))) == 0


# --- oracle --------------------------------------------------------------------------------------

SIZE = 3  # a small block limit, so that random frames have big blocks to split and skip


def _blocks(keys: dict[int, Any], split: dict[int, Any] | None) -> set[tuple[int, int]]:
    """All pairs inside blocks of at most SIZE records; a bigger block split by ``split``."""
    out: set[tuple[int, int]] = set()
    groups: dict[Any, list[int]] = {}
    for i, key in keys.items():
        groups.setdefault(key, []).append(i)
    for members in groups.values():
        if len(members) <= SIZE:
            out.update(itertools.combinations(sorted(members), 2))
        elif split is not None:
            parts: dict[Any, list[int]] = {}
            for i in members:
                if split.get(i) is not None:
                    parts.setdefault(split[i], []).append(i)
            for part in parts.values():
                if len(part) <= SIZE:
                    out.update(itertools.combinations(sorted(part), 2))
    return out


def _present(value: Any) -> bool:
    return value is not None and value is not pd.NA and value != ""


def oracle(frame: pd.DataFrame) -> dict[tuple[int, int], int]:
    """The pass definitions, brute force (fuzzy limited to the same loose name)."""
    rows = frame.to_dict("records")
    prefix = {i: r["name_core"][:3] for i, r in enumerate(rows) if _present(r["name_core"])}
    found: dict[tuple[int, int], int] = {}

    def add(pairs: set[tuple[int, int]], name: str) -> None:
        for pair in pairs:
            found[pair] = found.get(pair, 0) | PASSES[name]

    for name, column in (("domain", "domain"), ("phone", "phone_e164"), ("tax_id", "tax_id_norm")):
        keys = {
            i: r[column]
            for i, r in enumerate(rows)
            if _present(r[column]) and not (column == "domain" and bool(r["freemail"]))
        }
        add(_blocks(keys, prefix), name)
    xref = set()
    for i, a in enumerate(rows):
        for j, b in enumerate(rows):
            if (
                a["system"] != b["system"]
                and _present(a["ref_id"])
                and a["ref_id"] == b["record_id"]
            ):
                xref.add((min(i, j), max(i, j)))
    add(xref, "xref")
    keys = {
        i: (r["postcode_norm"], r["name_core"][:3])
        for i, r in enumerate(rows)
        if _present(r["postcode_norm"]) and _present(r["name_core"])
    }
    add(_blocks(keys, prefix), "postcode_prefix")
    cores = [r["name_core"] for r in rows if _present(r["name_core"])]
    names = {}
    for i, r in enumerate(rows):
        if _present(r["name_core"]):
            common = cores.count(r["name_core"]) > SIZE
            names[i] = r["name_norm"] if common and _present(r["name_norm"]) else r["name_core"]
    loose = {i: re.sub("([aou])e", r"\1", name).replace(" ", "") for i, name in names.items()}
    norm = {i: r["name_norm"] for i, r in enumerate(rows) if _present(r["name_norm"])}
    add(_blocks(loose, norm), "fuzzy")
    return found


def random_frames() -> st.SearchStrategy[pd.DataFrame]:
    def value(options: str) -> st.SearchStrategy[Any]:
        return st.one_of(st.none(), st.just(""), st.sampled_from(options.split()))

    row = st.fixed_dictionaries(
        {
            "record_id": st.sampled_from(["1", "2", "3", "C1", "C2", "C3"]),
            "system": st.sampled_from(["crm", "erp"]),
            "ref_id": value("1 2 3 C1 C2 C3"),
            "domain": value("a.com b.com gmail.com"),
            "freemail": st.booleans(),
            "phone_e164": value("+1 +2"),
            "tax_id_norm": value("11 22"),
            "postcode_norm": value("10117 2000"),
            "name_core": st.one_of(
                st.none(), st.sampled_from(["maju", "majux", "mauj jaya", "maujjaya", "mueller"])
            ),
            "name_norm": st.sampled_from(["maju group", "muller", "maju"]),
        }
    )
    return st.lists(row, min_size=0, max_size=16).map(lambda rows: records(*rows))


ORACLE_RULES = only(
    "domain",
    "phone",
    "tax_id",
    "xref",
    "postcode_prefix",
    "fuzzy",
    domain={"max_block_size": SIZE},
    phone={"max_block_size": SIZE},
    tax_id={"max_block_size": SIZE},
    postcode_prefix={"max_block_size": SIZE},
    fuzzy={
        "max_block_size": SIZE,
        "words": RULES.fuzzy.words.model_copy(update={"enabled": False}),
        "minhash": RULES.fuzzy.minhash.model_copy(update={"enabled": False}),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_frames())
def test_exact_key_passes_equal_a_brute_force_oracle(frame: pd.DataFrame) -> None:
    found = candidate_pairs(frame, ORACLE_RULES)
    check_contract(found, max(len(frame), 1))
    assert pairs_of(frame, ORACLE_RULES) == oracle(frame)


# --- generated data -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    from recon.config.load import folder_config
    from recon.extract.load import load_table
    from recon.match.records import build_records
    from recon.sampledata import generate, write

    sample = generate(2000, 11)
    folder = tmp_path_factory.mktemp("sample")
    write(sample, folder)
    inputs = folder_config(folder)
    crm, erp = (
        load_table(name, inputs.config.tables[name], inputs).frame
        for name in ("crm_companies", "erp_customers")
    )
    return build_records(crm, erp), sample.truth_entities


def blocking_recall(found: pd.DataFrame, frame: pd.DataFrame, truth: pd.DataFrame) -> float:
    """bench/accuracy.py's measure (bench/ is not a package on the test path)."""
    path = Path(__file__).resolve().parents[2] / "bench" / "accuracy.py"
    spec = importlib.util.spec_from_file_location("bench_accuracy", path)
    assert spec is not None and spec.loader is not None
    module = sys.modules.get(spec.name) or importlib.util.module_from_spec(spec)
    if spec.name not in sys.modules:
        sys.modules[spec.name] = module  # its dataclasses look themselves up there
        spec.loader.exec_module(module)
    return float(module.blocking_recall(found, frame, truth))


def test_recall_on_generated_data(generated: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    frame, truth = generated
    found = candidate_pairs(frame, RULES)
    check_contract(found, len(frame))
    assert blocking_recall(found, frame, truth) >= 0.995
    assert len(found) < 20 * len(frame)


# --- rules/blocking.yaml ------------------------------------------------------------------------

BUNDLED = (rules_dir() / "blocking.yaml").read_text(encoding="utf-8")


def write_rules(tmp_path: Path, text: str) -> Path:
    (tmp_path / "blocking.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_bundled_rules_load(tmp_path: Path) -> None:
    assert RULES.domain.max_block_size == 50
    assert RULES.fuzzy.minhash.bands * RULES.fuzzy.minhash.rows > 0
    assert load_blocking_rules(write_rules(tmp_path, BUNDLED)) == RULES


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "  max_block_size: 50\n",
            '  max_block_size: "fifty"\n',
            r'blocking\.yaml: domain\.max_block_size: "fifty" is not a whole number from 2',
        ),
        (
            "    min_typo_length: 3\n",
            "",
            r"blocking\.yaml: fuzzy\.words\.min_typo_length is missing",
        ),
        (
            "phone:\n  enabled: true\n",
            "phone:\n  enabled: yes please\n",
            r'blocking\.yaml: phone\.enabled: "yes please" is not true or false',
        ),
        (
            "rare_token:\n  enabled: true\n",
            "rare_token:\n  enabled: true\n  max_frequncy: 5\n",
            r"blocking\.yaml: rare_token\.max_frequncy is not a known setting",
        ),
        (
            "    bands: 20\n",
            "    bands: 0\n",
            r"blocking\.yaml: fuzzy\.minhash\.bands: 0 is not a whole number from 1 to 200",
        ),
        (
            "split_prefix: 3\n",
            "split_prefix: true\n",
            r"blocking\.yaml: split_prefix: true is not a whole number",
        ),
    ],
)
def test_a_bad_setting_is_named_with_file_and_key(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in BUNDLED
    with pytest.raises(ConfigError, match=message):
        load_blocking_rules(write_rules(tmp_path, BUNDLED.replace(old, new, 1)))


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = BUNDLED.replace("  max_block_size: 50\n", "  max_block_size: 1\n", 1)
    text = text.replace("  prefix_length: 3\n", "  prefix_length: x\n")
    with pytest.raises(ConfigError) as caught:
        load_blocking_rules(write_rules(tmp_path, text))
    assert "domain.max_block_size: 1 is not" in str(caught.value)
    assert "postcode_prefix.prefix_length" in str(caught.value)


def test_all_passes_off_and_broken_yaml_and_no_file(tmp_path: Path) -> None:
    text = re.sub(r"^( {2})enabled: true$", r"\1enabled: false", BUNDLED, flags=re.M)
    with pytest.raises(ConfigError, match="every pass is switched off"):
        load_blocking_rules(write_rules(tmp_path, text))
    with pytest.raises(ConfigError, match=r"blocking\.yaml:.*not valid YAML"):
        load_blocking_rules(write_rules(tmp_path, "domain:\n  enabled: [true\n"))
    with pytest.raises(ConfigError, match="top level"):
        load_blocking_rules(write_rules(tmp_path, "- domain\n"))
    with pytest.raises(ConfigError, match="file not found"):
        load_blocking_rules(tmp_path / "nowhere")


def test_address_pass_pairs_one_street_line_despite_names_with_typos() -> None:
    """Duplicates entered twice often share only the street line, each name with its own typo."""
    frame = records(
        {"name_core": "redwater regional retail", "address_norm": "21 ridge st"},
        {"name_core": "redwater regionaliretail", "address_norm": "21 ridge st"},
        {"name_core": "bluefield", "address_norm": "48 mill ave"},
    )
    assert pairs_of(frame, only("address")) == {(0, 1): PASSES["address"]}
    assert pairs_of(frame, only("domain")) == {}


def test_address_pass_leaves_other_tenants_of_a_building_apart() -> None:
    """Many companies at one address: only those whose names start alike are paired."""
    crowd = [
        {"name_core": f"{prefix}co {i}", "address_norm": "1 ann rd"}
        for i, prefix in enumerate(["oak", "pin", "red", "ash", "elm", "fir", "yew", "bay"])
    ]
    frame = records(*crowd, {"name_core": "oakco other", "address_norm": "1 ann rd"})
    assert set(pairs_of(frame, only("address"))) == {(0, 8)}


def test_rules_without_an_address_section_get_the_default(tmp_path) -> None:
    text = (rules_dir() / "blocking.yaml").read_text(encoding="utf-8")
    start = text.index("\naddress:")
    end = text.index("\nfuzzy:")
    (tmp_path / "blocking.yaml").write_text(text[:start] + text[end:], encoding="utf-8")
    rules = load_blocking_rules(tmp_path)
    assert rules.address.enabled
    assert (rules.address.name_prefix, rules.address.max_block_size) == (2, 8)


def test_the_orders_pass_proposes_the_pairs_it_is_given() -> None:
    """Pairs whose deals and orders coincide are proposed whatever the records share."""
    frame = records({"name_core": "bluefin analytics"}, {"name_core": "tessaract"}, {})
    found = candidate_pairs(frame, RULES, np.array([0 * 3 + 1], dtype=np.int64))
    check_contract(found, 3)
    assert pairs_of(frame, RULES) == {}
    assert found[["left", "right"]].values.tolist() == [[0, 1]]
    assert found["passes"].tolist() == [PASSES["orders"]]
    off = RULES.model_copy(update={"orders": RULES.orders.model_copy(update={"enabled": False})})
    assert len(candidate_pairs(frame, off, np.array([1], dtype=np.int64))) == 0


def test_a_word_rare_within_its_postcode_pairs_records_there() -> None:
    """'paterson' is too common in the file for the rare-token pass, not in postcode 3501."""
    common = [{"name_core": f"paterson x{i}", "postcode_norm": f"{4000 + i}"} for i in range(40)]
    frame = records(
        {"name_core": "roy paterson", "postcode_norm": "3501"},
        {"name_core": "jack paterson", "postcode_norm": "3501"},
        {"name_core": "lucy paterson", "postcode_norm": "3502"},
        *common,
    )
    rules = only("rare_token", rare_token={"max_in_postcode": 8})
    assert set(pairs_of(frame, rules)) == {(0, 1)}
    assert pairs_of(frame, only("rare_token", rare_token={"max_in_postcode": 0})) == {}


def test_a_second_name_meets_the_record_named_so() -> None:
    frame = records(
        {"name_core": "eleo laboratories", "system": "crm"},
        {
            "name_core": "woodland elmdale nominees",
            "name_alt": "eleo laboratories",
            "system": "erp",
        },
        {"name_core": "something else", "system": "erp"},
    )
    frame["name_alt"] = frame["name_alt"].astype("string")
    rules = fuzzy(words={"enabled": False}, enabled=False)
    assert set(pairs_of(frame, rules)) == {(0, 1)}
    assert pairs_of(frame.drop(columns="name_alt"), rules) == {}
