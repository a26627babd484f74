"""Typed, frozen models of rules/legal_forms.yaml and rules/normalize.yaml, and their loader.

The YAML is validated once, here; every problem in a file is collected and reported at once, each
naming the file, the key and what was expected, so a finance user can fix a rule file in one pass.
The matchers built from these rules (regular expressions, token maps) live next to the code that
uses them (``names.py``, ``addresses.py``, ...), because they need the same text folding.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from recon.config.messages import read_yaml
from recon.errors import ConfigError
from recon.normalize.countries import ISO_ALPHA2
from recon.resources import rules_dir as default_rules_dir

LEGAL_FORMS_FILE = "legal_forms.yaml"
NORMALIZE_FILE = "normalize.yaml"

_COUNTRY_EXPECTED = "a two-letter country code such as ID"


def _expected(what: str) -> PydanticCustomError:
    """An error that the message formatter renders as ``key is "value" — expected <what>``."""
    return PydanticCustomError("recon_expected", "expected {expected}", {"expected": what})


_YAML_BOOL = ' in quotes, such as "NO" (YAML reads a bare NO, No, Yes, On or Off as true or false)'


def _check_country(value: Any) -> str:
    if isinstance(value, bool):
        raise _expected("a two-letter country code" + _YAML_BOOL)
    if not isinstance(value, str) or value.strip().upper() not in ISO_ALPHA2:
        raise _expected(_COUNTRY_EXPECTED)
    return value.strip().upper()


def _check_word(value: Any) -> str:
    if isinstance(value, bool):
        raise _expected("a word" + _YAML_BOOL)
    if not isinstance(value, str) or not value.strip():
        raise _expected('a word or phrase in quotes, such as "Pty Ltd"')
    return value.strip()


def _check_code(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z][A-Z0-9_]*", value):
        raise _expected("a code in capitals, digits and _ such as PTY_LTD")
    return value


def _check_weight(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise _expected("a number from 0 to 1 such as 0.3 (1 = as important as any word)")
    return float(value)


def _check_domain(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", value.strip()):
        raise _expected("a web domain in lower case such as gmail.com")
    return value.strip()


def _one_or_many(value: Any) -> Any:
    """Let a single value stand for a list of one, so ``country: ID`` and ``[ID, NL]`` both work.

    A single value is checked here so that a mistake is reported at ``forms[3].country`` itself.
    """
    if isinstance(value, str | bool):
        return (_check_country(value),)
    return value


Country = Annotated[str, BeforeValidator(_check_country)]
Word = Annotated[str, BeforeValidator(_check_word)]
Code = Annotated[str, BeforeValidator(_check_code)]
Weight = Annotated[float, BeforeValidator(_check_weight)]
Domain = Annotated[str, BeforeValidator(_check_domain)]
Words = tuple[Word, ...]


def _non_empty(value: tuple[Any, ...]) -> tuple[Any, ...]:
    if not value:
        raise _expected("at least one entry")
    return value


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LegalForm(_Frozen):
    """One legal form: its code, its spellings, where in a name it may stand, and its countries.

    ``only_in_country`` keeps a short, word-like form (``AG`` in "Midwest Ag", ``CV``, ``NV``) from
    being removed from names of other countries; a record without a country still has it removed.
    """

    code: Code
    country: Annotated[tuple[Country, ...], BeforeValidator(_one_or_many)]
    variants: Annotated[Words, AfterValidator(_non_empty)]
    position: Literal["start", "end", "either"] = "end"
    only_in_country: bool = False


class LegalFormsFile(_Frozen):
    forms: Annotated[tuple[LegalForm, ...], AfterValidator(_non_empty)]


class PostcodeRule(_Frozen):
    """A country whose postcodes are all digits of one length (zeros Excel dropped are restored)."""

    digits: int = Field(ge=3, le=10)


class TaxIdRules(_Frozen):
    """How tax identifiers are compared; see ``frame.normalize_tax_ids``."""

    vat_prefixes: dict[Country, Annotated[Word, AfterValidator(str.upper)]] = Field(
        default_factory=dict
    )
    labels: Words = ()


def _check_currency(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{3}", value.strip()):
        raise _expected("a three-letter currency code such as USD")
    return value.strip().upper()


Currency = Annotated[str, BeforeValidator(_check_currency)]


class DuplicateMarkers(_Frozen):
    """What users add to a name to mark a record as a copy or retired; see ``name_parts.py``.

    ``words`` are markers in brackets or asterisks anywhere ("(OLD)", "*DUPLICATE*") or set off
    by a dash or colon at the start or end ("OLD - Acme", "Acme - CLOSED"); ``start_words`` are
    markers also as a plain first word before more words ("ZZ Acme"), ``end_words`` as a plain
    last word ("Acme Pty Ltd DUPLICATE"). A copy number of up to ``number_digits`` digits in
    brackets, after "#" or after a dash at the end, and a currency code in brackets, are markers
    too. A name that begins or ends with one of ``not_markers`` keeps it ("ZZ Top ...").
    """

    words: Words = ()
    start_words: Words = ()
    end_words: Words = ()
    number_digits: int = Field(default=2, ge=0, le=3)
    currencies: tuple[Currency, ...] = ()
    not_markers: Words = ()


class SecondNames(_Frozen):
    """Words that join a second name to a company's name: "X T/A Y", "X ATF Y", "X (formerly Y)"."""

    connectors: Words = ()


