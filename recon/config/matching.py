"""Typed, frozen models of rules/matching.yaml (comparison levels, priors, EM, thresholds) and
their loader.

The file is validated once, at start-up; ``compare`` and ``score`` receive a ``MatchingRules``
object only. Every problem in the file is reported at once, each naming the file and the key.

Which record columns a field compares, and how, is fixed in ``recon.match.compare`` (``FIELDS``);
the file decides which fields take part, their levels and similarity thresholds, the starting
m probabilities for EM, and how a level reads in a pair's reasons.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from recon.config.messages import describe, read_yaml
from recon.errors import ConfigError
from recon.resources import rules_dir as default_rules_dir

MATCHING_FILE = "matching.yaml"

FieldName = Literal[
    "name",
    "domain",
    "phone",
    "tax_id",
    "postcode",
    "city",
    "country",
    "address",
    "street_number",
    "legal_form",
    "xref",
]
# Fields compared by similarity: levels are [exact, one per threshold..., else].
FUZZY_FIELDS = frozenset({"name", "address", "city"})
Scorer = Literal["ratio", "token_sort_ratio", "token_set_ratio", "jaro_winkler"]

Probability = Annotated[float, Field(gt=0, lt=1)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Level(_Frozen):
    """One comparison level. ``min_similarity`` only on the middle levels of a fuzzy field.

    ``reason`` is how the level reads in a pair's reasons: ``{value}`` is the left record's
    value, ``{pct}`` the similarity in percent; an empty reason leaves the field out.
    """

    label: str
    m: Probability
    min_similarity: Annotated[float, Field(gt=0, le=1)] | None = None
    reason: str = ""


class Comparison(_Frozen):
    """How one field is compared: its levels, best first, and for fuzzy fields the scorers."""

    levels: tuple[Level, ...]
    scorers: tuple[Scorer, ...] = ()
    ignore_when_same: tuple[FieldName, ...] = ()
    weight_limit: Annotated[float, Field(gt=0)] | None = None

    def thresholds(self) -> tuple[float, ...]:
        """Similarity thresholds of the middle levels, highest first."""
        return tuple(lv.min_similarity for lv in self.levels[1:-1] if lv.min_similarity)


class Prior(_Frozen):
    matches_per_record: Annotated[float, Field(gt=0, le=100)]


class EmSettings(_Frozen):
    max_iterations: Annotated[int, Field(ge=0, le=1000)] = 10
    tolerance: Annotated[float, Field(gt=0, lt=1)] = 1e-4
    probability_floor: Annotated[float, Field(gt=0, lt=0.01)] = 1e-6


class USampling(_Frozen):
    pairs: Annotated[int, Field(ge=1000, le=50_000_000)] = 2_000_000


class TermFrequency(_Frozen):
    weight: Annotated[float, Field(ge=0, le=1)] = 1.0
    min_u: Annotated[float, Field(gt=0, lt=1)] = 1e-8


class Thresholds(_Frozen):
    auto: Probability
    review: Probability

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.review > self.auto:
            raise ValueError(
                f"review ({self.review}) is above auto ({self.auto}) — review must be at or "
                "below auto"
            )
        return self


class MatchingRules(_Frozen):
    """rules/matching.yaml."""

    prior: Prior
    thresholds: Thresholds
    em: EmSettings = EmSettings()
    u_sampling: USampling = USampling()
    term_frequency: dict[Literal["name", "domain"], TermFrequency] = Field(default_factory=dict)
    comparisons: dict[FieldName, Comparison]

    @model_validator(mode="after")
    def _levels_fit_fields(self) -> MatchingRules:
        problems = []
        for field, comp in self.comparisons.items():
            problems += _level_problems(field, comp)
            for other in comp.ignore_when_same:
                if other not in self.comparisons or other == field:
                    problems.append(
                        f"comparisons.{field}.ignore_when_same names {other}, which is not "
                        "another compared field"
                    )
        for field in self.term_frequency:
            if field not in self.comparisons:
                problems.append(f"term_frequency.{field}: {field} is not compared")
        if not self.comparisons:
            problems.append("comparisons is empty — list at least one field")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def levels(self, field: str) -> int:
        return len(self.comparisons[field].levels)


def _level_problems(field: str, comp: Comparison) -> list[str]:
    where = f"comparisons.{field}"
    n = len(comp.levels)
    if field not in FUZZY_FIELDS:
        problems = []
        if n != 2:
            problems.append(f"{where}.levels has {n} levels — expected 2 (agree, then disagree)")
        if any(lv.min_similarity is not None for lv in comp.levels):
            problems.append(f"{where}.levels: min_similarity is only for name, address and city")
        if comp.scorers:
            problems.append(f"{where}.scorers: scorers are only for name, address and city")
        return problems
    problems = []
    if n < 2:
        problems.append(f"{where}.levels has {n} levels — expected exact, ..., else")
    if not comp.scorers and n > 2:
        problems.append(f"{where}.scorers is empty — name at least one, such as ratio")
    middle = comp.levels[1:-1]
    for i, lv in enumerate(middle, start=1):
        if lv.min_similarity is None:
            problems.append(f"{where}.levels[{i}].min_similarity is missing — it is required")
    for i in (0, n - 1):
        if n and comp.levels[i].min_similarity is not None:
            problems.append(
                f"{where}.levels[{i}] has min_similarity — the first level is exact and the "
                "last takes every other pair"
            )
    shown = [lv.min_similarity for lv in middle if lv.min_similarity is not None]
    if any(a <= b for a, b in zip(shown, shown[1:], strict=False)):
        problems.append(f"{where}.levels: min_similarity must fall from level to level")
    return problems


def load_matching_rules(path: Path | None = None) -> MatchingRules:
    """Read and check ``matching.yaml`` (the bundled one by default); ConfigError on problems."""
    path = Path(path) if path is not None else default_rules_dir() / MATCHING_FILE
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected settings such as 'comparisons:' at the top level")
    try:
        return MatchingRules.model_validate(data)
    except ValidationError as exc:
        # A check across fields reports several problems in one error: one line, one file name.
        lines = describe(path, exc).splitlines()
        prefix = f"{path}: "
        text = "\n".join(ln if ln.startswith(prefix) else prefix + ln for ln in lines)
        raise ConfigError(text) from None


@functools.cache
def default_matching_rules() -> MatchingRules:
    """The bundled rules/matching.yaml, read once per process."""
    return load_matching_rules()
