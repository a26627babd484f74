"""The first screen of report.html: the as-of day and the month-end period in the header, the
"action needed" strip linked to its tables, value at risk by kind with customer-master gaps
apart, severity colours, and tables a person can read at 1,400 pixels — checked on the demo
report in a real Chromium with JavaScript on."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from report.browser import Browser
from report.report_fixtures import AT_RISK_FINDINGS, QUALITY, VALUE_AT_RISK
from typer.testing import CliRunner

from recon.cli import app
from recon.report.check_sections import (
    AT_RISK_KINDS,
    BILLING,
    CUSTOMER_MASTER,
    first_screen,
    monthend_section,
    readable_amounts,
)
from recon.report.data import Figure, ReportData

WIDTH = 1400
ACTIONS = ("new_leakage", "review", "tie_out", "quality_errors")
MAX_LINES = 4  # a reason or explanation cell at 1,400 px is at most this many lines tall

# --- the first screen's figures, from the report fixtures (tests/report/report_fixtures.py) ---


def test_actions_are_the_sections_figures(report: ReportData) -> None:
    first = report.first
    actions = {a.key: a for a in first.actions}
    assert tuple(actions) == ACTIONS
    leakage = actions["new_leakage"]
    # no state store: every open finding of the counted kinds, and said so
    assert leakage.value == AT_RISK_FINDINGS and leakage.amount == VALUE_AT_RISK
    assert "not compared" in leakage.detail and leakage.level == "error"
    assert leakage.target == "table-leakage"
    review = actions["review"]
    assert review.value == report.figure("review_pairs") and review.target == "table-review"
    quality = actions["quality_errors"]
    assert quality.value == int((QUALITY["severity"] == "error").sum()) == 2
    assert quality.level == "error" and "1 warning," in quality.detail
    # the fixture's month-end has no per-step columns: nothing to tie out, and said so
    assert actions["tie_out"].value == "not checked" and actions["tie_out"].level == "info"
    assert first.period == ("2026-09", "2026-10")


def test_value_at_risk_by_kind_reuses_the_leakage_figures(report: ReportData) -> None:
    first = report.first
    assert [(k.kind, k.group, k.findings, k.value) for k in first.at_risk] == [
        ("no_order", BILLING, 1, 1000.50),
        ("under_billed", BILLING, 1, 250.25),
    ]
    assert first.group_value(BILLING) == VALUE_AT_RISK == report.figure("leakage_value_at_risk")


def test_customer_master_gaps_stand_apart_from_billing_leakage(report: ReportData) -> None:
    """A no_erp_customer finding larger than every billing kind still comes after them."""
    leakage = report.section("leakage")
    assert leakage is not None
    extra = (
        Figure("leakage_no_erp_customer", "no_erp_customer: findings", 3),
        Figure("leakage_no_erp_customer_value", "no_erp_customer: value", 9_999.0, "amount"),
    )
    section = replace(leakage, figures=(*leakage.figures, *extra))
    first = first_screen((section,), None, None)
    assert [k.kind for k in first.at_risk] == ["no_order", "under_billed", "no_erp_customer"]
    assert first.group(CUSTOMER_MASTER)[0].value == 9_999.0
    assert first.group_value(BILLING) == VALUE_AT_RISK
    assert set(AT_RISK_KINDS) >= {k.kind for k in first.at_risk}


def _monthend(explained: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two months; October's won→ordered difference of -100 is explained by ``explained``."""
    summary = pd.DataFrame(
        {
            "month": ["2026-09", "2026-10"],
            "won": [100.0, 200.0],
            "ordered": [100.0, 100.0],
            "invoiced": [100.0, 100.0],
            "paid": [100.0, 100.0],
            "won_to_ordered": [0.0, -100.0],
            "ordered_to_invoiced": [0.0, 0.0],
            "invoiced_to_paid": [0.0, 0.0],
        }
    )
    differences = pd.DataFrame(
        {
            "month": ["2026-10"],
            "step": ["won→ordered"],
            "kind": ["no_order"],
            "amount_base": [explained],
            "explanation": ["deal 1 won 2026-10-02 (100.00 USD) has no ERP order"],
        }
    )
    return summary, differences


@pytest.mark.parametrize(
    ("explained", "value", "level"),
    [(-100.0, "ties out", "ok"), (-90.0, "1 of 6 do not tie out", "error")],
)
def test_the_tie_out_adds_the_traced_items_up_again(
    explained: float, value: str, level: str
) -> None:
    summary, differences = _monthend(explained)
    section = monthend_section(summary, differences, "USD")
    tie_out = {a.key: a for a in first_screen((section,), summary, differences).actions}["tie_out"]
    assert (tie_out.value, tie_out.level) == (value, level)
    assert tie_out.detail.startswith("2 months × 3 steps")


