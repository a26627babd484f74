"""Fellegi–Sunter scoring: learn m and u, then weigh, decide and explain every candidate pair.

The model (as in splink): for each field, the level ℓ a pair lands on is evidence
``log2(m[ℓ] / u[ℓ])`` bits, where m is how often the level occurs when two records are the same
company and u how often it occurs when they are not. A pair's match weight is the prior
``log2(λ / (1 - λ))`` plus the evidence of every field (a missing value adds 0), and its
probability is ``1 / (1 + 2**-weight)``.

* **u** is measured on random record pairs (``u_sampling.pairs`` of them, drawn at once and
  compared with the same code as the candidates). Exact agreement is rare by chance, so for a
  field that no other field overrides its u is counted exactly instead: the share of record pairs
  with the same value, Σ c·(c-1) / (N·(N-1)) over the value counts c.
* **m** is learned by EM over the candidate pairs, u kept fixed. λ is the probability that two
  records drawn at random are the same company; EM re-estimates it as the expected number of
  matching candidates over all record pairs (pairs blocking did not propose count as
  non-matches). Using that λ with u from random pairs keeps EM honest on blocked pairs: a
  candidate that agrees only on the postcode it was blocked on stays unlikely. EM runs on the
  distinct comparison vectors with their counts, not on the pairs.
* **Term frequencies** (splink's tf adjustment): for an exact agreement on name or domain, u is
  replaced by the share of records with that value (no lower than ``min_u``): the same rare name
  is stronger evidence than the same common one. The weight gains
  ``weight · log2(u_exact / share)`` bits.
* **Fields that say nothing new**: a field with ``ignore_when_same`` is left out (level -1) where
  one of those fields agrees exactly, in u, in EM and in scoring alike (the city once the
  postcode is the same), so one fact is not counted twice.
* **Order of levels**: a better level never counts less than a worse one, and an exact agreement
  never counts against a pair (weights are raised to the level below, and to 0 at the top), so
  more agreement can only raise a pair's probability.

Scoring, levels and weights run over blocks of pairs that stay in the processor's cache.
Reasons are written for the pairs that are linked or sent to review (``explain`` writes them for
any pairs, and ``score_pairs(..., explain_rejects=True)`` for all).
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.config.matching import MatchingRules
from recon.match.compare import (
    COLUMNS,
    compare_pairs,
    lvl_column,
    sim_column,
    value_codes,
    xref_targets,
)

log = logging.getLogger(__name__)

DECISIONS = ("reject", "review", "auto")
_BLOCK = 1 << 17  # pairs weighed at a time
_REASON_BLOCK = 1 << 20  # pairs explained at a time (one Arrow chunk each)
_DENSE_PATTERNS = 1 << 24  # comparison vectors counted with bincount up to this many
_TEXT = pa.large_string()


@dataclass(frozen=True)
class FieldModel:
    """m and u of one field's levels, level 0 (the worst) first."""

    field: str
    labels: tuple[str, ...]
    m: tuple[float, ...]
    u: tuple[float, ...]
    weight_limit: float | None = None

    def bayes_bits(self) -> np.ndarray:
        """log2(m/u) per level, as learned."""
        return np.log2(np.asarray(self.m)) - np.log2(np.asarray(self.u))

    def weights(self) -> np.ndarray:
        """The bits each level adds: log2(m/u), never below the level under it, the top level
        never below 0, within ± weight_limit."""
        w = np.maximum.accumulate(self.bayes_bits())
        w[-1] = max(w[-1], 0.0)
        if self.weight_limit is not None:
            w = np.clip(w, -self.weight_limit, self.weight_limit)
        return w


