"""Time ``normalize_records`` and each normalizer on realistic or synthetic CRM and ERP records.

    python bench/bench_normalize.py --entities 1000000 --seed 1 [--repeat 3]
    python bench/bench_normalize.py --synthetic [--rows 1000000] [--companies 250000] [--seed 7]

``--entities`` (the default, 1,000,000) normalizes the ``crm_companies`` and ``erp_customers``
frames of ``recon.sampledata.generate(entities, seed)``: about 0.9 and 0.84 records per entity.
Generating a million entities takes a minute or two, so the two frames are cached as
bench/out/normalize-<table>-<entities>-<seed>.parquet (``--fresh`` makes them again).

``--synthetic`` normalizes ``--rows`` CRM companies generated here with numpy instead:
``--companies`` distinct companies, each appearing several times with its own spelling (case,
legal form before or after the name or after a comma, dots), website or e-mail variant, phone
format and address spelling, as CRM exports repeat them.

Prints, per system, the time of each normalizer and of the whole ``normalize_records`` call:
the best of ``--repeat`` runs, as CPU time (this process; the measure that other processes on a
shared machine disturb least) and wall-clock time.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from recon.normalize import (
    company_domain,
    load_normalize_rules,
    normalize_addresses,
    normalize_names,
    normalize_phones,
    normalize_records,
    normalize_tax_ids,
    to_country_code,
)

OUT = Path(__file__).resolve().parent / "out"

COUNTRIES = np.array(["ID", "AU", "US", "GB", "DE", "NZ"])
COUNTRY_SPELLINGS = {
    "ID": ["Indonesia", "ID", "IDN", "Republic of Indonesia", "indonesia"],
    "AU": ["Australia", "AU", "AUS", "australia"],
    "US": ["USA", "United States", "U.S.", "US", "United States of America"],
    "GB": ["UK", "United Kingdom", "GB", "England"],
    "DE": ["Germany", "Deutschland", "DE", "GERMANY"],
    "NZ": ["New Zealand", "NZ", "Aotearoa"],
}
LEGAL = {
    "ID": ["PT", "PT.", "P.T.", "CV", "PT Tbk"],
    "AU": ["Pty Ltd", "Pty. Ltd.", "PTY LIMITED", "Ltd"],
    "US": ["Inc", "Inc.", "LLC", "Corp.", "Corporation", "L.L.C."],
    "GB": ["Ltd", "Limited", "PLC", "LLP"],
    "DE": ["GmbH", "AG", "GmbH & Co. KG", "e.K.", "KG"],
    "NZ": ["Ltd", "Limited", "NZ Ltd"],
}
TLD = {"ID": ".co.id", "AU": ".com.au", "US": ".com", "GB": ".co.uk", "DE": ".de", "NZ": ".co.nz"}
STREET = {
    "ID": ["Jl.", "Jalan", "JL", "Jln."],
    "AU": ["St", "Street", "Rd", "Road"],
    "US": ["Ave", "Avenue", "St.", "Blvd"],
    "GB": ["Road", "Rd", "Lane", "Street"],
    "DE": ["straße", "str.", "strasse"],
    "NZ": ["Street", "St", "Road"],
}
CITIES = {
    "ID": ["Jakarta", "Surabaya", "Bandung", "Medan", "Jakarta Selatan"],
    "AU": ["Sydney", "Melbourne", "Brisbane", "Perth"],
    "US": ["New York", "Chicago", "Boston", "Austin"],
    "GB": ["London", "Manchester", "Leeds"],
    "DE": ["Berlin", "München", "Köln", "Hamburg"],
    "NZ": ["Auckland", "Wellington"],
}
FREEMAIL = np.array(["gmail.com", "yahoo.co.id", "hotmail.com", "bigpond.com", "gmx.de"])


def _words(rng: np.random.Generator, count: int) -> np.ndarray:
    """Pronounceable pseudo-words ("majura", "sintek") from syllables."""
    syllables = np.array(
        [a + b for a in "bcdfgjklmnprstwz" for b in ("a", "i", "u", "e", "o", "ar", "in", "ek")]
    )
    parts = rng.choice(syllables, size=(count, 3))
    lengths = rng.integers(2, 4, size=count)
    two = np.char.add(parts[:, 0], parts[:, 1])
    words = np.where(lengths == 2, two, np.char.add(two, parts[:, 2]))
    return np.unique(words)


def _pick(rng: np.random.Generator, options: dict[str, list[str]], country: np.ndarray):
    out = np.empty(len(country), dtype=object)
    for code, values in options.items():
        rows = country == code
        out[rows] = rng.choice(np.array(values, dtype=object), size=int(rows.sum()))
    return out


def synthetic_crm(rows: int, companies: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    vocab = _words(rng, 6000)
    generic = np.array(["Group", "Holdings", "Trading", "Services", "Indonesia", "International"])
    base_words = rng.choice(vocab, size=(companies, 2))
    extra = np.where(rng.random(companies) < 0.3, rng.choice(generic, companies), "")
    base = np.char.strip(
        np.char.add(
            np.char.add(np.char.add(base_words[:, 0], " "), base_words[:, 1]),
            np.char.add(" ", extra),
        )
    )
    company_country = rng.choice(COUNTRIES, size=companies, p=[0.35, 0.2, 0.2, 0.1, 0.1, 0.05])

    company = rng.integers(0, companies, size=rows)
    country = company_country[company]
    name = pd.Series(base[company]).str.title()
    form = pd.Series(_pick(rng, LEGAL, country))
    # Only Indonesian forms stand first ("PT Maju Jaya"); any form may follow a comma.
    where = np.where(country == "ID", rng.integers(0, 3, size=rows), rng.integers(1, 3, size=rows))
    name = pd.Series(
        np.select(
            [where == 0, where == 1],
            [form + " " + name, name + " " + form],
            name + ", " + form,
        )
    )
    case = rng.integers(0, 4, size=rows)
    name = name.where(case != 0, name.str.upper()).where(case != 1, name.str.lower())

    slug = pd.Series(np.char.replace(base[company], " ", "")).str.lower()
    tld = pd.Series([TLD[c] for c in country])
    style = rng.integers(0, 5, size=rows)
    website = pd.Series(
        np.select(
            [style == 0, style == 1, style == 2, style == 3],
            [
                "https://www." + slug + tld + "/about?x=1",
                slug + tld,
                "WWW." + slug.str.upper() + tld.str.upper(),
                "http://shop." + slug + tld,
            ],
            "n/a",
        )
    ).where(rng.random(rows) < 0.7)
    freemail = pd.Series(rng.choice(FREEMAIL, size=rows))
    email = pd.Series(
        np.where(
            rng.random(rows) < 0.5,
            "Finance <finance@" + slug + tld + ">",
            "owner" + pd.Series(company).astype(str) + "@" + freemail,
        )
    )

    local = rng.integers(1000000, 9999999, size=rows).astype(str)
    phone = pd.Series(
        np.select(
            [country == "ID", country == "AU", country == "US", country == "GB", country == "DE"],
            [
                "021-" + pd.Series(local).str[:3] + "-" + pd.Series(local).str[3:],
                "(02) 9" + pd.Series(local).str[:3] + " " + pd.Series(local).str[3:],
                "(212) " + pd.Series(local).str[:3] + "-" + pd.Series(local).str[3:],
                "+44 20 7" + pd.Series(local).str[:3] + " " + pd.Series(local).str[3:],
                "030 " + pd.Series(local),
            ],
            "+64 9 " + pd.Series(local),
        )
    ).where(rng.random(rows) < 0.8)
    # Each company has one phone; rows of one company mostly repeat it.
    phone = phone.groupby(company).transform("first")

    street_word = pd.Series(rng.choice(vocab, size=companies)[company]).str.title()
    number = pd.Series(rng.integers(1, 300, size=companies)[company].astype(str))
    street = pd.Series(_pick(rng, STREET, country))
    address = pd.Series(
        np.select(
            [country == "ID", country == "DE"],
            [street + " " + street_word + " No. " + number, street_word + street + " " + number],
            number + " " + street_word + " " + street,
        )
    )
    address = address.where(rng.random(rows) > 0.2, "Level 3, " + address)
    city = pd.Series(_pick(rng, CITIES, country))
    postcode = pd.Series(rng.integers(1000, 99999, size=companies)[company].astype(str))
    country_raw = pd.Series(_pick(rng, COUNTRY_SPELLINGS, country))
    return pd.DataFrame(
        {
            "company_id": pd.Series(np.arange(rows)).astype(str),
            "name": name,
            "website": website,
            "email": email,
            "phone": phone,
            "address": address,
            "city": city,
            "postcode": postcode,
            "country": country_raw,
        }
    ).astype("string")


def generated(entities: int, seed: int, fresh: bool) -> dict[str, pd.DataFrame]:
    """The sample data's ``crm_companies`` and ``erp_customers``, cached as parquet."""
    paths = {t: OUT / f"normalize-{t}-{entities}-{seed}.parquet" for t in TABLES}
    if fresh or not all(p.exists() for p in paths.values()):
        from recon.sampledata import generate

        started = time.perf_counter()
        tables = generate(entities, seed).tables
        print(f"generated {entities:,} entities in {time.perf_counter() - started:.0f}s")
        OUT.mkdir(parents=True, exist_ok=True)
        for table, path in paths.items():
            tables[table].to_parquet(path)
    return {t: pd.read_parquet(p) for t, p in paths.items()}


