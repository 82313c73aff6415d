"""An estimate's body from the invoice the wizard's rules would create: QBO books both the same way.

Finance.xsd makes Estimate and Invoice both SalesTransactions (customer, lines, currency, tax, memo, number);
the estimate adds `ExpirationDate` ("date by which estimate must be accepted"), `AcceptedBy`, `AcceptedDate`
and the status `TxnStatus` (Pending, Accepted, Closed or Rejected; Intuit's Estimate entity,
https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/estimate). A new one is
Pending; it owes nothing, so it has no due date.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

PENDING = "Pending"
MAX_VALID_DAYS = 3650
_INVOICE_ONLY = ("DueDate",)


def estimate_body(invoice_body: dict[str, Any], expiration_date: date | None) -> dict[str, Any]:
    """The `POST /estimate` body for an invoice body built by `invoice_draft.build_invoice`."""
    body = {k: v for k, v in invoice_body.items() if k not in _INVOICE_ONLY}
    body["TxnStatus"] = PENDING
    if expiration_date is not None:
        body["ExpirationDate"] = expiration_date.isoformat()
    return body


def expiration(txn_date: date, valid_days: int | None, quote_expires: date | None) -> date | None:
    """How long the estimate stands: the days the action asks for, else the quote's own expiry, else open."""
    if valid_days is not None:
        return txn_date + timedelta(days=max(0, min(valid_days, MAX_VALID_DAYS)))
    if quote_expires is not None and quote_expires >= txn_date:
        return quote_expires
    return None
