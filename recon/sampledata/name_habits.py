"""How the two systems name companies: the knobs a matcher robustness sweep turns
(see bench/robustness_match.py).

``NameHabits()`` are the generator's own naming habits, and ``generate`` without them writes the
same bytes as before the knobs existed: each knob draws from a stream of its own, only when it is
set, and truth_meta.json gains a ``name_habits`` section only then. Each knob is a share, from 0
to 1, of the records or entities it applies to; ``names`` does the work.

legal_form_spelled (of ERP records)
    The legal form written out in full, the name in capitals and without umlauts, as an old ERP
    or a registry holds it: "THALMULLER ANTRIEBSVERTRIEB GESELLSCHAFT MIT BESCHRANKTER HAFTUNG",
    "PERSEROAN TERBATAS MULYA BANGUN", "HAYFORD PROPRIETARY LIMITED".
one_letter (of entities in both systems with a web domain)
    The main CRM record's name has one letter wrong ("Hayford" → "Haxford"); that record shows
    the web domain and the city, and the main ERP record the website and the city.
dup_markers (of ERP duplicate records)
    The duplicate's name carries a marker: "*DUPLICATE* ", " (OLD)", "ZZ ", " - 2", " (USD)",
    " DO NOT USE", ... The record stays its entity's.
domain_names (of CRM records of entities with a web domain)
    The CRM company is named after its domain ("mulyabangun.co.id"), as HubSpot names a company
    it creates from an e-mail address; its domain field holds the same.
short_names (of CRM records of entities in both systems)
    The CRM name is the first word of the company's name ("Hayford" for Hayford & Dunshaw Inc);
    two words when the first is an adjective ("Bayerische Müller").
trading_names (of entities in both systems)
    The ERP records carry the legal owner's name with the trading name: "Mudwell Dongate
    Nominees Pty Ltd T/A Oakfield Software", "Oakmark Supplies Pty Ltd ATF Oakmark Family
    Trust", "Heakdale LLC DBA Turner Construction", "CV Hurjaya qq Wiratama Wijaya"; the CRM
    holds the trading name. Owners' names are coined ("Mudwell") and seldom repeat.
trade_names (of entities in both systems with a web domain)
    The CRM records carry a trade name unrelated to the legal name ("Bavoten Studio"); only the
    domain and the phone tie them: every CRM record of the entity shows both, and its main ERP
    record the phone.
group_branches (of entities: hard negatives)
    Groups of 2-4 entities of one country, each in its own city with its own address, phone and
    tax id, share the head office's web domain and name: "Acme Logistics" (the head office),
    "Acme Logistics Perth"; half the branches' records write "Acme Logistics Pty Ltd - Perth",
    "... (Perth)", "... Perth Branch". Each branch is its own entity.
shared_address (of entities: hard negatives)
    Groups of 2-3 entities of one city at one street address (the same house number and
    postcode; the same unit or the next ones up). Each is its own entity.

A group's records keep the group's names: no other CRM habit and no trading name touches them
(a short name or the domain would make the branches one name), and a branch record written
"... - Perth" is not spelled out either. Then a record takes one CRM naming habit at most
(trade_names, one_letter, domain_names, short_names, each among the records the earlier left)
and one ERP naming habit (trading_names, then legal_form_spelled), so with several knobs set
each share is of the records the earlier ones left. dup_markers come on top of the others.
Group branches and shared addresses are drawn among entities outside the generator's own hard
negatives and each other, and are listed in truth_hard_negatives (kinds ``group_branch``,
``shared_address``). No knob moves a record to another entity: truth_entities stays as it was.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from recon.sampledata.habits import FIELDS as BILLING_FIELDS
from recon.sampledata.habits import Habits, habits_of


@dataclass(frozen=True)
class NameHabits:
    """How the systems name companies; all 0 = the generator's own (see the module docstring)."""

    legal_form_spelled: float = 0.0  # of ERP records
    one_letter: float = 0.0  # of entities in both systems with a web domain
    dup_markers: float = 0.0  # of ERP duplicate records
    domain_names: float = 0.0  # of CRM records of entities with a web domain
    short_names: float = 0.0  # of CRM records of entities in both systems
    trading_names: float = 0.0  # of entities in both systems
    trade_names: float = 0.0  # of entities in both systems with a web domain
    group_branches: float = 0.0  # of entities
    shared_address: float = 0.0  # of entities

    def __post_init__(self) -> None:
        problems = [
            f"{f.name} is {getattr(self, f.name)!r} — expected a share from 0 to 1"
            for f in dataclasses.fields(self)
            if not _share(getattr(self, f.name))
        ]
        if problems:
            raise ValueError("name habits: " + "; ".join(problems))

    @property
    def default(self) -> bool:
        return self == DEFAULT


def _share(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


DEFAULT = NameHabits()
FIELDS = tuple(f.name for f in dataclasses.fields(NameHabits))


def name_habits_of(names: NameHabits | Mapping[str, Any] | None) -> NameHabits:
    """``names`` as NameHabits: None = the defaults; a mapping overrides them by name."""
    if names is None:
        return DEFAULT
    if isinstance(names, NameHabits):
        return names
    unknown = [k for k in names if k not in FIELDS]
    if unknown:
        raise ValueError(
            f"unknown name habit {', '.join(map(repr, unknown))} — valid name habits: "
            f"{', '.join(FIELDS)}"
        )
    return NameHabits(**names)


def split(
    habits: Habits | Mapping[str, Any] | None, names: NameHabits | Mapping[str, Any] | None
) -> tuple[Habits, NameHabits]:
    """Billing and name habits. A mapping of ``habits`` may hold name habits too, so that
    ``recon sample-data --habit domain_names=0.3`` reaches them; ``names``, when given, replaces those."""
    if habits is None or isinstance(habits, Habits):
        return habits_of(habits), name_habits_of(names)
    unknown = [k for k in habits if k not in BILLING_FIELDS and k not in FIELDS]
    if unknown:
        raise ValueError(
            f"unknown habit {', '.join(map(repr, unknown))} — valid habits: "
            f"{', '.join(BILLING_FIELDS)}; name habits: {', '.join(FIELDS)}"
        )
    billing = {k: v for k, v in habits.items() if k in BILLING_FIELDS}
    naming = {k: v for k, v in habits.items() if k in FIELDS}
    if names is not None:
        naming.update(dataclasses.asdict(name_habits_of(names)))
    return habits_of(billing), name_habits_of(naming)
