"""Typed, frozen models of rules/quality.yaml (data-quality checks) and rules/ownership.yaml (which
system owns each field), and their loader.

Both files are validated once, at start-up. Every problem in a file is reported at once, each
naming the file, the key, the bad value and what was expected, so a rule file is fixed in one pass.
Regular expressions are checked with the engine that runs them (RE2, through pyarrow), so a
pattern that would fail mid-run is refused here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from recon.config.messages import read_yaml
from recon.errors import ConfigError
from recon.normalize.rules import Country, describe_errors
from recon.resources import rules_dir as default_rules_dir
from recon.schema import TABLES

QUALITY_FILE = "quality.yaml"
OWNERSHIP_FILE = "ownership.yaml"

Severity = Literal["error", "warning", "info"]
System = Literal["crm", "erp"]
# Fields whose drift between linked records can be measured; see recon.checks.quality.drift.
DriftField = Literal[
    "name",
    "address",
    "city",
    "postcode",
    "country",
    "phone",
    "email",
    "website",
    "domain",
    "tax_id",
    "credit_limit",
    "payment_terms",
]


def _expected(what: str) -> PydanticCustomError:
    return PydanticCustomError("recon_expected", "expected {expected}", {"expected": what})


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _expected("true or false")
    return value


def _whole(low: int, high: int, example: str) -> BeforeValidator:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _expected(f"a whole number from {low} to {high}, such as {example}")
        return value

    return BeforeValidator(check)


def _pattern(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _expected('a regular expression in quotes, such as "^[0-9]{5}$"')
    try:
        pc.match_substring_regex(pa.array([""]), value)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        reason = str(exc).split(":", 1)[-1].strip()
        raise _expected(f"a valid regular expression (RE2 syntax; {reason})") from None
    return value


def _columns(table: str) -> BeforeValidator:
    names = TABLES[table].names

    def check(value: Any) -> str:
        if value not in names:
            raise _expected(f"one of the {table} columns: {', '.join(names)}")
        return str(value)

    return BeforeValidator(check)


Flag = Annotated[bool, BeforeValidator(_flag)]
Pattern = Annotated[str, BeforeValidator(_pattern)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Check(_Frozen):
    """Every check has a severity and can be switched off."""

    severity: Severity
    enabled: Flag = True


class RequiredCheck(Check):
    """Columns that must hold a value (blank or a missing-value word such as "n/a" counts as none)."""

    crm_companies: tuple[Annotated[str, _columns("crm_companies")], ...] = ()
    erp_customers: tuple[Annotated[str, _columns("erp_customers")], ...] = ()
    crm_deals: tuple[Annotated[str, _columns("crm_deals")], ...] = ()


class PatternCheck(Check):
    """A value must match ``pattern`` (anywhere; anchor it with ^ and $)."""

    pattern: Pattern
    expected: str


class NameCapsCheck(Check):
    """Names written in capitals only, counted when they have at least ``min_letters`` letters."""

    min_letters: Annotated[int, _whole(1, 100, "4")]


class StaleCheck(Check):
    """Records not updated in ``months`` months before the as-of date."""

    months: Annotated[int, _whole(1, 1200, "24")]


class PostcodeFormat(_Frozen):
    """One country's postcode: a pattern the whole normalized postcode must match, and an example."""

    pattern: Pattern
    expected: str
    example: str

    @model_validator(mode="after")
    def _example_fits(self) -> PostcodeFormat:
        found = pc.match_substring_regex(pa.array([self.example]), f"^(?:{self.pattern})$")
        if not found[0].as_py():
            raise ValueError(
                f'example "{self.example}" does not match its pattern "{self.pattern}" — '
                "fix one of them"
            )
        return self


class PostcodeCheck(Check):
    formats: dict[Country, PostcodeFormat]


class Checks(_Frozen):
    """The checks of rules/quality.yaml, by name."""

    required: RequiredCheck
    email_syntax: PatternCheck
    website_syntax: PatternCheck
    freemail_domain: Check
    phone_format: Check
    country_unknown: Check
    country_not_iso: Check
    postcode_format: PostcodeCheck
    name_all_caps: NameCapsCheck
    name_legal_form_only: Check
    stale_record: StaleCheck
    won_deal_amount: Check
    # Later checks have defaults: a quality.yaml copied before they existed still loads.
    won_deal_negative: Check = Check(severity="error")
    value_too_long: Check = Check(severity="warning")


class QualityFile(_Frozen):
    checks: Checks


def _owner(value: Any) -> Any:
    """``phone: crm`` is short for ``phone: {owner: crm}``."""
    return {"owner": value} if isinstance(value, str) else value


class FieldOwner(_Frozen):
    owner: System
    severity: Severity | None = None


class OwnershipFile(_Frozen):
    """rules/ownership.yaml: which system owns each field, and how drift is reported."""

    severity: Severity
    report_missing: Flag
    fields: dict[DriftField, Annotated[FieldOwner, BeforeValidator(_owner)]] = Field(
        default_factory=dict
    )

    def severity_of(self, field: str) -> Severity:
        owner = self.fields[field]  # type: ignore[index]
        return owner.severity or self.severity


class QualityRules(_Frozen):
    """Both files, as the quality stage receives them."""

    checks: Checks
    ownership: OwnershipFile


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _known_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The settings the model allows at ``loc`` (the parent of an unknown key), for the message."""
    for part in loc:
        field = model.model_fields.get(str(part))
        target = field.annotation if field else None
        if not (isinstance(target, type) and issubclass(target, BaseModel)):
            return []
        model = target
    return list(model.model_fields)


def _validate(model: type[BaseModel], path: Path, top: str) -> Any:
    data = read_yaml(path)
    shown = _display(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{shown}: expected settings such as '{top}:' at the top level")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = describe_errors(shown, exc)
        for i, err in enumerate(exc.errors(include_url=False)):
            known = _known_keys(model, err["loc"][:-1])
            if err["type"] == "extra_forbidden" and known:
                lines[i] += f" — expected one of {', '.join(known)}"
        raise ConfigError("\n".join(lines)) from None


def _find(folder: Path | None, name: str) -> Path:
    """``folder/name`` when the folder has it, else the bundled file: copy only what you change."""
    if folder is not None and (Path(folder) / name).is_file():
        return Path(folder) / name
    return default_rules_dir() / name


def load_quality_rules(rules_dir: Path | None = None) -> QualityRules:
    """Read and check ``quality.yaml`` and ``ownership.yaml`` (from ``rules_dir`` when there).

    Raises ConfigError naming every problem in both files.
    """
    if rules_dir is not None and not Path(rules_dir).is_dir():
        raise ConfigError(f"{rules_dir}: rules folder not found")
    problems: list[str] = []
    quality: QualityFile | None = None
    ownership: OwnershipFile | None = None
    try:
        quality = _validate(QualityFile, _find(rules_dir, QUALITY_FILE), "checks")
    except ConfigError as exc:
        problems.append(str(exc))
    try:
        ownership = _validate(OwnershipFile, _find(rules_dir, OWNERSHIP_FILE), "fields")
    except ConfigError as exc:
        problems.append(str(exc))
    if problems or quality is None or ownership is None:
        raise ConfigError("\n".join(problems))
    return QualityRules(checks=quality.checks, ownership=ownership)
