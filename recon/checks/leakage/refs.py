"""Deal references typed on ERP orders: "HS-123", "Deal #123", "CRM:123 / PO 55", "123"."""

from __future__ import annotations

import pandas as pd

# An optional CRM word, then the id (letters and digits with at least one digit). A reference that
# starts with anything else ("PO 55") names no deal.
_REF = (
    r"^\s*(?:(?:hs|hubspot|crm|deal|opp|opportunity|sf|salesforce)(?![a-z])\s*(?:id\b)?\s*[-#:]?\s*#?\s*)?"
    r"(?P<deal>[A-Za-z0-9]*\d[A-Za-z0-9_-]*)"
)
_NOT_A_DEAL = r"^\s*(?:po|p\.o\.|so|inv|invoice)\b"


def parse_deal_refs(refs: pd.Series) -> pd.Series:
    """The deal id each reference names (text), NA where it names none."""
    text = refs.astype("string")
    found = text.str.extract(_REF, flags=2, expand=False).astype("string")  # 2 = re.IGNORECASE
    return found.mask(text.str.contains(_NOT_A_DEAL, case=False, regex=True, na=False))
