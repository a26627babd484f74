"""Typed, frozen model of rules/survivorship.yaml and its loader.

The file says how linked records become entities (``clustering``: the chaining split) and which
record of a system's duplicates is suggested to survive (``survivorship``: rules tried in order,
each one only breaking the ties the previous ones left). It is validated once, at start-up; every
problem in the file is reported at once, naming the key and what was expected.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from recon.config.messages import describe, read_yaml
from recon.errors import ConfigError
from recon.resources import rules_dir as default_rules_dir

SURVIVORSHIP_FILE = "survivorship.yaml"

RuleName = Literal["unmarked", "system_of_record", "linked", "activity", "completeness", "oldest"]
System = Literal["crm", "erp"]
# The normalized keys of a record (``recon.normalize.COLUMNS``) that say something about it;
# ``record_id``, ``system`` and ``name`` are always present and so are not listed.
KeyField = Literal[
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
]


def _share(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(
            f"{value!r} is not a share — expected a number from 0 to 1 such as 0.5 (half)"
        )
    return float(value)


def _pattern(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f'{value!r} — expected a pattern in quotes such as "^C[0-9]+$"')
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f'"{value}" is not a valid pattern ({exc})') from None
    return value


Share = Annotated[float, BeforeValidator(_share)]
Pattern = Annotated[str, BeforeValidator(_pattern)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ClusteringRules(_Frozen):
    """How auto links become entities; see ``recon.match.cluster``.

    ``split_chains`` off makes entities the plain connected components of the auto links (records
    rejected in review are still kept apart). ``min_support`` is the share of record pairs
    between two groups that must be candidate pairs scored auto or review for the groups to merge.
    ``tax_ids_must_agree`` keeps records with different tax ids apart unless a reviewer confirmed
    the link. ``ambiguity_margin_bits``: an ambiguous record keeps its best auto link when that
    link outweighs every rival's by at least this many bits.
    """

    split_chains: bool
    min_support: Share
    tax_ids_must_agree: bool
    ambiguity_margin_bits: Annotated[float, Field(ge=0, le=100)] = 5.0


class SystemRules(_Frozen):
    """Per system: record-id patterns that mark its system-of-record records, best first."""

    system_of_record: tuple[Pattern, ...] = ()


class SurvivorshipRules(_Frozen):
    """Which duplicate of one system in an entity is suggested to survive."""

    order: tuple[RuleName, ...]
    completeness_fields: tuple[KeyField, ...]
    systems: dict[System, SystemRules] = {}

    @field_validator("order")
    @classmethod
    def _each_once(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        twice = sorted({r for r in v if v.count(r) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} is listed more than once — name each rule once")
        return v

    @field_validator("completeness_fields")
    @classmethod
    def _fields_once(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        twice = sorted({f for f in v if v.count(f) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} is listed more than once — name each field once")
        return v

    def patterns(self, system: str) -> tuple[str, ...]:
        """The system-of-record patterns of ``system`` (none when it is not listed)."""
        for name, rules in self.systems.items():
            if name == system:
                return rules.system_of_record
        return ()


class EntityRules(_Frozen):
    """rules/survivorship.yaml: clustering into entities, and the survivor of duplicates."""

    clustering: ClusteringRules
    survivorship: SurvivorshipRules


def load_entity_rules(rules_dir: Path | None = None) -> EntityRules:
    """Read and check ``survivorship.yaml`` from ``rules_dir`` (the bundled rules by default).

    Raises ConfigError naming every problem in the file.
    """
    folder = Path(rules_dir) if rules_dir is not None else default_rules_dir()
    path = folder / SURVIVORSHIP_FILE
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected settings such as 'survivorship:' at the top level")
    try:
        return EntityRules.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe(path, exc)) from None


@functools.cache
def default_entity_rules() -> EntityRules:
    """The bundled rules, read once per process (what a function gets when given ``rules=None``)."""
    return load_entity_rules()
