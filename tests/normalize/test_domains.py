"""Domains from websites, e-mails and domain fields; free-mail handling; offline tldextract."""

from __future__ import annotations

import socket

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from recon.normalize import company_domain, default_rules, domain_from_email, domain_from_website
from recon.normalize import domains as domains_module

RULES = default_rules()


def values(series: pd.Series) -> list[str | None]:
    return [None if pd.isna(v) else v for v in series]


@pytest.mark.parametrize(
    ("website", "expected"),
    [
        ("https://www.majujaya.co.id/about?x=1", "majujaya.co.id"),
        ("majujaya.co.id", "majujaya.co.id"),
        ("WWW.ACME.COM.AU", "acme.com.au"),
        ("http://shop.acme.co.uk", "acme.co.uk"),
        ("acme.com/", "acme.com"),
        ("  acme.com.  ", "acme.com"),
        ("https://user:pw@www.acme.com:8443/path#top", "acme.com"),
        ("//cdn.acme.io/x.js", "acme.io"),
        ("mailto:info@acme.de", "acme.de"),
        ("acme.com; acme.co.id", "acme.com"),
        ("xn--mller-kva.de", "müller.de"),  # IDN in punycode ...
        ("https://MÜLLER.de/impressum", "müller.de"),  # ... and in Unicode compare equal
        ("acme.blogspot.com", "acme.blogspot.com"),  # private suffixes keep shops apart
        ("n/a", None),
        ("-", None),
        ("none", None),
        ("", None),
        (None, None),
        ("localhost", None),
        ("http://192.168.1.10:8080/", None),
    ],
)
def test_domain_from_website(website: str | None, expected: str | None) -> None:
    got = domain_from_website(pd.Series([website], dtype="string"))
    assert values(got) == [expected]


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("Finance <finance@majujaya.co.id>", "majujaya.co.id"),
        ("finance@MAJUJAYA.CO.ID", "majujaya.co.id"),
        ("mailto:ap@acme.co.uk", "acme.co.uk"),
        ("ap@sub.acme.com.au; sales@other.com", "acme.com.au"),
        ("joe@mail.yahoo.com", "yahoo.com"),
        ("not an e-mail", None),
        ("joe@", None),
        ("joe@localhost", None),
        (None, None),
    ],
)
def test_domain_from_email(email: str | None, expected: str | None) -> None:
    assert values(domain_from_email(pd.Series([email], dtype="string"))) == [expected]


def test_precedence_domain_then_website_then_email_and_freemail() -> None:
    got = company_domain(
        website=pd.Series(["acme.com", None, "gmail.com", None, "www.acme.com", None]),
        email=pd.Series(["x@other.com", "x@acme.de", "y@acme.co.id", "a@hotmail.com", None, None]),
        domain=pd.Series(["acme-group.com", None, None, "bigpond.net.au", "gmail.com", None]),
        rules=RULES,
    )
    assert values(got["domain"]) == [
        "acme-group.com",
        "acme.de",
        "acme.co.id",
        None,
        "acme.com",
        None,
    ]
    assert values(got["domain_source"]) == ["domain", "email", "email", None, "website", None]
    # freemail: the record gave domains, and all of them were free-mail or ISP domains.
    assert got["freemail"].tolist() == [False, False, False, True, False, False]
    assert str(got["freemail"].dtype) == "boolean"


@pytest.mark.parametrize(
    "address",
    [
        "someone@gmail.com",
        "x@googlemail.com",
        "x@yahoo.co.id",
        "x@bigpond.net.au",
        "x@t-online.de",
        "x@xtra.co.nz",
        "x@btinternet.com",
        "x@proton.me",
        "x@163.com",
        "x@telkom.net",
        "x@optusnet.com.au",
    ],
)
def test_freemail_is_never_company_evidence(address: str) -> None:
    got = company_domain(email=pd.Series([address]), rules=RULES)
    assert values(got["domain"]) == [None]
    assert got["freemail"].tolist() == [True]


def test_missing_inputs_are_allowed() -> None:
    got = company_domain(website=pd.Series(["acme.com"], index=[5]), rules=RULES)
    assert got.index.tolist() == [5]
    assert values(got["domain"]) == ["acme.com"]
    with pytest.raises(ValueError):
        company_domain(rules=RULES)


def test_extractor_is_configured_offline() -> None:
    extract = domains_module.extractor()
    assert tuple(extract.suffix_list_urls) == ()  # never fetches the Public Suffix List


