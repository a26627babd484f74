"""Counts by rule and severity, and the score per system: share of records with no error."""

from __future__ import annotations

from checks.quality_helpers import companies, customers, run

# C1: error (no country) and info (all caps); C2: warning only; C3: clean. E1: clean.
CRM = companies(
    {"name": "ACME TRADING", "country": None},
    {"email": "x@gmail.com"},
    {},
)
CRM_WITH_ERROR = 1


def test_scores_count_only_error_findings() -> None:
    result = run(CRM, customers({}))
    scores = result.scores.set_index("table")
    crm = scores.loc["crm_companies"]
    assert (crm["records"], crm["records_with_errors"], crm["records_with_warnings"]) == (
        3,
        CRM_WITH_ERROR,
        1,
    )
    assert crm["score"] == round(1 - CRM_WITH_ERROR / 3, 4)
    assert scores.loc["erp_customers", "score"] == 1.0


def test_counts_by_rule_and_severity() -> None:
    result = run(CRM, customers({}))
    by_rule = result.by_rule.set_index(["table", "rule"])
    assert by_rule.loc[("crm_companies", "required"), "severity"] == "error"
    assert by_rule.loc[("crm_companies", "required"), "findings"] == 1
    assert by_rule.loc[("crm_companies", "freemail_domain"), "records_flagged"] == 1
    assert result.counts() == {"error": 1, "warning": 1, "info": 1, "findings": 3}


def test_summary_table_has_rule_rows_then_score_rows() -> None:
    from recon.report.quality_outputs import summary_table

    table = summary_table(run(CRM, customers({})))
    assert table["section"].tolist() == ["by rule"] * 3 + ["score"] * 2
    score = table[table["section"] == "score"].set_index("table")
    assert score.loc["crm_companies", "records_flagged"] == CRM_WITH_ERROR
