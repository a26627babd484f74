"""Accuracy of recon's matching against the ground truth written by `recon sample-data`.

Everything is computed on record pairs, split into cross-system pairs (CRM company ↔ ERP customer:
the cross-reference) and within-system pairs (duplicates). A predicted pair is two records in one
predicted entity; a true pair is two records with the same truth entity_id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int

    @staticmethod
    def of(predicted: pd.MultiIndex, truth: pd.MultiIndex) -> Scores:
        hit = len(predicted.intersection(truth))
        p = hit / len(predicted) if len(predicted) else 1.0
        r = hit / len(truth) if len(truth) else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        return Scores(p, r, f1, len(truth), len(predicted))


def record_key(system: pd.Series, record_id: pd.Series) -> pd.Series:
    return system.astype(str) + ":" + record_id.astype(str)


def pairs_within_groups(keys: pd.Series, groups: pd.Series) -> pd.MultiIndex:
    """All unordered pairs (a < b) of keys sharing a group; groups are small (entities)."""
    frame = pd.DataFrame({"k": keys.to_numpy(), "g": groups.to_numpy()}).dropna()
    merged = frame.merge(frame, on="g", suffixes=("_a", "_b"))
    merged = merged[merged["k_a"] < merged["k_b"]]
    return pd.MultiIndex.from_arrays([merged["k_a"].to_numpy(), merged["k_b"].to_numpy()])


def split_cross(pairs: pd.MultiIndex) -> tuple[pd.MultiIndex, pd.MultiIndex]:
    """(cross-system pairs, within-system pairs)."""
    a = pairs.get_level_values(0).str.slice(0, 3)
    b = pairs.get_level_values(1).str.slice(0, 3)
    cross = np.asarray(a != b)
    return pairs[cross], pairs[~cross]


def truth_pairs(truth_entities: pd.DataFrame) -> pd.MultiIndex:
    keys = record_key(truth_entities["system"], truth_entities["record_id"])
    return pairs_within_groups(keys, truth_entities["entity_id"].astype(str))


def entity_scores(predicted: pd.DataFrame, truth_entities: pd.DataFrame) -> dict[str, Scores]:
    """``predicted`` has system, record_id and entity (any label); returns cross and duplicate scores."""
    pred = pairs_within_groups(
        record_key(predicted["system"], predicted["record_id"]), predicted["entity"].astype(str)
    )
    truth = truth_pairs(truth_entities)
    pred_cross, pred_dup = split_cross(pred)
    true_cross, true_dup = split_cross(truth)
    return {"cross": Scores.of(pred_cross, true_cross), "duplicates": Scores.of(pred_dup, true_dup)}


def blocking_recall(
    candidates: pd.DataFrame, records: pd.DataFrame, truth_entities: pd.DataFrame
) -> float:
    """Share of true pairs that blocking proposed. ``candidates`` holds positions ``left``/``right``
    into ``records`` (which has system and record_id)."""
    keys = record_key(records["system"], records["record_id"]).to_numpy()
    a, b = keys[candidates["left"].to_numpy()], keys[candidates["right"].to_numpy()]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    proposed = pd.MultiIndex.from_arrays([lo, hi])
    present = set(keys)
    truth = truth_entities[
        record_key(truth_entities["system"], truth_entities["record_id"]).isin(present)
    ]
    true = truth_pairs(truth)
    return len(true.intersection(proposed)) / len(true) if len(true) else 1.0


def leakage_scores(
    findings: pd.DataFrame, truth_leakage: pd.DataFrame, kinds: tuple[str, ...]
) -> dict[str, dict[str, float | int]]:
    """Per leakage kind: precision and recall of (deal_id, kind) against truth_leakage.csv."""
    found = findings.loc[findings["deal_id"].notna(), ["deal_id", "kind"]].astype(str)
    truth = truth_leakage[["deal_id", "kind"]].astype(str)
    out: dict[str, dict[str, float | int]] = {}
    for kind in kinds:
        predicted = set(found.loc[found["kind"] == kind, "deal_id"])
        planted = set(truth.loc[truth["kind"] == kind, "deal_id"])
        hit = len(predicted & planted)
        out[kind] = {
            "precision": hit / len(predicted) if predicted else 1.0,
            "recall": hit / len(planted) if planted else 1.0,
            "predicted": len(predicted),
            "planted": len(planted),
        }
    return out


def matcher_affected_deals(
    deals: pd.DataFrame,
    orders: pd.DataFrame,
    xref: pd.DataFrame,
    truth_entities: pd.DataFrame,
    truth_orders: pd.DataFrame,
) -> set[str]:
    """Deals whose entity the matcher got wrong, as far as leakage can tell: the company has an
    ERP customer in the truth but none in the xref (or the other way round), or an order made for
    the deal sits on an ERP customer of another xref entity. The leakage check sees the matcher's
    entities only, so its verdict on these deals is the matcher's error, not its own."""
    ent = truth_entities.assign(key=truth_entities["system"] + ":" + truth_entities["record_id"])
    erp_entities = set(ent.loc[ent["system"] == "erp", "entity_id"])
    truth_ent = ent.set_index("key")["entity_id"]
    xr = xref.astype({"system": str, "record_id": str, "xref_id": str})
    xr_of = pd.Series(xr["xref_id"].to_numpy(), index=(xr["system"] + ":" + xr["record_id"]))
    xr_of = xr_of[~xr_of.index.duplicated()]
    erp_xrefs = set(xr.loc[xr["system"] == "erp", "xref_id"])
    company = "crm:" + deals["company_id"].astype(str)
    in_erp = company.map(truth_ent).isin(erp_entities)
    deal_xref = company.map(xr_of)
    linked = deal_xref.isin(erp_xrefs)
    affected = set(deals.loc[(in_erp != linked).to_numpy(), "deal_id"].astype(str))
    made = truth_orders.dropna().astype(str)
    customer = orders.astype({"order_id": str, "customer_id": str}).set_index("order_id")
    made = made.loc[made["order_id"].isin(customer.index)]
    order_xref = ("erp:" + customer.loc[made["order_id"], "customer_id"]).map(xr_of).to_numpy()
    xref_of_deal = pd.Series(deal_xref.to_numpy(), index=deals["deal_id"].astype(str).to_numpy())
    xref_of_deal = xref_of_deal[~xref_of_deal.index.duplicated()]
    apart = made["deal_id"].map(xref_of_deal).to_numpy() != order_xref
    affected |= set(made.loc[apart, "deal_id"])
    return affected
