"""Build a ReconConfig from a recon.yaml, or from a data folder holding the canonical file names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from recon.config.messages import describe, read_yaml
from recon.config.models import ReconConfig, TableSource
from recon.errors import ConfigError, SourceError
from recon.schema import TABLES

DATA_SUFFIXES = (".csv", ".xlsx", ".txt", ".tsv")


@dataclass(frozen=True)
class Inputs:
    """What a pipeline command reads: the validated config and the folder its paths are relative to."""

    config: ReconConfig
    base_dir: Path
    origin: str  # "recon.yaml path" or "data folder path", for messages and run records
    notes: tuple[str, ...] = ()  # what was noticed while finding the inputs, for the load summary


def load_config(path: Path) -> Inputs:
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected settings such as 'tables:' at the top level")
    try:
        config = ReconConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe(path, exc)) from None
    return Inputs(config, path.resolve().parent, str(path))


def _not_a_file(path: Path) -> str | None:
    """Why a folder entry named like a table is not a data file, or None when it is one."""
    if path.is_file():
        return None
    if path.is_dir():
        return "is a folder, not a data file"
    if path.is_symlink():
        return "is a symbolic link that leads to no file (it loops or its target is gone)"
    return "is not a regular file (a device, pipe or socket)"


def folder_config(data_dir: Path) -> Inputs:
    """A data folder: each canonical table is ``<table>.csv`` or ``<table>.xlsx`` in the folder.

    An entry with a table's name that is not a file (a folder, a looping or broken link) is never
    passed over in silence: an error for a required table, a note for an optional one.
    """
    if not data_dir.is_dir():
        raise SourceError(f"{data_dir}: data folder not found")
    entries = {p.name.lower(): p for p in data_dir.iterdir()}
    files = {name: p for name, p in entries.items() if p.is_file()}
    tables: dict[str, TableSource] = {}
    notes: list[str] = []
    for name, spec in TABLES.items():
        found = [files[name + s] for s in DATA_SUFFIXES if name + s in files]
        odd = [
            (entries[name + s], why)
            for s in DATA_SUFFIXES
            if name + s in entries and (why := _not_a_file(entries[name + s])) is not None
        ]
        if len(found) > 1:
            raise SourceError(
                f"{data_dir}: both {found[0].name} and {found[1].name} exist for {name}; keep one"
            )
        if found:
            tables[name] = TableSource(file=found[0].name)
        elif odd and spec.required_table:
            path, why = odd[0]
            raise SourceError(f"{path}: {why}; {name} is required")
        elif odd:
            path, why = odd[0]
            notes.append(f"{path} {why}; {name} was not loaded (it is optional)")
        elif spec.required_table:
            present = sorted(p.name for p in files.values() if p.suffix.lower() in DATA_SUFFIXES)
            raise SourceError(
                f"{data_dir}: no {name}.csv or {name}.xlsx; data files found: "
                f"{', '.join(present) or 'none'}"
            )
    return Inputs(ReconConfig(tables=tables), data_dir.resolve(), str(data_dir), tuple(notes))


def resolve_inputs(data_dir: Path | None, config: Path | None) -> Inputs:
    if data_dir is not None and config is not None:
        raise ConfigError("give either a data folder or --config recon.yaml, not both")
    if config is not None:
        return load_config(config)
    if data_dir is not None:
        return folder_config(data_dir)
    raise ConfigError("give a data folder (recon load DATA_DIR) or --config recon.yaml")
