"""Source presets: which vendor export headers hold which canonical column, and applying them.

A preset is one file per (vendor export, canonical table) in ``rules/sources/``, named after the
preset: ``hubspot_deals.yaml`` maps a HubSpot deals export onto ``crm_deals``. The file holds a
:class:`~recon.config.models.Preset` (name, title, table, columns, transforms, stage and status
values, csv and date defaults, notes).

``canonical`` is not a file: it is built from :data:`recon.schema.TABLES` for whichever table asks,
mapping every canonical column to a header of the same name, so a folder of ``crm_deals.csv`` files
written with the canonical names needs no preset at all. ``rules/sources/canonical.yaml`` only
documents this and is never parsed.

:func:`apply_preset` turns a raw chunk (source headers, text values, ``_row``) into a mapped chunk:
the table's canonical columns in schema order, still text, with the recon.yaml ``columns:``
overrides winning over the preset and the preset's transforms applied. Headers match ignoring
case, surrounding and repeated inner whitespace and a UTF-8 byte-order mark.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from recon import resources
from recon.config.messages import describe, read_yaml
from recon.config.models import Preset, Transform
from recon.errors import ConfigError, SourceError
from recon.extract.files import NO_HEADER, shown_name
from recon.extract.ids import salesforce_id18
from recon.schema import TABLES, TEXT_DTYPE, TableSpec

log = logging.getLogger(__name__)

CANONICAL = "canonical"
_NAME = re.compile(r"[a-z0-9][a-z0-9_]*")
_PASS_THROUGH = ("_row", "_error")  # raw-chunk columns that are not source data
_MAX_LISTED = 8  # columns named in a "columns found" message before it is cut short


@dataclass(frozen=True)
class MappedChunk:
    """A raw chunk mapped onto one canonical table.

    ``frame`` holds every canonical column of the table in schema order (text, NA where missing)
    plus ``_row`` (and ``_error`` when the raw chunk had one). ``mapping`` says which source header
    fed each canonical column; ``unused_columns`` are source headers no canonical column took.
    """

    frame: pd.DataFrame
    missing_optional: tuple[str, ...]
    mapping: dict[str, str]
    unused_columns: tuple[str, ...]


# --- loading ------------------------------------------------------------------------------------


def _sources_dir(rules_dir: Path | None) -> Path:
    return (rules_dir if rules_dir is not None else resources.rules_dir()) / "sources"


def _preset_files(rules_dir: Path | None) -> dict[str, Path]:
    folder = _sources_dir(rules_dir)
    if not folder.is_dir():
        return {}
    return {
        p.stem: p
        for p in sorted(folder.glob("*.yaml"))
        if p.is_file() and p.stem != CANONICAL and _NAME.fullmatch(p.stem)
    }


def _table_of(path: Path) -> str | None:
    """The ``table:`` a preset file declares, or None when the file cannot be read as a mapping."""
    try:
        data = read_yaml(path)
    except ConfigError:
        return None
    table = data.get("table") if isinstance(data, dict) else None
    return table if isinstance(table, str) else None


def known_presets(rules_dir: Path | None = None, *, table: str | None = None) -> list[str]:
    """Names of the available presets, ``canonical`` first; only those for ``table`` if given."""
    files = _preset_files(rules_dir)
    names = [n for n, p in files.items() if table is None or _table_of(p) == table]
    return [CANONICAL, *sorted(names)]


def canonical_preset(table: str) -> Preset:
    """The identity preset: every canonical column of ``table`` read from a header of its name."""
    spec = _spec(table)
    return Preset(
        name=CANONICAL,
        title=f"Canonical column names for {table}",
        table=table,
        columns={c: (c,) for c in spec.names},
        notes="Built in: each column is read from a header with the canonical name.",
    )


def load_preset(name: str, table: str, rules_dir: Path | None = None) -> Preset:
    """Load and validate the preset ``name`` for ``table``; every problem is a ConfigError."""
    spec = _spec(table)
    if name == CANONICAL:
        return canonical_preset(table)
    path = _preset_files(rules_dir).get(name)
    if path is None:
        known = ", ".join(known_presets(rules_dir, table=table))
        raise ConfigError(
            f"unknown preset '{name}' for {table}; known presets for {table}: {known}"
        )
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a preset with name, title, table and columns at the top level"
        )
    try:
        preset = Preset.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe(path, exc)) from None
    _check_preset(preset, path, name, spec, rules_dir)
    log.debug("preset %s for %s loaded from %s", name, table, path)
    return preset


def _spec(table: str) -> TableSpec:
    if table not in TABLES:
        raise ConfigError(f"unknown table '{table}'; known tables: {', '.join(TABLES)}")
    return TABLES[table]


def _check_preset(
    preset: Preset, path: Path, name: str, spec: TableSpec, rules_dir: Path | None
) -> None:
    """What the Preset model cannot know: the file name, the table asked for, transform keys."""
    problems = []
    if preset.name != name:
        problems.append(
            f'{path}: name is "{preset.name}" — expected "{name}", the file name without .yaml'
        )
    if preset.table != spec.name:
        known = ", ".join(known_presets(rules_dir, table=spec.name))
        problems.append(
            f"{path}: preset '{name}' is for {preset.table}, not {spec.name}; "
            f"known presets for {spec.name}: {known}"
        )
    else:
        for column, headers in preset.columns.items():
            if not any(h.strip() for h in headers):
                problems.append(f"{path}: columns.{column} lists no header — give at least one")
        unknown = sorted(set(preset.transforms) - set(spec.names))
        if unknown:
            problems.append(
                f"{path}: transforms name {', '.join(unknown)}, which are not canonical columns "
                f"of {spec.name}; known: {', '.join(spec.names)}"
            )
    if problems:
        raise ConfigError("\n".join(problems))


# --- applying -----------------------------------------------------------------------------------


def normalize_header(header: str) -> str:
    """The form headers are compared in: no BOM, no outer or repeated inner spaces, casefolded."""
    return " ".join(str(header).replace("\ufeff", "").split()).casefold()


def _quoted_alternatives(headers: tuple[str, ...]) -> str:
    quoted = [f'"{h}"' for h in headers]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _found(columns: list[str], known: set[str]) -> str:
    """What a "columns found" message shows of the header: a few names, each cut short, and none
    at all when no name is one recon knows, since the first line is then not a header but
    whatever the file holds (a binary file, a report, someone's secrets)."""
    if not any(normalize_header(c) in known for c in columns):
        return NO_HEADER
    shown = ", ".join(shown_name(c) for c in columns[:_MAX_LISTED])
    rest = len(columns) - _MAX_LISTED
    return "columns found: " + shown + (f" and {rest} more" if rest > 0 else "")


def _known_headers(preset: Preset, overrides: Mapping[str, str], spec: TableSpec) -> set[str]:
    """Every header the preset, the overrides or the canonical names would take, normalized."""
    names = [*spec.names, *overrides.values()]
    names += [h for headers in preset.columns.values() for h in headers]
    return {normalize_header(n) for n in names}


def _first_of_list(values: pd.Series) -> pd.Series:
    """``"123;456"`` → ``"123"``: the first non-empty item of a ';'- or ','-separated cell."""
    first = values.str.replace(r"^[\s;,]+", "", regex=True)
    first = first.str.replace(r"(?s)[;,].*", "", regex=True).str.strip()
    return first.mask(first == "")


def _strip(values: pd.Series) -> pd.Series:
    stripped = values.str.strip()
    return stripped.mask(stripped == "")


_TRANSFORMS: dict[str, Callable[[pd.Series], pd.Series]] = {
    "first_of_list": _first_of_list,
    "salesforce_id18": salesforce_id18,
    "strip": _strip,
    "upper": lambda s: s.str.upper(),
    "lower": lambda s: s.str.lower(),
}


def apply_transforms(values: pd.Series, transforms: tuple[Transform, ...]) -> pd.Series:
    """Apply the named transforms in order; each is vectorized over the whole column."""
    for name in transforms:
        values = _TRANSFORMS[name](values)
    return values


def _resolve(
    preset: Preset,
    overrides: Mapping[str, str],
    headers: list[str],
    spec: TableSpec,
    source: str,
) -> dict[str, str]:
    """canonical column → source header, overrides first, then the preset's first match."""
    by_norm: dict[str, list[str]] = {}
    for h in headers:
        by_norm.setdefault(normalize_header(h), []).append(h)

    def lookup(wanted: str) -> str | None:
        matches = by_norm.get(normalize_header(wanted), [])
        if len(matches) > 1:
            listed = " and ".join(f'"{shown_name(m)}"' for m in matches)
            raise SourceError(
                f"{source}: columns {listed} differ only in case or spacing, so it is unclear "
                f'which one is "{wanted}"; rename one of them'
            )
        return matches[0] if matches else None

    unknown = sorted(set(overrides) - set(spec.names))
    if unknown:
        raise ConfigError(
            f"{source}: columns: names {', '.join(unknown)}, which are not canonical columns of "
            f"{spec.name}; known: {', '.join(spec.names)}"
        )
    mapping: dict[str, str] = {}
    missing_override = []
    for column in spec.names:
        if column in overrides:
            header = lookup(overrides[column])
            if header is None:
                missing_override.append(f'columns.{column} in recon.yaml is "{overrides[column]}"')
            else:
                mapping[column] = header
            continue
        for alternative in preset.columns.get(column, ()):
            header = lookup(alternative)
            if header is not None:
                mapping[column] = header
                break
    if missing_override:
        raise SourceError(
            f"{source}: {'; '.join(missing_override)}, but the file has no such column; "
            f"{_found(headers, _known_headers(preset, overrides, spec))}"
        )
    return mapping


def apply_preset(
    raw: pd.DataFrame, preset: Preset, overrides: Mapping[str, str], *, source: str
) -> MappedChunk:
    """Map a raw chunk onto the preset's table; a missing required column is a SourceError.

    ``overrides`` (recon.yaml ``columns:``, canonical column → source header) win over the
    preset. ``source`` names the file or query in messages.
    """
    spec = _spec(preset.table)
    if "_row" not in raw.columns:
        raise ValueError("a raw chunk must carry its spreadsheet row numbers in '_row'")
    headers = [str(c) for c in raw.columns if c not in _PASS_THROUGH]
    mapping = _resolve(preset, overrides, headers, spec, source)

    missing_required = [c for c in spec.required if c not in mapping]
    if missing_required:
        reasons = []
        for column in missing_required:
            alternatives = preset.columns.get(column, ())
            if alternatives:
                looks = f"looks for {_quoted_alternatives(alternatives)}"
            else:
                looks = f"has no header for it; name one with columns.{column} in recon.yaml"
            reasons.append(f"no column for {column} (the {preset.name} preset {looks})")
        found = _found(headers, _known_headers(preset, overrides, spec))
        raise SourceError(f"{source}: {'; '.join(reasons)}; {found}")

    by_name = {str(c): c for c in raw.columns}
    out: dict[str, pd.Series] = {}
    for column in spec.names:
        if column in mapping:
            values = raw[by_name[mapping[column]]].astype(TEXT_DTYPE)
            out[column] = apply_transforms(values, preset.transforms.get(column, ()))
        else:
            out[column] = pd.Series(pd.NA, index=raw.index, dtype=TEXT_DTYPE)
    for extra in _PASS_THROUGH:
        if extra in raw.columns:
            out[extra] = raw[extra]
    frame = pd.DataFrame(out, index=raw.index)

    used = set(mapping.values())
    return MappedChunk(
        frame=frame,
        missing_optional=tuple(c for c in spec.names if c not in mapping),
        mapping=mapping,
        unused_columns=tuple(h for h in headers if h not in used),
    )
