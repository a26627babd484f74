"""The HTML report: one self-contained, escaped file; in a real browser it runs without errors,
shows the key figures and its tables filter."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from report.browser import Browser
from report.report_fixtures import FORMULA_NAME, SCRIPT_NAME, VALUE_AT_RISK

from recon.report.cells import format_value
from recon.report.data import ReportData
from recon.report.html import render_html, write_html

CAP = 50  # rows embedded per table in these tests; the xref table of the sample is longer


@pytest.fixture(scope="module")
def page(report: ReportData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_html(report, tmp_path_factory.mktemp("html") / "report.html", max_rows=CAP)


def test_self_contained_and_escaped(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    # Nothing is fetched: no external scripts, styles, images or fonts.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "url(" not in html
    # The company names reach the page only as escaped JSON text.
    assert SCRIPT_NAME not in html and "<img" not in html
    assert "\\u003cscript\\u003ewindow.pwned=1\\u003c/script\\u003e" in html


def test_tables_are_capped_with_a_note(report: ReportData, page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    section = report.section("matching")
    assert section is not None
    xref = section.table("xref")
    assert xref is not None and xref.rows > CAP
    payloads = re.findall(r'<script type="application/json" class="rdata">(.*?)</script>', html)
    tables = {p["key"]: p for p in map(json.loads, payloads)}
    assert len(tables["xref"]["rows"]) == CAP and tables["xref"]["total"] == xref.rows
    assert f"The page holds the first {CAP} of {xref.rows:,} rows" in html


def test_checks_that_did_not_run_say_so(bare_report: ReportData) -> None:
    html = render_html(bare_report)
    assert "The leakage check did not run for this report." in html
    assert 'id="chart-leakage_by_month"' not in html


def test_charts_are_inline_svg(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    charts = (
        "score_distribution",
        "leakage_by_month",
        "leakage_by_owner",
        "monthend_revenue",
        "quality_by_rule",
    )
    for key in charts:
        assert f'<figure class="chart" id="chart-{key}">' in html
    assert html.count("<svg") == len(charts)


def test_in_a_real_browser(chromium: str, page: Path, report: ReportData, tmp_path: Path) -> None:
    with Browser(chromium, tmp_path / "profile") as browser:
        browser.open(page.as_uri())
        assert browser.evaluate("document.documentElement.dataset.ready") == "1"
        assert browser.errors() == []
        # The company named like markup stays text and never runs.
        assert browser.evaluate("window.pwned === undefined")
        text = browser.evaluate("document.body.innerText")
        for figure in report.summary:
            assert format_value(figure.value, figure.fmt) in text, figure.key
        assert f"{VALUE_AT_RISK:,.2f}" in text
        shown = browser.evaluate("document.querySelector('#table-leakage').innerText")
        assert SCRIPT_NAME in shown and FORMULA_NAME in shown
        # A filter narrows the table: one xref id has exactly its records.
        first = report.section("matching").table("xref").frame.head(CAP)  # type: ignore[union-attr]
        xref_id = first["xref_id"].iloc[0]
        expected = int((first["xref_id"] == xref_id).sum())
        rows = browser.evaluate(
            f"""(() => {{
                const box = document.querySelector('#table-xref');
                const input = box.querySelector('input.filter');
                input.value = 'xref_id:{xref_id.lower()}';
                input.dispatchEvent(new Event('input'));
                return [Number(box.dataset.matches), box.querySelectorAll('tbody tr').length];
            }})()"""
        )
        assert rows == [expected, expected]
        assert expected < CAP
        # Sorting by score puts the highest first on a second click.
        top = browser.evaluate(
            """(() => {
                const box = document.querySelector('#table-matches');
                const button = [...box.querySelectorAll('th button')].find(b => b.textContent === 'score');
                button.click(); button.click();
                return box.querySelector('tbody tr td:nth-child(5)').textContent;
            })()"""
        )
        scores = report.section("matching").table("matches").frame["score"].head(CAP)  # type: ignore[union-attr]
        assert float(top) == pytest.approx(scores.max(), abs=1e-4)
        assert browser.errors() == []
