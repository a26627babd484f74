"""The e-mail body: what changed since the previous run and the largest new findings, read from the
report's own figures and table; static (no script, nothing fetched), escaped, shown by a browser
with JavaScript off, and under 100 KB whatever the data holds.

The weekly report below is written down: 27 new findings (26 counted as leakage, NEW_GAPS, and
one pending deal larger than all of them, which is listed but not counted, so it ranks after
them), 3 still open plus 1 whose acceptance expired, 2 resolved and 1 accepted.
"""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from report.browser import Browser
from report.report_fixtures import GENERATED_AT, MONTHEND, QUALITY, SCRIPT_NAME

from recon.models import LoadResult, MatchResult
from recon.report.data import (
    Figure,
    LeakageHistory,
    ReportData,
    RunInfo,
    Section,
    build_report_data,
    most_valuable_first,
    table,
)
from recon.report.email_body import (
    BODY_HTML_NAME,
    BODY_TEXT_NAME,
    MAX_BODY_BYTES,
    TOP_NEW,
    cut,
    email_body,
    read_email_body,
    render_email,
    write_email_body,
)
from recon.report.html import render_html
from recon.report.options import OutputOptions

AS_OF = dt.date(2026, 10, 31)
PREVIOUS = "2026-10-24, run 3"
NEW_GAPS = [float(1_000 * (i + 1) + i) for i in range(26)]  # 1,000.00 … 26,025.00
NEW_COUNT = 27  # the 26 above and one pending deal
MORE = NEW_COUNT - TOP_NEW  # 7
OPEN, RESOLVED, ACCEPTED = 4, 2, 1  # still open: 3 open and 1 expired acceptance
PENDING_AMOUNT = 9_999_999.0
TOP_NAME = SCRIPT_NAME  # the company of the largest new finding


def findings(new_gaps: list[float], pending: bool = True) -> pd.DataFrame:
    """Findings with their lifecycle, in an order the report must not keep (shuffled)."""
    rows = []
    for i, gap in enumerate(new_gaps):
        rows.append(
            ("new", f"D-{i:03d}", f"Company {i:03d}", gap, gap, "no_order", f"reason {i:03d}")
        )
    if new_gaps:
        largest = int(np.argmax(new_gaps))
        rows[largest] = (*rows[largest][:2], TOP_NAME, *rows[largest][3:])
    if pending:
        rows.append(
            ("new", "D-PEND", "Pending Ltd", PENDING_AMOUNT, PENDING_AMOUNT, "pending", "grace")
        )
    for change, n, gap in (
        ("open", 3, 5e7),
        ("expired", 1, 4e7),
        ("resolved", RESOLVED, 3e7),
        ("accepted", ACCEPTED, 2e7),
    ):  # larger than every new one: ranked first in the report, never listed as new
        rows += [
            (change, f"D-{change}{j}", f"{change} Co {j}", gap, gap, "no_order", change)
            for j in range(n)
        ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "change",
            "deal_id",
            "company",
            "deal_amount_base",
            "gap_amount",
            "kind",
            "reason",
        ],
    )
    frame.insert(0, "finding_id", [f"F-{i:016x}" for i in range(len(frame))])
    frame["order_ids"] = None
    frame["order_total_base"] = 0.0
    frame["owner"] = "ann"
    frame["close_date"] = pd.Timestamp("2026-09-01")
    return frame.sample(frac=1.0, random_state=7).reset_index(drop=True)


def weekly(matched: tuple[LoadResult, MatchResult], frame: pd.DataFrame) -> ReportData:
    load, result = matched
    return build_report_data(
        load,
        result,
        leakage=frame,
        monthend=MONTHEND,
        quality=QUALITY,
        generated_at=GENERATED_AT,
        leakage_history=LeakageHistory(PREVIOUS, (("2026-10-24 #3", 1.0),)),
        as_of=AS_OF,
        as_of_source="given with --as-of",
    )


@pytest.fixture(scope="module")
def report(matched: tuple[LoadResult, MatchResult]) -> ReportData:
    return weekly(matched, findings(NEW_GAPS))


