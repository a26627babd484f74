"""The body of a run's e-mail: a short, static summary of the report that every mail client shows.

report.html draws its tables with JavaScript, which mail clients strip, and runs to megabytes,
which Gmail clips past about 102 KB. The e-mail body is instead a few tables laid out for mail
clients (inline styles, no script, nothing fetched): the as-of day and the run, its status, what
changed since the previous delivered run (new, still open, resolved, accepted, each with its
value) and the largest new findings; report.html and report.xlsx travel as attachments.

It reads the ``ReportData`` the report was rendered from and computes no figure of its own: the
counts and values are the leakage section's "What changed" figures, the findings are the first
new rows of its Leakage table in the table's own order (largest value at risk first, then the
largest other amounts). Every text is cut to a fixed length, so the body stays under
``MAX_BODY_BYTES`` whatever the names and reasons in the data. The run writes the body as
``email_body.html`` and ``email_body.txt`` next to the report (``write_email_body``), where
``recon.report.deliver`` picks them up (``read_email_body``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from recon.report.cells import column_values, format_value
from recon.report.data import Format, ReportData, Section, Table, Value
from recon.resources import templates_dir

log = logging.getLogger(__name__)

HTML_TEMPLATE = "email.html.j2"
TEXT_TEMPLATE = "email.txt.j2"
BODY_HTML_NAME = "email_body.html"
BODY_TEXT_NAME = "email_body.txt"
MAX_BODY_BYTES = 100_000  # both parts together (UTF-8); Gmail clips a body past about 102 KB
TOP_NEW = 20  # the new findings listed in the body
MAX_FIGURES = 16  # key figures at most (the report's summary has fewer)
MAX_NOTES = 3  # notes of the load at most
# The longest text of each kind, in UTF-8 bytes (a longer one is cut at a character and ends in
# "…"): as many letters of a Latin name, a third as many of a Chinese one. Bytes rather than
# characters bound the body's size in bytes whatever the script.
CUT_REASON = 240
CUT_NAME = 80
CUT_ID = 40
CUT_LINE = 160
CUT_VALUE = 30
CUT_LABEL = 60
CUT_CODE = 12

_SPACES = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_ELLIPSIS = "…"


def cut(value: object, limit: int) -> str:
    """``value`` as one line of at most ``limit`` UTF-8 bytes: runs of white space and control
    characters become one space, and a longer text is cut at a character and ends in "…"."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    data = _SPACES.sub(" ", str(value)).strip().encode("utf-8", errors="replace")
    if len(data) <= limit:
        return data.decode("utf-8")
    room = limit - len(_ELLIPSIS.encode("utf-8"))
    return data[:room].decode("utf-8", errors="ignore").rstrip() + _ELLIPSIS


@dataclass(frozen=True)
class Change:
    """One line of what changed: ``label`` (new, still open, …), findings and their value."""

    label: str
    findings: str
    value: str


@dataclass(frozen=True)
class Finding:
    """One new finding as the body shows it (every text cut, every number formatted)."""

    kind: str
    deal: str  # the deal id, else the orders of an orphan order
    company: str
    amount: str  # the deal's amount in the base currency, else the orders' total
    gap: str
    reason: str


@dataclass(frozen=True)
class EmailBody:
    """What the e-mail shows, taken from one ReportData; both parts are rendered from it."""

    run_name: str
    as_of: str  # "2026-10-31 (given with --as-of)"; empty when the report has no as-of day
    period: str  # "month-end 2025-11 to 2026-10"; empty when month-end did not run
    generated: str
    currency: str
    status: str  # one sentence: new findings, or none
    level: str  # "action" (new findings), "ok" (none) or "info" (not compared, did not run)
    compared: str  # what the changes are counted against
    changes: tuple[Change, ...]
    figures: tuple[tuple[str, str], ...]  # the report's key figures: label, value
    top_title: str
    top: tuple[Finding, ...]
    more: int  # new findings not listed
    notes: tuple[str, ...]
    version: str


