"""The country of a record whose country column is empty, read from what else it holds.

Four kinds of evidence, each naming a set of countries:

- a phone number in international form: the country its number belongs to (``phonenumbers``
  reads the area code too, so +1 212 is the US and +1 416 Canada);
- a web domain under a country's top-level domain: ``.de`` Germany, ``.co.id`` Indonesia,
  ``.co.uk`` the United Kingdom (``.com`` names none; nor do country domains used worldwide,
  ``generic_country_domains`` in rules/normalize.yaml, such as ``.io``);
- the legal form: its countries in rules/legal_forms.yaml (PT Indonesia; GmbH Germany, Austria
  or Switzerland);
- the city, when at least ``CITY_MIN_RECORDS`` records of that city name a country and all name
  the same one (the data's own gazetteer: "perth" is read as Australia only if no record puts a
  Perth elsewhere).

The record's country is the one country every piece of its evidence allows; none when they
disagree or leave several. Used where a country decides money, not matching: the VAT rate of
leakage and month-end; and the quality report offers it as the value for the empty column.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import phonenumbers

from recon.normalize.countries import ISO_ALPHA2
from recon.normalize.names import on_distinct

if TYPE_CHECKING:
    from recon.normalize.rules import NormalizeRules

CITY_MIN_RECORDS = 3
_TLD_COUNTRY = {"uk": "GB"}  # the one country domain that is not the ISO code


def _region(number: object) -> str | None:
    if pd.isna(number):
        return None
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(str(number)))
    except phonenumbers.NumberParseException:
        return None
    return region if region in ISO_ALPHA2 else None


def _phone_country(phones: pd.Series) -> pd.Series:
    """Country of each E.164 number (parsed once per distinct number); NA when none."""
    # the distinct numbers of records without a country: few, each parsed by libphonenumber
    found = on_distinct(lambda p: p.astype(object).map(_region), phones)
    return found.astype("string")


def _domain_country(domains: pd.Series, generic: frozenset[str]) -> pd.Series:
    tld = domains.astype("string").str.rsplit(".", n=1).str[-1].str.lower()
    code = tld.map(_TLD_COUNTRY).fillna(tld.str.upper())
    usable = (tld.str.len() == 2) & ~tld.isin(generic) & code.isin(ISO_ALPHA2)
    return code.where(usable.fillna(False)).astype("string")


def _city_country(city: pd.Series, country: pd.Series) -> pd.Series:
    """City → its one country among the records that name both (at least CITY_MIN_RECORDS)."""
    known = pd.DataFrame({"city": city, "country": country}).dropna()
    if known.empty:
        return pd.Series(pd.NA, index=city.index, dtype="string")
    per = known.groupby("city", observed=True)["country"].agg(["nunique", "first", "size"])
    one = per.loc[(per["nunique"] == 1) & (per["size"] >= CITY_MIN_RECORDS), "first"]
    return city.map(one).astype("string")


def infer_countries(records: pd.DataFrame, rules: NormalizeRules) -> pd.Series:
    """ISO code per record from its phone_e164, domain, legal_form and city_norm, for records
    whose country_code is NA; NA elsewhere and where the evidence is silent or disagrees."""
    out = pd.Series(pd.NA, index=records.index, dtype="string")
    todo = records["country_code"].isna().to_numpy(dtype=bool)
    if not todo.any():
        return out
    rows = records.loc[todo]
    generic = frozenset(w.lower() for w in rules.text.generic_country_domains)
    single = (  # evidence naming one country each
        _phone_country(rows["phone_e164"]),
        _domain_country(rows["domain"], generic),
        _city_country(records["city_norm"], records["country_code"]).loc[todo],
    )
    # (record position, candidate country) from each kind of evidence; a legal form names a set
    pos = np.arange(len(rows))
    parts = [pd.DataFrame({"r": pos, "c": v.to_numpy(dtype=object)}).dropna() for v in single]
    forms = {form.code: form.country for form in rules.legal_forms}
    legal = rows["legal_form"].astype("string")
    allowed = {text: _allowed(text.split(" "), forms) for text in legal.dropna().unique()}
    sets = pd.DataFrame({"r": pos, "c": legal.map(allowed).to_numpy(dtype=object)}).dropna()
    parts.append(sets.explode("c").dropna())
    kinds = pd.concat(
        [part.assign(k=i) for i, part in enumerate(parts)], ignore_index=True
    ).drop_duplicates()
    if kinds.empty:
        return out
    present = kinds.groupby("r")["k"].nunique()
    support = kinds.groupby(["r", "c"]).size().reset_index(name="n")
    support = support.loc[support["n"].to_numpy() == present.loc[support["r"]].to_numpy()]
    unique = support.groupby("r")["c"].agg(["size", "first"])
    unique = unique.loc[unique["size"] == 1, "first"]
    found = np.full(len(rows), None, dtype=object)
    found[unique.index.to_numpy()] = unique.to_numpy()
    out.loc[todo] = pd.array(found, dtype="string")
    return out


def _allowed(codes: list[str], forms: dict[str, tuple[str, ...]]) -> list[str] | None:
    """The countries every one of a record's legal forms allows ("PT TBK" → ID)."""
    sets = [set(forms[c]) for c in codes if c in forms]
    if not sets:
        return None
    return sorted(set.intersection(*sets)) or None
