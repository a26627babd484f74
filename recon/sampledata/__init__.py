"""Realistic CRM and ERP sample data with ground truth: ``generate`` (pure), ``write`` (files)."""

from recon.sampledata.generate import SampleData, generate
from recon.sampledata.write import write

__all__ = ["SampleData", "generate", "write"]
