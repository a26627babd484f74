"""Render ReportData as one self-contained HTML file (inline CSS, JS and SVG; nothing fetched).

Tables travel as JSON inside the page, capped at ``max_rows`` each so a report on 100,000
records opens quickly; the page says where the full table is. Autoescaping is on, and the JSON is
escaped for a <script> element, so no value from the data can run as code.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import jinja2
from markupsafe import Markup

from recon.report.cells import column_values, format_value
from recon.report.data import ReportData, Table
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
    head = table.frame.head(max_rows)
    columns = [str(c) for c in head.columns]
    formats = [table.formats.get(c, "text") for c in columns]
    data = [column_values(head[c], f) for c, f in zip(columns, formats, strict=True)]
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
