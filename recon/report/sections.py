"""Sections every report has: matching (xref, matches, review, duplicates) and the input rows."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from recon.models import LoadResult, MatchResult
from recon.report.data import (
    REVIEW_DECISIONS,
    Chart,
    Figure,
    Marker,
    Section,
    Series,
    most_valuable_first,
    table,
)
from recon.report.match_outputs import MatchTables, match_tables

SCORE_BINS = 20

_MATCH_LABELS = {
    "crm_records": "CRM companies",
    "erp_records": "ERP customers",
    "candidate_pairs": "candidate pairs compared",
    "auto_links": "CRM–ERP links (auto)",
    "review_pairs": "pairs to review",
    "entities": "entities (xref ids)",
    "duplicate_records": "records in duplicate groups",
    "supported_claims": "existing cross-references supported",
    "suspect_claims": "existing cross-references suspect",
}
_HEADLINE = {"crm_records", "erp_records", "auto_links", "review_pairs", "duplicate_records"}


def matching_section(
    match: MatchResult,
    thresholds: Mapping[str, float],
    histogram: pd.DataFrame | None = None,  # of every candidate pair, when scored holds fewer
    tables: MatchTables | None = None,  # built once with the files (match_outputs.match_tables)
) -> Section:
    counts = match.counts()
    figures = [
        Figure(key, label, counts[key], headline=key in _HEADLINE)
        for key, label in _MATCH_LABELS.items()
    ]
    figures[3:3] = _linked_figures(match)
    if histogram is None:
        histogram = score_histogram(match.scored["probability"].to_numpy(dtype=float))
    tables = tables or match_tables(match)
    review, xref, matches = tables.review, tables.xref, tables.matches
    auto = thresholds.get("auto", 1.0)
    return Section(
        key="matching",
        title="Matching: CRM companies and ERP customers",
        figures=tuple(figures),
        tables=(
            table("score_histogram", "Candidate pairs by match score", histogram),
            table(
                "xref",
                "Cross-reference: every record and its entity",
                xref,
                sheet="Xref",
                description="One row per CRM company and ERP customer with its xref_id and "
                "the normalized keys the matcher compared.",
                rank=most_valuable_first(_linked(xref)),
                ranked_by="records linked across the two systems first, then duplicates",
            ),
            table(
                "matches",
                "Matched CRM–ERP pairs",
                matches,
                sheet="Matches",
                description="CRM–ERP pairs linked automatically or sent to review, with the "
                "match score and the reasons in plain words.",
                highlight={"score": "score"},
                rank=most_valuable_first(-(matches["score"] - auto).abs()),
                ranked_by="scores closest to the auto threshold (the links most worth a look) first",
            ),
            table(
                "review",
                "Pairs to review",
                review,
                sheet="Review",
                description="Pairs between the review and auto thresholds. Fill in decision "
                f"({' / '.join(REVIEW_DECISIONS)}), reviewer, reviewed_on and comment; then run "
                "`recon review apply` on this file. The other columns are protected.",
                formats={"reviewed_on": "date"},
                editable=("decision", "reviewer", "reviewed_on", "comment"),
                choices={"decision": REVIEW_DECISIONS},
                highlight={"score": "score"},
                rank=most_valuable_first(review["score"]),
                ranked_by="highest score first",
                beside=_pair_details(match.records, review),
                beside_after=_PAIR_AFTER,
            ),
            table(
                "duplicates",
                "Duplicates inside one system",
                match.duplicates,
                sheet="Duplicates",
                description="Records of one system in the same entity, with the suggested "
                "survivor and why.",
                rank=most_valuable_first(_group_size(match.duplicates)),
                ranked_by="largest groups first",
                beside=_duplicate_details(match.records, match.duplicates),
                beside_after=_DUPLICATE_AFTER,
            ),
            table(
                "claims",
                "Existing cross-references checked",
                match.claims,
                sheet="Xref claims",
                description="Cross-references the source systems already hold: supported, "
                "suspect or unknown id.",
                rank=most_valuable_first(_claim_rank(match.claims)),
                ranked_by="suspect first, then unknown ids, then supported",
            ),
        ),
        charts=(_histogram_chart(histogram, thresholds),),
        sheets=("Xref", "Matches", "Review", "Duplicates", "Xref claims"),
    )


# What the page shows of each record a review or duplicate row names: the name, and the city and
# domain as the matcher compared them (normalized).
DETAILS = {"name": "name", "city": "city_norm", "domain": "domain"}
_PAIR_AFTER = {
    **{f"left_{d}": "left_name" for d in ("city", "domain")},
    **{f"right_{d}": "right_name" for d in ("city", "domain")},
}
_DUPLICATE_AFTER = {
    **{d: "record_id" for d in DETAILS},
    "survivor_name": "survivor_record_id",
}


def record_details(records: pd.DataFrame, system: pd.Series, record_id: pd.Series) -> pd.DataFrame:
    """Name, city and domain (``DETAILS``) of each (system, record_id) from the matcher's
    records, one row per input row; empty where a record or a column is missing."""
    at = np.full(len(system), -1, dtype=np.int64)
    systems = system.astype(str).to_numpy()
    ids = record_id.astype(str).to_numpy()
    record_system = records["system"].astype(str).to_numpy()
    record_ids = records["record_id"].astype(str).to_numpy()
    for name in pd.unique(systems):
        among = np.flatnonzero(record_system == name)
        index = pd.Index(record_ids[among])
        first = ~index.duplicated()
        rows = np.flatnonzero(systems == name)
        found = index[first].get_indexer(ids[rows])
        at[rows] = np.where(found >= 0, among[first][np.maximum(found, 0)], -1)
    out = {}
    for label, column in DETAILS.items():
        if column in records:
            values = records[column].astype("string").take(np.maximum(at, 0)).to_numpy()
            out[label] = pd.Series(values, dtype="string").where(at >= 0, pd.NA)
        else:
            out[label] = pd.Series(pd.NA, index=range(len(at)), dtype="string")
    return pd.DataFrame(out)


def _pair_details(records: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    left = record_details(records, pairs["left_system"], pairs["left_id"])
    right = record_details(records, pairs["right_system"], pairs["right_id"])
    return pd.DataFrame(
        {
            "left_city": left["city"],
            "left_domain": left["domain"],
            "right_city": right["city"],
            "right_domain": right["domain"],
        }
    )


def _duplicate_details(records: pd.DataFrame, duplicates: pd.DataFrame) -> pd.DataFrame | None:
    if not {"system", "record_id", "survivor_record_id"} <= set(duplicates.columns):
        return None
    details = record_details(records, duplicates["system"], duplicates["record_id"])
    survivor = record_details(records, duplicates["system"], duplicates["survivor_record_id"])
    details["survivor_name"] = survivor["name"]
    return details


def _linked(xref: pd.DataFrame) -> np.ndarray:
    """2 for a record whose entity holds both systems (a cross-reference), 1 for one whose entity
    holds more records of its own system (a duplicate), 0 for a record alone."""
    ids = pd.factorize(xref["xref_id"].astype(str))[0]
    crm = (xref["system"].astype(str) == "crm").to_numpy()
    n = int(ids.max()) + 1 if len(ids) else 0
    crm_count = np.bincount(ids, weights=crm, minlength=n)
    size = np.bincount(ids, minlength=n)
    both = (crm_count > 0) & (crm_count < size)
    return np.where(both[ids], 2, np.where(size[ids] > 1, 1, 0))


def _group_size(frame: pd.DataFrame) -> np.ndarray:
    """Records in each row's group (``xref_id``)."""
    if "xref_id" not in frame or not len(frame):
        return np.zeros(len(frame))
    ids = pd.factorize(frame["xref_id"].astype(str))[0]
    return np.bincount(ids)[ids]


