"""Review decisions: check reviewed rows against the records, and turn stored decisions into the
must-link / cannot-link record pairs that clustering honours.

A reviewed row is checked only when it holds a decision (match or not a match); rows left empty
or marked skip are pairs nobody decided, and are not stored. A decision cell that could not be read
(a formula whose value was never saved) is a problem, never an empty decision.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recon.extract.review import ReviewRow
from recon.match.records import CRM, ERP
from recon.models import MATCH, NOT_A_MATCH, ReviewDecision

log = logging.getLogger(__name__)

SKIP = "skip"
_WORDS = {
    MATCH: ("match", "a match", "is a match", "yes", "y", "same", "confirm", "confirmed", "link"),
    NOT_A_MATCH: (
        "not a match",
        "not match",
        "no match",
        "nomatch",
        "no",
        "n",
        "not same",
        "different",
        "reject",
        "rejected",
        "mismatch",
    ),
    SKIP: ("skip", "skipped", "unsure", "later", "?"),
}
_DECISION_OF = {word: decision for decision, words in _WORDS.items() for word in words}
_SYSTEM_NAMES = {CRM: "CRM company", ERP: "ERP customer"}


def decision_word(text: str | None) -> str | None:
    """MATCH, NOT_A_MATCH or SKIP for what a reviewer typed, in any case and spacing; None when
    empty. Raises ValueError for a word that is none of them."""
    if text is None or not text.strip():
        return None
    key = " ".join(re.sub(r"[-_.,;:!]+", " ", text.lower()).split())
    if key not in _DECISION_OF:
        raise ValueError(
            f"'{text}' is not a decision; write '{MATCH}', '{NOT_A_MATCH}' or '{SKIP}'"
        )
    return _DECISION_OF[key]


def review_date(text: str | None) -> dt.date | None:
    """An ISO date (Excel dates arrive as ISO), 31.12.2026, or 31/12/2026 and 12/31/2026 when the
    day is above 12; an undecidable 01/02/2026 is refused rather than guessed."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    try:
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        pass
    found = re.fullmatch(r"(\d{1,2})([./])(\d{1,2})\2(\d{4})", text)
    if found:
        a, sep, b, year = int(found[1]), found[2], int(found[3]), int(found[4])
        if sep == "." or a > 12 >= b:
            day, month = a, b
        elif b > 12 >= a:
            day, month = b, a
        elif a == b:
            day, month = a, b
        else:
            raise ValueError(f"'{text}' could be day/month or month/day; write it as YYYY-MM-DD")
        try:
            return dt.date(year, month, day)
        except ValueError:
            pass
    raise ValueError(f"'{text}' is not a date; write it as YYYY-MM-DD, such as 2026-11-03")


