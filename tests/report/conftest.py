"""Report fixtures: the bundled sample data matched once, plus tiny check results whose figures
are written down here, and the external programs the renderers are verified with."""

from __future__ import annotations

import os
import shutil

import pytest
from report.report_fixtures import (
    GENERATED_AT,
    LEAKAGE,
    MONTHEND,
    MONTHEND_DIFFERENCES,
    QUALITY,
)

from recon.config.load import folder_config
from recon.extract.load import load_all
from recon.models import LoadResult, MatchResult
from recon.pipeline import match
from recon.report.data import ReportData, build_report_data
from recon.resources import sample_data_dir


@pytest.fixture(scope="session")
def matched() -> tuple[LoadResult, MatchResult]:
    load = load_all(folder_config(sample_data_dir()))
    return load, match(load)


@pytest.fixture(scope="session")
def report(matched: tuple[LoadResult, MatchResult]) -> ReportData:
    load, result = matched
    return build_report_data(
        load,
        result,
        leakage=LEAKAGE,
        monthend=MONTHEND,
        monthend_differences=MONTHEND_DIFFERENCES,
        quality=QUALITY,
        generated_at=GENERATED_AT,
    )


@pytest.fixture(scope="session")
def bare_report(matched: tuple[LoadResult, MatchResult]) -> ReportData:
    """No check ran: only matching and inputs."""
    load, result = matched
    return build_report_data(load, result, generated_at=GENERATED_AT)


def external_program(name: str, package: str) -> str:
    """Path of a program the tests verify output with; skip without it, but fail on CI."""
    path = shutil.which(name)
    if path:
        return path
    reason = f"{name} not found (apt-get install -y --no-install-recommends {package})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}. CI must run this test: .ci/run installs it.", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> str:
    return external_program("chromium", "chromium")


@pytest.fixture(scope="session")
def soffice() -> str:
    return external_program("soffice", "libreoffice-calc")
