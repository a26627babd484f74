"""Time recon.extract.parse on a million values per column.

Run ``PYTHONPATH=. python bench/bench_parse.py [rows] [repeats]`` (or with recon installed): prints
the best of ``repeats`` timings per parser. Not part of the tests: timings depend on the machine,
so nothing here is asserted.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from recon.extract.parse import Parsed, parse_amounts, parse_bools, parse_dates, parse_ids


def _columns(rows: int) -> dict[str, pd.Series]:
    rng = np.random.default_rng(7)
    cents = rng.integers(-10_000_000, 100_000_000, rows)
    whole, frac = np.abs(cents) // 100, np.abs(cents) % 100
    sign = np.where(cents < 0, "-", "")
    grouped = pd.Series(whole).map("{:,}".format)  # setup only, not timed
    dot = sign + "$" + grouped + "." + pd.Series(frac).map("{:02d}".format)
    comma = sign + grouped.str.replace(",", ".") + "," + pd.Series(frac).map("{:02d}".format) + " €"
    days = np.datetime64("1990-01-01") + rng.integers(0, 20_000, rows).astype("timedelta64[D]")
    stamps = pd.Series(days.astype("datetime64[ns]"))
    ids = pd.Series(rng.integers(0, 10**9, rows)).map("{:010d}".format)
    flags = pd.Series(rng.choice(["Yes", "no", "TRUE", "0", "x", "ya"], rows))
    junk = rng.random(rows) < 0.1
    return {
        "amounts 1,234.56 style": dot.astype("string"),
        "amounts, 10% junk": dot.where(~junk, "1,23,4.5").astype("string"),
        "amounts 1.234,56 € style": comma.astype("string"),
        "dates ISO": stamps.dt.strftime("%Y-%m-%d").astype("string"),
        "dates 31/12/2026": stamps.dt.strftime("%d/%m/%Y").astype("string"),
        "dates 31-Dec-2026": stamps.dt.strftime("%d-%b-%Y").astype("string"),
        "dates with time": stamps.dt.strftime("%Y-%m-%d %H:%M:%S").astype("string"),
        "dates 31/12/2026, 10% junk": stamps.dt.strftime("%d/%m/%Y")
        .where(~junk, "31/02/2026")
        .astype("string"),
        "ids": ids.astype("string"),
        "bools": flags.astype("string"),
    }


def main(rows: int = 1_000_000, repeats: int = 3) -> None:
    columns = _columns(rows)
    runs: list[tuple[str, Callable[[pd.Series], Parsed]]] = [
        ("amounts 1,234.56 style", parse_amounts),
        ("amounts 1.234,56 € style", parse_amounts),
        ("amounts, 10% junk", parse_amounts),
        ("dates ISO", parse_dates),
        ("dates 31/12/2026", parse_dates),
        ("dates 31-Dec-2026", parse_dates),
        ("dates with time", parse_dates),
        ("dates 31/12/2026, 10% junk", parse_dates),
        ("ids", parse_ids),
        ("bools", parse_bools),
    ]
    print(f"{rows:,} rows per column, best of {repeats}")
    for name, parse in runs:
        took = []
        for _ in range(repeats):
            start = time.perf_counter()
            result = parse(columns[name])
            took.append(time.perf_counter() - start)
        print(f"{name:28} {min(took):6.2f} s   bad: {result.n_bad}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
