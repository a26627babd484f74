"""rules/quality.yaml and rules/ownership.yaml: the bundled files load, and every mistake is named
with its file, key, bad value and the valid options, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from recon.config.quality import load_quality_rules
from recon.errors import ConfigError
from recon.resources import rules_dir

SAMPLE_COUNTRIES = ("ID", "AU", "NZ", "US", "GB", "DE")  # recon.sampledata.vocab.COUNTRIES


def test_bundled_rules_load_with_every_check_and_the_sample_countries() -> None:
    from recon.sampledata.vocab import COUNTRIES

    rules = load_quality_rules()
    assert set(COUNTRIES) == set(SAMPLE_COUNTRIES)
    assert set(SAMPLE_COUNTRIES) <= set(rules.checks.postcode_format.formats)
    assert rules.ownership.fields["name"].owner == "erp"
    assert rules.ownership.fields["phone"].owner == "crm"
    assert rules.ownership.severity_of("credit_limit") == "error"
    assert rules.ownership.severity_of("name") == rules.ownership.severity


def _bundled(name: str) -> dict:
    return yaml.safe_load((rules_dir() / name).read_text(encoding="utf-8"))


def _write(folder: Path, name: str, data: dict) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return folder


def _problems(folder: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_quality_rules(folder)
    return str(caught.value).splitlines()


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (
            ("required", "severity"),
            "fatal",
            "checks.required.severity is \"fatal\" — expected one of 'error', 'warning' or 'info'",
        ),
        (
            ("required", "crm_companies"),
            ["nme"],
            'checks.required.crm_companies[0] is "nme" — expected one of the crm_companies columns: company_id, name,',
        ),
        (
            ("email_syntax", "pattern"),
            "(?=a)",
            'checks.email_syntax.pattern is "(?=a)" — expected a valid regular expression (RE2 syntax',
        ),
        (
            ("freemail_domain", "enabled"),
            "maybe",
            'checks.freemail_domain.enabled is "maybe" — expected true or false',
        ),
        (
            ("name_all_caps", "min_letters"),
            "four",
            'checks.name_all_caps.min_letters is "four" — expected a whole number from 1 to 100',
        ),
        (
            ("stale_record", "months"),
            0,
            "checks.stale_record.months is 0 — expected a whole number from 1 to 1200",
        ),
    ],
)
def test_bad_value_names_file_key_value_and_options(
    tmp_path: Path, key: tuple[str, str], value: object, expected: str
) -> None:
    data = _bundled("quality.yaml")
    data["checks"][key[0]][key[1]] = value
    problems = _problems(_write(tmp_path / "rules", "quality.yaml", data))
    assert len(problems) == 1
    assert expected in problems[0]
    assert "quality.yaml: " in problems[0]


def test_unknown_check_lists_the_known_ones(tmp_path: Path) -> None:
    data = _bundled("quality.yaml")
    data["checks"]["stale_recrd"] = {"severity": "info"}
    (line,) = _problems(_write(tmp_path / "rules", "quality.yaml", data))
    assert "checks.stale_recrd is not a known setting" in line
    assert "expected one of required, email_syntax," in line and "won_deal_amount" in line


def test_missing_check_is_named(tmp_path: Path) -> None:
    data = _bundled("quality.yaml")
    del data["checks"]["phone_format"]
    (line,) = _problems(_write(tmp_path / "rules", "quality.yaml", data))
    assert line.endswith("checks.phone_format is missing — it is required")


def test_postcode_country_and_example_are_checked(tmp_path: Path) -> None:
    data = _bundled("quality.yaml")
    formats = data["checks"]["postcode_format"]["formats"]
    formats["XX"] = {"pattern": "[0-9]{4}", "expected": "4 digits", "example": "1234"}
    formats["AU"]["example"] = "20000"
    problems = _problems(_write(tmp_path / "rules", "quality.yaml", data))
    assert any('formats.XX is "XX" — expected a two-letter country code' in p for p in problems)
    assert any(
        'formats.AU: example "20000" does not match its pattern "[0-9]{4}"' in p for p in problems
    )


def test_ownership_mistakes_are_named(tmp_path: Path) -> None:
    data = _bundled("ownership.yaml")
    data["fields"]["phne"] = "crm"
    data["fields"]["name"] = {"owner": "sap"}
    data["report_missing"] = "yes"
    problems = _problems(_write(tmp_path / "rules", "ownership.yaml", data))
    assert len(problems) == 3
    assert any(
        "ownership.yaml: fields.phne is \"phne\" — expected one of 'name', 'address'" in p
        for p in problems
    )
    assert any(
        "fields.name.owner is \"sap\" — expected one of 'crm' or 'erp'" in p for p in problems
    )
    assert any('report_missing is "yes" — expected true or false' in p for p in problems)


def test_problems_in_both_files_are_reported_together(tmp_path: Path) -> None:
    quality = _bundled("quality.yaml")
    quality["checks"]["required"]["severity"] = "high"
    folder = _write(tmp_path / "rules", "quality.yaml", quality)
    _write(
        folder,
        "ownership.yaml",
        {"severity": "warning", "report_missing": True, "fields": {"name": "sap"}},
    )
    problems = _problems(folder)
    assert [p.split(":")[0].rsplit("/", 1)[-1] for p in problems] == [
        "quality.yaml",
        "ownership.yaml",
    ]


def test_folder_without_a_file_uses_the_bundled_one(tmp_path: Path) -> None:
    ownership = _bundled("ownership.yaml")
    ownership["fields"] = {"name": "crm"}
    rules = load_quality_rules(_write(tmp_path / "rules", "ownership.yaml", ownership))
    assert dict(rules.ownership.fields).keys() == {"name"}
    assert rules.checks == load_quality_rules().checks


def test_missing_folder_and_malformed_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="rules folder not found"):
        load_quality_rules(tmp_path / "nowhere")
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "quality.yaml").write_text("checks: [unclosed\n", encoding="utf-8")
    (line,) = _problems(folder)
    assert "quality.yaml" in line and "not valid YAML" in line
