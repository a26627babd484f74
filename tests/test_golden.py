"""The current code gives the golden run's results on the bundled sample (tests/golden/README.md):
speed work must not move a cross-reference id, a finding or a month-end total."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from golden_views import views
from typer.testing import CliRunner

from recon.cli import app
from recon.resources import sample_data_dir

GOLDEN = Path(__file__).parent / "golden" / "sample-2026-10-31"


@pytest.fixture(scope="module")
def current(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    out = tmp_path_factory.mktemp("golden") / "out"
    args = ["run", str(sample_data_dir()), "--out", str(out), "--as-of", "2026-10-31"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return views(out)


@pytest.mark.parametrize(
    "name", ["xref", "leakage", "orphan_totals", "monthend_summary", "monthend_differences"]
)
def test_same_results_as_the_golden_run(current: dict[str, pd.DataFrame], name: str) -> None:
    golden = pd.read_csv(GOLDEN / f"{name}.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(current[name], golden, check_dtype=False)
