"""Property tests of the record checks: generated values against what each rule promises."""

from __future__ import annotations

import string

from checks.quality_helpers import one_field
from hypothesis import example, given, settings
from hypothesis import strategies as st

_LABEL = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12)
_TLD = st.sampled_from(["com", "co.id", "com.au", "co.nz", "co.uk", "de", "io"])


@settings(max_examples=40)
@given(
    local=st.text(string.ascii_letters + string.digits + "._+-", min_size=1, max_size=20),
    host=_LABEL,
    tld=_TLD,
)
def test_well_formed_addresses_pass_and_losing_the_at_fails(
    local: str, host: str, tld: str
) -> None:
    address = f"{local}@{host}.{tld}"
    assert one_field("email_syntax", "email", [address, address.replace("@", " ")]) == ["C2"]


@settings(max_examples=40)
@given(digits=st.integers(0, 99999), country=st.sampled_from(["DE", "US"]))
@example(digits=1067, country="DE")
def test_five_digit_countries_accept_any_number_up_to_five_digits(
    digits: int, country: str
) -> None:
    # Leading zeros a spreadsheet dropped are restored before the check.
    assert one_field("postcode_format", "postcode", [str(digits)], country=country) == []


@settings(max_examples=40)
@given(digits=st.integers(100000, 9999999), country=st.sampled_from(["ID", "AU", "NZ", "DE"]))
def test_too_many_digits_always_fail(digits: int, country: str) -> None:
    assert one_field("postcode_format", "postcode", [str(digits)], country=country) == ["C1"]


@settings(max_examples=40)
@given(name=st.text(string.ascii_letters + " ", min_size=1, max_size=30))
@example(name="ACME")
@example(name="ABC")
def test_all_caps_flags_exactly_names_in_capitals_with_four_letters(name: str) -> None:
    letters = sum(c.isalpha() for c in name)
    caps = letters > 0 and name == name.upper()
    expected = ["C1"] if caps and letters >= 4 else []
    assert one_field("name_all_caps", "name", [name]) == expected