TABLES = {"crm_companies": ("crm", "address"), "erp_customers": ("erp", "billing_address")}


def _best(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best CPU and wall time of ``repeat`` runs."""
    cpu = wall = float("inf")
    for _ in range(repeat):
        started_cpu, started = time.process_time(), time.perf_counter()
        run()
        cpu = min(cpu, time.process_time() - started_cpu)
        wall = min(wall, time.perf_counter() - started)
    return cpu, wall


def measure(frames: dict[str, pd.DataFrame], repeat: int) -> None:
    rules = load_normalize_rules()
    totals: dict[str, list[float]] = {}
    print(f"{'':<12}" + "".join(f"{t:>22}" for t in frames) + f"{'both':>22}")
    print(f"{'(cpu / wall s)':<12}" + f"{'':>22}" * (len(frames) + 1))
    rows: dict[str, list[tuple[float, float]]] = {}
    for table, frame in frames.items():
        system, address = TABLES[table]

        def column(name: str, frame: pd.DataFrame = frame) -> pd.Series | None:
            return frame[name] if name in frame.columns else None

        parts: dict[str, Callable[[], object]] = {
            "countries": lambda f=frame: to_country_code(f["country"], rules),
            "names": lambda f=frame: normalize_names(f["name"], f["country"], rules),
            "domains": lambda c=column: company_domain(
                c("website"), c("email"), c("domain"), rules
            ),
            "addresses": lambda f=frame, a=address: normalize_addresses(
                f[a], f["city"], f["postcode"], f["country"], rules
            ),
            "phones": lambda f=frame: normalize_phones(f["phone"], f["country"]),
            "tax_ids": lambda f=frame: normalize_tax_ids(
                f["tax_id"] if "tax_id" in f.columns else pd.Series(pd.NA, index=f.index),
                f["country"],
                rules,
            ),
            "records": lambda f=frame, s=system: normalize_records(f, s, rules),
        }
        normalize_records(frame.head(100), system, rules)  # compile the rules once
        for label, run in parts.items():
            rows.setdefault(label, []).append(_best(run, repeat))
        totals[table] = list(rows["records"][-1])
    for label, timings in rows.items():
        cells = [f"{c:9.2f} / {w:6.2f}" for c, w in timings]
        both = (sum(c for c, _ in timings), sum(w for _, w in timings))
        name = "=records" if label == "records" else label
        print(
            f"{name:<12}" + "".join(f"{c:>22}" for c in cells) + f"{both[0]:12.2f} / {both[1]:6.2f}"
        )
    counts = ", ".join(f"{t} {len(f):,}" for t, f in frames.items())
    print(f"records: {counts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=None, help="default 1, or 7 with --synthetic")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--fresh", action="store_true", help="generate the sample data again")
    parser.add_argument("--synthetic", action="store_true")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=250_000)
    args = parser.parse_args()

    if args.synthetic:
        seed = 7 if args.seed is None else args.seed
        started = time.perf_counter()
        frame = synthetic_crm(args.rows, args.companies, seed)
        print(f"generated {len(frame):,} rows in {time.perf_counter() - started:.1f}s")
        print(
            f"distinct names {frame['name'].nunique():,}, websites {frame['website'].nunique():,}"
        )
        frames = {"crm_companies": frame}
    else:
        seed = 1 if args.seed is None else args.seed
        frames = generated(args.entities, seed, args.fresh)
    measure(frames, args.repeat)


if __name__ == "__main__":
    main()
