"""Cluster scored pairs into entities: ambiguity guard, connected components, chaining split.

Three steps, in this order:

1. Review decisions. A pair rejected in review (``cannot_link``) is a reject; a pair confirmed in
   review (``must_link``) is an auto link; either is added to the pairs if the scorer never saw
   it. When a pair is both, the reject wins and the confirmation is reported as a conflict.
2. Ambiguity guard. A record with two or more auto candidates of the other system that are not
   themselves one entity gets none of them: all those pairs go to review together ("ambiguous: 2
   ERP candidates above the auto threshold"). Candidates count as one entity when pairs within
   their own system scored auto or review connect them: two CRM records that both match one ERP
   customer and are a review pair of each other are one company's duplicates far more often than
   two companies (the same bar step 3 keeps a component whole by), while candidates that were
   rejected against each other, or never compared, stay ambiguous.
3. Clustering. The auto links form connected components (``scipy.sparse.csgraph``, vectorized). A
   component is kept whole when it is consistent: every pair of its records was scored auto or
   review (or it has only two records), at most one tax id, and no pair rejected in review. The
   other components (few) are rebuilt by constrained agglomeration: links taken strongest first
   (confirmed links before all others, then by probability), and two groups join only when

   - no pair between them was rejected in review,
   - their tax ids (``tax_ids_must_agree``) are not disjoint: each non-empty set shares one,
   - at least ``min_support`` of the record pairs between them are candidate pairs scored auto or
     review (``split_chains``); a confirmed link joins its groups regardless.

   Passes repeat until nothing joins. An auto link left between two groups goes to review with the
   reason. Joining only on support between whole groups (average linkage) keeps one weak bridge
   from merging two groups: A–B and B–C strong with A–C unsupported still join at 0.5 (one of two
   pairs), but not when A and C carry different tax ids, and a record hanging on one member of a
   group of four does not.

Entities are numbered 0.. in the order of the smallest (system, record_id) of each entity, so the
numbering depends on the records and pairs only, not on the order of the rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from recon.config.survivorship import ClusteringRules, EntityRules, default_entity_rules
from recon.match.records import CRM, ERP

log = logging.getLogger(__name__)

AUTO, REVIEW, REJECT = "auto", "review", "reject"
_DECISIONS = np.array([REJECT, REVIEW, AUTO], dtype=object)
_DECISION_TEXT = pd.Series(_DECISIONS, dtype="str")
_REJECT, _REVIEW, _AUTO = 0, 1, 2

CONFIRMED = "confirmed in review"
REJECTED = "rejected in review"
CONFLICT = "conflict: confirmed in review, but rejected in review too (the reject wins)"
CONFLICT_CLUSTER = "conflict: confirmed in review, but its cluster holds a pair rejected in review"
SPLIT_SUPPORT = "split: not supported by the rest of its cluster"
SPLIT_TAX = "split: its cluster would hold different tax ids"
SPLIT_REJECTED = "split: its cluster would hold a pair rejected in review"


@dataclass(frozen=True)
class Clustering:
    """``entity``: int64 per record position, numbered 0.. in order of each entity's smallest
    (system, record_id). ``pairs``: the scored pairs (plus review decisions the scorer never saw)
    with the final ``decision`` and ``decision_reason`` (empty when the score alone decided).
    """

    entity: pd.Series
    pairs: pd.DataFrame
    # Each record's place in (system, record_id) order, kept so that assign_xref need not sort
    # the ids again; None when the clustering was built elsewhere.
    record_rank: np.ndarray | None = None


def cluster_records(
    records: pd.DataFrame,
    scored: pd.DataFrame,
    rules: EntityRules | None = None,
    *,
    must_link: pd.DataFrame | None = None,
    cannot_link: pd.DataFrame | None = None,
) -> Clustering:
    """Entities from scored pairs.

    ``must_link`` and ``cannot_link`` hold review decisions as (left, right) record positions in
    either order: a confirmed pair always shares an entity, a rejected pair never does.
    """
    n = len(records)
    crule = (rules or default_entity_rules()).clustering
    _require(
        records, ["system", "record_id"] + (["tax_id_norm"] if crule.tax_ids_must_agree else [])
    )
    is_erp = (records["system"] == ERP).to_numpy(dtype=bool)
    unknown = set(pd.unique(records["system"])) - {CRM, ERP}
    if unknown:
        raise ValueError(f"records.system holds {sorted(map(str, unknown))}; expected crm or erp")

    pairs, must, cannot = _with_reviews(scored, n, must_link, cannot_link)
    left = pairs["left"].to_numpy(dtype=np.int64)
    right = pairs["right"].to_numpy(dtype=np.int64)
    dec = _decision_codes(pairs["decision"])
    reason = np.full(len(pairs), "", dtype=object)

    both = must & cannot
    dec[cannot] = _REJECT
    reason[cannot] = REJECTED
    reason[both] = CONFLICT
    must &= ~cannot
    dec[must] = _AUTO
    reason[must] = CONFIRMED

    weight = (
        pairs["weight"].to_numpy(dtype=np.float64)
        if "weight" in pairs.columns
        else np.full(len(pairs), np.nan)
    )
    _guard_ambiguity(
        records, is_erp, left, right, weight, dec, must, reason, crule.ambiguity_margin_bits
    )

    tax = _tax_codes(records) if crule.tax_ids_must_agree else np.full(n, -1, dtype=np.int64)
    rank = record_order(records)
    labels = _cluster(n, left, right, dec, must, cannot, tax, rank, pairs, crule, reason)
    entity = _number_entities(rank, labels)
    out = pairs.copy()
    out["decision"] = _DECISION_TEXT.take(dec).reset_index(drop=True)
    out["decision_reason"] = _texts(reason)
    changed = int((reason != "").sum())
    log.info(
        "%d records in %d entities; %d pair decisions changed",
        n,
        int(entity.max()) + 1 if n else 0,
        changed,
    )
    return Clustering(pd.Series(entity, index=records.index, name="entity"), out, rank)


def _texts(values: np.ndarray) -> pd.Series:
    """A text column from an object array that is mostly empty strings (converted row by row,
    a million empty strings cost more than the whole clustering step)."""
    out = pd.Series("", index=range(len(values)), dtype="str")
    filled = np.flatnonzero(values != "")
    if len(filled):
        out.iloc[filled] = values[filled]
    return out


def _require(frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"records lack the column(s) {', '.join(missing)}")


def _decision_codes(decision: pd.Series) -> np.ndarray:
    codes = np.full(len(decision), -1, dtype=np.int8)
    for code, name in enumerate(_DECISIONS):
        codes[(decision == name).to_numpy(dtype=bool, na_value=False)] = code
    if (codes < 0).any():
        bad = sorted(map(str, pd.unique(decision[codes < 0])))
        raise ValueError(f"scored.decision holds {bad}; expected auto, review or reject")
    return codes


def _pair_codes(frame: pd.DataFrame | None, n: int, what: str) -> np.ndarray:
    """Unique ``left * n + right`` codes (left < right) of a must/cannot frame."""
    if frame is None or frame.empty:
        return np.empty(0, dtype=np.int64)
    a = frame["left"].to_numpy(dtype=np.int64)
    b = frame["right"].to_numpy(dtype=np.int64)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    if len(lo) and (lo.min() < 0 or hi.max() >= n):
        raise ValueError(f"{what} names record positions outside 0..{n - 1}")
    keep = lo != hi
    return unique_ints(lo[keep] * n + hi[keep])


def _with_reviews(
    scored: pd.DataFrame,
    n: int,
    must_link: pd.DataFrame | None,
    cannot_link: pd.DataFrame | None,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The scored pairs plus review decisions the scorer never saw; masks of must and cannot.

    A review decision on a pair that was never a candidate is added as a row (no weight or
    probability) so that every decision shows in the pairs and the clustering sees it.
    """
    pairs = scored.reset_index(drop=True)
    left = pairs["left"].to_numpy(dtype=np.int64)
    right = pairs["right"].to_numpy(dtype=np.int64)
    if len(left) and ((left >= right).any() or left.min() < 0 or right.max() >= n):
        raise ValueError(f"scored pairs must have 0 <= left < right < {n}")
    codes = left * n + right
    ordered = codes if (np.diff(codes) > 0).all() else np.sort(codes)
    if (np.diff(ordered) == 0).any():
        raise ValueError("scored pairs must be unique: a (left, right) pair is listed twice")
    must_codes = _pair_codes(must_link, n, "must_link")
    cannot_codes = _pair_codes(cannot_link, n, "cannot_link")
    reviewed = unique_ints(np.concatenate([must_codes, cannot_codes]))
    extra = reviewed[~_member(reviewed, ordered)]
    if len(extra):
        added = pd.DataFrame(
            {
                "left": extra // n,
                "right": extra % n,
                "weight": np.nan,
                "probability": np.nan,
                "decision": np.where(_member(extra, cannot_codes), REJECT, AUTO),
                "reasons": "",
            }
        )
        pairs = pd.concat([pairs, added[[c for c in added.columns if c in pairs.columns]]])
        codes = np.concatenate([codes, extra])
        order = np.argsort(codes, kind="stable")
        pairs = pairs.iloc[order].reset_index(drop=True)
        codes = codes[order]
    return pairs, _member(codes, must_codes), _member(codes, cannot_codes)


