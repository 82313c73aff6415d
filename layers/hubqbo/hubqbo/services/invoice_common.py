"""Invoices from deals: what the card, the wizard and attaching share (the token, QBO helpers, faults).

The card is served from the stored snapshots (no API call while HubSpot waits). The wizard pages
carry a short-lived signed token (`WizardToken`) scoped to the portal, user, record and locale; every
wizard API call checks it. The calls one invoice costs, from the deal page to the created invoice
(`docs/invoices.md` has the measured figures):

- `sources`: HubSpot reads the deal with its associations and the quotes (2 calls; 1 without quotes).
- `prepare`: HubSpot reads the quote, line items, contact and company; QBO answers everything the
  wizard needs (customer candidates, items, terms, tax codes, currencies, preferences, company,
  names that could clash, numbers that could clash) in **one batch call**. The company's context is
  kept in the wizard session so `create` does not read it again.
- `create`: one QBO call for the invoice (plus one for a new customer), then one HubSpot batch update
  of the deal (plus the deal properties, created once per portal).

Double submission: the wizard's idempotency key is the key of Powertools' idempotency on `create`
(a second click gets the first answer), and QBO's `requestid` (`i-<key>`, `c-<key>`) makes a retried
create return the first invoice or customer. A customer created before a failure is remembered in
the wizard session and reused by the retry.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from hubqbo.clients.errors import ApiError, QboFault
from hubqbo.clients.qbo import QboClient
from hubqbo.domain.connections import ConnectionStatus, Environment
from hubqbo.domain.dates import local_today
from hubqbo.domain.invoice_draft import FieldError
from hubqbo.domain.invoice_status import invoice_status
from hubqbo.domain.matching import QboCustomer
from hubqbo.domain.new_customer import NAME_NAMESPACE, display_name_queries
from hubqbo.errors import BadInput, NotFound, Unauthorized
from hubqbo.observability import logger
from hubqbo.security.signing import SignedValueError, Signer
from hubqbo.services.invoice_links import InvoicePorts
from hubqbo.store.connections import Connection
from hubqbo.store.invoices import InvoiceSnapshot

TOKEN_SECONDS = 3600
TOKEN_PURPOSE = "invoice-wizard"  # noqa: S105 - a signing label, not a secret
RECORD_TYPES = {"DEAL": "deals", "CONTACT": "contacts", "COMPANY": "companies"}
DEAL_PROPERTIES = ("dealname", "deal_currency_code", "amount")
CONTACT_PROPERTIES = ("email", "firstname", "lastname", "company", "phone")
COMPANY_PROPERTIES = ("name", "phone", "domain")
LINE_PROPERTIES = (
    "name",
    "hs_sku",
    "quantity",
    "price",
    "description",
    "hs_position_on_quote",
    "discount",
    "hs_discount_percentage",
)
SEARCH_LIMIT = 50


# -- errors with a field ----------------------------------------------------------------------------
class FieldProblems(BadInput):
    """Bad input the wizard shows next to its fields (`errors`: field → message)."""

    def __init__(self, errors: list[FieldError], message: str | None = None) -> None:
        self.errors = errors
        super().__init__(message or "; ".join(f"{e.field}: {e.message}" for e in errors))


# -- the wizard's token -------------------------------------------------------------------------------
class WizardToken(BaseModel):
    model_config = ConfigDict(frozen=True)

    portal_id: int
    user_id: int | None
    object_type: str  # deals | contacts | companies
    object_id: str
    locale: str | None = None
    # What the record's viewer may do beyond creating and attaching: "admin" once HubSpot's users API
    # said so (the company-wide numbering needs it); None until looked up.
    role: str | None = None


def _signer(ports: InvoicePorts) -> Signer:
    return Signer(ports.signing_secret, TOKEN_PURPOSE)


def issue_token(ports: InvoicePorts, token: WizardToken, seconds: int = TOKEN_SECONDS) -> str:
    payload = {"p": token.portal_id, "u": token.user_id, "t": token.object_type, "i": token.object_id}
    if token.locale:
        payload["l"] = token.locale
    if token.role:
        payload["r"] = token.role
    return _signer(ports).sign(payload, expires_at=int(ports.clock() + seconds))


def read_token(ports: InvoicePorts, value: str | None) -> WizardToken:
    """The token's scope; Unauthorized when it is missing, forged, for another purpose or expired."""
    try:
        payload = _signer(ports).verify(value, now=ports.clock())
    except SignedValueError:
        raise Unauthorized(
            "This page has expired or was not opened from HubSpot. Open it again from the record."
        ) from None
    return WizardToken(
        portal_id=int(payload["p"]),
        user_id=payload.get("u"),
        object_type=str(payload["t"]),
        object_id=str(payload["i"]),
        locale=payload.get("l"),
        role=payload.get("r"),
    )