def test_explanations_read_as_amounts() -> None:
    text = "invoice INV0000137 of 2025-12-09: paid 14963.5997 of 24913.5123"
    assert readable_amounts(text) == "invoice INV0000137 of 2025-12-09: paid 14,963.60 of 24,913.51"
    # a rounding difference lives past the cents: its digits stay
    rounding = "orders SO1 total 16912.773 against the deal's 16912.7729"
    assert readable_amounts(rounding, keep_digits=True).endswith(
        "16,912.773 against the deal's 16,912.7729"
    )


def test_review_and_duplicates_carry_names_cities_and_domains(report: ReportData) -> None:
    matching = report.section("matching")
    assert matching is not None
    review, duplicates = matching.table("review"), matching.table("duplicates")
    assert review is not None and duplicates is not None
    assert review.beside is not None and duplicates.beside is not None
    assert len(review.beside) == review.rows and len(duplicates.beside) == duplicates.rows
    assert {"left_city", "left_domain", "right_city", "right_domain"} <= set(review.beside)
    assert duplicates.beside["name"].notna().all() and duplicates.beside["city"].notna().any()
    # the workbook's tables keep their own columns
    assert "left_city" not in review.frame and "name" not in duplicates.frame


# --- the demo report in Chromium at 1,400 px ---


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("first-screen") / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _at_width(browser: Browser, width: int) -> None:
    metrics = {"width": width, "height": 1000, "deviceScaleFactor": 1, "mobile": False}
    browser.call("Emulation.setDeviceMetricsOverride", metrics, session=True)


def _js(browser: Browser, body: str) -> Any:
    return browser.evaluate(f"(() => {{ {body} }})()")


