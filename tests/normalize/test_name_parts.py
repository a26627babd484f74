"""Duplicate markers, second names and web-domain names (``name_parts.py``), through
``normalize_names`` and ``normalize_records``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from recon.errors import ConfigError
from recon.normalize import default_rules, load_normalize_rules, normalize_names, normalize_records
from recon.normalize.rules import LEGAL_FORMS_FILE, NORMALIZE_FILE
from recon.resources import rules_dir

RULES = default_rules()
PROPERTY = settings(max_examples=60, deadline=None)


def norm(names: list[str | None], country: str | None = None, rules=RULES) -> pd.DataFrame:
    countries = pd.Series([country] * len(names), dtype="string")
    return normalize_names(pd.Series(names, dtype="string"), countries, rules)


def one(name: str, country: str | None = None) -> dict[str, object]:
    row = norm([name], country).iloc[0]
    return {k: (None if pd.isna(v) else v) for k, v in row.items()}


# --- legal forms in every spelling ------------------------------------------------------------


def test_legal_form_typed_without_its_umlaut() -> None:
    got = norm(
        [
            "THALMULLER ANTRIEBSVERTRIEB GESELLSCHAFT MIT BESCHRANKTER HAFTUNG",
            "Thalmüller Antriebsvertrieb Gesellschaft mit beschränkter Haftung",
            "Thalmüller Antriebsvertrieb G.m.b.H.",
            "Thalmueller Antriebsvertrieb Gesellschaft mit beschraenkter Haftung",
        ]
    )
    assert got["legal_form"].tolist() == ["GMBH"] * 4
    assert got["name_core"].tolist()[1:] == ["thalmueller antriebsvertrieb"] * 3
    # the name itself is not guessed: "Thalmuller" stays as typed (see names.py)
    assert got["name_core"].iloc[0] == "thalmuller antriebsvertrieb"


FULL_SPELLINGS = [
    ("Perseroan Terbatas", "PT", "ID"),
    ("Proprietary Limited", "PTY_LTD", "AU"),
    ("Proprietary Ltd", "PTY_LTD", "AU"),
    ("Pty. Limited", "PTY_LTD", "AU"),
    ("Incorporated", "INC", "US"),
    ("Aktiengesellschaft", "AG", "US"),  # the full spelling is no ordinary word anywhere
    ("Limited Liability Company", "LLC", "US"),
    ("Corporation", "CORP", "US"),
    ("Public Limited Company", "PLC", "GB"),
    ("Sendirian Berhad", "SDN_BHD", "MY"),
    ("Gesellschaft mit beschränkter Haftung", "GMBH", "AT"),
    ("Limited Liability Partnership", "LLP", "GB"),
    ("Naamloze Vennootschap", "NV", "US"),
    ("Kabushiki Kaisha", "KK", "JP"),
]


@pytest.mark.parametrize(("form", "code", "country"), FULL_SPELLINGS)
@pytest.mark.parametrize("marker", ["", " *DUPLICATE*", " (OLD)", " - 2"])
def test_full_spellings_strip_in_any_case_also_before_a_marker(form, code, country, marker):
    for spelling in (form, form.upper(), form.lower()):
        got = one(f"Brightwater Farms {spelling}{marker}", country)
        assert (got["name_core"], got["legal_form"]) == ("brightwater farms", code), spelling
        assert got["name_marker"] == (marker.strip() or None)


@pytest.mark.parametrize(
    ("form", "code"), [("Perseroan Terbatas", "PT"), ("Kabushiki Kaisha", "KK")]
)
def test_full_spellings_strip_at_the_start_where_allowed(form: str, code: str) -> None:
    got = one(f"{form.upper()} MAJU JAYA *DUPLICATE*")
    assert (got["name_core"], got["legal_form"], got["name_marker"]) == (
        "maju jaya",
        code,
        "*DUPLICATE*",
    )


# --- duplicate markers ------------------------------------------------------------------------

MARKED = [
    ("ASHMAN BUILDERS PTY LTD *DUPLICATE*", "*DUPLICATE*"),
    ("ASHMAN BUILDERS PTY LTD DUPLICATE", "DUPLICATE"),
    ("ASHMAN BUILDERS PTY LTD DUP", "DUP"),
    ("Ashman Builders Pty Ltd (OLD)", "(OLD)"),
    ("Ashman Builders Pty Ltd [INACTIVE]", "[INACTIVE]"),
    ("Ashman Builders Pty Ltd - OLD", "- OLD"),
    ("Ashman Builders Pty Ltd -- CLOSED", "-- CLOSED"),
    ("OLD - Ashman Builders Pty Ltd", "OLD -"),
    ("DELETED: Ashman Builders Pty Ltd", "DELETED:"),
    ("ZZ Ashman Builders Pty Ltd", "ZZ"),
    ("ZZZ Ashman Builders Pty Ltd", "ZZZ"),
    ("XX ASHMAN BUILDERS PTY LTD", "XX"),
    ("zz_Ashman Builders Pty Ltd", "zz"),
    ("Ashman Builders Pty Ltd - 2", "- 2"),
    ("Ashman Builders Pty Ltd (2)", "(2)"),
    ("Ashman Builders Pty Ltd #2", "#2"),
    ("Ashman Builders Pty Ltd (USD)", "(USD)"),
    ("Ashman Builders Pty Ltd - EUR", "- EUR"),
    ("DO NOT USE Ashman Builders Pty Ltd", "DO NOT USE"),
    ("Ashman Builders Pty Ltd **DO-NOT-USE**", "**DO-NOT-USE**"),
    ("DNU - Ashman Builders Pty Ltd", "DNU -"),
    ("Ashman Builders Pty Ltd (DUPLICATE OF C1234)", "(DUPLICATE OF C1234)"),
    ("Ashman Builders (OLD) Pty Ltd", "(OLD)"),
    ("ZZ Ashman Builders Pty Ltd (OLD) - 2", "ZZ (OLD) - 2"),
    ("Ashman Builders Pty. Ltd. (Inactive).", "(Inactive)"),
]


@pytest.mark.parametrize(("name", "marker"), MARKED)
def test_duplicate_markers_are_removed_before_the_legal_form(name: str, marker: str) -> None:
    got = one(name, "AU")
    assert (got["name_core"], got["legal_form"], got["name_marker"]) == (
        "ashman builders",
        "PTY_LTD",
        marker,
    )


ORDINARY = [
    "Old Mill Bakery",
    "The Old Bakery",
    "Closed Loop Recycling",
    "Inactive Ingredients Co",  # a start word only when it is listed for the start
    "ZZ Top Tribute Band",  # not_markers
    "XX-Large Apparel",  # a hyphen inside a word sets nothing off
    "Route 2 Cafe",
    "Studio 54",
    "Club 21",
    "Smith Holdings (2005) Ltd",  # a year in brackets is part of a name
    "Acme (NZ) Ltd",
    "Maju Jaya (Persero) Tbk",
    "Copy Cat Printing",
    "Void Surf Co",
    "Zzang Korean BBQ",
    "Oldham Motors",
    "Deleted Scenes Productions",
]


@pytest.mark.parametrize("name", ORDINARY)
def test_ordinary_names_have_no_marker(name: str) -> None:
    got = one(name)
    assert got["name_marker"] is None
    assert got["name_norm"] == one(name.replace("(", " ").replace(")", " "))["name_norm"]


def test_a_name_that_is_only_a_marker_is_kept() -> None:
    got = norm(["(OLD)", "DUPLICATE", "ZZ", "*DUPLICATE*"])
    assert got["name_marker"].isna().all()
    assert got["name_norm"].tolist() == ["old", "duplicate", "zz", "duplicate"]


WORD = st.text("bcdfghjklmnprstvw", min_size=2, max_size=6).map(lambda w: w.capitalize() + "a")
SUFFIXES = [" *DUPLICATE*", " (OLD)", " - OLD", " DUPLICATE", " - 2", " (2)", " #2", " (USD)",
            " -- DO NOT USE", " [INACTIVE]", " DNU", " (Duplicate of C-101)"]  # fmt: skip
PREFIXES = ["ZZ ", "ZZZ ", "XX ", "OLD - ", "*DUPLICATE* ", "DO NOT USE ", "(OLD) ", "DELETED: "]


@PROPERTY
@given(
    words=st.lists(WORD, min_size=1, max_size=4),
    form=st.sampled_from(["", " Pty Ltd", " GmbH", " Inc.", " Limited", ", PT"]),
    marker=st.sampled_from(SUFFIXES + PREFIXES),
)
@example(words=["Ashman", "Builders"], form=" PTY LTD", marker=" *DUPLICATE*")
def test_a_marker_added_to_any_name_keeps_its_keys(words, form, marker) -> None:
    name = " ".join(words) + form
    marked = marker + name if marker in PREFIXES else name + marker
    plain, got = norm([name, marked]).to_dict("records")
    for key in ("name_norm", "name_core", "name_tokens", "legal_form"):
        assert got[key] == plain[key], key
    assert pd.isna(plain["name_marker"])
    assert got["name_marker"] == marker.strip()


ORDINARY_WORD = st.sampled_from(
    ["Old", "Mill", "Closed", "Loop", "Copy", "Void", "Route", "Studio", "Top", "Trust", "Farms",
     "Trading", "Holdings", "Group", "Bakery", "Deleted", "Use", "Former", "For",
     "54", "2", "Atlas", "Dupont", "Zzang", "Xxl", "Blocked", "Drains", "Dormant", "Volcano"]
)  # fmt: skip


@PROPERTY
@given(
    words=st.lists(ORDINARY_WORD, min_size=2, max_size=5),
    form=st.sampled_from(["", " Pty Ltd", " (NZ) Ltd", " Inc.", ", PT"]),
)
def test_names_of_ordinary_words_have_no_parts(words: list[str], form: str) -> None:
    got = one(" ".join(words) + form)
    assert (got["name_marker"], got["name_source"], got["name_alt"]) == (None, None, None)


# --- web domains as names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "core"),
    [
        ("mulyabangun.co.id", "mulyabangun"),
        ("www.brightwaterfarms.com.au", "brightwaterfarms"),
        ("Acme.io", "acme"),
        ("https://www.Bright-Water-Farms.com.au/", "bright water farms"),
        ("shop.acme.co.uk", "acme"),
        ("mulyabangun.co.id (OLD)", "mulyabangun"),
    ],
)
def test_a_name_that_is_a_web_domain_is_read_as_its_label(name: str, core: str) -> None:
    got = one(name)
    assert (got["name_core"], got["name_norm"], got["name_tokens"]) == (
        core,
        core,
        " ".join(sorted(core.split())),
    )
    assert got["name_source"] == "domain"


@pytest.mark.parametrize(
    "name", ["Acme.Ltd", "Acme Pty.Ltd", "St.Kilda Motors", "J.Smith", "A.B.C."]
)
def test_dotted_names_that_are_no_domain(name: str) -> None:
    assert one(name)["name_source"] is None


def test_frame_takes_the_domain_of_a_domain_name_when_it_has_none() -> None:
    crm = pd.DataFrame(
        {
            "company_id": ["1", "2", "3", "4"],
            "name": ["mulyabangun.co.id", "brightwater.com.au", "gmail.com", "Acme Pty Ltd"],
            "website": [None, "https://brightwaterfarms.com.au", None, None],
        }
    )
    got = normalize_records(crm, "crm", RULES)
    assert got["domain"].tolist()[:2] == ["mulyabangun.co.id", "brightwaterfarms.com.au"]
    assert pd.isna(got["domain"].iloc[2])  # a free-mail domain is no company's
    assert got["domain_source"].tolist()[:2] == ["name", "website"]
    assert got["name_source"].tolist()[:3] == ["domain"] * 3
    assert pd.isna(got["name_source"].iloc[3])
    for column in ("name_marker", "name_source", "name_alt"):
        assert str(got[column].dtype) == "string"


# --- second names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "core", "alt", "legal_form"),
    [
        (
            "WOODLAND ELMDALE NOMINEES LTD T/A ELEO LABORATORIES",
            "woodland elmdale nominees",
            "eleo laboratories",
            "LTD",
        ),
        (
            "Garrison Holdings Pty Ltd ATF Garrison Family Trust",
            "garrison",
            "garrison family trust",
            "PTY_LTD",
        ),
        ("Smith J & M DBA Smith Plumbing", "smith j m", "smith plumbing", None),
        ("Riverside Pty Ltd trading as Riverside Cafe", "riverside", "riverside cafe", "PTY_LTD"),
        ("Riverside Pty Ltd t/as Riverside Cafe", "riverside", "riverside cafe", "PTY_LTD"),
        (
            "Riverside Pty Ltd as trustee for Riverside Trust",
            "riverside",
            "riverside trust",
            "PTY_LTD",
        ),
        ("Bluegum Ltd aka Bluegum Timber", "bluegum", "bluegum timber", "LTD"),
        ("Bluegum Ltd (formerly Redgum Ltd)", "bluegum", "redgum", "LTD"),
        ("Bluegum (formerly Redgum) Ltd", "bluegum", "redgum", "LTD"),
        ("Smith t/as Smith Plumbing Pty Ltd", "smith", "smith plumbing", "PTY_LTD"),
        ("Bluegum Ltd T/A Bluegum Timber *DUPLICATE*", "bluegum", "bluegum timber", "LTD"),
    ],
)
def test_second_names(name: str, core: str, alt: str, legal_form: str | None) -> None:
    got = one(name, "AU")
    assert (got["name_core"], got["name_alt"], got["legal_form"]) == (core, alt, legal_form)


@pytest.mark.parametrize(
    "name",
    ["Batfish Marine", "Akademi Atlas", "The Trustee Company", "Adbal Ltd", "Formerly Cafe"],
)
def test_names_without_a_second_name(name: str) -> None:
    assert one(name)["name_alt"] is None


# --- the rules --------------------------------------------------------------------------------


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    for name in (LEGAL_FORMS_FILE, NORMALIZE_FILE):
        (tmp_path / name).write_text((rules_dir() / name).read_text(encoding="utf-8"))
    return tmp_path


def edit(folder: Path, change) -> None:
    path = folder / NORMALIZE_FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_bad_marker_rules_are_named(rules_copy: Path) -> None:
    def change(data: dict) -> None:
        data["duplicate_markers"]["words"].append("--")
        data["duplicate_markers"]["currencies"].append("DOLLAR")
        data["duplicate_markers"]["number_digits"] = "two"
        data["duplicate_markers"]["position"] = "end"
        data["second_names"]["connectors"] = "t/a"

    edit(rules_copy, change)
    with pytest.raises(ConfigError) as info:
        load_normalize_rules(rules_copy)
    message = str(info.value)
    assert 'duplicate_markers.currencies[25] is "DOLLAR" — expected a three-letter' in message
    assert 'duplicate_markers.number_digits is "two" — expected a whole number' in message
    assert "duplicate_markers.position is not a known setting" in message
    assert "second_names.connectors" in message


def test_punctuation_only_marker_is_refused(rules_copy: Path) -> None:
    edit(rules_copy, lambda data: data["duplicate_markers"]["words"].append("--"))
    with pytest.raises(ConfigError, match=r'duplicate_markers.words\[\d+\] is "--" — expected'):
        load_normalize_rules(rules_copy)


def test_marker_rules_change_behaviour(rules_copy: Path) -> None:
    def change(data: dict) -> None:
        data["duplicate_markers"]["not_markers"] = ["zz top", "zz ashman"]
        data["duplicate_markers"]["start_words"].append("alt")
        data["second_names"]["connectors"] = ["t/a"]

    edit(rules_copy, change)
    rules = load_normalize_rules(rules_copy)
    got = norm(
        ["ZZ Ashman Builders", "ALT Brightwater Farms", "Bluegum Ltd aka Bluegum Timber"],
        rules=rules,
    )
    assert pd.isna(got["name_marker"].iloc[0])
    assert got["name_marker"].iloc[1] == "ALT"
    assert got["name_alt"].isna().all()
