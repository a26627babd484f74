"""Fellegi–Sunter scoring: learn m and u, then weigh, decide and explain every candidate pair.

The model (as in splink): for each field, the level ℓ a pair lands on is evidence
``log2(m[ℓ] / u[ℓ])`` bits, where m is how often the level occurs when two records are the same
company and u how often it occurs when they are not. A pair's match weight is the prior
``log2(λ / (1 - λ))`` plus the evidence of every field (a missing value adds 0), and its
probability is ``1 / (1 + 2**-weight)``.

* **u** is measured on random record pairs (``u_sampling.pairs`` of them, drawn at once and
  compared with the same code as the candidates). Exact agreement is rare by chance, so for a
  field without ``conditional_on`` its u is counted exactly instead: the share of record pairs
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
* **Fields that depend on another**: two records at the same address nearly always share the
  postcode, match or not, so counting both in full would count one fact twice. A field with
  ``conditional_on`` therefore has a second set of levels, used where one of those fields agrees
  exactly, with its own m (learned by EM) and u (measured on random pairs of records that agree
  on that field: how often two different companies at one address share a postcode).
* **More agreement never lowers a probability**: a better level never counts less than a worse
  one, an exact agreement never counts against a pair (weights are raised to the level below,
  and to 0 at the top), and a field others are conditional on gains, when it agrees exactly, at
  least what they lose by moving to their second levels (``level_weights``).

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
from recon.match import name_looks as looks
from recon.match.compare import (
    COLUMNS,
    HOW,
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
_DENSE_PATTERNS = 1 << 25  # comparison vectors counted with bincount up to this many
_TEXT = pa.large_string()


@dataclass(frozen=True)
class FieldModel:
    """m and u of one field's levels, level 0 (the worst) first.

    A field with ``conditional_on`` has its levels twice: first where none of those fields agrees
    exactly, then (level + k) where one does.
    """

    field: str
    labels: tuple[str, ...]
    m: tuple[float, ...]
    u: tuple[float, ...]
    weight_limit: float | None = None
    conditional_on: tuple[str, ...] = ()

    @property
    def k(self) -> int:
        """Levels of the field (each set of them)."""
        return len(self.m) // 2 if self.conditional_on else len(self.m)

    def bayes_bits(self) -> np.ndarray:
        """log2(m/u) per level, as learned."""
        return np.log2(np.asarray(self.m)) - np.log2(np.asarray(self.u))

    def weights(self) -> np.ndarray:
        """The bits each level adds: log2(m/u), never below the level under it, the top level
        never below 0, within ± weight_limit."""
        halves = self.bayes_bits().reshape(-1, self.k)
        w = np.maximum.accumulate(halves, axis=1)
        w[:, -1] = np.maximum(w[:, -1], 0.0)
        if self.weight_limit is not None:
            w = np.clip(w, -self.weight_limit, self.weight_limit)
        return w.reshape(-1)

    def tops(self) -> tuple[int, ...]:
        """The exact-agreement levels."""
        return (self.k - 1, 2 * self.k - 1) if self.conditional_on else (self.k - 1,)


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
            {
                **asdict(f),
                "labels": list(f.labels),
                "m": list(f.m),
                "u": list(f.u),
                "conditional_on": list(f.conditional_on),
            }
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
                conditional_on=tuple(f.get("conditional_on", ())),
            )
            for f in data["fields"]
        )
        rest = {k: v for k, v in data.items() if k != "fields"}
        return cls(fields=fields, **rest)


def level_weights(fields: tuple[FieldModel, ...] | list[FieldModel]) -> dict[str, np.ndarray]:
    """The bits of each field's levels (``FieldModel.weights``), with one guarantee across
    fields: a field that others are conditional on gains, at its exact level, at least what those
    others can lose by moving to their conditional levels. So a field that was missing and now
    agrees exactly never lowers a pair's weight (within each field's weight_limit)."""
    weights = {fm.field: fm.weights() for fm in fields}
    by_name = {fm.field: fm for fm in fields}
    for parent in sorted({p for fm in fields for p in fm.conditional_on if p in by_name}):
        loss = 0.0
        for child in fields:
            if parent in child.conditional_on:
                w = weights[child.field].reshape(2, child.k)
                loss += max(float((w[0] - w[1]).max()), 0.0)
        pm = by_name[parent]
        w = weights[parent]
        for top in pm.tops():
            w[top] = max(w[top], loss)
        if pm.weight_limit is not None:
            np.clip(w, -pm.weight_limit, pm.weight_limit, out=w)
    return weights


# --- levels as the model sees them -------------------------------------------------------------


def _raw_levels(compared: pd.DataFrame, rules: MatchingRules) -> dict[str, np.ndarray]:
    return {f: compared[lvl_column(f)].to_numpy(dtype=np.int8) for f in rules.by_field}


def _extended(raw: dict[str, np.ndarray], rules: MatchingRules) -> dict[str, np.ndarray]:
    """Levels as the model counts them: a field with ``conditional_on`` moves to its second set
    of levels (level + k) where one of those fields agrees exactly."""
    out = {}
    for f, comp in rules.by_field.items():
        lvl = raw[f]
        if comp.conditional_on:
            given = np.zeros(len(lvl), dtype=bool)
            for other in comp.conditional_on:
                given |= raw[other] == rules.levels(other) - 1
            lvl = lvl + (given & (lvl >= 0)).view(np.int8) * np.int8(rules.levels(f))
        out[f] = lvl
    return out


def model_levels(compared: pd.DataFrame, rules: MatchingRules) -> dict[str, np.ndarray]:
    """Each field's levels as the model counts them (see ``_extended``)."""
    return _extended(_raw_levels(compared, rules), rules)


