"""Field drift: where a linked CRM company and ERP customer (same xref_id) disagree about a field.

Values are compared by the keys recon's normalizers already computed, so spelling that
normalization settles ("PT Maju Jaya Tbk" / "Maju Jaya, PT", "+62 21 5551234" / "021-555-1234")
is not drift. A finding sits on the record to fix — the one of the system that does not own the
field — with its raw value, and the owner's raw value as the one to keep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.checks.quality import text as tx
from recon.checks.quality.findings import Subject, empty_findings, flag
from recon.config.quality import OwnershipFile
from recon.normalize import normalize_phones

KeyOf = Callable[[pd.DataFrame, pd.DataFrame, str | None], pa.Array]


def _key(column: str) -> KeyOf:
    """The normalized key ``column`` of the records."""

    def key(raw: pd.DataFrame, keys: pd.DataFrame, source: str | None) -> pa.Array:
        return pa.array(keys[column].astype(pd.StringDtype("pyarrow")).array).cast(tx.STRING)

    return key


def _lower(raw: pd.DataFrame, keys: pd.DataFrame, source: str | None) -> pa.Array:
    values = pc.utf8_lower(tx.text(raw, source))
    return pc.if_else(pc.equal(values, ""), None, values)


def _host(raw: pd.DataFrame, keys: pd.DataFrame, source: str | None) -> pa.Array:
    return tx.hosts(tx.text(raw, source))


def _amount(raw: pd.DataFrame, keys: pd.DataFrame, source: str | None) -> pa.Array:
    # "1000.0000" and "1000" are one amount; "1000" keeps its zeros.
    return pc.replace_substring_regex(tx.text(raw, source), r"\.0+$|(\.[0-9]*[1-9])0+$", r"\1")


def _word_prefix(a: pa.Array, b: pa.Array) -> np.ndarray:
    """Per row: one value is the other followed by more words ("5 harbour hwy" and "5 harbour hwy
    brisbane qld 4069"): a detail added, not a contradiction."""
    left = np.asarray(a.to_numpy(zero_copy_only=False), dtype=str)
    right = np.asarray(b.to_numpy(zero_copy_only=False), dtype=str)
    return np.strings.startswith(left, np.strings.add(right, " ")) | np.strings.startswith(
        right, np.strings.add(left, " ")
    )


@dataclass(frozen=True)
class FieldSpec:
    """Where a field lives in each canonical table, and the key it is compared by."""

    crm: str | None
    erp: str | None
    key: KeyOf
    shown_by_key: bool = False  # show the key itself (domain: read from several columns)
    also_same: Callable[[pa.Array, pa.Array], np.ndarray] | None = None  # beyond equal keys


FIELDS: dict[str, FieldSpec] = {
    "name": FieldSpec("name", "name", _key("name_norm")),
    "address": FieldSpec(
        "address", "billing_address", _key("address_norm"), also_same=_word_prefix
    ),
    "city": FieldSpec("city", "city", _key("city_norm")),
    "postcode": FieldSpec("postcode", "postcode", _key("postcode_norm")),
    "country": FieldSpec("country", "country", _key("country_code")),
    "phone": FieldSpec("phone", "phone", _key("phone_e164")),
    "email": FieldSpec("email", "email", _lower),
    "website": FieldSpec("website", "website", _host),
    "domain": FieldSpec("domain", "website", _key("domain"), shown_by_key=True),
    "tax_id": FieldSpec(None, "tax_id", _key("tax_id_norm")),
    "credit_limit": FieldSpec(None, "credit_limit", _amount),
    "payment_terms": FieldSpec(None, "payment_terms", _lower),
}


@dataclass(frozen=True)
class Side:
    """One system's records: raw canonical frame, normalized keys and xref ids, row-aligned."""

    system: str
    table: str
    raw: pd.DataFrame
    keys: pd.DataFrame
    record_id: pd.Series
    xref_id: pd.Series


def linked_pairs(crm: Side, erp: Side) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of every CRM–ERP pair sharing an xref_id (all pairs when an entity holds
    duplicates)."""
    left = pd.DataFrame({"xref_id": crm.xref_id.to_numpy(), "c": np.arange(len(crm.xref_id))})
    right = pd.DataFrame({"xref_id": erp.xref_id.to_numpy(), "e": np.arange(len(erp.xref_id))})
    pairs = left.dropna().merge(right.dropna(), on="xref_id", how="inner", sort=False)
    return pairs["c"].to_numpy(dtype=np.int64), pairs["e"].to_numpy(dtype=np.int64)


def not_compared(ownership: OwnershipFile) -> list[str]:
    """Notes for owned fields one canonical table does not hold."""
    notes = []
    for field in ownership.fields:
        spec = FIELDS[field]
        for system, column in (("crm", spec.crm), ("erp", spec.erp)):
            if column is None:
                table = "crm_companies" if system == "crm" else "erp_customers"
                notes.append(f"drift of {field} not checked: {table} has no {field} column")
    return notes


def field_drift(crm: Side, erp: Side, ownership: OwnershipFile) -> list[pd.DataFrame]:
    """One finding per linked pair and owned field where the two records disagree."""
    c, e = linked_pairs(crm, erp)
    if not c.size:
        return [empty_findings()]
    out = []
    for field, owner in ownership.fields.items():
        spec = FIELDS[field]
        if spec.crm is None or spec.erp is None:
            continue
        crm_key = tx.take(spec.key(crm.raw, crm.keys, spec.crm), c)
        erp_key = tx.take(spec.key(erp.raw, erp.keys, spec.erp), e)
        if field == "phone":
            crm_key = _phone_again(crm_key, crm, erp, c, e)
            erp_key = _phone_again(erp_key, erp, crm, e, c)
        crm_has, erp_has = tx.mask(pc.is_valid(crm_key)), tx.mask(pc.is_valid(erp_key))
        differ = crm_has & erp_has & ~tx.mask(pc.equal(crm_key, erp_key))
        if spec.also_same is not None and differ.any():
            rows = np.flatnonzero(differ)
            differ[rows[spec.also_same(tx.take(crm_key, rows), tx.take(erp_key, rows))]] = False
        own, fix = (crm, erp) if owner.owner == "crm" else (erp, crm)
        own_rows, fix_rows = (c, e) if owner.owner == "crm" else (e, c)
        own_has, fix_has = (crm_has, erp_has) if owner.owner == "crm" else (erp_has, crm_has)
        missing = own_has & ~fix_has if ownership.report_missing else np.zeros_like(differ)
        out.append(_findings(field, spec, own, fix, own_rows, fix_rows, differ, missing, ownership))
    return out


def _phone_again(
    key: pa.Array, side: Side, other: Side, rows: np.ndarray, other_rows: np.ndarray
) -> pa.Array:
    """E.164 of phones the record's own country could not read, read with the linked record's
    country ("020 8738 2790" of a CRM company without a country, linked to a GB customer)."""
    redo = np.flatnonzero(
        tx.mask(pc.is_null(key))
        & side.keys["country_code"].isna().to_numpy(dtype=bool)[rows]
        & other.keys["country_code"].notna().to_numpy(dtype=bool)[other_rows]
        & tx.present(tx.take(tx.text(side.raw, "phone"), rows))
    )
    if not redo.size:
        return key
    phones = tx.to_series(tx.take(tx.text(side.raw, "phone"), rows[redo]))
    countries = pd.Series(
        other.keys["country_code"].to_numpy(dtype=object)[other_rows[redo]], dtype="string"
    )
    found = pa.array(normalize_phones(phones, countries).astype(pd.StringDtype("pyarrow")).array)
    return tx.put(key, redo, found)


def _shown(side: Side, spec: FieldSpec, column: str, rows: np.ndarray) -> pd.Series:
    if spec.shown_by_key:
        return tx.to_series(tx.take(spec.key(side.raw, side.keys, column), rows))
    return tx.to_series(tx.take(tx.text(side.raw, column), rows))


def _findings(
    field: str,
    spec: FieldSpec,
    own: Side,
    fix: Side,
    own_rows: np.ndarray,
    fix_rows: np.ndarray,
    differ: np.ndarray,
    missing: np.ndarray,
    ownership: OwnershipFile,
) -> pd.DataFrame:
    hit = differ | missing
    keep = np.flatnonzero(hit)
    own_rows, fix_rows, differ = own_rows[keep], fix_rows[keep], differ[keep]
    fix_column = spec.crm if fix.system == "crm" else spec.erp
    own_column = spec.crm if own.system == "crm" else spec.erp
    assert fix_column is not None and own_column is not None
    fix_value = _shown(fix, spec, fix_column, fix_rows)
    written = tx.present(pa.array(fix_value.astype(pd.StringDtype("pyarrow")).array))
    subject = Subject(
        fix.system,
        fix.table,
        tx.to_series(tx.take(tx.series_text(fix.record_id), fix_rows)),
        tx.to_series(tx.take(tx.series_text(fix.xref_id), fix_rows)),
    )
    verb = np.where(
        differ,
        "differs from",
        np.where(written, "cannot be read; take it from", "is empty; fill it from"),
    )
    parts = [
        f"{field} ",
        pa.array(verb, tx.STRING),
        f" {own.system.upper()} record ",
        tx.take(tx.series_text(own.record_id), own_rows),
        f" (owner of {field})",
    ]
    message = pc.binary_join_element_wise(
        *(pa.scalar(p, tx.STRING) if isinstance(p, str) else p for p in parts),
        pa.scalar("", tx.STRING),
    )
    return flag(
        subject,
        np.ones(len(keep), dtype=bool),
        rule="field_drift",
        field=field,
        severity=ownership.severity_of(field),
        value=fix_value,
        expected=_shown(own, spec, own_column, own_rows),
        owner_system=own.system,
        message=tx.to_series(message),
    )
