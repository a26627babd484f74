"""Errors a user can act on. The CLI catches ReconError in one place and maps it to an exit code."""

from __future__ import annotations


class ReconError(Exception):
    """Base of every error recon reports to its user as one clear message (exit code 2)."""

    exit_code = 2


class ConfigError(ReconError):
    """A recon.yaml or rules file is missing, malformed or names something that does not exist."""


class SourceError(ReconError):
    """An input file, sheet, table or column cannot be read as configured."""


class StateError(ReconError):
    """The state store cannot be opened, migrated or written."""


class OutputError(ReconError):
    """The outputs could not be written (disk full, a folder gone): the run is recorded as not
    delivered, so its new findings stay new for the next run. Exit code 3, as a failed delivery:
    either way the report did not reach anyone."""

    exit_code = 3
