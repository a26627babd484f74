"""Find the bundled rules/, report templates and sample data, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def bundled(name: str) -> Path:
    """Path of a top-level folder of the repository (``rules``, ``reports_templates``, ``sample_data``).

    A wheel carries them under ``recon/_bundled``; an editable install or a checkout reads them in place.
    """
    installed = _PACKAGE / "_bundled" / name
    if installed.is_dir():
        return installed
    return _CHECKOUT / name


def rules_dir() -> Path:
    return bundled("rules")


def templates_dir() -> Path:
    return bundled("reports_templates")


def sample_data_dir() -> Path:
    return bundled("sample_data")
