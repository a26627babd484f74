"""The canonical model: the tables, columns and column kinds every stage and test relies on.

Every extractor turns its source into these tables; every later stage reads only these names.
IDs are text (leading zeros kept), amounts are exact decimals, dates are dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd
import pyarrow as pa

Kind = Literal["id", "text", "amount", "date", "bool"]

# Exact decimals, vectorized by Arrow: sums tie out to the cent, and 38 digits hold any currency.
AMOUNT_DTYPE = pd.ArrowDtype(pa.decimal128(38, 4))
TEXT_DTYPE = pd.StringDtype()
DATE_DTYPE = "datetime64[ns]"
BOOL_DTYPE = "boolean"

DTYPES: dict[Kind, object] = {
    "id": TEXT_DTYPE,
    "text": TEXT_DTYPE,
    "amount": AMOUNT_DTYPE,
    "date": DATE_DTYPE,
    "bool": BOOL_DTYPE,
}


@dataclass(frozen=True)
class Column:
    """One canonical column. ``required``: every row needs a value (an empty one quarantines the
    row). ``needs_header``: the source must have the column, though a row may leave it empty."""

    name: str
    kind: Kind
    required: bool = False
    needs_header: bool = False


@dataclass(frozen=True)
class TableSpec:
    name: str
    key: str
    columns: tuple[Column, ...]
    required_table: bool = True
    system: Literal["crm", "erp", "reference"] = "crm"
    amount_currency: str = ""  # the column naming the currency of the table's amounts, if any

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        """Columns a source must have (a missing one stops the load)."""
        return [c.name for c in self.columns if c.required or c.needs_header]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _cols(spec: str) -> tuple[Column, ...]:
    """Parse ``"company_id:id! name:text! amount:amount+ domain:text"``.

    ``!`` marks a required column (the source must have it and every row a value); ``+`` a column
    the source must have but a row may leave empty.
    """
    out = []
    for item in spec.split():
        name, kind = item.split(":")
        out.append(
            Column(
                name,
                kind.rstrip("!+"),  # type: ignore[arg-type]
                required=kind.endswith("!"),
                needs_header=kind.endswith("+"),
            )
        )
    return tuple(out)


TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec(
            "crm_companies",
            "company_id",
            _cols(
                "company_id:id! name:text! domain:text website:text email:text phone:text "
                "address:text city:text region:text postcode:text country:text owner:text "
                "created_at:date updated_at:date erp_customer_id:id"
            ),
            system="crm",
        ),
        TableSpec(
            "crm_deals",
            "deal_id",
            _cols(
                # An open or lost deal often has no amount yet (HubSpot leaves it empty): such
                # rows are kept with the amount missing; the checks decide what a won one means.
                "deal_id:id! company_id:id! stage:text! amount:amount+ close_date:date! "
                "deal_name:text currency:text owner:text pipeline:text"
            ),
            amount_currency="currency",
            system="crm",
        ),
        TableSpec(
            "erp_customers",
            "customer_id",
            _cols(
                "customer_id:id! name:text! email:text website:text phone:text "
                "billing_address:text city:text region:text postcode:text country:text "
                "tax_id:text credit_limit:amount payment_terms:text ar_balance:amount "
                "credit_hold:bool crm_company_id:id"
            ),
            system="erp",
        ),
        TableSpec(
            "erp_orders",
            "order_id",
            _cols(
                "order_id:id! customer_id:id! order_date:date! amount:amount! currency:text "
                "status:text crm_deal_ref:text"
            ),
            amount_currency="currency",
            system="erp",
        ),
        TableSpec(
            "erp_invoices",
            "invoice_id",
            _cols(
                "invoice_id:id! customer_id:id! invoice_date:date! amount:amount! order_id:id "
                "due_date:date paid_amount:amount currency:text status:text"
            ),
            required_table=False,
            amount_currency="currency",
            system="erp",
        ),
        TableSpec(
            "fx_rates",
            "",
            _cols("currency:text! rate:amount! date:date"),
            required_table=False,
            system="reference",
        ),
    )
}

# Features that need an optional column, so the load summary can say what will be skipped.
FEATURES_NEEDING: dict[tuple[str, str], str] = {
    ("crm_companies", "domain"): "domain matching from the CRM domain field",
    ("crm_companies", "website"): "domain matching from CRM websites",
    ("crm_companies", "email"): "domain matching from CRM e-mail addresses",
    ("crm_companies", "phone"): "phone matching",
    ("crm_companies", "postcode"): "postcode blocking and scoring",
    ("crm_companies", "country"): "country-aware normalization",
    ("crm_companies", "erp_customer_id"): "checking existing CRM→ERP links",
    ("crm_companies", "updated_at"): "stale-record checks",
    ("crm_deals", "currency"): "multi-currency leakage (deal amounts taken as base currency)",
    ("crm_deals", "owner"): "value at risk by owner",
    ("erp_customers", "tax_id"): "tax-ID matching",
    ("erp_customers", "crm_company_id"): "checking existing ERP→CRM links",
    ("erp_customers", "credit_hold"): "credit-hold findings",
    ("erp_customers", "ar_balance"): "AR overview",
    ("erp_orders", "status"): "ignoring cancelled orders",
    ("erp_orders", "crm_deal_ref"): "matching orders by deal reference",
    ("erp_orders", "currency"): "multi-currency leakage (order amounts taken as base currency)",
    ("erp_invoices", "paid_amount"): "payments in month-end reconciliation",
    ("erp_invoices", "due_date"): "overdue amounts in the AR overview",
}