def n_levels(rules: MatchingRules, f: str) -> int:
    """How many levels the model has for a field (twice the comparison's when conditional)."""
    k = rules.levels(f)
    return 2 * k if rules.by_field[f].conditional_on else k


def _blocks(n: int, size: int = _BLOCK) -> list[slice]:
    return [slice(s, min(s + size, n)) for s in range(0, n, size)]


def _normalized(p: np.ndarray, floor: float) -> np.ndarray:
    """Probabilities from counts, none below ``floor``, summing to 1 (even with no counts)."""
    p = np.asarray(p, dtype=np.float64)
    total = p.sum()
    p = np.maximum(p / total if total > 0 else np.full(len(p), 1.0 / len(p)), floor)
    return p / p.sum()


def _labels(rules: MatchingRules, f: str) -> tuple[str, ...]:
    comp = rules.by_field[f]
    labels = tuple(lv.label for lv in reversed(comp.levels))
    if comp.conditional_on:
        given = " or ".join(comp.conditional_on)
        labels += tuple(f"{label}, same {given}" for label in labels)
    return labels


def _m_start(rules: MatchingRules, f: str) -> np.ndarray:
    m = np.array([lv.m for lv in reversed(rules.by_field[f].levels)])
    return np.concatenate([m, m]) if rules.by_field[f].conditional_on else m


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


def agreeing_pairs(records: pd.DataFrame, f: str, k: int, seed: int) -> pd.DataFrame:
    """k random pairs of two different records with the same value of ``f``, drawn at once:
    a group of records with one value is drawn in proportion to its number of pairs."""
    codes = value_codes(records, f).astype(np.int64)
    members = np.flatnonzero(codes >= 0)
    members = members[np.argsort(codes[members])]  # any order within a group will do
    sorted_codes = codes[members]
    empty = pd.DataFrame({"left": np.zeros(0, np.int64), "right": np.zeros(0, np.int64)})
    if len(members) < 2:
        return empty
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    sizes = np.diff(np.r_[starts, len(members)])
    pairs_in = np.cumsum(sizes * (sizes - 1.0))
    if pairs_in[-1] <= 0:
        return empty
    rng = np.random.default_rng(seed)
    group = np.searchsorted(pairs_in, rng.random(k) * pairs_in[-1], side="right")
    size = sizes[group]
    i = np.minimum((rng.random(k) * size).astype(np.int64), size - 1)
    j = np.minimum((rng.random(k) * (size - 1)).astype(np.int64), size - 2)
    j += j >= i
    a, b = members[starts[group] + i], members[starts[group] + j]
    return pd.DataFrame({"left": np.minimum(a, b), "right": np.maximum(a, b)})


