"""Checks of one CRM company or ERP customer at a time: required fields, e-mail and website syntax,
free-mail domains, phones, countries, postcodes, names, stale records and values too long to
compare whole.

Each check reads the raw canonical columns (what the user must fix) and, where recon already
normalized a field, its normalized key (``recon.normalize.COLUMNS``), so a value normalization
can read — "NSW 2000", "021-555-1234", "Deutschland" — is judged by what it means.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.checks.quality import text as tx
from recon.checks.quality.findings import Subject, empty_findings, flag
from recon.checks.quality.phones import valid_e164
from recon.config.quality import Check, Checks, PatternCheck, PostcodeCheck
from recon.normalize import NormalizeRules
from recon.normalize.countries import ISO_NAMES
from recon.normalize.frame import COMPARED_COLUMNS, MAX_COMPARED_CHARS
from recon.normalize.names import name_rules

_WEB_COLUMNS = ("website", "domain")
_FREEMAIL_COLUMNS = ("email", "website", "domain")


def record_checks(
    subject: Subject,
    raw: pd.DataFrame,
    keys: pd.DataFrame,
    checks: Checks,
    rules: NormalizeRules,
    as_of: dt.date,
) -> list[pd.DataFrame]:
    """Findings of every enabled record check on one table (``raw`` and ``keys`` row-aligned)."""
    missing = missing_words(rules)
    out: list[pd.DataFrame] = []
    if checks.required.enabled:
        out += required(subject, raw, checks, missing, keys)
    parts = (
        (checks.email_syntax, lambda c: syntax(subject, raw, ("email",), "email_syntax", c)),
        (checks.website_syntax, lambda c: syntax(subject, raw, _WEB_COLUMNS, "website_syntax", c)),
        (checks.freemail_domain, lambda c: freemail(subject, raw, rules, c.severity)),
        (checks.phone_format, lambda c: phone(subject, raw, keys, missing, c.severity)),
        (checks.country_unknown, lambda c: country_unknown(subject, raw, keys, missing, c)),
        (checks.country_not_iso, lambda c: country_not_iso(subject, raw, keys, c.severity)),
        (checks.postcode_format, lambda c: postcode(subject, raw, keys, c)),
        (checks.name_all_caps, lambda c: all_caps(subject, raw, c.min_letters, c.severity)),
        (checks.name_legal_form_only, lambda c: legal_form_only(subject, raw, keys, rules, c)),
        (checks.stale_record, lambda c: stale(subject, raw, as_of, c.months, c.severity)),
        (checks.value_too_long, lambda c: too_long(subject, raw, c.severity)),
    )
    for check, run in parts:
        if check.enabled:
            found = run(check)
            out += found if isinstance(found, list) else [found]
    return out


def missing_words(rules: NormalizeRules) -> list[str]:
    """Values that mean "nothing here" (normalize.yaml ``missing_values``), lower case."""
    return [w.casefold() for w in rules.text.missing_values]


def required(
    subject: Subject,
    raw: pd.DataFrame,
    checks: Checks,
    missing: list[str],
    keys: pd.DataFrame | None = None,
) -> list[pd.DataFrame]:
    """Empty required columns; an empty country names the one the record's phone, domain,
    legal form or city give (``country_inferred`` of the matcher's records), as the value to
    fill in."""
    columns = getattr(checks.required, subject.table, ())
    out = []
    for column in columns:
        value = None  # an empty date or amount has nothing to show
        if column in raw.columns and not pd.api.types.is_string_dtype(raw[column].dtype):
            empty = raw[column].isna().to_numpy(dtype=bool)
        else:
            text = tx.text(raw, column)
            empty, value = ~tx.present(text, missing), tx.to_series(text)
        expected: pd.Series | str = "a value"
        message: pd.Series | str = f"{column} is empty"
        if column == "country" and keys is not None and "country_inferred" in keys.columns:
            code = keys["country_inferred"].reset_index(drop=True).astype(object)
            known = code.notna().to_numpy(dtype=bool)
            name = code.map(ISO_NAMES).fillna(code).astype(object)
            hint = "country is empty; its phone, web domain, legal form or city say " + name
            expected = code.where(known, "a value")
            message = hint.where(known, message)
        out.append(
            flag(
                subject,
                empty,
                rule="required",
                field=column,
                severity=checks.required.severity,
                value=value,
                expected=expected,
                message=message,
            )
        )
    return out


def syntax(
    subject: Subject, raw: pd.DataFrame, columns: tuple[str, ...], rule: str, check: PatternCheck
) -> list[pd.DataFrame]:
    out = []
    for column in columns:
        values = tx.text(raw, column)
        bad = tx.present(values) & ~tx.matches(values, check.pattern)
        out.append(
            flag(
                subject,
                bad,
                rule=rule,
                field=column,
                severity=check.severity,
                value=tx.to_series(values),
                expected=check.expected,
                message=f"{column} is not written as {check.expected}",
            )
        )
    return out


def _freemail_hosts(rules: NormalizeRules) -> pa.Array:
    return pa.array(sorted({d.lower() for d in rules.text.freemail_domains}), tx.STRING)


def freemail(
    subject: Subject, raw: pd.DataFrame, rules: NormalizeRules, severity: str
) -> list[pd.DataFrame]:
    free = _freemail_hosts(rules)
    out = []
    for column in _FREEMAIL_COLUMNS:
        if column not in raw.columns:
            continue
        values = tx.text(raw, column)
        host = tx.hosts(values)
        # "mail.yahoo.com" is yahoo.com's too.
        hit = tx.mask(pc.is_in(host, value_set=free)) | tx.mask(
            pc.is_in(tx.parent_domain(host), value_set=free)
        )
        out.append(
            flag(
                subject,
                hit,
                rule="freemail_domain",
                field=column,
                severity=severity,
                value=tx.to_series(values),
                expected="the company's own domain",
                message=f"{column} is on a free-mail domain, not the company's",
            )
        )
    return out


def _country_words(codes: pd.Series, present: str, absent: str) -> pd.Series:
    """Per row: ``present`` with {c} replaced by the country code, or ``absent`` without one."""
    head, _, tail = present.partition("{c}")
    worded = head + codes.astype("string") + tail
    return worded.fillna(absent).astype("string")


def phone(
    subject: Subject, raw: pd.DataFrame, keys: pd.DataFrame, missing: list[str], severity: str
) -> pd.DataFrame:
    values = tx.text(raw, "phone")
    given = tx.present(values, missing) & tx.matches(values, "[0-9]")
    e164 = pa.array(keys["phone_e164"].astype(pd.StringDtype("pyarrow")).array).cast(tx.STRING)
    bad = given & ~valid_e164(e164)
    codes = keys["country_code"].reset_index(drop=True)
    return flag(
        subject,
        bad,
        rule="phone_format",
        field="phone",
        severity=severity,
        value=tx.to_series(values),
        expected=_country_words(
            codes,
            "a {c} number with area code, or +country code",
            "a number with its +country code (the record has no country)",
        ),
        message=_country_words(
            codes,
            "phone is not a valid number for {c}",
            "phone has no +country code and the record no country",
        ),
    )


def country_unknown(
    subject: Subject, raw: pd.DataFrame, keys: pd.DataFrame, missing: list[str], check: Check
) -> pd.DataFrame:
    values = tx.text(raw, "country")
    bad = tx.present(values, missing) & keys["country_code"].isna().to_numpy(dtype=bool)
    return flag(
        subject,
        bad,
        rule="country_unknown",
        field="country",
        severity=check.severity,
        value=tx.to_series(values),
        expected="a country name or ISO code such as ID, AU, NZ, US, GB, DE",
        message="country is not a recognised country",
    )


def country_not_iso(
    subject: Subject, raw: pd.DataFrame, keys: pd.DataFrame, severity: str
) -> pd.DataFrame:
    values = tx.text(raw, "country")
    codes = pa.array(keys["country_code"].astype(pd.StringDtype("pyarrow")).array).cast(tx.STRING)
    known = ~tx.mask(pc.is_null(codes))
    bad = known & ~tx.mask(pc.equal(pc.utf8_upper(values), codes))
    return flag(
        subject,
        bad,
        rule="country_not_iso",
        field="country",
        severity=severity,
        value=tx.to_series(values),
        expected=tx.to_series(codes),
        message="country is not written as its two-letter ISO code",
    )


def postcode(
    subject: Subject, raw: pd.DataFrame, keys: pd.DataFrame, check: PostcodeCheck
) -> list[pd.DataFrame]:
    values = tx.text(raw, "postcode")
    norm = pa.array(keys["postcode_full"].astype(pd.StringDtype("pyarrow")).array)
    codes = tx.series_text(keys["country_code"])
    present = set(pc.unique(codes).drop_null().to_pylist())
    out = []
    for code, fmt in check.formats.items():
        if code not in present:
            continue
        rows = tx.mask(pc.equal(codes, code))
        if not rows.any():
            continue
        fits = tx.matches(norm, f"^(?:{fmt.pattern})$")
        bad = rows & ~tx.mask(pc.is_null(norm)) & ~fits
        out.append(
            flag(
                subject,
                bad,
                rule="postcode_format",
                field="postcode",
                severity=check.severity,
                value=tx.to_series(values),
                expected=f"{fmt.expected}, such as {fmt.example}",
                message=f"postcode does not fit the {code} format",
            )
        )
    return out


def all_caps(subject: Subject, raw: pd.DataFrame, min_letters: int, severity: str) -> pd.DataFrame:
    names = tx.text(raw, "name")
    upper = tx.mask(pc.utf8_is_upper(names))
    rows = np.flatnonzero(upper)
    letters = pc.count_substring_regex(tx.take(names, rows), r"\pL").to_numpy(zero_copy_only=False)
    bad = np.zeros(len(names), dtype=bool)
    bad[rows[letters >= min_letters]] = True
    return flag(
        subject,
        bad,
        rule="name_all_caps",
        field="name",
        severity=severity,
        value=tx.to_series(names),
        expected="the name in its usual capitals, such as Maju Jaya PT",
        message="name is written in capitals only",
    )


def _legal_only_pattern(rules: NormalizeRules) -> str:
    variants = sorted(set(name_rules(rules).variants), key=lambda v: (-len(v), v))
    one = "|".join(re.escape(v) for v in variants if v)
    return f"^(?:{one})(?: (?:{one}))*$"


def legal_form_only(
    subject: Subject, raw: pd.DataFrame, keys: pd.DataFrame, rules: NormalizeRules, check: Check
) -> pd.DataFrame:
    # The name normalizer never strips a name to nothing, so a name that is only a legal form
    # keeps it as its whole name_norm ("Pty Ltd" → "proprietary limited").
    norm = pa.array(keys["name_norm"].astype(pd.StringDtype("pyarrow")).array)
    bad = tx.matches(norm, _legal_only_pattern(rules))
    return flag(
        subject,
        bad,
        rule="name_legal_form_only",
        field="name",
        severity=check.severity,
        value=tx.to_series(tx.text(raw, "name")),
        expected="the company name with or without its legal form",
        message="name is only a legal form",
    )


def stale(
    subject: Subject, raw: pd.DataFrame, as_of: dt.date, months: int, severity: str
) -> pd.DataFrame:
    if "updated_at" not in raw.columns:
        return empty_findings()
    cutoff = pd.Timestamp(as_of) - pd.DateOffset(months=months)
    updated = pd.to_datetime(raw["updated_at"])
    old = (updated < cutoff).fillna(False).to_numpy(dtype=bool)
    return flag(
        subject,
        old,
        rule="stale_record",
        field="updated_at",
        severity=severity,
        value=updated.dt.strftime("%Y-%m-%d").astype("string"),
        expected=f"updated on or after {cutoff:%Y-%m-%d}",
        message=f"not updated in the {months} months before {as_of:%Y-%m-%d}",
    )


_SHOWN_CHARS = 80  # of a value too long to compare, the finding shows its start


def too_long(subject: Subject, raw: pd.DataFrame, severity: str) -> list[pd.DataFrame]:
    """Values the matcher cut to their first ``MAX_COMPARED_CHARS`` characters: the record was
    matched on that start only (a longer value is a paste or export error)."""
    out = []
    for column in COMPARED_COLUMNS:
        if column not in raw.columns:
            continue
        values = tx.text(raw, column)
        length = pc.utf8_length(values)
        bad = tx.mask(pc.greater(length, MAX_COMPARED_CHARS))
        if not bad.any():
            continue
        rows = np.flatnonzero(bad)
        start = pc.utf8_slice_codeunits(tx.take(values, rows), 0, _SHOWN_CHARS)
        shown = pc.binary_join_element_wise(
            start, pa.scalar("…", tx.STRING), pa.scalar("", tx.STRING)
        )
        chars = length.take(pa.array(rows)).to_numpy(zero_copy_only=False)
        message = np.full(len(raw), "", dtype=object)
        message[rows] = [
            f"{column} is {n:,} characters long; only its first {MAX_COMPARED_CHARS} were "
            "compared to match the record"
            for n in chars
        ]
        out.append(
            flag(
                subject,
                bad,
                rule="value_too_long",
                field=column,
                severity=severity,
                value=tx.to_series(tx.put(pa.nulls(len(raw), tx.STRING), rows, shown)),
                expected=f"at most {MAX_COMPARED_CHARS} characters",
                message=pd.Series(message, dtype="string"),
            )
        )
    return out
