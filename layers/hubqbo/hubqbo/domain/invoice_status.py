"""The invoice status shown on the card and written to the deal, as one pure rule.

The rule is applied in the order the product states it, first match wins:

1. voided                              → voided
2. Balance 0 and TotalAmt > 0          → paid in full
3. 0 < Balance < TotalAmt              → partial payment
4. due date passed and Balance > 0     → overdue
5. EmailStatus is EmailSent            → sent to customer
6. otherwise                           → waiting to be sent

Consequences of that order, on purpose: a partly paid invoice past its due date is "partial
payment", not "overdue" (a payment arrived; the balance still shows on the card); a zero-total
invoice that is not voided is never paid, partial or overdue, so it is "sent" or "waiting".
"Past due" means the due date is strictly before today, so an invoice is still on time on its due
date. Today is the caller's: the calendar day in the zone that judges the due date.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from hubqbo.domain.money import ZERO
from hubqbo.domain.qbo_invoice import QboInvoice


class InvoiceStatus(StrEnum):
    """Stable machine words, used as the HubSpot enumeration values; never rename one."""

    WAITING_TO_BE_SENT = "waiting_to_be_sent"
    SENT_TO_CUSTOMER = "sent_to_customer"
    PARTIAL_PAYMENT = "partial_payment"
    PAID_IN_FULL = "paid_in_full"
    OVERDUE = "overdue"
    VOIDED = "voided"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


# The native app's stage names, in its order, plus "Voided".
STATUS_LABELS: dict[InvoiceStatus, str] = {
    InvoiceStatus.WAITING_TO_BE_SENT: "Waiting to be sent",
    InvoiceStatus.SENT_TO_CUSTOMER: "Sent to customer",
    InvoiceStatus.PARTIAL_PAYMENT: "Partial payment",
    InvoiceStatus.PAID_IN_FULL: "Paid in full",
    InvoiceStatus.OVERDUE: "Overdue",
    InvoiceStatus.VOIDED: "Voided",
}


def invoice_status(invoice: QboInvoice, today: date) -> InvoiceStatus:
    """The status of `invoice` on `today` (see the module docstring for the rule and its order)."""
    total, balance = invoice.total, invoice.balance
    if invoice.voided:
        return InvoiceStatus.VOIDED
    if balance <= ZERO and total > ZERO:  # QBO never shows a negative balance; treat one as settled
        return InvoiceStatus.PAID_IN_FULL
    if ZERO < balance < total:
        return InvoiceStatus.PARTIAL_PAYMENT
    if invoice.due_date is not None and invoice.due_date < today and balance > ZERO:
        return InvoiceStatus.OVERDUE
    if invoice.email_status == "EmailSent":
        return InvoiceStatus.SENT_TO_CUSTOMER
    return InvoiceStatus.WAITING_TO_BE_SENT
