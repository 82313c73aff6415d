"""Sending a linked invoice by QBO's e-mail from HubSpot, and what the card then shows (sent, pay link).

QBO sends the e-mail itself (`POST /invoice/{id}/send`), from the company's own template, with its
pay-online button when the company takes online payments; we only ask it to, then record the answer
like any other change of the invoice, so the deal's properties and the card follow at once.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hubqbo.clients.errors import ApiError, RateLimited, Unavailable
from hubqbo.domain.invoice_draft import FieldError
from hubqbo.errors import NotFound, UpstreamError
from hubqbo.observability import logger
from hubqbo.services.invoice_common import FieldProblems, WizardToken, _qbo, _today, _validation_fault, invoice_json
from hubqbo.services.invoice_links import InvoicePorts, apply_invoice_change


def N_(message: str) -> str:
    """Marks a message for extraction; the edge translates it into the user's language."""
    return message


NO_ADDRESS = N_("Enter the e-mail address to send the invoice to.")
BAD_ADDRESS = N_("Enter one e-mail address, like name@example.com.")
VOIDED = N_("A voided invoice cannot be sent.")
REFUSED = N_("QuickBooks refused to send the invoice. Check the address and the invoice in QuickBooks.")
NO_ANSWER = N_("QuickBooks did not answer. The invoice may not have been sent: check the card before sending again.")

# One address, as QBO's BillEmail takes it (at most 100 characters): enough to refuse a typo before QBO does.
EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")


class SendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    realm_id: str = Field(pattern=r"^\d{1,20}$")
    invoice_id: str = Field(pattern=r"^\d{1,20}$")
    to: str | None = Field(default=None, max_length=100)

    @field_validator("to")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None


class SendUnavailable(UpstreamError):
    """QBO could not be reached or was busy: the invoice may or may not have been e-mailed, so the user
    checks the card (which shows "Sent") before trying again; we never re-send on our own."""

    status = 503


def send_form(ports: InvoicePorts, token: WizardToken, realm_id: str, invoice_id: str) -> dict[str, Any]:
    """What the send page shows: the invoice, and the address QBO would use (its BillEmail)."""
    snap = _linked_snapshot(ports, token, realm_id, invoice_id)
    return {"invoice": invoice_json(snap, _today(ports, token.portal_id)), "to": snap.invoice.bill_email}


def send_invoice(ports: InvoicePorts, token: WizardToken, request: SendRequest) -> dict[str, Any]:
    """E-mail an invoice linked to the token's record, to `to` or its BillEmail; the invoice as it now is."""
    snap = _linked_snapshot(ports, token, request.realm_id, request.invoice_id)
    if snap.invoice.voided:
        raise FieldProblems([FieldError(field="form", message=VOIDED)])
    address = request.to or snap.invoice.bill_email
    if not address:
        raise FieldProblems([FieldError(field="to", message=NO_ADDRESS)])
    if not EMAIL.match(address):
        raise FieldProblems([FieldError(field="to", message=BAD_ADDRESS)])
    _, qbo = _qbo(ports, token.portal_id, request.realm_id)
    try:
        sent = qbo.send_invoice(request.invoice_id, request.to)
    except (RateLimited, Unavailable) as exc:
        raise SendUnavailable(NO_ANSWER) from exc
    except ApiError as exc:
        if _validation_fault(exc):  # QBO's own words stay in the log; the user gets ours
            logger.info("QuickBooks refused to send an invoice", extra={"code": exc.code})
            raise FieldProblems([FieldError(field="to", message=REFUSED)]) from None
        raise
    apply_invoice_change(ports, token.portal_id, request.realm_id, sent, invoice_id=request.invoice_id)
    logger.info("Invoice sent from HubSpot", extra={"portal_id": token.portal_id, "realm_id": request.realm_id})
    refreshed = _linked_snapshot(ports, token, request.realm_id, request.invoice_id)
    return {"invoice": invoice_json(refreshed, _today(ports, token.portal_id)), "sent_to": address}


def _linked_snapshot(ports: InvoicePorts, token: WizardToken, realm_id: str, invoice_id: str) -> Any:
    """The invoice, only if it is linked to the token's own record (anything else is "not found")."""
    linked = any(
        link.realm_id == realm_id and link.invoice_id == invoice_id
        for link in ports.invoices.links_for_record(token.portal_id, token.object_type, token.object_id)
    )
    snap = ports.invoices.snapshots(token.portal_id, [(realm_id, invoice_id)]).get((realm_id, invoice_id))
    if not linked or snap is None:
        raise NotFound("This invoice is not linked to this record.")
    return snap
