"""Data-quality checks and field drift between linked CRM and ERP records.

Pure: canonical frames (and the matcher's records and xref ids) in, a findings frame out; rules
from rules/quality.yaml and rules/ownership.yaml (``recon.config.quality``).
"""

from recon.checks.quality.findings import FINDING_COLUMNS, SEVERITIES, empty_findings
from recon.checks.quality.stage import QualityResult, check_quality
from recon.checks.quality.summary import SCORE_BASIS

__all__ = [
    "FINDING_COLUMNS",
    "SCORE_BASIS",
    "SEVERITIES",
    "QualityResult",
    "check_quality",
    "empty_findings",
]
