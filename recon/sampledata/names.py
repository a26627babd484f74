"""The name habits at work (see ``name_habits`` for what each knob means).

``Names.start`` plants the hard negatives among the entities; ``bases`` gives the names some
records start from before ``records.render`` spells them; ``rename`` changes the rendered records.
Every knob draws from its own stream, made only when the knob is set, so a knob left at 0 draws
nothing and changes nothing. Vectorized: Python loops run over word lists and templates only.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recon.sampledata import groups, records, text, vocab
from recon.sampledata.entities import Entities, cities, legal_forms
from recon.sampledata.name_habits import FIELDS, NameHabits
from recon.sampledata.records import Records, Style
from recon.sampledata.text import Text

OWN_STREAMS = 11  # generate's own streams; the knobs' come after them
BRANCH_FORM = 0.5  # of branch records: "Acme Logistics Pty Ltd - Perth" rather than "... Perth"
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def streams(seed: int, nh: NameHabits) -> dict[str, np.random.Generator]:
    """One stream per knob that is set, spawned after generate's own."""
    seqs = np.random.SeedSequence(seed).spawn(OWN_STREAMS + len(FIELDS))[OWN_STREAMS:]
    return {
        name: np.random.Generator(np.random.PCG64(s))
        for name, s in zip(FIELDS, seqs, strict=True)
        if getattr(nh, name)
    }


