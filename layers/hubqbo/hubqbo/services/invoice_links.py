"""Invoices linked to HubSpot records: link, refresh the card's snapshot, keep the deal properties current.

The change pipeline calls `apply_invoice_change` when QBO says an invoice changed; the wizard and
"Add existing invoice" call `link_invoices` after creating or choosing invoices. Both end in
`refresh_deals`, the one place deal properties are written: every invoice linked to the deal is
weighed by `domain.deal_properties.deal_property_values` (most recently updated invoice wins; an
invoice in another currency than the portal's never writes them) and all deals go in one batch update.

Deal properties (the "QuickBooks" group) are created lazily, the first time a portal links an
invoice, and remembered per portal (`DEALPROPS` item): portals installed before this feature get
them too, and an install that never invoices creates nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from hubqbo import clock as product_clock
from hubqbo.clients.errors import ApiError, ReconnectNeeded
from hubqbo.clients.http import CallCounter
from hubqbo.clients.hubspot import HubSpotClient
from hubqbo.clients.qbo import QboClient
from hubqbo.domain import qbo_query as q
from hubqbo.domain.dates import local_today, parse_date
from hubqbo.domain.deal_properties import (
    DealPropertyValues,
    LinkedInvoice,
    deal_property_values,
    property_definitions,
    property_group,
)
from hubqbo.domain.qbo_invoice import DeletedInvoice, read_invoice
from hubqbo.observability import logger
from hubqbo.store.connections import Connection, ConnectionStore
from hubqbo.store.invoices import InvoiceLink, InvoiceSnapshot, InvoiceStore
from hubqbo.store.tracking import TrackingStore


def _no_routing_rules(portal_id: int) -> list[Any]:
    return []


DEAL_PROPERTIES_VERSION = 2  # 2: "Invoice sent" and "Invoice payment link"

__all__ = [
    "InvoiceLink",
    "InvoicePorts",
    "apply_invoice_change",
    "deal_values",
    "ensure_deal_properties",
    "link_invoices",
    "links_for_invoice",
    "refresh_deals",
    "snapshot_of",
]


@dataclass
class InvoicePorts:
    """What the invoicing use cases need. `qbo(portal, realm)` raises NotFound for a company the
    portal does not have and ReconnectNeeded for one waiting to be reconnected."""

    invoices: InvoiceStore
    connections: ConnectionStore
    qbo: Callable[[int, str], QboClient]
    hubspot: Callable[[int], HubSpotClient]
    clock: Callable[[], float] = product_clock.now
    signing_secret: str = ""  # signs the wizard's tokens and the card's links
    counter: CallCounter = field(default_factory=CallCounter)  # per provider, for the figures we report
    # portal -> its company routing rules in order (`domain.company_routing.RoutingRule`; the settings store)
    routing_rules: Callable[[int], list[Any]] = _no_routing_rules
    tracking: TrackingStore | None = None  # each company's class and location settings (None: not used)

    def qbo_client(self, portal_id: int, realm_id: str) -> QboClient:
        return self.counter.track(self.qbo(portal_id, realm_id))

    def hubspot_client(self, portal_id: int) -> HubSpotClient:
        return self.counter.track(self.hubspot(portal_id))

    def calls(self) -> dict[str, int]:
        """API calls made through this port set so far, per provider."""
        return self.counter.totals()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)


def links_for_invoice(ports: InvoicePorts, portal_id: int, realm_id: str, invoice_id: str) -> list[InvoiceLink]:
    """Every HubSpot record (deal, contact, company) of this portal the invoice is linked to."""
    return ports.invoices.links_for_invoice(portal_id, realm_id, invoice_id)


# -- snapshots --------------------------------------------------------------------------------------
def _payment_ids(raw: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        sorted(
            str(t.get("TxnId")) for t in raw.get("LinkedTxn") or [] if t.get("TxnType") == "Payment" and t.get("TxnId")
        )
    )


def _last_payment_date(client: QboClient, payment_ids: tuple[str, ...]) -> date | None:
    rows = client.query(q.select("Payment", q.in_("Id", list(payment_ids)), max_results=len(payment_ids)))
    days = [d for d in (parse_date(r.get("TxnDate")) for r in rows) if d is not None]
    return max(days) if days else None


def snapshot_of(
    ports: InvoicePorts,
    connection: Connection,
    raw: dict[str, Any],
    *,
    voided: bool = False,
    previous: InvoiceSnapshot | None = None,
    client: QboClient | None = None,
) -> InvoiceSnapshot | None:
    """The snapshot of a QBO invoice body (None for a deleted stub). The last payment date is read
    (one query) only when the invoice's payments changed since `previous`."""
    parsed = read_invoice(raw, home_currency=connection.home_currency, voided=voided)
    if isinstance(parsed, DeletedInvoice):
        return None
    payment_ids = _payment_ids(raw)
    last_payment = previous.last_payment_date if previous is not None else None
    if payment_ids and (previous is None or previous.payment_ids != payment_ids):
        try:
            qbo = client or ports.qbo_client(connection.portal_id, connection.realm_id)
            last_payment = _last_payment_date(qbo, payment_ids)
        except (ApiError, ReconnectNeeded) as exc:  # the card still updates; the date waits for the next change
            logger.warning("Could not read the invoice's payments", extra={"error_type": type(exc).__name__})
    elif not payment_ids:
        last_payment = None
    return InvoiceSnapshot(
        portal_id=connection.portal_id,
        realm_id=connection.realm_id,
        invoice=parsed,
        company_name=connection.company_name,
        environment=str(connection.environment),
        last_payment_date=last_payment,
        payment_ids=payment_ids,
        refreshed_at=ports.clock(),
    )


