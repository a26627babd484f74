"""Typed, frozen models of recon.yaml and of the source presets in rules/sources/.

What the YAML says is validated here once, at start-up; later stages receive these objects only.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from recon.schema import TABLES

# The port of a database URL: after the host, which may follow user:password@.
_PORT = re.compile(r"://(?:[^@/]*@)?(?:\[[^\]]*\]|[^/:?@]*):([^/?@]*)(?=[/?]|$)")
Transform = Literal["first_of_list", "salesforce_id18", "strip", "upper", "lower"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CsvOptions(_Frozen):
    """How to read a delimited text export. ``auto`` detects from the file itself."""

    encoding: str = "auto"
    delimiter: Literal["auto", ",", ";", "\t", "|"] = "auto"
    decimal: Literal["auto", ".", ","] = "auto"


class DateOptions(_Frozen):
    """How to read dates written as text. ISO dates (2026-12-31) are always understood.

    ``order`` settles 01/02/2026: ``dmy`` (1 February, Europe, Asia, Australia) or ``mdy`` (January 2,
    US); ``auto`` decides per column from values such as 31/12/2026 and refuses to guess when a column
    has none. ``formats`` are extra strftime patterns tried first, such as ``"%d.%m.%Y"``.
    """

    order: Literal["auto", "dmy", "mdy"] = "auto"
    formats: tuple[str, ...] = ()


class SqlSource(_Frozen):
    """A table or query read through SQLAlchemy. ``url`` may use ${ENV_VAR} for credentials.

    ``connect_timeout``: seconds to reach the server and log in. ``read_timeout``: seconds the
    server may stay silent while a query runs or a chunk streams (MariaDB/MySQL socket reads and
    writes; PostgreSQL ``statement_timeout`` per statement and fetch). Parameters of the same
    name in the URL's query win.
    """

    url: str
    table: str | None = None
    query: str | None = None
    chunk_rows: int = Field(50_000, gt=0)
    connect_timeout: float = Field(15, gt=0)
    read_timeout: float = Field(300, gt=0)

    @field_validator("url")
    @classmethod
    def _numeric_port(cls, v: str) -> str:
        port = _PORT.search(v)
        if port and port.group(1) and not port.group(1).isdigit():
            raise ValueError(
                f"the port '{port.group(1)}' in the URL is not a number; write it as digits, "
                "such as :5432 (or leave it out for the default)"
            )
        return v

    @model_validator(mode="after")
    def _one_of_table_or_query(self) -> SqlSource:
        if (self.table is None) == (self.query is None):
            raise ValueError("give exactly one of 'table' or 'query'")
        return self


class TableSource(_Frozen):
    """Where one canonical table comes from, and how its columns map to the canonical names."""

    file: str | None = None
    sheet: str | None = None
    sql: SqlSource | None = None
    preset: str = "canonical"
    columns: dict[str, str] = Field(default_factory=dict)
    csv: CsvOptions = CsvOptions()
    dates: DateOptions = DateOptions()

    @model_validator(mode="after")
    def _one_of_file_or_sql(self) -> TableSource:
        if (self.file is None) == (self.sql is None):
            raise ValueError("give exactly one of 'file' or 'sql'")
        return self


class ReconConfig(_Frozen):
    """A whole recon.yaml: where each table comes from, plus run-wide settings."""

    base_currency: str = "USD"
    won_stages: tuple[str, ...] | None = None
    tables: dict[str, TableSource]
    csv: CsvOptions = CsvOptions()
    dates: DateOptions = DateOptions()
    # Folder of what recon remembers between runs (review decisions), relative to recon.yaml.
    state_dir: str | None = None

    @field_validator("tables")
    @classmethod
    def _known_tables(cls, v: dict[str, TableSource]) -> dict[str, TableSource]:
        unknown = sorted(set(v) - set(TABLES))
        if unknown:
            raise ValueError(
                f"unknown table {', '.join(unknown)}; known tables: {', '.join(TABLES)}"
            )
        missing = [t for t, spec in TABLES.items() if spec.required_table and t not in v]
        if missing:
            raise ValueError(
                f"no source given for {', '.join(missing)}; recon needs "
                + ", ".join(t for t, spec in TABLES.items() if spec.required_table)
            )
        return v


class Preset(_Frozen):
    """A vendor export format: which of its column headers hold which canonical column.

    Headers are matched ignoring case and surrounding spaces; the first alternative found wins.
    """

    name: str
    title: str
    table: str
    columns: dict[str, tuple[str, ...]]
    transforms: dict[str, tuple[Transform, ...]] = Field(default_factory=dict)
    won_stages: tuple[str, ...] = ()
    lost_stages: tuple[str, ...] = ()
    cancelled_statuses: tuple[str, ...] = ()
    csv: CsvOptions = CsvOptions()
    dates: DateOptions = DateOptions()
    notes: str = ""

    @field_validator("columns", mode="before")
    @classmethod
    def _listify(cls, v: object) -> object:
        if isinstance(v, dict):
            return {k: (x,) if isinstance(x, str) else x for k, x in v.items()}
        return v

    @field_validator("transforms", mode="before")
    @classmethod
    def _listify_transforms(cls, v: object) -> object:
        if isinstance(v, dict):
            return {k: (x,) if isinstance(x, str) else x for k, x in v.items()}
        return v

    @model_validator(mode="after")
    def _known_columns(self) -> Preset:
        if self.table not in TABLES:
            raise ValueError(f"unknown table '{self.table}'; known tables: {', '.join(TABLES)}")
        spec = TABLES[self.table]
        unknown = sorted(set(self.columns) - set(spec.names))
        if unknown:
            raise ValueError(
                f"columns {', '.join(unknown)} are not canonical columns of {self.table}; "
                f"known: {', '.join(spec.names)}"
            )
        return self
