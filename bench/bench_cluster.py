"""Time ``cluster_records`` and ``assign_xref`` on 1.4M synthetic records and ~1.4M auto pairs.

    python bench/bench_cluster.py [--records 1400000] [--chains 0.01] [--seed 7]

Entities of 1 to 4 records (CRM and ERP mixed, ids shuffled so an entity's records are scattered)
are fully linked by auto pairs, with review and reject pairs between neighbouring entities. A share
``--chains`` of the 3-record entities lose their A–C pair and get different tax ids at A and C (the
chaining split must take them apart), as many CRM records get a second ERP candidate that is not
linked to the first (the ambiguity guard), and a few long chains of 50 records are added. Prints
the time of each call and what they found.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pandas as pd

from recon.config.survivorship import load_entity_rules
from recon.match.cluster import cluster_records
from recon.match.xref import assign_xref

T = TypeVar("T")
SIZES = np.array([1, 2, 3, 4])
SHARES = np.array([0.10, 0.40, 0.30, 0.20])


def synthetic(n_target: int, chains: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n_ent = int(n_target / float((SIZES * SHARES).sum()))
    size = rng.choice(SIZES, size=n_ent, p=SHARES)
    long_chains = 20
    size = np.concatenate([size, np.full(long_chains, 50)])
    n_ent = len(size)
    n = int(size.sum())
    ent = np.repeat(np.arange(n_ent), size)
    first = np.concatenate([[0], np.cumsum(size)[:-1]])
    slot = np.arange(n) - first[ent]
    is_erp = np.where(slot == 0, False, rng.random(n) < 0.6)
    tax = ent.astype(str).astype(object)
    tax[~(is_erp & (rng.random(n) < 0.7))] = None

    # Auto pairs: every pair within an entity (slots i < j), long chains only along the chain.
    sz = size[ent]
    pairs_l, pairs_r = [], []
    for j in range(1, 4):
        for i in range(j):
            m = (slot == j) & (sz <= 4)
            pairs_l.append(np.flatnonzero(m) - (j - i))
            pairs_r.append(np.flatnonzero(m))
    chain = (sz == 50) & (slot > 0)
    pairs_l.append(np.flatnonzero(chain) - 1)
    pairs_r.append(np.flatnonzero(chain))
    a, b = np.concatenate(pairs_l), np.concatenate(pairs_r)
    decision = np.full(len(a), "auto", dtype=object)

    # Chains: drop the A–C pair of some 3-record entities and give A and C different tax ids.
    three = np.flatnonzero((size == 3) & (rng.random(n_ent) < chains))
    ac = np.isin(ent[a], three) & (slot[a] == 0) & (slot[b] == 2)
    a, b, decision = a[~ac], b[~ac], decision[~ac]
    tax[first[three]] = "T" + first[three].astype(str)
    tax[first[three] + 2] = "U" + first[three].astype(str)

    # Ambiguity: a CRM record with a second, unrelated ERP candidate in the next entity.
    amb = np.flatnonzero((size[:-1] == 2) & (rng.random(n_ent - 1) < chains))
    amb = amb[is_erp[first[amb + 1]]]
    extra_a, extra_b = first[amb], first[amb + 1]
    # Review and reject pairs between neighbouring entities.
    near = rng.random(n_ent - 1) < 0.3
    near_a, near_b = first[:-1][near], first[1:][near]
    a = np.concatenate([a, extra_a, near_a])
    b = np.concatenate([b, extra_b, near_b])
    decision = np.concatenate(
        [
            decision,
            np.full(len(extra_a), "auto", dtype=object),
            rng.choice(np.array(["review", "reject"], dtype=object), size=len(near_a)),
        ]
    )

    # Scatter the records so that positions say nothing about entities.
    perm = rng.permutation(n)
    pos = np.empty(n, dtype=np.int64)
    pos[perm] = np.arange(n)
    lo, hi = np.minimum(pos[a], pos[b]), np.maximum(pos[a], pos[b])
    code = lo * n + hi
    code, keep = np.unique(code, return_index=True)
    probability = np.where(decision[keep] == "auto", 0.9, 0.5) + rng.random(len(keep)) * 0.09
    scored = pd.DataFrame(
        {
            "left": code // n,
            "right": code % n,
            "weight": np.log2(probability / (1 - probability)),
            "probability": probability,
            "decision": pd.array(decision[keep], dtype="str"),
            "reasons": "",
        }
    )
    system = np.where(is_erp, "erp", "crm")
    record_id = np.where(is_erp, "E", "C") + pd.Series(rng.permutation(n)).astype(str).str.zfill(7)
    records = pd.DataFrame(
        {
            "system": system,
            "record_id": record_id.to_numpy(),
            "name": "company " + pd.Series(ent).astype(str),
            "tax_id_norm": tax,
            "domain": pd.Series("x.com", index=range(n)).where(rng.random(n) < 0.5),
            "phone_e164": pd.Series("+6221555", index=range(n)).where(rng.random(n) < 0.5),
            "address_norm": None,
            "postcode_norm": None,
            "city_norm": None,
            "country_code": "ID",
            "ref_id": None,
            "activity": rng.integers(0, 3, size=n),
            "created_at": np.where(
                is_erp, np.datetime64("NaT"), np.datetime64("2020-01-01") + rng.integers(0, 9, n)
            ).astype("datetime64[ns]"),
        }
    )
    records = records.iloc[perm].reset_index(drop=True)
    for column in ("system", "record_id", "name", "tax_id_norm", "ref_id"):
        records[column] = records[column].astype("str").where(records[column].notna())
    return records, scored


def timed(call: Callable[[], T]) -> tuple[T, float, float]:
    """(result, wall seconds, CPU seconds) of ``call()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_400_000)
    parser.add_argument("--chains", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the fastest is shown")
    args = parser.parse_args()

    started = time.perf_counter()
    records, scored = synthetic(args.records, args.chains, args.seed)
    auto = int((scored["decision"] == "auto").sum())
    print(
        f"generated {len(records):,} records, {len(scored):,} pairs ({auto:,} auto) "
        f"in {time.perf_counter() - started:.1f}s"
    )
    rules = load_entity_rules()

    runs = []
    for _ in range(args.repeat):
        clustering, c_wall, c_cpu = timed(lambda: cluster_records(records, scored, rules))
        result, x_wall, x_cpu = timed(lambda: assign_xref(records, clustering, rules))  # noqa: B023
        runs.append((c_wall + x_wall, c_wall, c_cpu, x_wall, x_cpu))
    total, c_wall, c_cpu, x_wall, x_cpu = min(runs)
    changed = clustering.pairs["decision_reason"].str.split(":").str[0].value_counts()
    print(
        f"cluster_records: {c_wall:.2f}s wall, {c_cpu:.2f}s CPU; "
        f"{clustering.entity.max() + 1:,} entities"
    )
    print("  changed decisions: " + ", ".join(f"{k} {v:,}" for k, v in changed.items() if k))
    print(
        f"assign_xref: {x_wall:.2f}s wall, {x_cpu:.2f}s CPU; {len(result.xref):,} xref rows, "
        f"{len(result.duplicates):,} duplicate rows, "
        f"{int(result.duplicates['is_survivor'].sum()):,} survivors"
    )
    print(f"total: {total:.2f}s wall (fastest of {args.repeat})")


if __name__ == "__main__":
    main()