def unique_ints(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values; by sorting, which is faster here than numpy 2's hashing unique."""
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """``np.isin`` against a sorted array, by binary search."""
    if not len(sorted_set):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[at] == values


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected component of each record (labels in scipy's order) of the links ``a``–``b``."""
    index = np.int32 if n < 2**31 else np.int64
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a.astype(index), b.astype(index))), (n, n))
    return connected_components(graph, directed=False)[1].astype(np.int64)


# Fields on which a record's duplicate agrees with it and a branch of its group does not.
_ALIKE_AGREE = ("city_norm", "address_norm", "phone_e164")
_ALIKE_DIFFER = (*_ALIKE_AGREE, "name_generic")


def _alike(records: pd.DataFrame, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether records a and b look like one company's duplicates: they agree on at least one
    of city, street address and phone, and differ in none of those nor in the descriptor."""
    agree = np.zeros(len(a), dtype=bool)
    differ = np.zeros(len(a), dtype=bool)
    for column in _ALIKE_DIFFER:
        if column not in records.columns:
            continue
        values = pa.array(records[column].astype("string").array)
        va, vb = values.take(pa.array(a)), values.take(pa.array(b))
        both = pc.and_(va.is_valid(), vb.is_valid()).to_numpy(zero_copy_only=False)
        same = pc.fill_null(pc.equal(va, vb), False).to_numpy(zero_copy_only=False)
        differ |= both & ~same
        if column in _ALIKE_AGREE:
            agree |= same
    return (agree & ~differ) | (a == b)


def _guard_ambiguity(
    records: pd.DataFrame,
    is_erp: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    weight: np.ndarray,
    dec: np.ndarray,
    must: np.ndarray,
    reason: np.ndarray,
    margin: float,
) -> None:
    """Send to review the auto links of a record whose auto candidates are not one entity
    (connected by auto or review pairs within their own system, or alike: see ``_alike``): all
    of them, or only the rivals when the best link outweighs each by ``margin`` bits."""
    n = len(records)
    strong = dec == _AUTO
    cross = is_erp[left] != is_erp[right]
    within = (dec != _REJECT) & ~cross
    dup = _components(n, left[within], right[within])
    cand = np.flatnonzero(strong & cross)
    if not len(cand):
        return
    rec = np.concatenate([left[cand], right[cand]])
    other = np.concatenate([right[cand], left[cand]])
    pair = np.concatenate([cand, cand])
    w = np.where(must[pair], np.inf, np.nan_to_num(weight[pair], nan=-np.inf))  # confirmed first
    # each record's best candidate first
    order = np.lexsort((-w, rec))
    rec, other, pair, w = rec[order], other[order], pair[order], w[order]
    first = np.r_[True, rec[1:] != rec[:-1]]
    start = np.flatnonzero(first)
    best = other[start][np.cumsum(first) - 1]
    group = np.where(_alike(records, other, best), dup[best], dup[other])
    n_cand = np.bincount(rec, minlength=n)
    distinct = unique_ints(rec * n + group) // n
    ambiguous = np.bincount(distinct, minlength=n) >= 2
    rival = group != dup[best]
    # the best rival's weight per record (rows are by record, best first): how far the best
    # link stands out
    top_rival = np.full(n, -np.inf)
    rival_rows = np.flatnonzero(rival)
    if len(rival_rows):
        firsts = rival_rows[np.r_[True, rec[rival_rows][1:] != rec[rival_rows][:-1]]]
        top_rival[rec[firsts]] = w[firsts]
    with np.errstate(invalid="ignore"):  # two confirmed links: inf - inf, nothing stands out
        stands_out = w[start] - top_rival[rec[start]] >= margin
    keep_best = np.zeros(n, dtype=bool)
    keep_best[rec[start]] = stands_out
    hit = ambiguous[rec] & ~must[pair] & (rival | ~keep_best[rec])
    if not hit.any():
        return
    rec, pair, kept = rec[hit], pair[hit], keep_best[rec[hit]]
    theirs = np.where(is_erp[rec], CRM.upper(), ERP.upper())
    text = (
        "ambiguous: "
        + pd.Series(n_cand[rec]).astype(str).to_numpy(dtype=object)
        + " "
        + theirs.astype(object)
        + " candidates above the auto threshold"
        + np.where(kept, "; a better one was linked", "").astype(object)
    )
    # A pair ambiguous from both ends keeps both reasons, in record order.
    frame = pd.DataFrame({"pair": pair, "rec": rec, "text": text}).sort_values(["pair", "rec"])
    joined = frame.groupby("pair", sort=True)["text"].agg("; ".join)
    idx = joined.index.to_numpy(dtype=np.int64)
    dec[idx] = _REVIEW
    reason[idx] = joined.to_numpy(dtype=object)
    log.info("ambiguity guard: %d auto pairs sent to review", len(idx))


def _tax_codes(records: pd.DataFrame) -> np.ndarray:
    tax = records["tax_id_norm"].astype("str").where(records["tax_id_norm"].notna())
    codes, _ = pd.factorize(tax, use_na_sentinel=True)
    return codes.astype(np.int64)


def _cluster(
    n: int,
    left: np.ndarray,
    right: np.ndarray,
    dec: np.ndarray,
    must: np.ndarray,
    cannot: np.ndarray,
    tax: np.ndarray,
    rank: np.ndarray,
    pairs: pd.DataFrame,
    rules: ClusteringRules,
    reason: np.ndarray,
) -> np.ndarray:
    """Group label per record (any ints); sends links left between two groups to review."""
    edge = dec == _AUTO
    comp = _components(n, left[edge], right[edge])
    size = np.bincount(comp)
    n_comp = len(size)

    same = comp[left] == comp[right]
    supported = same & (dec != _REJECT) & ~cannot
    dirty = np.zeros(n_comp, dtype=bool)
    dirty[comp[left[cannot & same]]] = True
    has_tax = tax >= 0
    if rules.tax_ids_must_agree and has_tax.any():
        width = int(tax.max()) + 1
        distinct = unique_ints(comp[has_tax] * width + tax[has_tax]) // width
        dirty |= np.bincount(distinct, minlength=n_comp) > 1
    if rules.split_chains:
        n_supported = np.bincount(comp[left[supported]], minlength=n_comp)
        dirty |= (size > 2) & (n_supported < size * (size - 1) // 2)

    labels = comp.copy()
    if not dirty.any():
        return labels
    todo = np.flatnonzero(dirty)
    log.info(
        "chaining split: %d components (largest %d records) to check",
        len(todo),
        int(size[todo].max()),
    )
    probability = pairs["probability"].to_numpy(dtype=np.float64)
    in_todo = same & dirty[comp[left]]
    edges = np.flatnonzero(in_todo & edge)
    support = np.flatnonzero(in_todo & supported)
    cannots = np.flatnonzero(in_todo & cannot)
    nodes_sorted = np.argsort(comp, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(size)])
    next_label = n_comp
    for c, e_idx, s_idx, k_idx in zip(
        todo,
        _split_by(comp[left[edges]], edges, todo),
        _split_by(comp[left[support]], support, todo),
        _split_by(comp[left[cannots]], cannots, todo),
        strict=True,
    ):
        nodes = nodes_sorted[bounds[c] : bounds[c + 1]]
        links = _Links(
            nodes,
            left[e_idx],
            right[e_idx],
            probability[e_idx],
            must[e_idx],
            rank[left[e_idx]],
            rank[right[e_idx]],
            left[s_idx],
            right[s_idx],
            left[k_idx],
            right[k_idx],
        )
        group, refused = _agglomerate(links, tax[nodes], rules)
        _, local = np.unique(group, return_inverse=True)
        labels[nodes] = next_label + local
        next_label += int(local.max()) + 1
        for j, why in refused.items():
            dec[e_idx[j]] = _REVIEW
            reason[e_idx[j]] = why
    return labels


def _split_by(keys: np.ndarray, values: np.ndarray, todo: np.ndarray) -> list[np.ndarray]:
    """``values`` grouped by ``keys`` (component ids), one array per component in ``todo``."""
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    starts = np.searchsorted(keys, todo, side="left")
    ends = np.searchsorted(keys, todo, side="right")
    return [values[s:e] for s, e in zip(starts, ends, strict=True)]


@dataclass(frozen=True)
class _Links:
    """One component: its record positions (sorted), auto links, supported pairs, rejected pairs."""

    nodes: np.ndarray
    left: np.ndarray
    right: np.ndarray
    probability: np.ndarray
    must: np.ndarray
    rank_left: np.ndarray  # (system, record_id) rank of each end: ties in strength are broken
    rank_right: np.ndarray  # by record ids, not by row positions
    support_left: np.ndarray
    support_right: np.ndarray
    cannot_left: np.ndarray
    cannot_right: np.ndarray


def _agglomerate(
    links: _Links, tax: np.ndarray, rules: ClusteringRules
) -> tuple[np.ndarray, dict[int, str]]:
    """Group (a root node) per node, and why each link left between two groups was refused.

    Links are taken confirmed first, then by descending probability, then by the (system,
    record_id) of their ends; passes repeat until nothing joins, so a link refused early is tried
    again once groups have grown.
    """
    nodes = links.nodes
    k = len(nodes)

    def local(a: np.ndarray) -> list[int]:
        return np.searchsorted(nodes, a).tolist()

    el, er = local(links.left), local(links.right)
    support: list[set[int]] = [set() for _ in range(k)]
    for a, b in zip(local(links.support_left), local(links.support_right), strict=True):
        support[a].add(b)
        support[b].add(a)
    banned: list[set[int]] = [set() for _ in range(k)]
    for a, b in zip(local(links.cannot_left), local(links.cannot_right), strict=True):
        banned[a].add(b)
        banned[b].add(a)
    members: list[set[int]] = [{i} for i in range(k)]
    taxes: list[set[int]] = [{t} if t >= 0 else set() for t in tax.tolist()]
    parent = list(range(k))
    confirmed = links.must.tolist()

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def refuse(a: int, b: int, sure: bool) -> str | None:
        if len(members[a]) > len(members[b]):
            a, b = b, a
        if not banned[a].isdisjoint(members[b]):
            return CONFLICT_CLUSTER if sure else SPLIT_REJECTED
        if sure:
            return None
        if rules.tax_ids_must_agree and taxes[a] and taxes[b] and taxes[a].isdisjoint(taxes[b]):
            return SPLIT_TAX
        if rules.split_chains:
            mb = members[b]
            got = sum(len(support[u] & mb) for u in members[a])
            if got < rules.min_support * len(members[a]) * len(mb) - 1e-9:
                return SPLIT_SUPPORT
        return None

    def join(a: int, b: int) -> None:
        if len(members[a]) < len(members[b]):
            a, b = b, a
        parent[b] = a
        members[a] |= members[b]
        taxes[a] |= taxes[b]
        banned[a] |= banned[b]
        members[b], taxes[b], banned[b] = set(), set(), set()

    strength = np.where(links.must, np.inf, np.nan_to_num(links.probability, nan=0.0))
    low = np.minimum(links.rank_left, links.rank_right)
    high = np.maximum(links.rank_left, links.rank_right)
    pending = np.lexsort((high, low, -strength)).tolist()
    refused: dict[int, str] = {}
    joined = True
    while joined and pending:
        joined = False
        still = []
        for j in pending:
            a, b = find(el[j]), find(er[j])
            if a == b:
                refused.pop(j, None)
                continue
            why = refuse(a, b, confirmed[j])
            if why is None:
                join(a, b)
                refused.pop(j, None)
                joined = True
            else:
                refused[j] = why
                still.append(j)
        pending = still
    # A refused link whose records a later join put in one group is not split after all.
    refused = {j: why for j, why in refused.items() if find(el[j]) != find(er[j])}
    return np.array([find(i) for i in range(k)], dtype=np.int64), refused


def record_order(records: pd.DataFrame) -> np.ndarray:
    """Place of each record in (system, record_id) order; the row position breaks exact repeats."""
    ids = pa.array(records["record_id"].astype("str"))
    by_id = pc.array_sort_indices(ids).to_numpy().astype(np.int64)  # stable
    is_erp = (records["system"] == ERP).to_numpy(dtype=bool)  # crm sorts before erp
    order = by_id[np.argsort(is_erp[by_id], kind="stable")]
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    return rank


def _number_entities(rank: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """0.. in the order of each group's smallest (system, record_id)."""
    n = len(labels)
    if not n:
        return np.empty(0, dtype=np.int64)
    first = np.full(int(labels.max()) + 1, n, dtype=np.int64)
    np.minimum.at(first, labels, rank)
    used = np.flatnonzero(first < n)
    number = np.empty(len(first), dtype=np.int64)
    number[used[np.argsort(first[used])]] = np.arange(len(used), dtype=np.int64)
    return number[labels]