def test_the_counts_and_values_are_the_reports_own(report: ReportData) -> None:
    body = email_body(report, "recon leakage, run 4")
    currency = report.run.base_currency
    assert body.run_name == "recon leakage, run 4"
    assert body.as_of == "2026-10-31 (given with --as-of)"
    assert body.period == "month-end 2026-09 to 2026-10"
    assert (
        body.compared
        == f"What changed since last week: compared with the previous run ({PREVIOUS})"
    )
    expected = []
    for key, label in (
        ("new", "new"),
        ("open", "still open"),
        ("resolved", "resolved"),
        ("accepted", "accepted"),
    ):
        value = report.figure(f"leakage_change_{key}_value")
        expected.append((label, f"{report.figure(f'leakage_change_{key}'):,}", f"{value:,.2f}"))
    assert [(c.label, c.findings, c.value) for c in body.changes] == expected
    counts = [int(c.findings) for c in body.changes]
    assert counts == [NEW_COUNT, OPEN, RESOLVED, ACCEPTED]
    assert body.changes[0].value == f"{sum(NEW_GAPS):,.2f}"  # the pending deal is not at risk
    assert body.level == "action"
    assert (
        body.status == f"{NEW_COUNT} new findings, {currency} {sum(NEW_GAPS):,.2f} value at risk."
    )
    assert dict(body.figures)["data-quality issues"] == "3"


def test_the_20_largest_new_findings_first_and_the_rest_counted(report: ReportData) -> None:
    body = email_body(report)
    largest = sorted(NEW_GAPS, reverse=True)[:TOP_NEW]
    assert [f.gap for f in body.top] == [f"{g:,.2f}" for g in largest]
    assert body.top[0].company == TOP_NAME
    assert all(f.kind == "no_order" and f.deal.startswith("D-0") for f in body.top)
    assert "D-PEND" not in {f.deal for f in body.top}  # larger, but not counted as leakage
    assert body.more == MORE
    assert body.top_title.startswith(f"The {TOP_NEW} largest new findings (largest value at risk")
    text, html = render_email(body)
    assert f"and {MORE} more in the attached report" in text
    assert f"and {MORE} more in the attached report" in html
    positions = [text.index(f"gap {g:,.2f}") for g in largest]
    assert positions == sorted(positions)


def test_a_capped_table_still_gives_the_largest_new_ones(
    matched: tuple[LoadResult, MatchResult],
) -> None:
    """The workbook keeps the most valuable rows only (``sheet_rows``): the body lists the new
    ones among them (still the largest new ones) and counts the rest from the figures."""
    load, result = matched
    report = build_report_data(
        load,
        result,
        leakage=findings(NEW_GAPS),
        generated_at=GENERATED_AT,
        leakage_history=LeakageHistory(PREVIOUS),
        options=OutputOptions(sheet_rows=15),
    )  # the 4 open ones rank first (value at risk), then the 11 largest new ones
    leakage = report.section("leakage")
    assert leakage is not None and (leakage.table("leakage") or pytest.fail()).capped
    body = email_body(report)
    assert [f.gap for f in body.top] == [f"{g:,.2f}" for g in sorted(NEW_GAPS, reverse=True)[:11]]
    assert body.more == NEW_COUNT - 11


def test_no_more_line_when_every_new_finding_is_listed(
    matched: tuple[LoadResult, MatchResult],
) -> None:
    body = email_body(weekly(matched, findings(NEW_GAPS[:TOP_NEW], pending=False)))
    assert len(body.top) == TOP_NEW and body.more == 0
    text, html = render_email(body)
    assert "more in the attached report" not in text and "more in the attached report" not in html


def test_nothing_new_says_so(matched: tuple[LoadResult, MatchResult]) -> None:
    body = email_body(weekly(matched, findings([], pending=False)))
    assert body.status == "No new findings." and body.level == "ok"
    assert body.top == () and body.more == 0
    text, html = render_email(body)
    assert "No new findings." in text and "No new findings." in html
    assert "largest new findings" not in html


def test_without_a_store_the_largest_findings_are_listed(
    matched: tuple[LoadResult, MatchResult],
) -> None:
    load, result = matched
    frame = findings(NEW_GAPS).drop(columns="change")
    body = email_body(build_report_data(load, result, leakage=frame, generated_at=GENERATED_AT))
    assert body.changes == () and body.compared == ""
    assert "not compared with an earlier run (no state store)" in body.status
    assert body.top_title.startswith(f"The {TOP_NEW} largest findings")
    assert body.more == len(frame) - TOP_NEW
    assert body.period == "" and "did not run" in body.notes[-1]


