"""The "QuickBooks" property group on deals, and the values a deal gets from its linked invoices.

Definitions are data shaped for HubSpot's properties API (`POST /crm/properties/2026-09/deals/groups`, and
`POST /crm/properties/2026-03/deals` for each property: the version whose create takes the currency hint).
Values are HubSpot's encodings: every value a string, numbers in plain notation, dates `YYYY-MM-DD`, "" to
clear.

Which invoice speaks for the deal: the one most recently updated in QBO, among the invoices in the
portal's company currency. An invoice in another currency never writes the deal properties (the
native app's rule: an amount in EUR in a USD property would be wrong in every report); it is listed
in `skipped` with a message the card shows, and still appears on the card itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from hubqbo.domain.dates import hubspot_date
from hubqbo.domain.invoice_status import STATUS_LABELS, invoice_status
from hubqbo.domain.money import ZERO, hubspot_number
from hubqbo.domain.qbo_invoice import QboInvoice

GROUP_NAME = "quickbooks"


class DealProperty(StrEnum):
    INVOICE_AMOUNT = "hubqbo_invoice_amount"
    INVOICE_RECIPIENT = "hubqbo_invoice_recipient"
    INVOICE_NUMBER = "hubqbo_invoice_number"
    INVOICE_STATUS = "hubqbo_invoice_status"
    INVOICE_DUE_DATE = "hubqbo_invoice_due_date"
    QBO_COMPANY = "hubqbo_qbo_company"
    INVOICE_BALANCE = "hubqbo_invoice_balance"
    LAST_PAYMENT_DATE = "hubqbo_last_payment_date"
    INVOICE_SENT = "hubqbo_invoice_sent"
    PAYMENT_LINK = "hubqbo_invoice_payment_link"


def property_group() -> dict[str, Any]:
    """Body for `POST /crm/properties/2026-09/deals/groups`."""
    return {"name": GROUP_NAME, "label": "QuickBooks", "displayOrder": -1}


def _prop(name: DealProperty, label: str, description: str, kind: str, order: int, **extra: Any) -> dict[str, Any]:
    field_type = {"string": "text", "number": "number", "date": "date", "datetime": "date", "enumeration": "select"}[
        kind
    ]
    return {
        "name": str(name),
        "label": label,
        "description": description,
        "groupName": GROUP_NAME,
        "type": kind,
        "fieldType": field_type,
        "displayOrder": order,
        "formField": False,
        **extra,
    }


def _money(name: DealProperty, label: str, description: str, order: int) -> dict[str, Any]:
    return _prop(name, label, description, "number", order, numberDisplayHint="currency", showCurrencySymbol=True)


def property_definitions() -> list[dict[str, Any]]:
    """Each a body for `POST /crm/properties/2026-03/deals` (see `hubspot_paths.PROPERTY_CREATE_VERSION`)."""
    options = [
        {"label": label, "value": str(status), "displayOrder": n, "hidden": False}
        for n, (status, label) in enumerate(STATUS_LABELS.items())
    ]
    p = DealProperty
    return [
        _money(p.INVOICE_AMOUNT, "Invoice amount", "Total of the QuickBooks invoice, tax included.", 0),
        _prop(p.INVOICE_RECIPIENT, "Invoice recipient", "The QuickBooks customer billed.", "string", 1),
        _prop(p.INVOICE_NUMBER, "Invoice number", "The QuickBooks invoice number.", "string", 2),
        _prop(
            p.INVOICE_STATUS,
            "Invoice status",
            "Where the QuickBooks invoice stands.",
            "enumeration",
            3,
            options=options,
        ),
        _prop(p.INVOICE_DUE_DATE, "Invoice due date", "When the QuickBooks invoice is due.", "date", 4),
        _prop(p.QBO_COMPANY, "QuickBooks company", "The QuickBooks company the invoice is in.", "string", 5),
        _money(p.INVOICE_BALANCE, "Invoice balance", "What is still owed on the QuickBooks invoice.", 6),
        _prop(p.LAST_PAYMENT_DATE, "Last payment date", "When the last payment on the invoice was made.", "date", 7),
        _prop(p.INVOICE_SENT, "Invoice sent", "When QuickBooks last emailed the invoice.", "datetime", 8),
        _prop(
            p.PAYMENT_LINK,
            "Invoice payment link",
            "QuickBooks' pay-online page for the invoice, while something is owed (for e-mails and sequences).",
            "string",
            9,
        ),
    ]


class LinkedInvoice(BaseModel):
    """An invoice linked to the deal, with what QBO's invoice record itself does not carry."""

    model_config = ConfigDict(frozen=True)

    invoice: QboInvoice
    company_name: str
    last_payment_date: date | None = None


