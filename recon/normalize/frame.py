"""One call that normalizes a canonical ``crm_companies`` or ``erp_customers`` frame for matching.

Tax ids (``normalize_tax_ids``) are compared as capitals and digits only. Labels typed into the
field ("VAT:", "ABN", "NPWP") are dropped. A VAT number's country prefix is dropped when it is the
record's country's VAT prefix (GB for GB, EL for GR, CHE for CH), or, for a record without a
country, when it is any VAT prefix followed by a digit: "GB 123 4567 89" = "123456789".
An Indonesian NPWP "01.234.567.8-901.000" becomes "012345678901000"; its 16-digit form for
companies (a leading 0, used since 2024) loses that 0, so both forms compare equal.

Every text column is cut to its first ``MAX_COMPARED_CHARS`` characters before it is normalized
(``cap_text``): what a record is compared on then costs the same however long a cell is.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.normalize.addresses import normalize_addresses
from recon.normalize.countries import to_country_code
from recon.normalize.domains import company_domain, domain_from_website, is_freemail
from recon.normalize.kernels import delete_ascii, where_some
from recon.normalize.names import (
    ARROW_TEXT,
    as_text,
    cached_for,
    expand,
    fold_text,
    from_arrow,
    normalize_names,
    resolve_rules,
    to_arrow,
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
    "name_generic",
    "legal_form",
    "name_marker",
    "name_source",
    "name_alt",
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

# Text longer than this is cut to its first MAX_COMPARED_CHARS characters before it is
# normalized, blocked and compared. Real values are far shorter (a CRM account name holds 255
# characters, an ERP name 4 × 35 or 100, a street line 35 to 255), so a longer value is a paste or
# export error. Blocking and comparing cost grows with a value's length: one 1 MB name made
# blocking alone take 34 s, a 5 MB name and address ran the matcher out of memory.
MAX_COMPARED_CHARS = 500
# The text columns of a company or customer that are capped (and read by normalization).
COMPARED_COLUMNS = (
    "name",
    "address",
    "billing_address",
    "city",
    "region",
    "postcode",
    "country",
    "website",
    "email",
    "domain",
    "phone",
    "tax_id",
)

# From this many records on, normalize_records runs its parts on two threads.
_THREADED_ROWS = 50_000
_MIN_TAX_DIGITS = 6  # a prefix is only dropped when a real number remains
_NOT_CAPITAL_OR_DIGIT = "".join(
    chr(c) for c in range(128) if not (chr(c).isdigit() or "A" <= chr(c) <= "Z")
)


def _tax_labels(rules: NormalizeRules) -> str | None:
    labels = {re.sub("[^A-Z0-9]", "", label.upper()) for label in rules.text.tax_ids.labels}
    labels.discard("")
    if not labels:
        return None
    return "|".join(sorted(labels, key=lambda x: (-len(x), x)))


def _tax_ids(values: pd.Series, country: pd.Series, rules: NormalizeRules) -> pd.Series:
    labels = cached_for(rules, "tax_labels", _tax_labels)
    prefixes = rules.text.tax_ids.vat_prefixes
    # Capitals and digits only: other ASCII characters go byte by byte, the rest by pattern.
    arr = pc.utf8_upper(to_arrow(fold_text(values)))
    special = ~pc.fill_null(pc.string_is_ascii(arr), True).to_numpy(zero_copy_only=False)
    arr = where_some(arr, special, lambda v: pc.replace_substring_regex(v, "[^A-Z0-9]", ""))
    arr = delete_ascii(arr, _NOT_CAPITAL_OR_DIGIT)
    if labels:
        arr = _replace(arr, f"^(?:{labels})([A-Z]{{0,3}}[0-9])", r"\1")
        arr = _replace(arr, f"([0-9])(?:{labels})$", r"\1")

    def drop(prefix_pattern: str) -> Callable[[pa.Array], pa.Array]:
        def dropped(rows: pa.Array) -> pa.Array:
            stripped = pc.replace_substring_regex(rows, f"^(?:{prefix_pattern})([0-9])", r"\1")
            enough = pc.match_substring_regex(stripped, f"^(?:[^0-9]*[0-9]){{{_MIN_TAX_DIGITS}}}")
            return pc.if_else(pc.fill_null(enough, False), stripped, rows)

        return dropped

    codes = to_arrow(country)
    present = set(pc.unique(codes).drop_null().to_pylist())
    for code, prefix in prefixes.items():
        if code in present:
            arr = where_some(arr, _mask(pc.equal(codes, code)), drop(re.escape(prefix)))
    unknown = _mask(pc.is_null(codes))
    if unknown.any() and prefixes:
        any_prefix = "|".join(sorted({re.escape(p) for p in prefixes.values()}, key=len)[::-1])
        arr = where_some(arr, unknown, drop(any_prefix))
    if "ID" in present:
        indonesia = _mask(pc.equal(codes, "ID")) & _mask(
            pc.match_substring_regex(arr, "^0[0-9]{15}$")
        )
        arr = where_some(arr, indonesia, lambda v: pc.utf8_slice_codeunits(v, 1))
    no_number = ~_mask(pc.match_substring_regex(arr, "[1-9]"))
    arr = pc.if_else(pa.array(no_number), pa.scalar(None, pa.large_string()), arr)
    return from_arrow(arr, values.index)


def _mask(values: pa.Array) -> np.ndarray:
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


def _replace(arr: pa.Array, pattern: str, replacement: str) -> pa.Array:
    """``pattern`` replaced by ``replacement``, run on the values it matches."""
    rows = _mask(pc.match_substring_regex(arr, pattern))
    return where_some(arr, rows, lambda v: pc.replace_substring_regex(v, pattern, replacement))


def cap_text(values: pd.Series, limit: int = MAX_COMPARED_CHARS) -> tuple[pd.Series, int]:
    """``values`` (as text) with each value longer than ``limit`` characters cut to its first
    ``limit``, and how many were cut."""
    text = as_text(values)
    arr = to_arrow(text)
    long = _mask(pc.greater(pc.utf8_length(arr), limit))
    if not long.any():
        return text, 0
    cut = where_some(arr, long, lambda v: pc.utf8_slice_codeunits(v, 0, limit))
    return from_arrow(cut, text.index), int(long.sum())


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


def _domain_from_name(
    domains: pd.DataFrame, names: pd.DataFrame, name: pd.Series, rules: NormalizeRules
) -> pd.DataFrame:
    """``domains`` with a record that has none given the domain its name is ("acme.com.au", as
    HubSpot names a company after an e-mail's domain), ``domain_source`` "name"; never a
    free-mail domain."""
    rows = np.flatnonzero(
        (names["name_source"] == "domain").fillna(False).to_numpy(dtype=bool)
        & domains["domain"].isna().to_numpy(dtype=bool)
    )
    if not rows.size:
        return domains
    found = domain_from_website(name.iloc[rows])
    use = found.notna().to_numpy(dtype=bool) & ~is_freemail(found, rules)
    if not use.any():
        return domains
    out = domains.copy()
    at = out.index[rows[use]]
    out.loc[at, "domain"] = found[use].to_numpy()
    out.loc[at, "domain_source"] = "name"
    return out


def normalize_records(
    frame: pd.DataFrame, system: Literal["crm", "erp"], rules: NormalizeRules | None = None
) -> pd.DataFrame:
    """Comparison keys for every CRM company or ERP customer, one row per record (same index).

    Takes a canonical ``crm_companies`` (``system="crm"``) or ``erp_customers`` (``"erp"``) frame;
    optional columns the frame lacks give NA (the ERP has no ``domain``, the CRM no ``tax_id``).
    Returns the columns in ``COLUMNS``: record_id, system, name, the name keys, domain, address
    parts, country_code, phone_e164 and tax_id_norm. A record without a domain whose name is a
    web domain takes that domain, with ``domain_source`` "name".
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

    cut: dict[str, int] = {}

    def column(name: str) -> pd.Series:
        if name in work.columns:
            return as_text(work[name])
        return pd.Series(pd.NA, index=index, dtype=ARROW_TEXT)

    def compared(name: str) -> pd.Series:
        """The column as normalization reads it: capped at ``MAX_COMPARED_CHARS``."""
        if name not in work.columns:
            return column(name)
        text, n = cap_text(work[name])
        if n:
            cut[name] = n
        return text

    log.debug("normalizing %d %s records", len(frame), system)
    country = to_country_code(compared("country"), rules)
    address_column = "address" if system == "crm" else "billing_address"
    # Independent parts, most work first. Their time goes mostly to Arrow and numpy kernels,
    # which run without the GIL, so two threads share a large frame's work.
    parts: dict[str, Callable[[], pd.DataFrame | pd.Series]] = {
        "addresses": lambda: normalize_addresses(
            compared(address_column),
            compared("city"),
            compared("postcode"),
            country,
            rules,
            region=compared("region"),
        ),
        "names": lambda: normalize_names(compared("name"), country, rules),
        "domains": lambda: company_domain(
            website=compared("website"),
            email=compared("email"),
            domain=compared("domain"),
            rules=rules,
        ),
        "phones": lambda: normalize_phones(compared("phone"), country),
        "tax_ids": lambda: normalize_tax_ids(compared("tax_id"), country, rules),
    }
    if len(work) >= _THREADED_ROWS:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="recon-normalize") as pool:
            running = {name: pool.submit(part) for name, part in parts.items()}
            done = {name: future.result() for name, future in running.items()}
    else:
        done = {name: part() for name, part in parts.items()}
    domains = _domain_from_name(done["domains"], done["names"], compared("name"), rules)
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
            done["names"],
            domains,
            done["addresses"].drop(columns="country_code"),
            pd.DataFrame(
                {
                    "country_code": country,
                    "phone_e164": done["phones"],
                    "tax_id_norm": done["tax_ids"],
                },
                index=index,
            ),
        ],
        axis=1,
    )
    if cut:
        log.warning(
            "%s: %s longer than %d characters; only their first %d are compared",
            spec.name,
            ", ".join(f"{n:,} {name}" for name, n in sorted(cut.items())),
            MAX_COMPARED_CHARS,
            MAX_COMPARED_CHARS,
        )
    out = out[list(COLUMNS)]
    out.index = frame.index
    return out.astype({c: TEXT_DTYPE for c in COLUMNS if c != "freemail"})