def email_body(report: ReportData, run_name: str = "", top: int = TOP_NEW) -> EmailBody:
    """The body's content from ``report``: its figures as they are, its ``top`` first new
    findings, every text cut to length."""
    run = report.run
    currency = cut(run.base_currency, CUT_CODE)
    as_of = ""
    if run.as_of is not None:
        as_of = run.as_of.isoformat() + (
            f" ({cut(run.as_of_source, CUT_LINE)})" if run.as_of_source else ""
        )
    leakage = report.section("leakage")
    status, level, compared, changes = _status(leakage, currency)
    picked, more, top_title = _top_findings(leakage, top)
    skipped = [s.title for s in report.sections if not s.ran]
    notes = [cut(n, CUT_LINE) for n in run.notes[:MAX_NOTES]]
    if len(run.notes) > MAX_NOTES:
        notes.append(f"and {len(run.notes) - MAX_NOTES:,} more notes in the attached report")
    if skipped:
        notes.append(
            cut(f"Not in this report (those checks did not run): {', '.join(skipped)}", CUT_LINE)
        )
    return EmailBody(
        run_name=cut(run_name or "recon", CUT_LABEL),
        as_of=as_of,
        period=_period(report.section("monthend")),
        generated=run.generated_at.strftime("%Y-%m-%d %H:%M"),
        currency=currency,
        status=status,
        level=level,
        compared=compared,
        changes=changes,
        figures=tuple(
            (cut(f.label, CUT_LABEL), cut(format_value(f.value, f.fmt), CUT_VALUE))
            for f in report.summary[:MAX_FIGURES]
        ),
        top_title=top_title,
        top=picked,
        more=more,
        notes=tuple(notes),
        version=cut(run.recon_version, CUT_CODE),
    )


def _figure(section: Section, key: str) -> Value:
    return next((f.value for f in section.figures if f.key == key), None)


def _amount(value: Value) -> str:
    return cut(format_value(value, "amount"), CUT_VALUE)


def _count(value: Value) -> str:
    return cut(format_value(value, "int"), CUT_VALUE)


def _findings_word(n: Value) -> str:
    return "finding" if n == 1 else "findings"


def _status(leakage: Section | None, currency: str) -> tuple[str, str, str, tuple[Change, ...]]:
    """The run's status in one sentence and its level, what the changes are compared with, and
    new / still open / resolved / accepted as the leakage section counted them."""
    if leakage is None or not leakage.ran:
        return "The leakage check did not run for this report.", "info", "", ()
    changes_table = leakage.table("leakage_changes")
    if changes_table is None:  # no state store: nothing to compare with
        found = _figure(leakage, "leakage_findings") or 0
        value = _figure(leakage, "leakage_value_at_risk")
        status = (
            f"{_count(found)} leakage {_findings_word(found)}, {currency} {_amount(value)} "
            "value at risk; not compared with an earlier run (no state store)."
        )
        return status, "action" if found else "ok", "", ()
    changes = tuple(
        Change(
            cut(row.change, CUT_LABEL),
            _count(row.findings),
            _amount(row.value_at_risk),
        )
        for row in changes_table.frame.itertuples(index=False)
    )
    new = _figure(leakage, "leakage_change_new") or 0
    if new:
        value = _figure(leakage, "leakage_change_new_value")
        status = (
            f"{_count(new)} new {_findings_word(new)}, {currency} {_amount(value)} value at risk."
        )
    else:
        status = "No new findings."
    return status, "action" if new else "ok", cut(changes_table.title, CUT_LINE), changes


def _top_findings(leakage: Section | None, top: int) -> tuple[tuple[Finding, ...], int, str]:
    """The first ``top`` new findings in the Leakage table's order, how many more new ones
    there are, and the title of the list."""
    if leakage is None or not leakage.ran:
        return (), 0, ""
    found = leakage.table("leakage")
    if found is None or top <= 0:
        return (), 0, ""
    frame = found.frame
    order = found.rank if found.rank is not None else np.arange(len(frame))
    if "change" in frame.columns:
        is_new = frame["change"].astype("string").eq("new").fillna(False).to_numpy(dtype=bool)
        order = order[is_new[order]]
    if leakage.table("leakage_changes") is not None:  # compared with the previous run
        total = int(_figure(leakage, "leakage_change_new") or 0)
        what = "new findings"
    else:
        total = found.total
        what = "findings"
    rows = frame.take(order[:top])
    picked = _findings(rows, found)
    title = f"The {len(picked):,} largest {what}" if picked else ""
    if picked and found.ranked_by:
        title += f" ({cut(found.ranked_by, CUT_LINE)})"
    return picked, max(total - len(picked), 0), title


