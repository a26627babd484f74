"""Real-world companies (entities): name, legal form, domain, address, phones, tax id, presence.

An entity is drawn once; the CRM and ERP records that describe it are rendered from it later (see
``records``), each with its own spelling. Hard negatives are planted here: pairs of *different*
entities that look alike.

Rule of truth for branches: a branch registered separately, with a tax id of its own, is a different
entity from its head office, even when both share the group's name stem and sometimes its domain.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recon.sampledata import text, vocab
from recon.sampledata.text import Text

COUNTRY_INDEX = {c: i for i, c in enumerate(vocab.COUNTRIES)}
HARD_NEGATIVE_KINDS = ("similar_name", "near_identical", "branch", "same_building")


@dataclass(frozen=True)
class Params:
    """Rates for drawing entities; written to truth_meta.json as they were used."""

    in_both: float = 0.65
    crm_only: float = 0.20  # the rest are ERP-only
    crm_duplicates: float = 0.05  # of entities in the CRM: 2-3 records
    erp_duplicates: float = 0.04
    triple_share: float = 0.2  # of duplicated entities: three records rather than two
    hard_negatives: float = 0.065  # of entities taking part in a hard-negative pair
    hard_negative_kinds: tuple[float, ...] = (0.35, 0.25, 0.2, 0.2)
    shared_branch_domain: float = 0.5
    own_domain: float = 0.88
    hyphen_domain: float = 0.12
    unit: float = 0.3
    alt_phone: float = 0.1


@dataclass
class Entities:
    """One row per entity; parallel arrays."""

    n: int
    entity_id: Text
    country: np.ndarray  # index into vocab.COUNTRIES
    base: Text  # name without legal form
    legal: np.ndarray  # index into legal_forms().codes
    domain: Text  # own web domain, None for free-mail-only companies
    freemail: Text  # a free-mail address of the company (always set)
    city: np.ndarray  # index into cities()
    street: np.ndarray  # index into the country's vocab.STREETS
    number: np.ndarray
    number_suffix: Text  # "a" / "b" for some German house numbers, else ""
    unit_kind: np.ndarray  # index into vocab.UNIT_FORMS[country], -1 for none
    unit_no: np.ndarray
    rt_rw: Text  # Indonesian neighbourhood numbers "003/005", None
    postcode: Text
    plus4: Text  # US ZIP+4 extension, None elsewhere
    phone_area: Text
    phone_sub: Text
    alt_area: Text  # a second number some records use, None if none
    alt_sub: Text
    tax_digits: Text
    in_crm: np.ndarray
    in_erp: np.ndarray
    n_crm: np.ndarray
    n_erp: np.ndarray
    hard_negatives: list[tuple[int, int, str]]  # (entity a, entity b, kind)


@dataclass(frozen=True)
class LegalForms:
    codes: tuple[str, ...]  # "ID:PT", ...
    country: np.ndarray
    weight: np.ndarray
    prefix: np.ndarray  # (forms × spellings) object, None padded
    suffix: np.ndarray
    cdf: np.ndarray  # (forms × spellings) cumulative spelling weights, 1.0 padded


@functools.cache
def legal_forms() -> LegalForms:
    codes, country, weight, spellings = [], [], [], []
    for c, forms in vocab.LEGAL_FORMS.items():
        for code, w, sp in forms:
            codes.append(f"{c}:{code}")
            country.append(COUNTRY_INDEX[c])
            weight.append(w)
            spellings.append(sp)
    width = max(len(s) for s in spellings)
    prefix = np.full((len(codes), width), None, dtype=object)
    suffix = np.full((len(codes), width), None, dtype=object)
    cdf = np.ones((len(codes), width))
    for i, sp in enumerate(spellings):
        prefix[i, : len(sp)] = [s[0] for s in sp]
        suffix[i, : len(sp)] = [s[1] for s in sp]
        cdf[i, : len(sp)] = np.cumsum(text.weights(sp))
    return LegalForms(tuple(codes), np.array(country), np.array(weight, float), prefix, suffix, cdf)


@dataclass(frozen=True)
class Cities:
    country: np.ndarray
    weight: np.ndarray
    names: text.Spellings
    regions: text.Spellings
    lo: np.ndarray  # numeric postcode range, -1 for UK
    hi: np.ndarray
    outward: text.Spellings  # UK outward codes
    areas: text.Spellings  # phone area codes
    sub_digits: np.ndarray
    leads: text.Spellings  # first digits of local numbers


@functools.cache
def cities() -> Cities:
    rows = [(COUNTRY_INDEX[c], city) for c, cs in vocab.CITIES.items() for city in cs]
    return Cities(
        country=np.array([r[0] for r in rows]),
        weight=np.array([r[1].weight for r in rows]),
        names=text.Spellings([r[1].names for r in rows]),
        regions=text.Spellings([r[1].regions for r in rows]),
        lo=np.array([r[1].postcode_range[0] if r[1].postcode_range else -1 for r in rows]),
        hi=np.array([r[1].postcode_range[1] if r[1].postcode_range else -1 for r in rows]),
        outward=text.Spellings([r[1].outward_codes or ("",) for r in rows]),
        areas=text.Spellings([r[1].area_codes for r in rows]),
        sub_digits=np.array([r[1].subscriber_digits for r in rows]),
        leads=text.Spellings([tuple(r[1].leads) for r in rows]),
    )


def draw(n: int, rng: np.random.Generator, p: Params) -> Entities:
    """Draw ``n`` entities."""
    country = text.choose(rng, np.array(vocab.COUNTRY_WEIGHTS), n)
    names = _names(rng, country)
    legal = _legal(rng, country)
    city = _cities(rng, country)
    street, number, suffix, unit_kind, unit_no, rt_rw = _streets(rng, country, p)
    names, hard = _hard_negatives(rng, country, names, city, street, number, unit_kind, unit_no, p)
    base = text.words(names)
    del names
    same_building = [(a, b) for a, b, kind in hard if kind == "same_building"]
    if same_building:  # the same street address, house-number suffix included
        a_rows, b_rows = (np.array(x) for x in zip(*same_building, strict=True))
        suffix = text.put_at(suffix, b_rows, text.take(suffix, a_rows))
    postcode, plus4 = _postcodes(rng, country, city)
    if same_building:
        postcode = text.put_at(postcode, b_rows, text.take(postcode, a_rows))
        plus4 = text.put_at(plus4, b_rows, text.take(plus4, a_rows))
    domain = _domains(rng, country, base, p)
    shared = [(a, b) for a, b, kind in hard if kind == "branch"]
    shared = [(a, b) for a, b in shared if rng.random() < p.shared_branch_domain]
    if shared:  # a branch that uses the group's web domain
        a_rows, b_rows = (np.array(x) for x in zip(*shared, strict=True))
        domain = text.put_at(domain, b_rows, text.take(domain, a_rows))
    freemail = _freemail(rng, country, base)
    area, sub = _phones(rng, country, city, fictional=True)
    alt_area, alt_sub = _phones(rng, country, city, fictional=True)
    area, sub, alt_area, alt_sub = _unique_phones(rng, country, city, area, sub, alt_area, alt_sub)
    no_alt = rng.random(n) >= p.alt_phone
    alt_area, alt_sub = text.put(alt_area, no_alt, None), text.put(alt_sub, no_alt, None)
    tax = _tax_ids(rng, country)
    branches = [
        (a, b) for a, b, kind in hard if kind == "branch" and country[a] == COUNTRY_INDEX["ID"]
    ]
    if branches:  # an Indonesian branch: the head office's NPWP stem, its own office and 001
        a_rows, b_rows = (np.array(x) for x in zip(*branches, strict=True))
        stems = text.slice_text(text.take(tax, a_rows), 0, 9)
        office = text.slice_text(text.take(tax, b_rows), 9, 12)
        tax = text.put_at(tax, b_rows, text.cat(stems, office, "001"))

    u = rng.random(n)
    in_crm = u < p.in_both + p.crm_only
    in_erp = (u < p.in_both) | (u >= p.in_both + p.crm_only)
    n_crm = in_crm * _copies(rng, n, p.crm_duplicates, p.triple_share)
    n_erp = in_erp * _copies(rng, n, p.erp_duplicates, p.triple_share)
    width = max(6, len(str(n)))
    return Entities(
        n=n,
        entity_id=text.cat("E", text.digits(np.arange(1, n + 1), width)),
        country=country,
        base=base,
        legal=legal,
        domain=domain,
        freemail=freemail,
        city=city,
        street=street,
        number=number,
        number_suffix=suffix,
        unit_kind=unit_kind,
        unit_no=unit_no,
        rt_rw=rt_rw,
        postcode=postcode,
        plus4=plus4,
        phone_area=area,
        phone_sub=sub,
        alt_area=alt_area,
        alt_sub=alt_sub,
        tax_digits=tax,
        in_crm=in_crm,
        in_erp=in_erp,
        n_crm=n_crm.astype(np.int64),
        n_erp=n_erp.astype(np.int64),
        hard_negatives=hard,
    )


def _copies(rng: np.random.Generator, n: int, dup: float, triple: float) -> np.ndarray:
    copies = np.ones(n, dtype=np.int64)
    d = rng.random(n) < dup
    copies[d] = np.where(rng.random(int(d.sum())) < triple, 3, 2)
    return copies


# --- names ----------------------------------------------------------------------------------------


def _names(rng: np.random.Generator, country: np.ndarray) -> list[str]:
    """Base names, unique within a country: each slot's word by index, collisions drawn again."""
    base: list[str] = [""] * len(country)
    for c, code in enumerate(vocab.COUNTRIES):
        rows = np.flatnonzero(country == c)
        if not len(rows):
            continue
        slots = vocab.NAME_SLOTS[vocab.NAME_FAMILY[code]]
        picks = np.zeros((len(rows), len(slots)), dtype=np.int64)  # 0 = left out, k = word k-1
        radix = np.array([len(w) + 1 for w, _ in slots], dtype=np.int64)
        # word ids across slots, so that the same word in two slots compares equal
        vocab_ids = {w: i for i, w in enumerate(sorted({w for ws, _ in slots for w in ws}))}
        slot_ids = [np.array([-1] + [vocab_ids[w] for w in ws]) for ws, _ in slots]
        todo = np.arange(len(rows))
        for _ in range(100):
            if not len(todo):
                break
            for s, (options, present) in enumerate(slots):
                k = rng.integers(0, len(options), len(todo)) + 1
                picks[todo, s] = np.where(rng.random(len(todo)) < present, k, 0)
            ids = [slot_ids[s][picks[:, s]] for s in range(len(slots))]
            repeated = np.zeros(len(rows), dtype=bool)  # no word twice ("Abadi Abadi")
            for s in range(1, len(slots)):
                for t in range(s):
                    repeated |= (ids[s] >= 0) & (ids[s] == ids[t])
            key = np.zeros(len(rows), dtype=np.int64)
            for s in range(len(slots)):
                key = key * radix[s] + picks[:, s]
            _, first = np.unique(key, return_index=True)
            clash = np.ones(len(rows), dtype=bool)
            clash[first] = False
            todo = np.flatnonzero(clash | repeated)
        parts = [
            text.take(text.words(("", *options)), picks[:, s])
            for s, (options, _) in enumerate(slots)
        ]
        parts = [pc.if_else(pa.array(picks[:, s] > 0), part, None) for s, part in enumerate(parts)]
        joined = text.join_present(parts).to_pylist()
        for r, name in zip(rows.tolist(), joined, strict=True):
            base[r] = name
    return base


