"""Generated sample data loads through the real extractors: only the planted bad rows are quarantined."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from recon.config.load import folder_config
from recon.extract.load import load_all
from recon.resources import sample_data_dir
from recon.sampledata import generate, write


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    write(generate(400, seed=11), out)
    return out


@pytest.mark.parametrize("which", ["generated", "bundled"])
def test_only_planted_rows_are_quarantined(which: str, generated: Path) -> None:
    folder = generated if which == "generated" else sample_data_dir()
    result = load_all(folder_config(folder))
    truth = pd.read_csv(folder / "truth_quarantine.csv", dtype=str)
    got = result.quarantine[["table", "row"]].drop_duplicates()
    expected = {(t, int(r)) for t, r in zip(truth["table"], truth["row"], strict=True)}
    assert {(t, int(r)) for t, r in zip(got["table"], got["row"], strict=True)} == expected
    for name, table in result.tables.items():
        source = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
        assert table.rows_read == len(source)
        assert table.rows_kept + table.rows_quarantined == len(source)


def test_ids_survive_with_leading_zeros(generated: Path) -> None:
    result = load_all(folder_config(generated))
    raw = pd.read_csv(generated / "erp_customers.csv", dtype=str, keep_default_na=False)
    loaded = set(result.tables["erp_customers"].frame["customer_id"])
    zero_led = {i for i in raw["customer_id"] if i.startswith("0")}
    assert zero_led, "sample data should contain ids with leading zeros"
    assert zero_led <= loaded | set(result.quarantine["value"].dropna())
