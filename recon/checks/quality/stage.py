"""The quality stage: record checks, deal checks and field drift, as one pure function."""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.checks.quality import text as tx
from recon.checks.quality.deals import won_negative_amount, won_without_amount
from recon.checks.quality.drift import Side, field_drift, not_compared
from recon.checks.quality.findings import SEVERITIES, Subject, combine
from recon.checks.quality.records import missing_words, record_checks, required
from recon.checks.quality.summary import SCORE_BASIS, by_rule, scores
from recon.config.quality import QualityRules
from recon.extract.load import DEFAULT_WON_STAGES
from recon.normalize import NormalizeRules, normalize_records
from recon.normalize.country_evidence import infer_countries
from recon.normalize.names import resolve_rules

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QualityResult:
    """What the quality stage found, ready for the report."""

    findings: pd.DataFrame  # one row per finding: FINDING_COLUMNS
    by_rule: pd.DataFrame  # counts by system, table, rule and severity
    scores: pd.DataFrame  # per system and table: records, findings, score
    as_of: dt.date
    notes: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    score_basis: str = SCORE_BASIS

    def counts(self) -> dict[str, int]:
        """Findings by severity, and in all."""
        found = self.findings["severity"].value_counts()
        out = {s: int(found.get(s, 0)) for s in SEVERITIES}
        out["findings"] = len(self.findings)
        return out


def _xref_of(xref: pd.DataFrame | None, system: str, ids: pd.Series) -> pd.Series:
    """The xref_id of each id of ``system`` (Arrow hash lookup: a million ids in well under 1 s)."""
    if xref is None:
        return tx.to_series(pa.nulls(len(ids), tx.STRING))
    mine = xref[xref["system"].astype(str) == system]
    known = tx.text(mine, "record_id")
    where = pc.index_in(tx.text(pd.DataFrame({"id": ids}), "id"), value_set=known)
    return tx.to_series(tx.text(mine, "xref_id").take(where))


def _keys(
    records: pd.DataFrame | None,
    raw: pd.DataFrame,
    ids: pd.Series,
    system: str,
    rules: NormalizeRules,
) -> pd.DataFrame:
    """The normalized keys of ``raw``: taken from the matcher's records when they are there."""
    if records is not None:
        # build_records puts the CRM rows first, then the ERP rows, each in frame order.
        is_crm = (records["system"].astype(str) == "crm").to_numpy()
        n_crm = int(is_crm.sum())
        mine = records.iloc[:n_crm] if system == "crm" else records.iloc[n_crm:]
        if len(mine) == len(raw) and is_crm[:n_crm].all():
            same = pc.equal(tx.series_text(mine["record_id"]), tx.series_text(ids))
            if pc.all(pc.fill_null(same, False)).as_py() is not False:
                return mine.reset_index(drop=True)
    keys = normalize_records(raw, system, rules).reset_index(drop=True)  # type: ignore[arg-type]
    keys["country_inferred"] = infer_countries(keys, rules)
    return keys


def check_quality(
    companies: pd.DataFrame,
    customers: pd.DataFrame,
    rules: QualityRules,
    *,
    deals: pd.DataFrame | None = None,
    records: pd.DataFrame | None = None,
    xref: pd.DataFrame | None = None,
    won_stages: tuple[str, ...] = DEFAULT_WON_STAGES,
    as_of: dt.date | None = None,
    normalize_rules: NormalizeRules | None = None,
) -> QualityResult:
    """Findings for every CRM company, ERP customer and CRM deal, and drift between linked pairs.

    ``records`` are the matcher's normalized records (CRM rows first, in ``companies`` order, then
    ERP in ``customers`` order); without them the records are normalized here. ``xref`` (system,
    record_id, xref_id) links them; without it no drift is measured and xref_id stays empty.
    """
    as_of = as_of or dt.date.today()
    norm = resolve_rules(normalize_rules)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    notes: list[str] = []
    sides = []
    parts: list[pd.DataFrame] = []
    for system, table, raw, key in (
        ("crm", "crm_companies", companies, "company_id"),
        ("erp", "erp_customers", customers, "customer_id"),
    ):
        raw = raw.reset_index(drop=True)
        ids = raw[key].astype("string")
        side = Side(
            system,
            table,
            raw,
            _keys(records, raw, ids, system, norm),
            ids,
            _xref_of(xref, system, ids),
        )
        sides.append(side)
        subject = Subject(system, table, side.record_id, side.xref_id)
        parts += record_checks(subject, raw, side.keys, rules.checks, norm, as_of)
    counted = {("crm", "crm_companies"): len(companies), ("erp", "erp_customers"): len(customers)}
    if deals is not None:
        deals = deals.reset_index(drop=True)
        counted[("crm", "crm_deals")] = len(deals)
        subject = Subject(
            "crm",
            "crm_deals",
            deals["deal_id"].astype("string"),
            _xref_of(xref, "crm", deals["company_id"].astype("string")),
        )
        if rules.checks.required.enabled:
            parts += required(subject, deals, rules.checks, missing_words(norm))
        for check, run in (
            (rules.checks.won_deal_amount, won_without_amount),
            (rules.checks.won_deal_negative, won_negative_amount),
        ):
            if check.enabled:
                parts.append(run(subject, deals, won_stages, check.severity))
    timings["checks"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    if xref is None:
        notes.append("drift not checked: no cross-references (run the matcher first)")
    else:
        parts += field_drift(sides[0], sides[1], rules.ownership)
        notes += not_compared(rules.ownership)
    timings["drift"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    findings = combine(parts)
    counts, scored = by_rule(findings, counted), scores(findings, counted)
    timings["summary"] = round(time.perf_counter() - started, 3)
    log.info("quality: %d findings (%s)", len(findings), timings)
    return QualityResult(
        findings=findings,
        by_rule=counts,
        scores=scored,
        as_of=as_of,
        notes=tuple(notes),
        timings=timings,
    )