@dataclass(frozen=True)
class FSModel:
    """A fitted Fellegi–Sunter model; ``to_dict`` / ``from_dict`` for run records."""

    fields: tuple[FieldModel, ...]
    prior: float  # λ: probability that two records drawn at random are the same company
    records: int = 0
    candidate_pairs: int = 0
    random_pairs: int = 0
    iterations: int = 0
    converged: bool = False

    def field(self, name: str) -> FieldModel:
        for f in self.fields:
            if f.field == name:
                return f
        raise KeyError(name)

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior) - math.log2(1.0 - self.prior)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["fields"] = [
            {**asdict(f), "labels": list(f.labels), "m": list(f.m), "u": list(f.u)}
            for f in self.fields
        ]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FSModel:
        fields = tuple(
            FieldModel(
                field=str(f["field"]),
                labels=tuple(f["labels"]),
                m=tuple(float(x) for x in f["m"]),
                u=tuple(float(x) for x in f["u"]),
                weight_limit=f.get("weight_limit"),
            )
            for f in data["fields"]
        )
        rest = {k: v for k, v in data.items() if k != "fields"}
        return cls(fields=fields, **rest)


# --- levels as the model sees them -------------------------------------------------------------


def _raw_levels(compared: pd.DataFrame, rules: MatchingRules) -> dict[str, np.ndarray]:
    return {f: compared[lvl_column(f)].to_numpy(dtype=np.int8) for f in rules.comparisons}


def _masked(raw: dict[str, np.ndarray], rules: MatchingRules) -> dict[str, np.ndarray]:
    """Levels with a field set to -1 where a field it ignores agrees exactly."""
    out = {}
    for f, comp in rules.comparisons.items():
        lvl = raw[f]
        if comp.ignore_when_same:
            lvl = lvl.copy()
            for other in comp.ignore_when_same:
                lvl[raw[other] == rules.levels(other) - 1] = -1
        out[f] = lvl
    return out


def model_levels(compared: pd.DataFrame, rules: MatchingRules) -> dict[str, np.ndarray]:
    """Each field's levels as the model counts them (ignored fields at -1)."""
    return _masked(_raw_levels(compared, rules), rules)


def _blocks(n: int, size: int = _BLOCK) -> list[slice]:
    return [slice(s, min(s + size, n)) for s in range(0, n, size)]


def _normalized(p: np.ndarray, floor: float) -> np.ndarray:
    """Probabilities from counts, none below ``floor``, summing to 1."""
    p = np.asarray(p, dtype=np.float64)
    p = np.maximum(p / p.sum(), floor)
    return p / p.sum()


def _labels(rules: MatchingRules, f: str) -> tuple[str, ...]:
    return tuple(lv.label for lv in reversed(rules.comparisons[f].levels))


# --- u from random pairs -----------------------------------------------------------------------


def random_pairs(n: int, k: int, seed: int) -> pd.DataFrame:
    """k random pairs of two different records (left < right), drawn at once."""
    if n < 2:
        return pd.DataFrame({"left": np.zeros(0, np.int64), "right": np.zeros(0, np.int64)})
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n, size=k, dtype=np.int64)
    b = rng.integers(0, n - 1, size=k, dtype=np.int64)
    b += b >= a  # never a record with itself
    return pd.DataFrame({"left": np.minimum(a, b), "right": np.maximum(a, b)})


def _exact_share(codes: np.ndarray) -> float | None:
    """Share of pairs of records with a value that have the same value: Σ c(c-1) / N(N-1)."""
    counts = np.bincount(codes[codes >= 0].astype(np.int64)).astype(np.float64)
    total = counts.sum()
    if total < 2:
        return None
    return float((counts * (counts - 1)).sum() / (total * (total - 1)))


def _xref_share(records: pd.DataFrame) -> float | None:
    """Share of cross-system pairs with a ``ref_id`` on either side that claim each other."""
    system, target = xref_targets(records)
    system = system.astype(bool)
    has_ref = target != -1
    n_erp, n_crm = int(system.sum()), int((~system).sum())
    r_erp, r_crm = int((system & has_ref).sum()), int((~system & has_ref).sum())
    comparable = n_crm * n_erp - (n_crm - r_crm) * (n_erp - r_erp)
    if comparable <= 0:
        return None
    rows = np.flatnonzero(target >= 0)
    ends = target[rows].astype(np.int64)
    claimed = np.unique(np.minimum(rows, ends) * len(target) + np.maximum(rows, ends))
    return len(claimed) / comparable