# -- deal properties --------------------------------------------------------------------------------
def ensure_deal_properties(ports: InvoicePorts, portal_id: int, client: HubSpotClient) -> bool:
    """Create the "QuickBooks" group and properties on deals once per portal; True when created now."""
    if ports.invoices.deal_properties_version(portal_id) >= DEAL_PROPERTIES_VERSION:
        return False
    client.ensure_property_group("deals", property_group())
    for definition in property_definitions():  # one already there (an earlier, interrupted attempt) is fine
        client.ensure_property("deals", definition)
    ports.invoices.set_deal_properties_version(portal_id, DEAL_PROPERTIES_VERSION, ports.clock())
    logger.info("Deal properties created", extra={"portal_id": portal_id})
    return True


def _portal_facts(ports: InvoicePorts, portal_id: int) -> tuple[str, str]:
    portal = ports.connections.get_portal(portal_id)
    currency = (portal.company_currency if portal else None) or "USD"
    zone = (portal.time_zone if portal else None) or "UTC"
    return currency, zone


def deal_values(ports: InvoicePorts, portal_id: int, deal_id: str) -> DealPropertyValues:
    """What the deal's properties should say now, from every invoice linked to it."""
    currency, zone = _portal_facts(ports, portal_id)
    links = ports.invoices.links_for_record(portal_id, "deals", deal_id)
    snaps = ports.invoices.snapshots(portal_id, [(link.realm_id, link.invoice_id) for link in links])
    linked = [
        LinkedInvoice(invoice=s.invoice, company_name=s.company_name, last_payment_date=s.last_payment_date)
        for s in snaps.values()
    ]
    return deal_property_values(linked, portal_currency=currency, today=local_today(ports.now(), zone))


