"""Data rows of large sheets, serialised straight to sheet XML and spliced into the saved file.

openpyxl writes each sheet's frame (header, column widths, styles, filter, validations,
protection); its per-cell path costs about 13 µs a cell, a minute for the 3 million cells of a
100,000-entity report. Here a row is one string join, with the very style ids openpyxl registered
for the column's cells, so both paths produce the same cells.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO
from xml.etree import ElementTree

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from recon.report.cells import FORMULA_START

MAX_TEXT = 32_767  # characters per cell
_EPOCH = dt.date(1899, 12, 30)  # Excel's day 0 (1900 date system, after its 1900 leap bug)
_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


class ColumnStyle:
    """Style ids of one column: plain, quote-prefixed text, and empty (for unlocked cells)."""

    def __init__(self, fmt: str, plain: int, quoted: int, empty: int | None) -> None:
        self.kind = "text" if fmt in ("id", "text") else fmt
        self.plain, self.quoted, self.empty = plain, quoted, empty


def write_rows(
    out: TextIO, columns: Sequence[list[object]], styles: Sequence[ColumnStyle], first_row: int
) -> None:
    letters = [get_column_letter(i + 1) for i in range(len(columns))]
    plan = list(zip(letters, columns, styles, strict=True))
    for r in range(len(columns[0]) if columns else 0):
        row = first_row + r
        parts = [f'<row r="{row}">']
        for letter, values, style in plan:
            cell = _cell(values[r], style, f"{letter}{row}")
            if cell:
                parts.append(cell)
        parts.append("</row>")
        out.write("".join(parts))


def _cell(value: object, style: ColumnStyle, ref: str) -> str:
    if value is None:
        return f'<c r="{ref}" s="{style.empty}"/>' if style.empty is not None else ""
    kind = style.kind
    if kind == "text":
        text = ILLEGAL_CHARACTERS_RE.sub("", str(value))[:MAX_TEXT]
        sid = style.quoted if FORMULA_START.match(text) else style.plain
        space = ' xml:space="preserve"' if text != text.strip() else ""
        return f'<c r="{ref}" s="{sid}" t="inlineStr"><is><t{space}>{text.translate(_ESCAPE)}</t></is></c>'
    if kind == "date":
        number: object = (value - _EPOCH).days  # type: ignore[operator]
    elif kind == "int":
        number = int(value)  # type: ignore[call-overload]
    else:
        number = float(value)  # type: ignore[arg-type]
        if not math.isfinite(number):  # type: ignore[arg-type]
            return ""
        number = repr(number)
    return f'<c r="{ref}" s="{style.plain}"><v>{number}</v></c>'


def splice(path: Path, rows: dict[str, tuple[Path, str]]) -> None:
    """Insert each sheet's rows file (by sheet name) before its </sheetData>; set its dimension."""
    if not rows:
        return
    targets = _sheet_paths(path)
    by_member = {targets[name]: value for name, value in rows.items()}
    spliced = path.with_suffix(".splicing")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(spliced, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename not in by_member:
                dst.writestr(info, src.read(info.filename))
                continue
            rows_file, dimension = by_member[info.filename]
            xml = src.read(info.filename).decode("utf-8")
            xml = re.sub(
                r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{dimension}"/>', xml, count=1
            )
            head, tail = xml.split("</sheetData>", 1)
            with (
                dst.open(info.filename, "w", force_zip64=True) as member,
                rows_file.open("rb") as body,
            ):
                member.write(head.encode("utf-8"))
                shutil.copyfileobj(body, member, 1 << 20)
                member.write(("</sheetData>" + tail).encode("utf-8"))
    spliced.replace(path)


def _sheet_paths(path: Path) -> dict[str, str]:
    """Sheet name -> its XML member, from the workbook and its relationships."""
    ns = {
        "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        "p": "http://schemas.openxmlformats.org/package/2006/relationships",
    }
    with zipfile.ZipFile(path) as book:
        workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("p:Relationship", ns)}
    out = {}
    for sheet in workbook.findall("m:sheets/m:sheet", ns):
        target = targets[sheet.get(f"{{{ns['r']}}}id")]
        out[sheet.get("name", "")] = (
            target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        )
    return out
