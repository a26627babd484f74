"""Typed, frozen model of rules/blocking.yaml (the blocking passes and their limits) and its loader.

Every number blocking uses lives in the YAML file, so the model has no numeric defaults: a file
that leaves a setting out is reported, naming the file and the key, like any other mistake.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from recon.config.messages import describe, read_yaml
from recon.errors import ConfigError
from recon.resources import rules_dir as default_rules_dir

BLOCKING_FILE = "blocking.yaml"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _whole(low: int, high: int) -> BeforeValidator:
    """A whole number from ``low`` to ``high``; YAML's true/false and "5" in quotes are refused."""

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{_show(value)} is not a whole number from {low} to {high}")
        return value

    return BeforeValidator(check)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{_show(value)} is not true or false")
    return value


Flag = Annotated[bool, BeforeValidator(_flag)]
BlockSize = Annotated[int, _whole(2, 10_000)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KeyPass(_Frozen):
    """Records with the same value of one normalized key are paired (``domain``, ``phone``,
    ``tax_id``). A block of more than ``max_block_size`` records is split by the name prefix
    (see ``BlockingRules.split_prefix``) or, when still too big, skipped and logged."""

    enabled: Flag = True
    max_block_size: BlockSize


class AddressPass(_Frozen):
    """Records with the same street line (``address_norm``) whose names start with the same
    ``name_prefix`` letters are paired (0: the same street line, whatever the names); a block of more than ``max_block_size`` is split by the longer name prefix of
    ``split_prefix``, as the key passes are."""

    enabled: Flag = True
    name_prefix: Annotated[int, _whole(0, 20)] = 2
    max_block_size: BlockSize = 8


class XrefPass(_Frozen):
    """A record whose ``ref_id`` names a record of the other system is paired with it."""

    enabled: Flag = True


class RareTokenPass(_Frozen):
    """Records sharing a word of ``name_core`` that at most ``max_frequency`` records use, or
    (``max_in_postcode`` above 0) that at most that many records of one postcode use."""

    enabled: Flag = True
    max_frequency: BlockSize
    min_length: Annotated[int, _whole(1, 20)]
    max_in_postcode: Annotated[int, _whole(0, 1000)] = 0


class PostcodePrefixPass(_Frozen):
    """Same ``postcode_norm`` and the same first ``prefix_length`` characters of ``name_core``."""

    enabled: Flag = True
    prefix_length: Annotated[int, _whole(1, 20)]
    max_block_size: BlockSize


class MinHashRules(_Frozen):
    """MinHash LSH on character n-grams of ``name_core``: ``bands`` × ``rows`` hash functions;
    two names are paired when all ``rows`` minima of any band agree. Buckets of more than
    ``max_bucket_size`` names are skipped. ``seed`` fixes the hash functions."""

    enabled: Flag = True
    ngram: Annotated[int, _whole(2, 4)]
    bands: Annotated[int, _whole(1, 200)]
    rows: Annotated[int, _whole(1, 20)]
    max_bucket_size: BlockSize
    seed: Annotated[int, _whole(0, 2**63 - 1)]


class WordRules(_Frozen):
    """Names differing in one word: the two words one edit apart (both at least
    ``min_typo_length`` letters), or one beginning the other and used by fewer records (at least
    ``min_abbreviation_length`` letters, beginning at most ``max_block_size`` such words), or one
    name having an extra word that at most ``max_extra_word_frequency`` records use."""

    enabled: Flag = True
    min_typo_length: Annotated[int, _whole(1, 100)]
    min_abbreviation_length: Annotated[int, _whole(1, 100)]
    max_extra_word_frequency: Annotated[int, _whole(1, 1_000_000)]
    max_block_size: BlockSize


class FuzzyPass(_Frozen):
    """Names alike despite typing slips: the same ``name_core`` spelled loosely (a name carried
    by more than ``max_block_size`` records is split by ``name_norm``), names differing in one
    word (``words``) and MinHash LSH (``minhash``)."""

    enabled: Flag = True
    max_block_size: BlockSize
    words: WordRules
    minhash: MinHashRules


class OrdersPass(_Frozen):
    """CRM companies and ERP customers whose won deals and orders coincide (same amount, the
    order shortly after the close) at least ``min_coincidences`` times: a trade name unrelated
    to the legal name still meets its customer. Only where deals and orders were loaded."""

    enabled: Flag = True
    min_coincidences: Annotated[int, _whole(1, 100)] = 2


class BlockingRules(_Frozen):
    """rules/blocking.yaml: each pass proposes candidate pairs; the candidates are their union."""

    split_prefix: Annotated[int, _whole(0, 20)]
    domain: KeyPass
    phone: KeyPass
    tax_id: KeyPass
    xref: XrefPass
    rare_token: RareTokenPass
    postcode_prefix: PostcodePrefixPass
    fuzzy: FuzzyPass
    # Added after the first release: a rules file without them gets the default.
    address: AddressPass = AddressPass()
    orders: OrdersPass = OrdersPass()

    @model_validator(mode="after")
    def _something_on(self) -> BlockingRules:
        if not any(getattr(self, name).enabled for name in PASS_NAMES):
            raise ValueError("every pass is switched off — enable at least one")
        return self


PASS_NAMES = (
    "domain",
    "phone",
    "tax_id",
    "xref",
    "rare_token",
    "postcode_prefix",
    "fuzzy",
    "address",
    "orders",
)


def _display(path: Path) -> str:
    """The file as a user would type it: relative to the working folder when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_blocking_rules(rules_dir: Path | None = None) -> BlockingRules:
    """Read and check ``blocking.yaml`` from ``rules_dir`` (the bundled rules when None).

    Raises ConfigError naming the file, and every bad or missing key with what was expected.
    """
    folder = Path(rules_dir) if rules_dir is not None else default_rules_dir()
    path = folder / BLOCKING_FILE
    shown = _display(path)
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{shown}: expected settings such as 'domain:' at the top level")
    try:
        return BlockingRules.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe(shown, exc)) from None


@functools.cache
def default_blocking_rules() -> BlockingRules:
    """The bundled rules, read once per process."""
    return load_blocking_rules()
