"""Realistic CRM and ERP sample data with ground truth: ``generate`` (pure), ``write`` (files)."""

from recon.sampledata.generate import SampleData, generate
from recon.sampledata.habits import Habits
from recon.sampledata.name_habits import NameHabits
from recon.sampledata.write import write

__all__ = ["Habits", "NameHabits", "SampleData", "generate", "write"]