def review_records(companies: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """system, record_id and name of every CRM company and ERP customer: what reviewed ids name."""
    parts = [
        pd.DataFrame(
            {
                "system": system,
                "record_id": frame[key].astype("string").to_numpy(),
                "name": frame["name"].astype("string").to_numpy(),
            }
        )
        for system, frame, key in ((CRM, companies, "company_id"), (ERP, customers, "customer_id"))
    ]
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class ReviewCheck:
    """Decisions that passed, per-row problems (each naming file, sheet, row and column), and how
    many rows held no decision (empty or skip)."""

    decisions: list[ReviewDecision]
    problems: list[str]
    undecided: int

    def message(self, shown: int = 50) -> str:
        lines = [
            f"{len(self.problems)} problem(s) in the reviewed rows; nothing was stored. "
            "Fix them and apply the file(s) again:",
            *(f"  {p}" for p in self.problems[:shown]),
        ]
        if len(self.problems) > shown:
            lines.append(f"  … and {len(self.problems) - shown} more")
        return "\n".join(lines)


def check_review_rows(
    rows: Sequence[ReviewRow], records: pd.DataFrame, *, origin: str, applied_at: dt.datetime
) -> ReviewCheck:
    """Check reviewed rows against ``records`` (system, record_id, name: the data the next run
    reads, described by ``origin``): decision words, reviewer, date, systems, known ids, unedited
    names, and no pair decided both ways, across all rows of all files given."""
    problems: list[str] = []
    found: list[tuple[ReviewRow, ReviewDecision]] = []
    undecided = 0
    names = _names(records, rows)
    for row in rows:
        if row.error:
            problems.append(f"{row.where()}: {row.error}")
            continue
        if "decision" in row.unreadable:
            problems.append(f"{row.where('decision')}: {row.unreadable['decision']}")
            continue
        try:
            decision = decision_word(row.cells.get("decision"))
        except ValueError as exc:
            problems.append(f"{row.where('decision')}: {exc}")
            continue
        if decision in (None, SKIP):
            undecided += 1
            continue
        if row.unreadable:  # other cells matter only on a row that decides something
            problems.extend(f"{row.where(c)}: {why}" for c, why in row.unreadable.items())
            continue
        mine: list[str] = []
        reviewer = (row.cells.get("reviewer") or "").strip()
        if not reviewer:
            mine.append(f"{row.where('reviewer')}: empty; say who decided '{decision}'")
        try:
            reviewed_on = review_date(row.cells.get("reviewed_on"))
        except ValueError as exc:
            mine.append(f"{row.where('reviewed_on')}: {exc}")
        sides = [_side(row, side, names, origin, mine) for side in ("left", "right")]
        if not mine and sides[0] == sides[1]:
            mine.append(f"{row.where('right_id')}: the same record as left_id")
        problems.extend(mine)
        if mine:
            continue
        (ls, li, ln), (rs, ri, rn) = sorted(sides)
        found.append(
            (
                row,
                ReviewDecision(
                    left_system=ls,
                    left_id=li,
                    right_system=rs,
                    right_id=ri,
                    decision=decision,
                    reviewer=reviewer,
                    reviewed_on=reviewed_on,
                    comment=(row.cells.get("comment") or "").strip(),
                    left_name=ln,
                    right_name=rn,
                    source=row.where(),
                    applied_at=applied_at,
                ),
            )
        )
    problems.extend(_conflicts(found))
    unique: dict[tuple[str, str, str, str], ReviewDecision] = {}
    for _, d in found:
        unique.setdefault(d.pair, d)
    return ReviewCheck(list(unique.values()), problems, undecided)


def _names(records: pd.DataFrame, rows: Sequence[ReviewRow]) -> dict[tuple[str, str], str]:
    """(system, record_id) -> name of the records the rows name; looked up once, vectorized."""
    ids = {
        (row.cells.get(f"{side}_id") or "").strip() for row in rows for side in ("left", "right")
    }
    wanted = records.loc[records["record_id"].astype("str").isin(ids)]
    name = wanted["name"].astype("string").fillna("")
    keys = zip(wanted["system"].astype(str), wanted["record_id"].astype(str), strict=True)
    return dict(zip(keys, name.tolist(), strict=True))


def _side(
    row: ReviewRow, side: str, names: dict[tuple[str, str], str], origin: str, problems: list[str]
) -> tuple[str, str, str]:
    """(system, id, name) of one side of a row; appends what is wrong with it to ``problems``."""
    system = (row.cells.get(f"{side}_system") or "").strip().lower()
    record_id = (row.cells.get(f"{side}_id") or "").strip()
    name = _squash(row.cells.get(f"{side}_name"))
    if system not in _SYSTEM_NAMES:
        shown = row.cells.get(f"{side}_system") or ""
        problems.append(f"{row.where(f'{side}_system')}: '{shown}' — expected crm or erp")
        return system, record_id, name
    if not record_id:
        problems.append(f"{row.where(f'{side}_id')}: empty")
        return system, record_id, name
    actual = names.get((system, record_id))
    if actual is None:
        problems.append(
            f"{row.where(f'{side}_id')}: unknown record — no {_SYSTEM_NAMES[system]} "
            f"'{record_id}' in the data ({origin})"
        )
    elif _squash(actual) != name:
        problems.append(
            f"{row.where(f'{side}_name')}: '{name}', but {_SYSTEM_NAMES[system]} '{record_id}' "
            f"is '{_squash(actual)}' in the data ({origin}); the id and name columns must not be edited"
        )
    return system, record_id, name


def _squash(text: str | None) -> str:
    return " ".join((text or "").split())


def _conflicts(found: list[tuple[ReviewRow, ReviewDecision]]) -> list[str]:
    """A pair decided one way on one row and the other way on another is an error on the later."""
    first: dict[tuple[str, str, str, str], tuple[ReviewRow, ReviewDecision]] = {}
    problems = []
    for row, d in found:
        seen = first.setdefault(d.pair, (row, d))
        if seen[1].decision != d.decision:
            problems.append(
                f"{row.where('decision')}: '{d.decision}' conflicts with '{seen[1].decision}' "
                f"for the same pair at {seen[0].where()}"
            )
    return problems


@dataclass(frozen=True)
class ReviewLinks:
    """Stored decisions as record positions for ``cluster_records``, and those that name a record
    no longer in the data (kept in the store; they apply again if the record comes back)."""

    must_link: pd.DataFrame
    cannot_link: pd.DataFrame
    not_applied: list[ReviewDecision]

    def counts(self, stored: int) -> dict[str, int]:
        return {
            "stored": stored,
            "confirmed": len(self.must_link),
            "rejected": len(self.cannot_link),
            "not_applied": len(self.not_applied),
        }


def review_links(records: pd.DataFrame, decisions: Sequence[ReviewDecision]) -> ReviewLinks:
    empty = pd.DataFrame({"left": np.empty(0, np.int64), "right": np.empty(0, np.int64)})
    if not decisions:
        return ReviewLinks(empty, empty.copy(), [])
    ids = {d.left_id for d in decisions} | {d.right_id for d in decisions}
    ids_text = records["record_id"].astype("str")
    hit = np.flatnonzero(ids_text.isin(ids).to_numpy(dtype=bool))
    systems = records["system"].astype(str).to_numpy()[hit]
    position: dict[tuple[str, str], int] = {}
    for key, at in zip(zip(systems, ids_text.to_numpy()[hit], strict=True), hit, strict=True):
        position.setdefault(key, int(at))
    must: list[tuple[int, int]] = []
    cannot: list[tuple[int, int]] = []
    missing: list[ReviewDecision] = []
    for d in decisions:
        a = position.get((d.left_system, d.left_id))
        b = position.get((d.right_system, d.right_id))
        if a is None or b is None:
            missing.append(d)
        else:
            (must if d.decision == MATCH else cannot).append((a, b))

    def frame(pairs: list[tuple[int, int]]) -> pd.DataFrame:
        return pd.DataFrame(pairs, columns=["left", "right"], dtype=np.int64) if pairs else empty

    if missing:
        log.warning(
            "%d stored review decision(s) name a record not in the data; not applied", len(missing)
        )
    return ReviewLinks(frame(must), frame(cannot), missing)
