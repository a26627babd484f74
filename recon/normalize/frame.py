"""One call that normalizes a canonical ``crm_companies`` or ``erp_customers`` frame for matching.

Tax ids (``normalize_tax_ids``) are compared as capitals and digits only. Labels typed into the
field ("VAT:", "ABN", "NPWP") are dropped. A VAT number's country prefix is dropped when it is the
record's country's VAT prefix (GB for GB, EL for GR, CHE for CH), or, for a record without a
country, when it is any VAT prefix followed by a digit: "GB 123 4567 89" = "123456789".
An Indonesian NPWP "01.234.567.8-901.000" becomes "012345678901000"; its 16-digit form for
companies (a leading 0, used since 2024) loses that 0, so both forms compare equal.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Literal

import pandas as pd

from recon.normalize.addresses import normalize_addresses
from recon.normalize.countries import to_country_code
from recon.normalize.domains import company_domain
from recon.normalize.names import (
    ARROW_TEXT,
    as_text,
    cached_for,
    expand,
    fold_text,
    normalize_names,
    resolve_rules,
    unique_codes,
)
from recon.normalize.phones import normalize_phones
from recon.schema import TABLES, TEXT_DTYPE

if TYPE_CHECKING:
    from recon.normalize.rules import NormalizeRules

log = logging.getLogger(__name__)

COLUMNS = (
    "record_id",
    "system",
    "name",
    "name_norm",
    "name_core",
    "name_tokens",
    "legal_form",
    "domain",
    "domain_source",
    "freemail",
    "address_norm",
    "street_number",
    "unit",
    "postcode_norm",
    "postcode_full",
    "city_norm",
    "country_code",
    "phone_e164",
    "tax_id_norm",
)

_MIN_TAX_DIGITS = 6  # a prefix is only dropped when a real number remains


def _tax_labels(rules: NormalizeRules) -> str | None:
    labels = {re.sub("[^A-Z0-9]", "", label.upper()) for label in rules.text.tax_ids.labels}
    labels.discard("")
    if not labels:
        return None
    return "|".join(sorted(labels, key=lambda x: (-len(x), x)))


def _tax_ids(values: pd.Series, country: pd.Series, rules: NormalizeRules) -> pd.Series:
    labels = cached_for(rules, "tax_labels", _tax_labels)
    prefixes = rules.text.tax_ids.vat_prefixes
    text = fold_text(values).str.upper().str.replace("[^A-Z0-9]", "", regex=True)
    if labels:
        text = text.str.replace(f"^(?:{labels})([A-Z]{{0,3}}[0-9])", r"\1", regex=True)
        text = text.str.replace(f"([0-9])(?:{labels})$", r"\1", regex=True)

    def drop(rows: pd.Series, prefix_pattern: str) -> pd.Series:
        stripped = rows.str.replace(f"^(?:{prefix_pattern})([0-9])", r"\1", regex=True)
        enough = stripped.str.count("[0-9]") >= _MIN_TAX_DIGITS
        return stripped.where(enough.fillna(False), rows)

    country = as_text(country)
    for code, prefix in prefixes.items():
        rows = (country == code).fillna(False).to_numpy(bool)
        if rows.any():
            text[rows] = drop(text[rows], re.escape(prefix))
    unknown = country.isna().to_numpy()
    if unknown.any() and prefixes:
        any_prefix = "|".join(sorted({re.escape(p) for p in prefixes.values()}, key=len)[::-1])
        text[unknown] = drop(text[unknown], any_prefix)
    indonesia = ((country == "ID") & text.str.fullmatch("0[0-9]{15}")).fillna(False)
    text = text.where(~indonesia.to_numpy(bool), text.str.slice(1))
    no_number = ~text.str.contains("[1-9]", regex=True).fillna(False)
    return text.mask(no_number)


def normalize_tax_ids(
    tax_ids: pd.Series, countries: pd.Series | None = None, rules: NormalizeRules | None = None
) -> pd.Series:
    """Comparable tax ids (see the module docstring); NA when there is no number in the value."""
    rules = resolve_rules(rules)
    text = as_text(tax_ids)
    if countries is None:
        country = pd.Series(pd.NA, index=text.index, dtype=ARROW_TEXT)
    else:
        country = as_text(to_country_code(countries, rules))
        country.index = text.index
    codes, first = unique_codes(text, country)
    distinct = _tax_ids(text.iloc[first], country.iloc[first], rules)
    return expand(distinct, codes, tax_ids.index).astype(TEXT_DTYPE)


def normalize_records(
    frame: pd.DataFrame, system: Literal["crm", "erp"], rules: NormalizeRules | None = None
) -> pd.DataFrame:
    """Comparison keys for every CRM company or ERP customer, one row per record (same index).

    Takes a canonical ``crm_companies`` (``system="crm"``) or ``erp_customers`` (``"erp"``) frame;
    optional columns the frame lacks give NA (the ERP has no ``domain``, the CRM no ``tax_id``).
    Returns the columns in ``COLUMNS``: record_id, system, name, the name keys, domain, address
    parts, country_code, phone_e164 and tax_id_norm.
    """
    if system not in ("crm", "erp"):
        raise ValueError(f'system must be "crm" or "erp", not {system!r}')
    rules = resolve_rules(rules)
    spec = TABLES["crm_companies" if system == "crm" else "erp_customers"]
    missing = [c for c in spec.required if c not in frame.columns]
    if missing:
        raise ValueError(f"{spec.name} frame lacks required column(s): {', '.join(missing)}")
    # Positions, not labels, tie the parts together; the caller's index is put back at the end.
    work = frame.reset_index(drop=True)
    index = work.index

    def column(name: str) -> pd.Series:
        if name in work.columns:
            return as_text(work[name])
        return pd.Series(pd.NA, index=index, dtype=ARROW_TEXT)

    log.debug("normalizing %d %s records", len(frame), system)
    country = to_country_code(column("country"), rules)
    names = normalize_names(work["name"], country, rules)
    domains = company_domain(
        website=column("website"), email=column("email"), domain=column("domain"), rules=rules
    )
    address_column = "address" if system == "crm" else "billing_address"
    addresses = normalize_addresses(
        column(address_column), column("city"), column("postcode"), country, rules
    )
    out = pd.concat(
        [
            pd.DataFrame(
                {
                    "record_id": column(spec.key),
                    "system": pd.Series(system, index=index, dtype=ARROW_TEXT),
                    "name": column("name"),
                },
                index=index,
            ),
            names,
            domains,
            addresses.drop(columns="country_code"),
            pd.DataFrame(
                {
                    "country_code": country,
                    "phone_e164": normalize_phones(column("phone"), country),
                    "tax_id_norm": normalize_tax_ids(column("tax_id"), country, rules),
                },
                index=index,
            ),
        ],
        axis=1,
    )
    out = out[list(COLUMNS)]
    out.index = frame.index
    return out.astype({c: TEXT_DTYPE for c in COLUMNS if c != "freemail"})