def refresh_deals(ports: InvoicePorts, portal_id: int, deal_ids: Iterable[str]) -> list[str]:
    """Rewrite the deal properties of `deal_ids` from their linked invoices (one batch update);
    returns the ids written (a deal whose invoices are all in another currency is left alone)."""
    updates: list[dict[str, Any]] = []
    for deal_id in dict.fromkeys(deal_ids):
        values = deal_values(ports, portal_id, deal_id)
        if values.properties is not None:
            updates.append({"id": deal_id, "properties": values.properties})
    if not updates:
        return []
    client = ports.hubspot_client(portal_id)
    ensure_deal_properties(ports, portal_id, client)
    client.crm_batch_update("deals", updates)
    return [u["id"] for u in updates]


# -- linking -----------------------------------------------------------------------------------------
def link_invoices(
    ports: InvoicePorts,
    portal_id: int,
    connection: Connection,
    raws: list[dict[str, Any]],
    object_type: str,
    object_id: str,
    *,
    source: str,
    client: QboClient | None = None,
) -> tuple[list[InvoiceSnapshot], list[str]]:
    """Store snapshots of `raws`, link them to the record and refresh the deal's properties.

    Returns (the snapshots, the deal ids whose properties were written)."""
    snaps: list[InvoiceSnapshot] = []
    now = ports.clock()
    for raw in raws:
        previous = ports.invoices.snapshot(portal_id, connection.realm_id, str(raw["Id"]))
        snap = snapshot_of(ports, connection, raw, previous=previous, client=client)
        if snap is None:
            continue
        ports.invoices.put_snapshot(snap)
        ports.invoices.link(
            InvoiceLink(
                portal_id=portal_id,
                realm_id=connection.realm_id,
                invoice_id=snap.invoice.id,
                object_type=object_type,
                object_id=object_id,
                linked_at=now,
                source=source,
            )
        )
        snaps.append(snap)
    deals = refresh_deals(ports, portal_id, [object_id]) if object_type == "deals" and snaps else []
    return snaps, deals


# -- the change pipeline's entry point ------------------------------------------------------------------
def apply_invoice_change(
    ports: InvoicePorts,
    portal_id: int,
    realm_id: str,
    raw_invoice: dict[str, Any] | None,
    *,
    invoice_id: str,
    voided: bool = False,
) -> list[str]:
    """QBO says invoice `invoice_id` changed: record its current state (`raw_invoice` as read from QBO;
    None or a `{"status": "Deleted"}` stub when it was deleted), recompute its status, rewrite the
    properties of every deal linked to it and refresh the card's snapshot.

    Returns the HubSpot deal ids whose properties were written; [] when the invoice is linked to
    nothing in this portal (nothing is stored then). Idempotent: applying the same state twice, or
    an older state after a newer one, changes nothing further.
    """
    links = ports.invoices.links_for_invoice(portal_id, realm_id, invoice_id)
    if not links:
        return []
    deal_ids = [link.object_id for link in links if link.object_type == "deals"]
    deleted = raw_invoice is None or str(raw_invoice.get("status", "")).lower() == "deleted"
    if deleted:
        for link in links:  # a deleted invoice no longer exists to show: unlink it everywhere
            ports.invoices.unlink(link)
        ports.invoices.delete_snapshot(portal_id, realm_id, invoice_id)
        logger.info("Deleted invoice unlinked", extra={"portal_id": portal_id, "links": len(links)})
    else:
        assert raw_invoice is not None
        connection = ports.connections.get_connection(portal_id, realm_id)
        if connection is None:
            return []
        previous = ports.invoices.snapshot(portal_id, realm_id, invoice_id)
        snap = snapshot_of(ports, connection, raw_invoice, voided=voided, previous=previous)
        if snap is None:
            return []
        if previous is not None and previous.invoice.voided and not snap.invoice.voided and voided is False:
            # QBO keeps a void for good; a stale read must not "unvoid" the card
            snap = snap.model_copy(update={"invoice": snap.invoice.model_copy(update={"voided": True})})
        if not ports.invoices.put_snapshot(snap):
            logger.info("Older invoice state ignored", extra={"portal_id": portal_id})
    return refresh_deals(ports, portal_id, deal_ids)
