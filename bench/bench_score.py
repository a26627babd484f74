"""Benchmark compare + fit + score on generated data: speed, and pair-level accuracy of the
Fellegi–Sunter model against a hand-tuned weighted sum of similarities.

    python bench/bench_score.py --entities 1000000 --seed 1
    python bench/bench_score.py --entities 100000 --candidates block

Records (``build_records`` of the generated CRM and ERP, with each record's true entity) are
cached in bench/out/records-<entities>-<seed>.parquet, because normalizing is slow. Candidates are
``recon.match.block.candidate_pairs`` (``--candidates block``) or, by default, a simple stand-in
blocker (``standin_pairs``: same domain, phone, tax id, name_core, name start + postcode or
city, name end + country, address + postcode, and existing cross-references), cached too.

Accuracy is measured on the candidate pairs, before clustering: a pair is a true match when both
records have the same entity_id. Reported: precision, recall and F1 of the ``auto`` decisions,
and of the Fellegi–Sunter weight and two weighted sums (``WEIGHTED_SUM``) at their best threshold, for cross-system pairs (the cross-reference) and
pairs within one system (duplicates). Recall counts the true pairs among the candidates;
``blocking_recall`` says how many of all true pairs that is. Results go to
bench/out/score-<entities>-<seed>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recon.config.matching import load_matching_rules
from recon.match.compare import compare_pairs, sim_column
from recon.match.score import fit_model, score_pairs

OUT = Path(__file__).resolve().parent / "out"

# The alternative: a weighted average of the field similarities over the fields both records
# have (a missing field neither helps nor hurts), cut at its best threshold. WEIGHTED_SUM was
# tuned by hand on seed 1 with 100,000 entities (a few rounds of moving weight to the fields
# whose errors showed); WEIGHTED_SUM_SEARCHED by a random search of 150 weight sets on the same
# data, which overfits it: the best a weighted sum can do here, not a fair rival.
WEIGHTED_SUM = {
    "name": 0.40,
    "tax_id": 0.30,
    "domain": 0.30,
    "phone": 0.20,
    "address": 0.10,
    "street_number": 0.10,
    "unit": 0.10,
    "postcode": 0.05,
    "city": 0.05,
    "country": 0.02,
    "legal_form": 0.02,
    "xref": 0.20,
}
WEIGHTED_SUM_SEARCHED = {
    "name": 0.014,
    "tax_id": 0.056,
    "domain": 1.8,
    "phone": 0.003,
    "address": 0.002,
    "street_number": 0.10,
    "postcode": 0.006,
    "city": 0.009,
    "country": 0.017,
    "legal_form": 0.006,
    "xref": 0.08,
}


# --- data --------------------------------------------------------------------------------------


def load_records(entities: int, seed: int) -> pd.DataFrame:
    """``build_records`` of generated data plus ``entity_id`` (the truth), cached as parquet."""
    path = OUT / f"records-{entities}-{seed}.parquet"
    if path.exists():
        return pd.read_parquet(path)
    from recon.match.records import build_records
    from recon.sampledata import generate

    sample = generate(entities, seed, bad_rows=False)
    records = build_records(sample.tables["crm_companies"], sample.tables["erp_customers"])
    truth = sample.truth_entities
    key = truth["system"].astype(str) + ":" + truth["record_id"].astype(str)
    entity = dict(zip(key, truth["entity_id"].astype(str), strict=True))
    own = records["system"].astype(str) + ":" + records["record_id"].astype(str)
    records["entity_id"] = pd.array(own.map(entity).to_numpy(), dtype="string")
    OUT.mkdir(parents=True, exist_ok=True)
    records.to_parquet(path)
    return records


def _codes(*columns: pd.Series) -> np.ndarray:
    """One code per distinct combination of the columns; -1 where any is missing."""
    key: np.ndarray | None = None
    for column in columns:
        codes = pd.factorize(column)[0].astype(np.int64)
        if key is None:
            key = codes
        else:
            missing = (key < 0) | (codes < 0)
            key = key * (codes.max() + 2) + codes
            key[missing] = -1
        key = np.where(key < 0, -1, pd.factorize(key)[0])
    assert key is not None
    return key


def _pairs_in_groups(codes: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of records sharing a code, in groups of 2..cap records."""
    members = np.flatnonzero(codes >= 0)
    members = members[np.argsort(codes[members], kind="stable")]
    sorted_codes = codes[members]
    if not len(members):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    sizes = np.diff(np.r_[starts, len(members)])
    keep = (sizes >= 2) & (sizes <= cap)
    starts, sizes = starts[keep], sizes[keep]
    offset = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    position = np.repeat(starts, sizes) + offset
    partners = np.repeat(sizes, sizes) - 1 - offset
    first = np.repeat(position, partners)
    step = np.arange(len(first)) - np.repeat(np.cumsum(partners) - partners, partners) + 1
    a, b = members[first], members[first + step]
    return np.minimum(a, b), np.maximum(a, b)


