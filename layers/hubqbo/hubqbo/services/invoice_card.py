"""The card's data, the invoice PDF, and searching and attaching existing invoices."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hubqbo.domain import qbo_query as q
from hubqbo.domain.connections import ConnectionStatus
from hubqbo.domain.invoice_status import InvoiceStatus, invoice_status
from hubqbo.domain.matching import customer_search_query
from hubqbo.errors import BadInput, NotFound
from hubqbo.services.invoice_common import RECORD_TYPES, WizardToken, _qbo, _today, _zone, invoice_json
from hubqbo.services.invoice_links import InvoicePorts, deal_values, link_invoices
from hubqbo.store.connections import Connection
from hubqbo.store.invoices import InvoiceSnapshot


# -- add existing invoices ------------------------------------------------------------------------------------------
class InvoiceSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    realm_id: str = Field(pattern=r"^\d{1,20}$")
    number: str | None = Field(default=None, max_length=21)
    customer: str | None = Field(default=None, max_length=100)
    date_from: date | None = None
    date_to: date | None = None
    status: InvoiceStatus | None = None


def search_invoices(ports: InvoicePorts, token: WizardToken, search: InvoiceSearch) -> list[dict[str, Any]]:
    """The company's invoices by number, customer name, date range and status (newest first, 100)."""
    connection, qbo = _qbo(ports, token.portal_id, search.realm_id)
    where = []
    if search.number and search.number.strip():
        where.append(q.starts_with("DocNumber", search.number.strip()))
    if search.date_from:
        where.append(q.gte("TxnDate", search.date_from))
    if search.date_to:
        where.append(q.lte("TxnDate", search.date_to))
    if search.customer and search.customer.strip():
        found = qbo.query(customer_search_query(search.customer, include_inactive=True, max_results=100))
        if not found:
            return []
        where.append(q.in_("CustomerRef", [str(c["Id"]) for c in found]))
    rows = qbo.query(q.select("Invoice", *where, order_by="TxnDate", descending=True, max_results=100))
    today = _today(ports, token.portal_id)
    linked = {
        link.invoice_id
        for link in ports.invoices.links_for_record(token.portal_id, token.object_type, token.object_id)
        if link.realm_id == search.realm_id
    }
    out = []
    for raw in rows:
        snap_like = InvoiceSnapshot(
            portal_id=token.portal_id,
            realm_id=search.realm_id,
            invoice=read_qbo(raw, connection),
            company_name=connection.company_name,
            environment=str(connection.environment),
        )
        item = invoice_json(snap_like, today)
        if search.status is not None and item["status"] != search.status:
            continue
        item["linked"] = item["id"] in linked
        out.append(item)
    return out


def read_qbo(raw: dict[str, Any], connection: Connection) -> Any:
    from hubqbo.domain.qbo_invoice import read_invoice

    return read_invoice(raw, home_currency=connection.home_currency)


class AttachRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    realm_id: str = Field(pattern=r"^\d{1,20}$")
    invoice_ids: list[str] = Field(min_length=1, max_length=100)

    @field_validator("invoice_ids")
    @classmethod
    def _digits(cls, value: list[str]) -> list[str]:
        if not all(v.isdigit() and len(v) <= 20 for v in value):
            raise ValueError("invoice ids are numbers")
        return list(dict.fromkeys(value))


def attach(ports: InvoicePorts, token: WizardToken, request: AttachRequest) -> dict[str, Any]:
    """Link existing QBO invoices to the record (one QBO query); deal properties follow."""
    connection, qbo = _qbo(ports, token.portal_id, request.realm_id)
    rows = qbo.query(q.select("Invoice", q.in_("Id", request.invoice_ids), max_results=len(request.invoice_ids)))
    found = {str(r["Id"]) for r in rows}
    missing = [i for i in request.invoice_ids if i not in found]
    if missing:
        raise NotFound("Some of these invoices do not exist in this QuickBooks company.")
    snaps, deals = link_invoices(
        ports, token.portal_id, connection, rows, token.object_type, token.object_id, source="attached", client=qbo
    )
    today = _today(ports, token.portal_id)
    return {"linked": [invoice_json(s, today) for s in snaps], "deal_properties_updated": bool(deals)}


# -- the preview ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InvoicePdf:
    content: bytes
    number: str | None  # the invoice's number (DocNumber) as the card knows it: the file is named after it


def invoice_pdf(ports: InvoicePorts, portal_id: int, realm_id: str, invoice_id: str) -> InvoicePdf:
    """The PDF of an invoice linked to a record of this portal (anything else is "not found")."""
    if not ports.invoices.links_for_invoice(portal_id, realm_id, invoice_id):
        raise NotFound("This invoice is not linked to this HubSpot account.")
    _, qbo = _qbo(ports, portal_id, realm_id)
    content = qbo.invoice_pdf(invoice_id)
    snapshot = ports.invoices.snapshot(portal_id, realm_id, invoice_id)
    return InvoicePdf(content, snapshot.invoice.doc_number if snapshot else None)


# -- the card ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CardInvoice:
    snapshot: InvoiceSnapshot
    status: str


@dataclass(frozen=True)
class CardData:
    """What the card shows, before wording: the invoices, the connections that need attention and
    the deal-property messages (invoices in another currency)."""

    object_type: str
    invoices: list[CardInvoice]
    reconnect: list[Connection]
    skipped: list[tuple[str, str, str]]  # (invoice number or id, currency, company currency)
    can_create: bool
    connected: bool
    company_status: dict[str, str] = field(default_factory=dict)  # realm -> connection status; absent: never connected
    time_zone: str = "UTC"  # the portal's, for the dates the card shows


def card_data(ports: InvoicePorts, portal_id: int, object_type: str, object_id: str) -> CardData:
    if object_type not in RECORD_TYPES.values():
        raise BadInput("The card is shown on deals, contacts and companies.")
    links = ports.invoices.links_for_record(portal_id, object_type, object_id)
    snaps = ports.invoices.snapshots(portal_id, [(link.realm_id, link.invoice_id) for link in links])
    today = _today(ports, portal_id)
    ordered = sorted(snaps.values(), key=lambda s: (s.invoice.txn_date or date.min, s.invoice.id), reverse=True)
    invoices = [CardInvoice(s, str(invoice_status(s.invoice, today))) for s in ordered]
    every_connection = ports.connections.list_connections(portal_id)
    connections = [c for c in every_connection if c.status != ConnectionStatus.DISCONNECTED]
    reconnect = [c for c in connections if c.status == ConnectionStatus.RECONNECT_NEEDED]
    skipped: list[tuple[str, str, str]] = []
    if object_type == "deals" and snaps:
        values = deal_values(ports, portal_id, object_id)
        portal = ports.connections.get_portal(portal_id)
        company_currency = ((portal.company_currency if portal else None) or "USD").upper()
        by_id = {s.invoice.id: s for s in snaps.values()}
        for skip in values.skipped:
            snap = by_id.get(skip.invoice_id)
            if snap is not None:
                skipped.append(
                    (snap.invoice.doc_number or snap.invoice.id, snap.invoice.currency or "?", company_currency)
                )
    return CardData(
        object_type=object_type,
        invoices=invoices,
        reconnect=reconnect,
        skipped=skipped,
        can_create=object_type == "deals" and any(c.status == ConnectionStatus.ACTIVE for c in connections),
        connected=bool(connections),
        company_status={c.realm_id: str(c.status) for c in every_connection},
        time_zone=_zone(ports, portal_id),
    )
