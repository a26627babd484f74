"""Hard negatives of the name habits: branches of a group, companies at one street address.

Both change entities after they are drawn (``entities.draw``), so the generator's own draws stay
as they were. Every member of a group stays an entity of its own: truth_entities keeps them
apart, and truth_hard_negatives lists each pair in a group.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from recon.sampledata import text, vocab
from recon.sampledata.entities import Entities, cities


@dataclass(frozen=True)
class Groups:
    """Per entity: the head office of its branch group (itself for the head), -1 for none."""

    branch_head: np.ndarray
    counts: dict[str, int]


def plant(
    ent: Entities,
    branches: float,
    shared: float,
    branch_rng: np.random.Generator | None,
    shared_rng: np.random.Generator | None,
) -> tuple[Entities, Groups]:
    """``branches`` of the entities in branch groups, ``shared`` at a shared street address."""
    free = np.ones(ent.n, dtype=bool)  # outside the generator's own hard negatives
    for a, b, _ in ent.hard_negatives:
        free[a] = free[b] = False
    head = np.full(ent.n, -1, dtype=np.int64)
    pairs: list[tuple[int, int, str]] = []
    counts: dict[str, int] = {}
    if branches and branch_rng is not None:
        members, group = _branch_groups(branch_rng, ent, free & ~text.is_null(ent.domain), branches)
        ent, head = _as_branches(ent, members, group)
        pairs += _pairs(members, group, "group_branch")
        counts |= {"branch_groups": _count(group), "branch_entities": len(members)}
    if shared and shared_rng is not None:
        members, group = _address_groups(shared_rng, ent, free & (head < 0), shared)
        ent = _at_one_address(shared_rng, ent, members, group)
        pairs += _pairs(members, group, "shared_address")
        counts |= {"shared_address_groups": _count(group), "shared_address_entities": len(members)}
    ent = dataclasses.replace(ent, hard_negatives=[*ent.hard_negatives, *pairs])
    return ent, Groups(head, counts)


def _count(group: np.ndarray) -> int:
    return len(np.unique(group))


def _chunks(rng: np.random.Generator, k: int, lo: int, hi: int) -> np.ndarray:
    """Group numbers for ``k`` items in a row, groups of ``lo``..``hi`` items."""
    bounds = np.cumsum(rng.integers(lo, hi + 1, k))
    return np.searchsorted(bounds, np.arange(k), side="right")


def _keep(members: np.ndarray, group: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, ...]:
    """Members kept, and groups left with one member dissolved."""
    members, group = members[keep], group[keep]
    size = np.bincount(group, minlength=group.max() + 1 if len(group) else 0)
    big = size[group] >= 2
    return members[big], group[big]


def _branch_groups(
    rng: np.random.Generator, ent: Entities, eligible: np.ndarray, share: float
) -> tuple[np.ndarray, np.ndarray]:
    """Members (head first) and their group, 2-4 entities of one country in different cities."""
    members, groups = [], []
    offset = 0
    city_key = rng.permutation(len(cities().country))
    for c in range(len(vocab.COUNTRIES)):
        rows = np.flatnonzero((ent.country == c) & eligible)
        k = min(len(rows), round(share * int((ent.country == c).sum())))
        if k < 2:
            continue
        pick = rng.permutation(rows)[:k]
        city = ent.city[pick]
        # round robin over the cities: each city's first entity, then each city's second, ...
        order = np.argsort(city, kind="stable")
        first = np.r_[0, np.flatnonzero(np.diff(city[order])) + 1]
        level = np.empty(k, dtype=np.int64)
        level[order] = np.arange(k) - np.repeat(first, np.diff(np.r_[first, k]))
        pick = pick[np.lexsort((city_key[city], level))]
        group = _chunks(rng, k, 2, 4) + offset
        _, once = np.unique(group * len(city_key) + ent.city[pick], return_index=True)
        keep = np.zeros(k, dtype=bool)
        keep[once] = True  # a second member in a city already taken leaves the group
        pick, group = _keep(pick, group, keep)
        members.append(pick)
        groups.append(group)
        offset = int(group.max()) + 1 if len(group) else offset
    if not members:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(members), np.concatenate(groups)


def _heads(members: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Each member's head: the first member of its group (members are in group order)."""
    start = np.r_[True, group[1:] != group[:-1]] if len(group) else np.zeros(0, dtype=bool)
    return members[np.flatnonzero(start)[np.cumsum(start) - 1]]