@dataclass
class Names:
    """What the name habits decided, kept between rendering the CRM and the ERP."""

    habits: NameHabits
    rng: dict[str, np.random.Generator]
    branch_head: np.ndarray  # per entity: its group's head office, -1 for none
    trade: np.ndarray  # per entity: the CRM carries a trade name
    one_letter: np.ndarray  # per entity: the main CRM record has one letter wrong
    branch_form: dict[str, np.ndarray] = field(default_factory=dict)  # per system and record
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def start(cls, nh: NameHabits, seed: int, ent: Entities) -> tuple[Names, Entities]:
        rng = streams(seed, nh)
        ent, planted = groups.plant(
            ent,
            nh.group_branches,
            nh.shared_address,
            rng.get("group_branches"),
            rng.get("shared_address"),
        )
        trade, one = np.zeros(ent.n, dtype=bool), np.zeros(ent.n, dtype=bool)
        out = cls(nh, rng, planted.branch_head, trade, one, counts=dict(planted.counts))
        return out, ent

    def meta(self) -> dict[str, object]:
        """The truth_meta.json section: the knobs and what they planted."""
        return {**dataclasses.asdict(self.habits), "counts": dict(sorted(self.counts.items()))}

    # --- before rendering ---------------------------------------------------------------------

    def bases(self, ent: Entities, copies: np.ndarray, system: str) -> Text | None:
        """Each record's name before it is spelled, or None where every record takes its
        entity's. Draws the CRM's entity-level choices (trade names, one letter wrong)."""
        e, rank = records.expand(copies)
        n = len(e)
        base = None
        h = self.habits
        member = self.branch_head >= 0
        if "group_branches" in self.rng:
            head = self.branch_head[e]
            form = (head >= 0) & (head != e) & (self.rng["group_branches"].random(n) < BRANCH_FORM)
            self.branch_form[system] = form
            if form.any():  # the head office's name, the city written after the legal form
                base = text.put(text.take(ent.base, e), form, text.take(ent.base, head[form]))
            self.counts[f"{system}_branch_form_records"] = int(form.sum())
        if system != "crm":
            return base
        both = ent.in_crm & ent.in_erp & ~member & ~text.is_null(ent.domain)
        if "trade_names" in self.rng:
            self.trade = both & (self.rng["trade_names"].random(ent.n) < h.trade_names)
            self.counts["trade_name_entities"] = int(self.trade.sum())
        if "one_letter" in self.rng:
            rng = self.rng["one_letter"]
            self.one_letter = both & ~self.trade & (rng.random(ent.n) < h.one_letter)
            main = self.one_letter[e] & (rank == 0)
            if main.any():
                base = text.take(ent.base, e) if base is None else base
                base = text.put(base, main, one_letter(rng, base.filter(pa.array(main))))
            self.counts["one_letter_records"] = int(main.sum())
        return base

    # --- after rendering ----------------------------------------------------------------------

    def rename(self, ent: Entities, recs: Records, system: str, style: Style) -> None:
        """Change the rendered records in place, each knob in turn (see name_habits)."""
        cols, e, rank = recs.columns, recs.entity, recs.rank
        n = len(e)
        h = self.habits
        member = self.branch_head[e] >= 0
        domain = text.take(ent.domain, e)
        city = cities().names.canonical(ent.city[e])
        form = self.branch_form.get(system)
        if form is not None and form.any():
            cols["name"] = _branch_city(self.rng["group_branches"], cols["name"], form, city)
        main_one = self.one_letter[e] & (rank == 0)
        trade = self.trade[e]
        if system == "crm":
            taken = member | trade | main_one
            if trade.any():  # a trade name, tied to the ERP by the domain and phone only
                brand = brands(self.rng["trade_names"], int(self.trade.sum()))
                at = np.cumsum(self.trade) - 1
                cols["name"] = text.put(cols["name"], trade, text.take(brand, at[e[trade]]))
                cols["domain"] = text.put(cols["domain"], trade, domain.filter(pa.array(trade)))
                cols["phone"] = _phone(self.rng["trade_names"], ent, e, trade, cols, style)
                self.counts["trade_name_records"] = int(trade.sum())
            if main_one.any():
                cols["domain"] = text.put(
                    cols["domain"], main_one, domain.filter(pa.array(main_one))
                )
                cols["city"] = text.put(cols["city"], main_one, city.filter(pa.array(main_one)))
            if "domain_names" in self.rng:
                u = self.rng["domain_names"].random(n)
                pick = ~taken & ~text.is_null(domain) & (u < h.domain_names)
                cols["name"] = text.put(cols["name"], pick, domain.filter(pa.array(pick)))
                cols["domain"] = text.put(cols["domain"], pick, domain.filter(pa.array(pick)))
                taken |= pick
                self.counts["domain_name_records"] = int(pick.sum())
            if "short_names" in self.rng:
                u = self.rng["short_names"].random(n)
                both = (ent.in_crm & ent.in_erp)[e]
                pick = ~taken & both & (u < h.short_names)
                short = short_names(text.take(ent.base, e).filter(pa.array(pick)))
                cols["name"] = text.put(cols["name"], pick, short)
                self.counts["short_name_records"] = int(pick.sum())
            return
        main = rank == 0
        if self.one_letter.any():  # the ERP side of one letter wrong
            one = self.one_letter[e] & main
            cols["city"] = text.put(cols["city"], one, city.filter(pa.array(one)))
            site = text.cat("www.", domain.filter(pa.array(one)))
            cols["website"] = text.put(cols["website"], one, site)
        if trade.any():
            cols["phone"] = _phone(self.rng["trade_names"], ent, e, trade & main, cols, style)
        taken = form.copy() if form is not None else np.zeros(n, dtype=bool)
        if "trading_names" in self.rng:
            rng = self.rng["trading_names"]
            chosen = ent.in_crm & ent.in_erp & (self.branch_head < 0) & ~self.trade
            chosen &= rng.random(ent.n) < h.trading_names
            pick = chosen[e]
            names = trading_names(rng, ent, np.flatnonzero(chosen))
            at = np.cumsum(chosen) - 1
            cols["name"] = _keep_caps(cols["name"], pick, text.take(names, at[e[pick]]))
            taken |= pick
            self.counts["trading_name_entities"] = int(chosen.sum())
            self.counts["trading_name_records"] = int(pick.sum())
        if "legal_form_spelled" in self.rng:
            u = self.rng["legal_form_spelled"].random(n)
            pick = ~taken & (u < h.legal_form_spelled)
            cols["name"] = text.put(cols["name"], pick, spelled(ent, e[pick]))
            self.counts["legal_form_spelled_records"] = int(pick.sum())
        if "dup_markers" in self.rng:
            rng = self.rng["dup_markers"]
            pick = (rank > 0) & (rng.random(n) < h.dup_markers)
            cols["name"] = text.put(
                cols["name"], pick, marked(rng, cols["name"].filter(pa.array(pick)))
            )
            self.counts["dup_marker_records"] = int(pick.sum())


