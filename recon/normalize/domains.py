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
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import tldextract

from recon.normalize.kernels import as_array, scatter, spans, where_some
from recon.normalize.names import (
    ARROW_TEXT,
    as_text,
    cached_for,
    from_arrow,
    on_distinct,
    resolve_rules,
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
# Hosts the vectorized lookup reads exactly as tldextract: lower-case ASCII labels (no "xn--",
# which tldextract decodes to Unicode first), at least two of them.
_PLAIN_HOST = r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)+$"
_SIMPLE_URL = r"^(?:https?://)?[a-z0-9.-]+(?:[/?#][^\t\n\r ,;|]*)?$"
_SIMPLE_EMAIL = r"^[^@]*@[a-z0-9.-]+$"
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
    arr = pc.utf8_lower(pc.utf8_trim_whitespace(as_array(values)))
    # Most values are "https://www.acme.com/about" or "acme.com": for those only the scheme, the
    # path and "www." can apply, and run on the few values that have them. The rest take every
    # step in _HOST_STEPS.
    simple = _mask(pc.match_substring_regex(arr, _SIMPLE_URL))
    arr = where_some(arr, ~simple & _mask(pc.is_valid(arr)), _all_host_steps)
    for scheme in ("https://", "http://"):
        has = simple & _mask(pc.starts_with(arr, scheme))
        arr = where_some(arr, has, functools.partial(pc.utf8_slice_codeunits, start=len(scheme)))
    path = simple & _mask(pc.match_substring_regex(arr, "[/?#]"))
    arr = where_some(arr, path, lambda v: pc.replace_substring_regex(v, "[/?#].*", ""))
    www = simple & _mask(pc.starts_with(arr, "www"))
    arr = where_some(arr, www, lambda v: pc.replace_substring_regex(v, _HOST_STEPS[-1][0], ""))
    arr = pc.utf8_trim(arr, ".")
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.large_string()), arr)
    return from_arrow(arr, values.index)


def _all_host_steps(arr: pa.Array) -> pa.Array:
    for pattern, replacement in _HOST_STEPS:
        arr = pc.replace_substring_regex(arr, pattern, replacement)
    return arr


class _Edges:
    """Trie edges as sorted integer keys: parent node × label number."""

    def __init__(self, parent: np.ndarray, label: np.ndarray, child: np.ndarray, width: int):
        self.width = width
        keys = parent * width + label
        order = np.argsort(keys)
        self.keys, self.child = keys[order], child[order]

    def find(self, node: np.ndarray, label: np.ndarray) -> np.ndarray:
        """The child of each node under each label number (-1: none), or -1."""
        if not len(self.keys):
            return np.full(len(node), -1, dtype=np.int64)
        key = node * self.width + label
        at = np.minimum(np.searchsorted(self.keys, key), len(self.keys) - 1)
        return np.where((label >= 0) & (self.keys[at] == key), self.child[at], -1)


@dataclass(frozen=True)
class _SuffixTrie:
    """tldextract's trie of Public Suffix List labels (read from the right), as arrays.

    Node 0 is the root; labels are numbered by their place in ``labels``. ``rule[node]``: a rule
    ends there; ``wildcard[node]``: any label under it is a suffix ("*.ck"); ``exceptions``:
    the labels a wildcard does not cover ("!www.ck": www.ck is not a suffix).
    """

    labels: pa.Array
    edges: _Edges
    exceptions: _Edges
    rule: np.ndarray
    wildcard: np.ndarray
    depth: int