def _level_shares(lvl: np.ndarray, k: int, offset: int) -> np.ndarray:
    seen = lvl[(lvl >= offset) & (lvl < offset + k)].astype(np.int64) - offset
    counts = np.bincount(seen, minlength=k).astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def estimate_u(
    records: pd.DataFrame, rules: MatchingRules, *, seed: int = 0
) -> tuple[dict[str, np.ndarray], int]:
    """u per field level (level 0 first) from random pairs; exact agreement from frequencies;
    the second levels of a conditional field from random pairs that agree on its condition."""
    sample = random_pairs(len(records), rules.u_sampling.pairs, seed)
    levels = model_levels(compare_pairs(records, sample, rules), rules)
    n_sampled = len(sample)
    floor = rules.em.probability_floor
    parents = sorted({p for c in rules.by_field.values() for p in c.conditional_on})
    given_levels: dict[str, dict[str, np.ndarray]] = {}
    per_parent = max(rules.u_sampling.pairs // 10, 1000)
    for i, parent in enumerate(parents):
        pairs = agreeing_pairs(records, parent, per_parent, seed + 1 + i)
        # only the fields conditional on this one, and the fields they are conditional on
        needed = {f for f, c in rules.by_field.items() if parent in c.conditional_on}
        needed |= {p for f in needed for p in rules.by_field[f].conditional_on}
        subset = rules.model_copy(
            update={"comparisons": {f: c for f, c in rules.by_field.items() if f in needed}}
        )
        compared = compare_pairs(records, pairs, subset)
        given_levels[parent] = {f: compared[lvl_column(f)].to_numpy() for f in needed}
        n_sampled += len(pairs)
    u = {}
    for f, comp in rules.by_field.items():
        k = len(comp.levels)
        share = _level_shares(levels[f], k, 0)
        exact: float | None = None
        if not comp.conditional_on:
            if f == "xref":
                exact = _xref_share(records)
            elif f != "legal_form":
                exact = _exact_share(value_codes(records, f))
        if exact is not None:
            rest = share[:-1].sum()
            share[:-1] = share[:-1] / rest * (1.0 - exact) if rest > 0 else (1.0 - exact) / (k - 1)
            share[-1] = exact
        parts = [_normalized(share, floor)]
        if comp.conditional_on:
            # pairs drawn for the j-th field count only if no earlier one agrees: each pair
            # that agrees on any of them is then counted once, as in the union
            seen = []
            for j, parent in enumerate(comp.conditional_on):
                raw = given_levels[parent]
                keep = np.ones(len(raw[f]), dtype=bool)
                for before in comp.conditional_on[:j]:
                    keep &= raw[before] != rules.levels(before) - 1
                seen.append(raw[f][keep & (raw[f] >= 0)])
            parts.append(_normalized(_level_shares(np.concatenate(seen), k, 0), floor))
        u[f] = np.concatenate(parts)
    return u, n_sampled


# --- m by EM -----------------------------------------------------------------------------------


def comparison_patterns(
    compared: pd.DataFrame, rules: MatchingRules
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The distinct comparison vectors (levels as the model counts them) and their counts."""
    names = list(rules.by_field)
    radix = [n_levels(rules, f) + 1 for f in names]  # one more for missing
    total = math.prod(radix)
    raw = _raw_levels(compared, rules)
    n = len(compared)
    keys = np.empty(n, dtype=np.int64)
    for block in _blocks(n):
        levels = _extended({f: raw[f][block] for f in names}, rules)
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
        codes, distinct = pd.factorize(keys)
        counts = np.bincount(codes)
        distinct = np.asarray(distinct, dtype=np.int64)
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
    m = {}
    for f, start in m_start.items():
        k = rules.levels(f)
        m[f] = np.concatenate([_normalized(h, floor) for h in start.reshape(-1, k)])
    iterations, converged = 0, False
    while iterations < rules.em.max_iterations:
        iterations += 1
        weight = np.full(len(counts), math.log2(prior) - math.log2(1.0 - prior))
        fields = [
            FieldModel(f, (), tuple(m[f]), tuple(u[f]), c.weight_limit, c.conditional_on)
            for f, c in rules.by_field.items()
        ]
        for f, w in level_weights(fields).items():
            table = np.concatenate([[0.0], w])  # index 0: missing
            weight += table[patterns[f].astype(np.int64) + 1]
        expected = _sigmoid2(weight) * counts
        change = 0.0
        for f, lvl in patterns.items():
            seen = lvl >= 0
            got = np.bincount(
                lvl[seen].astype(np.int64), weights=expected[seen], minlength=len(m[f])
            )
            k = rules.levels(f)
            new = m[f].copy()
            for half in range(len(m[f]) // k):  # each set of levels sums to 1 on its own
                part = slice(half * k, (half + 1) * k)
                if got[part].sum() > 0:
                    new[part] = _normalized(got[part], floor)
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
    m_start = {f: _m_start(rules, f) for f in rules.by_field}
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
            conditional_on=comp.conditional_on,
        )
        for f, comp in rules.by_field.items()
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
        tables = {f: np.concatenate([[0.0], w]) for f, w in level_weights(model.fields).items()}
        shares = {
            f: _record_shares(records, f)
            for f, tf in rules.tf_by_field.items()
            if tf.weight > 0 and f in tables
        }
        return _Weigher(tables, shares, model.prior_weight)

    def field_bits(
        self, f: str, lvl: np.ndarray, left: np.ndarray, model: FSModel, rules: MatchingRules
    ) -> np.ndarray:
        table = self.tables[f]
        bits = table[lvl.astype(np.intp) + 1]
        if f in self.shares:
            tf = rules.tf_by_field[f]
            fm = model.field(f)
            for top in fm.tops():
                rows = np.flatnonzero(lvl == top)
                share = np.maximum(self.shares[f][left[rows]], tf.min_u)
                adjusted = bits[rows] + tf.weight * (math.log2(fm.u[top]) - np.log2(share))
                # an exact agreement never counts less than the level below it (table[top], as
                # the table is indexed by level + 1), nor against
                floor = max(table[top], 0.0)
                adjusted = np.maximum(adjusted, floor)
                if fm.weight_limit is not None:
                    adjusted = np.minimum(adjusted, fm.weight_limit)
                bits[rows] = adjusted
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
        levels = _extended({f: v[block] for f, v in raw.items()}, rules)
        acc = total[block]
        acc[:] = weigher.prior
        for f, lvl in levels.items():
            acc += weigher.field_bits(f, lvl, left[block], model, rules)
    return total


def pair_weights(
    records: pd.DataFrame,
    pairs: pd.DataFrame,
    compared: pd.DataFrame,
    model: FSModel,
    rules: MatchingRules,
) -> np.ndarray:
    """Each pair's weight in bits (prior included), as ``score_pairs`` computes it."""
    return _weigh(records, pairs["left"].to_numpy(dtype=np.int64), compared, model, rules)


def score_pairs(
    records: pd.DataFrame,
    pairs: pd.DataFrame,
    compared: pd.DataFrame,
    model: FSModel,
    rules: MatchingRules,
    *,
    explain_rejects: bool = False,
    extra: tuple[np.ndarray, pa.Array] | None = None,
    weight: np.ndarray | None = None,
) -> pd.DataFrame:
    """left, right, weight (bits), probability, decision (auto | review | reject) and reasons.

    Reasons are written for auto and review pairs; for rejected pairs only with
    ``explain_rejects`` (they are most pairs, and nobody reads them all), else NA. ``extra``:
    bits per pair from evidence outside the fields (won deals and orders) and its reason per
    pair (null where none), added to the weight and the reasons. ``weight``: the pairs'
    weights from ``pair_weights``, when the caller has them already.
    """
    left = pairs["left"].to_numpy(dtype=np.int64)
    if weight is None:
        weight = _weigh(records, left, compared, model, rules)
    if extra is not None:
        weight = weight + extra[0]
    probability = _sigmoid2(weight)
    codes = np.zeros(len(pairs), dtype=np.int8)
    codes[probability >= rules.thresholds.review] = 1
    codes[probability >= rules.thresholds.auto] = 2
    decision = pd.Categorical.from_codes(codes, categories=list(DECISIONS))
    rows = np.arange(len(pairs)) if explain_rejects else np.flatnonzero(codes > 0)
    reasons = _explain_rows(
        records, pairs, compared, rules, rows, extra[1] if extra is not None else None
    )
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
    values: pa.Array | None,
    left: np.ndarray,
    lvl: np.ndarray,
    sim: np.ndarray,
    templates: list[str],
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
            # float32 0.9 is 0.8999999762: allow for that before rounding down
            pct = np.floor(sim[rows].astype(np.float64) * 100 + 1e-3).astype(np.int64)
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
    for f, comp in rules.by_field.items():
        if f in COLUMNS and any("{value}" in lv.reason for lv in comp.levels):
            arr = pa.array(records[COLUMNS[f]].astype("string").array)
            out[f] = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return out


# What a second look at the names adds to the reasons (by name_looks.HOW_*).
_HOW_TEXT = {
    looks.HOW_JOINED: "names alike written without spaces",
    looks.HOW_OTHER_NAME: "by its other name (T/A, ATF, DBA)",
}


def _record_notes(records: pd.DataFrame) -> pa.Array | None:
    """Per record, what normalization read in its name that a reviewer should see (null when
    nothing): a duplicate marker it ignored, a name taken from the web domain."""
    parts = []
    if "name_marker" in records.columns:
        marker = pa.array(records["name_marker"].astype("string").array).cast(_TEXT)
        parts.append(
            pc.binary_join_element_wise(
                pa.scalar('marker "', _TEXT),
                marker,
                pa.scalar('" ignored', _TEXT),
                pa.scalar("", _TEXT),
            )
        )
    if "name_source" in records.columns:
        source = pa.array(records["name_source"].astype("string").array).cast(_TEXT)
        named = pc.equal(source, pa.scalar("domain", _TEXT))
        parts.append(
            pc.if_else(
                named, pa.scalar("named after its web domain", _TEXT), pa.scalar(None, _TEXT)
            )
        )
    parts = [p.combine_chunks() if isinstance(p, pa.ChunkedArray) else p for p in parts]
    if not parts or all(p.null_count == len(p) for p in parts):
        return None
    return parts[0] if len(parts) == 1 else _join_present(parts[0], parts[1])


def _join_present(a: pa.Array, b: pa.Array) -> pa.Array:
    """a; b, or the one present, or null. Not null_handling="skip": pyarrow 26 drops the rows
    whose parts are all null from its result."""
    joined = pc.binary_join_element_wise(
        a, b, pa.scalar("; ", _TEXT), null_handling="replace", null_replacement=""
    )
    joined = pc.replace_substring_regex(joined, pattern="^; |; $", replacement="")
    return pc.if_else(pc.and_(a.is_null(), b.is_null()), pa.scalar(None, _TEXT), joined)


def _notes_fragment(notes: pa.Array, left: np.ndarray, right: np.ndarray) -> pa.Array | None:
    """The record notes of both records of each pair, left first."""
    a, b = notes.take(pa.array(left)), notes.take(pa.array(right))
    if a.null_count == len(a) and b.null_count == len(b):
        return None
    return _join_present(a, b)


def _how_fragment(how: np.ndarray) -> pa.Array | None:
    if not how.any():
        return None
    texts = [None] * (int(max(_HOW_TEXT)) + 1)
    for code, text in _HOW_TEXT.items():
        texts[code] = text
    return pa.array(texts, _TEXT).take(pa.array(how.astype(np.int64)))


def _explain_block(
    values: dict[str, pa.Array],
    left: np.ndarray,
    levels: dict[str, np.ndarray],
    sims: dict[str, np.ndarray],
    rules: MatchingRules,
    how: np.ndarray | None = None,
    extra: pa.Array | None = None,
    notes: pa.Array | None = None,
) -> pa.Array:
    parts = []
    for f, comp in rules.by_field.items():
        templates = [lv.reason for lv in reversed(comp.levels)]
        if comp.conditional_on:
            templates = templates + templates
        frag = _fragments(values.get(f), left, levels[f], sims[f], templates)
        if frag is not None:
            parts.append(frag)
        if f == "name" and how is not None and (looked := _how_fragment(how)) is not None:
            parts.append(looked)
    if notes is not None:
        parts.append(notes)
    if extra is not None and extra.null_count < len(extra):
        parts.append(extra.cast(_TEXT))
    if not parts:
        return pa.array([""] * len(left), _TEXT)
    # pyarrow 26 drops a row whose parts are all null under null_handling="skip" (the result is
    # shorter than its inputs): give such rows one empty part, which joins to "".
    silent = np.ones(len(left), dtype=bool)
    for part in parts:
        silent &= part.is_null().to_numpy(zero_copy_only=False)
    if silent.any():
        parts[0] = pc.if_else(pa.array(silent), pa.scalar("", _TEXT), parts[0])
    separator = pa.scalar("; ", _TEXT)
    return pc.binary_join_element_wise(*parts, separator, null_handling="skip")


def _spread(explained: pa.Array, rows: np.ndarray, n: int) -> pa.Array:
    """A string array of length n with ``explained`` at ``rows`` (ascending) and nulls elsewhere,
    built from the buffers: the text is not copied."""
    offsets = np.frombuffer(explained.buffers()[1], dtype=np.int64)
    offsets = offsets[explained.offset : explained.offset + len(explained) + 1]
    lengths = np.zeros(n, dtype=np.int64)
    lengths[rows] = np.diff(offsets)
    spread = np.empty(n + 1, dtype=np.int64)
    spread[0] = offsets[0]
    np.cumsum(lengths, out=spread[1:])
    spread[1:] += offsets[0]
    valid = np.zeros(n, dtype=bool)
    valid[rows] = True
    return pa.LargeStringArray.from_buffers(
        n,
        pa.py_buffer(spread),
        explained.buffers()[2],
        pa.py_buffer(np.packbits(valid, bitorder="little")),
        null_count=n - len(rows),
    )


def _explain_rows(
    records: pd.DataFrame,
    pairs: pd.DataFrame,
    compared: pd.DataFrame,
    rules: MatchingRules,
    rows: np.ndarray,
    extra: pa.Array | None = None,
) -> pd.Series:
    """Reasons for ``rows`` (ascending positions into pairs), NA for the other pairs."""
    n = len(pairs)
    left_all = pairs["left"].to_numpy(dtype=np.int64)
    raw = _raw_levels(compared, rules)
    sims_all = {f: compared[sim_column(f)].to_numpy(dtype=np.float32) for f in rules.by_field}
    values = _value_arrays(records, rules)
    how_all = compared[HOW].to_numpy(dtype=np.int8) if HOW in compared.columns else None
    right_all = pairs["right"].to_numpy(dtype=np.int64)
    record_notes = _record_notes(records)
    chunks: list[pa.Array] = [pa.array([], _TEXT)]
    for block in _blocks(len(rows), _REASON_BLOCK):
        take = rows[block]
        levels = _extended({f: v[take] for f, v in raw.items()}, rules)
        sims = {f: v[take] for f, v in sims_all.items()}
        how = how_all[take] if how_all is not None else None
        more = extra.take(pa.array(take)) if extra is not None else None
        notes = (
            _notes_fragment(record_notes, left_all[take], right_all[take])
            if record_notes is not None
            else None
        )
        chunks.append(_explain_block(values, left_all[take], levels, sims, rules, how, more, notes))
    explained = pa.concat_arrays(chunks)
    if len(rows) < n:
        explained = _spread(explained, rows, n)
    return pd.Series(pd.arrays.ArrowStringArray(explained), index=pairs.index, dtype="string")


def explain(
    records: pd.DataFrame, pairs: pd.DataFrame, compared: pd.DataFrame, rules: MatchingRules
) -> pd.Series:
    """Plain-language reasons for every pair, such as
    ``same domain majujaya.co.id; name 96%; same postcode 12190; different city``."""
    return _explain_rows(records, pairs, compared, rules, np.arange(len(pairs)))
