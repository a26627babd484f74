"""The CSV writer's cells: formulas escaped exactly where a spreadsheet would run them, amounts
as plain decimals with at least two places, every value read back as written, and the UTF-8
byte-order mark Excel needs when ``csv_bom`` asks for it."""

from __future__ import annotations

import codecs
import csv
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recon.extract.review import read_review_file
from recon.models import LoadResult, MatchResult
from recon.report.csvfiles import FORMULA_START, escape_formula, format_amounts, write_csv
from recon.report.match_outputs import write_match_outputs
from recon.report.options import OutputOptions
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


NAMES = pd.DataFrame(
    {"company": ["Société Générale", "Çelik A.Ş.", "東京商事"], "id": ["1", "2", "3"]}
)


@pytest.mark.parametrize("bom", [True, False])
def test_csv_bom_is_written_when_asked_and_the_text_reads_back(tmp_path: Path, bom: bool) -> None:
    path = write_csv(NAMES, tmp_path / "names.csv", bom=bom)
    data = path.read_bytes()
    assert data.startswith(codecs.BOM_UTF8) is bom
    assert data.count(codecs.BOM_UTF8) == int(bom)  # once, at the start, never per batch
    read = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    pd.testing.assert_frame_equal(read, NAMES)


def test_every_matcher_csv_has_the_bom_and_recon_reads_its_review_back(
    matched: tuple[LoadResult, MatchResult], tmp_path: Path
) -> None:
    files = write_match_outputs(matched[1], tmp_path, "both", csv_bom=True)
    written = [f for f in files if f.suffix == ".csv"]
    assert {f.name for f in written} >= {"xref.csv", "review.csv", "crm_import.csv"}
    for path in written:
        assert path.read_bytes().startswith(codecs.BOM_UTF8), path.name
    assert not any(f.read_bytes().startswith(codecs.BOM_UTF8) for f in files if f.suffix != ".csv")
    review = pd.read_csv(tmp_path / "review.csv", dtype=str, encoding="utf-8-sig")
    rows = read_review_file(tmp_path / "review.csv")
    assert len(rows) == len(review) > 0
    assert [r.cells["left_id"] for r in rows] == review["left_id"].tolist()


def test_csv_bom_is_off_unless_chosen() -> None:
    assert OutputOptions().csv_bom is False
    assert OutputOptions(csv_bom=True).csv_bom is True
    with pytest.raises(ValueError, match="csv bom 'yes'; expected true or false"):
        OutputOptions(csv_bom="yes")  # type: ignore[arg-type]