def test_works_with_the_network_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[object] = []

    def no_network(*args, **kwargs):
        attempts.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    domains_module.extractor.cache_clear()  # build a fresh extractor with no network
    try:
        got = domain_from_website(pd.Series(["https://shop.acme.co.uk/x", "bbc.co.uk"]))
        assert values(got) == ["acme.co.uk", "bbc.co.uk"]
        assert attempts == []  # not even tried
    finally:
        domains_module.extractor.cache_clear()


def test_tldextract_is_asked_only_for_unusual_hosts_once_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    real = domains_module._registrable

    def counting(host: str) -> str | None:
        calls.append(host)
        return real(host)

    monkeypatch.setattr(domains_module, "_registrable", counting)
    websites = pd.Series(
        ["https://www.acme.com/a", "acme.com", "WWW.ACME.COM", "b.de", "MÜLLER.de", None] * 2000
    )
    got = domain_from_website(websites)
    assert values(got.iloc[:6]) == ["acme.com", "acme.com", "acme.com", "b.de", "müller.de", None]
    # Plain ASCII hosts are looked up all at once; an internationalized one through tldextract,
    # once per distinct host.
    assert calls == ["müller.de"]


# --- the vectorized lookup gives what tldextract gives --------------------------------------

RULES_PSL = sorted(domains_module.extractor().tlds)


def host_of(rule: str, labels: list[str]) -> str:
    """A host under a Public Suffix List rule ("*.ck" and "!www.ck" made concrete)."""
    concrete = rule.removeprefix("!").replace("*", labels[0] if labels else "x")
    return ".".join([*labels, concrete])


def registrable(hosts: list[str]) -> list[str | None]:
    return values(domains_module._registrable_of_hosts(pd.Series(hosts, dtype="string")))


def test_every_suffix_list_rule_matches_tldextract() -> None:
    hosts = []
    for rule in RULES_PSL:
        hosts += [host_of(rule, []), host_of(rule, ["acme"]), host_of(rule, ["www", "acme"])]
        hosts += [host_of(rule, ["city"]), host_of(rule, ["a", "b", "c"])]
    hosts = [h.lower() for h in hosts]
    assert registrable(hosts) == [domains_module._registrable(h) for h in hosts]


LABEL = st.sampled_from(
    ["acme", "www", "shop", "a", "b-c", "x1", "city", "co", "com", "_srv", "192", "1", "blogspot"]
)
HOST = st.builds(
    host_of,
    st.sampled_from(RULES_PSL),
    st.lists(LABEL | st.from_regex(r"[a-z0-9-]{1,8}", fullmatch=True), max_size=3),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(HOST | st.from_regex(r"[a-z0-9.-]{1,20}", fullmatch=True), min_size=1, max_size=25))
@example(["www.ck", "a.www.ck", "a.b.ck", "ck", "b.ck", "192.168.1.10", "localhost", "a..com"])
@example(["city.kawasaki.jp", "x.city.kawasaki.jp", "a.b.kawasaki.jp", "co.uk", "-.com", ".com"])
def test_hosts_from_real_suffixes_match_tldextract(hosts: list[str]) -> None:
    hosts = [h.lower() for h in hosts]
    assert registrable(hosts) == [
        domains_module._registrable(h) if "." in h else None for h in hosts
    ]


def stepwise_hosts(values: pd.Series) -> list[str | None]:
    """Every step of _HOST_STEPS on every value: how hosts were cut before the plain-URL path."""
    arr = domains_module.as_array(values.str.strip().str.lower())
    arr = domains_module.pc.utf8_trim(domains_module._all_host_steps(arr), ".")
    return [v or None for v in arr.to_pylist()]


URL_PART = st.sampled_from(
    [
        "https://",
        "http://",
        "HTTP://",
        "//",
        "mailto:",
        "www.",
        "WWW2.",
        "user:pw@",
        "x@",
        ":8080",
        ":x",
        "/",
        "/about",
        "?q=1",
        "#top",
        " ",
        ";",
        ",",
        "|",
        "\\",
        ".",
        "acme",
        "co.uk",
        ".com",
        "ftp://",
        "\t",
        "。",
        "müller",
        "-",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(URL_PART, max_size=7).map("".join), min_size=1, max_size=25))
@example(["https://www.acme.com/a", "acme.com", " WWW.ACME.CO.UK. ", "acme.com:8080", "a@b.com"])
def test_host_cutting_matches_every_step(urls: list[str]) -> None:
    series = pd.Series(urls, dtype="string")
    assert values(domains_module._hosts(series)) == stepwise_hosts(series)
