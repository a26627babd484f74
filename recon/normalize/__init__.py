"""The normalize stage: pure, vectorized functions from canonical columns to comparison keys.

``normalize_records`` applies all of them to a canonical CRM or ERP frame; the pieces are usable
on their own. Rules come from rules/legal_forms.yaml and rules/normalize.yaml
(``load_normalize_rules``); every function takes ``rules=None`` to mean the bundled rules.
"""

from recon.normalize.addresses import normalize_addresses
from recon.normalize.countries import to_country_code
from recon.normalize.domains import (
    company_domain,
    domain_from_email,
    domain_from_website,
)
from recon.normalize.frame import COLUMNS, normalize_records, normalize_tax_ids
from recon.normalize.names import fold_text, normalize_names, token_weights
from recon.normalize.phones import normalize_phones
from recon.normalize.rules import NormalizeRules, default_rules, load_normalize_rules

__all__ = [
    "COLUMNS",
    "NormalizeRules",
    "company_domain",
    "default_rules",
    "domain_from_email",
    "domain_from_website",
    "fold_text",
    "load_normalize_rules",
    "normalize_addresses",
    "normalize_names",
    "normalize_phones",
    "normalize_records",
    "normalize_tax_ids",
    "to_country_code",
    "token_weights",
]