def standin_pairs(records: pd.DataFrame, cap: int = 60, name_cap: int = 150) -> pd.DataFrame:
    """A simple blocker for experiments (see the module docstring)."""
    core = records["name_core"]
    passes = [
        (_codes(records["domain"]), 1000),
        (_codes(records["phone_e164"]), 1000),
        (_codes(records["tax_id_norm"]), 1000),
        (_codes(core), name_cap),
        (_codes(core.str.slice(0, 4), records["postcode_norm"]), cap),
        (_codes(core.str.slice(0, 4), records["city_norm"]), cap),
        (_codes(core.str.slice(-4), records["country_code"].fillna("?")), cap),
        (_codes(records["address_norm"], records["postcode_norm"]), cap),
    ]
    n = len(records)
    found = [_pairs_in_groups(codes, c) for codes, c in passes]
    ids = records["system"].astype(str) + ":" + records["record_id"].astype(str)
    position = pd.Series(np.arange(n), index=ids.to_numpy())
    position = position[~position.index.duplicated()]
    other = np.where(records["system"].to_numpy() == "crm", "erp:", "crm:")
    claims = other + records["ref_id"].fillna("").astype(str).to_numpy()
    target = position.reindex(claims).to_numpy()
    has = ~np.isnan(target)
    a, b = np.flatnonzero(has), target[has].astype(np.int64)
    found.append((np.minimum(a, b), np.maximum(a, b)))
    lo = np.concatenate([f[0] for f in found])
    hi = np.concatenate([f[1] for f in found])
    bits = np.concatenate([np.full(len(f[0]), 1 << i, np.int16) for i, f in enumerate(found)])
    keep = lo != hi
    key = lo[keep] * n + hi[keep]
    bits = bits[keep]
    order = np.argsort(key, kind="stable")
    key, bits = key[order], bits[order]
    distinct, start = np.unique(key, return_index=True)
    return pd.DataFrame(
        {
            "left": distinct // n,
            "right": distinct % n,
            "passes": np.bitwise_or.reduceat(bits, start).astype(np.int16),
        }
    )


def load_candidates(
    records: pd.DataFrame, entities: int, seed: int, how: str, name_cap: int
) -> pd.DataFrame:
    suffix = f"-{name_cap}" if how == "standin" else ""
    path = OUT / f"{how}{suffix}-{entities}-{seed}.parquet"
    if path.exists():
        return pd.read_parquet(path)
    if how == "block":
        from recon.match.block import candidate_pairs

        pairs = candidate_pairs(records)
    else:
        pairs = standin_pairs(records, name_cap=name_cap)
    pairs.to_parquet(path)
    return pairs


# --- accuracy ----------------------------------------------------------------------------------


