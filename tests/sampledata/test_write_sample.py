"""write(): the files, their CSV format, ids with leading zeros, determinism and truth_meta.json."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from sampledata.sampledata_helpers import clean

from recon.sampledata import SampleData, generate, write
from recon.schema import TABLES

FILES = [f"{t}.csv" for t in TABLES] + [
    "truth_entities.csv",
    "truth_leakage.csv",
    "truth_quarantine.csv",
    "truth_orders.csv",
    "truth_hard_negatives.csv",
    "truth_meta.json",
]


@pytest.fixture(scope="module")
def written(small: SampleData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    paths = write(small, out)
    assert [p.name for p in paths] == FILES
    return out


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)


def test_csv_cells_are_the_generated_text(written: Path, small: SampleData) -> None:
    for name, frame in small.tables.items():
        with (written / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == list(frame.columns)
        expected = frame.fillna("").astype(str).to_numpy().tolist()
        assert rows[1:] == expected, name


def test_files_are_utf8_without_bom_and_quote_only_when_needed(written: Path) -> None:
    raw = (written / "crm_companies.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    body = raw.decode("utf-8")
    assert "\r" not in body
    assert body.splitlines()[0].startswith("company_id,name,domain,")
    erp = (written / "erp_customers.csv").read_text(encoding="utf-8")
    assert re.search(r'^[^,]*,"[^"]*, ?(?:PT|Inc\.?|LLC)"', erp, re.M)  # "Maju Jaya, PT"
    assert '"' not in erp.splitlines()[1].split(",")[0]


def test_written_values_have_the_documented_formats(written: Path, small: SampleData) -> None:
    planted = small.truth_quarantine
    for name, spec in TABLES.items():
        frame = _read(written, name)
        bad = planted.loc[planted["table"] == name, "row"].to_numpy() - 2
        frame = frame.drop(index=frame.index[bad])
        for col in spec.columns:
            values = frame[col.name][frame[col.name] != ""]
            if col.kind == "date":
                assert values.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all(), (name, col.name)
            elif col.kind == "amount":
                decimals = 4 if name == "fx_rates" else 2
                assert values.str.fullmatch(rf"-?\d+\.\d{{{decimals}}}").all(), (name, col.name)
            elif col.kind == "bool":
                assert set(values) == {"true", "false"}, (name, col.name)


def test_ids_keep_their_leading_zeros(written: Path, small: SampleData) -> None:
    customers = _read(written, "erp_customers")["customer_id"]
    zero_led = customers[customers.str.startswith("0")]
    assert len(zero_led) > 0
    assert zero_led.str.fullmatch(r"0\d{5}").all()
    assert set(zero_led) <= set(small.tables["erp_customers"]["customer_id"].dropna())
    orders = _read(written, "erp_orders")
    assert orders["order_id"].str.startswith("SO000").any()
    truth = _read(written, "truth_entities")
    assert set(zero_led) <= set(truth["record_id"])


def test_truth_files_round_trip(written: Path, small: SampleData) -> None:
    leak = _read(written, "truth_leakage")
    assert list(leak.columns) == ["deal_id", "kind", "gap_amount"]
    assert leak["gap_amount"].str.fullmatch(r"\d+\.\d{2}").all()
    assert leak["deal_id"].tolist() == small.truth_leakage["deal_id"].tolist()
    q = _read(written, "truth_quarantine")
    assert list(q.columns) == ["table", "record_id", "row", "column", "problem"]
    assert q["row"].astype(int).tolist() == small.truth_quarantine["row"].tolist()
    entities = _read(written, "truth_entities")
    assert list(entities.columns) == ["system", "record_id", "entity_id"]
    assert set(entities["system"]) == {"crm", "erp"}


def test_meta_records_what_was_generated(written: Path, small: SampleData) -> None:
    meta = json.loads((written / "truth_meta.json").read_text(encoding="utf-8"))
    assert meta["as_of"] == "2026-10-31"
    assert meta["seed"] == 42 and meta["entities"] == 300
    rows = meta["counts"]["rows"]
    assert rows == {name: len(frame) for name, frame in small.tables.items()}
    assert meta["counts"]["orders_tax_inclusive"] > 0
    assert meta["counts"]["leakage"] == small.truth_leakage["kind"].value_counts().to_dict()
    assert meta["rates"]["entities"]["crm_duplicates"] == 0.05
    assert meta["rates"]["money"]["tax_inclusive"] == 0.25


def test_same_inputs_write_byte_identical_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write(generate(40, 7), a)
    write(generate(40, 7), b)
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_generated_folder_loads_with_only_the_planted_rows_quarantined(
    written: Path, small: SampleData
) -> None:
    from recon.config.load import folder_config
    from recon.extract.load import load_all

    result = load_all(folder_config(written))
    got = {(t, int(r)) for t, r in result.quarantine[["table", "row"]].itertuples(index=False)}
    truth = small.truth_quarantine
    assert got == set(zip(truth["table"], truth["row"], strict=True))
    for name in TABLES:
        assert result.tables[name].rows_kept == len(clean(small, name))


def test_committed_sample_data_is_what_the_documented_command_writes(
    written: Path, small: SampleData
) -> None:
    """sample_data/ must be regenerated when the generator changes (see sample_data/README.md)."""
    from recon.resources import sample_data_dir

    assert small.meta["entities"] == 300 and small.meta["seed"] == 42
    for name in FILES:
        assert (sample_data_dir() / name).read_bytes() == (written / name).read_bytes(), name
