"""CRM companies and ERP customers rendered from entities, each record spelled its own way.

Every record of an entity (the main one and any duplicates, in either system) is rendered
independently from the entity with the system's :class:`Style`: legal form written differently or
dropped, abbreviations, diacritics, typing slips, capitals, another spelling of the street, city,
region, country and phone number, and fields left empty.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recon.sampledata import text, vocab
from recon.sampledata.entities import COUNTRY_INDEX, Entities, cities, legal_forms
from recon.sampledata.text import Text


@dataclass(frozen=True)
class Style:
    """How one system writes a company; probabilities per record."""

    drop_legal: float
    abbreviate: float
    ampersand: float
    fold_diacritics: float
    typo: float
    caps: float
    lower: float
    double_space: float
    domain: float
    website: float
    email: float
    freemail_contact: float
    phone: float
    alt_phone: float
    address: float
    one_line_address: float
    city: float
    region: float
    postcode: float
    country: float
    unit_shown: float
    canon_street: float
    canon_city: float
    zip4: float
    gb_no_space: float


CRM_STYLE = Style(
    drop_legal=0.40, abbreviate=0.06, ampersand=0.1, fold_diacritics=0.25, typo=0.03, caps=0.03,
    lower=0.01, double_space=0.01, domain=0.80, website=0.55, email=0.20, freemail_contact=0.08,
    phone=0.75, alt_phone=0.3, address=0.72, one_line_address=0.0, city=0.85, region=0.65,
    postcode=0.62, country=0.90, unit_shown=0.8, canon_street=0.5, canon_city=0.8, zip4=0.1,
    gb_no_space=0.05,
)  # fmt: skip
ERP_STYLE = Style(
    drop_legal=0.12, abbreviate=0.15, ampersand=0.1, fold_diacritics=0.45, typo=0.03, caps=0.40,
    lower=0.0, double_space=0.02, domain=0.0, website=0.22, email=0.75, freemail_contact=0.10,
    phone=0.80, alt_phone=0.5, address=0.93, one_line_address=0.08, city=0.92, region=0.75,
    postcode=0.86, country=0.97, unit_shown=0.9, canon_street=0.35, canon_city=0.7, zip4=0.25,
    gb_no_space=0.12,
)  # fmt: skip
DUPLICATE_TYPO = 0.25  # duplicates are often typed in again by hand
DUPLICATE_BLANKS = 0.15  # and more of their optional fields are empty


@dataclass
class Records:
    """Records of one system in entity order (an entity's records are adjacent, main first)."""

    entity: np.ndarray
    rank: np.ndarray  # 0 = main record, 1, 2 = duplicates
    columns: dict[str, Text]


def expand(copies: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entity index and rank of every record."""
    entity = np.repeat(np.arange(len(copies)), copies)
    starts = np.cumsum(copies) - copies
    rank = np.arange(len(entity)) - np.repeat(starts, copies)
    return entity, rank


def render(
    ent: Entities,
    copies: np.ndarray,
    rng: np.random.Generator,
    style: Style,
    base: Text | None = None,
) -> Records:
    """The records of each entity; ``base`` is each record's name before it is spelled, if not
    its entity's (the name habits change some)."""
    e, rank = expand(copies)
    dup = rank > 0
    name, caps = names(rng, ent, e, style, dup, base)
    cols: dict[str, Text] = {"name": name}
    cols.update(_web(rng, ent, e, style))
    cols["phone"] = phones(rng, ent, e, style)
    cols.update(_address(rng, ent, e, style, caps))
    cols["country"] = _country(rng, ent, e, style)
    blank = dup & (rng.random(len(e)) < DUPLICATE_BLANKS)
    for col in ("website", "email", "phone", "postcode", "region"):
        cols[col] = text.put(cols[col], blank & (rng.random(len(e)) < 0.5), None)
    return Records(e, rank, cols)


# --- names ----------------------------------------------------------------------------------------


def names(
    rng: np.random.Generator,
    ent: Entities,
    e: np.ndarray,
    style: Style,
    dup: np.ndarray,
    base: Text | None = None,
) -> tuple[Text, np.ndarray]:
    n = len(e)
    name = text.take(ent.base, e) if base is None else base
    name = text.replace_masked(name, rng.random(n) < style.abbreviate, vocab.ABBREVIATIONS, True)
    name = text.replace_masked(
        name, rng.random(n) < style.ampersand, [vocab.AND_TO_AMPERSAND], True
    )
    fold = rng.random(n) < style.fold_diacritics
    plain = rng.random(n) < 0.4
    name = text.map_masked(name, fold & plain, lambda v: text.fold_diacritics(v, plain=True))
    name = text.map_masked(name, fold & ~plain, lambda v: text.fold_diacritics(v, plain=False))

    forms = legal_forms()
    f = ent.legal[e]
    k = (rng.random(n)[:, None] > forms.cdf[f]).sum(axis=1)
    keep = rng.random(n) >= style.drop_legal
    flat = f * forms.prefix.shape[1] + k
    prefix = text.take(text.words(forms.prefix.ravel().tolist()), flat)
    suffix = text.take(text.words(forms.suffix.ravel().tolist()), flat)
    name = text.put(name, keep, text.cat(prefix, name, suffix).filter(pa.array(keep)))

    slip = rng.random(n) < np.where(dup, DUPLICATE_TYPO, style.typo)
    name = text.map_masked(name, slip, lambda v: text.typos(rng, v))
    caps = rng.random(n) < style.caps
    name = text.map_masked(name, caps, text.upper)
    name = text.map_masked(name, ~caps & (rng.random(n) < style.lower), text.lower)
    spaced = rng.random(n) < style.double_space  # one doubled space, as typed
    name = text.replace_masked(name, spaced, [(r"^(\S+) ", r"\1  ")], regex=True)
    return name, caps


# --- web and e-mail --------------------------------------------------------------------------


def _web(rng: np.random.Generator, ent: Entities, e: np.ndarray, style: Style) -> dict[str, Text]:
    n = len(e)
    domain = text.take(ent.domain, e)
    has = ~text.is_null(domain)
    out: dict[str, Text] = {}
    if style.domain:
        www = rng.random(n) < 0.15
        written = text.where(www, text.cat("www.", domain), domain)
        out["domain"] = text.put(written, ~has | (rng.random(n) >= style.domain), None)
    forms = vocab.WEBSITE_FORMS
    k = text.choose(rng, text.weights(forms), n)
    site = text.cat(
        text.pick([f[0] for f in forms], k), domain, text.pick([f[1] for f in forms], k)
    )
    out["website"] = text.put(site, rng.random(n) >= style.website, None)

    country = ent.country[e]
    local = text.nulls(n)
    for c, code in enumerate(vocab.COUNTRIES):
        rows = country == c
        boxes = vocab.MAIL_LOCAL[code]
        local = text.put(local, rows, text.pick(boxes, rng.integers(0, len(boxes), rows.sum())))
    present = rng.random(n) < style.email
    free = ~has | (rng.random(n) < style.freemail_contact)
    mail = text.where(free, text.take(ent.freemail, e), text.cat(local, "@", domain))
    out["email"] = text.put(mail, ~present, None)
    return out


# --- phones ---------------------------------------------------------------------------------------


@functools.cache
def _phone_templates() -> dict[str, tuple[tuple[list[str], float], ...]]:
    return {
        code: tuple((re.split(r"(\{\w+\})", t), w) for t, w in forms)
        for code, forms in vocab.PHONE_FORMS.items()
    }


def phones(rng: np.random.Generator, ent: Entities, e: np.ndarray, style: Style) -> Text:
    n = len(e)
    alt_sub = text.take(ent.alt_sub, e)
    alt = ~text.is_null(alt_sub) & (rng.random(n) < style.alt_phone)
    area = text.where(alt, text.take(ent.alt_area, e), text.take(ent.phone_area, e))
    sub = text.where(alt, alt_sub, text.take(ent.phone_sub, e))
    short = text.length(sub) == 6  # 0412 345 678, 07956 670 483, 01223 356 173
    fields = {
        "area": area,
        "a": text.where(short, text.slice_text(sub, 0, 3), text.slice_text(sub, 0, -4)),
        "b": text.where(short, text.slice_text(sub, 3), text.slice_text(sub, -4)),
    }
    country = ent.country[e]
    out = text.nulls(n)
    templates = _phone_templates()
    for c, code in enumerate(vocab.COUNTRIES):
        rows = country == c
        if not rows.any():
            continue
        forms = templates[code]
        k = np.full(n, -1)
        k[rows] = text.choose(rng, text.weights(forms), int(rows.sum()))
        for i, (pieces, _) in enumerate(forms):
            m = k == i
            if not m.any():
                continue
            sel = pa.array(m)
            parts: list[text.Part] = []
            for piece in pieces:
                if piece.startswith("{"):
                    key = piece[1:-1]
                    parts.append(vocab.PHONE_CC[code] if key == "cc" else fields[key].filter(sel))
                elif piece:
                    parts.append(piece)
            out = text.put(out, m, text.cat(*parts))
        prefixes = text.words(vocab.MOBILE[code][0])
        mobile = rows & pc.fill_null(pc.is_in(area, value_set=prefixes), False).to_numpy(
            zero_copy_only=False
        )
        # nobody writes a mobile number's prefix in brackets: (0412) 345 678 → 0412 345 678
        out = text.replace_masked(out, mobile, [(r"^\((\d+)\) ", r"\1 ")], regex=True)
    ext = (country == COUNTRY_INDEX["US"]) & (rng.random(n) < 0.03)
    out = text.put(
        out, ext, text.cat(out, " x", text.digits(rng.integers(10, 400, n))).filter(pa.array(ext))
    )
    return text.put(out, rng.random(n) >= style.phone, None)


# --- addresses ------------------------------------------------------------------------------------


@functools.cache
def _streets() -> dict[str, text.Spellings]:
    return {code: text.Spellings(streets) for code, streets in vocab.STREETS.items()}


def _address(
    rng: np.random.Generator, ent: Entities, e: np.ndarray, style: Style, caps: np.ndarray
) -> dict[str, Text]:
    n = len(e)
    country = ent.country[e]
    line = text.nulls(n)
    number = text.cat(text.digits(ent.number[e]), text.take(ent.number_suffix, e))
    for c, code in enumerate(vocab.COUNTRIES):
        rows = country == c
        if not rows.any():
            continue
        sel = pa.array(rows)
        ee = e[rows]
        m = len(ee)
        street = _streets()[code].pick(rng, ent.street[ee], style.canon_street)
        num = number.filter(sel)
        if code == "ID":
            forms = vocab.ID_NUMBER_FORMS
            k = text.choose(rng, text.weights(forms), m)
            body = text.cat(street, " ", text.pick([f[0] for f in forms], k), num)
        elif code == "DE":
            tight = text.ends_with(street, ".") & (rng.random(m) < 0.2)  # Hauptstr.5
            body = text.cat(street, text.where(tight, "", " "), num)
        else:
            body = text.cat(num, " ", street)
        kind = ent.unit_kind[ee]
        shown = (kind >= 0) & (rng.random(m) < style.unit_shown)
        for i, (_, position, spellings) in enumerate(vocab.UNIT_FORMS[code]):
            um = shown & (kind == i)
            if not um.any():
                continue
            k = text.choose(rng, text.weights(spellings), m)
            pre = text.pick([s[0] for s in spellings], k)
            post = text.pick([s[1] for s in spellings], k)
            unit = text.cat(pre, text.digits(ent.unit_no[ee]), post)
            with_unit = text.cat(unit, body) if position == "before" else text.cat(body, unit)
            body = text.where(um, with_unit, body)
        if code == "ID":
            rt = text.take(ent.rt_rw, ee)
            shown_rt = ~text.is_null(rt) & (rng.random(m) < 0.7)
            body = text.where(shown_rt, text.cat(body, ", RT/RW ", rt), body)
        line = text.put(line, rows, body)

    cs = cities()
    city = cs.names.pick(rng, ent.city[e], style.canon_city)
    region = cs.regions.pick(rng, ent.city[e], 0.7)
    postcode = text.take(ent.postcode, e)
    plus4 = text.take(ent.plus4, e)
    zip4 = ~text.is_null(plus4) & (rng.random(n) < style.zip4)
    postcode = text.where(zip4, text.cat(postcode, "-", plus4), postcode)
    gb = (country == COUNTRY_INDEX["GB"]) & (rng.random(n) < style.gb_no_space)
    postcode = text.replace_masked(postcode, gb, [(" ", "")])

    upper = caps & (rng.random(n) < 0.7)
    line = text.map_masked(line, upper, text.upper)
    city = text.map_masked(city, upper, text.upper)
    has_line = rng.random(n) < style.address
    one_line = has_line & (rng.random(n) < style.one_line_address)
    if one_line.any():  # "12 George St, Sydney NSW 2000" with the separate fields left empty
        tail = text.join_present([city, region, postcode])
        line = text.where(one_line, text.cat(line, ", ", tail), line)
    line = text.put(line, ~has_line, None)
    out = {"address": line}
    for name, col, rate in (
        ("city", city, style.city),
        ("region", region, style.region),
        ("postcode", postcode, style.postcode),
    ):
        out[name] = text.put(col, one_line | (rng.random(n) >= rate), None)
    return out


def _country(rng: np.random.Generator, ent: Entities, e: np.ndarray, style: Style) -> Text:
    n = len(e)
    out = text.nulls(n)
    country = ent.country[e]
    erp = style.domain == 0.0  # the ERP has no separate domain field
    for c, code in enumerate(vocab.COUNTRIES):
        rows = country == c
        options = vocab.COUNTRY_NAMES[code]
        w = np.array([o[2] if erp else o[1] for o in options], float)
        k = text.choose(rng, w / w.sum(), int(rows.sum()))
        out = text.put(out, rows, text.pick([o[0] for o in options], k))
    return text.put(out, rng.random(n) >= style.country, None)


# --- tax ids (ERP only) ---------------------------------------------------------------------------


@functools.cache
def _tax_templates() -> dict[str, tuple[tuple[list[str | tuple[int, int]], float], ...]]:
    out: dict[str, tuple[tuple[list[str | tuple[int, int]], float], ...]] = {}
    for code, forms in vocab.TAX_FORMS.items():
        parsed: list[tuple[list[str | tuple[int, int]], float]] = []
        for template, w in forms:
            pieces: list[str | tuple[int, int]] = []
            pos = 0
            for run in re.findall(r"#+|[^#]+", template):
                if run[0] == "#":
                    pieces.append((pos, pos + len(run)))
                    pos += len(run)
                else:
                    pieces.append(run)
            parsed.append((pieces, float(w)))
        out[code] = tuple(parsed)
    return out


def tax_ids(rng: np.random.Generator, ent: Entities, recs: Records, present: float) -> Text:
    """Tax ids as the ERP holds them: spelled one of the country's ways, missing for some.

    Whether the id is recorded is mostly decided per entity, so duplicates usually share it.
    """
    e = recs.entity
    n = len(e)
    per_entity = rng.random(ent.n) < present
    has = np.where(rng.random(n) < 0.9, per_entity[e], rng.random(n) < present)
    digits = text.take(ent.tax_digits, e)
    country = ent.country[e]
    out = text.nulls(n)
    for c, code in enumerate(vocab.COUNTRIES):
        forms = _tax_templates()[code]
        k = np.full(n, -1)
        rows = (country == c) & has
        k[rows] = text.choose(rng, text.weights(forms), int(rows.sum()))
        for i, (pieces, _) in enumerate(forms):
            m = k == i
            if not m.any():
                continue
            d = digits.filter(pa.array(m))
            parts = [p if isinstance(p, str) else text.slice_text(d, p[0], p[1]) for p in pieces]
            out = text.put(out, m, text.cat(*parts))
    return out


def owners(rng: np.random.Generator, country: np.ndarray, blank: float) -> Text:
    n = len(country)
    out = text.nulls(n)
    for c, code in enumerate(vocab.COUNTRIES):
        rows = country == c
        reps = vocab.OWNERS[code]
        out = text.put(out, rows, text.pick(reps, rng.integers(0, len(reps), rows.sum())))
    return text.put(out, rng.random(n) < blank, None)
