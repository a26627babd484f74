"""Cross-reference ids per entity, duplicates with a suggested survivor, and the import files.

Every entity gets an id ``XR-000001``, ``XR-000002``, ... in entity order (which follows each
entity's smallest (system, record_id); see ``cluster``), zero-padded to at least six digits. Within
a run the id depends on the records and pairs only; keeping an id across runs is the job of the
xref registry in ``recon.state``.

Records of one system sharing an entity are duplicates. The survivor suggested for each group
comes from the survivorship rules of rules/survivorship.yaml, applied in their configured order,
each keeping only the records that are best on it among those the previous rules left:

``unmarked``          no duplicate marker in its name ("*DUPLICATE*", "(OLD)", "ZZ ": its users mean
                      to retire it)
``system_of_record``  the first of the system's record-id patterns the record matches (earlier wins)
``linked``            linked to the other system in the entity: an auto or confirmed link, or a
                      reference (``ref_id``) from or to one of the entity's other-system records
``activity``          most deals or orders
``completeness``      most of ``completeness_fields`` filled in
``oldest``            earliest ``created_at`` (none = last)

The survivor's reason names the rule that removed the last other record; each other record's
reason names the first rule on which it loses to the survivor. When two or more records are still
equal after the last rule, no survivor is suggested ("tie: no survivor suggested"). The import
files give each CRM company its entity's ERP customer (the ERP survivor, or the only ERP record)
and each ERP customer its CRM company, blank when there is none or no survivor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recon.config.survivorship import EntityRules, SurvivorshipRules, default_entity_rules
from recon.match.cluster import AUTO, Clustering, record_order
from recon.match.records import CRM, ERP

log = logging.getLogger(__name__)

TIE = "tie: no survivor suggested"
_NO_DATE = np.iinfo(np.int64).max
_SYSTEMS = pd.Series([CRM, ERP], dtype="str")


@dataclass(frozen=True)
class XrefResult:
    """``xref``: one row per record in entity order (xref_id, system, record_id, name,
    entity_size). ``duplicates``: one row per record sharing its entity with a record of its own
    system (system, xref_id, record_id, is_survivor, survivor_record_id, reasons), survivor first.
    ``crm_import`` (company_id, erp_customer_id) and ``erp_import`` (customer_id, crm_company_id):
    one row per record of that system, in xref order, the other id blank when there is none.
    ``by_record``: the xref_id of each record, in the records' own order.
    """

    xref: pd.DataFrame
    duplicates: pd.DataFrame
    crm_import: pd.DataFrame
    erp_import: pd.DataFrame
    by_record: pd.Series | None = None


def assign_xref(
    records: pd.DataFrame, clustering: Clustering, rules: EntityRules | None = None
) -> XrefResult:
    """Xref ids, duplicates with suggested survivors, and the CRM and ERP import files."""
    srule = (rules or default_entity_rules()).survivorship
    needed = ("system", "record_id", "name", "ref_id", "activity", "created_at")
    missing = [c for c in (*needed, *srule.completeness_fields) if c not in records.columns]
    if missing:
        raise ValueError(f"records lack the column(s) {', '.join(missing)}")
    ent = clustering.entity.to_numpy(dtype=np.int64)
    if len(ent) != len(records):
        raise ValueError("clustering.entity does not have one entry per record")
    rank = clustering.record_rank
    if rank is None or len(rank) != len(records):
        rank = record_order(records)
    n_ent = int(ent.max()) + 1 if len(ent) else 0
    frame = _Records(records, ent, rank)
    order = frame.in_entity_order
    xref = pd.DataFrame(
        {
            "xref_id": frame.xref_ids(order),
            "system": frame.system(order),
            "record_id": frame.text("record_id", order),
            "name": frame.text("name", order),
            "entity_size": np.bincount(ent, minlength=n_ent)[ent[order]],
        }
    )
    duplicates, survivor = _duplicates(frame, clustering, srule)
    crm_import = _import(frame, survivor, CRM)
    erp_import = _import(frame, survivor, ERP)
    log.info(
        "%d xref ids; %d duplicate records, %d survivors suggested",
        n_ent,
        len(duplicates),
        int(duplicates["is_survivor"].sum()),
    )
    by_record = frame.xref_ids(np.arange(len(ent), dtype=np.int64))
    return XrefResult(xref, duplicates, crm_import, erp_import, by_record)


class _Records:
    """The records with their entity and (system, record_id) rank, and text columns taken fast."""

    def __init__(self, records: pd.DataFrame, ent: np.ndarray, rank: np.ndarray) -> None:
        self.records = records.reset_index(drop=True)
        self.ent = ent
        self.rank = rank
        self.is_erp = (self.records["system"] == ERP).to_numpy(dtype=bool)
        self.n_ent = int(ent.max()) + 1 if len(ent) else 0
        n = len(ent)
        # Positions in (entity, system, record_id) order, the order of every output frame, and
        # each position's place in it.
        in_rank_order = np.empty(n, dtype=np.int64)
        in_rank_order[rank] = np.arange(n, dtype=np.int64)
        self.in_entity_order = in_rank_order[np.argsort(ent[in_rank_order], kind="stable")]
        self._place = np.empty(n, dtype=np.int64)
        self._place[self.in_entity_order] = np.arange(n, dtype=np.int64)
        self._text: dict[str, pd.Series] = {}
        digits = max(6, len(str(self.n_ent)))
        numbers = pd.Series(np.arange(1, self.n_ent + 1, dtype=np.int64)).astype("str")
        self._xref = "XR-" + numbers.str.zfill(digits)

    def text(self, column: str, rows: np.ndarray) -> pd.Series:
        """``column`` as text at ``rows`` (positions; -1 gives a blank).

        The column is kept in entity order: outputs list records in that order, so taking from
        it reads memory in sequence instead of at random (several times faster).
        """
        if column not in self._text:
            text = self.records[column].astype("str")
            self._text[column] = _take(text, self.in_entity_order)
        return _take(self._text[column], np.where(rows >= 0, self._place[rows], -1))

    def xref_ids(self, rows: np.ndarray) -> pd.Series:
        return _take(self._xref, self.ent[rows])

    def system(self, rows: np.ndarray) -> pd.Series:
        return _take(_SYSTEMS, self.is_erp[rows].astype(np.int64))


def _take(values: pd.Series, rows: np.ndarray) -> pd.Series:
    """Positions ``rows`` of ``values`` as a new 0.. series; -1 gives a blank (missing) value."""
    return pd.Series(values.array.take(rows, allow_fill=True), copy=False)


def _linked(frame: _Records, clustering: Clustering, scope: np.ndarray) -> np.ndarray:
    """Per record: an auto or confirmed link, or a reference, to the other system in its entity.

    ``scope`` limits the references looked at to the records of the entities that matter.
    """
    ent, is_erp = frame.ent, frame.is_erp
    linked = np.zeros(len(ent), dtype=bool)
    pairs = clustering.pairs
    a = pairs["left"].to_numpy(dtype=np.int64)
    b = pairs["right"].to_numpy(dtype=np.int64)
    auto = (pairs["decision"] == AUTO).to_numpy(dtype=bool, na_value=False)
    hit = auto & (is_erp[a] != is_erp[b]) & (ent[a] == ent[b])
    linked[a[hit]] = True
    linked[b[hit]] = True

    has_ref = frame.records["ref_id"].notna().to_numpy(dtype=bool) & scope
    if has_ref.any():
        inside = np.flatnonzero(scope)
        targets = pd.DataFrame({"target": inside, "ent": ent[inside], "erp": is_erp[inside]})
        targets["id"] = frame.text("record_id", inside).to_numpy()
        src = np.flatnonzero(has_ref)
        sources = pd.DataFrame({"source": src, "ent": ent[src], "erp": ~is_erp[src]})
        sources["id"] = frame.text("ref_id", src).to_numpy()
        both = sources.merge(targets, on=["ent", "erp", "id"])
        linked[both["source"].to_numpy(dtype=np.int64)] = True
        linked[both["target"].to_numpy(dtype=np.int64)] = True
    return linked


def _keys(
    frame: _Records, srule: SurvivorshipRules, rows: np.ndarray, linked: np.ndarray
) -> np.ndarray:
    """One int64 sort key per rule (columns, in rule order) for ``rows``; smaller is better."""
    columns = []
    for rule in srule.order:
        if rule == "unmarked":
            marker = frame.records.get("name_marker")
            key = (
                np.zeros(len(rows), dtype=np.int64)
                if marker is None
                else marker.notna().to_numpy(dtype=bool)[rows].astype(np.int64)
            )
        elif rule == "system_of_record":
            key = np.zeros(len(rows), dtype=np.int64)
            for system, erp in ((CRM, False), (ERP, True)):
                mine = frame.is_erp[rows] == erp
                patterns = srule.patterns(system)
                found = np.full(int(mine.sum()), len(patterns), dtype=np.int64)
                ids = frame.text("record_id", rows[mine])
                for i, pattern in reversed(list(enumerate(patterns))):
                    found[ids.str.contains(pattern, regex=True).to_numpy(dtype=bool)] = i
                key[mine] = found
        elif rule == "linked":
            key = (~linked[rows]).astype(np.int64)
        elif rule == "activity":
            activity = frame.records["activity"].take(rows).fillna(0)
            key = -activity.to_numpy(dtype=np.int64)
        elif rule == "completeness":
            key = -_completeness(frame.records, rows, srule.completeness_fields)
        else:  # oldest
            created = pd.to_datetime(frame.records["created_at"].take(rows))
            stamp = created.astype("datetime64[ns]").to_numpy().view(np.int64)
            key = np.where(created.isna().to_numpy(), _NO_DATE, stamp)
        columns.append(key.astype(np.int64))
    return np.column_stack(columns) if columns else np.zeros((len(rows), 0), dtype=np.int64)


def _completeness(records: pd.DataFrame, rows: np.ndarray, fields: tuple[str, ...]) -> np.ndarray:
    """How many of ``fields`` each record has filled in (normalized keys are missing or not blank)."""
    count = np.zeros(len(rows), dtype=np.int64)
    for field in fields:
        count += records[field].notna().to_numpy(dtype=bool)[rows]
    return count


def _duplicates(
    frame: _Records, clustering: Clustering, srule: SurvivorshipRules
) -> tuple[pd.DataFrame, np.ndarray]:
    """The duplicates frame, and the survivor's position per (entity * 2 + is_erp) group (or -1).

    No full sort on the rules: per rule, each group keeps the records equal to its best value
    (``minimum.reduceat`` over the rows sorted by group); a group left with one record has a
    survivor, decided by the rule that removed the last other one.
    """
    ent = frame.ent
    group = ent * 2 + frame.is_erp.astype(np.int64)
    survivor = np.full(2 * frame.n_ent, -1, dtype=np.int64)
    in_dup = np.bincount(group, minlength=2 * frame.n_ent)[group] >= 2
    if not in_dup.any():
        return _empty_duplicates(), survivor
    # (entity, system, record_id) order: crm sorts before erp, so this is group, record_id.
    rows = frame.in_entity_order[in_dup[frame.in_entity_order]]
    g = group[rows]
    start = np.r_[True, g[1:] != g[:-1]]
    first = np.flatnonzero(start)
    which = np.cumsum(start) - 1  # group number of each row

    entities = np.zeros(frame.n_ent, dtype=bool)
    entities[ent[rows]] = True
    linked = _linked(frame, clustering, entities[ent])
    keys = _keys(frame, srule, rows, linked)

    alive = np.ones(len(rows), dtype=bool)
    decided = np.full(len(first), -1, dtype=np.int64)  # the rule that left one record
    runner_up = np.zeros(len(first), dtype=np.int64)  # best value that rule removed
    for i in range(keys.shape[1]):
        key = keys[:, i]
        best = np.minimum.reduceat(np.where(alive, key, _NO_DATE), first)
        keep = alive & (key == best[which])
        before = np.add.reduceat(alive, first)
        now = (before >= 2) & (np.add.reduceat(keep, first) == 1)
        if now.any():
            removed = np.minimum.reduceat(np.where(alive & ~keep, key, _NO_DATE), first)
            decided[now] = i
            runner_up[now] = removed[now]
        alive = keep
    tie = np.add.reduceat(alive, first) >= 2
    is_survivor = alive & ~tie[which]
    top = np.full(len(first), -1, dtype=np.int64)
    top[which[is_survivor]] = np.flatnonzero(is_survivor)
    survivor[g[first[~tie]]] = rows[top[~tie]]

    # The deciding rule: for the survivor, the one that removed the last other record; for the
    # others, the first rule on which they differ from the survivor.
    best_row = top[which]
    against = keys[np.maximum(best_row, 0)]
    differs = keys != against
    rule_at = np.where(is_survivor, decided[which], differs.argmax(axis=1))
    rule_at = np.where(tie[which], -1, rule_at)
    column = np.maximum(rule_at, 0)[:, None]
    win = np.take_along_axis(against, column, axis=1)[:, 0]
    lose = np.where(is_survivor, runner_up[which], np.take_along_axis(keys, column, axis=1)[:, 0])

    # Survivor first in each group, the others after it in record_id order.
    here = np.arange(len(rows))
    moved = np.where(
        is_survivor, first[which], np.where((best_row >= 0) & (here < best_row), here + 1, here)
    )
    order = np.empty(len(rows), dtype=np.int64)
    order[moved] = here
    # Per group: its survivor's id, and "duplicate of <id>" for the others' reasons; a tie has
    # neither. Taken per row (reading in sequence), with "" at the end for rows without it.
    group_ids = frame.text("record_id", np.where(tie, -1, rows[np.maximum(top, 0)]))
    prefixes = pd.concat(
        [("duplicate of " + group_ids).fillna(""), pd.Series([""], dtype="str")],
        ignore_index=True,
    )
    which = which[order]
    rows, is_survivor, rule_at, win, lose = (
        column[order] for column in (rows, is_survivor, rule_at, win, lose)
    )
    tail = _because(srule, rule_at, win, lose, frame.is_erp[rows], is_survivor)
    prefix = _take(prefixes, np.where(is_survivor | tie[which], len(first), which))
    out = pd.DataFrame(
        {
            "system": frame.system(rows),
            "xref_id": frame.xref_ids(rows),
            "record_id": frame.text("record_id", rows),
            "is_survivor": is_survivor,
            "survivor_record_id": _take(group_ids, which),
            "reasons": prefix + tail,
        }
    )
    return out, survivor


def _because(
    srule: SurvivorshipRules,
    rule_at: np.ndarray,
    win: np.ndarray,
    lose: np.ndarray,
    erp: np.ndarray,
    is_survivor: np.ndarray,
) -> pd.Series:
    """Each row's reason, less "duplicate of <id>": the rule, the winner's and loser's values.

    Rows share few distinct (rule, values) combinations, so each text is written once and taken.
    """
    combos = pd.DataFrame(
        {"rule": rule_at, "win": win, "lose": lose, "erp": erp, "survivor": is_survivor}
    )
    codes = combos.groupby(list(combos.columns), sort=False).ngroup().to_numpy()
    firsts = np.full(int(codes.max()) + 1, len(codes), dtype=np.int64)
    np.minimum.at(firsts, codes, np.arange(len(codes)))
    texts = []
    for rule, w, lo, is_erp, survivor in combos.iloc[firsts].itertuples(index=False):
        if rule < 0:
            texts.append(TIE)
            continue
        because = _rule_text(srule, srule.order[rule], int(w), int(lo), bool(is_erp))
        texts.append(("survivor by " if survivor else ", survivor by ") + because)
    return pd.Series(texts, dtype="str").take(codes).reset_index(drop=True)


def _rule_text(srule: SurvivorshipRules, rule: str, win: int, lose: int, erp: bool) -> str:
    """Why a record with sort key ``win`` beats one with ``lose`` on ``rule`` (smaller wins)."""
    if rule == "unmarked":
        return "no duplicate marker in its name"
    if rule == "system_of_record":
        return f'system-of-record id (matches "{srule.patterns(ERP if erp else CRM)[win]}")'
    if rule == "linked":
        return f"link to the {'CRM' if erp else 'ERP'}"
    if rule == "activity":
        return f"most {'orders' if erp else 'deals'} ({-win} vs {-lose})"
    if rule == "completeness":
        return f"most complete ({-win} vs {-lose} key fields)"
    return f"oldest (created {_date(win)} vs {_date(lose)})"


def _date(stamp: int) -> str:
    return "unknown" if stamp == _NO_DATE else f"{pd.Timestamp(stamp, unit='ns'):%Y-%m-%d}"


def _empty_duplicates() -> pd.DataFrame:
    text = pd.Series([], dtype="str")
    return pd.DataFrame(
        {
            "system": text,
            "xref_id": text,
            "record_id": text,
            "is_survivor": pd.Series([], dtype=bool),
            "survivor_record_id": text,
            "reasons": text,
        }
    )


def _import(frame: _Records, survivor: np.ndarray, system: str) -> pd.DataFrame:
    """Per record of ``system``: the other system's survivor, or only record, of its entity."""
    ent, n_ent = frame.ent, frame.n_ent
    mine = frame.is_erp if system == ERP else ~frame.is_erp
    theirs = np.flatnonzero(~mine)
    count = np.bincount(ent[theirs], minlength=n_ent)
    only = np.full(n_ent, -1, dtype=np.int64)
    only[ent[theirs]] = theirs
    chosen = survivor[np.arange(n_ent) * 2 + (0 if system == ERP else 1)]
    pick = np.where(count == 1, only, np.where(count >= 2, chosen, -1))
    rows = frame.in_entity_order[mine[frame.in_entity_order]]
    if system == ERP:
        names = ("customer_id", "crm_company_id")
    else:
        names = ("company_id", "erp_customer_id")
    return pd.DataFrame(
        {
            names[0]: frame.text("record_id", rows),
            names[1]: frame.text("record_id", pick[ent[rows]]),
        }
    )