CLAIM_RANK = {"suspect": 2, "unknown id": 1}


def _claim_rank(claims: pd.DataFrame) -> np.ndarray:
    if "status" not in claims:
        return np.zeros(len(claims))
    return claims["status"].astype(str).map(CLAIM_RANK).fillna(0).to_numpy(dtype=float)


def _linked_figures(match: MatchResult) -> list[Figure]:
    """Records whose entity holds a record of the other system are matched; the rest are not."""
    xref = match.xref[["xref_id", "system"]].astype(str)
    both = xref.groupby("xref_id", sort=False)["system"].transform("nunique").to_numpy() > 1
    is_crm = (xref["system"] == "crm").to_numpy()
    crm_matched = int((both & is_crm).sum())
    erp_matched = int((both & ~is_crm).sum())
    crm, erp = int(is_crm.sum()), int((~is_crm).sum())
    return [
        Figure("crm_matched", "CRM companies matched to an ERP customer", crm_matched),
        Figure(
            "crm_unmatched",
            "CRM companies without ERP customer",
            crm - crm_matched,
            headline=True,
        ),
        Figure(
            "erp_unmatched",
            "ERP customers without CRM company",
            erp - erp_matched,
            headline=True,
        ),
    ]


def score_histogram(scores: np.ndarray, bins: int = SCORE_BINS) -> pd.DataFrame:
    counts, edges = np.histogram(np.clip(scores, 0.0, 1.0), bins=bins, range=(0.0, 1.0))
    return pd.DataFrame(
        {
            "score_from": np.round(edges[:-1], 4),
            "score_to": np.round(edges[1:], 4),
            "pairs": counts.astype("int64"),
        }
    )


def _histogram_chart(histogram: pd.DataFrame, thresholds: Mapping[str, float]) -> Chart:
    bins = len(histogram)
    return Chart(
        key="score_distribution",
        title="Match-score distribution of candidate pairs",
        categories=tuple(f"{a:.2f}" for a in histogram["score_from"]),
        series=(Series("candidate pairs", tuple(float(v) for v in histogram["pairs"])),),
        markers=tuple(
            Marker(f"{name} {value:g}", value * bins) for name, value in thresholds.items()
        ),
        log_scale=True,
        note="Bars on a log scale; pairs at or above auto are linked, between review and auto "
        "go to review.",
    )


def input_section(load: LoadResult) -> Section:
    quarantine = load.quarantine
    per_row = quarantine.drop_duplicates(["table", "row", "reason_kind"])
    by_reason = (
        per_row.groupby(["table", "reason_kind"], sort=True)
        .size()
        .rename("rows")
        .reset_index()
        .rename(columns={"reason_kind": "reason"})
        .astype({"table": "string", "reason": "string", "rows": "int64"})
    )
    summary = load.summary()
    return Section(
        key="inputs",
        title="Input tables and quarantined rows",
        figures=(
            Figure("input_rows", "input rows read", int(summary["rows_read"].sum())),
            Figure(
                "quarantined_rows",
                "quarantined input rows",
                sum(t.rows_quarantined for t in load.tables.values()),
                headline=True,
            ),
        ),
        tables=(
            table("inputs", "Input tables", summary),
            table("quarantine_by_reason", "Quarantined rows by table and reason", by_reason),
            table(
                "quarantine",
                "Quarantined rows",
                quarantine,
                sheet="Quarantined rows",
                description="Input rows set aside: table, file, row number as a spreadsheet "
                "shows it, column, value, reason and the whole original row.",
                formats={"row": "int", "value": "text"},
            ),
        ),
        sheets=("Quarantined rows",),
    )
