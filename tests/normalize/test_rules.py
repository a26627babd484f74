"""Loading rules/legal_forms.yaml and rules/normalize.yaml, and the messages for mistakes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from recon.errors import ConfigError
from recon.normalize import load_normalize_rules
from recon.normalize.rules import LEGAL_FORMS_FILE, NORMALIZE_FILE, NormalizeRules
from recon.resources import rules_dir

REQUIRED_FORMS = [
    "PT",
    "TBK",
    "CV",
    "UD",
    "PERSERO",
    "PTY_LTD",
    "LTD",
    "PLC",
    "LLP",
    "LLC",
    "INC",
    "CORP",
    "CO_LTD",
    "GMBH",
    "GMBH_CO_KG",
    "AG",
    "KG",
    "OHG",
    "EK",
    "UG",
    "SA",
    "SAS",
    "SARL",
    "BV",
    "NV",
    "SDN_BHD",
    "BHD",
    "KK",
    "PTE_LTD",
]


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    for name in (LEGAL_FORMS_FILE, NORMALIZE_FILE):
        shutil.copy(rules_dir() / name, tmp_path / name)
    return tmp_path


def edit(folder: Path, name: str, change) -> None:
    path = folder / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def problems(folder: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_normalize_rules(folder)
    return str(info.value)


def test_bundled_rules_load_and_cover_the_required_forms() -> None:
    rules = load_normalize_rules()
    assert isinstance(rules, NormalizeRules)
    codes = {f.code for f in rules.legal_forms}
    assert set(REQUIRED_FORMS) <= codes
    assert {"gmail.com", "yahoo.co.id", "bigpond.net.au", "xtra.co.nz", "telkom.net"} <= set(
        rules.text.freemail_domains
    )
    assert rules.text.country_aliases["england"] == "GB"
    with pytest.raises(ValidationError, match="frozen"):
        rules.text.stop_words = ()


def test_country_that_is_not_a_code(rules_copy: Path) -> None:
    edit(rules_copy, LEGAL_FORMS_FILE, lambda d: d["forms"][3].update(country="Indonesia"))
    message = problems(rules_copy)
    assert message == (
        f'{rules_copy / LEGAL_FORMS_FILE}: forms[3].country is "Indonesia" — expected a '
        "two-letter country code such as ID"
    )


def test_country_in_a_list(rules_copy: Path) -> None:
    edit(rules_copy, LEGAL_FORMS_FILE, lambda d: d["forms"][0].update(country=["ID", "Java"]))
    assert 'forms[0].country[1] is "Java" — expected a two-letter country code' in problems(
        rules_copy
    )


def test_norway_read_as_false_by_yaml(rules_copy: Path) -> None:
    path = rules_copy / LEGAL_FORMS_FILE
    path.write_text("forms:\n  - {code: AS, country: NO, variants: [AS]}\n", encoding="utf-8")
    assert (
        'forms[0].country is false — expected a two-letter country code in quotes, such as "NO"'
        in problems(rules_copy)
    )


def test_every_problem_of_both_files_at_once(rules_copy: Path) -> None:
    def forms(d):
        d["forms"][0]["position"] = "middle"
        d["forms"][1]["variant"] = d["forms"][1].pop("variants")
        d["forms"][2]["code"] = "pty ltd"

    def words(d):
        d["generic_words"]["group"] = "low"
        d["postcodes"]["Indonesia"] = {"digits": 5}
        d["freemail_domains"].append("Gmail")
        d["stop_word"] = ["the"]

    edit(rules_copy, LEGAL_FORMS_FILE, forms)
    edit(rules_copy, NORMALIZE_FILE, words)
    lines = problems(rules_copy).splitlines()
    forms_file, words_file = rules_copy / LEGAL_FORMS_FILE, rules_copy / NORMALIZE_FILE
    expected = [
        f"{forms_file}: forms[0].position is \"middle\" — expected one of 'start', 'end' or "
        "'either'",
        f"{forms_file}: forms[1].variants is missing — it is required",
        f"{forms_file}: forms[1].variant is not a known setting (check its spelling)",
        f'{forms_file}: forms[2].code is "pty ltd" — expected a code in capitals, digits and _ '
        "such as PTY_LTD",
        f'{words_file}: generic_words.group is "low" — expected a number from 0 to 1 such as 0.3 '
        "(1 = as important as any word)",
        f"{words_file}: freemail_domains[{len(load_normalize_rules().text.freemail_domains)}] is "
        '"Gmail" — expected a web domain in lower case such as gmail.com',
        f'{words_file}: postcodes.Indonesia is "Indonesia" — expected a two-letter country code '
        "such as ID",
        f"{words_file}: stop_word is not a known setting (check its spelling)",
    ]
    assert sorted(lines) == sorted(expected)


def test_one_spelling_under_two_codes(rules_copy: Path) -> None:
    edit(rules_copy, LEGAL_FORMS_FILE, lambda d: d["forms"][1]["variants"].append("P.T."))
    assert problems(rules_copy) == (
        f'{rules_copy / LEGAL_FORMS_FILE}: forms[1].variants[2] is "P.T.", which forms[0] '
        "already lists for PT — list each spelling under one code only"
    )


def test_abbreviation_of_several_words(rules_copy: Path) -> None:
    edit(rules_copy, NORMALIZE_FILE, lambda d: d["abbreviations"]["international"].append("int l"))
    assert 'abbreviations.international[5] is "int l" — expected one word' in problems(rules_copy)


def test_street_types_may_be_spelt_in_several_words_but_units_and_short_forms_not(
    rules_copy: Path,
) -> None:
    def change(d: dict) -> None:
        d["street_types"]["letjen"].append("letnan jend")  # fine: a street type's spelling
        d["street_types"]["big road"] = ["hwy"]
        d["unit_types"]["level"].append("lantai dasar")

    edit(rules_copy, NORMALIZE_FILE, change)
    found = problems(rules_copy).splitlines()
    assert [line.split(": ", 1)[1] for line in found] == [
        'street_types has "big road" — expected one word',
        'unit_types.level[9] is "lantai dasar" — expected one word',
    ]


def test_yaml_syntax_error_and_missing_file(rules_copy: Path) -> None:
    (rules_copy / NORMALIZE_FILE).write_text("stop_words: [the, of\n", encoding="utf-8")
    (rules_copy / LEGAL_FORMS_FILE).unlink()
    message = problems(rules_copy)
    assert f"{rules_copy / LEGAL_FORMS_FILE}: file not found" in message
    assert f"{rules_copy / NORMALIZE_FILE}: line" in message and "not valid YAML" in message


def test_top_level_must_be_settings(rules_copy: Path) -> None:
    (rules_copy / LEGAL_FORMS_FILE).write_text("- PT\n- Tbk\n", encoding="utf-8")
    assert "expected settings such as 'forms:' at the top level" in problems(rules_copy)


def test_rules_change_behaviour(rules_copy: Path) -> None:
    import pandas as pd

    from recon.normalize import normalize_names

    edit(rules_copy, NORMALIZE_FILE, lambda d: d["abbreviations"].update(sumber=["smbr"]))
    rules = load_normalize_rules(rules_copy)
    got = normalize_names(pd.Series(["PT Smbr Rejeki"]), None, rules)
    assert got["name_norm"].tolist() == ["sumber rejeki"]