# --- the names --------------------------------------------------------------------------------


def one_letter(rng: np.random.Generator, names: Text) -> Text:
    """One letter of the first word changed to another (never the first letter), in its case."""
    n = len(names)
    if not n:
        return names
    first = text.length(text.first_words(names, 1))
    pos = 1 + (rng.random(n) * np.maximum(first - 1, 1)).astype(np.int64)
    letter = rng.integers(0, len(LETTERS), n)
    alphabet = text.words(list(LETTERS))
    out = names
    for p in np.unique(pos).tolist():  # one pass per position: a handful
        m = pos == p
        sub = names.filter(pa.array(m))
        old = text.slice_text(sub, p, p + 1)
        k = letter[m]
        same = pc.fill_null(pc.equal(text.lower(old), text.take(alphabet, k)), False)
        k = (k + same.to_numpy(zero_copy_only=False)) % len(LETTERS)
        new = text.take(alphabet, k)
        upper = pc.fill_null(pc.utf8_is_upper(old), False).to_numpy(zero_copy_only=False)
        new = text.where(upper, text.upper(new), new)
        out = text.put(
            out, m, text.cat(text.slice_text(sub, 0, p), new, text.slice_text(sub, p + 1))
        )
    return out


@functools.cache
def _adjectives() -> Text:
    """First words too vague to stand alone: "Bayerische", "Gebrüder"."""
    return text.words(vocab.NAME_SLOTS["DE"][0][0])


def short_names(base: Text) -> Text:
    """The first word of the name; two when the first is an adjective."""
    one, two = text.first_words(base, 1), text.first_words(base, 2)
    vague = pc.is_in(one, value_set=_adjectives()).to_numpy(zero_copy_only=False)
    return text.where(vague, two, one)


def brands(rng: np.random.Generator, k: int) -> Text:
    """``k`` coined trade names ("Bavoten Studio"), without repeats while they last."""
    parts = (
        [o.capitalize() for o in vocab.BRAND_ONSETS],
        vocab.BRAND_VOWELS,
        vocab.BRAND_ONSETS,
        vocab.BRAND_VOWELS,
        vocab.BRAND_ENDINGS,
        [" " + w for w in vocab.BRAND_KINDS],
    )
    return _coined(rng, parts, k)


def surnames(rng: np.random.Generator, family: str, k: int) -> Text:
    """``k`` coined surnames of the family ("Bramford", "Tessmann"), without repeats while
    they last."""
    parts = (vocab.HOLDER_ONSETS, vocab.HOLDER_VOWELS, vocab.HOLDER_ENDINGS[family])
    return _coined(rng, parts, k)


def _coined(rng: np.random.Generator, parts: tuple[Sequence[str], ...], k: int) -> Text:
    """``k`` words made of one piece of each part, without repeats while they last."""
    shape = tuple(len(p) for p in parts)
    total = int(np.prod(shape))
    idx = rng.choice(total, size=k, replace=k > total)
    digits = np.unravel_index(idx, shape)
    return text.cat(*(text.pick(p, d) for p, d in zip(parts, digits, strict=True)))


@functools.cache
def _spelled_forms() -> tuple[Text, Text]:
    codes = legal_forms().codes
    return (
        text.words([vocab.LEGAL_FORMS_SPELLED[c][0] for c in codes]),
        text.words([vocab.LEGAL_FORMS_SPELLED[c][1] for c in codes]),
    )


def spelled(ent: Entities, e: np.ndarray) -> Text:
    """The name with its legal form written out, in capitals, without umlauts."""
    before, after = _spelled_forms()
    f = ent.legal[e]
    name = text.cat(text.take(before, f), text.take(ent.base, e), text.take(after, f))
    return text.upper(text.fold_diacritics(name, plain=True))


