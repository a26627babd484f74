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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from recon import __version__
from recon.models import LoadResult, MatchResult
from recon.report.options import OutputOptions

if TYPE_CHECKING:
    from recon.report.match_outputs import MatchTables

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
    # Row positions, most valuable first (``ranked``); a sheet shows the first ``sheet_rows``.
    rank: np.ndarray | None = field(default=None, compare=False, repr=False)
    ranked_by: str = ""  # that order in words: "largest value at risk first"
    total_rows: int | None = None  # rows of the whole table, when ``frame`` holds only the first
    file: str = ""  # the output file that holds every row
    # one line beside the header on its sheet: where the rest of the rows are ("{file}" in a
    # summary's note stands for the file that holds its detail rows)
    note: str = ""
    # Columns the page shows beside the table's own, row for row: the names, cities and domains
    # of the records a row names, so a person can decide without opening another file. Each sits
    # after the column ``beside_after`` maps it to; the workbook and the files keep to ``frame``.
    beside: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    beside_after: Mapping[str, str] = field(default_factory=dict)
    lead: tuple[str, ...] = ()  # columns the page shows first (what a person reads first)

    @property
    def rows(self) -> int:
        return len(self.frame)

    @property
    def total(self) -> int:
        """Rows of the whole table (``rows`` when the frame holds all of them)."""
        return self.rows if self.total_rows is None else self.total_rows

    @property
    def capped(self) -> bool:
        return self.total > self.rows


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


Level = Literal["error", "warning", "info", "ok"]


@dataclass(frozen=True)
class Action:
    """One item of the first screen's "action needed" strip: how many (``value``), the value at
    stake when it has one (``amount``, base currency), a line saying what it is, the element of
    the page it links to (``target``, an id) and how urgent it is (``level``)."""

    key: str
    label: str
    value: Value
    detail: str
    target: str
    level: Level
    fmt: Format = "int"
    amount: float | None = None


@dataclass(frozen=True)
class KindAtRisk:
    """The value at risk of one leakage kind (the section's ``leakage_<kind>_value`` figure) and
    its group: billing leakage, or a customer-master gap (a won deal whose company has no ERP
    customer to bill), which people fix elsewhere and so see apart."""

    kind: str
    group: str
    findings: int
    value: float


@dataclass(frozen=True)
class FirstScreen:
    """What the top of report.html shows before any table: the month-end months (``period``,
    first to last), what needs a person now (``actions``) and the value at risk by kind, each
    group's kinds largest first (``at_risk``; ``groups`` names the groups in the order shown).
    Every number is one the sections already hold, except the tie-out, which re-adds the
    month-end differences with the check's own ``tie_out``."""

    period: tuple[str, ...] = ()
    actions: tuple[Action, ...] = ()
    at_risk: tuple[KindAtRisk, ...] = ()
    groups: tuple[str, ...] = ()

    def group(self, name: str) -> tuple[KindAtRisk, ...]:
        return tuple(k for k in self.at_risk if k.group == name)

    def group_value(self, name: str) -> float:
        return round(sum(k.value for k in self.group(name)), 2)


@dataclass(frozen=True)
class ReportData:
    run: RunInfo
    sections: tuple[Section, ...]
    first: FirstScreen = field(default_factory=FirstScreen)  # the page's first screen

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
    rank: np.ndarray | None = None,
    ranked_by: str = "",
    note: str = "",
    beside: pd.DataFrame | None = None,
    beside_after: Mapping[str, str] | None = None,
    lead: tuple[str, ...] = (),
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
        rank=rank,
        ranked_by=ranked_by,
        note=note,
        beside=beside.reset_index(drop=True) if beside is not None else None,
        beside_after=beside_after or {},
        lead=lead,
    )


