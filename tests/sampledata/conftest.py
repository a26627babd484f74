"""Generated data shared by the sample-data tests: a small set and a 5,000-entity set."""

from __future__ import annotations

import pytest

from recon.sampledata import SampleData, generate

SMALL = (300, 42)
MEDIUM = (5000, 3)


@pytest.fixture(scope="session")
def small() -> SampleData:
    return generate(*SMALL)


@pytest.fixture(scope="session")
def medium() -> SampleData:
    return generate(*MEDIUM)
