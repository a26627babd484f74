"""Helpers for the sample-data tests: planted rows removed, text parsed."""

from __future__ import annotations

import pandas as pd

from recon.sampledata import SampleData


def clean(data: SampleData, table: str) -> pd.DataFrame:
    """The table without the planted bad rows (truth_quarantine rows are spreadsheet rows)."""
    q = data.truth_quarantine
    planted = q.loc[q["table"] == table, "row"].to_numpy() - 2
    frame = data.tables[table]
    return frame.drop(index=frame.index[planted]).reset_index(drop=True)


def amounts(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.astype(object), errors="raise").astype(float)


def dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.astype(object), format="%Y-%m-%d")
