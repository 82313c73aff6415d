"""The reconciliation (drift) report's rules: what differs between HubSpot and QBO, decided without I/O.

QBO is the source of truth. The service (`services.drift`) reads both sides in batches and hands each
comparison here; every difference becomes one `DriftRow` that names both records, the field, both
values and the rule that explains it (a catalog message, so the settings page says it in the
reader's language).

What is compared:

- a deal linked to invoices: its invoice amount, balance, status and due date against what
  `deal_properties.deal_property_values` makes of the invoices as QBO holds them now (the same rule
  that writes them: the most recently updated invoice in the portal's currency speaks for the deal);
- a synced record (HubSpot invoice, contact, product) against what the tab's current field mappings
  make of its QBO record (`mappings.record_values`, compared as `sync_plan.changed_values` compares
  them, so "75" equals "75.00" here exactly as it does for the sync engine);
- links whose record is gone on either side, and QBO invoices of linked customers that no deal shows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from hubqbo.domain.deal_properties import DealProperty, property_definitions
from hubqbo.domain.field_types import HubSpotProperty, HubSpotRecord
from hubqbo.domain.mappings import Tab
from hubqbo.domain.sync_plan import changed_values
from hubqbo.domain.text import N_

DriftKind = Literal["deal", "record", "missing_in_qbo", "missing_in_hubspot", "unattached"]

# The deal properties the report compares (the invoice's figures a finance team reconciles).
DEAL_FIELDS: tuple[str, ...] = (
    DealProperty.INVOICE_AMOUNT,
    DealProperty.INVOICE_BALANCE,
    DealProperty.INVOICE_STATUS,
    DealProperty.INVOICE_DUE_DATE,
)
_NUMBER_FIELDS = frozenset({DealProperty.INVOICE_AMOUNT, DealProperty.INVOICE_BALANCE})
_DATE_FIELDS = frozenset({DealProperty.INVOICE_DUE_DATE})

# rule -> the sentence that explains a row (English message id; Polish in the catalogs)
RULES: dict[str, str] = {
    "deal_property": N_(
        "The deal's invoice property differs from the QuickBooks invoice; QuickBooks is the source of truth."
    ),
    "mapped_field": N_(
        "The HubSpot value differs from what the field mapping makes of the QuickBooks value; "
        "QuickBooks is the source of truth."
    ),
    "qbo_invoice_deleted": N_("The invoice was deleted in QuickBooks, but the HubSpot record is still linked to it."),
    "qbo_record_inactive": N_(
        "The QuickBooks record is inactive and deletions archive the HubSpot record, but it is still there."
    ),
    "hubspot_record_deleted": N_("The HubSpot record was deleted, but the link to the QuickBooks invoice remains."),
    "hubspot_invoice_missing": N_(
        "The QuickBooks invoice is synced, but no HubSpot invoice is linked to it (it may have been deleted)."
    ),
    "unattached_invoice": N_(
        "This QuickBooks invoice belongs to a customer with linked invoices but is attached to no deal. "
        "Attach it from the deal's card (Add existing invoice) if it belongs to one."
    ),
}
FIXABLE_RULES = frozenset(RULES) - {"unattached_invoice"}


class DriftRow(BaseModel):
    """One difference. `id` is stable for the same difference, so a row found again keeps its id."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: DriftKind
    rule: str
    qbo_entity: str  # Invoice, Customer, Item
    qbo_id: str
    hubspot_type: str | None = None  # deals, contacts, companies, products, invoices
    hubspot_id: str | None = None
    field: str = ""  # the HubSpot property that differs ("" for a missing record)
    field_label: str = ""  # its label in HubSpot (the portal's words, shown with the name)
    qbo_value: str = ""
    hubspot_value: str = ""
    fixable: bool = True
    fixed: bool = False