def test_every_value_is_escaped_and_the_body_fetches_nothing(report: ReportData) -> None:
    text, html = render_email(email_body(report, 'run "<b>4</b>" & co'))
    assert SCRIPT_NAME in text  # the plain text shows the name as it is
    assert "&lt;img src=x onerror=&#34;window.pwned=1&#34;&gt;&lt;script&gt;" in html
    assert "&#34;&lt;b&gt;4&lt;/b&gt;&#34; &amp; co" in html
    tags, attributes = markup(html)
    assert not tags & {"script", "style", "link", "img", "iframe", "object", "embed", "form"}
    assert not {name for name, _ in attributes} & {"src", "href", "background", "srcset"}
    assert not [v for name, v in attributes if name.startswith("on") or "url(" in (v or "")]


def markup(html: str) -> tuple[set[str], list[tuple[str, str | None]]]:
    """The tags and the attributes of an HTML text, as a browser's parser reads them."""
    tags: set[str] = set()
    attributes: list[tuple[str, str | None]] = []

    class Reader(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.add(tag)
            attributes.extend(attrs)

    Reader().feed(html)
    return tags, attributes


def test_in_a_browser_with_javascript_off(
    chromium: str, report: ReportData, tmp_path: Path
) -> None:
    """What a mail client shows: the body's text as the browser lays it out, scripts disabled.
    report.html in the same browser shows its tables' "Turn on JavaScript" note instead."""
    (tmp_path / "report.html").write_text(render_html(report), encoding="utf-8")
    write_email_body(report, tmp_path, "leakage", 4)
    with Browser(chromium, tmp_path / "profile") as browser:
        browser.call("Emulation.setScriptExecutionDisabled", {"value": True}, session=True)
        browser.open((tmp_path / BODY_HTML_NAME).as_uri())
        shown = browser.evaluate("document.body.innerText")
        shown_rows = browser.evaluate(
            "[...document.querySelectorAll('tr')].filter(r => r.getClientRects().length)"
            ".map(r => r.innerText)"
        )  # the rows laid out on the page, each as its cells' text
        assert browser.errors() == []
    lines = [line.strip() for line in shown.splitlines() if line.strip()]
    assert lines[0] == "recon leakage, run 4"
    assert "As of 2026-10-31 (given with --as-of)" in lines[1]
    assert f"{NEW_COUNT} new findings" in shown
    changes = [
        line.split("\t")
        for line in lines
        if line.split("\t")[0] in ("new", "still open", "resolved", "accepted")
    ]
    assert [(c[0], c[1]) for c in changes] == [
        ("new", str(NEW_COUNT)), ("still open", str(OPEN)), ("resolved", str(RESOLVED)), ("accepted", str(ACCEPTED)),
    ]  # fmt: skip
    largest = sorted(NEW_GAPS, reverse=True)[:TOP_NEW]
    rows = [row for row in shown_rows if re.match(r"^\d+\tno_order\t", row)]
    assert len(rows) == TOP_NEW
    for rank, (row, gap) in enumerate(zip(rows, largest, strict=True), start=1):
        assert row.startswith(f"{rank}\tno_order\tD-0") and f"\t{gap:,.2f}\t{gap:,.2f}\t" in row
    assert TOP_NAME in rows[0]  # shown as text, not run
    assert f"and {MORE} more in the attached report" in shown
    assert "Turn on JavaScript" not in shown

    with Browser(chromium, tmp_path / "profile-report") as browser:
        browser.call("Emulation.setScriptExecutionDisabled", {"value": True}, session=True)
        browser.open((tmp_path / "report.html").as_uri())
        assert "Turn on JavaScript to see this table" in browser.evaluate("document.body.innerText")


def test_written_next_to_the_report_and_read_back(report: ReportData, tmp_path: Path) -> None:
    assert read_email_body(tmp_path) is None
    paths = write_email_body(report, tmp_path, "run", 7)
    assert [p.name for p in paths] == [BODY_TEXT_NAME, BODY_HTML_NAME]
    text, html = read_email_body(tmp_path) or ("", "")
    assert text.startswith("recon run, run 7\n")
    assert "<title>recon run, run 7 as of 2026-10-31" in html
    (tmp_path / BODY_TEXT_NAME).write_bytes(b"\xff not UTF-8")  # changed since: not used
    assert read_email_body(tmp_path) is None


# --- the size bound -------------------------------------------------------------------------------

WIDE = ["&" * 5_000, "\U0001f4a9" * 5_000, "<'\">" * 2_000, "é" * 10_000, "x\n\t\x00" * 3_000]


def _strings(n: int, values: list[str]) -> pd.Series:
    """``n`` strings cycling through ``values`` (shared objects: a million of them cost 8 MB)."""
    out = np.empty(n, dtype=object)
    for i, value in enumerate(values):
        out[i :: len(values)] = value
    return pd.Series(out, dtype=object)


def _absurd(n: int, text: str) -> ReportData:
    """A report with ``n`` findings whose every text is ``text``-like and long: built as the
    report's own Section and Table, without grouping a million long strings."""
    rng = np.random.default_rng(3)
    words = [text, text[::-1], text + "1"]
    frame = pd.DataFrame(
        {
            "finding_id": _strings(n, words),
            "change": _strings(n, ["new", "open", "new", "resolved", "accepted", "expired"]),
            "deal_id": _strings(n, words),
            "company": _strings(n, words),
            "deal_amount_base": rng.uniform(-1e15, 1e15, n),
            "order_ids": _strings(n, words),
            "order_total_base": rng.uniform(-1e15, 1e15, n),
            "gap_amount": rng.uniform(-1e15, 1e15, n),
            "kind": _strings(n, [*words, "no_order"]),
            "reason": _strings(n, words),
        }
    )
    keys = ("new", "open", "resolved", "accepted")
    figures = [Figure(f"leakage_change_{k}", text, n, "int") for k in keys]
    figures += [Figure(f"leakage_change_{k}_value", text, -1e15, "amount") for k in keys]
    changes = pd.DataFrame(
        {"change": [text] * 4, "findings": [n] * 4, "value_at_risk": [-1e15] * 4}
    )
    leakage = Section(
        "leakage",
        text,
        figures=tuple(figures),
        tables=(
            table("leakage_changes", text, changes),
            table("leakage", text, frame, sheet="Leakage", ranked_by=text,
                  rank=most_valuable_first(frame["gap_amount"].abs())),
        ),
    )  # fmt: skip
    monthend = Section(
        "monthend",
        text,
        tables=(table("monthend", text, pd.DataFrame({"month": [text, text + "2"]})),),
    )
    headline = Section(
        "x",
        text,
        figures=tuple(Figure(text, text, text, "text", headline=True) for _ in range(200)),
    )
    skipped = tuple(Section(text, text, ran=False) for _ in range(200))
    run = RunInfo(
        text, GENERATED_AT, text, (), (), {}, notes=(text,) * 500, as_of=AS_OF, as_of_source=text
    )
    return ReportData(run, (leakage, monthend, headline, *skipped))


def _size(report: ReportData) -> tuple[int, int]:
    text, html = render_email(email_body(report, "&" * 10_000))
    return len(text.encode("utf-8")), len(html.encode("utf-8"))


def test_a_million_findings_with_absurd_names_stay_under_100_kb() -> None:
    for text in WIDE:
        report = _absurd(1_000_000, text)
        body = email_body(report)
        assert len(body.top) == TOP_NEW and body.more == 1_000_000 - TOP_NEW
        text_bytes, html_bytes = _size(report)
        assert text_bytes + html_bytes <= MAX_BODY_BYTES, (text[:3], text_bytes, html_bytes)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(min_size=1, max_size=3_000))
@example("&" * 3_000)
@example("\U0001f4a9" * 3_000)
def test_any_text_stays_under_100_kb(text: str) -> None:
    report = _absurd(TOP_NEW + 5, text)
    text_bytes, html_bytes = _size(report)
    assert text_bytes + html_bytes <= MAX_BODY_BYTES


@given(st.text(max_size=400), st.integers(4, 300))
@example("\U0001f4a9" * 10, 9)
@example("a\r\nb\u2028c", 40)
def test_cut_is_one_line_within_its_bytes(text: str, limit: int) -> None:
    out = cut(text, limit)
    assert len(out.encode("utf-8")) <= limit
    assert "\n" not in out and "\r" not in out and "\u2028" not in out
    assert cut(out, limit) == out
    whole = cut(text, 10**6)  # the same text, not cut
    assert out == whole or (out.endswith("…") and whole.startswith(out[:-1]))