class NormalizeFile(_Frozen):
    """rules/normalize.yaml: word lists for names, domains, addresses and countries."""

    missing_values: Words = ()
    abbreviations: dict[Word, Words] = Field(default_factory=dict)
    stop_words: Words = ()
    generic_words: dict[Word, Weight] = Field(default_factory=dict)
    freemail_domains: tuple[Domain, ...] = ()
    generic_country_domains: Words = ()
    street_types: dict[Word, Words] = Field(default_factory=dict)
    street_suffixes: dict[Word, Words] = Field(default_factory=dict)
    unit_types: dict[Word, Words] = Field(default_factory=dict)
    number_markers: Words = ()
    city_aliases: dict[Word, Word] = Field(default_factory=dict)
    city_prefixes: Words = ()
    country_aliases: dict[Word, Country] = Field(default_factory=dict)
    postcodes: dict[Country, PostcodeRule] = Field(default_factory=dict)
    tax_ids: TaxIdRules = TaxIdRules()
    duplicate_markers: DuplicateMarkers = DuplicateMarkers()
    second_names: SecondNames = SecondNames()


class NormalizeRules(_Frozen):
    """Both rule files, as every normalizer receives them."""

    legal_forms: tuple[LegalForm, ...]
    text: NormalizeFile


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return repr(value)


_PLAIN = {
    "float_parsing": "a number such as 0.5",
    "int_parsing": "a whole number such as 5",
    "int_from_float": "a whole number such as 5",
    "greater_than_equal": "a larger number",
    "less_than_equal": "a smaller number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "text",
    "dict_type": "a mapping of names to values",
    "list_type": "a list",
    "tuple_type": "a list",
    "model_type": "a mapping of settings",
    "model_attributes_type": "a mapping of settings",
}


