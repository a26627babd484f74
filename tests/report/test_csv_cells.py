"""The CSV writer's cells: formulas escaped exactly where a spreadsheet would run them, amounts
as plain decimals with at least two places, and every value read back as written."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from recon.report.csvfiles import FORMULA_START, escape_formula, format_amounts, write_csv
from recon.schema import AMOUNT_DTYPE

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=200)
@given(st.lists(st.one_of(st.none(), TEXT), max_size=20))
def test_a_cell_is_escaped_exactly_when_it_starts_like_a_formula(values: list[str | None]) -> None:
    escaped = escape_formula(pa.array(values, type=pa.string())).to_pylist()
    expected = [v if v is None or not FORMULA_START.match(v) else "'" + v for v in values]
    assert escaped == expected


@settings(max_examples=200)
@given(
    st.lists(
        st.one_of(st.none(), st.decimals(-(10**12), 10**12, places=4, allow_nan=False)),
        max_size=20,
    )
)
def test_amounts_keep_their_value_and_at_least_two_places(values: list[Decimal | None]) -> None:
    text = format_amounts(pa.array(values, type=pa.decimal128(18, 4))).to_pylist()
    for value, shown in zip(values, text, strict=True):
        if value is None:
            assert shown is None
            continue
        assert Decimal(shown) == value
        places = len(shown.split(".")[1])
        assert places >= 2 and (places == 2 or not shown.endswith("0"))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(TEXT, st.decimals(-(10**6), 10**6, places=2, allow_nan=False)), max_size=15)
)
def test_what_is_written_reads_back(tmp_path_factory, rows: list[tuple[str, Decimal]]) -> None:
    frame = pd.DataFrame(
        {
            "name": pd.array([r[0] for r in rows], dtype="string"),
            "amount": pd.array([r[1] for r in rows], dtype=AMOUNT_DTYPE),
        }
    )
    path = write_csv(frame, Path(tmp_path_factory.mktemp("csv")) / "t.csv")
    with path.open(newline="", encoding="utf-8") as fh:
        read = list(csv.reader(fh))
    assert read[0] == ["name", "amount"]
    for (name, amount), (shown, text) in zip(rows, read[1:], strict=True):
        assert shown == ("'" + name if FORMULA_START.match(name) else name)
        assert Decimal(text) == amount