def row(
    kind: DriftKind,
    rule: str,
    qbo_entity: str,
    qbo_id: str,
    hubspot_type: str | None = None,
    hubspot_id: str | None = None,
    field: str = "",
    qbo_value: Any = "",
    hubspot_value: Any = "",
    field_label: str = "",
) -> DriftRow:
    identity = "|".join((kind, rule, qbo_entity, qbo_id, hubspot_type or "", hubspot_id or "", field))
    return DriftRow(
        id=hashlib.sha256(identity.encode()).hexdigest()[:16],
        kind=kind,
        rule=rule,
        qbo_entity=qbo_entity,
        qbo_id=qbo_id,
        hubspot_type=hubspot_type,
        hubspot_id=hubspot_id,
        field=field,
        field_label=field_label,
        qbo_value="" if qbo_value is None else str(qbo_value),
        hubspot_value="" if hubspot_value is None else str(hubspot_value),
        fixable=rule in FIXABLE_RULES,
    )


def _same_deal_value(name: str, expected: str, current: str | None) -> bool:
    """Compared as HubSpot stores them: numbers by value ("75" is "75.00"), dates by their day."""
    now = (current or "").strip()
    if name in _NUMBER_FIELDS and expected and now:
        try:
            return Decimal(expected) == Decimal(now)
        except InvalidOperation:
            return False
    if name in _DATE_FIELDS:
        return expected[:10] == now[:10]
    return expected.strip() == now


def compare_deal(
    deal_id: str, source_invoice_id: str, expected: Mapping[str, str], current: Mapping[str, str | None]
) -> list[DriftRow]:
    """The deal's invoice figures that differ from what its invoices in QBO say (`expected`: the deal
    property values computed from them; `source_invoice_id`: the invoice that speaks for the deal)."""
    labels = {str(d["name"]): str(d["label"]) for d in property_definitions()}
    return [
        row(
            "deal",
            "deal_property",
            "Invoice",
            source_invoice_id,
            "deals",
            deal_id,
            name,
            expected[name],
            current.get(name),
            labels.get(name, ""),
        )
        for name in DEAL_FIELDS
        if name in expected and not _same_deal_value(name, expected[name], current.get(name))
    ]


def compare_record(
    tab: Tab,
    qbo_id: str,
    record: HubSpotRecord,
    values: Mapping[str, str],
    properties: Mapping[str, HubSpotProperty],
) -> list[DriftRow]:
    """The mapped properties of a linked HubSpot record whose values differ from what the mappings make
    of its QBO record (`values` from `mappings.record_values`); the link property itself is not a field."""
    changed = changed_values(values, record.properties, properties)
    return [
        row(
            "record",
            "mapped_field",
            tab.entity,
            qbo_id,
            tab.object_type,
            record.id,
            name,
            value,
            record.properties.get(name),
            properties[name].label,
        )
        for name, value in sorted(changed.items())
        if name != tab.link_property and name in properties
    ]


def unattached_invoices(
    invoices: Iterable[Mapping[str, Any]], linked_ids: set[str], deal_of_customer: Mapping[str, str]
) -> list[DriftRow]:
    """QBO invoices of linked customers that no HubSpot record is linked to. Deleted and voided invoices
    are no one's business; the HubSpot side names a deal of the same customer, where it can be attached."""
    from hubqbo.domain.mappings import is_voided

    rows = []
    for raw in invoices:
        invoice_id = str(raw.get("Id"))
        if invoice_id in linked_ids or str(raw.get("status", "")).lower() == "deleted" or is_voided(dict(raw)):
            continue
        customer = str((raw.get("CustomerRef") or {}).get("value") or "")
        deal = deal_of_customer.get(customer)
        total = raw.get("TotalAmt")
        rows.append(
            row(
                "unattached",
                "unattached_invoice",
                "Invoice",
                invoice_id,
                "deals" if deal else None,
                deal,
                "",
                f"{raw.get('DocNumber') or invoice_id} ({total})" if total is not None else invoice_id,
                "",
            )
        )
    return rows


def counts(rows: Iterable[DriftRow]) -> dict[str, int]:
    """Rows per rule (for the report's summary and the job's result)."""
    found: dict[str, int] = {}
    for r in rows:
        found[r.rule] = found.get(r.rule, 0) + 1
    return dict(sorted(found.items()))
