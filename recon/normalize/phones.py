"""Phone numbers → E.164 ("+62215551234"), read with the record's country as the default region.

"021-555-1234" of an Indonesian record and "+62 21 5551234" become the same number; extensions
are dropped. A number is kept when libphonenumber finds it *possible* (right length for its
country and type), not *valid* (an allocated range): test and fictional numbers such as
"(212) 555-0142" are common in CRMs and still identify a record. A number that is possible only
locally (no area code, "555 1234") gives NA: it cannot be written in E.164.
"""

from __future__ import annotations

import re

import pandas as pd
import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat
from phonenumbers.phonenumberutil import ValidationResult

from recon.normalize.countries import to_country_code
from recon.normalize.names import ARROW_TEXT, as_text, expand, unique_codes
from recon.schema import TEXT_DTYPE

_SEVERAL = re.compile(r"\s*(?:[;,|]|\s/\s|\bor\b|\batau\b|\boder\b)\s*", re.IGNORECASE)
_REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)


def _e164(text: str, region: str | None) -> str | None:
    """E.164 of the first possible number in ``text``, or None."""
    for candidate in (text, *_SEVERAL.split(text)[:1]):
        try:
            number = phonenumbers.parse(candidate, region)
        except NumberParseException:
            continue
        if phonenumbers.is_possible_number_with_reason(number) == ValidationResult.IS_POSSIBLE:
            return phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return None


def normalize_phones(phones: pd.Series, countries: pd.Series | None = None) -> pd.Series:
    """E.164 per phone, NA when missing, unreadable or not a possible number.

    ``countries`` (names or codes) gives the region for numbers written without "+".
    """
    text = as_text(phones).str.strip()
    text = text.str.replace(r"^([0-9]+)\.0$", r"\1", regex=True)  # a number Excel stored as 1.0
    text = text.mask(~text.str.contains("[0-9]", regex=True).fillna(False))
    # "(02) 9555-1234" and "02 9555 1234" are one number: drop spacing and brackets first, so
    # libphonenumber sees each distinct number once (not values with letters, "ext. 5", or "/").
    plain = text.str.fullmatch(r"[+0-9 ().-]+").fillna(False)
    text = text.where(~plain, text.str.replace(r"[ ().-]", "", regex=True))
    if countries is None:
        region = pd.Series(pd.NA, index=phones.index, dtype=ARROW_TEXT)
    else:
        region = as_text(to_country_code(countries))
        region.index = phones.index
    # libphonenumber parses one number per call, in Python: once per distinct (phone, country).
    codes, first = unique_codes(text, region)
    pairs = zip(text.iloc[first], region.iloc[first], strict=True)
    found = [
        None
        if pd.isna(t)
        else _e164(str(t), str(r) if pd.notna(r) and str(r) in _REGIONS else None)
        for t, r in pairs
    ]
    result = pd.Series(found, index=text.index[first], dtype=ARROW_TEXT)
    return expand(result, codes, phones.index).astype(TEXT_DTYPE)