def _column(rows: pd.DataFrame, table: Table, name: str, fmt: Format | None = None) -> list[object]:
    if name not in rows.columns:
        return [None] * len(rows)
    return column_values(rows[name], fmt or table.formats.get(name, "text"))


def _findings(rows: pd.DataFrame, table: Table) -> tuple[Finding, ...]:
    kind = _column(rows, table, "kind", "text")
    deal = _column(rows, table, "deal_id", "text")
    orders = _column(rows, table, "order_ids", "text")
    company = _column(rows, table, "company", "text")
    deal_amount = _column(rows, table, "deal_amount_base", "amount")
    order_total = _column(rows, table, "order_total_base", "amount")
    gap = _column(rows, table, "gap_amount", "amount")
    reason = _column(rows, table, "reason", "text")
    out = []
    for i in range(len(rows)):
        deal_text = cut(deal[i], CUT_ID) or (
            f"orders {cut(orders[i], CUT_ID)}" if orders[i] else ""
        )
        amount = deal_amount[i] if deal_amount[i] is not None else order_total[i]
        out.append(
            Finding(
                kind=cut(kind[i], CUT_ID),
                deal=deal_text,
                company=cut(company[i], CUT_NAME),
                amount=_amount(amount),  # type: ignore[arg-type]
                gap=_amount(gap[i]),  # type: ignore[arg-type]
                reason=cut(reason[i], CUT_REASON),
            )
        )
    return tuple(out)


def _period(monthend: Section | None) -> str:
    """The months the month-end check covered, from its table (empty when it did not run)."""
    months = monthend.table("monthend") if monthend is not None and monthend.ran else None
    if months is None or not len(months.frame.columns) or not len(months.frame):
        return ""
    column = next((c for c in ("month", "period") if c in months.frame), months.frame.columns[0])
    values = months.frame[column].astype(str)
    first, last = cut(values.iloc[0], CUT_ID), cut(values.iloc[-1], CUT_ID)
    return f"month-end {first}" if first == last else f"month-end {first} to {last}"


def _environment(autoescape: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_email(body: EmailBody) -> tuple[str, str]:
    """The plain-text part and the HTML part (every value escaped), from the same ``body``."""
    text = _environment(False).get_template(TEXT_TEMPLATE).render(body=body)
    html = _environment(True).get_template(HTML_TEMPLATE).render(body=body)
    return text, html


def write_email_body(
    report: ReportData, folder: Path, command: str = "", run_id: int | None = None
) -> list[Path]:
    """email_body.txt and email_body.html into ``folder``: the body of the e-mail that delivers
    the report. ``command`` and ``run_id`` (the state store's) name the run in it."""
    name = f"recon {command}" if command else "recon"
    if run_id is not None:
        name += f", run {run_id}"
    text, html = render_email(email_body(report, name))
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / BODY_TEXT_NAME, folder / BODY_HTML_NAME]
    for path, content in zip(paths, (text, html), strict=True):
        path.write_text(content, encoding="utf-8")
    log.info("wrote the e-mail body (%.1f KB)", sum(p.stat().st_size for p in paths) / 1e3)
    return paths


def read_email_body(folder: Path) -> tuple[str, str] | None:
    """The plain text and HTML a run wrote for its e-mail, or None when it wrote none."""
    text, html = folder / BODY_TEXT_NAME, folder / BODY_HTML_NAME
    if not (text.is_file() and html.is_file()):
        return None
    try:
        return text.read_text(encoding="utf-8"), html.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:  # changed since the run wrote it
        log.warning("the e-mail body in %s cannot be read (%s); sending a short one", folder, exc)
        return None