# -- helpers ----------------------------------------------------------------------------------------------
def _connection(ports: InvoicePorts, portal_id: int, realm_id: str) -> Connection:
    connection = ports.connections.get_connection(portal_id, realm_id)
    if connection is None or connection.status == ConnectionStatus.DISCONNECTED:
        raise NotFound("This QuickBooks company is not connected to this HubSpot account.")
    return connection


def _qbo(ports: InvoicePorts, portal_id: int, realm_id: str) -> tuple[Connection, QboClient]:
    connection = _connection(ports, portal_id, realm_id)
    return connection, ports.qbo_client(portal_id, realm_id)


def _zone(ports: InvoicePorts, portal_id: int) -> str:
    portal = ports.connections.get_portal(portal_id)
    return (portal.time_zone if portal else None) or "UTC"


def _today(ports: InvoicePorts, portal_id: int) -> date:
    return local_today(ports.now(), _zone(ports, portal_id))


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def qbo_invoice_url(environment: str, invoice_id: str) -> str:
    host = "app.sandbox.qbo.intuit.com" if environment == Environment.SANDBOX else "app.qbo.intuit.com"
    return f"https://{host}/app/invoice?txnId={invoice_id}"


def _rows(answers: dict[str, dict[str, Any]], bid: str, entity: str) -> list[dict[str, Any]]:
    answer = answers.get(bid) or {}
    if answer.get("Fault"):
        logger.info("A batch query failed", extra={"bid": bid, "entity": entity})
        return []
    return (answer.get("QueryResponse") or {}).get(entity) or []


def _run_batch(client: QboClient, queries: list[tuple[str, str, str]]) -> dict[str, list[dict[str, Any]]]:
    """Queries (bid, entity, statement) in QBO batch calls; rows per bid (a failed item gives [])."""
    answers = client.batch([{"bId": bid, "Query": statement} for bid, _, statement in queries])
    return {bid: _rows(answers, bid, entity) for bid, entity, _ in queries}


def _name_queries(name: str, prefix: str) -> list[tuple[str, str, str]]:
    """Batch items listing the display names that could clash with `name` (customers, vendors, employees)."""
    statements = display_name_queries(name)
    return [(f"{prefix}{n}", e, s) for n, (e, s) in enumerate(zip(NAME_NAMESPACE, statements, strict=True))]


_ELEMENT_FIELDS = {
    "docnumber": "doc_number",
    "customerref": "customer_id",
    "displayname": "new_customer.display_name",
    "salestermref": "term_id",
    "duedate": "due_date",
    "txndate": "invoice_date",
    "billemail": "bill_email",
    "currencyref": "currency",
    "taxcoderef": "lines",
    "itemref": "lines",
}
_CODE_FIELDS = {"6140": "doc_number", "6210": "doc_number", "6240": "new_customer.display_name"}


# QBO's validation codes in our words (the fault's own text goes with them as the detail):
# https://developer.intuit.com/app/developer/qbo/docs/develop/troubleshooting/error-codes
_CODE_MESSAGES = {
    "6140": "Another invoice already has this number; enter another.",
    "6210": "Another invoice already has this number; enter another.",
    "6240": "Another customer, vendor or employee in QuickBooks already has this name; enter another.",
    "6000": "QuickBooks refused this invoice; check the details below.",
}
QBO_REFUSED = "QuickBooks refused this value; check it and try again."


def fault_problem(exc: ApiError) -> FieldError:
    """QBO's refusal as a problem next to its field: our message, QBO's text as the detail."""
    message = _CODE_MESSAGES.get(str(exc.code)) or QBO_REFUSED
    return FieldError(field=_fault_field(exc), message=message, detail=exc.message or None)


def _fault_field(exc: ApiError) -> str:
    element = exc.element.lower() if isinstance(exc, QboFault) else ""
    return _ELEMENT_FIELDS.get(element) or _CODE_FIELDS.get(str(exc.code)) or "form"


def _validation_fault(exc: ApiError) -> bool:
    """QBO refused the content (400 with a Fault): the user can fix it; anything else is upstream."""
    return exc.http_status in (200, 400) and bool(exc.code)


def _known(customer: QboCustomer) -> dict[str, Any]:
    return {"name": customer.display_name, "currency": customer.currency, "active": customer.active}


def invoice_json(snap: InvoiceSnapshot, today: date) -> dict[str, Any]:
    invoice = snap.invoice
    return {
        "realm_id": snap.realm_id,
        "id": invoice.id,
        "number": invoice.doc_number,
        "company": snap.company_name,
        "customer": invoice.customer_name,
        "total": _money(invoice.total),
        "balance": _money(invoice.balance),
        "currency": invoice.currency,
        "status": str(invoice_status(invoice, today)),
        "txn_date": invoice.txn_date.isoformat() if invoice.txn_date else None,
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
        "qbo_url": qbo_invoice_url(snap.environment, invoice.id),
        "sent_at": invoice.sent_at.isoformat() if invoice.sent_at else None,
        "payment_link": None if invoice.voided else invoice.payment_link,
    }