def _as_branches(
    ent: Entities, members: np.ndarray, group: np.ndarray
) -> tuple[Entities, np.ndarray]:
    """Branches take the head office's name and city, web domain and legal form."""
    head = np.full(ent.n, -1, dtype=np.int64)
    if not len(members):
        return ent, head
    heads = _heads(members, group)
    head[members] = heads
    branch = members[members != heads]
    of = head[branch]
    city = cities().names.canonical(ent.city[branch])
    legal = ent.legal.copy()
    legal[branch] = legal[of]
    ent = dataclasses.replace(
        ent,
        base=text.put_at(ent.base, branch, text.cat(text.take(ent.base, of), " ", city)),
        domain=text.put_at(ent.domain, branch, text.take(ent.domain, of)),
        legal=legal,
    )
    return ent, head


def _address_groups(
    rng: np.random.Generator, ent: Entities, eligible: np.ndarray, share: float
) -> tuple[np.ndarray, np.ndarray]:
    """Members (head first) and their group, 2-3 entities of one city."""
    rows = rng.permutation(np.flatnonzero(eligible))
    k = min(len(rows), round(share * ent.n))
    if k < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # the share of each city, then neighbours in the same city share an address
    pick = rows[:k]
    pick = pick[np.argsort(ent.city[pick], kind="stable")]
    group = _chunks(rng, k, 2, 3)
    same = ent.city[pick] == ent.city[_heads(pick, group)]
    return _keep(pick, group, same)


def _at_one_address(
    rng: np.random.Generator, ent: Entities, members: np.ndarray, group: np.ndarray
) -> Entities:
    """Members take the head's street, house number and postcode; the same unit or one above."""
    if not len(members):
        return ent
    heads = _heads(members, group)
    mate = members[members != heads]
    of = heads[members != heads]
    street, number = ent.street.copy(), ent.number.copy()
    street[mate], number[mate] = street[of], number[of]
    unit_kind, unit_no = ent.unit_kind.copy(), ent.unit_no.copy()
    unit_kind[mate] = unit_kind[of]
    up = np.where(rng.random(len(mate)) < 0.5, 0, rng.integers(1, 6, len(mate)))
    unit_no[mate] = np.where(unit_kind[of] >= 0, unit_no[of] + up, 0)
    return dataclasses.replace(
        ent,
        street=street,
        number=number,
        unit_kind=unit_kind,
        unit_no=unit_no,
        number_suffix=text.put_at(ent.number_suffix, mate, text.take(ent.number_suffix, of)),
        postcode=text.put_at(ent.postcode, mate, text.take(ent.postcode, of)),
        plus4=text.put_at(ent.plus4, mate, text.take(ent.plus4, of)),
        rt_rw=text.put_at(ent.rt_rw, mate, text.take(ent.rt_rw, of)),
    )


def _pairs(members: np.ndarray, group: np.ndarray, kind: str) -> list[tuple[int, int, str]]:
    """Every pair of members of one group (groups hold at most four)."""
    out: list[tuple[int, int, str]] = []
    for d in range(1, 4):
        same = np.flatnonzero(group[d:] == group[:-d]) if len(group) > d else np.zeros(0, int)
        out += [
            (a, b, kind)
            for a, b in zip(members[same].tolist(), members[same + d].tolist(), strict=True)
        ]
    return out