def marked(rng: np.random.Generator, names: Text) -> Text:
    forms = vocab.DUPLICATE_MARKERS
    k = text.choose(rng, text.weights(forms), len(names))
    return text.cat(text.pick([f[0] for f in forms], k), names, text.pick([f[1] for f in forms], k))


@functools.cache
def _trading_templates() -> dict[str, tuple[tuple[list[str], float], ...]]:
    return {
        code: tuple((re.split(r"(\{\w+\})", t), w) for t, w in forms)
        for code, forms in vocab.TRADING_FORMS.items()
    }


def trading_names(rng: np.random.Generator, ent: Entities, rows: np.ndarray) -> Text:
    """The ERP's name for each entity of ``rows``: its owner's name and its trading name."""
    k = len(rows)
    family = np.array([vocab.NAME_FAMILY[c] for c in vocab.COUNTRIES])[ent.country[rows]]
    holder, person = text.nulls(k), text.nulls(k)
    for fam in vocab.HOLDER_ENDINGS:
        m = family == fam
        km = int(m.sum())
        if not km:
            continue
        one, other = surnames(rng, fam, km), surnames(rng, fam, km)
        pair = (rng.random(km) < 0.5) & (fam == "EN")  # "Mudwell Dongate Nominees"
        holder = text.put(holder, m, text.where(pair, text.cat(one, " ", other), one))
        first = [p.split(".")[0].title() for p in vocab.PERSON_NAMES[fam]]
        given = text.pick(first, rng.integers(0, len(first), km))
        person = text.put(person, m, text.cat(given, " ", surnames(rng, fam, km)))
    name = text.take(ent.base, rows)
    fields = {"name": name, "first": text.first_words(name, 1), "holder": holder, "person": person}
    out = text.nulls(k)
    country = ent.country[rows]
    for c, code in enumerate(vocab.COUNTRIES):
        forms = _trading_templates()[code]
        which = np.full(k, -1)
        here = country == c
        which[here] = text.choose(rng, text.weights(forms), int(here.sum()))
        for i, (pieces, _) in enumerate(forms):
            m = which == i
            if not m.any():
                continue
            sel = pa.array(m)
            parts: list[text.Part] = [
                fields[p[1:-1]].filter(sel) if p.startswith("{") else p for p in pieces if p
            ]
            out = text.put(out, m, text.cat(*parts))
    return out


# --- helpers ------------------------------------------------------------------------------------


def _is_upper(names: Text) -> np.ndarray:
    return pc.fill_null(pc.equal(names, text.upper(names)), False).to_numpy(zero_copy_only=False)


def _keep_caps(names: Text, mask: np.ndarray, new: Text) -> Text:
    """``names`` with the masked ones replaced by ``new``, in capitals where they were."""
    caps = _is_upper(names.filter(pa.array(mask)))
    return text.put(names, mask, text.where(caps, text.upper(new), new))


def _branch_city(rng: np.random.Generator, names: Text, form: np.ndarray, city: Text) -> Text:
    """The branch's city after the legal form: "Acme Logistics Pty Ltd - Perth"."""
    forms = vocab.BRANCH_FORMS
    m = int(form.sum())
    k = text.choose(rng, text.weights(forms), m)
    sel = pa.array(form)
    sub = names.filter(sel)
    tail = text.cat(
        text.pick([f[0] for f in forms], k), city.filter(sel), text.pick([f[1] for f in forms], k)
    )
    tail = text.where(_is_upper(sub), text.upper(tail), tail)
    return text.put(names, form, text.cat(sub, tail))


def _phone(
    rng: np.random.Generator,
    ent: Entities,
    e: np.ndarray,
    mask: np.ndarray,
    cols: dict[str, Text],
    style: Style,
) -> Text:
    """The phone column with the entity's main number written on the masked records."""
    if not mask.any():
        return cols["phone"]
    always = dataclasses.replace(style, phone=1.0, alt_phone=0.0)
    return text.put(cols["phone"], mask, records.phones(rng, ent, e[mask], always))
