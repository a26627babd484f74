"""ReportData: every figure, table and chart of a report, built once from the run's results.

The HTML page and the Excel workbook read this one object and never recompute, so the two always
show the same numbers. A section is a titled list of key figures, tables and charts; a check that
did not run is a section with ``ran=False`` (both renderers say so rather than hiding it). Wiring a
new check is a builder returning a ``Section`` (see ``check_sections.py``) and one line in
``build_report_data``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from recon import __version__
from recon.models import LoadResult, MatchResult

Format = Literal["id", "text", "int", "amount", "score", "date"]
Value = int | float | str | None

# What a reviewer may write into a review's decision column (read back by `recon review apply`).
REVIEW_DECISIONS = ("match", "not a match", "skip")

_ID_NAME = re.compile(r"(^|_)ids?$|_id_|^xref_id$")


@dataclass(frozen=True)
class Figure:
    """One key figure: ``key`` is stable (tests, machines), ``label`` is what people read."""

    key: str
    label: str
    value: Value
    fmt: Format = "int"
    headline: bool = False  # also shown in the report's summary at the top


@dataclass(frozen=True)
class Table:
    """A frame with how to show each column.

    ``sheet`` names its own Excel sheet (large detail tables); ``None`` puts it on the Summary sheet
    (small breakdowns). ``editable`` columns stay unlocked on a protected sheet, ``choices`` become
    drop-downs, ``highlight`` maps a column to a conditional format (``score`` or ``gap``).
    """

    key: str
    title: str
    frame: pd.DataFrame
    formats: Mapping[str, Format]
    sheet: str | None = None
    description: str = ""
    editable: tuple[str, ...] = ()
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    highlight: Mapping[str, str] = field(default_factory=dict)
    preface: tuple[str, ...] = ()  # lines above the header on its own sheet (a summary first)

    @property
    def rows(self) -> int:
        return len(self.frame)


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class Marker:
    """A vertical line on a chart, at ``at`` categories from the left edge (0 to len(categories))."""

    label: str
    at: float


@dataclass(frozen=True)
class Chart:
    """Bars per category, one bar per series in each (grouped)."""

    key: str
    title: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    markers: tuple[Marker, ...] = ()
    value_format: Format = "int"
    log_scale: bool = False
    note: str = ""


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    ran: bool = True
    figures: tuple[Figure, ...] = ()
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()
    notes: tuple[str, ...] = ()
    sheets: tuple[
        str, ...
    ] = ()  # the detail sheets it owns (kept, with a note, when it did not run)

    def table(self, key: str) -> Table | None:
        return next((t for t in self.tables if t.key == key), None)


@dataclass(frozen=True)
class LeakageHistory:
    """What the state store adds to the leakage section: the run this one is compared with
    (``previous``, e.g. "2026-10-24, run 3"; empty on a store's first run) and value at risk run by
    run, oldest first, this run last."""

    previous: str
    trend: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class InputInfo:
    table: str
    source: str
    preset: str
    rows_read: int
    rows_kept: int
    rows_quarantined: int


@dataclass(frozen=True)
class RunInfo:
    recon_version: str
    generated_at: dt.datetime
    base_currency: str
    inputs: tuple[InputInfo, ...]
    rules: tuple[tuple[str, str], ...]  # (rule file, first 12 hex digits of its sha256)
    thresholds: Mapping[str, float]
    notes: tuple[str, ...] = ()
    as_of: dt.date | None = None  # the day the checks counted back from
    as_of_source: str = ""  # why that day (recon.asof): given, the rules, the data's own end


@dataclass(frozen=True)
class ReportData:
    run: RunInfo
    sections: tuple[Section, ...]

    @property
    def summary(self) -> tuple[Figure, ...]:
        return tuple(f for s in self.sections if s.ran for f in s.figures if f.headline)

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def figure(self, key: str) -> Value:
        for section in self.sections:
            for fig in section.figures:
                if fig.key == key:
                    return fig.value
        raise KeyError(key)


def infer_formats(frame: pd.DataFrame, **overrides: Format) -> dict[str, Format]:
    """How to show each column, from its dtype and name; ``overrides`` win.

    Numbers are amounts unless named score/probability; integers are counts; text named like an
    ID is an ID (kept as text everywhere). Text is never guessed to be a number.
    """
    formats: dict[str, Format] = {}
    for name, col in frame.items():
        key = str(name)
        dtype = col.dtype
        if pd.api.types.is_datetime64_any_dtype(dtype):
            formats[key] = "date"
        elif pd.api.types.is_bool_dtype(dtype):
            formats[key] = "text"
        elif pd.api.types.is_integer_dtype(dtype) and not _ID_NAME.search(key):
            formats[key] = "int"
        elif _is_number(dtype):
            formats[key] = "score" if key in ("score", "probability") else "amount"
        elif _ID_NAME.search(key):
            formats[key] = "id"
        else:
            formats[key] = "text"
    formats.update(overrides)
    return formats


def _is_number(dtype: object) -> bool:
    if isinstance(dtype, pd.ArrowDtype):
        return "decimal" in str(dtype) or "double" in str(dtype) or "float" in str(dtype)
    return pd.api.types.is_numeric_dtype(dtype)


def table(
    key: str,
    title: str,
    frame: pd.DataFrame,
    *,
    formats: Mapping[str, Format] | None = None,
    sheet: str | None = None,
    description: str = "",
    editable: tuple[str, ...] = (),
    choices: Mapping[str, tuple[str, ...]] | None = None,
    highlight: Mapping[str, str] | None = None,
    preface: tuple[str, ...] = (),
) -> Table:
    """A Table with formats inferred from ``frame`` (``formats`` entries override)."""
    return Table(
        key,
        title,
        frame.reset_index(drop=True),
        infer_formats(frame, **(formats or {})),
        sheet=sheet,
        description=description,
        editable=editable,
        choices=choices or {},
        highlight=highlight or {},
        preface=preface,
    )


def build_report_data(
    load: LoadResult,
    match: MatchResult,
    *,
    leakage: pd.DataFrame | None = None,
    monthend: pd.DataFrame | None = None,
    monthend_differences: pd.DataFrame | None = None,
    quality: pd.DataFrame | None = None,
    rules_dir: Path | None = None,
    generated_at: dt.datetime | None = None,
    leakage_history: LeakageHistory | None = None,
    as_of: dt.date | None = None,
    as_of_source: str = "",
    leakage_habits: Mapping[str, str] | None = None,
) -> ReportData:
    """Every figure of the report, from the load, the matcher and the checks that ran.

    A check passed as ``None`` did not run: its section says so. ``monthend`` is one row per month
    (crm_won, erp_ordered, invoiced, paid and differences); ``monthend_differences`` the deals,
    orders and invoices behind them. ``leakage_history`` (from the state store) adds what changed
    since the previous run and the value-at-risk trend; ``leakage`` then carries the lifecycle
    columns (``change`` …) and the rows of resolved findings. ``as_of`` and ``as_of_source``:
    the day the checks counted back from and why (shown in the header and the README sheet).
    ``leakage_habits``: what the leakage check learned of the billing habits, and from what.
    """
    from recon.config.matching import load_matching_rules
    from recon.report import check_sections, sections
    from recon.resources import rules_dir as default_rules_dir

    rules = rules_dir or default_rules_dir()
    matching = load_matching_rules(rules / "matching.yaml")
    thresholds = {"auto": matching.thresholds.auto, "review": matching.thresholds.review}
    run = RunInfo(
        recon_version=__version__,
        generated_at=(generated_at or dt.datetime.now()).replace(microsecond=0),
        base_currency=load.base_currency,
        inputs=tuple(
            InputInfo(t.name, t.source, t.preset, t.rows_read, t.rows_kept, t.rows_quarantined)
            for t in load.tables.values()
        ),
        rules=_rule_files(rules),
        thresholds=thresholds,
        notes=tuple(load.notes),
        as_of=as_of,
        as_of_source=as_of_source,
    )
    base = load.base_currency
    parts = (
        sections.matching_section(match, thresholds),
        check_sections.leakage_section(leakage, base, leakage_history, leakage_habits),
        check_sections.monthend_section(monthend, monthend_differences, base),
        check_sections.quality_section(quality),
        sections.input_section(load),
    )
    return ReportData(run, parts)


def _rule_files(rules: Path) -> tuple[tuple[str, str], ...]:
    if not rules.is_dir():
        return ()
    files = sorted(p for p in rules.rglob("*.yaml") if p.is_file())
    return tuple(
        (str(p.relative_to(rules)), hashlib.sha256(p.read_bytes()).hexdigest()[:12]) for p in files
    )
