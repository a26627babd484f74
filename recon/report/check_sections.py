"""Sections of the checks (leakage, month-end, data quality). Each takes the check's frame, or
None when the check did not run, and returns a Section; its columns follow issues 4 and 5."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from recon.checks.amounts import floats
from recon.checks.quality.findings import FINDING_COLUMNS
from recon.report.data import (
    Action,
    Chart,
    Figure,
    FirstScreen,
    Format,
    KindAtRisk,
    LeakageHistory,
    Section,
    Series,
    Table,
    Value,
    most_valuable_first,
    table,
)

LEAKAGE_COLUMNS = (
    "deal_id",
    "company",
    "xref_id",
    "owner",
    "close_date",
    "deal_amount_base",
    "order_ids",
    "order_count",
    "first_order_date",
    "last_order_date",
    "order_total_base",
    "gap_amount",
    "age_days",
    "kind",
    "reason",
)
# What the page shows first of a finding: is it new, whose, what kind, how much, and why.
LEAKAGE_LEAD = ("change", "deal_id", "company", "kind", "gap_amount", "reason")
# The state store's lifecycle columns (recon.state.history), first in the table when present.
LIFECYCLE_FIRST = ("finding_id", "change", "first_seen", "days_open", "accepted_until")
CHANGE = "change"
OUT_OF_OPEN_LIST = ("resolved", "accepted")
CHANGE_LABELS = {
    "new": "new",
    "open": "still open",
    "resolved": "resolved",
    "accepted": "accepted",
}
# Kinds whose gap is revenue at risk; pending, over_billed, orphan_order and credit_hold are
# listed (and totalled by kind) but not added to the value at risk.
AT_RISK_KINDS = ("no_order", "under_billed", "no_erp_customer")
# Of those, the kinds that are a gap in the customer master rather than in billing: the company
# has no ERP customer to bill yet. The first screen shows them apart from billing leakage.
CUSTOMER_MASTER_KINDS = ("no_erp_customer",)
BILLING = "billing leakage"
CUSTOMER_MASTER = "customer-master gap"
# The quality check's finding columns; its "table" column is implied by "system" in the report.
QUALITY_COLUMNS = tuple(c for c in FINDING_COLUMNS if c != "table")
# The month-end check names its totals won/ordered/invoiced/paid (crm_won/erp_ordered also read).
MONTHEND_SERIES = ("won", "crm_won", "ordered", "erp_ordered", "invoiced", "paid")
MONTHEND_LABELS = {
    "won": "CRM closed-won",
    "crm_won": "CRM closed-won",
    "ordered": "ERP ordered",
    "erp_ordered": "ERP ordered",
    "invoiced": "ERP invoiced",
    "paid": "ERP paid",
}
TOP_OWNERS = 15


def _not_run(key: str, title: str, check: str, sheets: tuple[str, ...]) -> Section:
    note = f"The {check} check did not run for this report."
    return Section(key=key, title=title, ran=False, notes=(note,), sheets=sheets)


def _numbers(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.ArrowDtype) and "decimal" in str(values.dtype):
        return pd.Series(floats(values), index=values.index).fillna(0.0)  # Arrow casts at once
    if isinstance(values.dtype, pd.ArrowDtype):
        values = values.astype("float64")
    return pd.to_numeric(values, errors="coerce").astype("float64").fillna(0.0)


def _ordered(frame: pd.DataFrame, known: tuple[str, ...]) -> pd.DataFrame:
    first = [c for c in known if c in frame.columns]
    return frame[first + [c for c in frame.columns if c not in first]]


def _text(frame: pd.DataFrame, column: str, missing: str) -> pd.Series:
    if column not in frame:
        return pd.Series(missing, index=frame.index, dtype="string")
    return frame[column].astype("string").fillna(missing)


def at_risk_values(findings: pd.DataFrame) -> pd.Series:
    """Each finding's share of the value at risk: |gap_amount| for the kinds counted as leakage
    that are in the open list (not resolved, not accepted), else 0."""
    kind = _text(findings, "kind", "(unknown)")
    gap = (
        _numbers(findings["gap_amount"]).abs()
        if "gap_amount" in findings
        else pd.Series(0.0, index=findings.index)
    )
    return gap.where(kind.isin(AT_RISK_KINDS) & _open(findings), 0.0)


def _open(findings: pd.DataFrame) -> pd.Series:
    if CHANGE not in findings:
        return pd.Series(True, index=findings.index)
    return ~findings[CHANGE].astype("string").isin(OUT_OF_OPEN_LIST).fillna(False)


def leakage_section(
    findings: pd.DataFrame | None,
    base_currency: str,
    history: LeakageHistory | None = None,
    habits: Mapping[str, str] | None = None,
) -> Section:
    """With ``history`` (a state store): what changed since the previous run first, the value at
    risk over the last runs, and figures of the open list only (resolved and accepted rows are
    listed in the table, not counted). ``habits``: what the check learned of the data's billing
    habits (setting → how it was set), shown as a table."""
    title = "Revenue leakage"
    if findings is None:
        return _not_run("leakage", title, "leakage", ("Leakage",))
    everything = _ordered(findings, (*LIFECYCLE_FIRST, *LEAKAGE_COLUMNS)).reset_index(drop=True)
    frame = everything[_open(everything).to_numpy()].reset_index(drop=True)
    kind = _text(frame, "kind", "(unknown)")
    risk = (
        _numbers(frame["gap_amount"]).abs()
        if "gap_amount" in frame
        else pd.Series(0.0, index=frame.index)
    )
    counted = kind.isin(AT_RISK_KINDS)
    month = pd.to_datetime(frame.get("close_date"), errors="coerce")
    month = month.dt.strftime("%Y-%m").astype("string").fillna("(no date)")
    owner = _text(frame, "owner", "(no owner)")
    by_kind = (
        pd.DataFrame({"kind": kind, "value": risk})
        .groupby("kind", sort=True)
        .agg(findings=("value", "size"), value=("value", "sum"))
        .reset_index()
        .sort_values(["value", "kind"], ascending=[False, True], kind="stable", ignore_index=True)
    )
    by_kind["counted_as_leakage"] = (
        by_kind["kind"].isin(AT_RISK_KINDS).map({True: "yes", False: "no"})
    )
    at_risk = pd.DataFrame({"kind": kind, "owner": owner, "month": month, "value": risk})[counted]
    by_owner = (
        at_risk.groupby("owner", sort=True)
        .agg(findings=("value", "size"), value_at_risk=("value", "sum"))
        .reset_index()
        .sort_values(["value_at_risk", "owner"], ascending=[False, True], kind="stable")
    )
    by_month = at_risk.pivot_table(
        index="month", columns="kind", values="value", aggfunc="sum", fill_value=0.0
    )
    by_month = by_month.reindex(columns=[k for k in AT_RISK_KINDS if k in by_month.columns])
    by_month["value_at_risk"] = by_month.sum(axis=1)
    by_month = by_month.reset_index()
    by_month.columns.name = None
    figures = [
        Figure(
            "leakage_value_at_risk",
            f"leakage value at risk ({base_currency})",
            round(float(at_risk["value"].sum()), 2),
            "amount",
            headline=True,
        ),
        Figure(
            "leakage_findings",
            "leakage findings (counted kinds)",
            int(counted.sum()),
            headline=True,
        ),
    ]
    for row in by_kind.itertuples():
        figures.append(Figure(f"leakage_{row.kind}", f"{row.kind}: findings", int(row.findings)))
        figures.append(
            Figure(
                f"leakage_{row.kind}_value",
                f"{row.kind}: value ({base_currency})",
                round(float(row.value), 2),
                "amount",
            )
        )
    charts = []
    changes = _changes(everything, base_currency, history) if history is not None else None
    if changes is not None:
        figures = [*changes.figures, *figures]
        charts.append(changes.trend)
    if len(by_month):
        charts.append(
            Chart(
                "leakage_by_month",
                f"Value at risk by close month and kind ({base_currency})",
                tuple(by_month["month"]),
                tuple(
                    Series(k, tuple(by_month[k].round(2))) for k in AT_RISK_KINDS if k in by_month
                ),
                value_format="amount",
            )
        )
        top = by_owner.head(TOP_OWNERS)
        which = f"the {len(top)} largest of {len(by_owner)}" if len(by_owner) > len(top) else "all"
        charts.append(
            Chart(
                "leakage_by_owner",
                f"Value at risk by deal owner, {which} ({base_currency})",
                tuple(top["owner"]),
                (Series("value at risk", tuple(top["value_at_risk"].round(2))),),
                value_format="amount",
            )
        )
    return Section(
        key="leakage",
        title=title,
        figures=tuple(figures),
        tables=(
            *((changes.table,) if changes is not None else ()),
            table("leakage_by_kind", "Leakage by kind", by_kind),
            *((_habits_table(habits),) if habits else ()),
            table("leakage_by_owner", "Leakage value at risk by owner", by_owner),
            table(
                "leakage_by_month",
                "Leakage value at risk by close month",
                by_month,
                formats={"month": "text"},
            ),
            table(
                "leakage",
                "Leakage findings",
                everything,
                sheet="Leakage",
                description="One row per finding: won deals without an order, under- or "
                f"over-billed, pending, orphan orders, credit hold. Amounts in {base_currency}."
                + (
                    " change: new, open, expired (accepted until a past day: open again), "
                    "accepted (out of the open list until accepted_until) or resolved (gone "
                    "since the previous run; shown as last seen)."
                    if CHANGE in everything
                    else ""
                ),
                highlight={"gap_amount": "gap"},
                formats=_lifecycle_formats(everything),
                preface=(changes.line,) if changes is not None else (),
                rank=most_valuable_first(at_risk_values(everything), _amount(everything)),
                ranked_by="largest value at risk first, then the largest other amounts",
                lead=LEAKAGE_LEAD,
            ),
        ),
        charts=tuple(charts),
        notes=(
            *((changes.line,) if changes is not None else ()),
            f"Value at risk adds the gaps of {', '.join(AT_RISK_KINDS)}; other kinds are listed, not counted."
            + (
                " Resolved and accepted findings are listed, not counted."
                if CHANGE in everything
                else ""
            ),
        ),
        sheets=("Leakage",),
    )


def _amount(findings: pd.DataFrame) -> pd.Series:
    """The size of a finding not counted as leakage: |gap|, else the orders' total (an orphan
    order), else the deal."""
    out = pd.Series(0.0, index=findings.index)
    for column in ("deal_amount_base", "order_total_base", "gap_amount"):
        if column in findings:
            value = _numbers(findings[column]).abs()
            out = value.where(value > 0, out)
    return out


def _habits_table(habits: Mapping[str, str]) -> Table:
    frame = pd.DataFrame({"setting": list(habits), "learned": list(habits.values())})
    return table(
        "leakage_habits",
        "Billing habits learned from this data",
        frame,
        description="From the deals whose orders name them (crm_deal_ref); a number in "
        "rules/leakage.yaml overrides what is learned.",
        formats={"setting": "text", "learned": "text"},
    )


def _lifecycle_formats(frame: pd.DataFrame) -> dict[str, Format]:
    """Ages as counts; the lifecycle's dates as text (they may be empty on some rows)."""
    formats: dict[str, Format] = {c: "int" for c in ("age_days", "days_open") if c in frame}
    formats.update({c: "text" for c in ("first_seen", "accepted_until") if c in frame})
    return formats


