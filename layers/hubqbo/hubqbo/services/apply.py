"""Apply one change of one portal's QBO company: one dispatch table by entity.

The worker (`services.pipeline`) hands every handler an `ApplyContext`: the portal and realm, the
message, the batch's QBO reads (`Id IN (...)` per entity, shared by every record of the SQS batch)
and the ports. A handler returns the sync-log entries that say what happened to each HubSpot record;
the worker writes them. Entities without a handler are recorded as skipped, never dropped silently.

- Invoice  → `invoice_links.apply_invoice_change` (status, deal properties, the card's snapshot) and
  the sync engine's HubSpot invoice.
- Payment  → `services.payments` (each invoice it pays, and the deal's timeline).
- Customer, Item → the sync engine (`services.sync_engine.apply_changes`), which honours each tab's
  switch and options.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from hubqbo import clock as product_clock
from hubqbo.domain.dates import local_today, zone_or_utc
from hubqbo.domain.invoice_status import invoice_status
from hubqbo.domain.money import hubspot_number
from hubqbo.domain.qbo_invoice import DeletedInvoice, read_invoice
from hubqbo.messages import QboChangeMessage, QboRecheckMessage, SyncBackfillMessage
from hubqbo.services.invoice_links import InvoicePorts, apply_invoice_change, links_for_invoice
from hubqbo.store.connections import Connection
from hubqbo.store.payment_events import PaymentEvents
from hubqbo.store.sync_log import Outcome, SyncLogEntry

Message = QboChangeMessage | QboRecheckMessage


class Reads(Protocol):
    """The QBO reads of one portal's company within one SQS batch (see `pipeline.BatchReads`)."""

    def get(self, entity: str, object_id: str) -> dict[str, Any] | None: ...

    def want(self, entity: str, ids: list[str]) -> None: ...


@dataclass
class ApplyContext:
    portal_id: int
    realm_id: str
    connection: Connection
    message: Message
    reads: Reads
    invoices: InvoicePorts
    payments: PaymentEvents
    payment_template_id: str = ""
    sync_engine_ports: Callable[[], Any] | None = None
    clock: Callable[[], float] = product_clock.now
    extra: dict[str, Any] = field(default_factory=dict)
    # `en` or `pl`: the language hubqbo writes in this company's HubSpot (payment notes; the Reminders tab)
    writing_language: Callable[[], str] = lambda: "en"

    @property
    def scope(self) -> str:
        return SyncLogEntry.portal_scope(self.portal_id)

    @property
    def event_id(self) -> str:
        return self.message.dedup_id

    @property
    def source(self) -> str:
        return self.message.source if isinstance(self.message, QboChangeMessage) else self.message.reason

    def entry(self, outcome: Outcome, reason: str, entity: str, qbo_id: str | None, **more: Any) -> SyncLogEntry:
        return SyncLogEntry(
            scope=self.scope,
            outcome=outcome,
            reason=reason,
            entity=entity,
            qbo_id=qbo_id,
            realm_id=self.realm_id,
            event_id=self.event_id,
            source=self.source,
            at=datetime.fromtimestamp(self.clock(), UTC),
            **more,
        )

    def today(self) -> Any:
        portal = self.invoices.connections.get_portal(self.portal_id)
        return local_today(datetime.fromtimestamp(self.clock(), UTC), zone_or_utc(portal.time_zone if portal else None))


ChangeHandler = Callable[[ApplyContext, str], list[SyncLogEntry]]


def _is_deleted(raw: dict[str, Any] | None) -> bool:
    return raw is None or str(raw.get("status", "")).lower() == "deleted"


def describe_invoice(ctx: ApplyContext, raw: dict[str, Any] | None, invoice_id: str) -> str:
    """`Invoice 1042 is now Partial payment (balance 250.00 GBP)`, for the sync log."""
    if _is_deleted(raw):
        return f"QuickBooks invoice {invoice_id} was deleted; its links were removed"
    assert raw is not None
    parsed = read_invoice(raw, home_currency=ctx.connection.home_currency)
    if isinstance(parsed, DeletedInvoice):
        return f"QuickBooks invoice {invoice_id} was deleted; its links were removed"
    status = invoice_status(parsed, ctx.today())
    name = parsed.doc_number or f"(id {parsed.id})"
    balance = f"{hubspot_number(parsed.balance)} {parsed.currency or ''}".strip()
    return f"Invoice {name} is now {status.label} (balance {balance})"


