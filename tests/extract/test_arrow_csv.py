"""The fast CSV reader (Arrow) reads every file exactly as the careful one (pandas' C parser plus
the csv module for malformed rows): same values, same row numbers, same malformed rows."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recon.config.models import CsvOptions
from recon.extract import arrow_csv, files

AUTO = CsvOptions()


def _read(path: Path, fast: bool, monkeypatch: pytest.MonkeyPatch) -> pd.DataFrame:
    with monkeypatch.context() as m:
        if not fast:
            m.setattr(files, "read_table", lambda *a, **k: None)
        chunks = list(files.read_csv_chunks(path, AUTO, chunk_rows=7))
    frame = pd.concat(chunks, ignore_index=True)
    return frame.sort_values("_row", kind="stable", ignore_index=True)


cells = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "0012",
            "1.234,56",
            "Müller, GmbH",
            'say "hi"',
            "a\nb",
            "\u00a0",
            "\u200b",
            "\x1c",
        ]
    ),
    st.text(alphabet="ab ,;\"'\n-0", max_size=6),
)


@st.composite
def exports(draw: st.DrawFn) -> str:
    width = draw(st.integers(2, 4))
    lines = [",".join(f"col{i}" for i in range(width))]
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["ok", "ok", "ok", "short", "long", "blank"]))
        count = {"ok": width, "short": width - 1, "long": width + 2, "blank": 0}[kind]
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="").writerow(
            draw(st.lists(cells, min_size=count, max_size=count))
        )
        lines.append(buffer.getvalue())
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None)
@given(text=exports())
def test_fast_and_careful_readers_agree(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as monkeypatch:
        path = Path(folder) / "export.csv"
        path.write_text(text, encoding="utf-8")
        fast = _read(path, True, monkeypatch)
        careful = _read(path, False, monkeypatch)
    pd.testing.assert_frame_equal(fast, careful, check_dtype=False)


def test_fast_reader_takes_clean_and_malformed_files(tmp_path: Path) -> None:
    """The fast path is taken (not silently the slow one) for ordinary exports and for files with
    rows of the wrong length, whose numbers it keeps."""
    path = tmp_path / "c.csv"
    path.write_text('id,name\n1,"Acme\nLtd"\n2\n3,Beta,extra\n\n4,Gamma\n', encoding="utf-8")
    frame, long = arrow_csv.read_table(path, "utf-8", ",", ["id", "name"], 2)
    assert frame["_row"].tolist() == [2, 3, 4, 5, 6]
    assert frame["name"].tolist()[:3] == ["Acme\nLtd", pd.NA, "Beta,extra"]
    assert long == {4: 3}
    assert frame["_error"].iloc[2] == "row 4: 3 fields where the header has 2"


def test_a_quote_never_closed_goes_to_the_careful_reader(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text('id,name\n1,"Acme\n2,Beta\n', encoding="utf-8")
    assert arrow_csv.read_table(path, "utf-8", ",", ["id", "name"], 2) is None