@dataclass(frozen=True)
class _Changes:
    figures: tuple[Figure, ...]
    table: Table
    trend: Chart
    line: str  # the summary in one line (the Excel Leakage sheet's first row)


def _changes(frame: pd.DataFrame, base_currency: str, history: LeakageHistory) -> _Changes:
    """New / still open / resolved / accepted: findings and value at risk (|gap| of the counted
    kinds; a resolved finding's as last seen)."""
    change = _text(frame, CHANGE, "new")
    change = change.where(change != "expired", "open")  # an expired acceptance is open again
    kind = _text(frame, "kind", "(unknown)")
    gap = (
        _numbers(frame["gap_amount"]).abs()
        if "gap_amount" in frame
        else pd.Series(0.0, index=frame.index)
    )
    value = gap.where(kind.isin(AT_RISK_KINDS), 0.0)
    rows = []
    for key, label in CHANGE_LABELS.items():
        rows.append(
            (label, int((change == key).sum()), round(float(value[change == key].sum()), 2))
        )
    summary = pd.DataFrame(rows, columns=["change", "findings", "value_at_risk"])
    since = f"the previous run ({history.previous})" if history.previous else None
    title = (
        f"What changed since last week: compared with {since}"
        if since
        else (
            "What changed since last week: the first run recorded in this store (every finding is new)"
        )
    )
    figures: list[Figure] = []
    for key, (label, n, v) in zip(CHANGE_LABELS, rows, strict=True):
        figures.append(
            Figure(f"leakage_change_{key}", f"{label}: findings", n, headline=key == "new")
        )
        figures.append(
            Figure(f"leakage_change_{key}_value", f"{label}: value ({base_currency})", v, "amount")
        )
    line = (
        f"{title}. "
        + "; ".join(
            f"{label}: {n:,} ({base_currency} {v:,.2f})"
            for label, n, v in summary.itertuples(index=False, name=None)
        )
        + "."
    )
    trend = Chart(
        "leakage_trend",
        f"Leakage value at risk over the last runs ({base_currency})",
        tuple(label for label, _ in history.trend),
        (Series("value at risk", tuple(round(v, 2) for _, v in history.trend)),),
        value_format="amount",
    )
    return _Changes(tuple(figures), table("leakage_changes", title, summary), trend, line)