def apply_invoice(ctx: ApplyContext, invoice_id: str, *, voided: bool = False) -> list[SyncLogEntry]:
    """Record the invoice's current state and rewrite every linked deal's properties."""
    links = links_for_invoice(ctx.invoices, ctx.portal_id, ctx.realm_id, invoice_id)
    if not links:
        return [ctx.entry("skipped", "The invoice is not linked to any HubSpot record", "Invoice", invoice_id)]
    raw = ctx.reads.get("Invoice", invoice_id)
    applied = ctx.extra.setdefault("applied_invoices", {})  # shared by the records of one SQS batch
    memo = (ctx.portal_id, ctx.realm_id, invoice_id)
    if memo in applied and not voided:  # same read, same result: a payment's invoice and its own change
        return [e.model_copy(update={"event_id": ctx.event_id, "source": ctx.source}) for e in applied[memo]]
    written = set(
        apply_invoice_change(
            ctx.invoices,
            ctx.portal_id,
            ctx.realm_id,
            None if _is_deleted(raw) else raw,
            invoice_id=invoice_id,
            voided=voided,
        )
    )
    what = describe_invoice(ctx, raw, invoice_id)
    entries = []
    for link in links:
        if link.object_type != "deals":
            entries.append(
                ctx.entry(
                    "applied",
                    f"{what}; the card shows it",
                    "Invoice",
                    invoice_id,
                    hubspot_id=link.object_id,
                    hubspot_type=link.object_type,
                )
            )
        elif link.object_id in written or _is_deleted(raw):
            entries.append(
                ctx.entry(
                    "applied",
                    f"{what}; deal properties updated",
                    "Invoice",
                    invoice_id,
                    hubspot_id=link.object_id,
                    hubspot_type="deals",
                )
            )
        else:
            entries.append(
                ctx.entry(
                    "skipped",
                    f"{what}; the deal's properties were left alone (its invoices are in another currency "
                    "than the HubSpot account's)",
                    "Invoice",
                    invoice_id,
                    hubspot_id=link.object_id,
                    hubspot_type="deals",
                )
            )
    applied[memo] = entries
    return entries


def _invoice_handler(ctx: ApplyContext, object_id: str) -> list[SyncLogEntry]:
    """The deal side (status, properties, card) and, when the sync engine runs, the HubSpot invoice."""
    voided = isinstance(ctx.message, QboChangeMessage) and ctx.message.change.operation == "Void"
    entries = apply_invoice(ctx, object_id, voided=voided)
    if ctx.sync_engine_ports is not None:
        engine = _sync_engine_handler(ctx, object_id)
        linked = [e for e in entries if e.outcome != "skipped" or e.hubspot_id]
        entries = linked + engine if linked else engine or entries
    return entries


def _payment_handler(ctx: ApplyContext, object_id: str) -> list[SyncLogEntry]:
    from hubqbo.services.payments import apply_payment

    return apply_payment(ctx, object_id)


def _sync_engine_handler(ctx: ApplyContext, object_id: str) -> list[SyncLogEntry]:
    entity = ctx.message.change.entity if isinstance(ctx.message, QboChangeMessage) else ctx.message.entity
    if ctx.sync_engine_ports is None:
        return [
            ctx.entry(
                "skipped",
                f"{entity} changes are recorded; syncing them to HubSpot is not switched on yet",
                entity,
                object_id,
            )
        ]
    raw = ctx.reads.get(entity, object_id)
    deleted = [object_id] if _is_deleted(raw) else []
    objects = [] if deleted or raw is None else [raw]
    from hubqbo.services.sync_engine import apply_changes  # the sync engine loads with the first change it runs

    return list(
        apply_changes(
            ctx.sync_engine_ports(),
            ctx.portal_id,
            ctx.realm_id,
            entity,
            objects,
            deleted,
            event_id=ctx.event_id,
            source=ctx.source,
        )
    )


# Entity name -> handler. The worker reads (batched) the entities whose handler needs QBO's object.
CHANGE_HANDLERS: dict[str, ChangeHandler] = {
    "Invoice": _invoice_handler,
    "Payment": _payment_handler,
    "Customer": _sync_engine_handler,
    "Item": _sync_engine_handler,
}


def entities_to_read() -> frozenset[str]:
    """What the worker prefetches for a batch: the entities that have a handler."""
    return frozenset(CHANGE_HANDLERS)


def apply_change(ctx: ApplyContext) -> list[SyncLogEntry]:
    message = ctx.message
    if isinstance(message, SyncBackfillMessage):  # a part of "Sync existing records"
        if ctx.sync_engine_ports is None:
            raise RuntimeError("the sync engine's ports are not wired")
        from hubqbo.services.sync_backfill import run_backfill_chunk

        return run_backfill_chunk(ctx.sync_engine_ports(), message)
    if isinstance(message, QboRecheckMessage):
        entries: list[SyncLogEntry] = []
        for invoice_id in message.entity_ids:  # the sweep reads every past-due invoice; only linked ones matter
            if links_for_invoice(ctx.invoices, ctx.portal_id, ctx.realm_id, invoice_id):
                entries += apply_invoice(ctx, invoice_id)
        return entries
    change = message.change
    handler = CHANGE_HANDLERS.get(change.entity)
    if handler is None:
        return [ctx.entry("skipped", f"{change.entity} changes are not synced", change.entity, change.entity_id)]
    return handler(ctx, change.entity_id)