@functools.cache
def _suffix_trie() -> _SuffixTrie:
    rules = extractor().tlds  # public + private suffixes, as extractor() reads them
    edges: dict[tuple[int, str], int] = {}
    ends: list[int] = []
    for suffix in rules:
        node = 0
        for part in reversed(suffix.split(".")):
            node = edges.setdefault((node, part), len(edges) + 1)
        ends.append(node)
    names = sorted({label.removeprefix("!") for _, label in edges})
    number = {label: i for i, label in enumerate(names)}
    parent = np.array([p for p, _ in edges], dtype=np.int64)
    label = np.array([number[lab.removeprefix("!")] for _, lab in edges], dtype=np.int64)
    child = np.arange(1, len(edges) + 1, dtype=np.int64)
    bang = np.array([lab.startswith("!") for _, lab in edges], dtype=bool)
    star = np.array([lab == "*" for _, lab in edges], dtype=bool)
    rule = np.zeros(len(edges) + 1, dtype=bool)
    rule[ends] = True
    wildcard = np.zeros(len(edges) + 1, dtype=bool)
    wildcard[parent[star]] = True
    width = len(names) + 1
    return _SuffixTrie(
        labels=pa.array(names, pa.large_string()),
        edges=_Edges(parent[~bang], label[~bang], child[~bang], width),
        exceptions=_Edges(parent[bang], label[bang], child[bang], width),
        rule=rule,
        wildcard=wildcard,
        depth=max((r.count(".") + 1 for r in rules), default=1),
    )


def _mask(values: pa.Array) -> np.ndarray:
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


def _fast_registrable(hosts: pa.Array) -> pa.Array:
    """The registrable domain of plain ASCII hosts (``_PLAIN_HOST``), as tldextract finds it.

    All hosts walk tldextract's trie together, one label (from the right) per step: the walk
    goes on while the labels read so far are a trie path, the longest rule read is the public
    suffix, and a label that leaves the trie under a wildcard ends the walk inside the suffix
    (outside it for an exception). The registrable domain is the suffix with one more label;
    none when no suffix is found or the host is nothing but a suffix.
    """
    trie = _suffix_trie()
    n = len(hosts)
    lists = pc.split_pattern(hosts, ".")
    flat = pc.list_flatten(lists)
    end = lists.offsets.to_numpy().astype(np.int64)
    end = end[1:] - end[0]
    labels = pc.list_value_length(lists).to_numpy().astype(np.int64)

    suffix = np.zeros(n, dtype=np.int64)
    node = np.zeros(n, dtype=np.int64)
    walking = np.arange(n)
    for depth in range(1, trie.depth + 2):
        walking = walking[labels[walking] >= depth]
        if not walking.size:
            break
        found = pc.index_in(flat.take(pa.array(end[walking] - depth)), value_set=trie.labels)
        label = pc.fill_null(found, -1).to_numpy().astype(np.int64)
        child = trie.edges.find(node[walking], label)
        inside = child >= 0
        left = walking[~inside]
        wild = trie.wildcard[node[left]]
        if wild.any():
            exception = trie.exceptions.find(node[left][wild], label[~inside][wild]) >= 0
            # "!city.kawasaki.jp": the exception's parent is the suffix, so the label is not in it
            suffix[left[wild]] = np.where(exception, depth - 1, depth)
        walking, child = walking[inside], child[inside]
        node[walking] = child
        suffix[walking[trie.rule[child]]] = depth

    found_rows = np.flatnonzero((suffix > 0) & (suffix < labels))
    keep = suffix[found_rows] + 1
    at, _ = spans(end[found_rows] - keep, end[found_rows])
    offsets = np.zeros(len(found_rows) + 1, dtype=np.int64)
    np.cumsum(keep, out=offsets[1:])
    joined = pa.LargeListArray.from_arrays(pa.array(offsets), flat.take(pa.array(at)))
    registrable = pc.binary_join(joined, pa.scalar(".", pa.large_string()))
    return scatter(n, found_rows, registrable)