def monthend_section(
    summary: pd.DataFrame | None, differences: pd.DataFrame | None, base_currency: str
) -> Section:
    title = "Month-end reconciliation"
    sheets = ("Month-end", "Month-end detail")
    if summary is None:
        return _not_run("monthend", title, "month-end", sheets)
    frame = summary.reset_index(drop=True)
    month_col = next((c for c in ("month", "period") if c in frame), str(frame.columns[0]))
    numeric = [str(c) for c in frame.columns if c != month_col and _is_amount(frame[c])]
    figures = [
        Figure(
            f"monthend_{c}",
            f"{MONTHEND_LABELS.get(c, c.replace('_', ' '))} ({base_currency})",
            round(float(_numbers(frame[c]).sum()), 2),
            "amount",
            headline=c in ("won", "crm_won", "ordered", "erp_ordered"),
        )
        for c in numeric
    ]
    present = [c for c in MONTHEND_SERIES if c in frame]
    charts: tuple[Chart, ...] = ()
    if present and len(frame):
        charts = (
            Chart(
                "monthend_revenue",
                f"CRM closed-won against ERP ordered, invoiced and paid, by month ({base_currency})",
                tuple(frame[month_col].astype(str)),
                tuple(
                    Series(MONTHEND_LABELS[c], tuple(_numbers(frame[c]).round(2))) for c in present
                ),
                value_format="amount",
            ),
        )
    tables = [
        table(
            "monthend",
            "Month-end totals by month",
            frame,
            sheet="Month-end",
            formats={month_col: "text"},
            description=f"Per month: CRM closed-won, ERP ordered, invoiced and paid ({base_currency}) and their differences.",
            highlight={c: "gap" for c in numeric if c not in MONTHEND_SERIES},
        ),
    ]
    if differences is not None:
        figures.append(
            Figure("monthend_difference_rows", "month-end difference items", len(differences))
        )
        tables.append(
            table(
                "monthend_differences",
                "Month-end differences traced to deals, orders and invoices",
                differences,
                sheet="Month-end detail",
                description="The deals, orders and invoices behind each difference.",
                rank=most_valuable_first(_largest(differences, ("amount_base", "amount"))),
                ranked_by="largest amounts first",
            )
        )
    return Section(
        key="monthend",
        title=title,
        figures=tuple(figures),
        tables=tuple(tables),
        charts=charts,
        sheets=sheets,
    )


