"""What we read from a QBO invoice: the few facts the status, the card and the deal properties need.

QBO never deletes a voided invoice: it keeps the record with every amount zeroed and puts "Voided"
at the start of PrivateNote. A deleted invoice comes back (CDC, or a read after a Delete webhook)
only as `{"Id": .., "status": "Deleted"}`; it has no status and should be unlinked.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from hubqbo.domain.dates import parse_date, parse_instant
from hubqbo.domain.money import ZERO, to_decimal

VOID_NOTE_PREFIX = "voided"


class QboInvoice(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    doc_number: str | None = None
    customer_id: str
    customer_name: str | None = None
    bill_email: str | None = None
    txn_date: date | None = None
    due_date: date | None = None
    total: Decimal = ZERO
    balance: Decimal = ZERO
    currency: str | None = None
    email_status: str = "NotSet"
    sent_at: datetime | None = None  # when QBO last emailed it (DeliveryInfo.DeliveryTime)
    payment_link: str | None = None  # QBO's pay-online page (InvoiceLink), where the company takes payments
    private_note: str = ""
    last_updated: datetime | None = None
    voided: bool = False

    @property
    def paid(self) -> Decimal:
        return max(self.total - self.balance, ZERO)


class DeletedInvoice(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    last_updated: datetime | None = None


def looks_voided(total: Decimal, private_note: str) -> bool:
    """QBO's mark of a void: a zero total and a private note that starts with "Voided"."""
    return total == ZERO and private_note.strip().lower().startswith(VOID_NOTE_PREFIX)


def _web_link(link: Any) -> str | None:
    """A pay link we may put on a card: a web address only (never `javascript:` or the like)."""
    text = str(link or "").strip()
    return text[:2000] if text.lower().startswith(("https://", "http://")) else None


def _instant_or_none(value: Any) -> datetime | None:
    try:
        return parse_instant(value)
    except ValueError:
        return None


def read_invoice(
    raw: dict[str, Any], *, home_currency: str | None = None, voided: bool = False
) -> QboInvoice | DeletedInvoice:
    """A QBO Invoice JSON object (as the API returns it) in our shape.

    `home_currency` stands in when the invoice carries no CurrencyRef; `voided=True` lets a caller
    that saw a Void change say so even if someone has since edited the note.
    """
    meta = raw.get("MetaData") or {}
    updated = parse_instant(meta.get("LastUpdatedTime"))
    if str(raw.get("status", "")).lower() == "deleted":
        return DeletedInvoice(id=str(raw["Id"]), last_updated=updated)
    customer = raw.get("CustomerRef") or {}
    total = to_decimal(raw.get("TotalAmt"), ZERO)
    note = str(raw.get("PrivateNote") or "")
    currency = (raw.get("CurrencyRef") or {}).get("value") or home_currency
    return QboInvoice(
        id=str(raw["Id"]),
        doc_number=raw.get("DocNumber") or None,
        customer_id=str(customer.get("value", "")),
        customer_name=customer.get("name") or None,
        bill_email=(raw.get("BillEmail") or {}).get("Address") or None,
        txn_date=parse_date(raw.get("TxnDate")),
        due_date=parse_date(raw.get("DueDate")),
        total=total,
        balance=to_decimal(raw.get("Balance"), ZERO),
        currency=currency.upper() if currency else None,
        email_status=str(raw.get("EmailStatus") or "NotSet"),
        sent_at=_instant_or_none((raw.get("DeliveryInfo") or {}).get("DeliveryTime")),
        payment_link=_web_link(raw.get("InvoiceLink")),
        private_note=note,
        last_updated=updated,
        voided=voided or looks_voided(total, note),
    )