def most_valuable_first(*keys: np.ndarray | pd.Series) -> np.ndarray:
    """Row positions ordered by ``keys`` (the first decides, ties go to the next; higher first),
    the table's own order breaking the last ties."""
    columns = [np.nan_to_num(np.asarray(k, dtype=float), nan=-np.inf) for k in keys]
    if len(columns) == 1:
        return np.argsort(-columns[0], kind="stable")
    # lexsort sorts ascending by its last key first: negate, and put the first key last
    return np.lexsort([-c for c in reversed(columns)]) if columns else np.arange(0)


def capped(t: Table, rows: int, file: str) -> Table:
    """``t`` with its first ``rows`` rows by rank (most valuable first), the whole table's size,
    and the file that holds every row named in a note when rows were left out."""
    n = t.rows
    kept = t.rank[:rows] if t.rank is not None else np.arange(min(n, rows))
    frame = t.frame.take(kept).reset_index(drop=True)
    beside = t.beside.take(kept).reset_index(drop=True) if t.beside is not None else None
    note = t.note
    if n > rows:
        order = f", {t.ranked_by}" if t.ranked_by else ""
        where = f"; all of them are in {file}" if file else ""
        note = f"The first {rows:,} of {n:,} rows{order}{where}."
    note = note.replace("{file}", file)  # a summary's note names the file of its detail rows
    return replace(t, frame=frame, rank=None, total_rows=n, file=file, note=note, beside=beside)


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
    options: OutputOptions | None = None,
    score_histogram: pd.DataFrame | None = None,
    match_tables: MatchTables | None = None,
) -> ReportData:
    """Every figure of the report, from the load, the matcher and the checks that ran.

    A check passed as ``None`` did not run: its section says so. ``monthend`` is one row per month
    (crm_won, erp_ordered, invoiced, paid and differences); ``monthend_differences`` the deals,
    orders and invoices behind them. ``leakage_history`` (from the state store) adds what changed
    since the previous run and the value-at-risk trend; ``leakage`` then carries the lifecycle
    columns (``change`` …) and the rows of resolved findings. ``as_of`` and ``as_of_source``:
    the day the checks counted back from and why (shown in the header and the README sheet).
    ``leakage_habits``: what the leakage check learned of the billing habits, and from what.
    ``options``: every table with its own sheet keeps its ``sheet_rows`` most valuable rows
    (the figures count them all) and names the file, in ``table_format``, that holds every row.
    ``score_histogram``: the candidate pairs by score when ``match.scored`` no longer holds them
    all (``recon run`` keeps only the auto and review pairs past matching). ``match_tables``:
    the xref, matches and review tables when the run built them for its files already.
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
        sections.matching_section(match, thresholds, score_histogram, match_tables),
        check_sections.leakage_section(leakage, base, leakage_history, leakage_habits),
        check_sections.monthend_section(monthend, monthend_differences, base),
        check_sections.quality_section(quality),
        sections.input_section(load),
    )
    first = check_sections.first_screen(parts, monthend, monthend_differences)
    return ReportData(run, tuple(_capped(s, options or OutputOptions()) for s in parts), first)


# The output file of each table that has its own sheet (see recon.report.*_outputs).
TABLE_FILES = {
    "xref": "xref",
    "matches": "matches",
    "review": "review",
    "duplicates": "duplicates",
    "claims": "xref_claims",
    "leakage": "leakage",
    "monthend": "monthend_summary",
    "monthend_differences": "monthend_differences",
    "quality": "quality",
    "quarantine": "quarantine",
}


def _capped(section: Section, options: OutputOptions) -> Section:
    tables = tuple(
        capped(t, options.sheet_rows, options.file_name(TABLE_FILES.get(t.key, t.key)))
        if t.sheet is not None
        else t
        for t in section.tables
    )
    return replace(section, tables=tables)


def _rule_files(rules: Path) -> tuple[tuple[str, str], ...]:
    if not rules.is_dir():
        return ()
    files = sorted(p for p in rules.rglob("*.yaml") if p.is_file())
    return tuple(
        (str(p.relative_to(rules)), hashlib.sha256(p.read_bytes()).hexdigest()[:12]) for p in files
    )