def prf(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    hit = int((predicted & truth).sum())
    p = hit / max(int(predicted.sum()), 1)
    r = hit / max(int(truth.sum()), 1)
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def best_threshold(score: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """The threshold with the best F1, from a sort of the scores (every cut considered)."""
    order = np.argsort(-score, kind="stable")
    hits = np.cumsum(truth[order])
    taken = np.arange(1, len(order) + 1)
    total = max(int(truth.sum()), 1)
    p, r = hits / taken, hits / total
    f1 = np.where(p + r > 0, 2 * p * r / np.maximum(p + r, 1e-12), 0.0)
    # only cut between different scores
    last = np.r_[score[order][1:] != score[order][:-1], True]
    i = int(np.argmax(np.where(last, f1, -1.0)))
    return {
        "threshold": float(score[order][i]),
        "precision": float(p[i]),
        "recall": float(r[i]),
        "f1": float(f1[i]),
    }


def weighted_sum(compared: pd.DataFrame, weights: dict[str, float]) -> np.ndarray:
    """Weighted average similarity over the fields both records have (0 when none)."""
    total = np.zeros(len(compared))
    mass = np.zeros(len(compared))
    for f, w in weights.items():
        if sim_column(f) not in compared:
            continue
        sim = compared[sim_column(f)].to_numpy(dtype=np.float64)
        present = ~np.isnan(sim)
        total += np.where(present, w * sim, 0.0)
        mass += np.where(present, w, 0.0)
    return total / np.maximum(mass, 1e-9)


def _timed(what: str, timings: dict[str, Any], fn: Callable[[], Any]) -> Any:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    timings[what] = {
        "wall_s": round(time.perf_counter() - wall, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
    }
    print(f"{what:>8}: {timings[what]['wall_s']:6.2f} s wall, {timings[what]['cpu_s']:6.2f} s cpu")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--candidates", choices=["standin", "block"], default="standin")
    parser.add_argument(
        "--name-cap",
        type=int,
        default=150,
        help="stand-in blocker: largest group of records with one name_core that is paired",
    )
    args = parser.parse_args()

    records = load_records(args.entities, args.seed)
    pairs = load_candidates(records, args.entities, args.seed, args.candidates, args.name_cap)
    rules = load_matching_rules()
    print(f"{len(records):,} records, {len(pairs):,} candidate pairs ({args.candidates})")

    timings: dict[str, Any] = {}
    compared = _timed("compare", timings, lambda: compare_pairs(records, pairs, rules))
    model = _timed("fit", timings, lambda: fit_model(records, compared, rules, seed=args.seed))
    scored = _timed("score", timings, lambda: score_pairs(records, pairs, compared, model, rules))
    total = {k: round(sum(t[k] for t in timings.values()), 2) for k in ("wall_s", "cpu_s")}
    timings["total"] = total
    print(f"{'total':>8}: {total['wall_s']:6.2f} s wall, {total['cpu_s']:6.2f} s cpu")

    entity = records["entity_id"].to_numpy(dtype=object)
    system = records["system"].to_numpy(dtype=object)
    left, right = pairs["left"].to_numpy(), pairs["right"].to_numpy()
    truth = entity[left] == entity[right]
    cross = system[left] != system[right]
    true_pairs = records["entity_id"].value_counts()
    all_true = int((true_pairs * (true_pairs - 1) // 2).sum())
    auto = (scored["decision"] == "auto").to_numpy()
    review = (scored["decision"] == "review").to_numpy()
    fs_weight = scored["weight"].to_numpy(dtype=np.float64)
    ws = weighted_sum(compared, WEIGHTED_SUM)
    ws_searched = weighted_sum(compared, WEIGHTED_SUM_SEARCHED)

    results: dict[str, Any] = {
        "entities": args.entities,
        "seed": args.seed,
        "records": len(records),
        "candidates": args.candidates,
        "candidate_pairs": len(pairs),
        "blocking_recall": float(truth.sum() / max(all_true, 1)),
        "timings": timings,
        "model": model.to_dict(),
        "thresholds": rules.thresholds.model_dump(),
    }
    print(f"blocking recall {results['blocking_recall']:.4f}; EM {model.iterations} iterations")
    print(f"{'':>11} {'':>26} {'precision':>9} {'recall':>7} {'f1':>7} {'threshold':>9}")
    for scope, mask in (("cross", cross), ("duplicates", ~cross), ("all", np.ones_like(cross))):
        t = truth[mask]
        rows = {
            "auto": prf(auto[mask], t),
            "auto+review": prf((auto | review)[mask], t),
            "fs_best": best_threshold(fs_weight[mask], t),
            "weighted_sum_best": best_threshold(ws[mask], t),
            "weighted_sum_searched_best": best_threshold(ws_searched[mask], t),
        }
        results[scope] = {"true_pairs": int(t.sum()), "pairs": int(mask.sum()), **rows}
        for name, row in rows.items():
            th = f"{row['threshold']:9.3f}" if "threshold" in row else " " * 9
            print(
                f"{scope:>11} {name:>26} {row['precision']:9.4f} {row['recall']:7.4f} "
                f"{row['f1']:7.4f} {th}"
            )
    path = OUT / f"score-{args.entities}-{args.seed}.json"
    path.write_text(json.dumps(results, indent=2, default=float))
    print(f"written {path}")


if __name__ == "__main__":
    main()
