"""ReportData holds the same figures as the matcher and the checks, computed once."""

from __future__ import annotations

import pandas as pd
import pytest
from report.report_fixtures import (
    AT_RISK_FINDINGS,
    LEAKAGE,
    MONTHEND,
    QUALITY,
    VALUE_AT_RISK,
    by_score,
)

from recon.models import LoadResult, MatchResult
from recon.report.data import REVIEW_DECISIONS, ReportData
from recon.report.match_outputs import review_table


def test_matching_figures_equal_the_match_counts(
    report: ReportData, matched: tuple[LoadResult, MatchResult]
) -> None:
    load, result = matched
    for key, value in result.counts().items():
        assert report.figure(key) == value, key
    matched_, unmatched = report.figure("crm_matched"), report.figure("crm_unmatched")
    assert isinstance(matched_, int) and isinstance(unmatched, int)
    assert matched_ + unmatched == result.counts()["crm_records"]
    xref = result.xref.astype(str)
    erp_entities = set(xref.loc[xref["system"] == "erp", "xref_id"])
    crm = xref[xref["system"] == "crm"]
    assert matched_ == sum(x in erp_entities for x in crm["xref_id"])
    assert report.figure("quarantined_rows") == sum(
        t.rows_quarantined for t in load.tables.values()
    )


def test_score_histogram_counts_every_candidate_pair(
    report: ReportData, matched: tuple[LoadResult, MatchResult]
) -> None:
    section = report.section("matching")
    assert section is not None
    histogram = section.table("score_histogram")
    assert histogram is not None
    assert histogram.frame["pairs"].sum() == len(matched[1].scored)
    (chart,) = section.charts
    assert [m.label for m in chart.markers] == ["auto 0.9", "review 0.4"]
    assert sum(chart.series[0].values) == len(matched[1].scored)


def test_review_table_is_the_matchers_with_a_decision_drop_down(
    report: ReportData, matched: tuple[LoadResult, MatchResult]
) -> None:
    section = report.section("matching")
    assert section is not None
    review = section.table("review")
    assert review is not None
    # the same rows, the highest score (the likeliest match) first
    pd.testing.assert_frame_equal(review.frame, by_score(review_table(matched[1])))
    assert review.choices == {"decision": REVIEW_DECISIONS}
    assert review.editable == ("decision", "reviewer", "reviewed_on", "comment")


def test_leakage_value_at_risk_by_kind_owner_and_month(report: ReportData) -> None:
    assert report.figure("leakage_value_at_risk") == VALUE_AT_RISK
    assert report.figure("leakage_findings") == AT_RISK_FINDINGS
    assert report.figure("leakage_over_billed") == 1
    section = report.section("leakage")
    assert section is not None
    by_owner = section.table("leakage_by_owner")
    assert by_owner is not None
    assert dict(zip(by_owner.frame["owner"], by_owner.frame["value_at_risk"], strict=True)) == {
        "ann": 1000.50,
        "bob": 250.25,
    }
    by_month = section.table("leakage_by_month")
    assert by_month is not None
    assert by_month.frame["value_at_risk"].sum() == pytest.approx(VALUE_AT_RISK)
    leakage = section.table("leakage")
    assert leakage is not None and leakage.rows == len(LEAKAGE)
    assert leakage.formats["deal_id"] == "id" and leakage.formats["gap_amount"] == "amount"
    assert {c.key for c in section.charts} == {"leakage_by_month", "leakage_by_owner"}


def test_monthend_and_quality_figures(report: ReportData) -> None:
    assert report.figure("monthend_won") == MONTHEND["won"].sum()
    section = report.section("monthend")
    assert section is not None
    assert [s.name for s in section.charts[0].series] == [
        "CRM closed-won",
        "ERP ordered",
        "ERP invoiced",
        "ERP paid",
    ]
    assert report.figure("monthend_paid") == MONTHEND["paid"].sum()
    assert report.figure("quality_issues") == len(QUALITY)
    assert report.figure("quality_error") == 2
    section = report.section("quality")
    assert section is not None
    counts = section.table("quality_counts")
    assert counts is not None
    assert counts.frame.to_dict("records") == [
        {"rule": "bad_phone", "severity": "error", "issues": 2},
        {"rule": "missing_domain", "severity": "warning", "issues": 1},
    ]


def test_the_quality_sheet_summarises_each_rule_and_field(report: ReportData) -> None:
    """QUALITY: two bad_phone errors on ERP phones, one missing_domain warning on a CRM domain."""
    section = report.section("quality")
    assert section is not None
    summary = section.table("quality")
    assert summary is not None and summary.sheet == "Data quality"
    rows = summary.frame[["system", "rule", "field", "severity", "findings", "records", "examples"]]
    assert rows.to_dict("records") == [  # errors first
        {"system": "erp", "rule": "bad_phone", "field": "phone", "severity": "error",
         "findings": 2, "records": 2, "examples": "C-7: 123; C-8: +1 (0)"},
        {"system": "crm", "rule": "missing_domain", "field": "domain", "severity": "warning",
         "findings": 1, "records": 1, "examples": "0042: (empty)"},
    ]  # fmt: skip
    assert summary.note == "One row per rule and field; every finding is a row of quality.csv."
    assert report.figure("quality_issues") == len(QUALITY)  # the figures count every finding


def test_checks_that_did_not_run_are_sections_saying_so(bare_report: ReportData) -> None:
    for key in ("leakage", "monthend", "quality"):
        section = bare_report.section(key)
        assert section is not None and not section.ran
        assert "did not run" in section.notes[0]
        assert section.sheets
    assert {f.key for f in bare_report.summary} == {
        "crm_records",
        "erp_records",
        "auto_links",
        "review_pairs",
        "crm_unmatched",
        "erp_unmatched",
        "duplicate_records",
        "quarantined_rows",
    }


def test_run_metadata(report: ReportData) -> None:
    run = report.run
    assert run.thresholds == {"auto": 0.9, "review": 0.4}
    assert "matching.yaml" in dict(run.rules)
    assert {i.table for i in run.inputs} >= {"crm_companies", "erp_orders"}


def test_a_run_past_matching_shows_the_same_tables_and_figures(
    matched: tuple[LoadResult, MatchResult],
) -> None:
    """``recon run`` keeps only the auto and review pairs and the record columns read later,
    and builds the xref, matches and review tables once: the report and files are the same."""
    from recon.pipeline import _pairs_read_later, _records_read_later, record_keys
    from recon.report.data import build_report_data
    from recon.report.match_outputs import match_tables

    load, result = matched
    histogram, trimmed = _pairs_read_later(result)
    trimmed = _records_read_later(trimmed)
    assert set(trimmed.scored["decision"].astype(str)) == {"auto", "review"}
    assert len(trimmed.scored) < len(result.scored)
    assert trimmed.counts() == result.counts()
    pd.testing.assert_frame_equal(record_keys(trimmed), record_keys(result))
    tables = match_tables(trimmed)
    for name, whole in vars(match_tables(result)).items():
        pd.testing.assert_frame_equal(getattr(tables, name), whole)
    run = build_report_data(load, trimmed, score_histogram=histogram, match_tables=tables)
    full = build_report_data(load, result)
    for section in ("matching", "inputs"):
        ran, whole_section = run.section(section), full.section(section)
        assert ran is not None and whole_section is not None
        assert ran.figures == whole_section.figures
        for t, w in zip(ran.tables, whole_section.tables, strict=True):
            pd.testing.assert_frame_equal(t.frame, w.frame)
        assert ran.charts == whole_section.charts