def _largest(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    """|the first of ``columns`` the frame has| (0 without one)."""
    column = next((c for c in columns if c in frame), None)
    if column is None:
        return pd.Series(0.0, index=frame.index)
    return _numbers(frame[column]).abs()


def _is_amount(values: pd.Series) -> bool:
    dtype = values.dtype
    if isinstance(dtype, pd.ArrowDtype):
        return "decimal" in str(dtype) or "double" in str(dtype)
    return pd.api.types.is_float_dtype(dtype) or (
        pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    )


QUALITY_KEYS = ("system", "table", "rule", "field", "severity")
EXAMPLES = 3  # findings shown per rule and field


def _by_field(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per system, table, rule, field and severity: findings, records, the first
    EXAMPLES findings as "record: value", the owner, and the first finding's message and
    expected value. A million findings become a few dozen rows a person can read.

    Works on integer codes (pandas' groupby on five text keys and a nunique over millions of
    findings costs seconds); text is built only for the few rows shown."""
    keys = [c for c in QUALITY_KEYS if c in frame]
    n = len(frame)
    group = np.zeros(n, dtype=np.int64)
    for c in keys:
        codes, uniques = pd.factorize(_text(frame, c, ""))
        group = group * (len(uniques) + 1) + codes
    group, groups = pd.factorize(group)  # a hash: np.unique sorts millions of codes
    findings = np.bincount(group, minlength=len(groups))
    record, records = pd.factorize(_text(frame, "record_id", ""))
    pairs = pd.unique(group * (len(records) + 1) + record)
    distinct = np.bincount(pairs // (len(records) + 1), minlength=len(groups))
    order = np.argsort(group, kind="stable")  # each group's findings in the table's order
    starts = np.concatenate([[0], np.cumsum(findings)[:-1]])
    rank = np.arange(n) - starts[group[order]]
    shown = frame.take(order[rank < EXAMPLES]).reset_index(drop=True)
    shown_group = group[order[rank < EXAMPLES]]
    value = _text(shown, "value", "").str.slice(0, 60)
    example = _text(shown, "record_id", "") + ": " + value.where(value != "", "(empty)")
    first = ~pd.Series(shown_group).duplicated().to_numpy()
    out = pd.DataFrame({c: _text(shown, c, "")[first].to_numpy() for c in keys})
    out["findings"] = findings
    out["records"] = distinct
    more = findings - EXAMPLES
    out["examples"] = example.groupby(shown_group).agg("; ".join).to_numpy() + np.where(
        more > 0, [f" (and {m:,} more)" for m in more], ""
    )
    for c in ("expected", "owner_system", "message"):
        out[c] = _text(shown, c, "")[first].to_numpy()
    columns = [*keys, "findings", "records", "examples", "expected", "owner_system", "message"]
    out = out.sort_values(keys, kind="stable", ignore_index=True)
    return out[columns].astype({"findings": "int64", "records": "int64"})


SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def _severity_first(by_field: pd.DataFrame) -> pd.Series:
    """Errors above warnings above info (higher ranks first)."""
    return -_text(by_field, "severity", "").map(SEVERITY_ORDER).fillna(3)


def quality_section(findings: pd.DataFrame | None) -> Section:
    title = "Data quality"
    if findings is None:
        return _not_run("quality", title, "data-quality", ("Data quality",))
    frame = _ordered(findings, QUALITY_COLUMNS).reset_index(drop=True)
    rule = _text(frame, "rule", "(no rule)")
    severity = _text(frame, "severity", "(none)")
    counts = (
        pd.DataFrame({"rule": rule, "severity": severity})
        .groupby(["rule", "severity"], sort=True)
        .size()
        .rename("issues")
        .reset_index()
    )
    # errors first, then the rules with the most issues
    counts = counts.iloc[
        most_valuable_first(_severity_first(counts), counts["issues"])
    ].reset_index(drop=True)
    by_field = _by_field(frame)
    by_severity = severity.value_counts().sort_index()
    figures = [Figure("quality_issues", "data-quality issues", len(frame), headline=True)]
    figures += [Figure(f"quality_{s}", f"{s} issues", int(n)) for s, n in by_severity.items()]
    by_rule = counts.pivot_table(
        index="rule", columns="severity", values="issues", aggfunc="sum", fill_value=0
    )
    by_rule = by_rule[sorted(by_rule.columns, key=lambda c: (SEVERITY_ORDER.get(str(c), 3), c))]
    charts: tuple[Chart, ...] = ()
    if len(by_rule):
        charts = (
            Chart(
                "quality_by_rule",
                "Data-quality findings by rule, by severity",
                tuple(str(r) for r in by_rule.index),
                tuple(Series(str(s), tuple(float(v) for v in by_rule[s])) for s in by_rule.columns),
            ),
        )
    return Section(
        key="quality",
        title=title,
        figures=tuple(figures),
        tables=(
            table("quality_counts", "Data-quality issues by rule and severity", counts),
            table(
                "quality",
                "Data-quality findings by rule and field",
                by_field,
                sheet="Data quality",
                description="One row per rule and field: how many findings and records, the "
                "first examples (record: value found) and which system owns the fix; every "
                "finding is a row of the quality file.",
                rank=most_valuable_first(_severity_first(by_field), by_field["findings"]),
                ranked_by="errors first, then the most findings",
                note="One row per rule and field; every finding is a row of {file}.",
                formats={"findings": "int", "records": "int"},
            ),
        ),
        charts=charts,
        sheets=("Data quality",),
    )


def first_screen(
    sections: Sequence[Section],
    monthend: pd.DataFrame | None,
    differences: pd.DataFrame | None,
) -> FirstScreen:
    """The first screen of report.html from the sections' own figures: new leakage and its
    value, the pairs to review, the month-end tie-out and the quality errors, each linked to its
    table; and the value at risk by kind, customer-master gaps apart from billing leakage.
    ``monthend`` and ``differences`` are the check's whole frames (the sections' tables may hold
    only their first rows): the tie-out adds them up again with the check's ``tie_out``."""
    by_key = {s.key: s for s in sections}
    leakage = by_key.get("leakage")
    return FirstScreen(
        period=_months(monthend),
        actions=(
            _leakage_action(leakage),
            _review_action(by_key.get("matching")),
            _tie_out_action(monthend, differences),
            _quality_action(by_key.get("quality")),
        ),
        at_risk=_kinds_at_risk(leakage),
        groups=(BILLING, CUSTOMER_MASTER),
    )


def _months(monthend: pd.DataFrame | None) -> tuple[str, ...]:
    if monthend is None or not len(monthend.columns):
        return ()
    column = next((c for c in ("month", "period") if c in monthend), monthend.columns[0])
    return tuple(str(m) for m in monthend[column])


def _figures(section: Section | None) -> dict[str, Value]:
    return {f.key: f.value for f in section.figures} if section is not None else {}


def _did_not_run(key: str, label: str, check: str, target: str) -> Action:
    return Action(key, label, "—", f"The {check} check did not run.", target, "info", "text")


def _count(value: Value) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _leakage_action(section: Section | None) -> Action:
    """New findings and their value at risk against the previous run (a state store); without
    one, every open finding of the counted kinds, said so."""
    if section is None or not section.ran:
        return _did_not_run("new_leakage", "New leakage", "leakage", "leakage")
    figures = _figures(section)
    if "leakage_change_new" in figures:
        n, value = _count(figures["leakage_change_new"]), figures["leakage_change_new_value"]
        label, since = "New leakage", "new since the previous run"
    else:
        n, value = _count(figures["leakage_findings"]), figures["leakage_value_at_risk"]
        label, since = "Leakage", "not compared with an earlier run (no state store)"
    amount = float(value) if isinstance(value, int | float) else 0.0
    return Action(
        "new_leakage",
        label,
        n,
        since,
        "table-leakage",
        "error" if n else "ok",
        amount=amount,
    )


def _review_action(section: Section | None) -> Action:
    n = _count(_figures(section).get("review_pairs"))
    return Action(
        "review",
        "Pairs to review",
        n,
        "between the review and auto thresholds: match, not a match or skip"
        if n
        else "no pair waits for a decision",
        "table-review",
        "warning" if n else "ok",
    )


def _tie_out_action(monthend: pd.DataFrame | None, differences: pd.DataFrame | None) -> Action:
    """Per month and step, do the traced items add up to the difference (the check's own
    ``tie_out``)? Frames without the steps' columns are shown as not checked."""
    from recon.checks.monthend import DIFFERENCES, STEPS, tie_out

    key, label, target = "tie_out", "Month-end tie-out", "table-monthend"
    if monthend is None:
        return _did_not_run(key, label, "month-end", target)
    needed = {"month", *DIFFERENCES} <= set(monthend.columns)
    traced = differences is not None and {"month", "step", "amount_base"} <= set(
        differences.columns
    )
    if not needed or differences is None or not traced:
        return Action(
            key, label, "not checked", "no differences traced per step", target, "info", "text"
        )
    checked = tie_out(monthend, differences)
    untied = checked[~checked["ties_out"].astype(bool)]
    months = f"{len(monthend):,} month{'s' if len(monthend) != 1 else ''} × {len(STEPS)} steps"
    if not len(untied):
        return Action(
            key,
            label,
            "ties out",
            f"{months}: the {len(differences):,} traced items add up to every difference",
            target,
            "ok",
            "text",
        )
    first = untied.iloc[0]
    return Action(
        key,
        label,
        f"{len(untied):,} of {len(checked):,} do not tie out",
        f"{months}; first: {first['month']} {first['step']}",
        target,
        "error",
        "text",
    )


def _quality_action(section: Section | None) -> Action:
    key, label, target = "quality_errors", "Quality errors", "table-quality"
    if section is None or not section.ran:
        return _did_not_run(key, label, "data-quality", target)
    figures = _figures(section)
    n = _count(figures.get("quality_error"))
    warnings, info = _count(figures.get("quality_warning")), _count(figures.get("quality_info"))
    return Action(
        key,
        label,
        n,
        f"and {warnings:,} warning{'' if warnings == 1 else 's'}, {info:,} info findings",
        target,
        "error" if n else "ok",
    )


def _kinds_at_risk(section: Section | None) -> tuple[KindAtRisk, ...]:
    """The kinds counted as value at risk (``AT_RISK_KINDS``) with the section's figures for each,
    billing leakage first, then the customer-master gaps; largest value first in each."""
    if section is None or not section.ran:
        return ()
    figures = _figures(section)
    kinds = [
        KindAtRisk(
            kind,
            CUSTOMER_MASTER if kind in CUSTOMER_MASTER_KINDS else BILLING,
            _count(figures[f"leakage_{kind}"]),
            float(figures[f"leakage_{kind}_value"] or 0.0),
        )
        for kind in AT_RISK_KINDS
        if f"leakage_{kind}" in figures
    ]
    group = {BILLING: 0, CUSTOMER_MASTER: 1}
    return tuple(sorted(kinds, key=lambda k: (group[k.group], -k.value, k.kind)))


# A number with decimals in a month-end explanation ("paid 14963.5997 of 24913.5123").
_DECIMAL = re.compile(r"(?<![\w.])(-?)(\d+)\.(\d+)(?![\w.])")


def readable_amounts(text: str, *, keep_digits: bool = False) -> str:
    """``text`` with its decimal numbers grouped in thousands and rounded to cents
    ("14963.5997" → "14,963.60"). ``keep_digits`` keeps every decimal (a rounding difference is
    in the digits past the cents)."""

    def one(match: re.Match[str]) -> str:
        sign, whole, decimals = match.groups()
        if keep_digits:
            return f"{sign}{int(whole):,}.{decimals}"
        cents = Decimal(f"{whole}.{decimals}").quantize(Decimal("0.01"), ROUND_HALF_UP)
        return f"{sign}{cents:,.2f}"

    return _DECIMAL.sub(one, text)
