"""Hand-built frames for leakage tests: entities are letters, records are written down in YAML."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd

from recon.checks.leakage import Frames, LeakageResult, find_leakage
from recon.config.leakage import LeakageRules, default_leakage_rules
from recon.schema import AMOUNT_DTYPE

AS_OF = dt.date(2026, 10, 31)


def _amounts(values: list[Any]) -> pd.Series:
    return pd.Series(pd.array([Decimal(str(v)) for v in values], dtype=AMOUNT_DTYPE))


def _entity(record: str) -> str:
    """``A`` or ``A/2`` (a duplicate record of entity A) → ``A``."""
    return record.split("/")[0]


def frames(
    deals: list[dict],
    orders: list[dict],
    *,
    crm_only: tuple[str, ...] = (),
    countries: dict[str, str] | None = None,
    inferred: dict[str, str] | None = None,
    on_hold: tuple[str, ...] = (),
    fx: list[dict] | None = None,
) -> Frames:
    """Deals name their ``company`` (an entity letter, ``A/2`` for a duplicate CRM record) and
    orders their ``customer``; every entity has a CRM and an ERP record unless in ``crm_only``."""
    countries = countries or {}
    companies = sorted({d["company"] for d in deals} | {_entity(o["customer"]) for o in orders})
    customers = sorted({o["customer"] for o in orders} | {_entity(c) for c in companies})
    customers = [c for c in customers if _entity(c) not in crm_only]
    xref = pd.DataFrame(
        [("crm", f"c-{c}", f"XR-{_entity(c)}") for c in companies]
        + [("erp", f"e-{c}", f"XR-{_entity(c)}") for c in customers],
        columns=["system", "record_id", "xref_id"],
    )
    xref["country_code"] = xref["xref_id"].str[3:].map(countries).astype("string")
    # the country the matcher read from a record's phone, domain, legal form or city
    xref["country_inferred"] = xref["xref_id"].str[3:].map(inferred or {}).astype("string")
    deal_frame = pd.DataFrame(
        {
            "deal_id": pd.array([d["deal_id"] for d in deals], dtype="string"),
            "company_id": pd.array([f"c-{d['company']}" for d in deals], dtype="string"),
            "stage": pd.array([d.get("stage", "closedwon") for d in deals], dtype="string"),
            "amount": _amounts([d["amount"] for d in deals]),
            "close_date": pd.to_datetime([str(d["close_date"]) for d in deals]),
            "currency": pd.array([d.get("currency", "USD") for d in deals], dtype="string"),
            "owner": pd.array([d.get("owner", "Rep") for d in deals], dtype="string"),
        }
    )
    order_frame = pd.DataFrame(
        {
            "order_id": pd.array([o["order_id"] for o in orders], dtype="string"),
            "customer_id": pd.array([f"e-{o['customer']}" for o in orders], dtype="string"),
            "order_date": pd.to_datetime([str(o["order_date"]) for o in orders]),
            "amount": _amounts([o["amount"] for o in orders]),
            "currency": pd.array([o.get("currency", "USD") for o in orders], dtype="string"),
            "status": pd.array([o.get("status", "Billed") for o in orders], dtype="string"),
            "crm_deal_ref": pd.array([o.get("ref") for o in orders], dtype="string"),
        }
    )
    company_frame = pd.DataFrame(
        {
            "company_id": pd.array([f"c-{c}" for c in companies], dtype="string"),
            "name": pd.array([f"Company {c}" for c in companies], dtype="string"),
        }
    )
    customer_frame = pd.DataFrame(
        {
            "customer_id": pd.array([f"e-{c}" for c in customers], dtype="string"),
            "name": pd.array([f"CUSTOMER {c}" for c in customers], dtype="string"),
            "credit_hold": pd.array([_entity(c) in on_hold for c in customers], dtype="boolean"),
        }
    )
    fx_frame = None
    if fx:
        fx_frame = pd.DataFrame(
            {
                "currency": pd.array([r["currency"] for r in fx], dtype="string"),
                "rate": _amounts([r["rate"] for r in fx]),
                "date": pd.to_datetime([str(r["date"]) for r in fx]),
            }
        )
    return Frames(deal_frame, company_frame, customer_frame, order_frame, fx_frame, xref)


def rules_with(changes: dict[str, Any] | None = None) -> LeakageRules:
    """The bundled rules with ``{"section.key": value}`` or ``{"key": value}`` changed."""
    rules = default_leakage_rules()
    for key, value in (changes or {}).items():
        section, _, name = key.partition(".")
        if name:
            part = getattr(rules, section).model_copy(update={name: value})
            rules = rules.model_copy(update={section: part})
        else:
            rules = rules.model_copy(update={section: value})
    return rules


def run(frames_: Frames, rules: LeakageRules | None = None, **kw: Any) -> LeakageResult:
    return find_leakage(frames_, rules or default_leakage_rules(), as_of=AS_OF, **kw)
