"""Webhook intake: verify, read, fan out, coalesce and queue QBO change notifications.

Runs inside Intuit's 3-second budget, so it calls neither QBO nor HubSpot: the worker does that.
The only reads are the table's "which portals hold this realm" (GSI) lookups, one per realm.

- A body over `MAX_BODY_BYTES` is refused (413) before the signature is even computed; Intuit sends
  at most 100 events, about 1 MB.
- Missing or wrong `intuit-signature` → 401 before parsing; malformed JSON or an unknown shape → 400.
- One event out of bounds (`domain/changes.py`) among valid ones is a counted, logged skip
  (`skipped_invalid`): the valid events are queued, and Intuit has no reason to redeliver.
- Each event goes to every portal connected to its realm (one message per portal). An entity we do
  not sync, or a realm no portal holds, is a counted skip (200): logged, and for the realm case
  written to the realm's sync log, so that a company connected by mistake shows why nothing happens.
- Everything is queued with SendMessageBatch; if anything still cannot be queued: QueueUnavailable
  (500), and Intuit redelivers the whole delivery (the worker de-duplicates).
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from hubqbo.domain.changes import ChangeEvent, read_delivery
from hubqbo.errors import PayloadTooLarge, Unauthorized
from hubqbo.messages import QboChangeMessage
from hubqbo.observability import logger
from hubqbo.security import verify_intuit_signature
from hubqbo.store.queue import SyncQueue
from hubqbo.store.sync_log import SyncLog, SyncLogEntry

MAX_BODY_BYTES = 2 * 1024 * 1024
SYNCED_ENTITIES = frozenset({"Invoice", "Payment", "Customer", "Item"})


class IntakeResult(BaseModel):
    received: int
    queued: int
    skipped_entity: int = 0
    skipped_realm: int = 0
    skipped_invalid: int = 0  # events out of bounds or malformed, next to valid ones

    def answer(self) -> dict[str, int]:
        """The webhook's answer (`skipped_invalid` only when there were any)."""
        return self.model_dump(exclude=None if self.skipped_invalid else {"skipped_invalid"})


def coalesce(events: list[ChangeEvent]) -> list[ChangeEvent]:
    """Drop repeats inside one delivery: same event id, or same object at the same instant."""
    seen: set[object] = set()
    unique = []
    for event in events:
        keys = (event.event_id, (*event.object_key, event.occurred_at))
        if any(key in seen for key in keys):
            continue
        seen.update(keys)
        unique.append(event)
    return unique


def accept_qbo_webhook(
    raw_body: bytes,
    signature: str | None,
    verifier_token: str,
    queue: SyncQueue,
    portals_for_realm: Callable[[str], list[int]] | None = None,
    sync_log: SyncLog | None = None,
) -> IntakeResult:
    """Queue every change of a signed delivery, once per connected portal.

    Raises PayloadTooLarge, Unauthorized (before parsing) or BadInput; QueueUnavailable if queueing failed.
    `portals_for_realm=None` queues without fan-out (the worker then fans out).
    """
    if len(raw_body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The webhook body is larger than {MAX_BODY_BYTES} bytes")
    if not verify_intuit_signature(raw_body, signature, verifier_token):
        raise Unauthorized("Missing or invalid intuit-signature")
    delivery = read_delivery(raw_body)
    events = delivery.events
    if delivery.refused:
        logger.warning("Webhook events skipped: out of bounds or malformed", extra={"count": delivery.refused})
    unique = coalesce(events)
    messages: list[QboChangeMessage] = []
    skipped_entities: list[ChangeEvent] = []
    skipped_realms: list[ChangeEvent] = []
    portals_of: dict[str, list[int]] = {}
    for event in unique:
        if event.entity not in SYNCED_ENTITIES:
            skipped_entities.append(event)
            continue
        if portals_for_realm is None:
            messages.append(QboChangeMessage(change=event))
            continue
        if event.realm_id not in portals_of:
            portals_of[event.realm_id] = sorted(set(portals_for_realm(event.realm_id)))
        portals = portals_of[event.realm_id]
        if not portals:
            skipped_realms.append(event)
            continue
        messages.extend(QboChangeMessage(change=event, portal_id=portal) for portal in portals)
    queue.send(messages)
    if skipped_entities:
        logger.info(
            "Webhook events skipped: entity not synced",
            extra={"count": len(skipped_entities), "entities": sorted({e.entity for e in skipped_entities})},
        )
    if skipped_realms:
        logger.info(
            "Webhook events skipped: no portal holds the realm",
            extra={"count": len(skipped_realms), "realms": sorted({e.realm_id for e in skipped_realms})},
        )
        if sync_log is not None:
            sync_log.record_many([_unknown_realm(e) for e in skipped_realms])
    return IntakeResult(
        received=len(events),
        queued=len(messages),
        skipped_entity=len(skipped_entities),
        skipped_realm=len(skipped_realms),
        skipped_invalid=delivery.refused,
    )


def _unknown_realm(event: ChangeEvent) -> SyncLogEntry:
    return SyncLogEntry(
        scope=f"realm:{event.realm_id}",
        outcome="skipped",
        reason=f"No HubSpot account is connected to QuickBooks company {event.realm_id}",
        entity=event.entity,
        qbo_id=event.entity_id,
        realm_id=event.realm_id,
        event_id=event.event_id,
        source="webhook",
    )
