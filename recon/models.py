"""Frozen records passed between stages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

QUARANTINE_COLUMNS = [
    "table",
    "source",
    "row",
    "column",
    "value",
    "reason_kind",
    "reason",
    "record",
]


def empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="string") for c in QUARANTINE_COLUMNS}).astype(
        {"row": "Int64"}
    )


@dataclass(frozen=True)
class TableLoad:
    """One canonical table as loaded: the usable rows, the quarantined ones, and what was noticed."""

    name: str
    source: str
    preset: str
    frame: pd.DataFrame
    quarantine: pd.DataFrame
    rows_read: int
    missing_optional: tuple[str, ...] = ()
    skipped_features: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    won_stages: tuple[str, ...] = ()
    cancelled_statuses: tuple[str, ...] = ()

    @property
    def rows_kept(self) -> int:
        return len(self.frame)

    @property
    def rows_quarantined(self) -> int:
        return int(self.quarantine["row"].nunique()) if len(self.quarantine) else 0


@dataclass(frozen=True)
class LoadResult:
    """All canonical tables of one run. Optional tables that were not given are absent."""

    tables: dict[str, TableLoad]
    base_currency: str = "USD"
    won_stages: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def frame(self, name: str) -> pd.DataFrame | None:
        table = self.tables.get(name)
        return None if table is None else table.frame

    @property
    def quarantine(self) -> pd.DataFrame:
        parts = [t.quarantine for t in self.tables.values() if len(t.quarantine)]
        return pd.concat(parts, ignore_index=True) if parts else empty_quarantine()

    def summary(self) -> pd.DataFrame:
        """One row per table: rows read, kept and quarantined, the main reasons, what was skipped."""
        rows = []
        for t in self.tables.values():
            reasons = ""
            if len(t.quarantine):
                per_row = t.quarantine.drop_duplicates(["row", "reason_kind"])
                counts = per_row["reason_kind"].value_counts()
                reasons = "; ".join(f"{n} × {k}" for k, n in counts.items())
            rows.append(
                {
                    "table": t.name,
                    "source": t.source,
                    "preset": t.preset,
                    "rows_read": t.rows_read,
                    "rows_kept": t.rows_kept,
                    "rows_quarantined": t.rows_quarantined,
                    "quarantine_reasons": reasons,
                    "missing_optional_columns": ", ".join(t.missing_optional),
                    "skipped_features": "; ".join(t.skipped_features),
                    "notes": "; ".join(t.notes),
                }
            )
        return pd.DataFrame(rows)


@dataclass(frozen=True)
class MatchResult:
    """What the matcher decided, ready for the report: every frame the outputs are written from."""

    records: pd.DataFrame  # one row per CRM company and ERP customer, with normalized keys
    scored: pd.DataFrame  # candidate pairs after clustering: probability, decision, reasons
    entity: pd.Series  # entity number per record position
    xref: pd.DataFrame
    duplicates: pd.DataFrame
    crm_import: pd.DataFrame
    erp_import: pd.DataFrame
    claims: pd.DataFrame  # existing cross-references checked: supported, suspect, unknown id
    candidates: int
    pass_counts: dict[str, int]
    model: dict[str, object]
    timings: dict[str, float]
    # Review decisions taken into account: stored, confirmed, rejected, not_applied.
    reviews: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        # Booleans, not the system names: at a million records there are 15M scored pairs.
        is_crm = (self.records["system"].astype(str) == "crm").to_numpy(dtype=bool)
        cross = is_crm[self.scored["left"].to_numpy()] != is_crm[self.scored["right"].to_numpy()]
        decided = self.scored["decision"].astype(str)
        claims = self.claims["status"].value_counts() if len(self.claims) else {}
        return {
            "crm_records": int(is_crm.sum()),
            "erp_records": int((~is_crm).sum()),
            "candidate_pairs": self.candidates,
            "auto_links": int(((decided == "auto").to_numpy(dtype=bool) & cross).sum()),
            "review_pairs": int((decided == "review").sum()),
            "entities": int(self.xref["xref_id"].nunique()),
            "duplicate_records": len(self.duplicates),
            "supported_claims": int(claims.get("supported", 0)),
            "suspect_claims": int(claims.get("suspect", 0)),
        }


MATCH, NOT_A_MATCH = "match", "not a match"


@dataclass(frozen=True)
class ReviewDecision:
    """A person's decision on one pair of records, as stored and as the matcher honours it.

    The pair is kept in (system, record_id) order, so a pair reviewed either way round is one key.
    """

    left_system: str
    left_id: str
    right_system: str
    right_id: str
    decision: str  # MATCH or NOT_A_MATCH
    reviewer: str
    reviewed_on: dt.date | None = None
    comment: str = ""
    left_name: str = ""
    right_name: str = ""
    source: str = ""  # file, sheet and row it was read from
    applied_at: dt.datetime | None = None

    @property
    def pair(self) -> tuple[str, str, str, str]:
        return (self.left_system, self.left_id, self.right_system, self.right_id)
