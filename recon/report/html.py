"""Render ReportData as one self-contained HTML file (inline CSS, JS and SVG; nothing fetched).

Tables travel as JSON inside the page, capped at ``max_rows`` each so a report on 100,000
records opens quickly; the page says where the full table is. A table's ``beside`` columns (the
names, cities and domains of the records a row names) join its own on the page, and the amounts
inside month-end explanations are grouped and rounded to cents for reading. Autoescaping is on, and the JSON is
escaped for a <script> element, so no value from the data can run as code.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import jinja2
import pandas as pd
from markupsafe import Markup

from recon.report.cells import column_values, format_value
from recon.report.check_sections import readable_amounts
from recon.report.data import Format, ReportData, Table
from recon.report.svg import layout
from recon.resources import templates_dir

log = logging.getLogger(__name__)

MAX_ROWS = 2_000
TEMPLATE = "report.html.j2"
# "</script>" or "<!--" inside JSON would end the script element early.
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = format_value
    env.globals["layout"] = layout
    env.globals["table_json"] = table_json
    return env


def table_json(table: Table, max_rows: int = MAX_ROWS) -> Markup:
    """The first ``max_rows`` rows of a table as JSON that is safe inside <script>."""
    columns, formats, data = _page_columns(table, max_rows)
    rows = [list(r) for r in zip(*data, strict=True)] if data else []
    payload = {
        "key": table.key,
        "columns": columns,
        "formats": formats,
        "rows": rows,
        "total": table.total,
    }
    text = json.dumps(payload, default=_json_default, ensure_ascii=True, allow_nan=False)
    return Markup(text.translate(_SCRIPT_SAFE))


def _page_columns(
    table: Table, max_rows: int
) -> tuple[list[str], list[Format], list[list[object]]]:
    """The first ``max_rows`` rows: the table's columns, its ``lead`` first, each followed by the
    ``beside`` columns placed after it; explanations with readable amounts."""
    head = table.frame.head(max_rows)
    beside = table.beside.head(max_rows) if table.beside is not None else pd.DataFrame()
    columns: list[str] = []
    values: list[pd.Series] = []
    formats: list[Format] = []
    first = [c for c in table.lead if c in head.columns]
    for name in [*first, *(c for c in head.columns if c not in first)]:
        columns.append(str(name))
        values.append(head[name])
        formats.append(table.formats.get(str(name), "text"))
        for extra in beside.columns:
            if table.beside_after.get(str(extra)) == str(name) and str(extra) not in head:
                columns.append(str(extra))
                values.append(beside[extra])
                formats.append("text")
    data = [column_values(v, f) for v, f in zip(values, formats, strict=True)]
    if "explanation" in columns:
        at = columns.index("explanation")
        kinds = head["kind"].astype(str).tolist() if "kind" in head else [""] * len(head)
        data[at] = [
            readable_amounts(v, keep_digits=k == "rounding") if isinstance(v, str) else v
            for v, k in zip(data[at], kinds, strict=True)
        ]
    return columns, formats, data


def _json_default(value: object) -> object:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def render_html(report: ReportData, *, max_rows: int = MAX_ROWS) -> str:
    template = _environment().get_template(TEMPLATE)
    return template.render(report=report, max_rows=max_rows)


def write_html(report: ReportData, path: Path, *, max_rows: int = MAX_ROWS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report, max_rows=max_rows), encoding="utf-8")
    log.info("wrote %s (%.1f MB)", path, path.stat().st_size / 1e6)
    return path
