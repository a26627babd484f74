"""What recon remembers between runs: review decisions (later also runs, xref ids and findings)."""

from recon.state.decisions import DecisionStore, open_decisions, state_dir

__all__ = ["DecisionStore", "open_decisions", "state_dir"]