def _registrable_of_hosts(hosts: pd.Series) -> pd.Series:
    """Registrable domain per host: plain ASCII hosts all at once (``_fast_registrable``), the
    rest (internationalized, odd characters) through tldextract, once per distinct host."""
    arr = as_array(hosts)
    plain = _mask(pc.match_substring_regex(arr, _PLAIN_HOST)) & ~_mask(
        pc.match_substring(arr, "xn--")
    )
    found = where_some(pa.nulls(len(arr), pa.large_string()), plain, _fast_registrable, arr)
    rest = np.flatnonzero(~plain & _mask(pc.is_valid(arr)))
    if rest.size:
        asked: dict[str, str | None] = {}
        answers = []
        for host in arr.take(pa.array(rest)).to_pylist():
            if host not in asked:
                asked[host] = _registrable(host)
            answers.append(asked[host])
        found = scatter(len(arr), rest, pa.array(answers, pa.large_string()), found)
    return from_arrow(found, hosts.index)


def domain_from_website(websites: pd.Series) -> pd.Series:
    """Registrable domain of each website ("http://shop.acme.co.uk/x" → "acme.co.uk"), else NA."""
    found = on_distinct(lambda v: _registrable_of_hosts(_hosts(v)), as_text(websites))
    return found.astype(TEXT_DTYPE)


def _email_domains(emails: pd.Series) -> pd.Series:
    arr = pc.utf8_lower(as_array(emails))
    # "name@acme.com": the host is what follows the "@"; other values take the full pattern.
    simple = _mask(pc.match_substring_regex(arr, _SIMPLE_EMAIL))
    host = where_some(
        pa.nulls(len(arr), pa.large_string()),
        simple,
        lambda v: pc.list_element(pc.split_pattern(v, "@", max_splits=1), 1),
        source=arr,
    )

    def pattern(v: pa.Array) -> pa.Array:
        found = pc.extract_regex(v, _EMAIL_HOST)
        return pc.if_else(pc.is_valid(found), pc.struct_field(found, "host"), None)

    host = where_some(host, ~simple & _mask(pc.is_valid(arr)), pattern, source=arr)
    return _registrable_of_hosts(_hosts(from_arrow(host, emails.index)))


def domain_from_email(emails: pd.Series) -> pd.Series:
    """Registrable domain of each e-mail address ("Finance <finance@majujaya.co.id>"), else NA.

    Of several addresses in one field the first counts; a value without "@" gives NA.
    """
    return on_distinct(_email_domains, as_text(emails)).astype(TEXT_DTYPE)


def _freemail(rules: NormalizeRules) -> frozenset[str]:
    listed = pd.Series(list(rules.text.freemail_domains), dtype=ARROW_TEXT)
    as_registrable = domain_from_website(listed).dropna()
    return frozenset(rules.text.freemail_domains) | frozenset(as_registrable)


def is_freemail(domains: pd.Series, rules: NormalizeRules | None = None) -> np.ndarray:
    """True where the registrable domain is a free-mail or ISP domain (``freemail_domains``)."""
    free = cached_for(resolve_rules(rules), "freemail", _freemail)
    values = as_array(as_text(domains).array)
    return _mask(pc.is_in(values, value_set=pa.array(sorted(free), pa.large_string())))


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
    chosen = pa.nulls(n, pa.large_string())
    source = pa.nulls(n, pa.large_string())
    free_list = pa.array(sorted(free), pa.large_string())
    saw_free = np.zeros(n, dtype=bool)
    for name in SOURCES:
        found = candidates[name]
        if found is None:
            continue
        values = as_array(found)
        present = _mask(pc.is_valid(values))
        is_free = present & _mask(pc.is_in(values, value_set=free_list))
        saw_free |= is_free
        take = pa.array(present & ~is_free & _mask(pc.is_null(source)))
        chosen = pc.if_else(take, values, chosen)
        source = pc.if_else(take, pa.scalar(name, pa.large_string()), source)
    return pd.DataFrame(
        {
            "domain": from_arrow(chosen, index).astype(TEXT_DTYPE),
            "domain_source": from_arrow(source, index).astype(TEXT_DTYPE),
            "freemail": pd.array(saw_free & _mask(pc.is_null(source)), dtype=BOOL_DTYPE),
        },
        index=index,
    )