def _legal(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    forms = legal_forms()
    legal = np.zeros(len(country), dtype=np.int64)
    for c in range(len(vocab.COUNTRIES)):
        rows = np.flatnonzero(country == c)
        mine = np.flatnonzero(forms.country == c)
        w = forms.weight[mine] / forms.weight[mine].sum()
        legal[rows] = mine[text.choose(rng, w, len(rows))]
    return legal


def near_twin(name: str) -> str:
    """A different company's name that differs in one word form ("Logistics" → "Logistic")."""
    words = name.split(" ")
    for i in range(len(words) - 1, -1, -1):
        twin = vocab.NEAR_TWINS.get(words[i])
        if twin is None:
            twin = next((k for k, v in vocab.NEAR_TWINS.items() if v == words[i]), None)
        if twin is not None:
            words[i] = twin
            return " ".join(words)
    first = words[0]  # else change one vowel of the first word: Harrison → Herrison
    for j in range(1, len(first)):
        swap = {"a": "e", "e": "a", "i": "y", "o": "u", "u": "o"}.get(first[j])
        if swap:
            words[0] = first[:j] + swap + first[j + 1 :]
            return " ".join(words)
    return name + "s"


def _hard_negatives(
    rng: np.random.Generator,
    country: np.ndarray,
    base: list[str],
    city: np.ndarray,
    street: np.ndarray,
    number: np.ndarray,
    unit_kind: np.ndarray,
    unit_no: np.ndarray,
    p: Params,
) -> tuple[list[str], list[tuple[int, int, str]]]:
    """Pairs of different entities that look alike; B is changed to resemble A.

    A loop over the pairs only (a few percent of the entities).
    """
    pairs: list[tuple[int, int, str]] = []
    cs = cities()
    endings = {
        fam: tuple(w for words, _ in slots[-2:] for w in words)
        for fam, slots in vocab.NAME_SLOTS.items()
    }
    candidates: list[tuple[int, int]] = []  # (a, b) of one country
    for c in range(len(vocab.COUNTRIES)):
        members = rng.permutation(np.flatnonzero(country == c))
        k = round(len(members) * p.hard_negatives / 2)
        candidates += zip(members[k : 2 * k].tolist(), members[:k].tolist(), strict=True)
    # every kind in its proportion even in a small set (largest remainder), in random order
    share = np.array(p.hard_negative_kinds) / sum(p.hard_negative_kinds) * len(candidates)
    counts = np.floor(share).astype(np.int64)
    counts[np.argsort(counts - share, kind="stable")[: len(candidates) - counts.sum()]] += 1
    kinds = rng.permutation(np.repeat(np.arange(len(counts)), counts)).tolist()
    u = rng.random((len(candidates), 3)).tolist()
    for (a, b), kind_i, (u0, u1, u2) in zip(candidates, kinds, u, strict=True):
        kind = HARD_NEGATIVE_KINDS[kind_i]
        code = vocab.COUNTRIES[country[a]]
        a_words = base[a].split(" ")
        if kind == "similar_name":
            options = [w for w in endings[vocab.NAME_FAMILY[code]] if w not in a_words]
            base[b] = f"{' '.join(a_words[:2])} {options[int(u0 * len(options))]}"
            if u1 < 0.5:
                city[b] = city[a]
        elif kind == "near_identical":
            base[b] = near_twin(base[a])
            if u1 < 0.5:
                city[b] = city[a]
        elif kind == "branch":
            others = np.flatnonzero(
                (cs.country == country[a]) & (np.arange(len(cs.country)) != city[a])
            )
            city[b] = others[int(u0 * len(others))]
            stem = " ".join(a_words[:2])
            base[a] = f"{stem} {cs.names.canonical(np.array([city[a]]))[0].as_py()}"
            base[b] = f"{stem} {cs.names.canonical(np.array([city[b]]))[0].as_py()}"
        else:  # same building: same street address, different company
            city[b], street[b], number[b] = city[a], street[a], number[a]
            unit_kind[b] = unit_kind[a]
            unit_no[b] = unit_no[a] + 1 + int(u2 * 5) if unit_kind[a] >= 0 else 0
        pairs.append((a, b, kind))
    return base, pairs


# --- web ------------------------------------------------------------------------------------------


def _domains(rng: np.random.Generator, country: np.ndarray, base: Text, p: Params) -> Text:
    """The company's own domain, unique across entities (branches may share one later)."""
    n = len(base)
    short = text.first_words(base, 2)
    hyphen = rng.random(n) < p.hyphen_domain
    stem = text.where(hyphen, text.slug(short, hyphen=True), text.slug(short))
    tld = text.nulls(n)
    for c, code in enumerate(vocab.COUNTRIES):
        rows = country == c
        options = vocab.DOMAIN_SUFFIXES[code]
        k = text.choose(rng, text.weights(options), int(rows.sum()))
        tld = text.put(tld, rows, text.pick([o[0] for o in options], k))
    domain = text.cat(stem, tld)
    again = ~text.first_seen(domain)
    domain = text.put(domain, again, text.cat(text.slug(base).filter(again), tld.filter(again)))
    again = ~text.first_seen(domain)
    if again.any():
        rows = np.flatnonzero(again)
        numbered = text.cat(text.slug(base).filter(again), text.digits(rows), tld.filter(again))
        domain = text.put(domain, again, numbered)
    return text.put(domain, rng.random(n) >= p.own_domain, None)


def _freemail(rng: np.random.Generator, country: np.ndarray, base: Text) -> Text:
    n = len(base)
    local = text.slug(text.first_words(base, 2))
    for c, code in enumerate(vocab.COUNTRIES):
        person = (country == c) & (rng.random(n) < 0.4)
        names = vocab.PERSON_NAMES[vocab.NAME_FAMILY[code]]
        local = text.put(local, person, text.pick(names, rng.integers(0, len(names), person.sum())))
    numbered = rng.random(n) < 0.5
    suffix = text.where(numbered, text.digits(rng.integers(1, 100, n), 2), "")
    host = text.nulls(n)
    for c, code in enumerate(vocab.COUNTRIES):
        rows = country == c
        options = vocab.FREEMAIL[code]
        k = text.choose(rng, text.weights(options), int(rows.sum()))
        host = text.put(host, rows, text.pick([o[0] for o in options], k))
    return text.cat(local, suffix, "@", host)


# --- addresses ------------------------------------------------------------------------------------


def _cities(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    cs = cities()
    city = np.zeros(len(country), dtype=np.int64)
    for c in range(len(vocab.COUNTRIES)):
        rows = np.flatnonzero(country == c)
        here = np.flatnonzero(cs.country == c)
        city[rows] = here[text.choose(rng, cs.weight[here] / cs.weight[here].sum(), len(rows))]
    return city


def _streets(
    rng: np.random.Generator, country: np.ndarray, p: Params
) -> tuple[np.ndarray, np.ndarray, Text, np.ndarray, np.ndarray, Text]:
    n = len(country)
    street = np.zeros(n, dtype=np.int64)
    number = np.zeros(n, dtype=np.int64)
    unit_kind = np.full(n, -1, dtype=np.int64)
    unit_no = np.zeros(n, dtype=np.int64)
    for c, code in enumerate(vocab.COUNTRIES):
        rows = np.flatnonzero(country == c)
        street[rows] = rng.integers(0, len(vocab.STREETS[code]), len(rows))
        top = vocab.STREET_NUMBER_MAX[code]
        number[rows] = np.exp(rng.random(len(rows)) * np.log(top)).astype(np.int64)
        kinds = vocab.UNIT_FORMS[code]
        if kinds:
            has = rows[rng.random(len(rows)) < p.unit]
            unit_kind[has] = rng.integers(0, len(kinds), len(has))
            floor = rng.integers(1, 40, len(has))
            suite = code == "US" and unit_kind[has] == 0  # US suites: 1204; floors: 12
            unit_no[has] = np.where(suite, floor * 100 + rng.integers(0, 20, len(has)), floor)
    letter = (country == COUNTRY_INDEX["DE"]) & (rng.random(n) < 0.08)
    suffix = text.where(letter, text.pick(("a", "b"), rng.integers(0, 2, n)), "")
    ind = (country == COUNTRY_INDEX["ID"]) & (rng.random(n) < 0.2)
    rt = text.digits(rng.integers(1, 16, n), 3)
    rw = text.digits(rng.integers(1, 13, n), 3)
    rt_rw = text.where(ind, text.cat(rt, "/", rw), None)
    return street, number, suffix, unit_kind, unit_no, rt_rw


def _postcodes(
    rng: np.random.Generator, country: np.ndarray, city: np.ndarray
) -> tuple[Text, Text]:
    cs = cities()
    n = len(country)
    lo, hi = cs.lo[city], cs.hi[city]
    value = lo + (rng.random(n) * (hi - lo + 1)).astype(np.int64)
    postcode = text.nulls(n)
    for c, code in enumerate(vocab.COUNTRIES):
        rows = (country == c) & (lo >= 0)
        if code in vocab.POSTCODE_WIDTH:
            width = vocab.POSTCODE_WIDTH[code]
            postcode = text.put(postcode, rows, text.digits(value[rows], width))
    uk = lo < 0
    outward = cs.outward.pick(rng, city, 0.0)
    letters = text.words(list(vocab.GB_INWARD_LETTERS))
    inward = text.cat(
        text.digits(rng.integers(0, 10, n)),
        text.take(letters, rng.integers(0, len(letters), n)),
        text.take(letters, rng.integers(0, len(letters), n)),
    )
    postcode = text.put(postcode, uk, text.cat(outward, " ", inward).filter(pa.array(uk)))
    us = country == COUNTRY_INDEX["US"]
    plus4 = text.where(us, text.digits(rng.integers(1, 10_000, n), 4), None)
    return postcode, plus4


# --- phones ---------------------------------------------------------------------------------------


def _phones(
    rng: np.random.Generator, country: np.ndarray, city: np.ndarray, fictional: bool
) -> tuple[Text, Text]:
    """Area code and subscriber number: landlines in the city's area, some mobiles.

    US numbers use the fictional 555 exchange (``fictional``) until it runs out, then any exchange;
    other numbers are random within each country's numbering plan.
    """
    cs = cities()
    n = len(country)
    area = cs.areas.pick(rng, city, 0.0)
    k = cs.sub_digits[city]
    lead = cs.leads.pick(rng, city, 0.0)
    rest = rng.integers(0, 10**7, n) % (10 ** (k - 1))
    sub = text.cat(lead, _pad(rest, k - 1))
    us = country == COUNTRY_INDEX["US"]
    if us.any():
        exchange = np.where(fictional, 555, rng.integers(200, 1000, n))
        exchange = np.where(exchange % 100 == 11, 555, exchange)  # no N11 service codes
        sub = text.put(
            sub,
            us,
            text.cat(text.digits(exchange), text.digits(rng.integers(0, 10_000, n), 4)).filter(
                pa.array(us)
            ),
        )
    mobile = np.zeros(n, dtype=bool)
    for c, code in enumerate(vocab.COUNTRIES):
        prefixes, digits_ = vocab.MOBILE[code]
        rows = (country == c) & (rng.random(n) < vocab.MOBILE_SHARE[code])
        if not rows.any():
            continue
        mobile |= rows
        m = int(rows.sum())
        area = text.put(area, rows, text.pick(prefixes, rng.integers(0, len(prefixes), m)))
        sub = text.put(sub, rows, _pad(rng.integers(0, 10**digits_, m), digits_))
    return area, sub


def _pad(values: np.ndarray, width: np.ndarray | int) -> Text:
    """Zero-padded digits with a width per value."""
    out = text.digits(values)
    widths = np.broadcast_to(np.asarray(width), np.shape(values))
    for w in np.unique(widths).tolist():
        m = widths == w
        out = text.put(out, m, pc.utf8_lpad(out.filter(pa.array(m)), width=w, padding="0"))
    return out


def _unique_phones(
    rng: np.random.Generator,
    country: np.ndarray,
    city: np.ndarray,
    area: Text,
    sub: Text,
    alt_area: Text,
    alt_sub: Text,
) -> tuple[Text, Text, Text, Text]:
    """Different entities never share a number: colliding numbers are drawn again."""
    n = len(country)
    for attempt in range(30):
        national = pc.cast(
            text.cat(pa.concat_arrays([area, alt_area]), pa.concat_arrays([sub, alt_sub])),
            pa.int64(),
        )
        key = np.r_[country, country] * 10**13 + national.to_numpy()
        _, first = np.unique(key, return_index=True)
        again = np.ones(2 * n, dtype=bool)
        again[first] = False
        if not again.any():
            break
        for half, (a, s) in enumerate(((area, sub), (alt_area, alt_sub))):
            m = again[half * n : (half + 1) * n]
            if m.any():
                new_a, new_s = _phones(rng, country[m], city[m], fictional=attempt < 3)
                a, s = text.put(a, m, new_a), text.put(s, m, new_s)
            if half == 0:
                area, sub = a, s
            else:
                alt_area, alt_sub = a, s
    return area, sub, alt_area, alt_sub


# --- tax ids --------------------------------------------------------------------------------------


def _tax_ids(rng: np.random.Generator, country: np.ndarray) -> Text:
    """Tax-id digits with valid check digits where the scheme has them, unique per entity."""
    n = len(country)
    out = text.nulls(n)
    for c, code in enumerate(vocab.COUNTRIES):
        rows = country == c
        todo = rows.copy()
        for _ in range(20):
            if not todo.any():
                break
            out = text.put(out, todo, text.digit_matrix(_tax_digits(rng, code, int(todo.sum()))))
            seen = np.zeros(n, dtype=bool)
            seen[np.flatnonzero(rows)[text.first_seen(out.filter(pa.array(rows)))]] = True
            todo = rows & ~seen
    return out


def _tax_digits(rng: np.random.Generator, code: str, n: int) -> np.ndarray:
    k = vocab.TAX_DIGITS[code]
    d = rng.integers(0, 10, (n, k))
    if code == "ID":  # NPWP: 0 + taxpayer type, serial, check, tax office (KPP), 000 = head office
        d[:, 0] = 0
        d[:, 1] = rng.integers(1, 4, n)
        d[:, 12:] = 0
    elif code == "AU":  # ABN: weighted sum (first digit minus one) divisible by 89
        w = np.array([10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19])
        v = (-(d[:, 2:] * w[2:]).sum(axis=1)) % 89
        d[:, 0], d[:, 1] = v // 10 + 1, v % 10
    elif code == "NZ":  # NZBN: GS1 number 9429..., last digit a GS1 check digit
        d[:, :4] = [9, 4, 2, 9]
        w = np.where(np.arange(12) % 2 == 0, 1, 3)
        d[:, 12] = (10 - (d[:, :12] * w).sum(axis=1) % 10) % 10
    elif code == "US":  # EIN: a valid campus prefix
        prefix = np.array(vocab.EIN_PREFIXES)[rng.integers(0, len(vocab.EIN_PREFIXES), n)]
        d[:, 0], d[:, 1] = prefix // 10, prefix % 10
    elif code == "GB":  # VAT: weights 8..2 on seven digits, two check digits mod 97
        d[:, 0] = rng.integers(1, 10, n)
        v = (-(d[:, :7] * np.arange(8, 1, -1)).sum(axis=1)) % 97
        d[:, 7], d[:, 8] = v // 10, v % 10
    else:  # DE: USt-IdNr, ISO 7064 MOD 11,10 check digit
        d[:, 0] = rng.integers(1, 10, n)
        product = np.full(n, 10)
        for i in range(8):
            s = (d[:, i] + product) % 10
            s[s == 0] = 10
            product = (2 * s) % 11
        check = 11 - product
        d[:, 8] = np.where(check == 10, 0, check)
    return d
