"""Is an E.164 number a valid number of its country, in the sense of libphonenumber's national
number pattern (``general_desc``)?

The normalizer keeps every *possible* number (right length), so it can match test numbers; a
data-quality check asks for more: "+61 9555 1234" has a possible length but no Australian number
starts with 9. One RE2 pass per calling code present replaces libphonenumber's per-number call.
"""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from phonenumbers import PhoneMetadata
from phonenumbers.phonenumberutil import (
    COUNTRY_CODE_TO_REGION_CODE,
    UNKNOWN_REGION,
    region_code_for_country_code,
)

from recon.checks.quality import text as tx

_CODES = pa.array(sorted(str(c) for c in COUNTRY_CODE_TO_REGION_CODE), tx.STRING)


@functools.cache
def _pattern(country_code: str) -> str | None:
    region = region_code_for_country_code(int(country_code))
    if region == UNKNOWN_REGION:
        meta = PhoneMetadata.metadata_for_nongeo_region(int(country_code))
    else:
        meta = PhoneMetadata.metadata_for_region(region)
    if meta is None or meta.general_desc is None:
        return None
    return f"^(?:{meta.general_desc.national_number_pattern})$"


def valid_e164(e164: pa.Array) -> np.ndarray:
    """Per number: its national part fits its calling code's pattern (null: False)."""
    digits = pc.utf8_slice_codeunits(e164, 1)
    size = np.zeros(len(e164), dtype=np.int64)
    # Calling codes are prefix-free, so at most one of the 1-3 digit heads is a code.
    for n in (1, 2, 3):
        head = pc.utf8_slice_codeunits(digits, 0, n)
        size[tx.mask(pc.is_in(head, value_set=_CODES))] = n
    ok = np.zeros(len(e164), dtype=bool)
    for n in (1, 2, 3):
        rows = np.flatnonzero(size == n)
        if not rows.size:
            continue
        part = tx.take(digits, rows)
        code = pc.utf8_slice_codeunits(part, 0, n)
        national = pc.utf8_slice_codeunits(part, n)
        for value in pc.unique(code).to_pylist():
            pattern = _pattern(value)
            same = tx.mask(pc.equal(code, value))
            if pattern is None:
                ok[rows[same]] = True  # nothing to hold it against
                continue
            ok[rows[same]] = tx.matches(national.filter(pa.array(same)), pattern)
    return ok
