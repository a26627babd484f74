"""The rules, templates and sample data ship with the package, installed or in a checkout."""

from __future__ import annotations

import recon
from recon.resources import rules_dir, sample_data_dir


def test_bundled_folders_are_found_where_recon_is_imported_from() -> None:
    assert (rules_dir() / "sources").is_dir()
    assert any((rules_dir() / "sources").glob("*.yaml"))
    assert (sample_data_dir() / "crm_companies.csv").is_file()
    package = recon.__file__.rsplit("/", 2)[0]
    # Installed from a wheel, the folders must come from inside the package, not from a checkout.
    if "site-packages" in package:
        assert "_bundled" in str(rules_dir())