def test_the_first_screen_in_chromium(chromium: str, demo: Path, tmp_path: Path) -> None:
    as_of = json.loads((demo / "run.json").read_text(encoding="utf-8"))["as_of"]
    with Browser(chromium, tmp_path / "profile") as browser:
        _at_width(browser, WIDTH)
        browser.open((demo / "report.html").as_uri())
        assert browser.evaluate("document.documentElement.dataset.ready") == "1"
        shot = browser.call("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        png = base64.b64decode(shot)
        (tmp_path / "first-screen.png").write_bytes(png)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") == WIDTH

        header = browser.evaluate("document.querySelector('header').innerText")
        assert f"As of {as_of}" in header
        assert "month-end 2025-11 to 2026-10 (12 months)" in header

        # four actions, on the first screen, each linking to a table that exists
        actions = _js(
            browser,
            """return [...document.querySelectorAll('.actions .action')].map(li => {
                const a = li.querySelector('a'), r = li.getBoundingClientRect();
                const id = a.getAttribute('href').slice(1);
                return {key: li.dataset.key, level: li.className, id: id,
                        exists: document.getElementById(id) !== null, bottom: r.bottom};
            });""",
        )
        assert [a["key"] for a in actions] == list(ACTIONS)
        assert all(a["exists"] for a in actions), actions
        assert all(a["bottom"] < 1000 for a in actions)  # above the fold
        assert "level-error" in actions[3]["level"]  # the demo data has quality errors
        assert "level-ok" in actions[2]["level"]  # and its month-end ties out
        # following a link shows its table below the sticky header
        for action in actions:
            place = _js(
                browser,
                f"""document.querySelector('.action[data-key="{action["key"]}"] a').click();
                const t = document.getElementById('{action["id"]}').getBoundingClientRect();
                const h = document.querySelector('header').getBoundingClientRect();
                return [t.top, h.bottom, window.innerHeight];""",
            )
            top, header_bottom, height = place
            assert header_bottom <= top < height, (action["key"], place)

        # value at risk by kind: billing leakage apart from customer-master gaps, largest first
        groups = _js(
            browser,
            """return Object.fromEntries([...document.querySelectorAll('table.risk')].map(t =>
                [t.dataset.group, [...t.querySelectorAll('tbody tr')].map(r =>
                    [r.dataset.kind, Number(r.dataset.value)])]));""",
        )
        assert [k for k, _ in groups[CUSTOMER_MASTER]] == ["no_erp_customer"]
        assert {k for k, _ in groups[BILLING]} == {"no_order", "under_billed"}
        for kinds in groups.values():
            values = [v for _, v in kinds]
            assert values == sorted(values, reverse=True), kinds
        # findings ranked by value at stake: the counted kinds' gaps, largest first
        ranked = _js(
            browser,
            """const d = JSON.parse(document.querySelector('#table-leakage script.rdata').textContent);
            const k = d.columns.indexOf('kind'), g = d.columns.indexOf('gap_amount');
            return d.rows.map(r => [r[k], Math.abs(r[g] || 0)]);""",
        )
        at_risk = [abs(g) if k in AT_RISK_KINDS else 0.0 for k, g in ranked]
        assert at_risk == sorted(at_risk, reverse=True) and at_risk[0] > 0
        # a kind's link on the first screen filters the findings to that kind
        shown = _js(
            browser,
            """document.querySelector('table.risk a[data-filter="kind:no_order"]').click();
            const box = document.querySelector('#table-leakage');
            const at = [...box.querySelectorAll('th')].findIndex(th => th.textContent === 'kind');
            return [Number(box.dataset.matches),
                    [...box.querySelectorAll('tbody tr')].map(r => r.children[at].textContent)];""",
        )
        assert shown[0] == sum(k == "no_order" for k, _ in ranked) > 0
        assert set(shown[1]) == {"no_order"}

        # severity: error red, warning amber, info grey, on rows and badges
        severity = _js(
            browser,
            """const box = document.querySelector('#table-quality');
            const colour = s => getComputedStyle(box.querySelector('.badge.sev-' + s)).backgroundColor;
            return {rows: [...box.querySelectorAll('tbody tr')].map(r => r.className),
                    error: colour('error'), warning: colour('warning'), info: colour('info')};""",
        )
        assert severity["rows"][0] == "sev-error"  # errors first
        assert {"sev-error", "sev-warning", "sev-info"} <= set(severity["rows"])
        assert severity["error"] == "rgb(192, 57, 43)"
        assert severity["warning"] == "rgb(217, 140, 0)"
        assert severity["info"] == "rgb(138, 148, 160)"

        # reasons and explanations a few lines tall; months on one line
        for table in ("leakage", "monthend_differences", "review", "duplicates", "quality"):
            lines = _js(
                browser,
                f"""const cells = [...document.querySelectorAll('#table-{table} td.prose')];
                return cells.map(td => {{
                    const s = getComputedStyle(td);
                    const inner = td.clientHeight - parseFloat(s.paddingTop) - parseFloat(s.paddingBottom);
                    return inner / parseFloat(s.lineHeight);
                }});""",
            )
            assert lines, table
            assert max(lines) <= MAX_LINES + 0.1, (table, max(lines))
        months = _js(
            browser,
            """return [...document.querySelectorAll('#table-monthend_differences td.nowrap')]
                .map(td => { const r = document.createRange(); r.selectNodeContents(td);
                             return r.getClientRects().length; });""",
        )
        assert months and max(months) == 1, months  # one line box each
        # amounts in the month-end explanations are grouped and rounded to cents
        explanations = _js(
            browser,
            """const box = document.querySelector('#table-monthend_differences');
            const at = [...box.querySelectorAll('th')].findIndex(th => th.textContent.startsWith('explanation'));
            return [...box.querySelectorAll('tbody tr')].map(r => r.children[at].textContent);""",
        )
        assert any("," in e for e in explanations)
        assert not any(re.search(r"\b\d{4,}\.\d", e) for e in explanations)

        # names, cities and domains next to the ids
        headers = {
            table: _js(
                browser,
                f"""return [...document.querySelectorAll('#table-{table} th')].map(th => th.textContent);""",
            )
            for table in ("review", "duplicates")
        }
        dup = headers["duplicates"]
        assert dup[dup.index("record_id") + 1 : dup.index("record_id") + 4] == [
            "name",
            "city",
            "domain",
        ]
        review = headers["review"]
        assert review[review.index("left_name") + 1 : review.index("left_name") + 3] == [
            "left_city",
            "left_domain",
        ]

        # chart titles say what the bars show
        owners = _js(
            browser,
            """const f = document.querySelector('#chart-leakage_by_owner');
            const rows = JSON.parse(document.querySelector('#table-leakage_by_owner script.rdata').textContent).rows;
            return [f.querySelector('figcaption').textContent, f.querySelectorAll('rect').length, rows.length];""",
        )
        title, bars, rows = owners
        expected = "all" if rows == bars else f"the {bars} largest of {rows}"
        assert f"by deal owner, {expected}" in title
        assert browser.errors() == []
