"""CSV and Excel readers: real files written in the tests, as exports come."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recon.config.models import CsvOptions
from recon.errors import SourceError
from recon.extract.files import (
    cell_text,
    detect_delimiter,
    detect_encoding,
    read_csv_chunks,
    read_excel_chunks,
)

AUTO = CsvOptions()


def read_all(path: Path, options: CsvOptions = AUTO, chunk_rows: int = 100_000) -> pd.DataFrame:
    return pd.concat(list(read_csv_chunks(path, options, chunk_rows=chunk_rows)), ignore_index=True)


def test_utf8_bom_is_not_part_of_the_first_header(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("company_id,name\n1,Müller GmbH\n".encode("utf-8-sig"))
    frame = read_all(path)
    assert list(frame.columns) == ["company_id", "name", "_row"]
    assert frame.loc[0, "name"] == "Müller GmbH"


def test_windows_1252_export_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("id;name\n1;Müller Gräber – Café\n".encode("cp1252"))
    assert detect_encoding(path) == "cp1252"
    frame = read_all(path)
    assert frame.loc[0, "name"] == "Müller Gräber – Café"


def test_utf8_non_ascii_far_into_the_file_is_utf8(tmp_path: Path) -> None:
    lines = ["id,name"] + [f"{i},plain" for i in range(50_000)] + ["50000,PT Ängel Jaya"]
    path = tmp_path / "c.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert detect_encoding(path) == "utf-8"
    assert read_all(path).iloc[-1]["name"] == "PT Ängel Jaya"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_detected(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "c.csv"
    rows = [["id", "name", "amount"], ["1", "Acme, Inc.", "1,5"], ["2", "Beta", "2"]]
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
    frame = read_all(path)
    assert list(frame["name"]) == ["Acme, Inc.", "Beta"]
    assert list(frame["amount"]) == ["1,5", "2"]


_cell = st.text(alphabet=st.characters(whitelist_categories=("L", "N"), whitelist_characters=" .-"))


@settings(max_examples=60, deadline=None)
@given(
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    width=st.integers(2, 6),
    rows=st.integers(1, 8),
    data=st.data(),
)
def test_detect_delimiter_finds_the_writer_delimiter(
    delimiter: str, width: int, rows: int, data: st.DataObject
) -> None:
    table = [[f"h{i}" for i in range(width)]] + [
        [data.draw(_cell) for _ in range(width)] for _ in range(rows)
    ]
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter).writerows(table)
    assert detect_delimiter(buf.getvalue()) == delimiter


def test_quoted_newlines_and_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        'id,address\n1,"Jl. Sudirman No. 5\nJakarta 12190"\n2,Main St\n\n3,"x"\n', encoding="utf-8"
    )
    frame = read_all(path)
    assert list(frame["id"]) == ["1", "2", "3"]
    assert frame.loc[0, "address"] == "Jl. Sudirman No. 5\nJakarta 12190"
    # Spreadsheet rows: header 1, then one row per record; the blank line is row 4.
    assert list(frame["_row"]) == [2, 3, 5]


def test_ids_keep_leading_zeros_and_empty_cells_are_missing(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,name,phone\n007,Acme,\n0012,  ,x\n", encoding="utf-8")
    frame = read_all(path)
    assert list(frame["id"]) == ["007", "0012"]
    assert frame["phone"].isna().tolist() == [True, False]
    assert frame["name"].isna().tolist() == [False, True]


def test_chunks_continue_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id\n" + "".join(f"{i}\n" for i in range(5)), encoding="utf-8")
    chunks = list(read_csv_chunks(path, AUTO, chunk_rows=2))
    assert [len(c) for c in chunks] == [2, 2, 1]
    assert pd.concat(chunks)["_row"].tolist() == [2, 3, 4, 5, 6]


def test_row_with_too_many_fields_is_marked_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    body = "".join(f"{i},name {i}\n" for i in range(10))
    path.write_text("id,name\n" + body + "99,Acme, Inc.\n100,Last\n", encoding="utf-8")
    frame = read_all(path, chunk_rows=4).sort_values("_row")
    assert frame["id"].tolist() == [str(i) for i in range(10)] + ["99", "100"]
    bad = frame[frame["_error"].notna()] if "_error" in frame else frame.iloc[0:0]
    assert bad["_row"].tolist() == [12]
    assert bad["_error"].iloc[0] == "row 12: 3 fields where the header has 2"
    assert bad["name"].iloc[0] == "Acme, Inc."


def test_missing_and_empty_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"nope\.csv: file not found"):
        read_all(tmp_path / "nope.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(SourceError, match="empty"):
        read_all(empty)


def test_header_only_file_keeps_its_columns(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,name\n", encoding="utf-8")
    frame = read_all(path)
    assert list(frame.columns) == ["id", "name", "_row"]
    assert len(frame) == 0


def test_configured_encoding_that_does_not_fit_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("id,name\n1,Müller\n".encode("cp1252"))
    with pytest.raises(SourceError, match=r"cannot be read as utf-8.*set csv.encoding"):
        read_all(path, CsvOptions(encoding="utf-8"))


# --- Excel ---------------------------------------------------------------------------------


def test_cell_text_is_lossless() -> None:
    assert cell_text(1234567890123456.0) == "1234567890123456"
    assert cell_text(12.5) == "12.5"
    assert cell_text(1e-7) == "0.0000001"
    assert cell_text(dt.datetime(2026, 10, 31)) == "2026-10-31"
    assert cell_text(dt.datetime(2026, 10, 31, 13, 5)) == "2026-10-31T13:05:00"
    assert cell_text(True) == "true"
    assert cell_text("  ") is None
    assert cell_text("007") == "007"


def _workbook(path: Path) -> None:
    book = openpyxl.Workbook()
    first = book.active
    first.title = "Notes"
    first.append(["nothing here"])
    ws = book.create_sheet("Customers")
    ws.append([])  # a blank row above the header, as people leave them
    ws.append(["customer_id", "name", "order_date", "amount"])
    ws.append(["007", "Acme Pty Ltd", dt.datetime(2026, 10, 1), 1234.5])
    ws.append([1234567890123456, "Big Id", 46022, 10])
    ws.append([None, None, None, None])
    ws.append(["9", "Last", "31/12/2026", "1.234,56"])
    book.save(path)


def test_excel_sheet_by_name_with_types_as_text(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    _workbook(path)
    frame = pd.concat(list(read_excel_chunks(path, "Customers")), ignore_index=True)
    assert frame["customer_id"].tolist() == ["007", "1234567890123456", "9"]
    assert frame["order_date"].tolist() == ["2026-10-01", "46022", "31/12/2026"]
    assert frame["amount"].tolist() == ["1234.5", "10", "1.234,56"]
    assert frame["_row"].tolist() == [3, 4, 6]


def test_excel_missing_sheet_lists_sheets(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    _workbook(path)
    with pytest.raises(SourceError, match="no sheet named 'Orders'; sheets: Notes, Customers"):
        list(read_excel_chunks(path, "Orders"))


def test_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    path.write_text("id,name\n1,x\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"c\.xlsx: not a readable \.xlsx workbook"):
        list(read_excel_chunks(path, None))


# --- rows and headers that do not fit -----------------------------------------------------------


def test_extra_fields_on_the_first_data_row_are_not_an_index(tmp_path: Path) -> None:
    """pandas takes extra leading fields of the first data row for an index; recon must not."""
    path = tmp_path / "c.csv"
    path.write_text("id,name,city\n1,Acme,Perth,x,y,z\n2,Beta,Bali\n", encoding="utf-8")
    frame = read_all(path).sort_values("_row")
    assert frame["id"].tolist() == ["1", "2"]
    assert frame["city"].tolist() == ["Perth,x,y,z", "Bali"]  # kept whole for the quarantine
    assert frame["_error"].tolist() == ["row 2: 6 fields where the header has 3", pd.NA]


def test_malformed_rows_in_later_chunks_keep_every_row_number(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    body = [f"{i},n{i}" + (",extra" if i in (3, 7, 8) else "") for i in range(12)]
    path.write_text("id,name\n" + "\n".join(body) + "\n", encoding="utf-8")
    chunks = list(read_csv_chunks(path, AUTO, chunk_rows=3))
    assert [len(c) for c in chunks[:-1]] == [3, 3, 3]  # the malformed rows come last
    frame = pd.concat(chunks, ignore_index=True)
    assert dict(zip(frame["id"], frame["_row"], strict=True)) == {str(i): i + 2 for i in range(12)}
    assert frame.loc[frame["_error"].notna(), "_row"].tolist() == [5, 9, 10]


def test_trailing_delimiter_on_every_row_is_read_and_noted(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,name\n1,Acme,\n2,Beta,\n3,Gamma,late\n", encoding="utf-8")
    notes: list[str] = []
    frame = pd.concat(list(read_csv_chunks(path, AUTO, notes=notes)), ignore_index=True)
    assert frame["id"].tolist() == ["1", "2", "3"]
    assert frame["name"].tolist() == ["Acme", "Beta", "Gamma"]
    assert frame["_error"].tolist() == [pd.NA, pd.NA, "row 4: 3 fields where the header has 2"]
    assert notes == [
        "c.csv: every line ends with the delimiter (an empty last field), an export habit; "
        "the empty field is ignored"
    ]


def test_trailing_delimiter_on_the_header_too(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,name,\n1,Acme,\n2,Beta,\n", encoding="utf-8")
    notes: list[str] = []
    frame = pd.concat(list(read_csv_chunks(path, AUTO, notes=notes)), ignore_index=True)
    assert frame["name"].tolist() == ["Acme", "Beta"]
    assert "_error" not in frame.columns
    assert len(notes) == 1 and "every line ends with the delimiter" in notes[0]


def test_duplicate_csv_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,name,Name\n1,Acme,Other\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"c\.csv: column 'Name' appears twice .* \(and 'name'\)"):
        read_all(path)


def test_a_folder_or_a_looping_link_is_named_for_what_it_is(tmp_path: Path) -> None:
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(SourceError, match=r"dir\.csv: is a folder, not a data file"):
        read_all(tmp_path / "dir.csv")
    (tmp_path / "loop.csv").symlink_to("loop.csv")
    with pytest.raises(SourceError, match=r"loop\.csv: is a symbolic link that leads to no file"):
        read_all(tmp_path / "loop.csv")
    with pytest.raises(SourceError, match=r"loop\.xlsx: is a symbolic link"):
        (tmp_path / "loop.xlsx").symlink_to("loop.xlsx")
        list(read_excel_chunks(tmp_path / "loop.xlsx", None))


def test_unclosed_quote_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text('id,name\n1,"Acme\n2,Beta\n', encoding="utf-8")
    with pytest.raises(SourceError, match=r"c\.csv: cannot be read as CSV \(EOF inside string"):
        read_all(path)


def test_hidden_first_sheet_is_skipped_and_the_sheet_read_is_named(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    book = openpyxl.Workbook()
    hidden = book.active
    hidden.title = "Lookup"
    hidden.append(["id", "name"])
    hidden.append(["X", "hidden row"])
    hidden.sheet_state = "hidden"
    ws = book.create_sheet("Data")
    ws.append(["id", "name"])
    ws.append(["1", "Acme"])
    book.save(path)
    notes: list[str] = []
    frame = pd.concat(list(read_excel_chunks(path, None, notes=notes)), ignore_index=True)
    assert frame["id"].tolist() == ["1"]
    assert notes == [
        "c.xlsx: sheet 'Data' read (the first visible sheet; hidden sheets skipped: 'Lookup'); "
        "set sheet: in recon.yaml to choose another"
    ]


def test_damaged_sheet_xml_is_a_source_error_naming_file_and_sheet(tmp_path: Path) -> None:
    good, path = tmp_path / "good.xlsx", tmp_path / "c.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Orders"
    for i in range(200):
        book.active.append([f"O{i}", i])
    book.save(good)
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</row>", b"</rowx>", 1)  # garbled, not cut
            dst.writestr(item, data)
    with pytest.raises(SourceError, match=r"c\.xlsx: sheet 'Orders' cannot be read; .*damaged"):
        list(read_excel_chunks(path, None))