def estimate_u(
    records: pd.DataFrame, rules: MatchingRules, *, seed: int = 0
) -> tuple[dict[str, np.ndarray], int]:
    """u per field level (level 0 first) from random pairs; exact agreement from frequencies."""
    sample = random_pairs(len(records), rules.u_sampling.pairs, seed)
    levels = model_levels(compare_pairs(records, sample, rules), rules)
    floor = rules.em.probability_floor
    u = {}
    for f, comp in rules.comparisons.items():
        k = len(comp.levels)
        lvl = levels[f]
        counts = np.bincount(lvl[lvl >= 0].astype(np.int64), minlength=k).astype(np.float64)
        share = counts / max(counts.sum(), 1.0)
        exact: float | None = None
        if not comp.ignore_when_same:
            if f == "xref":
                exact = _xref_share(records)
            elif f != "legal_form":
                exact = _exact_share(value_codes(records, f))
        if exact is not None:
            rest = share[:-1].sum()
            share[:-1] = share[:-1] / rest * (1.0 - exact) if rest > 0 else (1.0 - exact) / (k - 1)
            share[-1] = exact
        u[f] = _normalized(share, floor)
    return u, len(sample)


# --- m by EM -----------------------------------------------------------------------------------


def comparison_patterns(
    compared: pd.DataFrame, rules: MatchingRules
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The distinct comparison vectors (levels as the model counts them) and their counts."""
    names = list(rules.comparisons)
    radix = [rules.levels(f) + 1 for f in names]  # one more for missing
    total = math.prod(radix)
    raw = _raw_levels(compared, rules)
    n = len(compared)
    keys = np.empty(n, dtype=np.int64)
    for block in _blocks(n):
        levels = _masked({f: raw[f][block] for f in names}, rules)
        key = np.zeros(block.stop - block.start, dtype=np.int64)
        for f, r in zip(names, radix, strict=True):
            key *= r
            key += levels[f] + 1
        keys[block] = key
    if total <= _DENSE_PATTERNS:
        counts = np.bincount(keys, minlength=total)
        distinct = np.flatnonzero(counts)
        counts = counts[distinct]
    else:
        distinct, counts = np.unique(keys, return_counts=True)
    patterns = {}
    rest = distinct.copy()
    for f, r in reversed(list(zip(names, radix, strict=True))):
        patterns[f] = (rest % r - 1).astype(np.int8)
        rest //= r
    return {f: patterns[f] for f in names}, counts.astype(np.float64)


def _sigmoid2(w: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp2(-np.clip(w, -1000.0, 1000.0)))


def run_em(
    patterns: dict[str, np.ndarray],
    counts: np.ndarray,
    u: dict[str, np.ndarray],
    m_start: dict[str, np.ndarray],
    prior: float,
    all_pairs: float,
    rules: MatchingRules,
) -> tuple[dict[str, np.ndarray], float, int, bool]:
    """EM for m and λ with u fixed, over comparison vectors with counts.

    Returns (m, λ, iterations, converged). ``all_pairs`` is the number of record pairs λ refers
    to; vectors not among ``patterns`` are taken as non-matches.
    """
    floor = rules.em.probability_floor
    m = {f: _normalized(v, floor) for f, v in m_start.items()}
    iterations, converged = 0, False
    while iterations < rules.em.max_iterations:
        iterations += 1
        weight = np.full(len(counts), math.log2(prior) - math.log2(1.0 - prior))
        for f, lvl in patterns.items():
            fm = FieldModel(f, (), tuple(m[f]), tuple(u[f]), rules.comparisons[f].weight_limit)
            table = np.concatenate([[0.0], fm.weights()])  # index 0: missing
            weight += table[lvl.astype(np.int64) + 1]
        expected = _sigmoid2(weight) * counts
        change = 0.0
        for f, lvl in patterns.items():
            seen = lvl >= 0
            got = np.bincount(lvl[seen].astype(np.int64), weights=expected[seen], minlength=len(m[f]))
            new = _normalized(got, floor) if got.sum() > 0 else m[f]
            change = max(change, float(np.abs(new - m[f]).max()))
            m[f] = new
        prior = float(np.clip(expected.sum() / max(all_pairs, 1.0), 1e-15, 0.5))
        log.debug("EM iteration %d: λ=%.3g, largest change of m %.2g", iterations, prior, change)
        if change < rules.em.tolerance:
            converged = True
            break
    return m, prior, iterations, converged


def fit_model(
    records: pd.DataFrame, compared: pd.DataFrame, rules: MatchingRules, *, seed: int = 0
) -> FSModel:
    """u from random pairs of ``records``, then m and λ by EM over the candidates ``compared``."""
    u, n_random = estimate_u(records, rules, seed=seed)
    n = len(records)
    m_start = {f: np.array([lv.m for lv in reversed(c.levels)]) for f, c in rules.comparisons.items()}
    patterns, counts = comparison_patterns(compared, rules)
    prior = min(rules.prior.matches_per_record / max(n - 1, 1), 0.5)
    m, prior, iterations, converged = run_em(
        patterns, counts, u, m_start, prior, n * (n - 1) / 2, rules
    )
    fields = tuple(
        FieldModel(
            field=f,
            labels=_labels(rules, f),
            m=tuple(float(x) for x in m[f]),
            u=tuple(float(x) for x in u[f]),
            weight_limit=comp.weight_limit,
        )
        for f, comp in rules.comparisons.items()
    )
    log.info(
        "model fitted: λ=%.3g after %d EM iterations%s",
        prior,
        iterations,
        "" if converged else " (not converged)",
    )
    return FSModel(
        fields=fields,
        prior=prior,
        records=n,
        candidate_pairs=len(compared),
        random_pairs=n_random,
        iterations=iterations,
        converged=converged,
    )


# --- weights and decisions ---------------------------------------------------------------------


def _record_shares(records: pd.DataFrame, f: str) -> np.ndarray:
    """Per record: the share of records (with a value) that have its value; 0 where missing."""
    codes = value_codes(records, f).astype(np.int64)
    present = codes >= 0
    counts = np.bincount(codes[present]).astype(np.float64)
    shares = counts / max(int(present.sum()), 1)
    return np.where(present, shares[np.maximum(codes, 0)] if len(shares) else 0.0, 0.0)


@dataclass(frozen=True)
class _Weigher:
    """What weighing needs, made once per call: level tables and term frequencies."""

    tables: dict[str, np.ndarray]  # per field, index level + 1 (0 = missing)
    shares: dict[str, np.ndarray]  # per TF field: share of records with each record's value
    prior: float

    @staticmethod
    def make(records: pd.DataFrame, model: FSModel, rules: MatchingRules) -> _Weigher:
        tables = {fm.field: np.concatenate([[0.0], fm.weights()]) for fm in model.fields}
        shares = {
            f: _record_shares(records, f)
            for f, tf in rules.term_frequency.items()
            if tf.weight > 0 and f in tables
        }
        return _Weigher(tables, shares, model.prior_weight)

    def field_bits(
        self, f: str, lvl: np.ndarray, left: np.ndarray, model: FSModel, rules: MatchingRules
    ) -> np.ndarray:
        table = self.tables[f]
        bits = table[lvl.astype(np.intp) + 1]
        if f in self.shares:
            tf = rules.term_frequency[f]  # type: ignore[index]
            fm = model.field(f)
            top = np.flatnonzero(lvl == len(fm.m) - 1)
            share = np.maximum(self.shares[f][left[top]], tf.min_u)
            adjusted = bits[top] + tf.weight * (math.log2(fm.u[-1]) - np.log2(share))
            # an exact agreement never counts less than the level below it, nor against
            floor = max(table[-2] if len(table) > 2 else 0.0, 0.0)
            adjusted = np.maximum(adjusted, floor)
            if fm.weight_limit is not None:
                adjusted = np.minimum(adjusted, fm.weight_limit)
            bits[top] = adjusted
        return bits


def field_weights(
    records: pd.DataFrame,
    pairs: pd.DataFrame,
    compared: pd.DataFrame,
    model: FSModel,
    rules: MatchingRules,
) -> dict[str, np.ndarray]:
    """Bits of evidence each field adds to each pair (0 where missing or ignored)."""
    weigher = _Weigher.make(records, model, rules)
    left = pairs["left"].to_numpy(dtype=np.int64)
    levels = model_levels(compared, rules)
    return {f: weigher.field_bits(f, levels[f], left, model, rules) for f in levels}


def _weigh(
    records: pd.DataFrame,
    left: np.ndarray,
    compared: pd.DataFrame,
    model: FSModel,
    rules: MatchingRules,
) -> np.ndarray:
    weigher = _Weigher.make(records, model, rules)
    raw = _raw_levels(compared, rules)
    total = np.empty(len(compared), dtype=np.float64)
    for block in _blocks(len(compared)):
        levels = _masked({f: v[block] for f, v in raw.items()}, rules)
        acc = np.full(block.stop - block.start, weigher.prior)
        for f, lvl in levels.items():
            acc += weigher.field_bits(f, lvl, left[block], model, rules)
        total[block] = acc
    return total


def score_pairs(
    records: pd.DataFrame,
    pairs: pd.DataFrame,
    compared: pd.DataFrame,
    model: FSModel,
    rules: MatchingRules,
    *,
    explain_rejects: bool = False,
) -> pd.DataFrame:
    """left, right, weight (bits), probability, decision (auto | review | reject) and reasons.

    Reasons are written for auto and review pairs; for rejected pairs only with
    ``explain_rejects`` (they are most pairs, and nobody reads them all), else NA.
    """
    left = pairs["left"].to_numpy(dtype=np.int64)
    weight = _weigh(records, left, compared, model, rules)
    probability = _sigmoid2(weight)
    codes = np.zeros(len(pairs), dtype=np.int8)
    codes[probability >= rules.thresholds.review] = 1
    codes[probability >= rules.thresholds.auto] = 2
    decision = pd.Categorical.from_codes(codes, categories=list(DECISIONS))
    rows = np.arange(len(pairs)) if explain_rejects else np.flatnonzero(codes > 0)
    reasons = _explain_rows(records, pairs, compared, rules, rows)
    return pd.DataFrame(
        {
            "left": left,
            "right": pairs["right"].to_numpy(dtype=np.int64),
            "weight": weight.astype(np.float32),
            "probability": probability,
            "decision": decision,
            "reasons": reasons,
        },
        index=pairs.index,
        copy=False,
    )


# --- reasons -----------------------------------------------------------------------------------


def _fragments(
    values: pa.Array | None, left: np.ndarray, lvl: np.ndarray, sim: np.ndarray, templates: list[str]
) -> pa.Array | None:
    """One field's part of each pair's reasons (null where the field says nothing).

    ``templates`` per level (level 0 first); ``{value}`` is the left record's value, ``{pct}``
    the similarity in percent (rounded down, so only an exact match reads 100%).
    """
    pieces: list[pa.Array] = [pa.nulls(1, _TEXT)]
    index = np.zeros(len(lvl), dtype=np.int64)  # 0 → null
    offset = 1
    for level_no, template in enumerate(templates):
        rows = np.flatnonzero(lvl == level_no)
        if not template or not len(rows):
            continue
        if "{value}" in template and values is not None:
            head, _, tail = template.partition("{value}")
            middle = values.take(pa.array(left[rows])).cast(_TEXT)
        elif "{pct}" in template:
            head, _, tail = template.partition("{pct}")
            pct = np.floor(sim[rows].astype(np.float64) * 100 + 1e-6).astype(np.int64)
            middle = pa.array(pct).cast(_TEXT)
        else:
            pieces.append(pa.array([template], _TEXT))
            index[rows] = offset
            offset += 1
            continue
        piece = pc.binary_join_element_wise(
            pa.scalar(head, _TEXT), middle, pa.scalar(tail, _TEXT), pa.scalar("", _TEXT)
        )
        pieces.append(piece)
        index[rows] = offset + np.arange(len(rows))
        offset += len(rows)
    if len(pieces) == 1:
        return None
    return pa.concat_arrays(pieces).take(pa.array(index))


def _value_arrays(records: pd.DataFrame, rules: MatchingRules) -> dict[str, pa.Array]:
    out = {}
    for f, comp in rules.comparisons.items():
        if f in COLUMNS and any("{value}" in lv.reason for lv in comp.levels):
            arr = pa.array(records[COLUMNS[f]].astype("string").array)
            out[f] = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return out


def _explain_block(
    values: dict[str, pa.Array],
    left: np.ndarray,
    levels: dict[str, np.ndarray],
    sims: dict[str, np.ndarray],
    rules: MatchingRules,
) -> pa.Array:
    parts = []
    for f, comp in rules.comparisons.items():
        templates = [lv.reason for lv in reversed(comp.levels)]
        frag = _fragments(values.get(f), left, levels[f], sims[f], templates)
        if frag is not None:
            parts.append(frag)
    if not parts:
        return pa.array([""] * len(left), pa.string())
    separator = pa.scalar("; ", _TEXT)
    joined = pc.binary_join_element_wise(*parts, separator, null_handling="skip")
    return joined.cast(pa.string())


def _explain_rows(
    records: pd.DataFrame,
    pairs: pd.DataFrame,
    compared: pd.DataFrame,
    rules: MatchingRules,
    rows: np.ndarray,
) -> pd.Series:
    """Reasons for ``rows`` (positions into pairs), NA for the other pairs."""
    n = len(pairs)
    left_all = pairs["left"].to_numpy(dtype=np.int64)
    raw = _raw_levels(compared, rules)
    sims_all = {f: compared[sim_column(f)].to_numpy(dtype=np.float32) for f in rules.comparisons}
    values = _value_arrays(records, rules)
    chunks: list[pa.Array] = []
    for block in _blocks(len(rows), _REASON_BLOCK):
        take = rows[block]
        levels = _masked({f: v[take] for f, v in raw.items()}, rules)
        sims = {f: v[take] for f, v in sims_all.items()}
        chunks.append(_explain_block(values, left_all[take], levels, sims, rules))
    if len(rows) == n:
        arrays = chunks
    else:
        # rows explained, then nulls: place each pair's reason with one take per chunk
        where = np.full(n, -1, dtype=np.int64)
        where[rows] = np.arange(len(rows))
        explained = pa.chunked_array(chunks, pa.string()) if chunks else None
        arrays = []
        for block in _blocks(n, _REASON_BLOCK):
            idx = where[block]
            if explained is None or not (idx >= 0).any():
                arrays.append(pa.nulls(len(idx), pa.string()))
            else:
                arrays.append(explained.take(pa.array(idx, mask=idx < 0)).combine_chunks())
    chunked = pa.chunked_array(arrays or [pa.array([], pa.string())], pa.string())
    return pd.Series(pd.arrays.ArrowStringArray(chunked), index=pairs.index, dtype="string")


def explain(
    records: pd.DataFrame, pairs: pd.DataFrame, compared: pd.DataFrame, rules: MatchingRules
) -> pd.Series:
    """Plain-language reasons for every pair, such as
    ``same domain majujaya.co.id; name 96%; same postcode 12190; different city``."""
    return _explain_rows(records, pairs, compared, rules, np.arange(len(pairs)))