class SkipReason(StrEnum):
    CURRENCY_DIFFERS = "currency_differs"
    CURRENCY_UNKNOWN = "currency_unknown"


class SkippedInvoice(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoice_id: str
    reason: SkipReason
    message: str


class DealPropertyValues(BaseModel):
    """`properties` is None when the deal must be left as it is; {} never happens."""

    model_config = ConfigDict(frozen=True)

    properties: dict[str, str] | None
    source_invoice_id: str | None = None
    skipped: tuple[SkippedInvoice, ...] = ()


_EPOCH = datetime.min.replace(tzinfo=UTC)


def _precedence(linked: LinkedInvoice) -> tuple[bool, datetime, int, str]:
    """Which linked invoice the deal shows: any invoice that is not voided wins over a voided one (a void
    must not hide an invoice that is still open), then the most recently updated."""
    invoice = linked.invoice
    return (not invoice.voided, invoice.last_updated or _EPOCH, len(invoice.id), invoice.id)  # ids: length first


def _name(invoice: QboInvoice) -> str:
    return f"Invoice {invoice.doc_number}" if invoice.doc_number else f"Invoice (QuickBooks id {invoice.id})"


def cleared_values() -> dict[str, str]:
    """Every property emptied: the deal has no linked invoice any more."""
    return {str(p): "" for p in DealProperty}


def values_for(linked: LinkedInvoice, today: date) -> dict[str, str]:
    invoice = linked.invoice
    owed = not invoice.voided and invoice.balance > ZERO  # a link to pay nothing must not reach an e-mail
    return {
        DealProperty.INVOICE_AMOUNT: hubspot_number(invoice.total),
        DealProperty.INVOICE_RECIPIENT: invoice.customer_name or invoice.bill_email or "",
        DealProperty.INVOICE_NUMBER: invoice.doc_number or "",
        DealProperty.INVOICE_STATUS: str(invoice_status(invoice, today)),
        DealProperty.INVOICE_DUE_DATE: hubspot_date(invoice.due_date),
        DealProperty.QBO_COMPANY: linked.company_name,
        DealProperty.INVOICE_BALANCE: hubspot_number(ZERO if invoice.voided else invoice.balance),  # nothing is owed
        DealProperty.LAST_PAYMENT_DATE: hubspot_date(linked.last_payment_date),
        DealProperty.INVOICE_SENT: invoice.sent_at.isoformat().replace("+00:00", "Z") if invoice.sent_at else "",
        DealProperty.PAYMENT_LINK: (invoice.payment_link or "") if owed else "",
    }


def deal_property_values(invoices: Iterable[LinkedInvoice], *, portal_currency: str, today: date) -> DealPropertyValues:
    """The deal's property values from all its linked invoices (order of `invoices` does not matter).

    No linked invoice → every property cleared. Linked invoices but none in `portal_currency` →
    `properties=None` (leave the deal alone) with the reasons in `skipped`.
    """
    linked = list(invoices)
    if not linked:
        return DealPropertyValues(properties=cleared_values())
    portal = portal_currency.upper()
    eligible: list[LinkedInvoice] = []
    skipped: list[SkippedInvoice] = []
    for item in linked:
        invoice = item.invoice
        if invoice.currency is None:
            message = f"{_name(invoice)}: its currency is unknown, so the deal properties were not updated."
            skipped.append(SkippedInvoice(invoice_id=invoice.id, reason=SkipReason.CURRENCY_UNKNOWN, message=message))
        elif invoice.currency != portal:
            message = (
                f"{_name(invoice)} is in {invoice.currency}; deal properties only show invoices in the "
                f"HubSpot account's company currency ({portal})."
            )
            skipped.append(SkippedInvoice(invoice_id=invoice.id, reason=SkipReason.CURRENCY_DIFFERS, message=message))
        else:
            eligible.append(item)
    skipped.sort(key=lambda s: s.invoice_id)
    if not eligible:
        return DealPropertyValues(properties=None, skipped=tuple(skipped))
    winner = max(eligible, key=_precedence)
    values = {str(k): v for k, v in values_for(winner, today).items()}
    return DealPropertyValues(properties=values, source_invoice_id=winner.invoice.id, skipped=tuple(skipped))
