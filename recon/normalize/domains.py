"""Web domains from websites, e-mails and domain fields → one registrable domain per record.

"https://www.majujaya.co.id/about?x=1", "WWW.MAJUJAYA.CO.ID" and "Finance <finance@majujaya.co.id>"
all give "majujaya.co.id": the registrable domain (one label under the public suffix), found with
tldextract's bundled copy of the Public Suffix List. Internationalized domains are kept in Unicode
("xn--mller-kva.de" → "müller.de"), so both spellings compare equal.

Free-mail and ISP domains (rules/normalize.yaml ``freemail_domains``) say nothing about which
company a record is: such a domain is never used, and ``freemail`` flags the record.
"""

from __future__ import annotations

import contextlib
import functools
import unicodedata
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import tldextract

from recon.normalize.names import (
    ARROW_TEXT,
    as_text,
    blank_to_na,
    cached_for,
    from_arrow,
    on_distinct,
    resolve_rules,
    to_arrow,
)
from recon.schema import BOOL_DTYPE, TEXT_DTYPE

if TYPE_CHECKING:
    from recon.normalize.rules import NormalizeRules

SOURCES = ("domain", "website", "email")

# Each step a regex replacement over all distinct values at once (RE2, in pyarrow).
_HOST_STEPS = (
    ("[。．｡]", "."),  # ideographic and full-width full stops in internationalized domains
    ("^mailto:", ""),
    ("^[\\t\\n\\r ,;|]+", ""),
    ("(?s)[\\t\\n\\r ,;|].*", ""),  # the first of several: "acme.com; acme.co.id"
    ("^[a-z][a-z0-9+.-]*:(?://)?", ""),  # scheme
    ("^/+", ""),
    ("(?s)[/?#\\\\].*", ""),  # path, query, fragment
    ("^.*@", ""),  # user:password@
    (":[0-9]*$", ""),  # port
    ("^www[0-9]?\\.", ""),  # never part of a registrable domain; fewer distinct hosts to look up
)
_EMAIL_HOST = "@(?P<host>[^\\t\\n\\r <>;,@/?]+)"


@functools.cache
def extractor() -> tldextract.TLDExtract:
    """tldextract on its bundled Public Suffix List snapshot: no download, no cache on disk.

    ``suffix_list_urls=()`` turns fetching off; ``cache_dir=None`` keeps it from writing a cache.
    Private suffixes (blogspot.com, myshopify.com) count, so two shops there stay two domains.
    """
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


def _registrable(host: str) -> str | None:
    """Registrable domain of a cleaned host name, or None (an IP, "localhost", no public suffix)."""
    if not host or "." not in host:
        return None
    if not host.isascii():
        host = unicodedata.normalize("NFKC", host).lower()
    if "xn--" in host:
        with contextlib.suppress(UnicodeError, ValueError):
            host = host.encode("ascii").decode("idna")
    found = extractor()(host).top_domain_under_public_suffix
    return found or None


def _hosts(values: pd.Series) -> pd.Series:
    """The host part of URL-ish text, vectorized: scheme, user, port, path and "www." removed."""
    arr = to_arrow(as_text(values).str.strip().str.lower())
    for pattern, replacement in _HOST_STEPS:
        arr = pc.replace_substring_regex(arr, pattern, replacement)
    arr = pc.utf8_trim(arr, ".")
    return blank_to_na(from_arrow(arr, values.index))


def _registrable_of_hosts(hosts: pd.Series) -> pd.Series:
    # tldextract answers one host at a time, in Python: ask once per distinct host, not per row.
    def lookup(distinct: pd.Series) -> pd.Series:
        found = [None if pd.isna(h) else _registrable(str(h)) for h in distinct]
        return pd.Series(found, index=distinct.index, dtype=ARROW_TEXT)

    return on_distinct(lookup, hosts)


def domain_from_website(websites: pd.Series) -> pd.Series:
    """Registrable domain of each website ("http://shop.acme.co.uk/x" → "acme.co.uk"), else NA."""
    found = on_distinct(lambda v: _registrable_of_hosts(_hosts(v)), as_text(websites))
    return found.astype(TEXT_DTYPE)


def _email_domains(emails: pd.Series) -> pd.Series:
    found = pc.extract_regex(to_arrow(emails.str.lower()), _EMAIL_HOST)
    host = pc.if_else(pc.is_valid(found), pc.struct_field(found, "host"), None)
    return _registrable_of_hosts(_hosts(from_arrow(host.cast(pa.large_string()), emails.index)))


def domain_from_email(emails: pd.Series) -> pd.Series:
    """Registrable domain of each e-mail address ("Finance <finance@majujaya.co.id>"), else NA.

    Of several addresses in one field the first counts; a value without "@" gives NA.
    """
    return on_distinct(_email_domains, as_text(emails)).astype(TEXT_DTYPE)


def _freemail(rules: NormalizeRules) -> frozenset[str]:
    listed = pd.Series(list(rules.text.freemail_domains), dtype=ARROW_TEXT)
    as_registrable = domain_from_website(listed).dropna()
    return frozenset(rules.text.freemail_domains) | frozenset(as_registrable)


def company_domain(
    website: pd.Series | None = None,
    email: pd.Series | None = None,
    domain: pd.Series | None = None,
    rules: NormalizeRules | None = None,
) -> pd.DataFrame:
    """One company domain per record: the domain field first, then the website, then the e-mail.

    Columns: ``domain`` (NA when none), ``domain_source`` ("domain", "website" or "email"), and
    ``freemail``: True when every domain the record gave was a free-mail or ISP domain (so
    ``domain`` is NA for that reason rather than because none was given).
    """
    free = cached_for(resolve_rules(rules), "freemail", _freemail)
    given = [s for s in (domain, website, email) if s is not None]
    if not given:
        raise ValueError("company_domain needs at least one of website, email, domain")
    index = given[0].index
    n = len(index)
    candidates = {
        "domain": domain_from_website(domain) if domain is not None else None,
        "website": domain_from_website(website) if website is not None else None,
        "email": domain_from_email(email) if email is not None else None,
    }
    chosen = np.full(n, None, dtype=object)
    source = np.full(n, None, dtype=object)
    saw_free = np.zeros(n, dtype=bool)
    for name in SOURCES:
        found = candidates[name]
        if found is None:
            continue
        values = found.to_numpy(dtype=object, na_value=None)
        present = found.notna().to_numpy()
        is_free = present & found.isin(list(free)).fillna(False).to_numpy(bool)
        saw_free |= is_free
        take = present & ~is_free & (source == None)  # noqa: E711 (element-wise on an object array)
        chosen[take] = values[take]
        source[take] = name
    return pd.DataFrame(
        {
            "domain": pd.array(chosen, dtype=TEXT_DTYPE),
            "domain_source": pd.array(source, dtype=TEXT_DTYPE),
            "freemail": pd.array(saw_free & (source == None), dtype=BOOL_DTYPE),  # noqa: E711
        },
        index=index,
    )
