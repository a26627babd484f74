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
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from recon.config.messages import describe, read_yaml
from recon.errors import ConfigError
from recon.resources import rules_dir as default_rules_dir

MATCHING_FILE = "matching.yaml"

FieldName = Literal[
    "name",
    "descriptor",
    "domain",
    "phone",
    "tax_id",
    "postcode",
    "city",
    "country",
    "address",
    "street_number",
    "unit",
    "legal_form",
    "xref",
]
# Fields compared by similarity: levels are [exact, one per threshold..., else].
FUZZY_FIELDS = frozenset({"name", "address", "city"})
Scorer = Literal["ratio", "token_sort_ratio", "token_set_ratio", "jaro_winkler"]


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value)


def _number(
    low: float,
    high: float,
    *,
    whole: bool = False,
    low_in: bool = False,
    high_in: bool = False,
    expected: str,
) -> Callable[[Any], float | int]:
    """A check that reads ``key is "five" — expected ...`` (the loader drops the colon pydantic
    puts after the key)."""

    def check(value: Any) -> float | int:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and whole:
            ok = float(value).is_integer()
        if ok:
            ok = (low <= value if low_in else low < value) and (
                value <= high if high_in else value < high
            )
        if not ok:
            raise ValueError(f"is {_shown(value)} — expected {expected}")
        return int(value) if whole else float(value)

    return check


Probability = Annotated[
    float,
    BeforeValidator(
        _number(0, 1, expected="a probability between 0 and 1 (not 0 or 1), such as 0.9")
    ),
]
Similarity = Annotated[
    float,
    BeforeValidator(
        _number(0, 1, high_in=True, expected="a similarity above 0, at most 1, such as 0.88")
    ),
]
Bits = Annotated[
    float, BeforeValidator(_number(0, 1000, expected="a number of bits above 0, such as 2"))
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Level(_Frozen):
    """One comparison level. ``min_similarity`` only on the middle levels of a fuzzy field.

    ``reason`` is how the level reads in a pair's reasons: ``{value}`` is the left record's
    value, ``{pct}`` the similarity in percent; an empty reason leaves the field out.
    """

    label: str
    m: Probability
    min_similarity: Similarity | None = None
    rule: Literal["short_form"] | None = None
    reason: str = ""


class Comparison(_Frozen):
    """How one field is compared: its levels, best first, and for fuzzy fields the scorers."""

    levels: tuple[Level, ...]
    scorers: tuple[Scorer, ...] = ()
    conditional_on: tuple[FieldName, ...] = ()
    weight_limit: Bits | None = None

    def thresholds(self) -> tuple[float, ...]:
        """Similarity thresholds of the middle levels, highest first."""
        return tuple(lv.min_similarity for lv in self.levels[1:-1] if lv.min_similarity)

    @property
    def rule(self) -> str | None:
        """The rule of the level just above the last one (see ``Level.rule``), if any."""
        return self.levels[-2].rule if len(self.levels) > 2 else None


class Prior(_Frozen):
    matches_per_record: Annotated[
        float,
        BeforeValidator(_number(0, 100, high_in=True, expected="a number above 0 such as 0.7")),
    ]


class EmSettings(_Frozen):
    max_iterations: Annotated[
        int,
        BeforeValidator(
            _number(
                0,
                1000,
                whole=True,
                low_in=True,
                high_in=True,
                expected="a whole number from 0 to 1000 such as 10",
            )
        ),
    ] = 10
    tolerance: Probability = 1e-4
    probability_floor: Annotated[
        float,
        BeforeValidator(_number(0, 0.01, expected="a small probability such as 1.0e-6")),
    ] = 1e-6


class USampling(_Frozen):
    pairs: Annotated[
        int,
        BeforeValidator(
            _number(
                1000,
                50_000_000,
                whole=True,
                low_in=True,
                high_in=True,
                expected="a whole number from 1000 to 50000000 such as 2000000",
            )
        ),
    ] = 2_000_000


class TermFrequency(_Frozen):
    weight: Annotated[
        float,
        BeforeValidator(
            _number(0, 1, low_in=True, high_in=True, expected="a number from 0 to 1 such as 1")
        ),
    ] = 1.0
    min_u: Probability = 1e-8


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


class OrderEvidence(_Frozen):
    """Won deals and orders that coincide, as evidence of a CRM–ERP link (see
    ``recon.match.order_evidence``): on or off, and the most bits it may add or take away."""

    enabled: bool = True
    weight_limit: Bits = 15.0


class MatchingRules(_Frozen):
    """rules/matching.yaml."""

    prior: Prior
    thresholds: Thresholds
    em: EmSettings = EmSettings()
    u_sampling: USampling = USampling()
    term_frequency: dict[Literal["name", "domain"], TermFrequency] = Field(default_factory=dict)
    comparisons: dict[FieldName, Comparison]
    orders: OrderEvidence = OrderEvidence()

    @model_validator(mode="after")
    def _levels_fit_fields(self) -> MatchingRules:
        problems = []
        for field, comp in self.comparisons.items():
            problems += _level_problems(field, comp)
            for other in comp.conditional_on:
                if other not in self.comparisons or other == field:
                    problems.append(
                        f"comparisons.{field}.conditional_on names {other}, which is not "
                        "another compared field"
                    )
                elif field in self.comparisons[other].conditional_on:
                    problems.append(
                        f"comparisons.{field}.conditional_on names {other}, which is itself "
                        f"conditional on {field} — one of the two must go"
                    )
        for field in self.term_frequency:
            if field not in self.comparisons:
                problems.append(f"term_frequency.{field}: {field} is not compared")
        if not self.comparisons:
            problems.append("comparisons is empty — list at least one field")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def by_field(self) -> dict[str, Comparison]:
        """The comparisons by field name, in the order of the file."""
        return {str(name): comp for name, comp in self.comparisons.items()}

    @property
    def tf_by_field(self) -> dict[str, TermFrequency]:
        """The term-frequency settings by field name."""
        return {str(name): tf for name, tf in self.term_frequency.items()}

    def levels(self, field: str) -> int:
        """How many levels the comparison of ``field`` has."""
        return len(self.by_field[field].levels)


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
        if lv.rule is not None:
            if field != "name" or i != n - 2:
                problems.append(
                    f"{where}.levels[{i}].rule is only for name, on the level just above the last"
                )
            if lv.min_similarity is not None:
                problems.append(f"{where}.levels[{i}] has both rule and min_similarity — one only")
        elif lv.min_similarity is None:
            problems.append(f"{where}.levels[{i}].min_similarity is missing — it is required")
    for i in (0, n - 1):
        if n and comp.levels[i].rule is not None:
            problems.append(f"{where}.levels[{i}].rule is only for a middle level")
    for i in (0, n - 1):
        if n and comp.levels[i].min_similarity is not None:
            problems.append(
                f"{where}.levels[{i}] has min_similarity — the first level is exact and the "
                "last takes every other pair"
            )
    shown = [lv.min_similarity for lv in middle if lv.min_similarity is not None]
    if any(a <= b for a, b in itertools.pairwise(shown)):
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
        prefix = f"{path}: "
        lines = [
            ln if ln.startswith(prefix) else prefix + ln for ln in describe(path, exc).splitlines()
        ]
        # our checks say "is X — expected ...": read "key is X", not "key: is X"
        text = "\n".join(ln.replace(": is ", " is ", 1) for ln in lines)
        raise ConfigError(text) from None


@functools.cache
def default_matching_rules() -> MatchingRules:
    """The bundled rules/matching.yaml, read once per process."""
    return load_matching_rules()
