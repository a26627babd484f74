"""Deliberately bad rows for the loader's quarantine, and the truth about them.

Every planted row is an *extra* row — a copy of a real row of the same table with one thing broken —
so the real records, the entity truth and the leakage truth are the same with or without them:

    duplicate <key>   an exact repeat of an earlier row (the loader keeps the first, so the copy is
                      always placed after its original)
    empty <key>       the key left blank
    bad date          a new id, an unreadable date ("31/02/2026", "n/a")
    bad amount        a new id, an unreadable amount ("TBD")

Deal, order and invoice copies are taken from rows that cannot change the leakage truth: deals that
are not won, orders made without a deal, and their invoices.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.schema import TABLES, TEXT_DTYPE

# Per table, in the order used: (kind, column, bad value). One row per table for a small set.
PLAN: dict[str, tuple[tuple[str, str, str], ...]] = {
    "crm_companies": (("duplicate", "company_id", ""), ("empty", "company_id", ""),
                      ("date", "created_at", "n/a")),
    "crm_deals": (("date", "close_date", "31/02/2026"), ("amount", "amount", "TBD"),
                  ("duplicate", "deal_id", ""), ("empty", "deal_id", "")),
    "erp_customers": (("empty", "customer_id", ""), ("duplicate", "customer_id", "")),
    "erp_orders": (("amount", "amount", "TBD"), ("date", "order_date", "n/a"),
                   ("duplicate", "order_id", "")),
    "erp_invoices": (("date", "invoice_date", "n/a"), ("amount", "amount", "TBD"),
                     ("empty", "invoice_id", "")),
    "fx_rates": (("amount", "rate", "n/a"),),
}  # fmt: skip
RATE = 0.0005  # bad rows per row, at least one per table, never more than 0.1% of a large table
QUARANTINE_COLUMNS = ["table", "record_id", "row", "column", "problem"]


def count(rows: int) -> int:
    return max(1, int(rows * RATE)) if rows else 0


def plant(
    rng: np.random.Generator, tables: dict[str, pd.DataFrame], eligible: dict[str, np.ndarray]
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Insert the bad rows into ``tables`` (replaced table by table); return it and the truth."""
    truth = []
    for name, plan in PLAN.items():
        frame = tables[name]
        pool = eligible.get(name, np.arange(len(frame)))
        k = count(len(frame))
        if k == 0 or len(pool) == 0:
            continue
        key = TABLES[name].key
        source = pool[rng.integers(0, len(pool), k)]
        kinds = [plan[i % len(plan)] for i in range(k)]
        bad = frame.iloc[source].reset_index(drop=True)
        after = rng.integers(0, len(frame), k)  # inserted after this original row
        fresh = iter(_new_ids(frame[key], k) if key else [])
        record_ids: list[str | None] = []
        for i, (kind, column, value) in enumerate(kinds):
            if kind == "duplicate":
                after[i] = source[i] + int(rng.integers(0, len(frame) - source[i]))
                record_ids.append(bad.at[i, key])
            elif kind == "empty":
                bad.at[i, key] = pd.NA
                record_ids.append(None)
            else:
                if key:
                    bad.at[i, key] = next(fresh)
                bad.at[i, column] = value
                record_ids.append(bad.at[i, key] if key else None)
        # an inserted row sorts right after its original row
        order = np.argsort(np.r_[np.arange(len(frame)) * 2, after * 2 + 1], kind="stable")
        take = pa.array(order)
        tables[name] = pd.DataFrame(
            {
                c: pd.array(
                    pa.concat_arrays([_arrow(frame[c]), _arrow(bad[c])]).take(take),
                    dtype=TEXT_DTYPE,
                )
                for c in frame.columns
            }
        )
        del frame
        position = np.empty(len(order), dtype=np.int64)
        position[order] = np.arange(len(order))
        truth.append(
            pd.DataFrame(
                {
                    "table": name,
                    "record_id": pd.array(record_ids, dtype=TEXT_DTYPE),
                    "row": position[-k:] + 2,  # the header is row 1
                    "column": [c for _, c, _ in kinds],
                    "problem": [_problem(kind, column) for kind, column, _ in kinds],
                }
            )
        )
    if not truth:
        return tables, empty_quarantine()
    q = pd.concat(truth, ignore_index=True).sort_values(["table", "row"], kind="stable")
    types = {c: TEXT_DTYPE for c in ("table", "column", "problem")}
    return tables, q.reset_index(drop=True).astype(types)


def _arrow(values: pd.Series) -> pa.Array:
    arr = pa.array(values, type=pa.large_string(), from_pandas=True)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _problem(kind: str, column: str) -> str:
    """In the loader's words: ``duplicate deal_id``, ``empty deal_id``, ``bad date``, ..."""
    return f"{kind} {column}" if kind in ("duplicate", "empty") else f"bad {kind}"


def empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "table": pd.array([], dtype=TEXT_DTYPE),
            "record_id": pd.array([], dtype=TEXT_DTYPE),
            "row": np.array([], dtype=np.int64),
            "column": pd.array([], dtype=TEXT_DTYPE),
            "problem": pd.array([], dtype=TEXT_DTYPE),
        }
    )


def _new_ids(ids: pd.Series, k: int) -> list[str]:
    """Ids not used yet, in the style of the table's ids (``SO0001234`` → ``SO0001235``)."""
    parts = pc.extract_regex(pa.array(ids.dropna(), type=pa.string()), r"^(?P<p>\D*)(?P<d>\d+)$")
    counts = pc.value_counts(parts.field("p"))
    prefix = counts.field("values")[
        pc.index(counts.field("counts"), pc.max(counts.field("counts"))).as_py()
    ].as_py()
    digits = pc.filter(parts.field("d"), pc.equal(parts.field("p"), prefix))
    width = pc.max(pc.utf8_length(digits)).as_py()
    top = pc.max(pc.cast(digits, pa.int64())).as_py()
    return [f"{prefix}{top + 1 + i:0{width}d}" for i in range(k)]