def key_path(loc: tuple[int | str, ...]) -> str:
    """``forms[3].country``; a key YAML read as true/false is shown as YAML would write it."""
    out = ""
    for part in loc:
        if isinstance(part, bool):
            out += ("." if out else "") + str(part).lower()
        elif isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def describe_errors(file: str, exc: ValidationError) -> list[str]:
    """One plain sentence per problem: ``file: key is "value" — expected ...``."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if p not in ("function-after", "function-before"))
        # A bad mapping key is reported by pydantic at ``key.[key]``; name the key once.
        if len(loc) >= 2 and loc[-1] == "[key]":
            loc = loc[:-1]
        path = key_path(loc)
        kind = err["type"]
        ctx = err.get("ctx") or {}
        if kind == "missing":
            lines.append(f"{file}: {path} is missing — it is required")
        elif kind == "extra_forbidden":
            lines.append(f"{file}: {path} is not a known setting (check its spelling)")
        elif kind == "literal_error":
            lines.append(
                f"{file}: {path} is {_show(err['input'])} — expected one of {ctx.get('expected')}"
            )
        elif "expected" in ctx and kind == "recon_expected":
            lines.append(f"{file}: {path} is {_show(err['input'])} — expected {ctx['expected']}")
        elif kind in _PLAIN:
            lines.append(f"{file}: {path} is {_show(err['input'])} — expected {_PLAIN[kind]}")
        else:
            lines.append(f"{file}: {path}: {err['msg'].removeprefix('Value error, ')}")
    return lines


def _fold_key(text: str) -> str:
    """A rough comparison key for spotting the same spelling listed twice (``P.T.`` and ``PT``)."""
    return re.sub(r"[^0-9a-zà-ÿ]+", "", text.casefold())


def _legal_form_problems(file: str, forms: tuple[LegalForm, ...]) -> list[str]:
    problems = []
    seen: dict[str, tuple[int, str]] = {}
    for i, form in enumerate(forms):
        for j, variant in enumerate(form.variants):
            key = _fold_key(variant)
            if not key:
                problems.append(
                    f'{file}: forms[{i}].variants[{j}] is "{variant}" — expected letters, '
                    "not only punctuation"
                )
            elif key in seen and seen[key][1] != form.code:
                first, code = seen[key]
                problems.append(
                    f'{file}: forms[{i}].variants[{j}] is "{variant}", which forms[{first}] '
                    f"already lists for {code} — list each spelling under one code only"
                )
            else:
                seen.setdefault(key, (i, form.code))
    return problems


def _normalize_problems(file: str, text: NormalizeFile) -> list[str]:
    problems = []
    canon = {_fold_key(k): k for k in text.abbreviations}
    for target, spellings in text.abbreviations.items():
        for j, spelling in enumerate(spellings):
            if " " in spelling.strip():
                problems.append(
                    f'{file}: abbreviations.{target}[{j}] is "{spelling}" — expected one word '
                    "(write Int'l, not Int l)"
                )
            if _fold_key(spelling) in canon and canon[_fold_key(spelling)] != target:
                problems.append(
                    f'{file}: abbreviations.{target}[{j}] is "{spelling}", which is itself '
                    "a full word under abbreviations — a word can be one or the other"
                )
    # Markers and connectors are found in the name as typed, so each needs letters or digits.
    lists = {
        "duplicate_markers.words": text.duplicate_markers.words,
        "duplicate_markers.start_words": text.duplicate_markers.start_words,
        "duplicate_markers.end_words": text.duplicate_markers.end_words,
        "second_names.connectors": text.second_names.connectors,
    }
    for key, words in lists.items():
        for j, word in enumerate(words):
            if not _fold_key(word):
                problems.append(
                    f'{file}: {key}[{j}] is "{word}" — expected letters or digits, '
                    "not only punctuation"
                )
    # A street type may be spelt in several words ("letnan jenderal" = letjen); its short
    # form, and every unit marker, is one word.
    for target in text.street_types:
        if " " in target.strip():
            problems.append(f'{file}: street_types has "{target}" — expected one word')
    for target, spellings in text.unit_types.items():
        for j, spelling in enumerate(spellings):
            if " " in spelling.strip():
                problems.append(
                    f'{file}: unit_types.{target}[{j}] is "{spelling}" — expected one word'
                )
    return problems


def _display(path: Path) -> str:
    """The file as a user would type it: relative to the working folder when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _validate(model: type[BaseModel], path: Path, expected_top: str) -> Any:
    data = read_yaml(path)
    shown = _display(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{shown}: expected settings such as '{expected_top}:' at the top level")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("\n".join(describe_errors(shown, exc))) from None


def load_normalize_rules(rules_dir: Path | None = None) -> NormalizeRules:
    """Read and check ``legal_forms.yaml`` and ``normalize.yaml`` from ``rules_dir``.

    Raises ConfigError naming every problem found, file by file.
    """
    folder = Path(rules_dir) if rules_dir is not None else default_rules_dir()
    forms_path, text_path = folder / LEGAL_FORMS_FILE, folder / NORMALIZE_FILE
    problems: list[str] = []
    forms: LegalFormsFile | None = None
    text: NormalizeFile | None = None
    try:
        forms = _validate(LegalFormsFile, forms_path, "forms")
    except ConfigError as exc:
        problems.append(str(exc))
    try:
        text = _validate(NormalizeFile, text_path, "abbreviations")
    except ConfigError as exc:
        problems.append(str(exc))
    if forms is not None:
        problems += _legal_form_problems(_display(forms_path), forms.forms)
    if text is not None:
        problems += _normalize_problems(_display(text_path), text)
    if problems or forms is None or text is None:
        raise ConfigError("\n".join(problems))
    return NormalizeRules(legal_forms=forms.forms, text=text)


@functools.cache
def default_rules() -> NormalizeRules:
    """The bundled rules, read once per process (what a function gets when given ``rules=None``)."""
    return load_normalize_rules()
